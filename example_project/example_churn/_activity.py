"""Usage events, support tickets and payments driven by the hidden churn drivers.

Activity runs from max(signup, cutoff - 18 months) until the cancellation day for
churners, or through the end of the label window for everyone else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._population import COUNTRIES, CUTOFF_DAY, PlanHistory, Population

CUTOFF_S = CUTOFF_DAY.astype("datetime64[s]")
DAY_S = 86_400

EVENT_TYPES = [
    "login", "view_dashboard", "export_report", "api_call",
    "invite_user", "create_project", "update_settings", "search",
]  # fmt: skip
HEALTHY_MIX = np.array([0.24, 0.26, 0.10, 0.19, 0.03, 0.07, 0.04, 0.07])
FADING_MIX = np.array([0.42, 0.32, 0.05, 0.07, 0.01, 0.02, 0.06, 0.05])  # less building
DURATION_MEDIAN_S = np.array([20.0, 110.0, 45.0, 0.8, 30.0, 280.0, 60.0, 12.0])

TICKET_CATEGORIES = ["technical", "billing", "account", "feature_request", "bug_report"]
ROUTINE_MIX = [0.35, 0.12, 0.15, 0.23, 0.15]
TROUBLE_MIX = [0.55, 0.05, 0.05, 0.05, 0.30]
PRIORITIES = ["low", "medium", "high", "urgent"]
PAYMENT_STATUSES = ["succeeded", "failed", "refunded"]
CURRENCIES = sorted({cur for _, _, cur in COUNTRIES})
USD_RATE = {
    "AUD": 1.52, "BRL": 5.1, "CAD": 1.37, "CHF": 0.88, "CZK": 23.0, "DKK": 6.85, "EUR": 0.92,
    "GBP": 0.79, "INR": 83.5, "JPY": 155.0, "KRW": 1350.0, "MXN": 17.5, "NOK": 10.7,
    "NZD": 1.65, "PLN": 3.95, "SEK": 10.5, "SGD": 1.35, "USD": 1.0, "ZAR": 18.4,
}  # fmt: skip
ZERO_DECIMAL = {"JPY", "KRW"}


def _points(
    rng: np.random.Generator, start: np.ndarray, stop: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Homogeneous Poisson arrivals on [start, stop) per row: (row index, fractional day)."""
    length = np.clip(np.asarray(stop) - np.asarray(start), 0, None).astype(float)
    owner = np.repeat(np.arange(length.size), rng.poisson(rate * length))
    return owner, np.asarray(start)[owner] + rng.random(owner.size) * length[owner]


def _timestamps(
    rng: np.random.Generator, day: np.ndarray, hour: float, spread: float
) -> np.ndarray:
    """Calendar day kept, time of day drawn around working hours (not uniform)."""
    secs = np.clip(rng.normal(hour * 3600, spread * 3600, day.size), 0, DAY_S - 1)
    offset = np.floor(day).astype(np.int64) * DAY_S + secs.astype(np.int64)
    return CUTOFF_S + offset


def _pick(rng: np.random.Generator, probs: np.ndarray | list[float], size: int) -> np.ndarray:
    """Vectorised categorical draw from one probability vector."""
    cdf = np.cumsum(probs)
    return np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(size)), len(cdf) - 1)


def events_frame(
    p: Population, idx: np.ndarray, ids: np.ndarray, first_id: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Product usage for customers idx; usage fades from decline_start by `disengage`."""
    start, stop = p.active_start[idx], p.end[idx]
    turn = np.clip(p.decline_start[idx], start, stop)
    rate, fade = p.usage_rate[idx], p.disengage[idx]
    o1, t1 = _points(rng, start, turn, rate)
    o2, t2 = _points(rng, turn, stop, rate * (1.0 - 0.95 * fade))
    owner, day = np.concatenate([o1, o2]), np.concatenate([t1, t2])
    fading = np.arange(owner.size) >= o1.size
    fading &= rng.random(owner.size) < fade[owner]
    kind = np.where(fading, _pick(rng, FADING_MIX, owner.size), _pick(rng, HEALTHY_MIX, owner.size))
    duration = DURATION_MEDIAN_S[kind] * np.exp(rng.normal(0.0, 0.9, owner.size))
    duration[rng.random(owner.size) < 0.01] = 0.0  # clients that never report a duration
    ts = _timestamps(rng, day, 13.5, 3.5)
    order = np.lexsort((ts, owner))
    return pd.DataFrame(
        {
            "event_id": np.arange(first_id, first_id + owner.size, dtype=np.int64),
            "customer_id": ids[idx][owner[order]],
            "event_time": ts[order],
            "event_type": pd.Categorical.from_codes(kind[order], EVENT_TYPES),
            "duration_seconds": np.round(duration[order], 1),
        }
    )


def tickets_frame(p: Population, ids: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Routine tickets, support-trouble tickets, billing tickets and cancellation requests."""
    start, stop = p.active_start, p.end
    routine = _points(rng, start, stop, 0.005 * (1 + 0.3 * p.size))
    trouble = _points(rng, np.maximum(start, p.support_onset), stop, 0.03 * p.bad_support)
    billing = _points(rng, np.maximum(start, p.pay_onset), stop, 0.012 * p.pay_trouble)
    quitting = np.flatnonzero(p.churned & (rng.random(p.n) < 0.35))
    owner = np.concatenate([routine[0], trouble[0], billing[0], quitting])
    day = np.concatenate([routine[1], trouble[1], billing[1], p.end[quitting] - 1.0])
    sizes = [routine[0].size, trouble[0].size, billing[0].size, quitting.size]
    category = np.concatenate(
        [_pick(rng, ROUTINE_MIX, sizes[0]), _pick(rng, TROUBLE_MIX, sizes[1]),
         np.full(sizes[2], 1), np.full(sizes[3], 2)]
    )  # fmt: skip
    badly_handled = p.bad_support[owner] & (day >= p.support_onset[owner])
    score = np.where(
        badly_handled, 1 + _pick(rng, [0.5, 0.35, 0.15], owner.size),
        1 + _pick(rng, [0.03, 0.07, 0.2, 0.35, 0.35], owner.size),
    ).astype(float)  # fmt: skip
    score[rng.random(owner.size) < 0.3] = np.nan  # most customers skip the survey
    hours = np.exp(rng.normal(np.log(9.0), 1.0, owner.size)) * np.where(badly_handled, 4.0, 1.0)
    order = np.lexsort((day, owner))
    return pd.DataFrame(
        {
            "ticket_id": np.arange(1, owner.size + 1, dtype=np.int64),
            "customer_id": ids[owner[order]],
            "created_at": _timestamps(rng, day, 12.0, 3.0)[order],
            "category": pd.Categorical.from_codes(category[order], TICKET_CATEGORIES),
            "priority": pd.Categorical.from_codes(
                _pick(rng, [0.35, 0.4, 0.2, 0.05], owner.size)[order], PRIORITIES
            ),
            "satisfaction_score": pd.array(score[order], dtype="Int64"),
            "resolution_hours": np.round(hours[order], 1),
        }
    )


def _billing_days(p: Population) -> tuple[np.ndarray, np.ndarray]:
    """Renewal days (monthly or yearly from signup) inside each customer's active span."""
    step = np.where(p.monthly, 30.4375, 365.25)
    k0 = np.ceil((p.active_start - p.signup) / step)
    k1 = np.floor((p.end - 1 - p.signup) / step)
    count = np.maximum(k1 - k0 + 1, 0).astype(np.int64)
    owner = np.repeat(np.arange(p.n), count)
    k = k0[owner] + np.arange(owner.size) - np.repeat(np.cumsum(count) - count, count)
    day = p.signup[owner] + np.round(k * step[owner]).astype(np.int64)
    keep = (day >= p.active_start[owner]) & (day < p.end[owner])
    return owner[keep], day[keep]


def payments_frame(
    p: Population, h: PlanHistory, ids: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Renewal charges; card trouble causes failures, most retried three days later."""
    owner, day = _billing_days(p)
    troubled = p.pay_trouble[owner] & (day >= p.pay_onset[owner])
    failed = rng.random(owner.size) < np.where(troubled, 0.55, 0.006)
    retry = failed & (day + 3 < p.end[owner])
    retry_failed = rng.random(owner.size) < np.where(troubled, 0.5, 0.15)
    status = np.where(failed, 1, np.where(rng.random(owner.size) < 0.007, 2, 0))
    owner = np.concatenate([owner, owner[retry]])
    status = np.concatenate([status, np.where(retry_failed[retry], 1, 0)])
    charge_day = np.concatenate([day, day[retry] + 3])
    usd = h.price_on(owner, np.concatenate([day, day[retry]]))
    usd = usd * np.where(p.monthly[owner], 1.0, 12.0)
    currency = np.array([CURRENCIES.index(cur) for _, _, cur in COUNTRIES])[p.country[owner]]
    fx = np.array([USD_RATE[c] for c in CURRENCIES])
    decimals = np.array([0 if c in ZERO_DECIMAL else 2 for c in CURRENCIES])
    amount = np.round(usd * fx[currency] * 10.0 ** decimals[currency]) / 10.0 ** decimals[currency]
    ts = _timestamps(rng, charge_day.astype(float), 3.0, 1.0)  # nightly billing run
    order = np.lexsort((ts, owner))
    return pd.DataFrame(
        {
            "payment_id": np.arange(1, owner.size + 1, dtype=np.int64),
            "customer_id": ids[owner[order]],
            "paid_at": ts[order],
            "amount": amount[order],
            "currency": pd.Categorical.from_codes(currency[order], CURRENCIES),
            "status": pd.Categorical.from_codes(status[order], PAYMENT_STATUSES),
        }
    )
