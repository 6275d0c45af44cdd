"""Per-stage wall time, rows and peak memory of one Dagster run, from its event log.

A stage is an asset group of the graph (reference, ingest, staging, core, marts, serve) or
the Great Expectations asset checks; its time is the sum of its steps' times, and the time
outside every step is Dagster's own (run start, planning, event writes between steps).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import dagster as dg

from benchmarks.memory import MemorySampler

CHECKS_STAGE = "checks (GE)"
DAGSTER_STAGE = "dagster (outside steps)"
ENDS = (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE)
# metadata keys of a materialization giving the rows its step handled, by preference
ROW_KEYS = ("rows_read", "rows_written")


@dataclass(frozen=True)
class Stage:
    name: str
    seconds: float
    rows: int | None
    peak_bytes: int
    steps: dict[str, float]  # seconds of each step of the stage


def stage_of_node(definitions: dg.Definitions) -> dict[str, str]:
    """Op name -> stage: the asset group of an asset's op, CHECKS_STAGE for a check's op."""
    stages = {check.node_def.name: CHECKS_STAGE for check in definitions.asset_checks or []}
    for asset in definitions.assets or []:
        if isinstance(asset, dg.AssetsDefinition) and asset.is_executable:
            stages[asset.node_def.name] = next(iter(asset.group_names_by_key.values()))
    return stages


def _step_rows(entry: dg.EventLogEntry) -> int | None:
    """Rows a materialization reports, if it reports any."""
    materialization = entry.asset_materialization
    metadata = materialization.metadata if materialization else {}
    for key in ROW_KEYS:
        if key in metadata:
            return int(metadata[key].value)
    return None


def run_stages(instance: dg.DagsterInstance, run_id: str, stages: dict[str, str],
               sampler: MemorySampler, run_start: float, run_end: float) -> list[Stage]:
    """Stages in the order they first ran, then Dagster's time outside the steps."""
    spans: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    # a range run records one materialization per month with the same figures: per stage,
    # one count per asset
    rows: dict[str, dict[dg.AssetKey, int]] = defaultdict(dict)
    started: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event, step = entry.dagster_event, entry.step_key
        if event is None or step is None:
            continue
        stage = stages.get(step, step)
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[step] = entry.timestamp
        elif event.event_type in ENDS and step in started:
            spans[stage][step] = (started.pop(step), entry.timestamp)
        elif (count := _step_rows(entry)) is not None:
            rows[stage][entry.asset_materialization.asset_key] = count
    result = [
        Stage(name, sum(end - start for start, end in steps.values()),
              sum(rows[name].values()) if name in rows else None,
              max(sampler.peak(start, end) for start, end in steps.values()),
              {step: round(end - start, 2) for step, (start, end) in steps.items()})
        for name, steps in sorted(spans.items(),
                                  key=lambda item: min(s for s, _ in item[1].values()))
    ]
    outside = (run_end - run_start) - sum(stage.seconds for stage in result)
    return [*result,
            Stage(DAGSTER_STAGE, outside, None, sampler.peak(run_start, run_end), {})]
