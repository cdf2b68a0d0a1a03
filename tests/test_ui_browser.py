"""The Dagster UI as a person sees it, in headless Chromium against a live ``dagster dev``: the
goal's lineage from the raw tables to the goal, the goal's verdict, and the SHAP plot.

The goal is run first into the same ``DAGSTER_HOME``, so the UI shows its run. Screenshots of
each step go to the test's tmp directory; ``UPDATE_SCREENSHOTS=1`` copies them to
``docs/screenshots``.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dagster_agentic.agent.planner import ensure_plan
from dagster_agentic.runner import run_goal

from .conftest import EXAMPLE_OBJECTIVE, make_goal
from .ui_server import browser_page, dagster_dev, dagster_home, require_browser, write_project

pytestmark = pytest.mark.slow
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
WAIT_MS = 90_000
# What the goal asset's status says for each verdict of the evaluation.
VERDICTS = {"met": "met", "not met": "not_met", "inconclusive": "inconclusive"}
# The verdict as a check of the goal asset: its status in the UI for each verdict.
VERDICT_CHECKS = ("verdict", "goal_met")
# Inconclusive fails at warning severity: "Failed", with the warning icon.
CHECK_STATUS = {"met": "Passed", "not_met": "Failed", "inconclusive": "Failed"}


MATERIALISED_JS = """names => names.every(name => {
    const node = Array.from(document.querySelectorAll("svg foreignObject")).find(
        n => n.firstElementChild && n.firstElementChild.innerText.trim().split("\\n")[0] === name);
    const box = node && node.querySelector("[style*='--minimal-bg']");
    const style = box ? box.getAttribute("style") : "";
    return box && !style.includes("--minimal-bg: var(--color-background-light)");
})"""


def _label_matches(text: str, name: str) -> bool:
    """A node's label is its name, or, when the node is narrow, its middle elided with '…'."""
    label = text.strip().splitlines()[0].strip() if text.strip() else ""
    if label == name:
        return True
    if label.count("…") != 1:
        return False
    head, tail = label.split("…")
    return len(head) + len(tail) < len(name) and name.startswith(head) and name.endswith(tail)


def _node_columns(page: Any, names: list[str]) -> dict[str, float]:
    """The horizontal centre of each named node of the lineage graph (left to right is
    upstream to downstream), read from the labels the graph renders."""
    # Every node is an HTML block in an SVG foreignObject; its first line is the label.
    drawn = page.evaluate(
        """() => Array.from(document.querySelectorAll("svg foreignObject")).map(node => {
            const box = node.getBoundingClientRect();
            const html = node.firstElementChild;
            return [html ? html.innerText : "", box.x + box.width / 2];
        })"""
    )
    found: dict[str, float] = {}
    for text, centre in drawn:
        for name in names:
            if name not in found and _label_matches(text, name):
                found[name] = centre
    missing = [name for name in names if name not in found]
    assert not missing, f"the lineage graph has no node for {missing}: {drawn}"
    return found


def _metadata_value(page: Any, key: str) -> str:
    """The value cell of a row of an asset's Metadata table."""
    row = page.locator("tr").filter(has=page.get_by_text(key, exact=True)).first
    row.wait_for(timeout=WAIT_MS)
    return str(row.locator("td").last.inner_text()).strip()


def _shot(page: Any, directory: Path, name: str) -> None:
    # Transitions finished (a dialog fading in), so the picture shows the page at rest.
    page.screenshot(path=str(directory / f"{name}.png"), animations="disabled")


def test_lineage_verdict_and_shap_plot_in_the_dagster_ui(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    require_browser()
    from playwright.sync_api import expect

    goal = make_goal(warehouse_copy)
    project = tmp_path / "project"
    write_project(
        project, {"name": "churn", "objective": EXAMPLE_OBJECTIVE, "warehouse": str(warehouse_copy)}
    )
    home = dagster_home(tmp_path / "dagster_home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        summary = run_goal(goal, instance=instance)
    assert summary.success, summary.why
    verdict = VERDICTS[summary.status]
    plan = ensure_plan(goal).plan
    raw_tables = sorted(table.name for table in plan.raw_tables)
    features = sorted(key.split("/")[-1] for key in summary.assets if key.startswith("features/"))
    assert raw_tables and features, summary.assets
    shots = tmp_path / "screenshots"
    shots.mkdir()

    with (
        dagster_dev(project, home, tmp_path / "dagster_dev.log") as base,
        browser_page(tmp_path) as page,
    ):
        # A first visit to a fresh instance may greet with a newsletter dialog: skip it.
        page.add_locator_handler(
            page.get_by_text("Join the Dagster community"),
            lambda: page.get_by_role("button", name="Skip").click(),
        )

        # 1. The goal's group: raw tables -> features -> training set -> model -> evaluation
        # -> goal, drawn left to right.
        page.goto(f"{base}/locations/definitions.py/asset-groups/churn/lineage")
        graph = page.locator("svg")
        for name in ("training_set", "model", "evaluation", "churn"):
            expect(graph.get_by_text(name, exact=True).first).to_be_visible(timeout=WAIT_MS)
        stages = [raw_tables, features, ["training_set"], ["model"], ["evaluation"], ["churn"]]
        columns = _node_columns(page, [name for stage in stages for name in stage])
        for upstream, downstream in itertools.pairwise(stages):
            right_most = max(columns[name] for name in upstream)
            left_most = min(columns[name] for name in downstream)
            assert right_most < left_most, (upstream, downstream, columns)
        # The run's materialisations reach the graph: each node is no longer drawn as never
        # materialised (the neutral background).
        page.wait_for_function(
            MATERIALISED_JS, arg=["training_set", "model", "evaluation", "churn"], timeout=WAIT_MS
        )
        graph.get_by_text("churn", exact=True).last.hover()  # an action: the dialog is skipped
        _shot(page, shots, "1-lineage")

        # 2. From the graph to the goal asset, as a person would: select it, open it.
        graph.get_by_text("churn", exact=True).last.click()
        page.get_by_role("link", name="View in Asset Catalog").click(timeout=WAIT_MS)
        expect(page).to_have_url(f"{base}/assets/churn", timeout=WAIT_MS)
        expect(page.get_by_text(EXAMPLE_OBJECTIVE).first).to_be_visible(timeout=WAIT_MS)
        assert _metadata_value(page, "status") == summary.status
        assert _metadata_value(page, "verdict") == verdict
        page.locator("tr").filter(
            has=page.get_by_text("verdict", exact=True)
        ).first.scroll_into_view_if_needed()
        _shot(page, shots, "2-goal")

        # 3. The verdict as the goal asset's check: failed unless met.
        page.goto(f"{base}/assets/churn?view=checks")
        expect(page.get_by_text("Checks (").first).to_be_visible(timeout=WAIT_MS)
        checks = [name for name in VERDICT_CHECKS if page.get_by_text(name, exact=True).count()]
        assert checks, f"the goal asset has no verdict check (one of {VERDICT_CHECKS})"
        page.get_by_text(checks[0], exact=True).first.click()
        result = page.get_by_text("Evaluation result").locator("xpath=..")
        expect(result).to_contain_text(CHECK_STATUS[verdict], timeout=WAIT_MS)
        if verdict == "inconclusive":
            expect(result.get_by_role("img", name="warning_outline")).to_be_visible()
        assert _metadata_value(page, "verdict") == verdict
        _shot(page, shots, "3-verdict-check")

        # 4. The evaluation's SHAP summary: an inline image in its Markdown metadata.
        page.goto(f"{base}/assets/churn/evaluation")
        row = page.locator("tr").filter(has=page.get_by_text("shap_summary", exact=True)).first
        row.get_by_text("[Show Markdown]").click(timeout=WAIT_MS)
        image = page.get_by_role("dialog").locator("img").first
        expect(image).to_be_visible(timeout=WAIT_MS)
        page.wait_for_function(
            "image => image.complete && image.naturalWidth > 0",
            arg=image.element_handle(timeout=WAIT_MS),
            timeout=WAIT_MS,
        )
        image.evaluate("image => image.scrollIntoView({block: 'start'})")
        _shot(page, shots, "4-shap-summary")

    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for shot in sorted(shots.glob("*.png")):
            shutil.copy(shot, SCREENSHOTS / shot.name)
