"""The Dagster UI as a newcomer meets it after `make demo`, in headless Chromium, compared
with what Dagster's GraphQL says (issue: runs that show up, names that tell assets apart,
checks that checked something, a report you can open).

One demo (`dvctt demo`, in its own process, on a persistent DAGSTER_HOME set up as the
project's dagster_home/) and one look at the UI serve every test of this module.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from operations import browser
from operations.servers import BIN, REPO, Instance, dagster_home, webserver_and_daemon

DEMO_SCALE = "0.05"  # a few thousand dossiers a month: the figures do not matter here
LOOK = Path(__file__).with_name("ui_look.js")
REPORT_CHECKS = ("report_rows_add_up", "report_totals_match_agency_rows")
NATIONAL_CHART = "Tỷ lệ hồ sơ trực tuyến toàn quốc theo tháng"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(browser.missing_system_packages() is not None,
                       reason=browser.missing_system_packages() or ""),
]

ASSETS = "{ assetNodes { assetKey { path } groupName } }"
RUNS = """{ runsOrError { ... on Runs { results {
    runId jobName status repositoryOrigin { repositoryLocationName } } } } }"""
CHECKS = """query Checks($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks {
    name executionForLatestMaterialization { status evaluation { success
      metadataEntries { label ... on IntMetadataEntry { intValue } } } } } } } } } }"""
REPORT = """{ assetNodeOrError(assetKey: {path: ["monthly_report"]}) { ... on AssetNode {
  assetMaterializations(limit: 1) { partition description
    metadataEntries { label ... on PathMetadataEntry { path } } } } } }"""


@dataclass(frozen=True)
class Demo:
    instance: Instance
    output: str  # what `dvctt demo` printed
    reports: Path
    seen: dict  # what ui_look.js saw


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("newcomer")
    home = dagster_home(root)
    env = {"DVCTT_LANDING_DIR": str(root / "data" / "landing"),
           "DVCTT_WAREHOUSE": str(root / "data" / "warehouse.duckdb")}
    serving = root / "data" / "serving" / "dvctt.duckdb"
    demo_env = {**os.environ, **env, "DAGSTER_HOME": str(home), "DVCTT_SERVING": str(serving)}
    demo_env.pop("DVCTT_REPORTS_DIR", None)
    done = subprocess.run([str(BIN / "dvctt"), "demo", "--scale", DEMO_SCALE], cwd=REPO,
                          env=demo_env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with webserver_and_daemon(home, serving, env, root, daemon=False) as instance:
        groups = sorted({node["groupName"] for node in instance.graphql(ASSETS)["assetNodes"]})
        seen = json.loads(browser.run_driver(LOOK, instance.url, str(root),
                                             env={"UI_GROUPS": json.dumps(groups)}))
        yield Demo(instance, done.stdout, root / "data" / "reports", seen)


def test_the_demo_run_is_on_the_overview_timeline(demo: Demo):
    runs = demo.instance.graphql(RUNS)["runsOrError"]["results"]
    assert len(runs) == 1, runs  # the demo's one run, launched by `dvctt materialize`
    (run,) = runs
    assert run["status"] == "SUCCESS"
    assert run["repositoryOrigin"] == {"repositoryLocationName": "dvctt_pipeline"}
    timeline = demo.seen["timeline"]
    assert "No runs or scheduled ticks" not in timeline["text"]
    assert [row.splitlines()[0] for row in timeline["rows"]] == [run["jobName"]]
    assert f"/runs/{run['runId']}" in timeline["runLinks"]


def test_the_first_page_has_no_newcomer_dialog(demo: Demo):
    assert demo.instance.graphql("{ shouldShowNux }")["shouldShowNux"] is False
    first = demo.seen["firstPage"]
    assert first["dialogs"] == []
    assert "Join the Dagster community" not in first["text"]
    assert "/overview" in first["url"]  # straight on the pipeline's overview


def shortened_as(label: str, names: set[str]) -> set[str]:
    """The asset names a graph box label stands for ("agency_proc…_month" when zoomed out)."""
    if "…" not in label:
        return {label} & names
    head, tail = label.split("…")
    return {name for name in names if name.startswith(head) and name.endswith(tail)}


def test_every_asset_label_is_unique_without_its_prefix(demo: Demo):
    nodes = demo.instance.graphql(ASSETS)["assetNodes"]
    keys = [node["assetKey"]["path"] for node in nodes]
    labels = [key[-1] for key in keys]
    assert len(set(labels)) == len(labels), sorted(labels)

    # the asset list shows every asset, as "schema / name"
    listed = [name.split(" / ") for name in demo.seen["catalog"]]
    assert sorted(listed) == sorted(keys)

    # each box of each group's lineage graph names one asset of the graph, and no other
    names = set(labels)
    for group, boxes in demo.seen["graphs"].items():
        assert boxes, f"no asset box drawn in the {group} group's lineage"
        for box in set(boxes):
            assert len(shortened_as(box, names)) == 1, (group, box, shortened_as(box, names))


def check_executions(demo: Demo, key: list[str]) -> dict[str, dict]:
    data = demo.instance.graphql(CHECKS, {"key": {"path": key}})["assetNodeOrError"]
    return {check["name"]: check["executionForLatestMaterialization"]
            for check in data["assetChecksOrError"]["checks"]}


def shown_status(text: str, check: str) -> str:
    """The status the Checks tab lists beside a check: its name (shortened when long), its
    full name, then the status ("Succeeded", "Failed", "Skipped"…)."""
    match = re.search(rf"^{re.escape(check)}\n([A-Z][a-z]+(?: [a-z]+)*)$", text, re.MULTILINE)
    assert match, f"{check} not listed on the Checks tab"
    return match.group(1)


def test_the_report_checks_ran_over_biểu_06_rows_and_show_their_result(demo: Demo):
    assert re.search(r"Monthly reports \(Biểu 06\): [1-9]\d* workbooks, [1-9]\d* rows loaded",
                     demo.output), demo.output
    executions = check_executions(demo, ["raw", "report_rows"])
    assert set(REPORT_CHECKS) <= set(executions)
    text = demo.seen["checks"]["report_rows"]["text"]
    for check in REPORT_CHECKS:
        execution = executions[check]
        counts = {entry["label"]: entry.get("intValue")
                  for entry in execution["evaluation"]["metadataEntries"]}
        checked = [count for label, count in counts.items() if label.endswith("_checked")]
        assert checked and all(count > 0 for count in checked), (check, counts)
        assert execution["status"] == "SUCCEEDED"
        assert shown_status(text, check) == "Succeeded"

    # the staged dossiers' checks show their result too, not "Skipped" per month
    executions = check_executions(demo, ["staging", "dossiers"])
    text = demo.seen["checks"]["dossiers"]["text"]
    assert "Skipped" not in text
    for check, execution in executions.items():
        assert execution["status"] == "SUCCEEDED", (check, execution)
        assert shown_status(text, check) == "Succeeded"


def test_the_monthly_report_opens_from_its_asset_page(demo: Demo):
    node = demo.instance.graphql(REPORT)["assetNodeOrError"]
    (latest,) = node["assetMaterializations"]
    paths = {e["label"]: e.get("path") for e in latest["metadataEntries"]}
    relative = paths["report"]
    assert not Path(relative).is_absolute()
    assert (demo.reports / relative).is_file()  # the path is within the reports folder

    page = demo.seen["report"]
    assert relative in page["text"]
    assert str(demo.reports.parent.parent) not in page["text"]  # no folder of this machine
    charts = [image for image in page["images"] if image["alt"] == NATIONAL_CHART]
    assert charts, [image["alt"] for image in page["images"]]
    (chart,) = charts
    assert chart["naturalWidth"] > 0 and chart["height"] > 100  # drawn, not a broken image
    assert 0 < chart["top"] < page["viewportHeight"]  # in view when the page opens
