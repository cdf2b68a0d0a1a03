"""Record every kernel decision, with its inputs and outputs, before anything acts on it.

Each decision is a ``decide <decision>`` span (see :mod:`dagster_agentic.observability.spans`)
and its trace record is written inside it, so the record carries the span's ids.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from dagster_agentic.goals.objective import Objective
from dagster_agentic.kernel.protocol import (
    DiagnoseRequest,
    Diagnoses,
    FeatureSelection,
    InterpretGoalRequest,
    Kernel,
    PlanProposal,
    ProposePlanRequest,
    RepairProposal,
    RepairRequest,
    SelectFeaturesRequest,
)
from dagster_agentic.observability.spans import PREFIX, cap, decision_span
from dagster_agentic.observability.trace import Trace


class TracedKernel:
    """Wraps a kernel; each decision becomes one ``kind='decision'`` trace record."""

    def __init__(self, kernel: Kernel, trace: Trace, goal: str) -> None:
        self.inner = kernel
        self.name = kernel.name
        self._trace = trace
        self._goal = goal

    def interpret_goal(self, request: InterpretGoalRequest) -> Objective:
        return self._call("interpret_goal", request, self.inner.interpret_goal)

    def propose_plan(self, request: ProposePlanRequest) -> PlanProposal:
        return self._call("propose_plan", request, self.inner.propose_plan)

    def select_features(self, request: SelectFeaturesRequest) -> FeatureSelection:
        return self._call("select_features", request, self.inner.select_features)

    def diagnose(self, request: DiagnoseRequest) -> Diagnoses:
        return self._call("diagnose", request, self.inner.diagnose)

    def propose_repair(self, request: RepairRequest) -> RepairProposal:
        return self._call("propose_repair", request, self.inner.propose_repair)

    def _call(self, name: str, request: BaseModel, method: Any) -> Any:
        started = time.perf_counter()
        inputs = request.model_dump(mode="json")
        with decision_span(name, self.name) as span:
            # A refused request raises to the user and leaves no trace record: a goal that
            # cannot be interpreted must not write anything (the error message is the record).
            decision = method(request)
            rationale = getattr(decision, "rationale", ())
            if rationale:
                span.set(PREFIX + "rationale", cap("; ".join(map(str, rationale))))
            self._record(name, inputs, decision.model_dump(mode="json"), started)
        return decision

    def _record(
        self, name: str, inputs: dict[str, Any], outputs: dict[str, Any], started: float
    ) -> None:
        self._trace.record(
            goal=self._goal,
            kind="decision",
            name=name,
            actor=self.name,
            inputs=inputs,
            outputs=outputs,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
