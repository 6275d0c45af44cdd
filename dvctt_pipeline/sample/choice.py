"""Vectorised weighted choice among the items of many groups at once."""

from __future__ import annotations

import numpy as np


class GroupedChoice:
    """Items partitioned into groups ``0..n_groups-1``, each with a weight.

    ``draw(group_ids)`` returns, for every requested group, one item of that group chosen
    with probability proportional to its weight, for millions of requests in one numpy
    call. It places each group's cumulative distribution in [g, g+1) on one axis and
    binary-searches ``g + u``.
    """

    def __init__(self, groups: np.ndarray, items: np.ndarray, weights: np.ndarray,
                 n_groups: int) -> None:
        order = np.argsort(groups, kind="stable")
        self.groups, self.items = groups[order], items[order]
        self.weights = weights = np.asarray(weights, dtype=np.float64)[order]
        counts = np.bincount(self.groups, minlength=n_groups)
        self.end = np.cumsum(counts)
        self.start = self.end - counts
        cumulative = np.cumsum(weights)
        before_group = np.concatenate([[0.0], cumulative])[self.start]
        totals = np.bincount(self.groups, weights=weights, minlength=n_groups)
        within = (cumulative - before_group[self.groups]) / totals[self.groups]
        self.cdf = self.groups + within

    def draw(self, group_ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        position = np.searchsorted(self.cdf, group_ids + rng.random(len(group_ids)),
                                   side="right")
        # g + u can round up to g + 1 in floating point; stay inside the group.
        position = np.clip(position, self.start[group_ids], self.end[group_ids] - 1)
        return self.items[position]
