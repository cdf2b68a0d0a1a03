"""Countries and regions: recognise them in an objective's words and in a column's values.

Regions follow the UN M49 groupings where one exists (Africa, Asia, Oceania, Latin America and
the Caribbean); Europe is the geographic one (Russia, Ukraine, the Balkans, the microstates and
Cyprus included, the Caucasus and Turkey not); North America is Northern America plus Mexico;
APAC is East, South and South-East Asia with Oceania; the Middle East is the Gulf, the Levant,
Iran, Iraq, Yemen, Egypt and Turkey.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dagster_agentic.kernel.policy.countries import BY_ALPHA3, BY_CODE, COUNTRIES


@dataclass(frozen=True)
class Place:
    """A country or region named in an objective."""

    key: str  # region key ("europe") or country code ("DE")
    name: str  # "Europe", "Germany"
    label: str  # adjective for descriptions: "European", "German"
    codes: frozenset[str]
    is_region: bool


@dataclass(frozen=True)
class _Region:
    key: str
    name: str
    label: str
    aliases: tuple[str, ...]  # words in an objective
    column_aliases: tuple[str, ...]  # extra spellings seen as values of a region column
    codes: str


_REGIONS = (
    _Region(
        "europe",
        "Europe",
        "European",
        ("europe", "european", "europeans"),
        ("eu", "eur"),
        "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT "
        "JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK",
    ),
    _Region(
        "eu",
        "the European Union",
        "EU",
        ("eu", "european union", "eu27", "eu 27"),
        (),
        "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK",
    ),
    _Region(
        "nordics",
        "the Nordics",
        "Nordic",
        ("nordics", "nordic", "nordic countries"),
        (),
        "AX DK FI FO GL IS NO SE",
    ),
    _Region(
        "scandinavia",
        "Scandinavia",
        "Scandinavian",
        ("scandinavia", "scandinavian"),
        (),
        "DK NO SE",
    ),
    _Region("dach", "DACH", "DACH", ("dach",), (), "AT CH DE"),
    _Region("benelux", "Benelux", "Benelux", ("benelux",), (), "BE LU NL"),
    _Region(
        "north_america",
        "North America",
        "North American",
        ("north america", "north american"),
        ("na", "nam", "noram"),
        "BM CA GL MX PM US",
    ),
    _Region(
        "latin_america",
        "Latin America",
        "Latin American",
        ("latin america", "latin american", "latam", "latin america and the caribbean"),
        ("la",),
        "AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GT GY HN HT JM "
        "KN KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI",
    ),
    _Region(
        "south_america",
        "South America",
        "South American",
        ("south america", "south american"),
        (),
        "AR BO BR CL CO EC FK GF GY PE PY SR UY VE",
    ),
    _Region(
        "asia",
        "Asia",
        "Asian",
        ("asia", "asian"),
        (),
        "AE AF AM AZ BD BH BN BT CN GE HK ID IL IN IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM "
        "MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW UZ VN YE",
    ),
    _Region(
        "apac",
        "Asia-Pacific",
        "APAC",
        ("apac", "asia pacific", "asia pac"),
        ("ap",),
        "AS AU BD BN BT CC CK CN CX FJ FM GU HK ID IN JP KH KI KP KR LA LK MH MM MN MO MP MV "
        "MY NC NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TK TL TO TV TW VN VU WF WS",
    ),
    _Region(
        "middle_east",
        "the Middle East",
        "Middle Eastern",
        ("middle east", "middle eastern", "mideast"),
        ("me",),
        "AE BH EG IL IQ IR JO KW LB OM PS QA SA SY TR YE",
    ),
    _Region(
        "africa",
        "Africa",
        "African",
        ("africa", "african"),
        (),
        "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY "
        "MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA "
        "ZM ZW",
    ),
    _Region(
        "oceania",
        "Oceania",
        "Oceanian",
        ("oceania", "oceanian", "australasia"),
        ("anz",),
        "AS AU CC CK CX FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS",
    ),
)

# Values that mark a column as holding regions even though they map to no single region here.
_OTHER_REGION_VALUES = frozenset(
    {"emea", "amer", "americas", "mena", "cee", "row", "rest of world", "global", "worldwide"}
)

REGION_CODES: dict[str, frozenset[str]] = {r.key: frozenset(r.codes.split()) for r in _REGIONS}
_REGION_BY_KEY = {region.key: region for region in _REGIONS}


def normalise(text: str) -> str:
    """Lower case, dots dropped, '&' as 'and', separators as single spaces: 'U.S.' -> 'us',
    'Latin America & the Caribbean' -> 'latin america and the caribbean'."""
    text = re.sub(r"\s*&\s*", " and ", text.lower().replace(".", ""))
    return " ".join(re.split(r"[\s_\-/]+", text)).strip()


def _region_place(region: _Region) -> Place:
    return Place(region.key, region.name, region.label, REGION_CODES[region.key], True)


def _country_place(code: str) -> Place:
    country = BY_CODE[code]
    return Place(code, country.name, country.label, frozenset({code}), False)


def _build_index() -> dict[str, Place]:
    index: dict[str, Place] = {}
    for country in COUNTRIES:
        for spelling in (country.name, country.demonym, *country.aliases):
            if spelling:
                index.setdefault(normalise(spelling), _country_place(country.code))
    for region in _REGIONS:
        for alias in region.aliases:
            index[normalise(alias)] = _region_place(region)
    return index


_INDEX = _build_index()
_LONGEST = max(len(key.split()) for key in _INDEX)
_CONNECTORS = frozenset({"and", "or", "&", "plus", "the", ","})


def find_places(words: list[str]) -> tuple[Place, ...] | None:
    """Read words (original case) as a list of places, e.g. ['Germany', 'and', 'Austria'].

    Returns None when any word is not part of a place name. Two-letter ISO codes count only
    when written in upper case, so that 'in' or 'no' are never read as India or Norway.
    """
    places: list[Place] = []
    i = 0
    while i < len(words):
        if words[i].lower() in _CONNECTORS:
            i += 1
            continue
        match = _match_at(words, i)
        if match is None:
            return None
        place, width = match
        if place not in places:
            places.append(place)
        i += width
    return tuple(places) or None


def _match_at(words: list[str], start: int) -> tuple[Place, int] | None:
    for width in range(min(_LONGEST, len(words) - start), 0, -1):
        key = normalise(" ".join(words[start : start + width]))
        if key in _INDEX:
            return _INDEX[key], width
    word = words[start]
    if len(word) == 2 and word.isupper() and word in BY_CODE:
        return _country_place(word), 1
    return None


@dataclass(frozen=True)
class ValueKind:
    """How a column value reads: an ISO code, a country name, or a region name."""

    form: str  # "code" | "name" | "region"
    key: str  # country code, region key, or "" for a region name mapped to no region here


def classify_value(value: object) -> ValueKind | None:
    """Recognise one column value as a country code, a country name or a region."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) == 2 and text.isalpha() and text.upper() in BY_CODE:
        return ValueKind("code", text.upper())
    if len(text) == 3 and text.isalpha() and text.isupper() and text in BY_ALPHA3:
        return ValueKind("code", BY_ALPHA3[text])  # 'PRT', 'GBR': ISO alpha-3
    key = normalise(text)
    place = _INDEX.get(key)
    if place is not None and not place.is_region:
        # 'UK' and 'USA' in a code column are codes in spirit.
        return ValueKind("code" if len(key) <= 3 and text.isupper() else "name", place.key)
    if place is not None:
        return ValueKind("region", place.key)
    for region in _REGIONS:
        if key in region.column_aliases:
            return ValueKind("region", region.key)
    if key in _OTHER_REGION_VALUES:
        return ValueKind("region", "")
    return None


def region_value_matches(value: object, place: Place) -> bool:
    """Whether a region column's value stands for ``place`` ('EU' stands for Europe too)."""
    if not place.is_region or not isinstance(value, str):
        return False
    key = normalise(value)
    if key == "eu":
        return place.key in {"europe", "eu"}
    region = _REGION_BY_KEY[place.key]
    return key in {normalise(a) for a in region.aliases} or key in region.column_aliases


def country_name(code: str) -> str:
    return BY_CODE[code].name
