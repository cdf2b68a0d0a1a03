"""``make bench-llm``: what the model kernel costs on the example goal, and what it adds to
planning, against the policy kernel in the same run.

The example goal is planned with each kernel on its own copy of the example warehouse, over
``--repeats`` runs: the policy kernel (no calls), and the model kernel in hybrid mode against
an OpenAI-compatible server on 127.0.0.1 that answers as the policy decided
(tests/policy_echo.py), through litellm over HTTP. For each model call the prompt and the answer
are counted with litellm's offline tokenizers, and priced for a few hosted models with the cost
map litellm ships. What is measured is the prompt the product sends (its real size for this
warehouse) and the answer the echo gives; a model that writes longer rationales costs more for
its completion tokens, which are the smaller part here.

Writes ``bench/results/llm_kernel.json`` and the bench-llm section of docs/benchmarks.md.

    .venv/bin/python -m bench.llm_kernel [--repeats 3] [--scale tiny] [--no-docs]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import ROOT, machine, main_versions, write_section

RESULTS = ROOT / "bench" / "results" / "llm_kernel.json"
START, END = "<!-- bench-llm:start -->", "<!-- bench-llm:end -->"
PRICED = ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1", "claude-haiku-4-5", "claude-sonnet-4-5")
MODEL = "openai/gpt-4o-mini"


def _plan(warehouse: Path, kernel: str, url: str | None) -> tuple[float, list[dict[str, Any]]]:
    from dagster_agentic.agent.planner import ensure_plan, trace_for
    from dagster_agentic.goals.kernel_spec import ModelKernelSpec
    from tests.conftest import make_goal

    spec = None if kernel == "policy" else ModelKernelSpec(model=MODEL, api_base=url)
    goal = make_goal(warehouse, kernel=spec)
    started = time.perf_counter()
    ensure_plan(goal)
    seconds = time.perf_counter() - started
    calls = [r.outputs for r in trace_for(goal).records(goal=goal.name, kind="llm")]
    return seconds, calls


def _tokens(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import litellm

    counted = []
    for call in calls:
        messages = call["messages"]
        answer = [{"role": "assistant", "content": call["content"] or ""}]
        counted.append(
            {
                "decision": call["schema_name"],
                "prompt_chars": sum(len(m["content"]) for m in messages),
                "prompt_tokens": {
                    m: litellm.token_counter(model=m, messages=messages) for m in PRICED
                },
                "completion_tokens": {
                    m: litellm.token_counter(model=m, messages=answer) for m in PRICED
                },
            }
        )
    return counted


def _cost(counted: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    import litellm

    costs = {}
    for model in PRICED:
        prompt = sum(c["prompt_tokens"][model] for c in counted)
        completion = sum(c["completion_tokens"][model] for c in counted)
        info = litellm.model_cost[model]
        usd = prompt * info["input_cost_per_token"] + completion * info["output_cost_per_token"]
        costs[model] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "usd": round(usd, 6),
            "usd_per_million_input": info["input_cost_per_token"] * 1e6,
            "usd_per_million_output": info["output_cost_per_token"] * 1e6,
        }
    return costs


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def run(repeats: int, scale: str) -> dict[str, Any]:
    from example_churn.warehouse import generate_warehouse
    from tests.model_provider import provider
    from tests.policy_echo import policy_echo

    seconds: dict[str, list[float]] = {"policy": [], "llm": []}
    counted: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, provider(policy_echo) as model:
        pristine = Path(tmp) / "pristine.duckdb"
        generate_warehouse(pristine, scale=scale, seed=7)
        for repeat in range(repeats):
            for kernel in ("policy", "llm"):
                directory = Path(tmp) / f"{kernel}{repeat}"
                directory.mkdir()
                shutil.copy(pristine, directory / "warehouse.duckdb")
                took, calls = _plan(directory / "warehouse.duckdb", kernel, model.url)
                seconds[kernel].append(took)
                if kernel == "llm" and not counted:
                    counted = _tokens(calls)
        requests = len(model.requests)
    ratios = [llm / policy for llm, policy in zip(seconds["llm"], seconds["policy"], strict=True)]
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": main_versions(),
        "scale": scale,
        "repeats": repeats,
        "model_requests": requests,
        "plan_seconds": {k: _spread(v) for k, v in seconds.items()},
        "plan_seconds_ratio_llm_to_policy": _spread(ratios),
        "calls": counted,
        "cost_per_plan": _cost(counted),
    }


def render(document: dict[str, Any]) -> str:
    m = document["machine"]
    s, r = document["plan_seconds"], document["plan_seconds_ratio_llm_to_policy"]
    lines = [
        "## The model kernel: what it costs on the example goal",
        "",
        f"Run {document['date']} on {m['cpu_model']}, {m['cores']} cores; the example warehouse"
        f" at scale `{document['scale']}`, {document['repeats']} repeats; `make bench-llm`"
        " (bench/llm_kernel.py). The model kernel (hybrid mode) planned the example goal"
        " against an OpenAI-compatible server on 127.0.0.1 answering as the policy decided,"
        " through litellm over HTTP; the peer is the policy kernel planning the same goal on"
        " another copy of the same warehouse in the same run.",
        "",
        f"Planning: policy kernel {s['policy']['median']:.1f} s (min {s['policy']['min']:.1f},"
        f" max {s['policy']['max']:.1f}); model kernel {s['llm']['median']:.1f} s"
        f" (min {s['llm']['min']:.1f}, max {s['llm']['max']:.1f}); ratio model/policy"
        f" {r['median']:.2f} (min {r['min']:.2f}, max {r['max']:.2f}). The loopback model"
        " answers at once, so this is the kernel's own overhead (prompts, litellm, HTTP); a"
        " hosted model adds its latency per call.",
        "",
        "| decision | prompt characters | prompt tokens (gpt-4o-mini / claude-sonnet-4-5) |",
        "| --- | --: | --: |",
    ]
    for call in document["calls"]:
        tokens = call["prompt_tokens"]
        lines.append(
            f"| {call['decision']} | {call['prompt_chars']:,} |"
            f" {tokens['gpt-4o-mini']:,} / {tokens['claude-sonnet-4-5']:,} |"
        )
    lines += [
        "",
        "One plan of the example goal (the three planning calls), priced with litellm's"
        " local cost map; completion tokens are the echo's answers:",
        "",
        "| model | $ per M input / output | prompt tokens | completion tokens | $ per plan |",
        "| --- | --: | --: | --: | --: |",
    ]
    for model, cost in document["cost_per_plan"].items():
        lines.append(
            f"| {model} | {cost['usd_per_million_input']:.2f} /"
            f" {cost['usd_per_million_output']:.2f} | {cost['prompt_tokens']:,} |"
            f" {cost['completion_tokens']:,} | {cost['usd']:.4f} |"
        )
    lines += [
        "",
        "A healing incident adds two calls (diagnose, propose a repair) and, where the repair"
        " plans again, the three planning calls; these are not in the figures above.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DAGSTER_AGENTIC_MODEL_HOSTS", "127.0.0.1")
    document = run(args.repeats, args.scale)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(render(document))
    if not args.no_docs:
        write_section(START, END, render(document))


if __name__ == "__main__":
    main()
