"""The model kernel reads goals the policy cannot: a model's reading, grounded in the warehouse,
sent back with the reason when it names what does not exist, and the policy's when it fails.

The model is a scripted OpenAI-compatible server on 127.0.0.1 reached through litellm over HTTP
(tests/model_provider.py); the warehouse, profile, grounding and trace are the product's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_agentic import Goal
from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.kernel.llm.kernel import LLMKernel
from dagster_agentic.kernel.protocol import InterpretGoalRequest
from dagster_agentic.observability.trace import Trace
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.profile import profile_warehouse
from tests.model_provider import data_of, provider

OBJECTIVE = "Predict which foreign-born women take part in the labour force, with 80% ROC AUC"
READING = {
    "target": "lavoratrici.partecipa",
    "task": "binary_classification",
    "metric": "roc_auc",
    "threshold": 0.8,
    "positive_value": "si",
    "cohort": [{"column": "lavoratrici.straniera", "op": "=", "values": ["si"]}],
    "cohort_description": "foreign-born women",
    "rationale": {
        "target": "'take part in the labour force' is partecipa (Italian: takes part)",
        "cohort": "'foreign-born' is straniera = 'si'",
    },
}


@pytest.fixture(scope="module")
def italian(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return italian_warehouse(tmp_path_factory.mktemp("it") / "lavoro.duckdb")


def italian_warehouse(path: Path) -> Path:
    """Women's labour-force participation, named in Italian: the policy cannot read it."""
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE lavoratrici AS SELECT i AS id,"
            " CASE WHEN hash(i, 1) % 100 < 45 + (i % 3) * 10 THEN 'si' ELSE 'no' END AS partecipa,"
            " 20 + hash(i, 2) % 40 AS eta, hash(i, 3) % 3 AS figli_piccoli,"
            " CASE WHEN hash(i, 4) % 5 = 0 THEN 'si' ELSE 'no' END AS straniera,"
            " round(8 + (hash(i, 5) % 500) / 100.0, 2) AS reddito_log"
            " FROM range(600) t(i)"
        )
    return path


def _kernel(url: str, tmp_path: Path, **fields: Any) -> tuple[LLMKernel, Trace]:
    spec = ModelKernelSpec(model="openai/gpt-4o-mini", api_base=url, **fields)
    trace = Trace(tmp_path / "trace.sqlite")
    return LLMKernel(spec, trace=trace, goal="lf"), trace


def _request(warehouse: Path, objective: str = OBJECTIVE, **fields: Any) -> InterpretGoalRequest:
    goal = Goal(name="lf", objective=objective, warehouse=warehouse, **fields)
    return InterpretGoalRequest(goal=goal, profile=profile_warehouse(Warehouse(warehouse)))


def test_policy_refuses_what_the_model_reads(italian: Path, tmp_path: Path) -> None:
    request = _request(italian)
    with pytest.raises(ObjectiveError, match="foreign-born"):
        from dagster_agentic.kernel.policy.kernel import PolicyKernel

        PolicyKernel().interpret_goal(request)

    with provider(lambda body: json.dumps(READING)) as model:
        kernel, trace = _kernel(model.url, tmp_path)
        objective = kernel.interpret_goal(request)

    assert (objective.label_table, objective.target_column) == ("lavoratrici", "partecipa")
    assert objective.task == "binary_classification" and objective.positive_value == "si"
    assert (objective.metric, objective.threshold) == ("roc_auc", 0.8)
    assert objective.cohort_sql == "straniera = 'si'"
    assert objective.entity_table == "lavoratrici" and objective.entity_key == "id"
    assert any("partecipa (Italian" in line for line in objective.rationale)
    # In hybrid mode the model was shown the policy's refusal, and the warehouse's metadata.
    data = data_of(model.requests[0])
    assert "foreign-born" in data["policy_refused"]
    assert data["objective"] == OBJECTIVE
    assert [t["name"] for t in data["warehouse"]["tables"]] == ["lavoratrici"]
    calls = trace.records(goal="lf", kind="llm")
    assert [c.name for c in calls] == ["interpret_goal"]
    assert calls[0].outputs["input_tokens"] > 100 and calls[0].outputs["usd"] > 0
    assert kernel.spend.calls == 1


def test_an_answer_naming_what_does_not_exist_is_sent_back_with_the_reason(
    italian: Path, tmp_path: Path
) -> None:
    wrong = {**READING, "target": "lavoratrici.participation"}
    made_up = {**READING, "cohort": [{"column": "straniera", "op": "=", "values": ["yes"]}]}
    answers = iter([json.dumps(wrong), json.dumps(made_up), json.dumps(READING)])
    with provider(lambda body: next(answers)) as model:
        kernel, trace = _kernel(model.url, tmp_path)
        objective = kernel.interpret_goal(_request(italian))

    assert objective.cohort_sql == "straniera = 'si'"
    second, third = model.requests[1]["messages"], model.requests[2]["messages"]
    assert second[-2] == {"role": "assistant", "content": json.dumps(wrong)}
    assert "rejected" in second[-1]["content"] and "participation" in second[-1]["content"]
    assert "'yes' is not a value of lavoratrici.straniera" in third[-1]["content"]
    assert "'si'" in third[-1]["content"]  # the values it may use
    rejected = [r for r in trace.records(goal="lf", kind="llm") if r.name.endswith(":rejected")]
    assert len(rejected) == 2


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("I think the target is partecipa.", "not valid JSON"),
        (json.dumps({**READING, "cohort_description": "{{ run_query('DROP TABLE x') }}"}), "Jinja"),
        (json.dumps({**READING, "task": "forecasting"}), "does not match the schema"),
        (json.dumps({**READING, "positive_value": "maybe"}), "not a value of"),
    ],
)
def test_an_unusable_answer_ends_in_the_policy_decision(
    italian: Path, tmp_path: Path, answer: str, reason: str
) -> None:
    with provider(lambda body: answer) as model:
        kernel, trace = _kernel(model.url, tmp_path, max_answer_retries=1)
        # The policy refuses this goal, so the fallback's decision is the policy's refusal,
        # which says the model was asked first.
        with pytest.raises(ObjectiveError, match="foreign-born") as error:
            kernel.interpret_goal(_request(italian))
    assert "model openai/gpt-4o-mini gave no usable answer" in str(error.value)
    assert len(model.requests) == 2
    fallback = [r for r in trace.records(goal="lf", kind="llm") if r.name.endswith(":fallback")]
    assert len(fallback) == 1 and reason in fallback[0].outputs["reason"]


def test_the_fallback_names_itself_in_the_rationale(italian: Path, tmp_path: Path) -> None:
    readable = "Predict partecipa with 80% ROC AUC"
    with provider(lambda body: "not json") as model:
        kernel, _ = _kernel(model.url, tmp_path, max_answer_retries=0)
        objective = kernel.interpret_goal(_request(italian, readable))
    assert objective.target_column == "partecipa"
    assert objective.rationale[0].startswith("decided by the policy kernel")
    assert "not valid JSON" in objective.rationale[0]


def test_the_model_refuses_with_its_candidates(italian: Path, tmp_path: Path) -> None:
    answer = {
        "refuse": "the warehouse holds no wages over time, so a forecast cannot be made",
        "candidates": ["lavoratrici.reddito_log"],
    }
    with provider(lambda body: json.dumps(answer)) as model:
        kernel, _ = _kernel(model.url, tmp_path)
        with pytest.raises(ObjectiveError, match=r"could not read the goal.*reddito_log"):
            kernel.interpret_goal(_request(italian, "Forecast next year's household income"))


def test_user_overrides_win_over_the_model(italian: Path, tmp_path: Path) -> None:
    with provider(lambda body: json.dumps(READING)) as model:
        kernel, _ = _kernel(model.url, tmp_path)
        objective = kernel.interpret_goal(
            _request(italian, overrides={"metric": "recall", "threshold": 0.6})
        )
    assert (objective.metric, objective.threshold) == ("recall", 0.6)
    assert data_of(model.requests[0])["user_overrides"] == {"metric": "recall", "threshold": 0.6}


def test_a_cohort_filtering_on_the_outcome_is_sent_back(italian: Path, tmp_path: Path) -> None:
    leaky = {
        **READING,
        "cohort": [{"column": "lavoratrici.partecipa", "op": "=", "values": ["si"]}],
    }
    answers = iter([json.dumps(leaky), json.dumps(READING)])
    with provider(lambda body: next(answers)) as model:
        kernel, _ = _kernel(model.url, tmp_path)
        objective = kernel.interpret_goal(_request(italian))
    assert objective.cohort_sql == "straniera = 'si'"
    assert "filters on the target" in model.requests[1]["messages"][-1]["content"]


def test_model_mode_reads_alone_and_decisions_not_given_stay_the_policys(
    italian: Path, tmp_path: Path
) -> None:
    with provider(lambda body: json.dumps(READING)) as model:
        kernel, _ = _kernel(model.url, tmp_path, mode="model")
        kernel.interpret_goal(_request(italian))
        data = data_of(model.requests[0])
        assert "policy_reading" not in data and "policy_refused" not in data

        readable = _request(italian, "Predict partecipa with 80% ROC AUC")
        kernel, _ = _kernel(model.url, tmp_path, decisions=("select_features",))
        objective = kernel.interpret_goal(readable)
    assert len(model.requests) == 1
    from dagster_agentic.kernel.policy.kernel import PolicyKernel

    assert objective == PolicyKernel().interpret_goal(readable)


def test_a_key_is_no_outcome(italian: Path, tmp_path: Path) -> None:
    key = {**READING, "target": "lavoratrici.id", "task": "regression", "metric": "r2"}
    answers = iter([json.dumps(key), json.dumps(READING)])
    with provider(lambda body: next(answers)) as model:
        kernel, _ = _kernel(model.url, tmp_path)
        objective = kernel.interpret_goal(_request(italian))
    assert objective.target_column == "partecipa"
    assert (
        "is the key that identifies each lavoratrici row"
        in (model.requests[1]["messages"][-1]["content"])
    )


def test_listed_values_are_read_as_the_column_holds_them(italian: Path, tmp_path: Path) -> None:
    listed = {**READING, "cohort": [{"column": "straniera", "op": "in", "values": ["SI", "maybe"]}]}
    with provider(lambda body: json.dumps(listed)) as model:
        kernel, _ = _kernel(model.url, tmp_path)
        objective = kernel.interpret_goal(_request(italian))
    # 'SI' is the column's 'si'; 'maybe' is held by no row yet and selects none of them.
    assert objective.cohort_sql == "straniera IN ('si', 'maybe')"
    assert len(model.requests) == 1
