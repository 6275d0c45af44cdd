"""Per-stage wall time, rows and peak memory of one Dagster run, from its event log.

A stage is an asset group of the graph (reference, ingest, staging, core, marts, serve) or
the Great Expectations asset checks; its time is the sum of its steps' times, and the time
outside every step is Dagster's own (run start, planning, event writes between steps).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

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
    rows_by_asset: dict[str, int]  # the rows of `rows`, by asset


def stage_of_node(definitions: dg.Definitions) -> dict[str, str]:
    """Op name -> stage: the asset group of an asset's op, CHECKS_STAGE for a check's op; and
    asset key -> its group, for a step that writes assets of several groups (the SQL models)
    and reports each one's seconds."""
    stages = {check.node_def.name: CHECKS_STAGE for check in definitions.asset_checks or []}
    for asset in definitions.assets or []:
        if isinstance(asset, dg.AssetsDefinition) and asset.is_executable:
            groups = asset.group_names_by_key
            stages[asset.node_def.name] = next(iter(groups.values()))
            stages.update({key.to_user_string(): group for key, group in groups.items()})
    return stages


def _step_rows(entry: dg.EventLogEntry) -> int | None:
    """Rows a materialization reports, if it reports any."""
    materialization = entry.asset_materialization
    metadata = materialization.metadata if materialization else {}
    for key in ROW_KEYS:
        if key in metadata:
            return int(metadata[key].value)
    return None


def _timed_part(entry: dg.EventLogEntry, stages: dict[str, str]) -> tuple[str, str, float] | None:
    """(stage, name, seconds) of an asset or check a step reports the seconds of."""
    event = entry.dagster_event
    if entry.asset_materialization is not None:
        metadata, name = entry.asset_materialization.metadata, \
            entry.asset_materialization.asset_key.to_user_string()
        stage = stages.get(name, name)
    elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = event.event_specific_data
        metadata, name, stage = evaluation.metadata, evaluation.check_name, CHECKS_STAGE
    else:
        return None
    return (stage, name, float(metadata["seconds"].value)) if "seconds" in metadata else None


def run_stages(instance: dg.DagsterInstance, run_id: str, stages: dict[str, str],
               peak: Callable[[float, float], int], run_start: float, run_end: float
               ) -> list[Stage]:
    """Stages in the order they first ran, then Dagster's time outside the steps, each with the
    `peak` memory of the time it ran (bytes between two time.time() stamps). A step that
    reports the seconds of each asset or check it wrote gives them to their stages, and keeps
    the rest."""
    spans: dict[str, tuple[float, float]] = {}
    parts: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    # a range run records one materialization per month with the same figures: per stage,
    # one count per asset
    rows: dict[str, dict[dg.AssetKey, int]] = defaultdict(dict)
    started: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event, step = entry.dagster_event, entry.step_key
        if event is None or step is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[step] = entry.timestamp
        elif event.event_type in ENDS and step in started:
            spans[step] = (started.pop(step), entry.timestamp)
        elif (part := _timed_part(entry, stages)) and part not in parts[step]:
            parts[step].append(part)
        if (count := _step_rows(entry)) is not None:
            key = entry.asset_materialization.asset_key
            rows[stages.get(key.to_user_string(), stages.get(step, step))][key] = count
    seconds: dict[str, dict[str, float]] = defaultdict(dict)
    windows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for step, (start, end) in sorted(spans.items(), key=lambda item: item[1][0]):
        for stage, name, part_seconds in parts[step]:
            seconds[stage][name] = part_seconds
            windows[stage].append((start, end))
        own = stages.get(step, step)
        seconds[own][step] = end - start - sum(part[2] for part in parts[step])
        windows[own].append((start, end))
    result = [
        Stage(name, sum(steps.values()),
              sum(rows[name].values()) if name in rows else None,
              max(peak(start, end) for start, end in windows[name]),
              {step: round(value, 2) for step, value in steps.items()},
              {key.to_user_string(): count for key, count in rows.get(name, {}).items()})
        for name, steps in seconds.items()
    ]
    outside = (run_end - run_start) - sum(stage.seconds for stage in result)
    return [*result,
            Stage(DAGSTER_STAGE, outside, None, peak(run_start, run_end), {}, {})]
