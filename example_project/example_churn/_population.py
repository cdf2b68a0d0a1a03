"""Customer population, hidden churn drivers and subscription histories.

All dates are integer day offsets from the cutoff (day 0 = cutoff date), so the
activity generators can work on plain numpy arrays and convert once at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CUTOFF_DAY = np.datetime64("2026-06-30", "D")
HISTORY_DAYS = 548  # ~18 months of activity before the cutoff
LABEL_WINDOW_DAYS = 60
END_DAY = LABEL_WINDOW_DAYS + 1  # exclusive; activity runs through the last label day

# (ISO code, weight, currency); the European weights sum to ~43% of the total.
EUROPE = [
    ("DE", 8.5, "EUR"), ("GB", 8.0, "GBP"), ("FR", 6.5, "EUR"), ("NL", 3.5, "EUR"),
    ("ES", 3.5, "EUR"), ("IT", 3.0, "EUR"), ("SE", 2.0, "SEK"), ("PL", 2.0, "PLN"),
    ("IE", 1.5, "EUR"), ("BE", 1.3, "EUR"), ("AT", 1.2, "EUR"), ("CH", 1.2, "CHF"),
    ("DK", 1.0, "DKK"), ("PT", 0.9, "EUR"), ("FI", 0.8, "EUR"), ("NO", 0.8, "NOK"),
    ("CZ", 0.8, "CZK"),
]  # fmt: skip
REST_OF_WORLD = [
    ("US", 38.0, "USD"), ("CA", 4.0, "CAD"), ("IN", 4.0, "INR"), ("BR", 3.5, "BRL"),
    ("AU", 3.0, "AUD"), ("JP", 2.5, "JPY"), ("MX", 2.0, "MXN"), ("KR", 1.3, "KRW"),
    ("SG", 1.2, "SGD"), ("ZA", 1.0, "ZAR"), ("NZ", 0.5, "NZD"),
]  # fmt: skip
COUNTRIES = EUROPE + REST_OF_WORLD
COUNTRY_CODES = [c for c, _, _ in COUNTRIES]
N_EUROPE = len(EUROPE)

PLANS = ["basic", "standard", "premium"]
PLAN_PRICE = np.array([19.0, 49.0, 99.0])  # USD list price per month
BILLING_CYCLES = ["monthly", "annual"]
ANNUAL_DISCOUNT = 0.85
CHANNELS = ["organic_search", "paid_search", "referral", "partner", "social", "outbound_sales"]
CHANNEL_P = [0.30, 0.22, 0.14, 0.10, 0.10, 0.14]
COMPANY_SIZES = ["1-10", "11-50", "51-200", "201-1000", "1000+"]
SIZE_P = [0.34, 0.30, 0.20, 0.11, 0.05]
SIZE_SEATS = np.array([1.0, 3.0, 8.0, 20.0, 50.0])  # price multiplier (seat bundles)
SUB_STATUSES = ["active", "changed", "cancelled"]
NEVER = np.iinfo(np.int64).max // 4  # start day of an unused subscription slot


@dataclass
class Population:
    """Per-customer observable attributes plus the hidden drivers of churn."""

    signup: np.ndarray  # day offset
    country: np.ndarray  # index into COUNTRIES
    europe: np.ndarray
    monthly: np.ndarray
    size: np.ndarray
    channel: np.ndarray
    age: np.ndarray
    start_plan: np.ndarray
    usage_rate: np.ndarray  # events per day while healthy
    pay_trouble: np.ndarray  # card problems from pay_onset onwards
    pay_onset: np.ndarray
    bad_support: np.ndarray  # poorly handled tickets from support_onset onwards
    support_onset: np.ndarray
    disengage: np.ndarray  # 0..1 drop in usage from decline_start onwards
    decline_start: np.ndarray
    price_increase: np.ndarray
    churned: np.ndarray
    end: np.ndarray  # exclusive last activity day: cancellation day or END_DAY

    @property
    def n(self) -> int:
        return self.signup.size

    @property
    def active_start(self) -> np.ndarray:
        return np.maximum(self.signup, -HISTORY_DAYS)


def _signup_days(n: int, rng: np.random.Generator) -> np.ndarray:
    """Mostly established customers, growth in the last 18 months, a few post-cutoff signups."""
    kind = rng.choice(3, size=n, p=[0.40, 0.57, 0.03])
    older = rng.integers(-1600, -HISTORY_DAYS, size=n)
    # Triangular: sign-ups accelerate towards the cutoff.
    recent = -np.floor(HISTORY_DAYS * (1 - np.sqrt(rng.random(n)))).astype(np.int64) - 1
    fresh = rng.integers(0, LABEL_WINDOW_DAYS, size=n)
    return np.select([kind == 0, kind == 1], [older, recent], fresh).astype(np.int64)


def _churn_logit(p: Population, rng: np.random.Generator) -> np.ndarray:
    """Europe churns on billing and support trouble; elsewhere usage decline dominates."""
    young = (p.signup > -120).astype(float)
    common = (
        0.6 * p.monthly + 0.5 * p.price_increase + 0.7 * young
        - 0.2 * p.size - 0.3 * (p.channel == CHANNELS.index("referral"))
    )  # fmt: skip
    pay, sup, d = p.pay_trouble.astype(float), p.bad_support.astype(float), p.disengage
    # Failed renewals only bite where there are frequent renewals (monthly billing).
    europe = -4.6 + 2.0 * pay + 3.2 * sup + 5.5 * pay * p.monthly + 3.0 * d
    europe += rng.normal(0.0, 0.4, p.n)
    elsewhere = -5.0 + 8.5 * d + 0.7 * pay + 0.6 * sup + rng.normal(0.0, 0.5, p.n)
    return common + np.where(p.europe, europe, elsewhere)


def simulate_population(n: int, rng: np.random.Generator) -> Population:
    """Draw customers, their hidden risk drivers and whether they cancel after the cutoff."""
    signup = np.sort(_signup_days(n, rng))  # ids are assigned in signup order
    weights = np.array([w for _, w, _ in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n, p=weights / weights.sum())
    size = rng.choice(len(COMPANY_SIZES), size=n, p=SIZE_P)
    # Bigger companies buy bigger plans and prefer annual contracts.
    plan_score = 0.45 * size + rng.normal(0.0, 0.9, n)
    start_plan = np.digitize(plan_score, [0.3, 1.3])
    monthly = rng.random(n) < 0.72 - 0.08 * size
    age = np.clip(np.round(rng.normal(39, 10, n)), 19, 75).astype(np.int32)
    usage = np.exp(rng.normal(np.log(0.15), 0.5, n)) * (0.8 + 0.2 * start_plan + 0.1 * size)
    # A minority drifts away from the product; the rest stay broadly engaged.
    fading = rng.random(n) < 0.22
    disengage = np.where(fading, rng.beta(6.0, 2.0, n), rng.beta(1.0, 10.0, n))
    pay_trouble = rng.random(n) < 0.12
    bad_support = rng.random(n) < 0.10 + 0.25 * pay_trouble  # billing pain spills into support
    p = Population(
        signup=signup, country=country, europe=country < N_EUROPE, monthly=monthly,
        size=size, channel=rng.choice(len(CHANNELS), size=n, p=CHANNEL_P), age=age,
        start_plan=start_plan, usage_rate=usage,
        pay_trouble=pay_trouble, pay_onset=rng.integers(-240, -60, n),
        bad_support=bad_support, support_onset=rng.integers(-180, -30, n),
        disengage=disengage, decline_start=rng.integers(-100, -35, n),
        price_increase=(rng.random(n) < 0.15) & (signup < -170),
        churned=np.zeros(n, bool), end=np.full(n, END_DAY, np.int64),
    )  # fmt: skip
    prob = 1.0 / (1.0 + np.exp(-_churn_logit(p, rng)))
    p.churned = (rng.random(n) < prob) & (signup < 0)
    p.end = np.where(p.churned, rng.integers(1, END_DAY, n), END_DAY)
    return p


def customers_frame(p: Population, h: PlanHistory, customer_ids: np.ndarray) -> pd.DataFrame:
    """The customers table; plan is the plan of the latest subscription."""
    return pd.DataFrame(
        {
            "customer_id": customer_ids,
            "country": pd.Categorical.from_codes(p.country, COUNTRY_CODES),
            "plan": pd.Categorical.from_codes(h.plans[np.arange(p.n), h.count - 1], PLANS),
            "billing_cycle": pd.Categorical.from_codes((~p.monthly).astype(int), BILLING_CYCLES),
            "signup_date": (CUTOFF_DAY + p.signup).astype("datetime64[s]"),
            "age": p.age,
            "acquisition_channel": pd.Categorical.from_codes(p.channel, CHANNELS),
            "company_size": pd.Categorical.from_codes(p.size, COMPANY_SIZES),
        }
    )


@dataclass
class PlanHistory:
    """Up to three consecutive subscriptions per customer (column k = k-th subscription)."""

    starts: np.ndarray  # (n, 3) day offsets; unused slots hold a huge sentinel
    plans: np.ndarray  # (n, 3) plan index
    prices: np.ndarray  # (n, 3) monthly price in USD
    count: np.ndarray  # (n,) subscriptions per customer

    def price_on(self, owner: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Monthly price in force for each (customer, day) pair."""
        k = (day[:, None] >= self.starts[owner]).sum(axis=1) - 1
        return self.prices[owner, np.maximum(k, 0)]


def _change_days(p: Population, rng: np.random.Generator) -> np.ndarray:
    """(n, 3) subscription start days; a price increase is always the latest, recent change."""
    n = p.n
    n_changes = np.where(p.signup < -30, rng.choice(3, size=n, p=[0.6, 0.3, 0.1]), 0)
    n_changes = np.maximum(n_changes, p.price_increase.astype(int))
    # Two distinct days strictly between signup and the cutoff.
    slots = np.maximum(-p.signup - 1, 2)
    a = np.floor(rng.random(n) * slots).astype(np.int64)
    b = np.floor(rng.random(n) * (slots - 1)).astype(np.int64)
    b += b >= a
    changes = p.signup[:, None] + 1 + np.sort(np.column_stack([a, b]), axis=1)
    # Price increases land 20-150 days before the cutoff, after any other change.
    reprice = rng.integers(-150, -20, n)
    earlier = p.signup + 1 + np.floor(rng.random(n) * (reprice - p.signup - 1)).astype(np.int64)
    two = p.price_increase & (n_changes == 2)
    changes[:, 0] = np.where(two, earlier, np.where(p.price_increase, reprice, changes[:, 0]))
    changes[:, 1] = np.where(two, reprice, changes[:, 1])
    starts = np.column_stack([p.signup, changes])
    starts[np.arange(3)[None, :] > n_changes[:, None]] = NEVER
    return starts


def plan_history(p: Population, rng: np.random.Generator) -> PlanHistory:
    """Upgrades, downgrades (likelier when disengaged) and price increases."""
    starts = _change_days(p, rng)
    count = (starts < NEVER).sum(axis=1)
    base = PLAN_PRICE * 1.0
    plans = np.repeat(p.start_plan[:, None], 3, axis=1)
    factor = np.ones((p.n, 3))
    for k in (1, 2):
        down = rng.random(p.n) < 0.3 + 0.5 * p.disengage
        prev = plans[:, k - 1]
        # Move down when disengaged (or already at the top), otherwise up.
        step = np.where((down & (prev > 0)) | (prev == 2), -1, 1)
        is_reprice = p.price_increase & (k == count - 1)
        plans[:, k] = np.where(is_reprice, prev, prev + step)
        factor[:, k] = np.where(is_reprice, factor[:, k - 1] * rng.uniform(1.12, 1.3, p.n), 1.0)
    cycle = np.where(p.monthly, 1.0, ANNUAL_DISCOUNT)[:, None]
    prices = np.round(base[plans] * factor * SIZE_SEATS[p.size][:, None] * cycle, 2)
    return PlanHistory(starts=starts, plans=plans, prices=prices, count=count)


def subscriptions_frame(p: Population, h: PlanHistory, customer_ids: np.ndarray) -> pd.DataFrame:
    """One row per subscription; the last one is active or cancelled at the churn date."""
    owner = np.repeat(np.arange(p.n), h.count)
    k = np.arange(owner.size) - np.repeat(np.cumsum(h.count) - h.count, h.count)
    is_last = k == h.count[owner] - 1
    next_start = h.starts[owner, np.minimum(k + 1, 2)]
    ended = np.where(is_last, p.end[owner], next_start)
    cancelled = is_last & p.churned[owner]
    status = np.where(is_last, np.where(cancelled, 2, 0), 1)
    ended_at = (CUTOFF_DAY + ended).astype("datetime64[s]")
    ended_at[is_last & ~cancelled] = np.datetime64("NaT")  # still running
    return pd.DataFrame(
        {
            "subscription_id": np.arange(1, owner.size + 1, dtype=np.int64),
            "customer_id": customer_ids[owner],
            "plan": pd.Categorical.from_codes(h.plans[owner, k], PLANS),
            "started_at": (CUTOFF_DAY + h.starts[owner, k]).astype("datetime64[s]"),
            "ended_at": ended_at,
            "monthly_price": h.prices[owner, k],
            "status": pd.Categorical.from_codes(status, SUB_STATUSES),
        }
    )


def labels_frame(p: Population, customer_ids: np.ndarray) -> pd.DataFrame:
    """One label per customer who signed up before the cutoff."""
    known = p.signup < 0
    return pd.DataFrame(
        {
            "customer_id": customer_ids[known],
            "cutoff_date": np.full(known.sum(), CUTOFF_DAY).astype("datetime64[s]"),
            "churned": p.churned[known].astype(np.int32),
        }
    )
