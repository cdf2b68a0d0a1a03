"""Word-level helpers shared by the objective rules: tokens, stems, name matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated block."""
    return frozenset(text.split())


# Letters of any alphabet ('Prédire', 'Zürich' are one word each); '_' stays its own token.
_TOKEN = re.compile(r"[^\W\d_](?:[^\W_]|['’\-])*|\d*\.?\d+%?|[^\w\s]|_")

# Function words and verbs that say how, not what: never a target or a cohort value.
STOPWORDS = word_set(
    """
    a an the of for on in at to by with from into onto over under above below than then
    and or not no nor but as is are be been being was were will would should could can
    may might must shall do does did done this that these those it its our their my your
    we they he she i me us them each every any all some most more less least few fewer
    which who whom whose what when where why how whether if so such very just only also
    among amongst across within between per via about after before during while using
    use optimise optimize optimised optimized optimising optimizing improve improved
    maximise maximize maximising maximizing minimise minimize minimising minimizing
    reduce increase build train training trained tune tuned make get reach achieve
    achieving hit keep target targets aim goal goals objective want need please predict
    predicts predicting predicted prediction predictions predictor model models
    modelling modeling classifier classify classification classifying detect detecting
    detection identify identifying find flag score scores scoring metric metrics
    threshold percent per-cent pct point points level rate at-least least atleast
    existing current likely likelihood probability propensity chance whose ml machine
    learning system pipeline base overall total much many estimate estimates estimated
    estimating determine calculate compute guess know tell understand figure
    """
)

# Head nouns of a cohort phrase: "European customers", "trial members", "the SMB segment".
# The warehouse adds its own (every entity table's name, singular and plural); this list
# covers the populations goals are commonly written about.
POPULATION_NOUNS = word_set(
    """
    cohort cohorts customer customers user users client clients account accounts
    subscriber subscribers member members buyer buyers shopper shoppers segment segments
    market markets population populations people person persons individual individuals
    patient patients merchant merchants company companies employee employees staff worker
    workers student students pupil pupils learner learners player players athlete athletes
    team teams flight flights passenger passengers traveller travellers traveler travelers
    loan loans borrower borrowers applicant applicants application applications visit visits
    admission admissions order orders shipment shipments delivery deliveries house houses
    home homes property properties listing listings apartment apartments car cars vehicle
    vehicles product products item items transaction transactions claim claims policy
    policies policyholder policyholders household households visitor visitors session
    sessions lead leads prospect prospects candidate candidates ticket tickets case cases
    call calls device devices machine machines store stores shop shops restaurant
    restaurants hotel hotels booking bookings reservation reservations guest guests driver
    drivers rider riders trip trips ride rides contract contracts deal deals opportunity
    opportunities invoice invoices donor donors voter voters resident residents tenant
    tenants owner owners homeowner homeowners card cards cardholder cardholders citizen
    citizens seniors adults children kids teens teenagers women men couples
    """
)
# Words of the metric vocabulary: they say how success is measured, not what is predicted.
METRIC_WORDS = word_set(
    """
    precision recall f1 f-score fscore f1-score auc roc roc-auc auroc accuracy
    sensitivity false true positive positives negative negatives measure curve area
    under ppv tpr rmse mae r2 r² r-squared squared macro-f1 macro f1-macro mean absolute
    error errors root
    """
)


# Words that join the items of a list of values: 'Europe and Asia', 'sedans + coupes',
# 'Sat/Sun'.
LIST_CONNECTORS = frozenset({"and", "or", "&", ",", "nor", "/", "+"})
PLAN_NOUNS = frozenset({"plan", "plans", "tier", "tiers", "package", "packages"})


@dataclass(frozen=True)
class Token:
    text: str
    lower: str
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return self.text[0].isalpha()


def inside(token: Token, spans: Iterable[tuple[int, int]]) -> bool:
    """Whether ``token`` starts within one of the character ``spans`` (start, end)."""
    return any(a <= token.start < b for a, b in spans)


def tokenize(text: str) -> list[Token]:
    """Words (hyphenated words kept whole), numbers (with a trailing %), and punctuation."""
    tokens = []
    for match in _TOKEN.finditer(text):
        raw = match.group(0).rstrip("'’-") or match.group(0)
        tokens.append(Token(raw, raw.lower(), match.start(), match.start() + len(raw)))
    return tokens


_SUFFIXES = ("ations", "ation", "ions", "ion", "ings", "ing", "ers", "er", "ed", "es", "s", "ly")


def stem(word: str) -> str:
    """A crude suffix-stripping stem: churned, churns, churning -> churn."""
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    # "defaulted" -> "default", "cancelled" -> "cancell" -> "cancel": undouble a final letter.
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


_VOWELS = frozenset("aeiou")
_AGENT_SUFFIXES = ("ers", "er", "ists", "ist", "ians", "ian")


def singular(word: str) -> str:
    """A plural's singular, lower case: 'condos' -> 'condo', 'categories' -> 'category',
    'branches' -> 'branch'. Words of three letters or fewer, and endings that are rarely
    plurals ('-ss', '-us', '-is': 'class', 'status', 'analysis'), are kept as they are."""
    word = word.lower()
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def lemma(word: str) -> str:
    """One canonical form for a word's inflected and derived forms, so that a value and the
    words a person writes for it meet: plural and singular ('condos', 'Condo'), an agent noun
    and its base ('renters', 'rent'; 'freelancers', 'freelance'; 'scientist', 'science' is
    not attempted), a final silent 'e' ('freelance', 'freelanc-er'), 'f' and 've' ('shelf',
    'shelves', 'ShelveLoc'). Both sides of a
    comparison go through it, so it need only be consistent, not a dictionary form."""
    word = singular(word)
    if len(word) >= 4 and word.endswith("f") and not word.endswith("ff"):
        word = word[:-1] + "v"  # 'shelf' meets 'shelves' and 'shelve' as 'shelv'
    for suffix in _AGENT_SUFFIXES:
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3:
            word = base[:-1] if len(base) >= 4 and base[-1] == base[-2] else base
            break
    if len(word) >= 4 and word.endswith("e"):
        word = word[:-1]
    return word


def abbreviates(short: str, word: str) -> bool:
    """Whether ``short`` is a contraction of ``word`` as identifiers write them: 'intl' of
    'international', 'msgs' of 'messages', 'amt' of 'amount', 'yrs' of 'years'. It keeps the
    word's first and last letters, has no vowel after its first letter, and its letters occur
    in order in the word; three letters at least, and the word longer."""
    short, word = short.lower(), word.lower()
    if len(short) < 3 or len(word) <= len(short) or not short.isalpha():
        return False
    if short[0] != word[0] or short[-1] != word[-1] or set(short[1:]) & _VOWELS:
        return False
    rest = iter(word)
    return all(letter in rest for letter in short)


def name_tokens(name: str) -> list[str]:
    """Split an identifier into lower-case words: 'isChurned' / 'is_churned' -> is, churned;
    a year or a count written into a word stands apart ('LogWage1982' -> log, wage, 1982;
    'week12_weight' -> week, 12, weight)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    spaced = re.sub(r"(?<=[A-Za-z]{2})(?=\d)", " ", spaced)
    return [part for part in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if part]


def word_match(word: str, token: str) -> int:
    """2 when the stems agree, 1 when one is a prefix of the other, else 0.

    'churn' ~ 'churned' (2), 'fraud' ~ 'fraudulent' (1), 'conversion' ~ 'converted' (1).
    """
    a, b = stem(word), stem(token)
    if a == b:
        return 2
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 4 and longer.startswith(shorter):
        return 1
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return 1 if common >= 6 else 0


def unaccented(text: str) -> str:
    """``text`` in lower case without its accents: 'Emergência' -> 'emergencia'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_match(word: str, name: str) -> int:
    """Best :func:`word_match` of ``word`` against the words of an identifier."""
    return max((word_match(word, token) for token in name_tokens(name)), default=0)


def quote(text: str, limit: int = 60) -> str:
    """Text for a message: trimmed, in single quotes."""
    text = " ".join(text.split())
    return f"'{text if len(text) <= limit else text[: limit - 3] + '...'}'"


# Suffixes that derive an adjective or a demonym from a proper name: Africa -> African,
# Europe -> European, Canada -> Canadian, China -> Chinese, Spain -> Spanish, Iraq -> Iraqi.
_DEMONYM_SUFFIXES = ("ians", "eans", "ans", "ian", "ean", "an", "ns", "n", "ese", "ish", "is", "i")
_FINAL_VOWELS = frozenset("aeiouy")


def proper_keys(value: str) -> frozenset[str]:
    """The forms a proper name is compared under with the adjectives derived from it: the
    name in lower case, singular, and without its final vowel ('Americas' -> 'america',
    'americ'; 'Europe' -> 'europ'; 'Italy' -> 'ital'). Empty for a word that is not written
    as a name (a capital, then lower case letters): only names have demonyms."""
    text = value.strip()
    if len(text) < 4 or not text.isalpha() or not text[0].isupper() or text.isupper():
        return frozenset()
    word = singular(text)
    keys = {word}
    if word[-1] in _FINAL_VOWELS:
        keys.add(word[:-1])
    return frozenset(k for k in keys if len(k) >= 3)


def demonym_bases(word: str) -> frozenset[str]:
    """What an adjective or demonym may derive from, by the general English suffix rules
    (-an, -ian, -ean, -ese, -ish, -i and their plurals): 'African' -> 'afric', 'Asian' ->
    'asi', 'Canadians' -> 'canad', 'Japanese' -> 'japan'. A word of five letters or more;
    each base keeps three letters. Compared with :func:`proper_keys` of a stored name."""
    lower = word.lower()
    if len(lower) < 5 or not lower.isalpha():
        return frozenset()
    return frozenset(
        lower[: -len(suffix)]
        for suffix in _DEMONYM_SUFFIXES
        if lower.endswith(suffix) and len(lower) - len(suffix) >= 3
    ) | {lower}  # 'German' of 'Germany': the name without its final vowel


def derives_from(word: str, value: str) -> bool:
    """Whether ``word`` is an adjective or demonym of the stored name ``value`` ('African'
    of 'Africa', 'Americans' of 'Americas', 'Victorian' of 'Victoria')."""
    bases = demonym_bases(word)
    same = {value.lower(), singular(value)}
    return bool(bases) and word.lower() not in same and bool(bases & proper_keys(value))


# General English words that stand for a set of values no spelling rule reaches; each maps
# to the values' full words (a stored short form or one-letter code is then matched as
# usual: 'Sat', 'F'). Kept to the words people use for the sexes and for the week's parts.
LEXICON: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("women", "woman", "girls", "girl", "ladies"), ("female",)),
    **dict.fromkeys(("men", "man", "boys", "boy", "gentlemen"), ("male",)),
    **dict.fromkeys(("weekend", "weekends"), ("saturday", "sunday")),
    **dict.fromkeys(
        ("weekday", "weekdays", "workday", "workdays"),
        ("monday", "tuesday", "wednesday", "thursday", "friday"),
    ),
}


# Everyday words for what names spell formally: 'who have kids' of ``HAS_CHILDREN``.
PLAIN_WORDS = {"kids": "children", "kid": "child", "kiddies": "children"}


def spelled_by_prefixes(name: str, words: list[str]) -> bool:
    """Whether an identifier word is the words' leading letters run together, each word
    giving at least one and in order: 'afam' of 'African American', 'hf' of 'human
    freedom', 'prevhosp' of 'previous hospitalisation'. Two words at least, and a name of
    three letters or more unless it is just the initials."""
    name = name.lower()
    words = [w.lower() for w in words if w]
    if len(words) < 2 or not name.isalpha() or (len(name) < 3 and len(name) != len(words)):
        return False

    def spell(rest: str, k: int) -> bool:
        if k == len(words):
            return not rest
        return any(
            rest.startswith(words[k][:n]) and spell(rest[n:], k + 1)
            for n in range(1, min(len(words[k]), len(rest)) + 1)
        )

    return spell(name, 0)


# A numbered or lettered list prefix a value is stored with: '2. Married', '(3) Other', '1) Yes'.
_ENUMERATION = re.compile(r"^\s*\(?\d{1,3}\s*[.):]\s*(?=[^\d\s])")
_AMPERSAND = re.compile(r"\s*&\s*")


def norm(value: str) -> str:
    """Lower case with every run of separators one space and a numbered prefix dropped:
    'Month-to-month' -> 'month to month', '2. Married' -> 'married', 'ELK_GROVE' -> 'elk
    grove', 'Latin America & the Caribbean' -> 'latin america and the caribbean'."""
    value = _AMPERSAND.sub(" and ", _ENUMERATION.sub("", value))
    return " ".join(re.split(r"[\s_\-/.,]+", value.strip().lower())).strip()


def lemmas(words: Sequence[str] | list[str]) -> list[str]:
    """Each word's :func:`lemma`: 'renters' and 'rent' meet, 'condos' and 'condo'."""
    return [lemma(w) for w in words]
