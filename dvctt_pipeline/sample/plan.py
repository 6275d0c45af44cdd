"""How many dossiers each province × level receives in a month and how many of them online.

The plan is a cheap, deterministic function of (seed, scale, month): the generator draws
individual dossiers afterwards but never changes these counts, so the seed report's
rankings come out exactly, not merely on average. It also fixes, per province × level and
year, how many DVCTT procedures receive online dossiers (the uptake rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np
import pandas as pd

from dvctt_pipeline.months import month_index, months_between
from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.sample import seed_2022
from dvctt_pipeline.sample.catalog import LEVELS, Catalogue

# Approximate population in millions (2021), a proxy for administrative workload.
POPULATION: dict[str, float] = {
    "01": 8.33, "02": 0.88, "04": 0.54, "06": 0.32, "08": 0.80, "10": 0.75, "11": 0.62,
    "12": 0.47, "14": 1.28, "15": 0.84, "17": 0.87, "19": 1.32, "20": 0.79, "22": 1.34,
    "24": 1.87, "25": 1.49, "26": 1.18, "27": 1.46, "30": 1.94, "31": 2.07, "33": 1.28,
    "34": 1.87, "35": 0.87, "36": 1.78, "37": 1.00, "38": 3.70, "40": 3.37, "42": 1.29,
    "44": 0.90, "45": 0.64, "46": 1.15, "48": 1.20, "49": 1.50, "51": 1.24, "52": 1.49,
    "54": 0.87, "56": 1.24, "58": 0.60, "60": 1.24, "62": 0.57, "64": 1.57, "66": 1.89,
    "67": 0.66, "68": 1.32, "70": 1.02, "72": 1.18, "74": 2.60, "75": 3.17, "77": 1.17,
    "79": 9.17, "80": 1.73, "82": 1.78, "83": 1.30, "84": 1.01, "86": 1.03, "87": 1.60,
    "89": 1.91, "91": 1.75, "92": 1.25, "93": 0.73, "94": 1.20, "95": 0.91, "96": 1.19,
}
# Monthly received dossiers at scale 1 in 2022: a floor per province plus a share of the
# rest that grows faster than population, since cities carry more business procedures.
NATIONAL_MONTHLY_DOSSIERS = 37_500
PROVINCE_FLOOR = 330
WORKLOAD_EXPONENT = 1.3
# Tết lowers February; year-end pushes December.
SEASON = {1: 1.03, 2: 0.90, 3: 1.05, 4: 1.00, 5: 1.00, 6: 1.00, 7: 1.00, 8: 0.98, 9: 0.97,
          10: 1.02, 11: 1.03, 12: 1.07}
GROWTH = {2021: 0.92, 2022: 1.00, 2023: 1.04, 2024: 1.07, 2025: 1.10, 2026: 1.12}
LEVEL_SPLIT = {admin_units.LEGACY: {"province": 0.50, "district": 0.35, "commune": 0.15},
               admin_units.GEOGRAPHY_2025: {"province": 0.60, "commune": 0.40}}
# Online shares fall from departments to communes; normalised per geography below.
LEVEL_ONLINE_FACTOR = {admin_units.LEGACY: {"province": 1.15, "district": 0.95, "commune": 0.55},
                       admin_units.GEOGRAPHY_2025: {"province": 1.10, "commune": 0.85}}
REFUSED_SHARE = 0.02
# Logit-scale drift of online shares per month, centred on January–April 2022 so that those
# months together keep the seed figures while each month is above the one before; each
# province rises at its own pace (a factor drawn in this range). Drift of uptake per year;
# province noise per year (none in 2022, the seed year).
SHARE_TREND_PER_MONTH = 0.035
PROVINCE_TREND_FACTOR = (0.4, 1.8)
UPTAKE_TREND_PER_YEAR = 0.35
PROVINCE_YEAR_NOISE = 0.15
MAX_LEVEL_SHARE = 0.95
# Online dossiers a province has in January–April at the smallest scale the seed picture
# is promised for; uptake never asks for more active procedures than a share of them.
SEED_PICTURE_MIN_SCALE = 0.5
UPTAKE_CAPACITY_SHARE = 0.85
HANOI = "01"
FIRST_MONTH, LAST_MONTH = date(2021, 1, 1), date(2026, 12, 1)


def _logit(p: np.ndarray | float) -> np.ndarray | float:
    return np.log(p / (1 - p))


def _expit(x: np.ndarray | float) -> np.ndarray | float:
    return 1 / (1 + np.exp(-x))


def share_drift(month: date) -> float:
    """Logit shift of online shares at the national pace, relative to the middle of
    January–April 2022: negative in its first two months, positive in its last two."""
    first, last = month_index(seed_2022.PERIOD_START), month_index(seed_2022.PERIOD_END)
    return SHARE_TREND_PER_MONTH * (month_index(month) - (first + last) / 2)


def seed_months() -> list[date]:
    return months_between(seed_2022.PERIOD_START, seed_2022.PERIOD_END)


@cache
def _seed_shift() -> float:
    """The logit shift that brings the rising monthly shares of January–April 2022, weighted
    by their seasonal volumes, back onto the report's figure for the four months together."""
    weights = np.array([SEASON[m.month] for m in seed_months()])
    drifts = np.array([share_drift(m) for m in seed_months()])
    target = seed_2022.NATIONAL_ONLINE_SHARE_ALL

    low, high = -1.0, 1.0
    for _ in range(60):  # bisection: the average rises with the shift
        shift = (low + high) / 2
        average = np.average(_expit(_logit(target) + drifts + shift), weights=weights)
        low, high = (shift, high) if average < target else (low, shift)
    return (low + high) / 2


def national_share(month: date) -> float:
    """The nation's online share in a month: rising along the trend, January–April 2022
    together at the report's figure."""
    return float(_expit(_logit(seed_2022.NATIONAL_ONLINE_SHARE_ALL) + share_drift(month)
                        + _seed_shift()))


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total``."""
    if total == 0 or weights.sum() == 0:
        return np.zeros(len(weights), dtype=np.int64)
    raw = total * weights / weights.sum()
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


@dataclass(frozen=True)
class GeographyDesign:
    """Per-province parameters of one geography (index: province_code)."""

    # base_volume, share_ref, uptake_ref, on_time, online_payment, trend (pace of the share)
    provinces: pd.DataFrame
    level_rates: pd.DataFrame  # province_code × level: online share at share_ref
    dvctt: pd.DataFrame  # province_code × level: DVCTT procedures in the catalogue
    year_noise: dict[int, pd.Series]  # year -> logit noise per province


@dataclass(frozen=True)
class Design:
    designs: dict[str, GeographyDesign]


def _base_volumes(codes: list[str]) -> pd.Series:
    population = pd.Series(POPULATION).loc[codes]
    workload = population**WORKLOAD_EXPONENT
    spare = NATIONAL_MONTHLY_DOSSIERS - PROVINCE_FLOOR * len(POPULATION)
    return PROVINCE_FLOOR + spare * workload / (pd.Series(POPULATION) ** WORKLOAD_EXPONENT).sum()


def _catalogue_shares(catalogue: Catalogue, geography: str) -> pd.DataFrame:
    """Per province × level: DVCTT count and the demand shares of DVCTT and level-4 offers."""
    offers = catalogue.offers[geography].merge(
        catalogue.procedures[["proc_id", "popularity"]], on="proc_id")
    offers["dvctt"] = offers["muc_do"] >= 3
    offers["full"] = offers["muc_do"] == 4
    offers["w_dvctt"] = offers["popularity"] * offers["dvctt"]
    offers["w_full"] = offers["popularity"] * offers["full"]
    sums = offers.groupby(["province_code", "admin_level"])[
        ["dvctt", "popularity", "w_dvctt", "w_full"]].sum()
    return pd.DataFrame({
        "dvctt": sums["dvctt"].astype(int),
        "f_dvctt": sums["w_dvctt"] / sums["popularity"],
        "f_full": sums["w_full"] / sums["popularity"],
        "g_full": sums["w_full"] / sums["w_dvctt"],
    })


def _share_for_dvctt_target(target: float, f_dvctt: float) -> float:
    # Online dossiers are all DVCTT; in-person ones hit DVCTT procedures in proportion to
    # their demand share f, so online_share_dvctt = s / (s + f (1 - s)).
    return target * f_dvctt / (1 - target + target * f_dvctt)


def _share_for_full_target(target: float, f_full: float, g_full: float) -> float:
    # A share g of online dossiers and f of in-person ones concern level-4 procedures.
    return target * f_full / (g_full - target * g_full + target * f_full)


def _seed_level_rates(code: str, shares: pd.DataFrame) -> dict[str, float] | None:
    """Explicit per-level online shares of the three provinces with 2022 targets."""
    if code == seed_2022.HOA_BINH_CODE:
        return dict(seed_2022.HOA_BINH_LEVEL_SHARES)
    if code == seed_2022.KHANH_HOA_CODE:
        return {level: _share_for_dvctt_target(target, shares.loc[(code, level), "f_dvctt"])
                for level, target in seed_2022.KHANH_HOA_LEVEL_SHARES_DVCTT.items()}
    if code == seed_2022.THAI_NGUYEN_CODE:
        return {level: _share_for_full_target(seed_2022.THAI_NGUYEN_PLANNED_SHARE_FULL,
                                              shares.loc[(code, level), "f_full"],
                                              shares.loc[(code, level), "g_full"])
                for level in LEVELS[admin_units.LEGACY]}
    return None


def _level_rates(codes: list[str], share_ref: pd.Series, geography: str,
                 explicit: dict[str, dict[str, float]]) -> pd.DataFrame:
    split = pd.Series(LEVEL_SPLIT[geography])
    factor = pd.Series(LEVEL_ONLINE_FACTOR[geography])
    factor = factor / (factor * split).sum()
    rows = {code: explicit.get(code, (share_ref[code] * factor).to_dict()) for code in codes}
    return pd.DataFrame.from_dict(rows, orient="index").clip(upper=MAX_LEVEL_SHARE)


def _weighted_share(level_rates: pd.DataFrame, geography: str) -> pd.Series:
    split = pd.Series(LEVEL_SPLIT[geography])
    return (level_rates[split.index] * split).sum(axis=1)


def _middle_shares(codes: list[str], fixed: pd.Series, volumes: pd.Series,
                   rng: np.random.Generator) -> pd.Series:
    """Random shares for unnamed provinces, shifted so the nation lands on the seed figure."""
    low, high = seed_2022.ONLINE_SHARE_ALL_MIDDLE
    middle = [c for c in codes if c not in fixed.index]
    drawn = rng.uniform(low + 0.01, high - 0.01, len(middle))
    weights = volumes[middle].to_numpy()
    missing = (seed_2022.NATIONAL_ONLINE_SHARE_ALL * volumes.sum()
               - (fixed * volumes[fixed.index]).sum())
    lo_shift, hi_shift = -0.3, 0.3
    for _ in range(60):  # bisection on a common shift; the clipping keeps it monotone
        shift = (lo_shift + hi_shift) / 2
        shares = np.clip(drawn + shift, low + 0.005, high - 0.005)
        lo_shift, hi_shift = ((shift, hi_shift) if (shares * weights).sum() < missing
                              else (lo_shift, shift))
    return pd.concat([fixed, pd.Series(shares, index=middle)]).loc[codes]


def _uptakes(codes: list[str], rng: np.random.Generator) -> pd.Series:
    fixed = pd.Series({**seed_2022.DVCTT_UPTAKE_TOP5, **seed_2022.DVCTT_UPTAKE_BOTTOM5})
    middle = [c for c in codes if c not in fixed.index]
    drawn = pd.Series(rng.uniform(*seed_2022.DVCTT_UPTAKE_MIDDLE, len(middle)), index=middle)
    return pd.concat([fixed, drawn]).loc[codes]


def _legacy_design(catalogue: Catalogue, seed: int) -> GeographyDesign:
    geography = admin_units.LEGACY
    rng = np.random.default_rng([seed, 31])
    codes = admin_units.provinces(geography)["province_code"].tolist()
    base_volume = _base_volumes(codes)
    shares = _catalogue_shares(catalogue, geography)
    explicit = {c: rates for c in codes if (rates := _seed_level_rates(c, shares))}
    fixed = {**seed_2022.ONLINE_SHARE_ALL_TOP5, **seed_2022.ONLINE_SHARE_ALL_BOTTOM5}
    fixed_shares = pd.Series({c: s for c, s in fixed.items() if s is not None})
    explicit_shares = _weighted_share(pd.DataFrame.from_dict(explicit, orient="index"),
                                      geography)
    share_ref = _middle_shares(codes, pd.concat([fixed_shares, explicit_shares]),
                               base_volume, rng)
    return _finish_design(geography, codes, base_volume, share_ref, _uptakes(codes, rng),
                          explicit, shares, rng)


def _design_2025(catalogue: Catalogue, legacy: GeographyDesign, seed: int) -> GeographyDesign:
    """Merged provinces inherit the workload and (population-weighted) rates of their parts."""
    geography = admin_units.GEOGRAPHY_2025
    rng = np.random.default_rng([seed, 37])
    codes = admin_units.provinces(geography)["province_code"].tolist()
    mapping = admin_units.province_mapping_2025().set_index("old_province_code")
    old = legacy.provinces.join(mapping).assign(population=pd.Series(POPULATION))
    grouped = old.groupby("new_province_code")

    def weighted_logit(column: str) -> pd.Series:
        weighted = (_logit(old[column]) * old["population"]).groupby(old["new_province_code"])
        return weighted.sum() / grouped["population"].sum()

    noise = pd.Series(rng.normal(0, 0.1, len(codes)), index=codes)
    share_ref = _expit(weighted_logit("share_ref").loc[codes] + noise)
    uptake_ref = _expit(weighted_logit("uptake_ref").loc[codes] + noise)
    base_volume = grouped["base_volume"].sum().loc[codes]
    shares = _catalogue_shares(catalogue, geography)
    return _finish_design(geography, codes, base_volume, share_ref, uptake_ref, {}, shares, rng)


def _finish_design(geography: str, codes: list[str], base_volume: pd.Series,
                   share_ref: pd.Series, uptake_ref: pd.Series,
                   explicit: dict[str, dict[str, float]], shares: pd.DataFrame,
                   rng: np.random.Generator) -> GeographyDesign:
    level_rates = _level_rates(codes, share_ref, geography, explicit)
    provinces = pd.DataFrame({
        "base_volume": base_volume, "share_ref": _weighted_share(level_rates, geography),
        "uptake_ref": uptake_ref,
        "on_time": rng.uniform(0.86, 0.97, len(codes)),
        "online_payment": rng.uniform(0.35, 0.85, len(codes)),
    }, index=pd.Index(codes, name="province_code"))
    years = range(FIRST_MONTH.year, LAST_MONTH.year + 1)
    year_noise = {
        year: pd.Series(0.0 if year == seed_2022.PERIOD_START.year
                        else rng.normal(0, PROVINCE_YEAR_NOISE, len(codes)), index=codes)
        for year in years
    }
    dvctt = shares["dvctt"].unstack("admin_level").loc[codes, list(LEVELS[geography])]
    # drawn last, so that the other parameters are those of a design without it
    provinces["trend"] = rng.uniform(*PROVINCE_TREND_FACTOR, len(codes))
    return GeographyDesign(provinces, level_rates, dvctt, year_noise)


def build_design(catalogue: Catalogue, seed: int) -> Design:
    legacy = _legacy_design(catalogue, seed)
    return Design({admin_units.LEGACY: legacy,
                         admin_units.GEOGRAPHY_2025: _design_2025(catalogue, legacy, seed)})


def _received(design: GeographyDesign, month: date, scale: float) -> pd.Series:
    factor = scale * SEASON[month.month] * GROWTH[month.year]
    return (design.provinces["base_volume"] * factor).round().astype(np.int64)


def _seed_national_online(design: GeographyDesign, month: date, scale: float) -> int:
    """The nation's online dossiers in a month of January–April 2022: the months so far at
    their national shares, rounded cumulatively, April closing the four months on the
    report's figure."""
    def up_to(last: date) -> int:
        months = [m for m in seed_months() if m <= last]
        received = np.array([_received(design, m, scale).sum() for m in months])
        if last == seed_2022.PERIOD_END:
            return round(seed_2022.NATIONAL_ONLINE_SHARE_ALL * received.sum())
        return round(sum(national_share(m) * r for m, r in zip(months, received, strict=True)))

    earlier = [m for m in seed_months() if m < month]
    return up_to(month) - (up_to(earlier[-1]) if earlier else 0)


def _online_by_province(design: GeographyDesign, month: date, received: pd.Series,
                        scale: float) -> pd.Series:
    drift = share_drift(month) * design.provinces["trend"] + design.year_noise[month.year]
    shares = _expit(_logit(design.provinces["share_ref"]) + drift)
    online = (shares * received).round().astype(np.int64)
    if not seed_2022.PERIOD_START <= month <= seed_2022.PERIOD_END:
        return online
    # In the seed months Hà Nội absorbs the rounding and the provinces' different paces so
    # the nation follows its monthly share and the four months land on the report's figure;
    # elsewhere the national share is whatever the provinces add up to.
    others = online.drop(HANOI).sum()
    hanoi = _seed_national_online(design, month, scale) - others
    online[HANOI] = int(np.clip(hanoi, 0, MAX_LEVEL_SHARE * received[HANOI]))
    return online


def largest_remainder_rows(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise ``largest_remainder``: row i of the result sums to totals[i]."""
    sums = weights.sum(axis=1, keepdims=True)
    raw = np.divide(totals[:, None] * weights, sums, out=np.zeros(weights.shape),
                    where=sums > 0)
    counts = np.floor(raw).astype(np.int64)
    missing = np.where(sums[:, 0] > 0, totals - counts.sum(axis=1), 0)
    order = np.argsort(-(raw - counts), axis=1, kind="stable")
    rank = np.argsort(order, axis=1, kind="stable")
    return counts + (rank < missing[:, None])


class Planner:
    """Month plans of one design at one scale, with the per-year results cached."""

    def __init__(self, design: Design, scale: float) -> None:
        self.design = design
        self.scale = scale
        self._counts: dict[date, pd.DataFrame] = {}
        self._active: dict[tuple[str, int], np.ndarray] = {}

    def counts(self, month: date) -> pd.DataFrame:
        """Per province × level: received (excluding refused), online and refused."""
        if month not in self._counts:
            self._counts[month] = self._compute_counts(month, self.scale)
        return self._counts[month]

    def _compute_counts(self, month: date, scale: float) -> pd.DataFrame:
        geography = admin_units.geography_on(month)
        geo = self.design.designs[geography]
        levels = list(LEVELS[geography])
        split = np.array([LEVEL_SPLIT[geography][level] for level in levels])
        received = _received(geo, month, scale)
        online = _online_by_province(geo, month, received, scale).to_numpy()
        n_level = largest_remainder_rows(received.to_numpy(), np.tile(split, (len(received), 1)))
        weights = n_level * geo.level_rates[levels].to_numpy() * (geo.dvctt[levels].to_numpy() > 0)
        o_level = np.minimum(largest_remainder_rows(online, weights), n_level)
        return pd.DataFrame({
            "province_code": np.repeat(received.index.to_numpy(), len(levels)),
            "admin_level": np.tile(levels, len(received)),
            "received": n_level.ravel(), "online": o_level.ravel(),
            "refused": np.round(REFUSED_SHARE * n_level).astype(np.int64).ravel(),
        })

    def active(self, geography: str, year: int) -> np.ndarray:
        """DVCTT procedures with online dossiers in ``year``, per province × level (rows as
        in ``counts``)."""
        if (geography, year) not in self._active:
            self._active[(geography, year)] = self._compute_active(geography, year)
        return self._active[(geography, year)]

    def _capacity(self, geography: str, year: int) -> np.ndarray:
        # Online dossiers of the year's first four months of this geography at the smallest
        # scale the seed picture is promised for: coverage of the active procedures within
        # that window is then guaranteed.
        months = [date(year, m, 1) for m in range(1, 13)
                  if admin_units.geography_on(date(year, m, 1)) == geography][:4]
        online = sum(self._compute_counts(m, SEED_PICTURE_MIN_SCALE)["online"].to_numpy()
                     for m in months)
        return np.floor(UPTAKE_CAPACITY_SHARE * online).astype(np.int64)

    def _compute_active(self, geography: str, year: int) -> np.ndarray:
        geo = self.design.designs[geography]
        levels = list(LEVELS[geography])
        trend = UPTAKE_TREND_PER_YEAR * (year - seed_2022.PERIOD_START.year)
        uptake = _expit(_logit(geo.provinces["uptake_ref"]) + trend + geo.year_noise[year])
        dvctt = geo.dvctt[levels].to_numpy()
        caps = np.minimum(dvctt, self._capacity(geography, year).reshape(dvctt.shape))
        weights = (geo.level_rates[levels].to_numpy() * (dvctt > 0)
                   * np.array([LEVEL_SPLIT[geography][level] for level in levels]))
        totals = np.round(uptake.to_numpy() * dvctt.sum(axis=1)).astype(np.int64)
        return np.concatenate([_split_capped(t, w, c) for t, w, c in
                               zip(totals, weights, caps, strict=True)])

    def month_plan(self, month: date) -> pd.DataFrame:
        """``counts`` plus the active procedures and the rotation offset of online coverage."""
        geography = admin_units.geography_on(month)
        plan = self.counts(month).copy()
        plan["active"] = self.active(geography, month.year)
        # Earlier months of the same year and geography covered the first procedures of
        # the rotation; this month continues where they stopped, so the year covers all.
        earlier = [date(month.year, m, 1) for m in range(1, month.month)
                   if admin_units.geography_on(date(month.year, m, 1)) == geography]
        plan["offset"] = sum((self.counts(m)["online"].to_numpy() for m in earlier),
                             np.zeros(len(plan), dtype=np.int64))
        plan["geography"] = geography
        return plan


def _split_capped(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Split ``total`` over levels by weight without exceeding each level's cap."""
    open_levels = (caps > 0) & (weights > 0)
    # Every level that gets online dossiers needs at least one procedure to file them under.
    counts = open_levels.astype(np.int64) if total >= open_levels.sum() else np.zeros_like(caps)
    remaining = total - int(counts.sum())
    open_levels &= counts < caps
    while remaining > 0 and open_levels.any():
        counts += largest_remainder(remaining, weights * open_levels)
        overflow = np.clip(counts - caps, 0, None)
        counts -= overflow
        remaining = int(overflow.sum())
        open_levels &= counts < caps
    return counts
