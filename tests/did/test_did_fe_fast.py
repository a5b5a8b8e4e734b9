"""The exact two-way projection (did/_fe.py) and the TWFE fit on it, against independent
routes: least squares on the full dummy matrix (numpy lstsq) and linearmodels ``PanelOLS``
(the fit's previous implementation, kept as the oracle) on balanced, unbalanced and
weighted panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did._fe import TwoWayFE
from botrygt_eval.did.small_sample import cr2_fit, cr2_test
from botrygt_eval.did.twfe import event_study, event_time_dummies, fit_panel_ols, twfe
from botrygt_eval.errors import EstimationError
from tests.did.did_panel_helpers import staggered_panel

TOL = 1e-10


def _layout(n_units, n_periods, n_drop, weighted, seed):
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    keep = np.ones(len(u), bool)
    keep[rng.choice(len(u), n_drop, replace=False)] = False
    u, t = u[keep], t[keep]
    w = rng.uniform(0.2, 3.0, len(u)) if weighted else None
    return u, t, w, rng


@pytest.mark.parametrize(
    ("n_units", "n_periods", "n_drop", "weighted"),
    [(30, 8, 0, False), (30, 8, 40, True), (6, 25, 12, True), (40, 40, 0, True)],
)
def test_projection_and_basis_equal_the_dummy_least_squares(n_units, n_periods, n_drop, weighted):
    u, t, w, rng = _layout(n_units, n_periods, n_drop, weighted, seed=n_units + n_drop)
    n = len(u)
    ww = np.ones(n) if w is None else w
    sw = np.sqrt(ww)
    z = rng.normal(size=(n, 3))
    d = np.hstack([np.eye(n_units)[u], np.eye(n_periods)[t]])
    coef = np.linalg.lstsq(d * sw[:, None], z * sw[:, None], rcond=None)[0]
    ref = z - d @ coef
    fe = TwoWayFE(u, t, w)
    np.testing.assert_allclose(fe.residualize(z), ref, atol=TOL)
    al, ga = fe.effects(z)
    np.testing.assert_allclose(al[u] + ga[t], d @ coef, atol=TOL)
    # the basis is orthonormal and spans the weighted dummies (same projection)
    local, q_local, q_b = fe.basis()
    q_l = np.zeros((n, local.max() + 1))
    q_l[np.arange(n), local] = q_local
    q = np.hstack([q_l, q_b])
    assert fe.rank == np.linalg.matrix_rank(d) == q.shape[1]
    np.testing.assert_allclose(q.T @ q, np.eye(q.shape[1]), atol=1e-12)
    np.testing.assert_allclose(q @ (q.T @ (z * sw[:, None])), (z - ref) * sw[:, None], atol=TOL)


def _panel_ols(df, outcome, regressors, clusters, weights=None):
    from linearmodels.panel import PanelOLS

    p = df.set_index(["unit", "time"])
    res = PanelOLS(p[outcome], p[regressors], entity_effects=True, time_effects=True,
                   weights=None if weights is None else p[weights]).fit(
        cov_type="clustered", clusters=pd.DataFrame({"c": clusters}, index=p.index),
        group_debias=True, debiased=True, auto_df=False, count_effects=False)  # fmt: skip
    return res


def _panels():
    base = staggered_panel(n_units=60, n_periods=12, cohorts=(0, 5, 8, 10), effect=0.6, seed=7)
    base["w"] = 1 + (base["unit"] % 6) / 3
    rng = np.random.default_rng(11)
    unbalanced = base.drop(index=rng.choice(len(base), 70, replace=False)).reset_index(drop=True)
    shuffled = unbalanced.sample(frac=1.0, random_state=3).reset_index(drop=True)
    return {"balanced": base, "unbalanced": unbalanced, "shuffled": shuffled}


PANELS = _panels()


@pytest.mark.parametrize("name", list(PANELS))
@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("cluster", ["unit", "cluster"])
def test_twfe_fit_equals_panel_ols(name, weights, cluster):
    df = PANELS[name]
    codes = pd.factorize(df[cluster])[0]
    kw = dict(unit="unit", time="time", outcome="y", clusters=codes, weights=weights)
    params, cov, fit = fit_panel_ols(df, regressors=["treat"], **kw)
    ref = _panel_ols(df, "y", ["treat"], codes, weights)
    np.testing.assert_allclose(params.to_numpy(), ref.params.to_numpy(), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(cov.to_numpy(), ref.cov.to_numpy(), rtol=TOL, atol=TOL**2)
    resid = fit.resids.reindex(ref.resids.index).to_numpy()
    np.testing.assert_allclose(resid, ref.resids.to_numpy(), atol=TOL)


@pytest.mark.parametrize("name", list(PANELS))
@pytest.mark.parametrize("weights", [None, "w"])
def test_event_study_fit_equals_panel_ols(name, weights):
    df = PANELS[name].sort_values(["unit", "time"]).reset_index(drop=True)
    dummies, keep, _ = event_time_dummies(
        df, unit="unit", time="time", cohort="cohort", leads=3, lags=2, reference=-1,
        bin_endpoints=True,
    )  # fmt: skip
    df = pd.concat([df, dummies], axis=1)[keep].reset_index(drop=True)
    names = list(dummies.columns)
    codes = pd.factorize(df["unit"])[0]
    params, cov, fit = fit_panel_ols(df, unit="unit", time="time", outcome="y",
                                     regressors=names, clusters=codes, weights=weights)  # fmt: skip
    ref = _panel_ols(df, "y", names, codes, weights)
    np.testing.assert_allclose(params.to_numpy(), ref.params[names].to_numpy(), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(cov.to_numpy(), ref.cov.loc[names, names].to_numpy(), rtol=TOL,
                               atol=TOL**2)  # fmt: skip
    # the public entry point reports the same numbers
    es = event_study(PANELS[name], unit="unit", time="time", cohort="cohort", outcome="y",
                     leads=3, lags=2, weights=weights, se="cr1")  # fmt: skip
    t = es.table.set_index("event_time").drop(index=-1)
    np.testing.assert_allclose(t["estimate"].to_numpy(), ref.params[names].to_numpy(), rtol=TOL)
    np.testing.assert_allclose(t["se"].to_numpy(), ref.std_errors[names].to_numpy(), rtol=TOL)


def test_twfe_result_equals_panel_ols():
    df = PANELS["unbalanced"]
    r = twfe(df, unit="unit", time="time", treat="treat", outcome="y", weights="w",
             cluster="cluster")  # fmt: skip
    ref = _panel_ols(df.sort_values(["unit", "time"]), "y", ["treat"],
                     pd.factorize(df.sort_values(["unit", "time"])["cluster"], sort=True)[0],
                     "w")  # fmt: skip
    assert r.estimate == pytest.approx(float(ref.params["treat"]), rel=TOL)
    assert r.se == pytest.approx(float(ref.std_errors["treat"]), rel=TOL)


@pytest.mark.filterwarnings("ignore::linearmodels.shared.exceptions.MissingValueWarning")
def test_missing_values_are_left_out_as_panel_ols_does():
    df = PANELS["balanced"].copy()
    df.loc[[3, 50, 51], "y"] = np.nan
    codes = pd.factorize(df["unit"])[0]
    params, cov, fit = fit_panel_ols(df, unit="unit", time="time", outcome="y",
                                     regressors=["treat"], clusters=codes)  # fmt: skip
    ref = _panel_ols(df, "y", ["treat"], codes)
    assert len(fit.resids) == len(df) - 3
    np.testing.assert_allclose(params.to_numpy(), ref.params.to_numpy(), rtol=TOL)
    np.testing.assert_allclose(cov.to_numpy(), ref.cov.to_numpy(), rtol=TOL)


def test_absorbed_and_collinear_regressors_are_refused():
    df = PANELS["balanced"].assign(
        unit_level=lambda d: d["unit"] % 3,  # constant within units: absorbed
        treat2=lambda d: 2 * d["treat"],  # collinear with treat
    )
    codes = pd.factorize(df["unit"])[0]
    kw = dict(unit="unit", time="time", outcome="y", clusters=codes)
    with pytest.raises(EstimationError, match="unit_level absorbed"):
        fit_panel_ols(df, regressors=["treat", "unit_level"], **kw)
    with pytest.raises(EstimationError, match="treat2 absorbed"):
        fit_panel_ols(df, regressors=["treat", "treat2"], **kw)
    with pytest.raises(EstimationError, match="two clusters"):
        fit_panel_ols(df, unit="unit", time="time", outcome="y", regressors=["treat"],
                      clusters=np.zeros(len(df), int))  # fmt: skip


# --------------------------------------------------------------------------- CR2 leverage
def _cr2_case(seed, n_units, n_periods, n_drop, weighted):
    rng = np.random.default_rng(seed)
    unit, period, w, rng = _layout(n_units, n_periods, n_drop, weighted, seed)
    d = ((unit % 3 == 0) & (period >= n_periods // 2)).astype(float)
    x = rng.normal(size=len(unit))
    y = (
        rng.normal(size=n_units)[unit]
        + 0.1 * period
        - 0.2 * d
        + 0.3 * x
        + rng.normal(size=len(unit))
    )
    dummies = np.hstack([np.eye(n_units)[unit], np.eye(n_periods)[period][:, 1:]])
    return unit, period, np.column_stack([d, x]), y, w, dummies, rng


def _clusters(kind, unit, period, rng):
    return {
        "unit": unit,
        "units nested": unit // 3,  # several units per cluster
        "period": period,  # crosses the units: no fixed effect nested in a cluster
        "crossing": rng.integers(0, 9, len(unit)),
    }[kind]


@pytest.mark.parametrize("kind", ["unit", "units nested", "period", "crossing"])
@pytest.mark.parametrize("working", ["identity", "inverse_var", "target"])
@pytest.mark.parametrize("shape", [(14, 6, 9, True), (5, 16, 7, True), (10, 7, 0, False)])
def test_structured_cr2_equals_the_full_dummy_design(kind, working, shape):
    """CR2 SEs and Bell-McCaffrey df with the unit and period effects passed as codes (the
    structured basis of did/_fe.py) equal the regressor block of the computation with every
    dummy as a column (SVD basis of the dense design), for clusters that nest the units,
    that cross them and that nest nothing; unbalanced, weighted, more periods than units;
    with a working-variance target."""
    unit, period, X, y, w, dummies, rng = _cr2_case(3, *shape)
    cl = _clusters(kind, unit, period, rng)
    Xf = np.hstack([X, dummies])
    ww = np.ones(len(y)) if w is None else w
    e = y - Xf @ np.linalg.lstsq(Xf * np.sqrt(ww)[:, None], y * np.sqrt(ww), rcond=None)[0]
    kw = dict(weights=w)
    if working == "target":
        kw["target"] = rng.uniform(0.3, 3.0, len(y))
    else:
        kw["cr2_working"] = working
    C = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -2.0]])
    Cf = np.hstack([C, np.zeros((3, dummies.shape[1]))])
    se_full, df_full = cr2_test(Xf, e, cl, Cf, **kw)
    for fe in ([unit, period], [period, unit]):
        se, df = cr2_test(X, e, cl, C, fixed_effects=fe, **kw)
        np.testing.assert_allclose(se, se_full, rtol=1e-9)
        np.testing.assert_allclose(df, df_full, rtol=1e-9)
    v3 = cr2_fit(X, e, cl, fixed_effects=[unit, period], jackknife=True, **kw).vcov
    np.testing.assert_allclose(v3, cr2_fit(Xf, e, cl, jackknife=True, **kw).vcov[:2, :2],
                               rtol=1e-9)  # fmt: skip


def test_structured_cr2_equals_the_naive_n_by_n_computation():
    """Against explicit n x n matrices (Pustejovsky & Tipton with a target); 1e-8 as in
    test_did_small_sample: the naive route takes sqrtm of singular blocks (units nested in
    the clusters), which is good to about 1e-8."""
    from tests.did.test_did_small_sample import _naive_cr2

    unit, period, X, y, w, dummies, rng = _cr2_case(5, 12, 6, 5, True)
    cl = unit // 2
    Xf = np.hstack([X, dummies])
    e = y - Xf @ np.linalg.lstsq(Xf * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
    phi = rng.uniform(0.3, 3.0, len(y))
    se, df = cr2_test(X, e, cl, np.eye(2), weights=w, fixed_effects=[unit, period], target=phi)
    for j in range(2):
        c = np.eye(Xf.shape[1])[j]
        v_ref, df_ref = _naive_cr2(Xf, e, cl, c, w, phi)
        assert se[j] ** 2 == pytest.approx(v_ref[j, j], rel=1e-8)
        assert df[j] == pytest.approx(df_ref, rel=1e-8)


def test_the_fits_projection_is_reused_only_with_the_same_weights():
    unit, period, X, y, w, dummies, rng = _cr2_case(8, 10, 6, 4, True)
    e = rng.normal(size=len(y))
    fe = TwoWayFE(unit, period)  # unweighted projection, passed with weights w
    got = cr2_fit(X, e, unit, weights=w, fixed_effects=fe)
    want = cr2_fit(X, e, unit, weights=w, fixed_effects=[unit, period])
    np.testing.assert_allclose(got.vcov, want.vcov, rtol=1e-12)
    np.testing.assert_allclose(got.df(np.eye(2)), want.df(np.eye(2)), rtol=1e-12)


def test_balanced_unit_clusters_take_the_projector_route_with_the_same_numbers(monkeypatch):
    """A balanced, unweighted panel clustered by unit takes the route without m x m
    eigendecompositions (small_sample._projector_power); forcing the eigendecomposition
    route gives the same CR2 SEs and df and the same CR3 covariance."""
    from botrygt_eval.did import small_sample

    df = staggered_panel(n_units=40, n_periods=9, cohorts=(0, 4, 6), effect=0.5, seed=12)
    kw = dict(unit="unit", time="time", cohort="cohort", outcome="y", leads=3, lags=3)
    taken = []
    real = small_sample._projector_power

    def spy(*args):
        out = real(*args)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(small_sample, "_projector_power", spy)
    fast = event_study(df, **kw)
    fast3 = twfe(df, unit="unit", time="time", treat="treat", outcome="y", se="jackknife")
    assert taken == [True, True]
    monkeypatch.setattr(small_sample, "_projector_power", lambda *a: None)
    slow = event_study(df, **kw)
    slow3 = twfe(df, unit="unit", time="time", treat="treat", outcome="y", se="jackknife")
    np.testing.assert_allclose(fast.table["se"], slow.table["se"], rtol=1e-12)
    np.testing.assert_allclose(fast.table["df"], slow.table["df"], rtol=1e-12)
    assert fast3.se == pytest.approx(slow3.se, rel=1e-12)


def test_disconnected_panel_projection_and_rank():
    """Units 0-4 observed in periods 0-3 only, units 5-9 in periods 4-7 only: the dummies
    lose one more rank, and the projection still equals the dummy least squares."""
    u = np.repeat(np.arange(10), 4)
    t = np.where(u < 5, 0, 4) + np.tile(np.arange(4), 10)
    rng = np.random.default_rng(4)
    w = rng.uniform(0.5, 2.0, len(u))
    z = rng.normal(size=(len(u), 2))
    d = np.hstack([np.eye(10)[u], np.eye(8)[t]])
    sw = np.sqrt(w)[:, None]
    ref = z - d @ np.linalg.lstsq(d * sw, z * sw, rcond=None)[0]
    fe = TwoWayFE(u, t, w)
    assert fe.rank == np.linalg.matrix_rank(d) == 16
    np.testing.assert_allclose(fe.residualize(z), ref, atol=TOL)


def test_reweighted_projection_equals_a_fresh_one():
    u, t, w, rng = _layout(12, 7, 9, True, seed=21)
    z = rng.normal(size=(len(u), 2))
    fe = TwoWayFE(u, t).reweighted(w)
    np.testing.assert_allclose(fe.residualize(z), TwoWayFE(u, t, w).residualize(z), atol=1e-13)
