"""The ARP linear program without vertex enumeration: DualPolytope.max_values (simplex from
the last optimal basis) against HiGHS solved from scratch and against the enumerated
vertices, on random, degenerate and least-favourable-sized problems."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

import botrygt_eval.did.honest._arp as arp
from botrygt_eval.did.honest._arp import DualPolytope


def _lazy(W):
    poly = DualPolytope(W)
    poly.vertices = None  # force the route of long event studies
    return poly


def _highs(W, F):
    """max gamma'f s.t. W'gamma = e1, gamma >= 0, column by column (the dual LP itself)."""
    e1 = np.zeros(W.shape[1])
    e1[0] = 1.0
    out = []
    for f in F.T:
        r = optimize.linprog(-f, A_eq=W.T, b_eq=e1, bounds=(0, None), method="highs")
        assert r.status == 0
        out.append(-r.fun)
    return np.array(out)


def _problem(rng, m, k, n):
    """W = [sd, X] with moments in +/- pairs, as ARP's two-sided restrictions give: the dual
    polytope is then never empty (any pair carries a feasible gamma)."""
    sd = rng.uniform(0.5, 2.0, m)  # the first column (standard deviations) is positive
    X = rng.normal(size=(m // 2, k))
    return np.column_stack([sd, np.vstack([X, -X])]), rng.normal(size=(m, n))


@pytest.mark.parametrize("seed", range(4))
def test_values_equal_highs_from_scratch(seed):
    rng = np.random.default_rng(seed)
    W, F = _problem(rng, 24, 11, 300)  # the national report's size: 24 moments, 11 nuisances
    got = _lazy(W).max_values(F)
    np.testing.assert_allclose(got, _highs(W, F), rtol=1e-7, atol=1e-9)


def test_values_equal_the_enumerated_vertices():
    rng = np.random.default_rng(7)
    W, F = _problem(rng, 10, 3, 500)  # small enough to enumerate every basis
    full = DualPolytope(W)
    assert full.vertices is not None
    np.testing.assert_allclose(_lazy(W).max_values(F), full.max_values(F), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(full.max_values(F), full.maximize(F)[0], rtol=0, atol=0)


def test_degenerate_polytope_and_tied_columns():
    """Repeated moments (equal rows of W) and repeated draws: degenerate pivots must not
    cycle, and every column still gets its optimum."""
    rng = np.random.default_rng(3)
    W, F = _problem(rng, 12, 4, 200)
    W = np.vstack([W, W[:4]])  # four moments twice
    F = np.vstack([F, F[:4]])
    F[:, 50] = 0.0  # a draw at the origin: every vertex is optimal
    F[:, 100:] = F[:, :100]  # every draw twice
    got = _lazy(W).max_values(F)
    np.testing.assert_allclose(got, _highs(W, F), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got[100:], got[:100], rtol=1e-12, atol=1e-14)


def test_few_lps_from_scratch_for_a_thousand_draws(monkeypatch):
    """The point of the simplex: a least-favourable simulation (1,000 draws) solves at most
    a handful of LPs with HiGHS instead of one per uncovered draw."""
    calls = []
    real = optimize.linprog
    monkeypatch.setattr(arp.optimize, "linprog", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(11)
    W, F = _problem(rng, 24, 11, 1000)
    got = _lazy(W).max_values(F)
    assert np.isfinite(got).all()
    assert len(calls) <= 3, len(calls)
    lazy_lp = _lazy(W)
    calls.clear()
    np.testing.assert_allclose(lazy_lp.maximize(F)[0], got, rtol=1e-7, atol=1e-9)
    assert len(calls) > 10  # the route max_values replaces solves many
