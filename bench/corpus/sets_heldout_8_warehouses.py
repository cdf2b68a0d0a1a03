"""The eighth held-out corpus sets' relational warehouses (``origin: held-out-8``): an exam
board's ``T_`` tables in SCREAMING_CASE with ``_NO``/``_CODE`` keys and a stable sample of
schools; Polish names with a respondent-and-question text key and two offers per question;
Italian names with ``cod_`` text keys and a treatment-arm dimension; dbt-style ``stg_panel__``
models with ``_key`` keys, BOOLEAN flags and the label in the entity table; Swedish names with
a treatment dimension keyed by text codes ('N8-K'). Registered through
bench.corpus.sets_heldout_8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import Tables, _rd, _tables

# -- A-level chemistry -----------------------------------------------------------------------

CHEM_CENTRES = 1_400
"""Chem97 holds 31,022 candidates in 2,410 schools; a stable sample of schools (all of their
candidates) keeps every table under 20,000 rows."""

_GRADES = {10: "A", 8: "B", 6: "C", 4: "D", 2: "E", 0: "U"}


def a_level_chem() -> Tables:
    """A-level Chemistry results of 1997 (mlmRev Chem97) as an exam board holds them, for a
    stable sample of 1,400 of 2,410 schools (numpy seed 97): T_LEA, T_CENTRE (with its 1997
    entries), T_CANDIDATE (sex, age in months, average GCSE score) and T_RESULT (the points
    0-10 and the grade A-E or U)."""
    d = _rd("mlmRev", "Chem97")
    full = d.copy()
    schools = np.sort(d["school"].unique())
    keep = np.sort(np.random.default_rng(97).choice(schools, size=CHEM_CENTRES, replace=False))
    d = d[d["school"].isin(keep)].sort_values("student", kind="stable").reset_index(drop=True)
    entries = full.groupby("school").size()
    centres_per_lea = full.groupby("lea")["school"].nunique()
    centres = d.drop_duplicates("school").sort_values("school")
    leas = np.sort(d["lea"].unique())
    t_lea = pd.DataFrame(
        {
            "LEA_CODE": [f"E{lea:03d}" for lea in leas],
            "CENTRE_COUNT": centres_per_lea.loc[leas].to_numpy().astype("int32"),
        }
    )
    t_centre = pd.DataFrame(
        {
            "CENTRE_NO": (10000 + centres["school"]).astype("int32"),
            "LEA_CODE": [f"E{lea:03d}" for lea in centres["lea"]],
            "CHEM_ENTRIES_1997": entries.loc[centres["school"]].to_numpy().astype("int32"),
        }
    )
    t_candidate = pd.DataFrame(
        {
            "CAND_NO": (700000 + d["student"]).astype("int32"),
            "CENTRE_NO": (10000 + d["school"]).astype("int32"),
            "SEX": d["gender"],
            "AGE_MTHS": (222 + d["age"]).astype("int32"),
            "GCSE_AVG": d["gcsescore"].round(3),
        }
    )
    t_result = pd.DataFrame(
        {
            "CAND_NO": t_candidate["CAND_NO"],
            "CHEM_POINTS": d["score"].astype("int32"),
            "CHEM_GRADE": d["score"].map(_GRADES),
        }
    )
    return _tables(
        {"T_LEA": t_lea, "T_CENTRE": t_centre, "T_CANDIDATE": t_candidate, "T_RESULT": t_result}
    )


# -- Polish rail survey ----------------------------------------------------------------------

_KOMFORT = {0: "wysoki", 1: "średni", 2: "niski"}


def pkp_ankieta() -> Tables:
    """A 1987 Dutch stated-preference survey of train offers (Ecdat Train) in Polish: podrozni,
    one sytuacje_wyboru row per respondent and question (key 'R017-05'), the two offers of each
    in warianty (price in guilders, time, changes, comfort wysoki/średni/niski) and the offer
    taken, A or B, in wybory."""
    d = _rd("Ecdat", "Train")
    d["id_sytuacji"] = [f"R{i:03d}-{c:02d}" for i, c in zip(d["id"], d["choiceid"], strict=True)]
    podrozni = pd.DataFrame(
        {
            "id_respondenta": np.sort(d["id"].unique()).astype("int32"),
            "liczba_pytan": d.groupby("id").size().sort_index().to_numpy().astype("int32"),
        }
    )
    sytuacje = pd.DataFrame(
        {
            "id_sytuacji": d["id_sytuacji"],
            "id_respondenta": d["id"].astype("int32"),
            "nr_pytania": d["choiceid"].astype("int32"),
        }
    )
    offers = []
    for letter, z in (("A", "1"), ("B", "2")):
        offers.append(
            pd.DataFrame(
                {
                    "id_wariantu": [f"{s}-{letter}" for s in d["id_sytuacji"]],
                    "id_sytuacji": d["id_sytuacji"],
                    "wariant": letter,
                    "cena_gld": (d[f"price{z}"] / 100).round(2),
                    "czas_min": d[f"time{z}"].astype("int32"),
                    "liczba_przesiadek": d[f"change{z}"].astype("int32"),
                    "komfort": d[f"comfort{z}"].map(_KOMFORT),
                    "_order": np.arange(len(d)),
                }
            )
        )
    warianty = pd.concat(offers).sort_values(["_order", "wariant"], kind="stable")
    warianty = warianty.drop(columns="_order")
    wybory = pd.DataFrame(
        {
            "id_sytuacji": d["id_sytuacji"],
            "wybrany_wariant": d["choice"].map({"choice1": "A", "choice2": "B"}),
        }
    )
    return _tables(
        {
            "podrozni": podrozni,
            "sytuacje_wyboru": sytuacje,
            "warianty": warianty,
            "wybory": wybory,
        }
    )


# -- Italian arthritis trial -----------------------------------------------------------------


def artrite_ra() -> Tables:
    """A rheumatoid arthritis trial (multgee arthritis) in Italian: pazienti (key 'RA-001',
    sesso F/M, the baseline self-assessment 1-5), the bracci dimension (PLA/FAR), one
    autovalutazioni row per self-assessment held at months 1 and 3, and the month-5
    self-assessment in esiti_mese5 (held for 293 of 302 patients)."""
    d = _rd("multgee", "arthritis").sort_values(["id", "time"], kind="stable")
    d["cod_paziente"] = [f"RA-{i:03d}" for i in d["id"]]
    first = d.drop_duplicates("id").reset_index(drop=True)
    pazienti = pd.DataFrame(
        {
            "cod_paziente": first["cod_paziente"],
            "sesso": first["sex"].map({1: "F", 2: "M"}),
            "eta": first["age"].astype("int32"),
            "cod_braccio": first["trt"].map({1: "PLA", 2: "FAR"}),
            "punteggio_basale": first["baseline"].astype("int32"),
        }
    )
    bracci = pd.DataFrame(
        {"cod_braccio": ["PLA", "FAR"], "descrizione": ["Placebo", "Farmaco attivo"]}
    )
    follow = d[(d["time"] < 5) & d["y"].notna()].reset_index(drop=True)
    autovalutazioni = pd.DataFrame(
        {
            "id_valutazione": np.arange(1, len(follow) + 1, dtype="int32"),
            "cod_paziente": follow["cod_paziente"],
            "mese": follow["time"].astype("int32"),
            "punteggio": follow["y"].astype("int32"),
        }
    )
    last = d[(d["time"] == 5) & d["y"].notna()].reset_index(drop=True)
    esiti = pd.DataFrame(
        {"cod_paziente": last["cod_paziente"], "punteggio_mese5": last["y"].astype("int32")}
    )
    return _tables(
        {
            "pazienti": pazienti,
            "bracci": bracci,
            "autovalutazioni": autovalutazioni,
            "esiti_mese5": esiti,
        }
    )


# -- cracker brand panel ---------------------------------------------------------------------

_BRANDS = {
    "sunshine": ("SUN", "Sunshine", False),
    "kleebler": ("KEE", "Keebler", False),
    "nabisco": ("NAB", "Nabisco", False),
    "private": ("PVT", "Private label", True),
}


def cracker_panel() -> Tables:
    """A scanner panel of cracker purchases (Ecdat Cracker) as dbt staging models: households
    ('HH-001'), one trip per purchase with the brand bought (SUN/KEE/NAB/PVT) in the trip
    itself, one shelf observation per trip and brand (price in cents, display and feature ad
    as BOOLEAN) and the ref_brands dimension."""
    d = _rd("Ecdat", "Cracker")
    d["trip_key"] = np.arange(1, len(d) + 1)
    d["household_key"] = [f"HH-{i:03d}" for i in d["id"]]
    counts = d.groupby("household_key").size()
    households = pd.DataFrame(
        {"household_key": counts.index, "trips_recorded": counts.to_numpy().astype("int32")}
    )
    trips = pd.DataFrame(
        {
            "trip_key": d["trip_key"].astype("int32"),
            "household_key": d["household_key"],
            "trip_seq": (d.groupby("id").cumcount() + 1).astype("int32"),
            "brand_purchased": d["choice"].map(lambda b: _BRANDS[b][0]),
        }
    )
    shelf = []
    for brand, (code, _, _) in _BRANDS.items():
        shelf.append(
            pd.DataFrame(
                {
                    "trip_key": d["trip_key"].astype("int32"),
                    "brand_code": code,
                    "shelf_price_cents": d[f"price.{brand}"].round().astype("int32"),
                    "on_display": d[f"disp.{brand}"].astype(bool),
                    "in_feature_ad": d[f"feat.{brand}"].astype(bool),
                }
            )
        )
    observations = pd.concat(shelf).sort_values("trip_key", kind="stable").reset_index(drop=True)
    observations.insert(0, "shelf_obs_key", np.arange(1, len(observations) + 1, dtype="int32"))
    brands = pd.DataFrame(
        {
            "brand_code": [c for c, _, _ in _BRANDS.values()],
            "brand_name": [n for _, n, _ in _BRANDS.values()],
            "is_private_label": [p for _, _, p in _BRANDS.values()],
        }
    )
    return _tables(
        {
            "stg_panel__households": households,
            "stg_panel__trips": trips,
            "stg_panel__shelf_observations": observations,
            "ref_brands": brands,
        }
    )


# -- Swedish Arabidopsis greenhouse trial ----------------------------------------------------

_LAND = {"NL": "Nederländerna", "SP": "Spanien", "SW": "Sverige"}
_GRONING = {"Normal": "normal", "Petri.Plate": "petriskål", "Transplant": "omplanterad"}


def vaxtforsok() -> Tables:
    """A greenhouse trial of Arabidopsis under fertilisation and simulated grazing (lme4
    Arabidopsis) in Swedish: plantor ('PL-0001'), the genotyper dimension (population and
    country of origin), the behandlingar dimension keyed 'N8-K' (nutrient level 1 or 8,
    clipped ja/nej) and the fruit count of each plant in skord."""
    d = _rd("lme4", "Arabidopsis")
    d["plant_id"] = [f"PL-{i:04d}" for i in range(1, len(d) + 1)]
    d["behandlingskod"] = [
        f"N{n}-{'K' if a == 'clipped' else 'O'}"
        for n, a in zip(d["nutrient"], d["amd"], strict=True)
    ]
    plantor = pd.DataFrame(
        {
            "plant_id": d["plant_id"],
            "genotyp_id": d["gen"].astype("int32"),
            "hylla": d["rack"].astype("int32"),
            "behandlingskod": d["behandlingskod"],
            "groningsmetod": d["status"].map(_GRONING),
        }
    )
    gen = d.drop_duplicates("gen").sort_values("gen")
    genotyper = pd.DataFrame(
        {
            "genotyp_id": gen["gen"].astype("int32"),
            "population": [f"{p.split('.')[1]}-{p.split('.')[0]}" for p in gen["popu"]],
            "ursprungsland": gen["reg"].map(_LAND),
        }
    )
    behandlingar = pd.DataFrame(
        {
            "behandlingskod": ["N1-O", "N1-K", "N8-O", "N8-K"],
            "naringsniva": np.array([1, 1, 8, 8], dtype="int32"),
            "klippt": ["nej", "ja", "nej", "ja"],
        }
    )
    skord = pd.DataFrame(
        {"plant_id": d["plant_id"], "antal_frukter": d["total.fruits"].astype("int32")}
    )
    return _tables(
        {
            "plantor": plantor,
            "genotyper": genotyper,
            "behandlingar": behandlingar,
            "skord": skord,
        }
    )
