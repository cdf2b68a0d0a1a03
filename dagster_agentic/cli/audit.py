"""``trace`` and ``audit``: a goal's trace whole, or as a timeline a person can read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from dagster_agentic.cli.render import iso
from dagster_agentic.errors import GoalError

if TYPE_CHECKING:
    from dagster_agentic.goals.spec import Goal
    from dagster_agentic.observability.trace import TraceRecord

_SQL_KEYS = frozenset({"expression", "sql", "cohort_sql", "where", "predicate"})
_VERDICTS = ("rejected", "fallback")
"""The model kernel's notes (``<decision>:<verdict>``): its guardrails refused an answer, or
the policy decided instead."""


def goal_records(goal: Goal, kind: str | None) -> list[TraceRecord]:
    """The goal's records, of ``kind`` when given; an unknown kind is an error that lists the
    kinds the trace holds."""
    from dagster_agentic.agent.planner import trace_for

    records = trace_for(goal).records(goal=goal.name)
    if kind is not None:
        kinds = sorted({r.kind for r in records})
        if kind not in kinds:
            raise GoalError(
                f"the trace of goal {goal.name!r} has no records of kind {kind!r}",
                fix=f"use one of: {', '.join(kinds)}" if kinds else "run or plan the goal first",
            )
        records = [r for r in records if r.kind == kind]
    return records


def trace(goal: Goal, kind: str | None, out: TextIO) -> int:
    for record in goal_records(goal, kind):
        print(json.dumps({**record.__dict__, "recorded_at": iso(record.recorded_at)}), file=out)
    return 0


def parse_since(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise GoalError(
            f"--since {text!r} is not an ISO 8601 time",
            fix="write e.g. --since 2026-07-01 or --since 2026-07-01T09:30:00Z",
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _sql(value: Any, key: str = "") -> list[str]:
    """Every SQL text in a record's inputs or outputs, found by its field's name."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _sql(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _sql(v, key)]
    return [value] if key in _SQL_KEYS and isinstance(value, str) and value else []


def _category_and_summary(record: TraceRecord) -> tuple[str, str]:
    outputs = record.outputs
    if record.kind == "llm":
        decision, _, verdict = record.name.partition(":")
        if verdict in _VERDICTS:
            return "guardrail", f"{decision}: {verdict}: {outputs.get('reason', '')}".rstrip()
        cost = outputs.get("usd")
        tokens = int(outputs.get("input_tokens") or 0) + int(outputs.get("output_tokens") or 0)
        shown = "unpriced" if cost is None else f"${cost:.4f}"
        error = f", failed: {outputs['error']}" if outputs.get("error") else ""
        return "model call", f"{record.name}: {tokens:,} tokens, {shown}{error}"
    if record.kind == "action" and record.name == "accept_plan_version":
        reason = record.inputs.get("reason", "")
        return "plan version", (
            f"version {outputs.get('version')} accepted ({reason};"
            f" fingerprint {outputs.get('plan_fingerprint')})"
        )
    if record.kind == "decision":
        rationale = outputs.get("rationale")
        first = rationale[0] if isinstance(rationale, list) and rationale else rationale
        what = str(first) if first else "answered: " + ", ".join(sorted(outputs)[:6])
        return "decision", f"{record.name}: {what}"
    return record.kind, f"{record.name}: " + ", ".join(sorted({**record.inputs, **outputs})[:6])


def _versions_by_position(records: list[TraceRecord]) -> list[int | None]:
    """The plan version each record belongs to: its own, else the next version accepted after
    it (a decision is taken while planning the version that follows it), else, after the last
    acceptance, the live one (a planning span closes, a run reads, after the version is in)."""
    found: list[int | None] = [None] * len(records)
    upcoming: int | None = None
    for index in range(len(records) - 1, -1, -1):
        record = records[index]
        if record.kind == "action" and record.name == "accept_plan_version":
            upcoming = record.plan_version
        found[index] = record.plan_version if record.plan_version is not None else upcoming
    live: int | None = None
    for index, record in enumerate(records):
        if record.kind == "action" and record.name == "accept_plan_version":
            live = record.plan_version
        if found[index] is None:
            found[index] = live
    return found


def timeline(goal: Goal, kind: str | None, since: str | None, version: int | None) -> list[dict]:
    everything = goal_records(goal, None)
    versions = _versions_by_position(everything)
    wanted = goal_records(goal, kind) if kind else everything
    ids = {r.id for r in wanted}
    floor = parse_since(since) if since is not None else None
    entries = []
    for record, for_version in zip(everything, versions, strict=True):
        if record.id not in ids or (floor is not None and record.recorded_at < floor):
            continue
        if version is not None and for_version != version:
            continue
        category, summary = _category_and_summary(record)
        entries.append(
            {
                "id": record.id,
                "at": iso(record.recorded_at),
                "kind": record.kind,
                "category": category,
                "name": record.name,
                "actor": record.actor,
                "plan_version": for_version,
                "summary": summary,
                "sql": _sql(record.inputs) + _sql(record.outputs),
                "usd": record.outputs.get("usd") if record.kind == "llm" else None,
                "duration_ms": record.duration_ms,
            }
        )
    return entries


def audit(goal: Goal, args: Any, out: TextIO, *, as_json: bool) -> int:
    entries = timeline(goal, args.kind, args.since, args.plan_version)
    if as_json:
        for entry in entries:
            print(json.dumps(entry, default=str), file=out)
        return 0
    if not entries:
        print(f"goal {goal.name!r}: no trace records match", file=out)
        return 0
    for entry in entries:
        version = "-" if entry["plan_version"] is None else f"v{entry['plan_version']}"
        print(
            f"{entry['at']}  {version:>4}  {entry['category']:<12} {entry['summary']}"
            f"  [{entry['actor']}]",
            file=out,
        )
        for sql in entry["sql"][:3]:
            print(f"{'':28}sql: {' '.join(sql.split())[:120]}", file=out)
        if len(entry["sql"]) > 3:
            print(f"{'':28}sql: (+{len(entry['sql']) - 3} more; --json has them all)", file=out)
    spent = [e["usd"] for e in entries if e["usd"] is not None]
    calls = sum(1 for e in entries if e["category"] == "model call")
    accepted = [e["plan_version"] for e in entries if e["category"] == "plan version"]
    print(
        f"\n{len(entries)} records; {calls} model calls, ${sum(spent):.4f};"
        f" plan versions accepted: {', '.join(map(str, accepted)) or 'none'}",
        file=out,
    )
    return 0
