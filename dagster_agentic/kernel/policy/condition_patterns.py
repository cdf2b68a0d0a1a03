"""The words and patterns conditions are written in: comparison phrases ('more than', 'at
least', 'older than'), numbers (digits with separators or a decimal comma, a currency and a
scale, or words up to ninety), ranges ('between 18 and 25', '2 or more', '3 bedrooms or
more'), counts ('with 3 bedrooms'), months, years and the periods around them ('in the 2009
survey').

Kept apart from :mod:`dagster_agentic.kernel.policy.conditions`, which reads a text with them.
"""

from __future__ import annotations

import re

from dagster_agentic.kernel.policy.numbers import DECIMAL_COMMA, GLUED_UNIT
from dagster_agentic.kernel.policy.text import word_set

AGE_OPS = {
    "older than": ">",
    "younger than": "<",
    "aged over": ">",
    "aged under": "<",
    "aged above": ">",
    "aged below": "<",
    "over the age of": ">",
    "under the age of": "<",
    "aged at least": ">=",
    "aged at most": "<=",
}
OPS = {
    "more than": ">",
    "greater than": ">",
    "higher than": ">",
    "larger than": ">",
    "bigger than": ">",
    "longer than": ">",
    "above": ">",
    "over": ">",
    "exceeding": ">",
    "exceeds": ">",
    "exceed": ">",
    "in excess of": ">",
    ">": ">",
    "less than": "<",
    "fewer than": "<",
    "lower than": "<",
    "smaller than": "<",
    "shorter than": "<",
    "below": "<",
    "under": "<",
    "<": "<",
    "at least": ">=",
    "no less than": ">=",
    "not less than": ">=",
    ">=": ">=",
    "≥": ">=",
    "at most": "<=",
    "no more than": "<=",
    "not more than": "<=",
    "up to": "<=",
    "<=": "<=",
    "≤": "<=",
}
ALL_OPS = {**AGE_OPS, **OPS}
# Comparatives that mean 'less': any other '<word>er than' ('taller than') means 'more'.
LESS = word_set(
    """
    smaller shorter lower younger lighter cheaper fewer thinner narrower slower closer
    nearer earlier sooner less
    """
)
COMPARATIVE = re.compile(
    r"(?<![\w])(?P<op>(?:more|less)\s+[a-z]+\s+than|[a-z]{2,}er\s+than)\s*", re.IGNORECASE
)
OP_PATTERN = "|".join(
    re.escape(op).replace(r"\ ", r"\s+") for op in sorted(ALL_OPS, key=len, reverse=True)
)
# Numbers written as words, as in 'at least two bedrooms', 'more than ten years'.
NUMBER_WORDS = {
    word: float(value)
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_TENS = {
    "twenty": 20.0,
    "thirty": 30.0,
    "forty": 40.0,
    "fifty": 50.0,
    "sixty": 60.0,
    "seventy": 70.0,
    "eighty": 80.0,
    "ninety": 90.0,
}
NUMBER_WORDS |= _TENS
# 'sixty-five', 'twenty one': a ten and a unit, hyphenated or not.
NUMBER_WORDS |= {
    f"{ten}{joint}{unit}": tens + NUMBER_WORDS[unit]
    for ten, tens in _TENS.items()
    for unit in ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    for joint in ("-", " ")
}
VALUE = (
    r"(?:[$€£¥]?\s?(?:" + DECIMAL_COMMA + r"|\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    r"(?:\s*(?:k|m|bn|thousand|million|billion)\b)?"
    r"|(?:"
    + "|".join(
        re.escape(w).replace(r"\ ", r"\s+") for w in sorted(NUMBER_WORDS, key=len, reverse=True)
    )
    + r")\b)"
)
# A symbol needs no space before it: 'age>=40'.
COMPARE = re.compile(
    rf"(?:(?<![\w])|(?=[<>≤≥]))(?P<op>{OP_PATTERN})\s*(?P<value>{VALUE})", re.IGNORECASE
)
BETWEEN = re.compile(
    rf"(?<![\w])(?P<lead>aged\s+|ages\s+)?(?:between\s+)(?P<low>{VALUE})\s*(?:and|-|–|to)\s*"
    rf"(?P<high>{VALUE})",
    re.IGNORECASE,
)
AND_OVER = re.compile(
    rf"(?<![\w])(?P<lead>aged?\s+)?(?P<low>{VALUE})\s*(?:\+|-?\s*plus(?![\w])|(?:years?\s+old\s+"
    r"|years?\s+(?=(?:or|and)\s+older))?(?:or|and)\s+(?:older|over|above|more|up|higher|greater"
    r"|longer|larger|bigger|heavier|taller)(?![\w]))",
    re.IGNORECASE,
)
# '30 or younger', '5 or fewer', '18 and under', '25 years or younger': the bound from above.
AND_UNDER = re.compile(
    rf"(?<![\w])(?P<lead>aged?\s+)?(?P<low>{VALUE})\s*(?:years?\s+(?:old\s+)?)?(?:or|and)\s+"
    r"(?P<word>younger|under|below|less|fewer|lower|shorter|smaller|lighter)(?![\w])",
    re.IGNORECASE,
)
# '3 bedrooms or more', '10 years or more in the majors', '2 baths or fewer': the noun
# between the number and 'or more' names the column.
NOUN_OR_MORE = re.compile(
    rf"(?<![\w])(?P<low>{VALUE})(?P<noun>(?:(?:\s+|(?<=\d)(?={GLUED_UNIT}))[A-Za-z][A-Za-z0-9_\-]*)"
    r"{1,4}?)\s+(?:or|and)\s+"
    r"(?P<dir>more|over|above|greater|higher|longer|larger|bigger|heavier|taller|fewer|less|"
    r"under|below|lower|shorter|smaller|lighter)(?![\w])",
    re.IGNORECASE,
)
# '1 carat+', '3 bedrooms+': the noun before the plus names the column.
NOUN_PLUS = re.compile(
    rf"(?<![\w])(?P<low>{VALUE})(?P<noun>(?:\s+[A-Za-z][A-Za-z0-9_\-]*){{1,2}})\+(?![\w+])",
    re.IGNORECASE,
)
# '8MB+ RAM', '16 GB+ of disk': a unit before the plus, and the word after it names the
# column.
UNIT_PLUS = re.compile(
    rf"(?<![\w])(?P<low>{VALUE})\s*(?P<unit>{GLUED_UNIT})\+\s+(?:of\s+)?"
    r"(?P<noun>[A-Za-z][A-Za-z0-9_\-]*)",
    re.IGNORECASE,
)
# '17-inch monitors', '3-bedroom houses', '5-star hotels': the unit after the hyphen names
# the column the number equals ('10-year-old' is an age, read elsewhere).
HYPHEN_UNIT = re.compile(r"(?<![\w.,\-])(?P<low>\d+(?:\.\d+)?)-(?P<noun>[A-Za-z]{2,})(?![\w\-])")
AGED_RANGE = re.compile(
    rf"(?<![\w])aged?\s+(?P<low>{VALUE})\s*(?:-|–|to)\s*(?P<high>{VALUE})", re.IGNORECASE
)
# 'patients in their 50s', 'women in their thirties': the ten years of an age.
AGE_DECADE = re.compile(
    r"(?<![\w])in\s+(?:their|his|her|the)\s+(?:(?P<digits>[1-9]0)[’']?s|(?P<word>twent|thirt|"
    r"fort|fift|sixt|sevent|eight|ninet)ies)(?![\w])",
    re.IGNORECASE,
)
DECADE_WORDS = {"twent": 20, "thirt": 30, "fort": 40, "fift": 50, "sixt": 60, "sevent": 70}
DECADE_WORDS |= {"eight": 80, "ninet": 90}
# 'over 60 years old', 'under 25-year-old': the unit says the number is an age.
YEARS_OLD = re.compile(r"\s*-?\s*(?:years?|yrs?)(?:\s*-\s*|\s+)olds?(?![\w])", re.IGNORECASE)
COUNT = re.compile(
    rf"(?<![\w])(?P<lead>with|having|has|have|had|exactly|without|(?:with\s+)?other\s+than)"
    rf"\s+(?:exactly\s+)?(?P<value>{VALUE})(?=\s+[A-Za-z])",
    re.IGNORECASE,
)
"""'with 3 bedrooms', 'without 3 bedrooms', 'other than 4 doors': a count the noun after names."""
PERCENT_COUNT = re.compile(
    r"(?<![\w])(?P<lead>with|having|has|have|had|without)\s+(?P<value>\d+(?:\.\d+)?)\s*"
    r"(?:%|per\s*cent\b|percent\b)\s+(?P<noun>[A-Za-z][A-Za-z_\-]*)",
    re.IGNORECASE,
)
"""'with 0% coinsurance', 'without 100% cover': a share the noun after it names."""
EQUALS = re.compile(
    r"(?<![\w])(?P<name>[A-Za-z][A-Za-z0-9_]*)\s+(?P<op>(?:is|are|was|were)\s+not|"
    r"(?:is|are|was|were)n['’]t|is|are|!=|<>|=|equals|not\s+equal\s+to|equal\s+to|"
    r"of\s+exactly|other\s+than|different\s+from)"
    rf"\s+(?P<value>{VALUE})(?![\w.])",
    re.IGNORECASE,
)
# The equality operators that say 'not equal': 'cylinders other than 8', 'doors != 4'.
UNEQUAL = re.compile(r"not|n['’]t|!=|<>|other|different", re.IGNORECASE)
# Words that negate the comparison or count they come before, a few words back: 'cars that
# do not have 8 cylinders', 'excluding loans above 20k', 'customers never older than 30',
# 'no older than 30'.
NEGATORS = word_set("not no never excluding except without")
# The opposite of each operator, for a negated comparison: NOT (x > 5) is x <= 5.
OPPOSITE = {">": "<=", "<": ">=", ">=": "<", "<=": ">", "=": "<>", "<>": "="}
MONTHS = tuple(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)
# Nouns that name a period around a year: 'the 2019 season', 'in fiscal year 2020'.
PERIOD_NOUN = (
    r"(?:(?:fiscal|calendar|school|academic)\s+)?(?:year|season|survey|edition|census|"
    r"harvest|vintage|cohort|semester|term|wave|round)s?\b"
)
# Words that may follow a clause ('from 1976 on, RMSE ...', 'from 1976 on with ...').
_CLAUSE_END = "with|and|or|but|for|at|to|rmse|mae|r2|accuracy|precision|recall|f1|auc|roc"
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
TIME = re.compile(
    rf"(?<![\w])(?P<prep>in|during|after|before|since|until|till|prior\s+to|from|for|through|"
    r"thru|up\s+to|no\s+later\s+than|not\s+after|no\s+earlier\s+than|not\s+before|"
    r"pre|post)(?:\s+|-)"
    rf"(?:the\s+(?=(?:18|19|20)\d\d\s+{PERIOD_NOUN})|(?:the\s+)?{PERIOD_NOUN}\s+)?"
    rf"(?:(?P<month>{MONTH})\s+)?(?P<year>(?:18|19|20)\d\d)(?![\d\w])"
    rf"(?:\s+{PERIOD_NOUN})?"
    r"(?:\s+(?:or|and)\s+(?P<later>later|after|beyond|newer)|\s*(?P<plus>\+)"
    rf"|\s+(?P<onward>onwards?|on(?=\s*(?:$|[,.;:!?)]|(?:{_CLAUSE_END})\b)))"
    r"|\s+(?:or|and)\s+(?P<earlier>earlier|before|prior|older))?"
    rf"|(?<![\w])(?P<prep2>after|before|since|until|on|from)\s+(?P<date>\d{{4}}-\d\d-\d\d)",
    re.IGNORECASE,
)
YEAR_SPAN = re.compile(
    r"(?<![\w])(?P<prep>in|during|from|between|for|over)\s+(?:the\s+)?(?:(?:years?|seasons?)\s+)?"
    r"(?P<first>(?:18|19|20)\d\d)\s*(?:-|–|to|through|thru|until|till|and)\s*"
    r"(?P<last>(?:18|19|20)\d\d)(?![\d\w])",
    re.IGNORECASE,
)
"""'from 2008 to 2012', 'in 2008-2012', 'between 2015 and 2018': every year of a span."""
_YEAR = r"(?:18|19|20)\d\d"
YEAR_LIST = re.compile(
    r"(?<![\w])(?P<prep>in|during|for)\s+(?:the\s+)?(?:(?:years?|seasons?)\s+)?"
    rf"(?P<years>{_YEAR}(?:\s*,\s*{_YEAR})*(?:\s*,?\s*(?:or|and)\s+|\s*,\s*){_YEAR})"
    r"(?![\d\w])",
    re.IGNORECASE,
)
"""'in 2010 or 2011', 'in 2009, 2010 and 2011': a list of years, read where they follow each
other (every year of the span they make)."""
DECADE = re.compile(
    r"(?<![\w])(?:(?P<prep>in|during|from|for|of)\s+)?(?:the\s+)?"
    r"(?P<decade>(?:18|19|20)\d0)[’']?s(?![\w])",
    re.IGNORECASE,
)
"""'built in the 1990s', '1990s houses': the ten years of a decade."""
_MONTH_NAME = r"(?:" + "|".join(MONTHS) + r")"
MONTH_ONLY = re.compile(
    r"(?<![\w])(?:in|during)\s+(?:the\s+months?\s+of\s+)?(?P<month>" + _MONTH_NAME + r")"
    r"(?P<more>(?:\s*(?:,\s*(?:or\s+|and\s+)?|or\s+|and\s+)" + _MONTH_NAME + r"(?![\w]))*)"
    r"(?!\s*,?\s*\d)(?![\w])",
    re.IGNORECASE,
)
"""'in December', 'in October or November', 'during June, July and August' with no year:
months of any year (see ``ranges._month``)."""
MONTH_NAME = re.compile(_MONTH_NAME, re.IGNORECASE)
MONTH_SPAN = re.compile(
    rf"(?<![\w])(?:(?:in|during|from|between)\s+)?(?P<first>{MONTH})\s*(?:-|–|to|through|thru"
    rf"|until|till)\s*(?P<last>{MONTH})(?!\s*,?\s*\d)(?![\w])",
    re.IGNORECASE,
)
"""'Jun-Aug', 'from June to August', 'October through December': every month of a span (it
may run over the new year: 'Nov-Feb')."""
TIME_OPS = {
    "in": "in",
    "during": "in",
    "on": "in",
    "for": "in",
    "by": "<",
    "until": "<",
    "till": "<",
}
TIME_OPS |= {"before": "<", "prior to": "<", "after": ">", "since": ">=", "from": ">="}
TIME_OPS |= {"through": "<=", "thru": "<=", "up to": "<=", "no later than": "<=", "pre": "<"}
TIME_OPS |= {"not after": "<=", "no earlier than": ">=", "not before": ">=", "post": ">"}
# A year with no preposition, bounded by the words after it: '1976 and later models',
# '1990 or earlier', '2015 onwards', '2010+'. Open on one side, so never a count ('2000 or
# more' stays a range of numbers).
OPEN_YEAR = re.compile(
    r"(?<![\w$€£¥.,\-])(?P<year>(?:18|19|20)\d\d)(?:\s+(?:or|and)\s+(?P<later>later|after|"
    r"newer|beyond)|\s+(?P<onward>onwards?)|(?P<plus>\+)|\s+(?:or|and)\s+(?P<earlier>earlier|"
    r"before|prior|older))(?![\w])",
    re.IGNORECASE,
)
BOUNDARY = word_set(
    """
    for with who whom whose that which where and or but among on in from to at by predict
    classify estimate model optimise optimize maximise maximize when while if
    """
)
FILLER = word_set("a an the is are be been being was were has have had of to =")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'’\-]*")
NEXT_WORD = re.compile(r"\s+([A-Za-z][A-Za-z_\-]*)")
# Short words that join the parts of a column's name in prose: 'years in the majors'.
JOINERS = word_set("in of on the a an at per")
# Words a noun phrase after a number runs through to the noun that names the column: a
# preposition of time or relation, a possessive ('10 years past their PhD', '5 years since
# the last promotion', '3 years after graduation').
LINKS = JOINERS | word_set("past since after before from into their his her its our your my")
# Past forms that do not end in -ed: 'signed up', 'born', 'built in 1990'.
EVENT_WORDS = word_set("up born built made sold began begun won lost left came went got took")
