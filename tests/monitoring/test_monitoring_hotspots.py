"""Gi* against hand-computed values, BH against statsmodels, Knox against a hand-counted example."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from botrygt_eval.monitoring.hotspots import (
    bh_adjust,
    gi_star,
    knox_table,
    persistent_hotspots,
    queen_neighbours,
)

LATTICE = [f"1km_{6100 + r}_{700 + c}" for r in range(3) for c in range(3)]  # row-major 3x3


def test_gi_star_on_a_3x3_lattice_by_hand():
    """x = 9 in the centre, 0 elsewhere: n = 9, xbar = 1, S = sqrt(81/9 - 1) = sqrt(8).
    Centre: W = 9, sum = 9 -> z = 0. Corner: W = 4, sum = 9 -> z = 5 / sqrt(8 (36 - 16) / 8)
    = 5 / sqrt(20). Edge: W = 6, sum = 9 -> z = 3 / sqrt(8 (54 - 36) / 8) = 3 / sqrt(18)."""
    x = np.zeros(9)
    x[4] = 9.0
    z = gi_star(x, queen_neighbours(LATTICE))
    corner, edge = 5 / math.sqrt(20), 3 / math.sqrt(18)
    expected = [corner, edge, corner, edge, 0.0, edge, corner, edge, corner]
    np.testing.assert_allclose(z, expected, atol=1e-12)


def test_gi_star_matches_a_dense_weight_matrix():
    rng = np.random.default_rng(5)
    rows, cols = np.divmod(rng.choice(400, 150, replace=False), 20)
    ids = [f"100m_{61000 + r}_{7000 + c}" for r, c in zip(rows, cols, strict=True)]
    x = rng.gamma(2.0, 1.0, (150, 3))
    cheb = np.maximum(abs(rows[:, None] - rows[None, :]), abs(cols[:, None] - cols[None, :]))
    w = (cheb <= 1).astype(float)
    n = 150
    xbar, s = x.mean(0), x.std(0)
    wi = w.sum(1)
    ref = (w @ x - xbar[None, :] * wi[:, None]) / (
        s[None, :] * np.sqrt((n * wi - wi**2) / (n - 1))[:, None]
    )
    np.testing.assert_allclose(gi_star(x, queen_neighbours(ids)), ref, atol=1e-10)


def test_bh_matches_statsmodels():
    p = np.random.default_rng(2).uniform(0, 0.2, (50, 4))
    ref = np.column_stack([multipletests(p[:, j], method="fdr_bh")[1] for j in range(4)])
    np.testing.assert_allclose(bh_adjust(p), ref, atol=1e-12)


def test_persistent_hotspots_count_the_last_periods():
    hot = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [0, 1, 1, 1, 1]], dtype=bool)
    assert persistent_hotspots(hot, k=2, m=3).tolist() == [False, True, True]
    assert persistent_hotspots(hot, k=3, m=3).tolist() == [False, False, True]


# Four burglaries: two pairs 50 m and 60 m apart, the pairs 1 km from each other.
KNOX_X = np.array([0.0, 50.0, 1000.0, 1000.0])
KNOX_Y = np.array([0.0, 0.0, 0.0, 60.0])
KNOX_T = np.array([0, 3, 20, 40])
# pairs (distance, gap): 12 (50, 3) 13 (1000, 20) 14 (1002, 40) 23 (950, 17) 24 (952, 37)
# 34 (60, 20). Bands d <= 100 | > 100 and t <= 7 | > 7:
# observed near/near 1, near/far 1, far/near 0, far/far 4;
# expected = spatial (2 near, 4 far) x time (1 near, 5 far) / 6 pairs:
# 1/3, 5/3, 2/3, 10/3.


def test_knox_counts_and_expectation_by_hand():
    tab = knox_table(KNOX_X, KNOX_Y, KNOX_T, (0, 100), (0, 7), n_permutations=19, seed=1)
    assert tab["distance_band"].tolist() == ["0-100 m", "0-100 m", ">100 m", ">100 m"]
    assert tab["time_band"].tolist() == ["0-7 dage", ">7 dage"] * 2
    assert tab["observed"].tolist() == [1, 1, 0, 4]
    np.testing.assert_allclose(tab["expected"], [1 / 3, 5 / 3, 2 / 3, 10 / 3])
    assert tab["ratio"].iloc[0] == pytest.approx(3.0)


def test_knox_monte_carlo_agrees_with_exact_enumeration():
    """All 4! date permutations: the exact P(near/near count >= 1) is the share of
    permutations in which the 50 m pair or the 60 m pair is at most 7 days apart."""
    hits = []
    for perm in itertools.permutations(KNOX_T):
        t = np.array(perm)
        hits.append(abs(t[0] - t[1]) <= 7 or abs(t[2] - t[3]) <= 7)
    exact = np.mean(hits)  # = 1/3: only the (0, 3) dates are close, and they land on a pair
    tab = knox_table(KNOX_X, KNOX_Y, KNOX_T, (0, 100), (0, 7), n_permutations=3999, seed=7)
    p = tab["p_value"].iloc[0]
    assert exact == pytest.approx(1 / 3)
    assert p == pytest.approx(exact, abs=3 * math.sqrt(exact * (1 - exact) / 4000) + 1e-3)


def test_knox_finds_planted_near_repeats():
    rng = np.random.default_rng(9)
    n = 600
    x, y = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n)
    t = rng.integers(0, 365, n)
    parent = rng.integers(0, n, 150)
    x = np.concatenate([x, x[parent] + rng.normal(0, 40, 150)])
    y = np.concatenate([y, y[parent] + rng.normal(0, 40, 150)])
    t = np.concatenate([t, t[parent] + rng.integers(1, 8, 150)])
    tab = knox_table(x, y, t, n_permutations=99, seed=3)
    first = tab.iloc[0]
    assert first["ratio"] > 3 and first["p_value"] <= 0.01
    far = tab[(tab["distance_band"] == ">800 m") & (tab["time_band"] == "0-7 dage")]
    assert far["ratio"].iloc[0] == pytest.approx(1.0, abs=0.1)


def _knox_by_enumeration(x, y, t, d_edges, t_edges, n_permutations, seed, chunk=16):
    """Every pair of events with explicit band rules (band 0: [0, e1], band k: (e_k, e_k+1],
    last: beyond the last edge), counted for the observed dates and for the same seeded
    date permutations as knox_table draws (``chunk`` at a time)."""

    def band(v, edges):
        out = np.full(v.shape, len(edges) - 1)
        for k in range(len(edges) - 2, -1, -1):
            out[v <= edges[k + 1]] = k
        return out

    n = len(t)
    iu = np.triu_indices(n, 1)
    dist = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])[iu]
    d_band = band(dist, d_edges)

    def counts(dates):
        gap = np.abs(dates[:, None] - dates[None, :])[iu]
        tab = np.zeros((len(d_edges), len(t_edges)))
        np.add.at(tab, (d_band, band(gap, t_edges)), 1)
        return tab

    observed = counts(t)
    rng = np.random.default_rng(seed)
    exceed = np.zeros_like(observed)
    for start in range(0, n_permutations, chunk):
        size = min(chunk, n_permutations - start)
        for row in rng.permuted(np.broadcast_to(t, (size, n)), axis=1):
            exceed += counts(row) >= observed
    return observed, (1 + exceed) / (n_permutations + 1)


def test_knox_lookup_counts_equal_enumerating_every_pair():
    """The band lookup table and per-band counts give the same table as enumerating all
    pairs with the band rules written out, including gaps and distances exactly on an edge
    (same-day events, coincident points) and events beyond the last edges."""
    rng = np.random.default_rng(11)
    n = 160
    x, y = rng.uniform(0, 1500, n), rng.uniform(0, 1500, n)
    t = 19000 + rng.integers(0, 90, n)
    x[1], y[1] = x[0], y[0]  # a coincident pair
    x[3], y[3] = x[2] + 100.0, y[2]  # a pair exactly on the 100 m edge
    t[5], t[6], t[7] = t[4], t[4] + 7, t[4] + 28  # same day, and gaps on the 7 and 28 day edges
    d_edges, t_edges = (0, 100, 200, 400, 800), (0, 7, 14, 21, 28)
    tab = knox_table(x, y, t, d_edges, t_edges, n_permutations=39, seed=5)
    observed, p = _knox_by_enumeration(x, y, t, np.array(d_edges, float),
                                       np.array(t_edges, float), 39, 5)  # fmt: skip
    assert observed[0].sum() > 0 and observed[:, 0].sum() > 0  # the near bands are not empty
    np.testing.assert_array_equal(tab["observed"].to_numpy(), observed.ravel())
    np.testing.assert_array_equal(tab["p_value"].to_numpy(), p.ravel())
