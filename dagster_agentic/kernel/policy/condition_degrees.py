"""Find bounds on latitude and longitude written as a direction from a degree: 'storms that
formed south of 20°N' (latitude below 20), 'north of 45 degrees' (above 45), 'west of 60°W'
(longitude below -60, western longitudes being negative), 'east of 10°E' (above 10).

The condition names its column by the words 'latitude' or 'longitude', which a column
named ``lat``, ``GenesisLat`` or ``longitude`` answers to; which one is meant is decided
against the warehouse (:mod:`dagster_agentic.kernel.policy.ranges`), and several are an
error listing them.
"""

from __future__ import annotations

import re

from dagster_agentic.kernel.policy.condition_base import Condition, bound

_DEGREES = re.compile(
    r"\b(?P<dir>north|south|east|west)\s+of\s+(?:the\s+)?(?P<value>\d{1,3}(?:\.\d+)?)"
    r"\s*(?:°|degrees?\b|deg\b)?\s*(?P<hemi>[NSEW])?(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def degree_bounds(text: str) -> list[Condition]:
    """The latitude and longitude bounds of ``text``, left to right."""
    found: list[Condition] = []
    for match in _DEGREES.finditer(text):
        direction = match.group("dir").lower()
        hemi = (match.group("hemi") or "").upper()
        degree = "°" in match.group(0) or "deg" in match.group(0).lower()
        if not hemi and not degree:
            continue  # 'north of 40 miles' or 'west of 5th Avenue' is no degree
        value = float(match.group("value"))
        latitude = direction in {"north", "south"}
        if hemi and (hemi in {"N", "S"}) != latitude:
            continue  # 'north of 60°W' mixes the axes: no reading
        if hemi in {"S", "W"}:
            value = -value  # southern latitudes and western longitudes are negative
        op = ">" if direction in {"north", "east"} else "<"
        word = "latitude" if latitude else "longitude"
        found.append(bound(text, match.start(), match.end(), op, value, context=(word,)))
    return found
