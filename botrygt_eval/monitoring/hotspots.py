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
    of observed >= permuted, ``(1 + #) / (R + 1)``).
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
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(d_edges[-1], output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    dist = np.hypot(x[i] - x[j], y[i] - y[j])
    d_band = _band(dist, d_edges)  # never the 'beyond' band here
    all_time = _time_pair_counts(t, t_edges)
    n_pairs = n * (n - 1) / 2

    def table(tt: np.ndarray) -> np.ndarray:
        """(replicates, n_d, n_t) pair counts for date vectors ``tt`` (replicates x n)."""
        gap = np.abs(tt[:, i] - tt[:, j])
        cell = d_band[None, :] * n_t + _band(gap, t_edges)
        offset = np.arange(len(tt))[:, None] * (n_d * n_t)
        out = np.bincount((cell + offset).ravel(), minlength=len(tt) * n_d * n_t)
        out = out.reshape(len(tt), n_d, n_t).astype(float)
        out[:, -1, :] = all_time[None, :] - out[:, :-1, :].sum(axis=1)
        return out

    observed = table(t[None, :])[0]
    spatial = np.bincount(d_band, minlength=n_d).astype(float)
    spatial[-1] = n_pairs - spatial[:-1].sum()
    expected = spatial[:, None] * all_time[None, :] / n_pairs
    rng = np.random.default_rng(seed)
    exceed = np.zeros((n_d, n_t))
    for start in range(0, n_permutations, chunk):  # chunks of replicates bound the memory
        size = min(chunk, n_permutations - start)
        perm = rng.permuted(np.broadcast_to(t, (size, n)), axis=1)
        exceed += (table(perm) >= observed[None] - 1e-9).sum(axis=0)
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
