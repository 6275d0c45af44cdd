"""Individual dossiers and their snapshots for one month, drawn with numpy.

The month plan fixes per province × level how many dossiers are received, how many
online and how many DVCTT procedures get online dossiers; this module decides which
agency, procedure, times, status history, fees and (fake) applicant each dossier has.
Everything is drawn in whole-array operations so that tens of millions of snapshots
stay affordable.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.sample.catalog import LEVELS, Catalogue
from dvctt_pipeline.sample.choice import GroupedChoice
from dvctt_pipeline.sample.plan import Planner

DAY = 86_400
HOUR = 3_600
# Opening hours of a one-stop desk: 07:30–11:30 and 13:30–17:00.
MORNING_OPEN, MORNING_HOURS, AFTERNOON_OPEN = 7.5 * HOUR, 4 * HOUR, 13.5 * HOUR
DESK_HOURS = 7.5 * HOUR
# Weight of Monday..Sunday for filing in person and online.
IN_PERSON_WEEKDAY_WEIGHTS = np.array([1, 1, 1, 1, 1, 0.3, 0.03])
ONLINE_WEEKDAY_WEIGHTS = np.array([1, 1, 1, 1, 1, 0.6, 0.5])
WORKING_TO_CALENDAR_DAYS = 1.4
NEVER_FINISHED_SHARE = 0.03
RESULT_RETURNED_SHARE = 0.8  # final status 10, else 9
INTERMEDIATE_SHARE = 0.25
SUPPLEMENT_SHARE = 0.2  # of intermediate snapshots: status 5 instead of 4
FIRST_STATUS_PROCESSING_SHARE = 0.4  # first snapshot status 4 instead of 2
REFUSED_ONLINE_SHARE = 0.2
POSTAL_SHARE, EMPTY_CHANNEL_SHARE = 0.07, 0.03
HANDLER_CODE_SHARE = 0.8  # records that carry MaDonViXuLy
ALIAS_NAME_SHARE = 0.1  # records naming an agency that has aliases by its first alias
PROVINCIAL_PORTAL_PAYMENT_SHARE = 0.6  # DuocThanhToanTrucTuyen 2 rather than 1
# Share of the in-person dossiers of a fee cut's procedures that go online while it is in
# force (see _in_person_under_fee_cuts).
FEE_CUT_IN_PERSON_SHIFT = 0.5
SECOND_FILE_EVERY = 5  # about one export day in five has a second file
BAD_LINES_PER_MONTH = {"truncated_json": 2, "missing_ma_ho_so": 2, "missing_ngay_tiep_nhan": 2}
BAD_SEQUENCE_START = 9_900  # bad records get sequence numbers real ones do not reach
KENH_JSON = np.array(['""', "1", "2", "3"])  # index 0: the empty channel

SECONDS_EPOCH = np.datetime64("1970-01-01T00:00:00", "s")


@dataclass(frozen=True)
class FeePolicy:
    province_code: str
    proc_ids: tuple[int, ...]
    reduction_pct: int
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class GroupTables:
    """Lookups of one geography by plan group (province × level, in plan row order)."""

    group_province: np.ndarray  # province position of each group
    agencies: GroupedChoice
    offered: GroupedChoice
    dvctt_order: GroupedChoice  # DVCTT offers in each group's fixed activation order
    addresses: GroupedChoice  # grouped by province position


@dataclass(frozen=True)
class Context:
    seed: int
    end_day: date
    planner: Planner
    registry: pd.DataFrame
    catalogue: Catalogue
    addresses: pd.DataFrame
    tables: dict[str, GroupTables]
    propensity: np.ndarray  # per registry row: how readily an agency's dossiers go online
    fee_policies: tuple[FeePolicy, ...]


@dataclass(frozen=True)
class MonthBatch:
    dossiers: pd.DataFrame
    snapshots: pd.DataFrame
    bad_lines: dict[str, int]


def _group_index(province_codes: pd.Series, levels: pd.Series, geography: str) -> np.ndarray:
    codes = admin_units.provinces(geography)["province_code"].tolist()
    level_list = list(LEVELS[geography])
    province_pos = province_codes.map({c: i for i, c in enumerate(codes)}).to_numpy()
    level_pos = levels.map({lv: i for i, lv in enumerate(level_list)}).to_numpy()
    return province_pos * len(level_list) + level_pos


def build_group_tables(registry: pd.DataFrame, catalogue: Catalogue, addresses: pd.DataFrame,
                       geography: str, seed: int) -> GroupTables:
    rng = np.random.default_rng([seed, 43, len(geography)])
    n_provinces = len(admin_units.provinces(geography))
    n_levels = len(LEVELS[geography])
    n_groups = n_provinces * n_levels
    agencies = registry[registry["geography"] == geography]
    agency_groups = _group_index(agencies["province_code"], agencies["admin_level"], geography)
    workload = rng.lognormal(0.0, 0.6, len(agencies))
    # agencies whose figures come from their reports alone are never drawn
    workload[agencies["report_only"].to_numpy()] = 0.0
    offers = catalogue.offers[geography]
    popularity = catalogue.procedures["popularity"].to_numpy()[offers["proc_id"].to_numpy()]
    offer_groups = _group_index(offers["province_code"], offers["admin_level"], geography)
    dvctt = offers["muc_do"].to_numpy() >= 3
    # Popular procedures tend to get online dossiers first: order each group's DVCTT by
    # exponential keys scaled by popularity (weighted sampling without replacement).
    keys = rng.exponential(size=int(dvctt.sum())) / popularity[dvctt]
    dvctt_groups = offer_groups[dvctt]
    order = np.lexsort((keys, dvctt_groups))
    geo_addresses = addresses[addresses["geography"] == geography]
    return GroupTables(
        group_province=np.repeat(np.arange(n_provinces), n_levels),
        agencies=GroupedChoice(agency_groups, agencies.index.to_numpy(), workload, n_groups),
        offered=GroupedChoice(offer_groups, offers["proc_id"].to_numpy(), popularity, n_groups),
        dvctt_order=GroupedChoice(dvctt_groups[order], offers["proc_id"].to_numpy()[dvctt][order],
                                  popularity[dvctt][order], n_groups),
        addresses=GroupedChoice(geo_addresses["province_pos"].to_numpy(),
                                geo_addresses.index.to_numpy(),
                                np.ones(len(geo_addresses)), n_provinces),
    )


def _active_choice(tables: GroupTables, active: np.ndarray) -> GroupedChoice:
    """Weighted choice among the first ``active[g]`` procedures of each group's order."""
    order = tables.dvctt_order
    rank = np.arange(len(order.items)) - order.start[order.groups]
    keep = rank < active[order.groups]
    return GroupedChoice(order.groups[keep], order.items[keep], order.weights[keep],
                         len(order.start))


def _day_seconds(month: date, n: int, online: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Reception time: online any hour of any day, in person during desk hours on workdays."""
    n_days = calendar.monthrange(month.year, month.month)[1]
    weekdays = np.array([(month.weekday() + d) % 7 for d in range(n_days)])
    day_online = rng.choice(n_days, size=n, p=_normalise(ONLINE_WEEKDAY_WEIGHTS[weekdays]))
    day_desk = rng.choice(n_days, size=n, p=_normalise(IN_PERSON_WEEKDAY_WEIGHTS[weekdays]))
    desk = rng.random(n) * DESK_HOURS
    desk_time = np.where(desk < MORNING_HOURS, MORNING_OPEN + desk,
                         AFTERNOON_OPEN + desk - MORNING_HOURS)
    online_time = rng.random(n) * DAY
    day = np.where(online, day_online, day_desk)
    start = (np.datetime64(month, "s") - SECONDS_EPOCH).astype(np.int64)
    return start + day * DAY + np.where(online, online_time, desk_time).astype(np.int64)


def _normalise(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def _procedures(ctx: Context, tables: GroupTables, plan: pd.DataFrame, group: np.ndarray,
                online: np.ndarray, online_rank: np.ndarray, refused_online: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    active = plan["active"].to_numpy()[group]
    offset = plan["offset"].to_numpy()[group]
    proc = tables.offered.draw(group, rng)
    # The first online dossiers of a group cycle through its active procedures, continuing
    # where earlier months of the year stopped, so every active procedure gets one.
    cover = online & (online_rank < active)
    order = tables.dvctt_order
    position = order.start[group[cover]] + (offset[cover] + online_rank[cover]) % active[cover]
    proc[cover] = order.items[position]
    weighted = (online | refused_online) & ~cover & (active > 0)
    proc[weighted] = _active_choice(tables, plan["active"].to_numpy()).draw(group[weighted], rng)
    # Only at scales above the one uptake was planned for can a group without active
    # procedures get online dossiers; they go to its first DVCTT procedure.
    fallback = online & (active == 0)
    proc[fallback] = order.items[order.start[group[fallback]]]
    return proc


def _channels(online: np.ndarray, refused_online: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """Index into KENH_JSON: 2 online, else 1 in person, 3 post or 0 (empty string)."""
    u = rng.random(len(online))
    in_person = np.where(u < EMPTY_CHANNEL_SHARE, 0,
                         np.where(u < EMPTY_CHANNEL_SHARE + POSTAL_SHARE, 3, 1))
    return np.where(online | refused_online, 2, in_person).astype(np.int8)


def _timeline(received: np.ndarray, sla_days: np.ndarray, on_time_prob: np.ndarray,
              rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Due, finish and return times (seconds; -1 where none) of received dossiers."""
    n = len(received)
    due_day = (received + sla_days * WORKING_TO_CALENDAR_DAYS * DAY) // DAY
    due = (due_day * DAY + 17 * HOUR).astype(np.int64)
    on_time = rng.random(n) < on_time_prob
    early = received + rng.uniform(0.15, 0.98, n) * (due - received)
    late = due + rng.uniform(1.0, 6.0, n) * DAY
    finish_day = np.where(on_time, early, late).astype(np.int64) // DAY
    # Processing finishes during office hours, never before the dossier arrived.
    office_time = rng.integers(8 * HOUR, 17 * HOUR, n)
    finish = np.maximum(finish_day * DAY + office_time, received + 10 * 60)
    finished = rng.random(n) >= NEVER_FINISHED_SHARE
    returned = rng.random(n) < RESULT_RETURNED_SHARE
    handed_over = finish + (rng.random(n) * 3 * HOUR).astype(np.int64)
    return {
        "due": due,
        "finish": np.where(finished, finish, -1),
        "returned": np.where(finished & returned, handed_over, -1),
        "final_status": np.where(returned, 10, 9).astype(np.int8),
    }


def _snapshots(d_id: np.ndarray, received: np.ndarray, times: dict[str, np.ndarray],
               refused: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """One row per export of a dossier: reception, maybe in progress, processing finished."""
    n = len(d_id)
    first_status = np.where(refused, 3, np.where(
        rng.random(n) < FIRST_STATUS_PROCESSING_SHARE, 4, 2)).astype(np.int8)
    finish = times["finish"]
    finished = (finish >= 0) & ~refused
    last_event = np.where(finished, finish, received + rng.uniform(1, 10, n) * DAY)
    middle = (~refused & (rng.random(n) < INTERMEDIATE_SHARE)
              & (last_event - received > 2 * DAY))
    middle_time = received + rng.uniform(0.3, 0.7, n) * (last_event - received)
    middle_status = np.where(rng.random(n) < SUPPLEMENT_SHARE, 5, 4).astype(np.int8)
    final_time = np.where(times["returned"] >= 0, times["returned"], finish)
    parts = [
        (d_id, received, first_status, 0),
        (d_id[middle], middle_time[middle].astype(np.int64), middle_status[middle], 1),
        (d_id[finished], final_time[finished], times["final_status"][finished], 2),
    ]
    return pd.DataFrame({
        "d_id": np.concatenate([p[0] for p in parts]),
        "event_s": np.concatenate([p[1] for p in parts]),
        "status": np.concatenate([p[2] for p in parts]),
        "kind": np.concatenate([np.full(len(p[0]), p[3], dtype=np.int8) for p in parts]),
    })


def _payments(ctx: Context, geography: str, province_pos: np.ndarray, proc: np.ndarray,
              online: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    fee = ctx.catalogue.procedures["fee"].to_numpy()[proc]
    pay_prob = ctx.planner.design.designs[geography].provinces["online_payment"].to_numpy()
    paid = online & (fee > 0) & (rng.random(len(proc)) < pay_prob[province_pos])
    portal = np.where(rng.random(len(proc)) < PROVINCIAL_PORTAL_PAYMENT_SHARE, 2, 1)
    return np.where(paid, portal, 0).astype(np.int8)


def _policy_days(policy: FeePolicy, received: np.ndarray) -> np.ndarray:
    """Whether each reception time (seconds) falls on a day the policy is in force."""
    day = received // DAY
    start = (np.datetime64(policy.valid_from, "D") - SECONDS_EPOCH.astype("datetime64[D]"))
    end = (np.datetime64(policy.valid_to, "D") - SECONDS_EPOCH.astype("datetime64[D]")
           if policy.valid_to else np.timedelta64(10**6, "D"))
    return (day >= start.astype(np.int64)) & (day <= end.astype(np.int64))


def _in_person_under_fee_cuts(ctx: Context, tables: GroupTables, group: np.ndarray,
                              proc: np.ndarray, in_person: np.ndarray,
                              province_code: np.ndarray, received: np.ndarray,
                              month: date) -> np.ndarray:
    """While a fee cut is in force, part of those who would have filed a covered procedure
    in person file online instead. The province's online dossiers are planned (rankings,
    uptake), so the cut shows as fewer in-person dossiers of the covered procedures: those
    are drawn again among the group's other procedures. The covered procedures' online
    share rises; the others' falls a little."""
    rng = np.random.default_rng([ctx.seed, 59, month.year, month.month])
    proc = proc.copy()
    offered = tables.offered
    for policy in ctx.fee_policies:
        others = ~np.isin(offered.items, policy.proc_ids)
        choice = GroupedChoice(offered.groups[others], offered.items[others],
                               offered.weights[others], len(offered.start))
        moves = (in_person & np.isin(proc, policy.proc_ids)
                 & (province_code == policy.province_code) & _policy_days(policy, received)
                 & (choice.end > choice.start)[group]
                 & (rng.random(len(proc)) < FEE_CUT_IN_PERSON_SHIFT))
        proc[moves] = choice.draw(group[moves], rng)
    return proc


def _reduced_fees(ctx: Context, province_code: np.ndarray, proc: np.ndarray,
                  online: np.ndarray, received: np.ndarray) -> np.ndarray:
    """Online dossiers of procedures under a fee-reduction policy pay the reduced fee."""
    reduced = np.zeros(len(proc), dtype=bool)
    for policy in ctx.fee_policies:
        reduced |= (online & (province_code == policy.province_code)
                    & np.isin(proc, policy.proc_ids) & _policy_days(policy, received))
    return reduced


def _applicants(n: int, rng: np.random.Generator, vocabulary_sizes: dict[str, int]
                ) -> dict[str, np.ndarray]:
    """Indexes into the name lists (1-based, as DuckDB lists are) and random digits."""
    born_2000s = rng.random(n) < 0.3
    gender_century = np.where(born_2000s, 2, 0) + rng.integers(0, 2, n)
    year = np.where(born_2000s, rng.integers(0, 6, n), rng.integers(50, 100, n))
    birth_province = rng.choice([int(c) for c in admin_units.provinces("legacy")
                                 ["province_code"]], size=n)
    id_number = (((birth_province * 10 + gender_century) * 100 + year) * 1_000_000
                 + rng.integers(0, 1_000_000, n))
    return {
        "family": rng.integers(1, vocabulary_sizes["family"] + 1, n).astype(np.int16),
        "middle": rng.integers(1, vocabulary_sizes["middle"] + 1, n).astype(np.int16),
        "given": rng.integers(1, vocabulary_sizes["given"] + 1, n).astype(np.int16),
        "id_number": id_number.astype(np.int64),
        "mobile_prefix": rng.integers(1, vocabulary_sizes["mobile"] + 1, n).astype(np.int16),
        "mobile": rng.integers(0, 10_000_000, n).astype(np.int64),
        "email_number": rng.integers(1, 1000, n).astype(np.int16),
        "house": rng.integers(1, 300, n).astype(np.int16),
    }


def export_day_files(day_number: np.ndarray, final: np.ndarray, seed: int) -> np.ndarray:
    """File number (1 or 2) per snapshot: on some days finished dossiers come in a second
    file, named after the first, so the same dossier can appear in both on one day."""
    second_file_day = (day_number * 2_654_435_761 + seed) % 97 % SECOND_FILE_EVERY == 0
    return np.where(second_file_day & final, 2, 1).astype(np.int8)


def generate_month(ctx: Context, month: date, first_id: int,
                   vocabulary_sizes: dict[str, int]) -> MonthBatch:
    rng = np.random.default_rng([ctx.seed, month.year, month.month])
    plan = ctx.planner.month_plan(month)
    geography = plan["geography"].iloc[0]
    tables = ctx.tables[geography]
    received_n, refused_n = plan["received"].to_numpy(), plan["refused"].to_numpy()
    total = received_n + refused_n
    group = np.repeat(np.arange(len(plan)), total)
    n = len(group)
    start = np.cumsum(total) - total
    refused = (np.arange(n) - start[group]) >= received_n[group]
    agency = tables.agencies.draw(group, rng)

    # Online dossiers: exactly the planned number per group, chosen with probability
    # growing with the agency's propensity, so agency shares spread around the group's.
    key = rng.exponential(size=n) / ctx.propensity[agency]
    key[refused] = np.inf
    order = np.lexsort((key, group))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - start[group[order]]
    online = rank < plan["online"].to_numpy()[group]
    refused_online = refused & (rng.random(n) < REFUSED_ONLINE_SHARE)

    proc = _procedures(ctx, tables, plan, group, online, rank, refused_online, rng)
    province_pos = tables.group_province[group]
    province_code = plan["province_code"].to_numpy()[group]
    received_s = _day_seconds(month, n, online | refused_online, rng)
    proc = _in_person_under_fee_cuts(ctx, tables, group, proc, ~(online | refused_online),
                                     province_code, received_s, month)
    on_time = ctx.planner.design.designs[geography].provinces["on_time"].to_numpy()
    times = _timeline(received_s, ctx.catalogue.procedures["sla_days"].to_numpy()[proc],
                      on_time[province_pos], rng)
    d_id = first_id + np.arange(n, dtype=np.int64)
    dossiers = pd.DataFrame({
        "d_id": d_id, "agency_id": agency.astype(np.int32), "proc_id": proc.astype(np.int32),
        "received_s": received_s, "due_s": times["due"], "finish_s": times["finish"],
        "returned_s": times["returned"],
        "kenh": _channels(online, refused_online, rng),
        "has_handler_code": rng.random(n) < HANDLER_CODE_SHARE,
        "uses_alias": rng.random(n) < ALIAS_NAME_SHARE,
        "paid": _payments(ctx, geography, province_pos, proc, online, rng),
        "reduced": _reduced_fees(ctx, province_code, proc, online, received_s),
        "address_id": tables.addresses.draw(province_pos, rng).astype(np.int32),
        **_applicants(n, rng, vocabulary_sizes),
        "bad": pd.Series([None] * n, dtype="object"),
    })
    snapshots = _snapshots(d_id, received_s, times, refused, rng)
    bad_dossiers, bad_snapshots, bad_counts = _bad_records(dossiers, month, first_id + n, rng)
    return MonthBatch(pd.concat([dossiers, bad_dossiers], ignore_index=True),
                      pd.concat([snapshots, bad_snapshots], ignore_index=True), bad_counts)


def _bad_records(dossiers: pd.DataFrame, month: date, first_id: int,
                 rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Fresh records (never a real dossier's snapshot) that break one rule each, so the
    planned figures stay intact whatever the pipeline does with them."""
    reasons = [r for r, count in BAD_LINES_PER_MONTH.items() for _ in range(count)]
    n_days = calendar.monthrange(month.year, month.month)[1]
    picked = dossiers[dossiers["kenh"] == 1].sample(n=len(reasons), random_state=rng).copy()
    day_start = (np.datetime64(month, "s") - SECONDS_EPOCH).astype(np.int64)
    days = rng.choice(n_days, size=len(reasons), replace=False)
    picked["received_s"] = day_start + days * DAY + rng.integers(8 * HOUR, 17 * HOUR,
                                                                  len(reasons))
    picked["d_id"] = first_id + np.arange(len(reasons))
    picked["bad"] = reasons
    picked["finish_s"] = picked["returned_s"] = -1
    snapshots = pd.DataFrame({"d_id": picked["d_id"], "event_s": picked["received_s"],
                              "status": np.int8(2), "kind": np.int8(0)})
    return picked, snapshots, {r: reasons.count(r) for r in BAD_LINES_PER_MONTH}


def month_days(month: date) -> list[date]:
    n_days = calendar.monthrange(month.year, month.month)[1]
    return [month + timedelta(days=d) for d in range(n_days)]
