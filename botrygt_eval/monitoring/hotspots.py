"""Hotspots on the square grid (Getis-Ord Gi*) and near-repeat victimisation (Knox test).

Gi* (Ord & Getis 1995), binary weights ``w_ij = 1`` for the cell itself and its eight
queen neighbours among the study cells::

    G*_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n S1_i - W_i^2) / (n - 1)))

with ``W_i = sum_j w_ij``, ``S1_i = sum_j w_ij^2``, ``xbar`` and ``S = sqrt(mean(x^2) - xbar^2)``
over the ``n`` study cells. It is read as a z-score; hot spots are tested one-sided
(``p = 1 - Phi(z)``) and the p-values adjusted per period by Benjamini-Hochberg.

Knox (1964), as in Ratcliffe's Near Repeat Calculator: pairs of burglaries counted by
distance band x time band. Permuting dates over events keeps every pair's distance and
the multiset of all pairwise time gaps, so the expected count has a closed form,
``E = (spatial pairs in d) x (ordered date pairs with gap in t) / (n (n - 1))``; the
p-value comes from Monte Carlo permutations of the dates (seeded, vectorised).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import cKDTree

from botrygt_eval.errors import ConfigError, EstimationError
from botrygt_eval.options import DEFAULT_SEED
from botrygt_eval.reference.grid import parse_cell_ids

_OFFSETS = np.array([(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)])


def queen_neighbours(cell_ids) -> np.ndarray:
    """``(n, 9)`` index of each cell's queen neighbours incl. itself (-1: not a study cell)."""
    corners = parse_cell_ids(cell_ids)
    if corners["size_m"].nunique() > 1:
        raise ConfigError("Gi* needs cells of one size; aggregate to one grid first")
    size = int(corners["size_m"].iloc[0]) if len(corners) else 1
    row = corners["north0"].to_numpy() // size
    col = corners["east0"].to_numpy() // size
    width = int(col.max() - col.min() + 3) if len(col) else 1
    key = (row - row.min() + 1) * width + (col - col.min() + 1) if len(col) else row
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    if (np.diff(sorted_key) == 0).any():
        raise ConfigError("duplicated cell ids: give each cell once")
    wanted = key[:, None] + _OFFSETS[:, 0][None, :] * width + _OFFSETS[:, 1][None, :]
    pos = np.clip(np.searchsorted(sorted_key, wanted), 0, max(len(key) - 1, 0))
    found = sorted_key[pos] == wanted
    return np.where(found, order[pos], -1)


def gi_star(values, neighbours: np.ndarray) -> np.ndarray:
    """Gi* z-scores of ``values`` (n cells x any periods) with binary weights ``neighbours``."""
    x = np.asarray(values, dtype=float)
    one = x.ndim == 1
    x = x.reshape(len(x), -1)
    n = x.shape[0]
    if n < 3:
        raise EstimationError(f"Gi* needs at least 3 cells, got {n}")
    valid = neighbours >= 0
    w_sum = valid.sum(axis=1).astype(float)  # W_i = S1_i for binary weights
    local = np.where(valid[:, :, None], x[np.where(valid, neighbours, 0)], 0.0).sum(axis=1)
    xbar = x.mean(axis=0)
    s = np.sqrt(np.maximum((x**2).mean(axis=0) - xbar**2, 0.0))
    denom = s[None, :] * np.sqrt((n * w_sum - w_sum**2) / (n - 1))[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (local - xbar[None, :] * w_sum[:, None]) / denom
    z = np.where(denom > 0, z, 0.0)
    return z[:, 0] if one else z


def bh_adjust(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) along the first axis."""
    p = np.asarray(p, dtype=float)
    one = p.ndim == 1
    p = p.reshape(len(p), -1)
    m = p.shape[0]
    order = np.argsort(p, axis=0, kind="stable")
    ranked = np.take_along_axis(p, order, axis=0) * m / np.arange(1, m + 1)[:, None]
    ranked = np.minimum.accumulate(ranked[::-1], axis=0)[::-1]
    q = np.empty_like(p)
    np.put_along_axis(q, order, np.minimum(ranked, 1.0), axis=0)
    return q[:, 0] if one else q


def hot_periods(z: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Significant hot cells per period: one-sided Gi* p-values, BH within each period."""
    q = bh_adjust(stats.norm.sf(z))
    return (q < alpha) & (z > 0)


def persistent_hotspots(hot: np.ndarray, k: int = 3, m: int = 4) -> np.ndarray:
    """Cells significant in at least ``k`` of the last ``m`` periods (columns in time order)."""
    if not 1 <= k <= m:
        raise ConfigError(f"need 1 <= k <= m for persistent hotspots, got k={k}, m={m}")
    return hot[:, -m:].sum(axis=1) >= k


def _band(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band index: 0 for [0, e1], i for (e_i, e_i+1], len(edges) - 1 beyond the last edge."""
    return np.clip(np.searchsorted(edges, values, side="left") - 1, 0, len(edges) - 1)


def _labels(edges, unit: str) -> list[str]:
    labels = [f"0-{edges[1]:g} {unit}"]
    labels += [f"{lo + 1:g}-{hi:g} {unit}" for lo, hi in zip(edges[1:-1], edges[2:], strict=True)]
    return [*labels, f">{edges[-1]:g} {unit}"]


def _time_pair_counts(days: np.ndarray, t_edges: np.ndarray) -> np.ndarray:
    """Unordered pairs of events per time band over ALL pairs (invariant under permutation)."""
    d = days - days.min()
    counts = np.bincount(d)
    auto = np.correlate(counts, counts, mode="full")[len(counts) - 1 :].astype(float)
    auto[0] = (counts * (counts - 1)).sum() / 2  # same-day pairs, unordered
    gaps = np.arange(len(auto))
    return np.bincount(_band(gaps, t_edges), weights=auto, minlength=len(t_edges))


class _PairCounter:
    """Counts the close pairs of events per distance band x time band for one date vector.

    The pairs within the largest distance edge are found once and sorted by distance band;
    dates are shifted to start at 0, so every time gap is a whole number of days in
    ``[0, span]`` and its band is read from a lookup table built once (the band of every
    possible gap) instead of a binary search per pair and permutation. Pairs beyond the
    last distance edge are counted by subtraction from the all-pairs time counts.
    """

    def __init__(self, x, y, t, d_edges: np.ndarray, t_edges: np.ndarray):
        self.n_d, self.n_t = len(d_edges), len(t_edges)
        self.t0 = int(t.min())
        span = int(t.max()) - self.t0
        self.dtype = np.int16 if span < np.iinfo(np.int16).max else np.int64
        self.lookup = _band(np.arange(span + 1), t_edges).astype(np.intp)
        tree = cKDTree(np.column_stack([x, y]))
        pairs = tree.query_pairs(d_edges[-1], output_type="ndarray").reshape(-1, 2)
        i, j = pairs[:, 0], pairs[:, 1]
        d_band = _band(np.hypot(x[i] - x[j], y[i] - y[j]), d_edges)  # never the last band
        order = np.lexsort((j, i, d_band))
        self.i, self.j, self.d_band = i[order], j[order], d_band[order]
        self.bounds = np.searchsorted(self.d_band, np.arange(self.n_d + 1))
        self.all_time = _time_pair_counts(t, t_edges)

    def shifted(self, t: np.ndarray) -> np.ndarray:
        """Dates as days since the first date, in the smallest integer type that holds them."""
        return (np.asarray(t) - self.t0).astype(self.dtype)

    def spatial(self, n_pairs: float) -> np.ndarray:
        """All pairs per distance band (the last band: every pair beyond the last edge)."""
        out = np.diff(self.bounds).astype(float)
        out[-1] = n_pairs - out[:-1].sum()
        return out

    def counts(self, days: np.ndarray) -> np.ndarray:
        """``(n_d, n_t)`` pair counts for one (shifted) date vector, as floats."""
        gap = days[self.i] - days[self.j]
        np.abs(gap, out=gap)
        band = self.lookup[gap]
        out = np.empty((self.n_d, self.n_t))
        for b in range(self.n_d - 1):  # a handful of distance bands, each one bincount
            out[b] = np.bincount(band[self.bounds[b] : self.bounds[b + 1]], minlength=self.n_t)
        out[-1] = self.all_time - out[:-1].sum(axis=0)
        return out


def knox_table(
    east,
    north,
    days,
    distance_edges=(0, 100, 200, 400, 800),
    time_edges=(0, 7, 14, 21, 28),
    n_permutations: int = 99,
    seed: int = DEFAULT_SEED,
    chunk: int = 16,
) -> pd.DataFrame:
    """Knox observed/expected table per distance x time band (last bands: beyond the edges).

    ``days``: event dates as whole days (e.g. days since an epoch). Returns one row per
    band pair: ``distance_band, time_band, observed, expected, ratio, p_value`` (p-value
    of observed >= permuted, ``(1 + #) / (R + 1)``). The permutations are drawn ``chunk``
    at a time (the draws, and so the p-values, depend on it) and counted one by one: each
    count is vectorised over the pairs (a replicates x pairs matrix would only add memory
    traffic).
    """
    x = np.asarray(east, dtype=float)
    y = np.asarray(north, dtype=float)
    t = np.asarray(days, dtype=np.int64)
    n = len(t)
    if n < 2:
        raise EstimationError(f"the Knox test needs at least 2 burglaries, got {n}")
    d_edges = np.asarray(distance_edges, dtype=float)
    t_edges = np.asarray(time_edges, dtype=float)
    n_d, n_t = len(d_edges), len(t_edges)
    n_pairs = n * (n - 1) / 2
    pairs = _PairCounter(x, y, t, d_edges, t_edges)
    shifted = pairs.shifted(t)
    observed = pairs.counts(shifted)
    expected = pairs.spatial(n_pairs)[:, None] * pairs.all_time[None, :] / n_pairs
    rng = np.random.default_rng(seed)
    exceed = np.zeros((n_d, n_t))
    for start in range(0, n_permutations, chunk):  # the same draws as one chunk at a time
        size = min(chunk, n_permutations - start)
        for row in rng.permuted(np.broadcast_to(shifted, (size, n)), axis=1):
            exceed += pairs.counts(row) >= observed - 1e-9
    p_value = (1 + exceed) / (n_permutations + 1)
    d_lab, t_lab = _labels(d_edges, "m"), _labels(t_edges, "dage")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
    return pd.DataFrame(
        {
            "distance_band": np.repeat(d_lab, n_t),
            "time_band": np.tile(t_lab, n_d),
            "observed": observed.ravel().astype(np.int64),
            "expected": expected.ravel(),
            "ratio": ratio.ravel(),
            "p_value": p_value.ravel(),
        }
    )
