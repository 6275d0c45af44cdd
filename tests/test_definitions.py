"""The Dagster definitions load, and the asset graph is the one the BI contract expects."""

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg

from dvctt_pipeline.definitions import defs
from dvctt_pipeline.defs.jobs import REFRESH_JOB_NAME
from dvctt_pipeline.defs.partitions import MONTHLY_PARTITIONS, WAREHOUSE_POOL

EXPECTED_ASSET_KEYS = {
    "core/provinces", "core/districts", "core/communes", "core/province_mapping_2025",
    "core/agencies", "raw/dossier_snapshots", "quarantine/dossier_snapshots_rejected",
    "staging/dossiers", "quarantine/dossiers_rejected", "core/agency_procedure_month",
    "core/reporting_periods", "marts/agency_period_rates", "marts/province_period_rates",
    "marts/national_period_rates", "marts/province_rankings", "marts/data_quality",
    "serving_file", "raw/report_rows", "raw/report_totals", "quarantine/report_rows_rejected",
    "monthly_report",
    # reference files of DESIGN §3.4–3.6 and the report's figures (issue 4)
    "core/service_catalog", "quarantine/service_catalog_rejected", "core/targets",
    "quarantine/targets_rejected", "core/fee_policies", "quarantine/fee_policies_rejected",
    "quarantine/agencies_rejected", "core/agency_provinces",
    "core/agency_report_month", "core/agency_month", "core/catalog_in_force",
    "core/agency_procedure_period", "core/province_level_procedures", "marts/agency_rankings",
    "marts/target_compliance", "marts/target_compliance_summary",
    "marts/report_reconciliation",
    # report rows matched to agencies at each run, and the sheet each report was read from
    "staging/report_rows_matched", "raw/report_files",
    # the effect of fee cuts (issue 14)
    "marts/fee_policy_effect",
    # the latest month and year to date per province, one row each (issue 15)
    "marts/province_latest",
    # the landing folder's exports by month, observed by the landing sensor (issue 12)
    "landing/dossier_exports",
}


def _asset_nodes():
    return defs().resolve_asset_graph().asset_nodes


def test_asset_keys_are_pinned():
    keys = {node.key.to_user_string() for node in _asset_nodes()}
    assert keys == EXPECTED_ASSET_KEYS


def test_every_asset_label_is_unique_without_its_prefix():
    """The lineage graph and the asset lists label an asset by its key's last part."""
    labels = Counter(node.key.path[-1] for node in _asset_nodes())
    assert [label for label, seen in labels.items() if seen > 1] == []


def test_descriptions_hold_no_text_the_ui_takes_for_html():
    """The UI renders descriptions as markdown: `<YYYY-MM>` would vanish as an HTML tag."""
    for node in _asset_nodes():
        assert not re.search(r"<[A-Za-z]", node.description), node.key.to_user_string()


def test_every_asset_is_documented_grouped_and_monthly_only_if_it_holds_months():
    for node in _asset_nodes():
        name = node.key.to_user_string()
        assert node.description, f"{name} has no description"
        assert node.group_name != "default", f"{name} has no group"
        if not node.is_executable:
            # a source Dagster observes (the landing sensor), by the months of its exports
            assert node.partitions_def == MONTHLY_PARTITIONS, name
            continue
        assert node.pools == {WAREHOUSE_POOL}, name
        if node.group_name in ("reference", "ingest"):
            # no monthly data: the reference files and whatever exports have landed
            assert node.partitions_def is None, name
        else:
            assert node.partitions_def == MONTHLY_PARTITIONS, name
            assert node.backfill_policy == dg.BackfillPolicy.single_run(), name


def test_reference_assets_carry_a_code_version():
    for node in _asset_nodes():
        if node.group_name == "reference":
            assert node.code_version, node.key.to_user_string()


def test_a_refresh_run_is_a_few_steps_and_the_sql_models_one_subsettable_step():
    job = defs().resolve_job_def(REFRESH_JOB_NAME)
    steps = list(job.graph.iterate_op_defs())
    assert len(steps) <= 10, [op.name for op in steps]
    sql = defs().resolve_assets_def(dg.AssetKey(["marts", "province_rankings"]))
    assert sql.can_subset
    assert dg.AssetKey(["staging", "dossiers"]) in sql.keys


def test_partitions_start_in_2021_in_vietnam_time_and_include_the_running_month():
    assert MONTHLY_PARTITIONS.get_first_partition_key() == "2021-01-01"
    assert MONTHLY_PARTITIONS.timezone == "Asia/Ho_Chi_Minh"
    assert MONTHLY_PARTITIONS.end_offset == 1


def test_refresh_job_covers_the_whole_graph():
    job = defs().resolve_job_def(REFRESH_JOB_NAME)
    assert job.partitions_def == MONTHLY_PARTITIONS


def test_the_workspace_and_the_dg_project_load():
    """`make ui` (dagster dev -w workspace.yaml) and `dg dev` load the same code location."""
    root = Path(__file__).resolve().parents[1]
    bin_dir = Path(sys.executable).parent
    validated = subprocess.run(
        [bin_dir / "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=root, capture_output=True, text=True, timeout=300)
    assert validated.returncode == 0, validated.stderr
    assert "All code locations passed validation" in validated.stdout + validated.stderr
    listed = subprocess.run([bin_dir / "dg", "list", "defs", "--json"],
                            cwd=root, capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr
    keys = {asset["asset_key"] for asset in json.loads(listed.stdout)["assets"]}
    assert keys == EXPECTED_ASSET_KEYS
