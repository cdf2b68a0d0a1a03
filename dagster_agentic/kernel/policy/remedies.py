"""The policy's remedies: from diagnoses to one repair proposal (or a reasoned refusal).

Every remedy changes how the plan *reads* the warehouse or trains, never the data:

==========================  ======================================================
cause                       remedy
==========================  ======================================================
renamed_column              read the new name as the old one
renamed_table               read the new table in place of the old one
changed_type                ``TRY_CAST`` back when every value parses; a time now held as
                            text or epochs is read as a time again (``parse_time``); else
                            re-plan
unit_change                 rescale by the inverse factor, cast back to the old type
relabelled_categories       map the new labels onto the old ones
null_burst                  impute the burst's NULLs (median outside it) + indicator
corrupt_values              quarantine rows outside the expected range
duplicated_rows             keep one row per key
orphan_keys                 quarantine rows whose key matches no parent
key_format_change           read the key normalised to the parent's format (measured);
                            re-plan when no normalisation relates the keys again (the
                            gate refuses a re-plan that loses the table, unless allowed)
new_category                accept the new level, retrain
clock_shift                 shift values back from the measured switch moment
removed_column              drop the features that read it (re-plan if none are left)
distribution_drift          re-plan: re-screen the features, retrain
training_divergence         lower the learning rate, clip gradients, retrain
partial_load, stale_feed    refuse: a model must not learn from a partial picture
unknown                     refuse: nothing explains it, so nothing is changed
==========================  ======================================================

Several diagnoses make one proposal: any refusal refuses all of it (a repair must make every
check pass), a re-plan wins over adaptations (it reads the warehouse as it is now), and
adaptations of one table are merged into its adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dagster_agentic.healing.diagnosis import Diagnosis
from dagster_agentic.kernel.protocol import RepairProposal, RepairRequest, diagnosis_key
from dagster_agentic.plan.models import ColumnFix, Plan, RowFilter, SourceAdapter

ADAPT_MIN_CONFIDENCE = 0.6
"""Below this confidence a diagnosis is not acted on: the repair would be a guess."""

REFUSED: dict[str, str] = {
    "partial_load": "a partial load is missing rows a model would learn from; wait for the"
    " complete load",
    "stale_feed": "a stale feed hides the latest behaviour; wait for the feed to catch up",
    "unknown": "no rule explains the failure, so no remedy is safe",
}
REPLANNED = frozenset({"distribution_drift"})

Adapt = Callable[[SourceAdapter, Diagnosis, dict[str, Any], Plan], SourceAdapter | str]


def propose_repair(request: RepairRequest) -> RepairProposal:
    plan = request.plan
    adapters = {a.table: a for a in plan.sources}
    refusals: list[str] = []
    replans: list[str] = []
    adapted: list[str] = []
    training = None
    changed_sources = False
    dropped: list[str] = []
    forgotten: list[str] = []
    for d in request.diagnoses:
        what = f"{diagnosis_key(d)} ({d.explanation})"
        if d.cause in REFUSED:
            refusals.append(f"{what}: {REFUSED[d.cause]}")
        elif d.confidence < ADAPT_MIN_CONFIDENCE:
            refusals.append(f"{what}: confidence {d.confidence:.2f} is too low to act on")
        elif d.cause == "training_divergence":
            from dagster_agentic.kernel.policy.training_repair import stabilise

            try:
                training = stabilise(plan.training, str(d.details.get("family", "")))
            except ValueError as error:
                refusals.append(f"{what}: {error}")
            else:
                adapted.append(f"{diagnosis_key(d)}: {d.remedy}")
        elif d.cause == "removed_column" and d.column:
            reading = features_reading(plan, d.table, d.column)
            if reading and len(reading) < len(plan.feature_columns):
                dropped += reading
                forgotten.append(f"{d.table}.{d.column}")
                changed_sources = True
                adapted.append(
                    f"{diagnosis_key(d)}: drop the {len(reading)} feature(s) that read it"
                    f" ({', '.join(reading[:4])}{'...' if len(reading) > 4 else ''})"
                )
            else:
                replans.append(f"{diagnosis_key(d)}: re-plan without {d.table}.{d.column}")
        elif d.cause in REPLANNED or (
            d.cause == "changed_type"
            and not d.details.get("cast")
            and not d.details.get("parse_time")
        ):
            replans.append(f"{diagnosis_key(d)}: re-plan from the warehouse as it is now")
        elif d.cause == "key_format_change" and not key_recovered(
            request.measurements.get(diagnosis_key(d), {})
        ):
            # No normalisation relates the keys again: only a re-plan is left, and the gate
            # weighs what it loses (a table it can no longer relate, its features, importance).
            replans.append(
                f"{diagnosis_key(d)}: no normalisation of the keys (type, prefix, padding, case)"
                " matches them to their parent; re-plan from the warehouse as it is now"
            )
        else:
            adapter = adapters.get(d.table) or SourceAdapter(table=d.table)
            facts = request.measurements.get(diagnosis_key(d), {})
            outcome = _ADAPT[d.cause](adapter, d, facts, plan)
            if isinstance(outcome, str):
                refusals.append(f"{what}: {outcome}")
                continue
            changed_sources = True
            adapters[d.table] = outcome.model_copy(
                update={"reasons": (*outcome.reasons, f"{diagnosis_key(d)}: {d.remedy}")}
            )
            adapted.append(f"{diagnosis_key(d)}: {d.remedy}")
    if refusals:
        return RepairProposal(action="refuse", rationale=tuple(refusals))
    if replans:
        return RepairProposal(action="replan", rationale=tuple(replans + adapted))
    if not adapted:
        return RepairProposal(action="refuse", rationale=("nothing to repair",))
    proposal = RepairProposal(
        action="adapt" if changed_sources else "stabilise",
        sources=tuple(adapters.values()),
        drop_features=tuple(dict.fromkeys(dropped)),
        drop_expectations=tuple(forgotten),
        training=training,
        rationale=tuple(adapted),
    )
    if proposal.fingerprint() in request.refused:
        return RepairProposal(
            action="refuse",
            rationale=(
                *adapted,
                "this very repair was tried on the live version and refused by the gate",
            ),
        )
    return proposal


def features_reading(plan: Plan, table: str, column: str) -> list[str]:
    """Feature columns whose SQL reads ``table.column`` (directly, on a path or by lookup)."""
    import re

    name = re.escape(column)
    word = re.compile(rf'(?<![A-Za-z0-9_"]){name}(?![A-Za-z0-9_"])|"{name}"')
    out = []
    for group in plan.feature_groups:
        reads = {group.source_table, *(lookup.table for lookup in group.lookups)}
        if group.via is not None:
            reads.add(group.via.table)
        if table in reads:
            out += [group.column_name(f) for f in group.features if word.search(f.expression)]
    return out


def _columns_of(adapter: SourceAdapter, fix: ColumnFix) -> SourceAdapter:
    kept = tuple(c for c in adapter.columns if not (c.column == fix.column and c.kind == fix.kind))
    return adapter.model_copy(update={"columns": (*kept, fix)})


def _reference_type(plan: Plan, table: str, column: str) -> str | None:
    for raw in plan.raw_tables:
        if raw.name in (table, plan.physical(table)):
            for c in raw.columns:
                if c.name == column:
                    return c.data_type
    return None


def _rename(a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan) -> SourceAdapter:
    fix = ColumnFix(kind="rename", column=str(d.details["from"]), source=str(d.details["to"]))
    return _columns_of(a, fix)


def _renamed_table(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter:
    return a.model_copy(update={"read_from": str(d.details["to"])})


def _cast(a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan) -> SourceAdapter:
    fix = ColumnFix(kind="cast", column=d.column or "", data_type=str(d.details["cast"]))
    return _columns_of(a, fix)


def _retype(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter | str:
    if d.details.get("parse_time"):
        return _parse_time(a, d, facts, plan)
    return _cast(a, d, facts, plan)


def _parse_time(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter | str:
    """Read a time column that arrived as text or epochs as a TIMESTAMP again, with a format
    (or unit) from the allow-list only: a value outside it is refused, never rendered."""
    from dagster_agentic.warehouse.times import TIME_FORMATS

    parse = d.details.get("parse_time") or {}
    fmt, unit = parse.get("format"), parse.get("epoch_unit")
    if fmt is not None and fmt not in TIME_FORMATS:
        return f"the time format {fmt!r} is not one the agent reads"
    if unit not in (None, "s", "ms"):
        return f"the epoch unit {unit!r} is not one the agent reads"
    fix = ColumnFix(
        kind="parse_time",
        column=d.column or "",
        format=str(fmt) if fmt is not None else None,
        epoch_unit=unit,
    )
    return _columns_of(a, fix)


def _rescale(a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan) -> SourceAdapter:
    fix = ColumnFix(
        kind="scale",
        column=d.column or "",
        factor=1.0 / float(d.details["factor"]),
        data_type=_reference_type(plan, d.table, d.column or ""),
    )
    return _columns_of(a, fix)


def _relabel(a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan) -> SourceAdapter:
    mapping = tuple(sorted((str(k), str(v)) for k, v in d.details["mapping"].items()))
    return _columns_of(a, ColumnFix(kind="relabel", column=d.column or "", mapping=mapping))


def _impute(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter | str:
    if not facts.get("since") or facts.get("value") is None:
        return "the burst could not be located in time, so there is no partition to repair"
    fix = ColumnFix(
        kind="impute",
        column=d.column or "",
        value=float(facts["value"]),
        data_type=_reference_type(plan, d.table, d.column or ""),
        time_column=facts.get("time_column"),
        since=str(facts["since"]),
        until=str(facts["until"]) if facts.get("until") else None,
    )
    return _columns_of(a, fix)


def _quarantine_range(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter:
    low, high = (float(v) for v in d.details["range"])
    rule = RowFilter(kind="within", column=d.column or "", min_value=low, max_value=high)
    return a.model_copy(update={"keep": (*a.keep, rule)})


def _dedupe(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter | str:
    columns = tuple(str(c) for c in facts.get("columns", ()))
    if not columns:
        return "the table's columns could not be read to order its duplicates"
    return a.model_copy(update={"dedupe_on": d.column, "dedupe_order": columns})


def _quarantine_orphans(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter:
    parent_table, parent_column = str(d.details["parent"]).split(".", 1)
    rule = RowFilter(
        kind="in_parent",
        column=d.column or "",
        parent_table=parent_table,
        parent_column=parent_column,
    )
    return a.model_copy(update={"keep": (*a.keep, rule)})


def key_recovered(facts: dict[str, Any]) -> bool:
    """A key normalisation was measured that relates the column to its parent again."""
    return isinstance(facts.get("key_steps"), list) and bool(facts.get("key_type"))


def _normalise_key(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter | str:
    if not key_recovered(facts):
        return (
            "no normalisation of the keys (type, prefix, padding, case) makes them match their"
            " parent again; quarantining them would give the table up"
        )
    fix = ColumnFix(
        kind="normalise_key",
        column=d.column or "",
        steps=tuple(facts["key_steps"]),
        data_type=str(facts["key_type"]),
        width=facts.get("key_width"),
    )
    return _columns_of(a, fix)


def _accept_level(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter:
    new = tuple(sorted(str(v) for v in d.details.get("new_values", ())))
    kept = tuple((c, v) for c, v in a.accepted_values if c != d.column)
    return a.model_copy(update={"accepted_values": (*kept, (d.column or "", new))})


def _shift_back(
    a: SourceAdapter, d: Diagnosis, facts: dict[str, Any], plan: Plan
) -> SourceAdapter | str:
    shift = d.details.get("shift_hours")
    if not isinstance(shift, int) or not shift or not facts.get("since"):
        return "the moment the clock shifted could not be measured"
    fix = ColumnFix(
        kind="shift_time", column=d.column or "", since=str(facts["since"]), hours=-shift
    )
    return _columns_of(a, fix)


_ADAPT: dict[str, Adapt] = {
    "renamed_column": _rename,
    "renamed_table": _renamed_table,
    "changed_type": _retype,
    "unit_change": _rescale,
    "relabelled_categories": _relabel,
    "null_burst": _impute,
    "corrupt_values": _quarantine_range,
    "duplicated_rows": _dedupe,
    "orphan_keys": _quarantine_orphans,
    "key_format_change": _normalise_key,
    "new_category": _accept_level,
    "clock_shift": _shift_back,
}
