"""Fast paths of Callaway-Sant'Anna agree with the general ones.

The per-cohort-block bootstrap (draws shared by all aggregations of one result) must
give the numbers the general multiplier bootstrap gives on the aggregate's own
influence function with the same seed: both use the same multipliers, so only float32
rounding (~1e-7) separates them. And a unit's multipliers must not depend on chunking.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botrygt_eval.did import aggregate, att_gt, drdid
from botrygt_eval.did.inference import _rademacher_rows, block_multiplier_draws
from tests.did.did_cs_sim import cs_panel

TYPES = ("simple", "group", "dynamic", "calendar")


def _general(agg, draws, seed):
    """The general path: multiplier bootstrap on the aggregate's dense influence function."""
    from botrygt_eval.did.inference import multiplier_bootstrap

    k_by = agg.inf.shape[1] - 1
    band = np.r_[np.ones(k_by, bool), False] if k_by else None
    return multiplier_bootstrap(agg.inf, draws, seed=seed, alpha=agg.alpha, band=band)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["reg", "dr", "ipw"]),
    covariates=st.sampled_from([None, ["x"]]),
    control=st.sampled_from(["never", "notyet"]),
    weights=st.sampled_from([None, "w"]),
    base_period=st.sampled_from(["varying", "universal"]),
)
def test_block_bootstrap_equals_general_bootstrap(
    seed, method, covariates, control, weights, base_period
):
    df = cs_panel(n_units=300, n_periods=5, cohorts=(0, 3, 4, 5), seed=seed)
    res = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y",
                 covariates=covariates, method=method, control=control, weights=weights,
                 base_period=base_period)  # fmt: skip
    for type_ in TYPES:
        fast = aggregate(res, type_, se="bootstrap", replications=199, seed=seed)
        assert fast.bootstrap is not None
        ref = _general(fast, 199, seed)
        np.testing.assert_allclose(fast.bootstrap.se, ref.se, rtol=1e-5, atol=1e-12)
        if np.isfinite(ref.crit):
            assert fast.bootstrap.crit == pytest.approx(ref.crit, rel=1e-5)


def test_block_draws_are_shared_and_reset_per_seed():
    df = cs_panel(n_units=400, seed=3)
    res = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y")
    a = res.block_draws(99, 1)
    assert res.block_draws(99, 1) is a  # second aggregation reuses them
    b = res.block_draws(99, 2)
    assert b is not a and not np.array_equal(a.draws, b.draws)
    # the weight column of each block is present once per cohort block
    assert (a.cell == -1).sum() == len(np.unique(res.data.cohort))
    # without covariates the never-treated block (every cell touches it) is drawn on the
    # narrower basis of outcome changes; with covariates on its own columns
    assert a.draws.shape[1] < a.lift.shape[1] == len(a.cell)
    cov = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", covariates=["x"])
    c = cov.block_draws(99, 1)
    assert c.draws.shape[1] == c.lift.shape[1]


def test_clustered_and_cross_section_results_use_the_general_path():
    df = cs_panel(n_units=400, seed=4)
    cl = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", cluster="cluster")
    rc = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", panel=False)
    assert cl.block_draws(99, 1) is None and rc.block_draws(99, 1) is None


def test_multipliers_do_not_depend_on_chunking():
    full = np.vstack([u for _, _, u in _rademacher_rows(7, 130, np.array([0, 50]), 10**9)])
    chunked = np.vstack(
        [u for _, _, u in _rademacher_rows(7, 130, np.array([0, 13, 14, 50]), 130 * 4)]
    )
    assert full.shape == (50, 130) and np.array_equal(full, chunked)
    assert set(np.unique(full)) == {0.0, 1.0}
    assert abs(full.mean() - 0.5) < 0.05  # fair bits


def test_block_draws_equal_dense_product():
    """Z_b = V[:, block] @ Q_b / n against V built explicitly from the same bits."""
    rng = np.random.default_rng(0)
    n, draws = 60, 40
    bounds = [0, 25, 26, 60]
    blocks = [
        (a, e, rng.normal(size=(e - a, 3))) for a, e in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    z = block_multiplier_draws(blocks, n, draws, seed=5, max_cells=7 * draws)
    V = 2 * np.vstack([u for _, _, u in _rademacher_rows(5, draws, np.array([0, n]), 10**9)]).T - 1
    for (a, e, q), zb in zip(blocks, z, strict=True):
        np.testing.assert_allclose(zb, V[:, a:e] @ q / n, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="tile"):
        block_multiplier_draws(blocks[1:], n, draws, seed=5)


@pytest.mark.parametrize("method", ["reg", "ipw", "dr"])
def test_panel_estimators_on_several_outcomes_equal_one_at_a_time(method):
    """The 2x2 panel estimators take an (n x m) block of outcome changes: column j must be
    what the estimator gives for outcome j alone (the columns never mix)."""
    rng = np.random.default_rng(11)
    n = 500
    x = rng.normal(size=n)
    D = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.2 + 0.7 * x)))).astype(float)
    X = np.column_stack([np.ones(n), x])
    w = rng.uniform(0.5, 2, n)
    DY = 0.5 + x[:, None] * rng.normal(size=4) + 1.5 * D[:, None] + rng.normal(size=(n, 4))
    att, inf = drdid.PANEL[method](DY, D, X, w)
    assert att.shape == (4,) and inf.shape == (n, 4)
    for j in range(4):
        a1, i1 = drdid.PANEL[method](DY[:, j].copy(), D, X, w)
        assert isinstance(a1, float)
        assert att[j] == pytest.approx(a1, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(inf[:, j], i1, rtol=1e-10, atol=1e-12)


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["reg", "dr", "ipw"]),
    control=st.sampled_from(["never", "notyet"]),
    weights=st.sampled_from([None, "w"]),
    fix_weights=st.sampled_from(["earlier", "base_period", "first_period"]),
)
def test_cells_sharing_a_comparison_are_estimated_as_one_batch_correctly(
    seed, method, control, weights, fix_weights
):
    """att_gt (cells of one cohort and control set in one batch) equals each cell's 2x2
    estimator run on its own units."""
    df = cs_panel(n_units=300, n_periods=5, seed=seed, covariate_trend=0.5)
    df["w"] = df["w"] * (1 + 0.1 * df["time"])  # time-varying weights: fix_weights matters
    res = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", covariates=["x"],
                 method=method, control=control, weights=weights, fix_weights=fix_weights)  # fmt: skip
    wide = df.pivot(index="unit", columns="time", values="y")
    wts = df.pivot(index="unit", columns="time", values="w")
    unit = df.groupby("unit")[["cohort", "x"]].first()
    n = len(unit)
    tl = list(wide.columns)
    for row, col in zip(res.table.itertuples(), range(res.inf.shape[1]), strict=True):
        g, t, b = row.group, row.time, row.base_period
        thr = max(t, b)
        ctrl = (unit["cohort"] == 0) | (
            (control == "notyet") & (unit["cohort"] > thr) & (unit["cohort"] != g)
        )
        keep = ((unit["cohort"] == g) | ctrl).to_numpy()
        early = min(t, b)
        wcol = {"earlier": early, "base_period": g - 1, "first_period": tl[0]}[fix_weights]
        w = np.ones(keep.sum()) if weights is None else wts[wcol].to_numpy()[keep]
        X = np.column_stack([np.ones(keep.sum()), unit["x"].to_numpy()[keep]])
        D = (unit["cohort"].to_numpy()[keep] == g).astype(float)
        dy = (wide[t] - wide[b]).to_numpy()[keep]
        att, inf = drdid.PANEL[method](dy, D, X, w)
        assert row.att == pytest.approx(att, rel=1e-9, abs=1e-12)
        got = np.empty(n)  # IF rows are the units sorted by cohort (stable)
        got[np.argsort(unit["cohort"].to_numpy(), kind="stable")] = (
            res.inf[:, col].toarray().ravel()
        )
        got = got[keep]
        np.testing.assert_allclose(got, inf * n / keep.sum(), rtol=1e-8, atol=1e-12)


def test_block_with_fewer_units_than_periods_keeps_its_columns():
    """A never-treated block with fewer units than periods has no full-rank basis of
    outcome changes (QR's R is not square): the block is drawn on its own columns and the
    bootstrap still equals the general path (the national report's quarterly panel)."""
    cohorts = (0, *range(4, 16))
    probs = (0.06, *[0.94 / 12] * 12)
    df = cs_panel(n_units=150, n_periods=16, cohorts=cohorts, probs=probs, seed=8)
    assert (df.groupby("unit")["cohort"].first() == 0).sum() < 16
    res = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", control="notyet")
    for type_ in TYPES:
        fast = aggregate(res, type_, se="bootstrap", replications=99, seed=1)
        ref = _general(fast, 99, 1)
        np.testing.assert_allclose(fast.bootstrap.se, ref.se, rtol=1e-5, atol=1e-12)
