"""The ninth held-out corpus sets' relational warehouses (``origin: held-out-9``): a migraine
diary in Spanish with a medication dimension two hops from the diary day and a DATE per entry;
a star schema of ``dim_``/``fct_`` tables with ``_sk`` surrogate keys for prenatal care in
Guatemala; Hungarian-prefixed ``tbl`` tables (``lngStudentID``, ``fltMath``, ``dtmTestDate``)
of a school-effects study with one sitting per student and year; short ``gr_`` tables of a grouse
tick survey with a site-and-season dimension keyed by two columns; a clinical trial's export
with spaced names ("Patient Master", "Visit Log") and a patient-and-visit key. Registered
through bench.corpus.sets_heldout_9.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from bench.corpus.set_base import Tables, _rd, _tables

# -- Spanish migraine diary ------------------------------------------------------------------

_MED = {"continuing": "CONT", "reduced": "RED", "none": "SUSP"}
_HATYPE = {"Aura": "con aura", "No Aura": "sin aura", "Mixed": "mixta"}


def diario_migrana() -> Tables:
    """A migraine treatment study's headache diaries (carData KosteckiDillon) in Spanish:
    pacientes ('MG-001', sexo M/H for mujer/hombre, tipo_cefalea, cod_medicacion), the
    medicaciones dimension (CONT/RED/SUSP), one registros_diarios row per patient and day (the
    date as a DATE from 1 January 1995, the day relative to the start of treatment, the air
    quality) and whether a headache was recorded that day in cefaleas (sí/no)."""
    d = _rd("carData", "KosteckiDillon")
    d["id_paciente"] = [f"MG-{i:03d}" for i in d["id"]]
    first = d.drop_duplicates("id").reset_index(drop=True)
    pacientes = pd.DataFrame(
        {
            "id_paciente": first["id_paciente"],
            "edad": first["age"].astype("int32"),
            "sexo": first["sex"].map({"female": "M", "male": "H"}),
            "tipo_cefalea": first["hatype"].map(_HATYPE),
            "cod_medicacion": first["medication"].map(_MED),
        }
    )
    medicaciones = pd.DataFrame(
        {
            "cod_medicacion": ["CONT", "RED", "SUSP"],
            "descripcion": [
                "continúa con la medicación",
                "medicación reducida",
                "medicación suspendida",
            ],
        }
    )
    start = datetime.date(1995, 1, 1)
    registros = pd.DataFrame(
        {
            "id_registro": np.arange(1, len(d) + 1, dtype="int32"),
            "id_paciente": d["id_paciente"],
            "fecha": [start + datetime.timedelta(days=int(x) - 1) for x in d["dos"]],
            "dia_tratamiento": d["time"].astype("int32"),
            "calidad_aire": d["airq"],
        }
    )
    cefaleas = pd.DataFrame(
        {
            "id_registro": registros["id_registro"],
            "cefalea": d["headache"].map({"yes": "sí", "no": "no"}),
        }
    )
    return _tables(
        {
            "pacientes": pacientes,
            "medicaciones": medicaciones,
            "registros_diarios": registros,
            "cefaleas": cefaleas,
        }
    )


# -- Guatemala prenatal care star schema -----------------------------------------------------

_ETHN = {"Ladino": "LAD", "Spanish": "IND_ES", "NoSpa": "IND_NOES"}


def guate_prenatal() -> Tables:
    """Prenatal care in rural Guatemala (mlmRev guPrenat) as a star schema: dim_community
    (share indigenous in 1981, distance to the nearest clinic), dim_mother (ethnicity coded
    LAD/IND_ES/IND_NOES, schooling, husband's schooling and occupation, a modern toilet as a
    BOOLEAN, TV use), fct_pregnancy (one row per pregnancy, several per mother) and the care
    received, Modern or Traditional, in fct_prenatal_care."""
    d = _rd("mlmRev", "guPrenat")
    comm = d.drop_duplicates("cluster").sort_values("cluster")
    dim_community = pd.DataFrame(
        {
            "community_sk": comm["cluster"].astype("int32"),
            "pct_indigenous_1981": (comm["pcInd81"] * 100).round(1),
            "clinic_distance_km": comm["ssDist"].astype("int32"),
        }
    )
    mom = d.drop_duplicates("mom").sort_values("mom")
    dim_mother = pd.DataFrame(
        {
            "mother_sk": mom["mom"].astype("int32"),
            "community_sk": mom["cluster"].astype("int32"),
            "ethnicity_cd": mom["indig"].map(_ETHN),
            "mother_education": mom["momEd"].fillna("None"),
            "husband_education": mom["husEd"].fillna("None"),
            "husband_occupation": mom["husEmpl"],
            "has_modern_toilet": mom["toilet"].eq("Modern"),
            "tv_watching": mom["TV"].fillna("never"),
        }
    )
    d = d.sort_values("kid", kind="stable").reset_index(drop=True)
    fct_pregnancy = pd.DataFrame(
        {
            "pregnancy_sk": d["kid"].astype("int32"),
            "mother_sk": d["mom"].astype("int32"),
            "child_age_band": d["childAge"],
            "mother_age_band": d["motherAge"],
            "birth_order_band": d["birthOrd"],
        }
    )
    fct_care = pd.DataFrame({"pregnancy_sk": d["kid"].astype("int32"), "care_type": d["prenat"]})
    return _tables(
        {
            "dim_community": dim_community,
            "dim_mother": dim_mother,
            "fct_pregnancy": fct_pregnancy,
            "fct_prenatal_care": fct_care,
        }
    )


# -- Sustaining Effects study, Hungarian notation --------------------------------------------


def ses_math() -> Tables:
    """The US Sustaining Effects study of elementary math (mlmRev egsingle) in Hungarian
    notation: tblSchool (enrolment, low-income and mobility percentages), tblStudent (strSex
    F/M, bitBlack and bitHispanic as BOOLEAN), tblSitting with every sitting but the last of
    each student (grade, a DATE in April of the school year, the math score on the IRT scale,
    retained that year) and the score of the student's last sitting in tblFinalMath."""
    d = _rd("mlmRev", "egsingle").sort_values(["childid", "year"], kind="stable")
    d = d.reset_index(drop=True)
    school = d.drop_duplicates("schoolid").sort_values("schoolid")
    tbl_school = pd.DataFrame(
        {
            "intSchoolID": school["schoolid"].astype("int32"),
            "intEnrolment": school["size"].astype("int32"),
            "fltLowIncPct": school["lowinc"],
            "fltMobilityPct": school["mobility"],
        }
    )
    kids = d.drop_duplicates("childid")
    tbl_student = pd.DataFrame(
        {
            "lngStudentID": kids["childid"].astype("int64"),
            "intSchoolID": kids["schoolid"].astype("int32"),
            "strSex": kids["female"].map({"Female": "F", "Male": "M"}),
            "bitBlack": kids["black"].astype(bool),
            "bitHispanic": kids["hispanic"].astype(bool),
        }
    )
    last = d.groupby("childid")["year"].transform("max") == d["year"]
    early = d[~last].reset_index(drop=True)
    tbl_sitting = pd.DataFrame(
        {
            "lngSittingID": np.arange(1, len(early) + 1, dtype="int32"),
            "lngStudentID": early["childid"].astype("int64"),
            "intGrade": early["grade"].astype("int32"),
            "dtmTestDate": [datetime.date(1990 + int(y + 0.5), 4, 15) for y in early["year"]],
            "fltMath": early["math"],
            "bitRetained": early["retained"].astype(bool),
        }
    )
    final = d[last].reset_index(drop=True)
    tbl_final = pd.DataFrame(
        {
            "lngStudentID": final["childid"].astype("int64"),
            "intFinalGrade": final["grade"].astype("int32"),
            "fltMathFinal": final["math"],
        }
    )
    return _tables(
        {
            "tblSchool": tbl_school,
            "tblStudent": tbl_student,
            "tblSitting": tbl_sitting,
            "tblFinalMath": tbl_final,
        }
    )


# -- red grouse ticks ------------------------------------------------------------------------


def grouse_ticks() -> Tables:
    """Ticks counted on red grouse chicks in Scotland (lme4 grouseticks) as short ``gr_``
    tables: gr_chick, gr_brood (site, season as a year, altitude in metres), gr_site_yr keyed
    by site and season together (the broods and chicks sampled there) and the tick count of
    each chick's head in gr_tick_ct."""
    d = _rd("lme4", "grouseticks")
    d["season"] = (1900 + d["YEAR"]).astype("int32")
    chick = pd.DataFrame(
        {"chick_no": d["INDEX"].astype("int32"), "brood_no": d["BROOD"].astype("int32")}
    )
    b = d.drop_duplicates("BROOD").sort_values("BROOD")
    brood = pd.DataFrame(
        {
            "brood_no": b["BROOD"].astype("int32"),
            "loc_no": b["LOCATION"].astype("int32"),
            "season": b["season"],
            "alt_m": b["HEIGHT"].astype("int32"),
        }
    )
    site = d.groupby(["LOCATION", "season"]).agg(
        n_brood=("BROOD", "nunique"), n_chick=("INDEX", "size")
    )
    site = site.reset_index().sort_values(["LOCATION", "season"])
    site_yr = pd.DataFrame(
        {
            "loc_no": site["LOCATION"].astype("int32"),
            "season": site["season"].astype("int32"),
            "n_brood": site["n_brood"].astype("int32"),
            "n_chick": site["n_chick"].astype("int32"),
        }
    )
    ticks = pd.DataFrame(
        {"chick_no": d["INDEX"].astype("int32"), "tick_ct": d["TICKS"].astype("int32")}
    )
    return _tables(
        {"gr_chick": chick, "gr_brood": brood, "gr_site_yr": site_yr, "gr_tick_ct": ticks}
    )


# -- respiratory trial export ----------------------------------------------------------------

_STATUS = {0: "Poor", 1: "Good"}


def resp_trial() -> Tables:
    """A two-centre respiratory illness trial (geepack respiratory) as a CRF export with spaced
    names: "Patient Master" ('S1-P001', arm A active / P placebo, sex M/F, the baseline status
    Good/Poor), "Site List", one "Visit Log" row per patient and visit 1 to 3 (keyed by patient
    and visit together) and the status at the fourth visit in "Visit 4 Outcome"."""
    d = _rd("geepack", "respiratory")
    d["pid"] = [f"S{c}-P{i:03d}" for c, i in zip(d["center"], d["id"], strict=True)]
    d = d.sort_values(["center", "id", "visit"], kind="stable").reset_index(drop=True)
    first = d.drop_duplicates("pid").reset_index(drop=True)
    master = pd.DataFrame(
        {
            "Patient ID": first["pid"],
            "Site No": first["center"].astype("int32"),
            "Arm": first["treat"],
            "Sex": first["sex"],
            "Age (yrs)": first["age"].astype("int32"),
            "Baseline Status": first["baseline"].map(_STATUS),
        }
    )
    sites = pd.DataFrame(
        {
            "Site No": np.array([1, 2], dtype="int32"),
            "Site Name": ["Site 1 - Pulmonary Clinic", "Site 2 - Community Hospital"],
        }
    )
    early = d[d["visit"] < 4]
    visits = pd.DataFrame(
        {
            "Patient ID": early["pid"],
            "Visit No": early["visit"].astype("int32"),
            "Respiratory Status": early["outcome"].map(_STATUS),
        }
    )
    fourth = d[d["visit"] == 4]
    outcome = pd.DataFrame(
        {"Patient ID": fourth["pid"], "Status at Visit 4": fourth["outcome"].map(_STATUS)}
    )
    return _tables(
        {
            "Patient Master": master,
            "Site List": sites,
            "Visit Log": visits,
            "Visit 4 Outcome": outcome,
        }
    )
