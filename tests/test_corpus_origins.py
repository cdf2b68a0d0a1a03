"""The corpus's goal origins and refusals: every held-out goal is marked and belongs to a
registered set, refusals.yaml loads and judges a message by its words, and a file with an
unknown origin, a duplicated refusal or an empty group of words is rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.corpus.goals import ORIGINS, load_goals, load_refusals
from bench.corpus.sets import BY_KEY, SETS


def test_every_goal_and_refusal_has_a_known_origin_and_a_registered_set() -> None:
    goals = load_goals()
    counts = {origin: sum(g.origin == origin for g in goals) for origin in ORIGINS}
    assert counts == {
        "development": 33,
        "held-out-1": 32,
        "held-out-2": 33,
        "held-out-3": 33,
        "held-out-4": 33,
        "held-out-5": 33,
        "held-out-6": 33,
        "held-out-7": 33,
        "held-out-8": 33,
        "held-out-9": 33,
    }
    assert len(BY_KEY) == len(SETS) == 112
    assert {g.set_key for g in goals} == set(BY_KEY)
    # A set holds goals of one origin: the held-out sets are their own warehouses.
    origin_of: dict[str, set[str]] = {}
    for goal in goals:
        origin_of.setdefault(goal.set_key, set()).add(goal.origin)
    assert all(len(o) == 1 for o in origin_of.values()), origin_of
    refusals = load_refusals()
    assert len(refusals) == 40
    assert {r.origin for r in refusals} == {
        "held-out-1",
        "held-out-2",
        "held-out-3",
        "held-out-4",
        "held-out-5",
        "held-out-6",
        "held-out-7",
        "held-out-8",
    }
    assert all(r.set_key in BY_KEY and origin_of[r.set_key] == {r.origin} for r in refusals)


def test_a_refusal_is_judged_by_the_words_its_message_names() -> None:
    refusal = next(r for r in load_refusals() if r.id == "ref_forecast_orders")
    assert refusal.missing("ObjectiveError: time-series FORECASTING is not supported") == []
    assert refusal.missing("ObjectiveError: cannot resolve the cohort 'orders'") == [
        refusal.mention[0]
    ]
    city = next(r for r in load_refusals(sets={"sacramento"}))
    # Every group must be named: the two words apart are not the place's name.
    assert city.missing("names 'San', 'Francisco'") == [("San Francisco",)]
    assert city.candidates == ("SACRAMENTO", "ELK_GROVE", "ROSEVILLE")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "  - {id: a, set: s, origin: elsewhere, objective: o, why: w, mention: [[x]]}\n",
            "origin",
        ),
        ("  - {id: a, set: s, objective: o, why: w, mention: [[]]}\n", "mention"),
        ("  - {id: a, set: s, objective: o, why: w, mention: [[x]]}\n" * 2, "duplicated"),
    ],
)
def test_a_malformed_refusals_file_is_rejected(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "refusals.yaml"
    path.write_text("refusals:\n" + text)
    with pytest.raises(ValueError, match=error):
        load_refusals(path)


def test_a_goal_with_an_unknown_origin_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "goals.yaml"
    path.write_text(
        "sets:\n  s:\n    goals:\n      - id: g\n        style: plain\n        origin: later\n"
        "        objective: predict y\n        expect: {task: regression, target: t.y,"
        " entity: t, key: k, metric: rmse, threshold: 1, cohort: null}\n"
    )
    with pytest.raises(ValueError, match="origin 'later'"):
        load_goals(path)
    path.write_text(path.read_text().replace("        origin: later\n", ""))
    assert [g.origin for g in load_goals(path)] == ["development"]
