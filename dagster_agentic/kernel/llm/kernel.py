"""The model kernel: a language model through litellm takes the kernel's decisions.

It implements the same protocol as the policy kernel and answers with the same pydantic
models. In ``hybrid`` mode (the default) the policy decides first and the model is shown that
decision (or the policy's refusal) to refine; in ``model`` mode the model decides alone. Either
way the policy kernel decides whenever the model's answer cannot be used (after
``max_answer_retries``), the provider stays down, or the decision is not in
``spec.decisions``, and the decision's rationale and the trace say so. A budget that runs out
stops the agent with a :class:`GuardrailError`.

What the model may change is bounded: it reads the goal (grounded in the warehouse like user
overrides, the user's own overrides winning); it keeps or drops screened features, never
keeping one the leakage or memory rules dropped; it leaves out feature groups of the policy's
plan, orders its model families and proposes features as structured ideas the kernel compiles
to SQL (:mod:`.feature_ideas`), screened like any candidate; it diagnoses on tables and columns
the evidence names, the measured details staying the policy's; and it proposes a repair the
healing gate then tests like any other. The model never writes SQL, Jinja or code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from dagster_agentic.errors import GoalError
from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.goals.objective import Objective
from dagster_agentic.kernel.llm.answers import (
    DiagnosisAnswer,
    FeatureAnswer,
    PlanAnswer,
    accept_diagnoses,
    accept_plan,
    accept_repair,
    accept_selection,
    one_line,
    plan_data,
    repair_data,
    screening_data,
)
from dagster_agentic.kernel.llm.asking import Asker, ModelRefused, Unanswered
from dagster_agentic.kernel.llm.client import LazyClient, ReplayClient, Spend
from dagster_agentic.kernel.llm.reading import ReadingAnswer, cohort_sql
from dagster_agentic.kernel.llm.telemetry import Telemetry
from dagster_agentic.kernel.llm.views import warehouse_view
from dagster_agentic.kernel.policy.kernel import PolicyKernel
from dagster_agentic.kernel.protocol import (
    DiagnoseRequest,
    Diagnoses,
    FeatureSelection,
    InterpretGoalRequest,
    PlanProposal,
    ProposePlanRequest,
    RepairProposal,
    RepairRequest,
    SelectFeaturesRequest,
)
from dagster_agentic.observability.trace import Trace

D = TypeVar("D")
DECIDING = {
    "model",
    "mode",
    "decisions",
    "sample_values",
    "temperature",
    "seed",
    "max_prompt_chars",
    "max_answer_retries",
}
"""The settings that shape a model kernel's decisions: a plan made with others is planned again.
Budgets, time-outs, retries, the endpoint and the key do not."""


class LLMKernel:
    """Decisions by a language model, inside the policy's bounds and the goal's budgets."""

    name = "llm"

    def __init__(
        self,
        spec: ModelKernelSpec,
        *,
        trace: Trace,
        goal: str,
        client: Any = None,
        policy: PolicyKernel | None = None,
        api_key: str | None = None,
    ) -> None:
        self.spec = spec
        self.policy = policy or PolicyKernel()
        # A plan made with another model or mode, or by another policy (which the model refines
        # in hybrid mode and falls back to), is planned again.
        settings = spec.model_dump(mode="json", include=DECIDING)
        self.version = f"1:{self.policy.version}:" + json.dumps(
            settings, sort_keys=True, separators=(",", ":")
        )
        self.spend = Spend(spec)
        self.telemetry = Telemetry(spec, goal)
        self.asker = Asker(
            spec=spec,
            client=client if client is not None else LazyClient(spec, api_key),
            spend=self.spend,
            trace=trace,
            goal=goal,
            telemetry=self.telemetry,
        )

    @classmethod
    def replaying(
        cls, spec: ModelKernelSpec, *, recorded: Trace, trace: Trace, goal: str
    ) -> LLMKernel:
        """A kernel that answers every call from ``recorded`` (a trace of an earlier run of
        ``goal``), with no model: the same requests get the same answers, so the run takes the
        same decisions and writes the same plan; a request it has no recording of is refused."""
        return cls(spec, trace=trace, goal=goal, client=ReplayClient.from_trace(recorded, goal))

    # ------------------------------------------------------------------ decisions

    def interpret_goal(self, request: InterpretGoalRequest) -> Objective:
        if "interpret_goal" not in self.spec.decisions:
            return self.policy.interpret_goal(request)
        data: dict[str, Any] = {
            "objective": request.goal.objective,
            "warehouse": warehouse_view(
                request.profile,
                sample_values=self.spec.sample_values,
                max_chars=self.spec.max_prompt_chars * 2 // 3,
            ),
        }
        fixed = request.goal.overrides.model_dump(exclude_none=True)
        if fixed:
            data["user_overrides"] = fixed
        if self.spec.mode == "hybrid":
            try:
                reading = self.policy.interpret_goal(request)
                data["policy_reading"] = _summary(reading)
            except GoalError as refusal:
                data["policy_refused"] = refusal.message
        note = (
            "The user fixed the fields in user_overrides: they stand whatever you answer.\n"
            if fixed
            else ""
        )
        return self._decide(
            "interpret_goal",
            lambda: self.asker.ask(
                "interpret_goal",
                data,
                ReadingAnswer,
                lambda answer: self._ground(answer, request),
                overrides_note=note,
            ),
            lambda: self.policy.interpret_goal(request),
        )

    def propose_plan(self, request: ProposePlanRequest) -> PlanProposal:
        proposal = self.policy.propose_plan(request)
        if "propose_plan" not in self.spec.decisions:
            return proposal
        return self._decide(
            "propose_plan",
            lambda: self.asker.ask(
                "propose_plan",
                plan_data(request, proposal, self.spec.sample_values),
                PlanAnswer,
                lambda answer: accept_plan(answer, proposal, request.profile, self._by()),
            ),
            lambda: proposal,
        )

    def select_features(self, request: SelectFeaturesRequest) -> FeatureSelection:
        selection = self.policy.select_features(request)
        if "select_features" not in self.spec.decisions:
            return selection
        return self._decide(
            "select_features",
            lambda: self.asker.ask(
                "select_features",
                screening_data(request, selection),
                FeatureAnswer,
                lambda answer: accept_selection(answer, selection, self._by()),
            ),
            lambda: selection,
        )

    def diagnose(self, request: DiagnoseRequest) -> Diagnoses:
        found = self.policy.diagnose(request)
        if "diagnose" not in self.spec.decisions:
            return found
        evidence = request.evidence.model_dump(mode="json")
        return self._decide(
            "diagnose",
            lambda: self.asker.ask(
                "diagnose",
                {"evidence": evidence, "policy_diagnoses": found.model_dump(mode="json")},
                DiagnosisAnswer,
                lambda answer: accept_diagnoses(answer, found, evidence, self._by()),
            ),
            lambda: found,
        )

    def propose_repair(self, request: RepairRequest) -> RepairProposal:
        proposal = self.policy.propose_repair(request)
        if "propose_repair" not in self.spec.decisions:
            return proposal
        return self._decide(
            "propose_repair",
            lambda: self.asker.ask(
                "propose_repair",
                repair_data(request, proposal),
                RepairProposal,
                lambda answer: accept_repair(answer, request, self._by()),
            ),
            lambda: proposal,
        )

    # ------------------------------------------------------------------ helpers

    def _decide(self, decision: str, ask: Callable[[], D], policy: Callable[[], D]) -> D:
        with self.telemetry.agent(decision):
            try:
                return ask()
            except Unanswered as why:
                self.asker.note(decision, "fallback", {"reason": str(why)})
                try:
                    decided = policy()
                except GoalError as refusal:
                    # The policy refuses too: say that the model was asked first, and why its
                    # answer was not used.
                    raise type(refusal)(
                        f"{refusal.message} (the policy kernel's reading; {self._by()} gave no"
                        f" usable answer: {why})",
                        fix=refusal.fix,
                    ) from None
                return _noted(
                    decided,
                    f"decided by the policy kernel: the model's answer was not used ({why})",
                )
            finally:
                self.telemetry.flush()

    def _by(self) -> str:
        return f"model {self.spec.model}"

    def _ground(self, answer: ReadingAnswer, request: InterpretGoalRequest) -> Objective:
        if answer.refuse:
            shown = ", ".join(answer.candidates[:12]) or "none named"
            raise ModelRefused(
                f"{self._by()} could not read the goal: {answer.refuse[:500]}"
                f" (candidates: {shown[:500]})",
                fix="rephrase the objective, or set target=, metric=, threshold= and cohort= in"
                " the goal's overrides",
            )
        fixed = request.goal.overrides
        target = fixed.target or answer.target
        task = fixed.task or answer.task
        metric = fixed.metric or answer.metric
        threshold = fixed.threshold if fixed.threshold is not None else answer.threshold
        missing = [
            name
            for name, value in (
                ("target", target),
                ("task", task),
                ("metric", metric),
                ("threshold", threshold),
            )
            if value is None
        ]
        if missing:
            raise ValueError(f"the answer leaves {', '.join(missing)} empty; set it or refuse")
        assert target and task and metric and threshold is not None
        notes = [
            f"{field} by {self._by()}: {one_line(line)}"
            for field, line in sorted(answer.rationale.items())
        ]
        entity = fixed.entity_table or answer.entity_table

        def ground(sql: str | None) -> Objective:
            return self.policy.ground_reading(
                request.profile,
                target=target,
                task=task,
                metric=metric,
                threshold=threshold,
                positive_value=answer.positive_value,
                entity_table=entity,
                cohort_sql=sql,
                cohort_description=one_line(answer.cohort_description),
                notes=notes,
            )

        if fixed.cohort is not None:
            return ground(fixed.cohort)
        first = ground(None)
        table = request.profile.table(first.entity_table)
        assert table is not None
        sql = cohort_sql(answer.cohort, answer.cohort_join, table, request.profile)
        return ground(sql) if sql else first


def _noted(decision: D, line: str) -> D:
    rationale = getattr(decision, "rationale", None)
    if isinstance(rationale, tuple) and hasattr(decision, "model_copy"):
        return decision.model_copy(update={"rationale": (line, *rationale)})
    return decision


def _summary(objective: Objective) -> dict[str, Any]:
    return objective.model_dump(
        mode="json",
        include={
            "task",
            "entity_table",
            "label_table",
            "target_column",
            "positive_value",
            "metric",
            "threshold",
            "cohort_sql",
            "cohort_description",
            "rationale",
        },
    )
