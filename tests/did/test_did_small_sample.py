"""CR2 variance and Bell-McCaffrey df against closed forms, statsmodels HC2 and a naive
Imbens-Kolesar computation with explicit n x n matrices; TWFE, event study and PPML
with ``se="cr2"`` against that naive computation on the full dummy design."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import linalg, stats

from botrygt_eval.did.poisson import ppml
from botrygt_eval.did.small_sample import cr2_fit, cr2_test, cr2_vcov
from botrygt_eval.did.twfe import event_study, twfe
from botrygt_eval.errors import ConfigError, EstimationError, InputFileError
from tests.did.did_panel_helpers import count_panel, staggered_panel


def _ols(X, y, w=None):
    w = np.ones(len(y)) if w is None else w
    b = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (w * y))
    return b, y - X @ b


def _naive_cr2(X, e, clusters, c, w=None, phi=None):
    """Imbens & Kolesar (2016) CR2 and K_BM written out with n x n matrices; with a
    working variance ``phi`` Pustejovsky & Tipton's (2018) A_g = D B^(+1/2) D."""
    n = len(e)
    w = np.ones(n) if w is None else w
    Phi = np.eye(n) if phi is None else np.diag(phi)
    Xs, es = X * np.sqrt(w)[:, None], e * np.sqrt(w)
    M = np.linalg.inv(Xs.T @ Xs)
    H = Xs @ M @ Xs.T
    IH = np.eye(n) - H
    meat = np.zeros((X.shape[1],) * 2)
    Gcols = []
    for g in np.unique(clusters):
        i = np.flatnonzero(clusters == g)
        D = np.sqrt(Phi[np.ix_(i, i)])
        B = D @ (IH @ Phi @ IH)[np.ix_(i, i)] @ D
        A = D @ np.real(linalg.pinv(linalg.sqrtm(B))) @ D
        u = Xs[i].T @ A @ es[i]
        meat += np.outer(u, u)
        Gcols.append(np.sqrt(Phi) @ IH[:, i] @ A @ Xs[i] @ M @ c)
    V = M @ meat @ M
    Gm = np.column_stack(Gcols)
    lam = np.linalg.eigvalsh(Gm.T @ Gm)
    return V, lam.sum() ** 2 / (lam**2).sum()


def test_clusters_of_one_give_hc2_as_statsmodels():
    rng = np.random.default_rng(1)
    n = 40
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.exponential(size=n)])
    y = X @ [1.0, 0.5, -0.3] + rng.normal(size=n) * (1 + X[:, 2])
    b, e = _ols(X, y)
    ref = sm.OLS(y, X).fit(cov_type="HC2").cov_params()
    np.testing.assert_allclose(cr2_vcov(X, e, np.arange(n)), ref, rtol=1e-10)


def test_weighted_clusters_of_one_give_wls_hc2_as_statsmodels():
    rng = np.random.default_rng(2)
    n = 50
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    w = rng.uniform(0.2, 3.0, n)
    y = X @ [0.2, 1.0] + rng.normal(size=n) / np.sqrt(w)
    b, e = _ols(X, y, w)
    ref = sm.WLS(y, X, weights=w).fit(cov_type="HC2").cov_params()
    got = cr2_vcov(X, e, np.arange(n), weights=w, cr2_working="inverse_var")
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_binary_regressor_hc2_is_neyman_variance_and_df_is_welch():
    """Difference in means: HC2 = s0^2/n0 + s1^2/n1 and, under homoskedastic normal
    errors, its Satterthwaite df is (1/n0 + 1/n1)^2 / sum 1/(n_j^2 (n_j - 1))."""
    rng = np.random.default_rng(3)
    n0, n1 = 7, 12
    d = np.r_[np.zeros(n0), np.ones(n1)]
    y = 1 + 0.5 * d + rng.normal(size=n0 + n1) * np.where(d == 1, 2.0, 1.0)
    X = np.column_stack([np.ones_like(d), d])
    _, e = _ols(X, y)
    se, df = cr2_test(X, e, np.arange(n0 + n1), [0.0, 1.0])
    neyman = y[d == 0].var(ddof=1) / n0 + y[d == 1].var(ddof=1) / n1
    welch = (1 / n0 + 1 / n1) ** 2 / (1 / (n0**2 * (n0 - 1)) + 1 / (n1**2 * (n1 - 1)))
    assert se == pytest.approx(np.sqrt(neyman), rel=1e-12)
    assert df == pytest.approx(welch, rel=1e-10)


def test_mean_with_balanced_clusters_closed_form():
    """Intercept only, G clusters of m: V = G/(G-1) sum_g (sum e_g)^2 / n^2, df = G - 1."""
    rng = np.random.default_rng(4)
    G, m = 9, 5
    cl = np.repeat(np.arange(G), m)
    y = rng.normal(size=G)[cl] + rng.normal(size=G * m)
    e = y - y.mean()
    se, df = cr2_test(np.ones((G * m, 1)), e, cl, [1.0])
    sums = np.bincount(cl, weights=e)
    assert se**2 == pytest.approx(G / (G - 1) * np.sum(sums**2) / (G * m) ** 2, rel=1e-12)
    assert df == pytest.approx(G - 1, rel=1e-10)


@pytest.mark.parametrize("working", ["identity", "inverse_var"])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_naive_imbens_kolesar_on_unbalanced_clusters(weighted, working):
    """Naive reference: inverse-variance weights are the target 1 on the weighted errors,
    the identity model the target w."""
    rng = np.random.default_rng(5)
    sizes = [1, 2, 3, 3, 4, 6, 2, 5]
    cl = np.repeat(np.arange(len(sizes)), sizes)
    n = len(cl)
    X = np.column_stack([np.ones(n), rng.normal(size=n), (cl < 3).astype(float)])
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    y = X @ [1.0, -0.4, 0.3] + rng.normal(size=n)
    _, e = _ols(X, y, w)
    C = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, -1.0]])
    se, df = cr2_test(X, e, cl, C, weights=w, cr2_working=working)
    phi = w if working == "identity" else None
    for j, c in enumerate(C):
        V_ref, df_ref = _naive_cr2(X, e, cl, c, w, phi)
        assert se[j] ** 2 == pytest.approx(c @ V_ref @ c, rel=1e-9)
        assert df[j] == pytest.approx(df_ref, rel=1e-9)
    got = cr2_vcov(X, e, cl, weights=w, cr2_working=working)
    np.testing.assert_allclose(got, V_ref, rtol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_working_variance_target_matches_naive_and_is_unbiased(weighted):
    """With a target Phi: SEs and df equal the naive P&T computation; E[meat] under
    errors of variance Phi equals sum_g X_g' Phi_g X_g exactly (the defining property);
    a constant target changes nothing."""
    rng = np.random.default_rng(9)
    sizes = [2, 3, 3, 4, 5, 2, 4]
    cl = np.repeat(np.arange(len(sizes)), sizes)
    n = len(cl)
    X = np.column_stack([np.ones(n), rng.normal(size=n), (cl < 3).astype(float)])
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    phi = rng.uniform(0.3, 4.0, n)
    _, e = _ols(X, X @ [1.0, 0.2, -0.5] + rng.normal(size=n), w)
    C = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    se, df = cr2_test(X, e, cl, C, weights=w, target=phi)
    for j, c in enumerate(C):
        V_ref, df_ref = _naive_cr2(X, e, cl, c, w, phi)
        assert se[j] ** 2 == pytest.approx(c @ V_ref @ c, rel=1e-9)
        assert df[j] == pytest.approx(df_ref, rel=1e-9)
    fit = cr2_fit(X, e, cl, weights=w, target=phi)
    sw = np.ones(n) if w is None else np.sqrt(w)
    Xs = X * sw[:, None]
    IH = np.eye(n) - Xs @ fit.bread @ Xs.T
    cov_e = IH @ np.diag(phi) @ IH  # variance of the weighted residuals
    emeat, want = np.zeros((3, 3)), np.zeros((3, 3))
    for A, Xg, _, _ in fit.batches:
        for a, xg in zip(A, Xg, strict=True):
            rows = [np.flatnonzero(np.abs(Xs - r).sum(1) < 1e-12)[0] for r in xg if r.any()]
            m = len(rows)
            emeat += xg[:m].T @ a[:m, :m] @ cov_e[np.ix_(rows, rows)] @ a[:m, :m] @ xg[:m]
            want += xg[:m].T @ np.diag(phi[rows]) @ xg[:m]
    np.testing.assert_allclose(emeat, want, rtol=1e-9)
    se1, df1 = cr2_test(X, e, cl, C, weights=w, cr2_working="inverse_var")
    se3, df3 = cr2_test(X, e, cl, C, weights=w, target=np.full(n, 3.0))
    np.testing.assert_allclose(se3, se1, rtol=1e-9)
    np.testing.assert_allclose(df3, df1, rtol=1e-9)
    assert not np.allclose(se, se1, rtol=1e-3)


def _panel(rng, n_units=12, n_periods=6, weighted=False):
    unit = np.repeat(np.arange(n_units), n_periods)
    period = np.tile(np.arange(n_periods), n_units)
    cohort = np.where(np.arange(n_units) < 5, 3 + np.arange(n_units) % 3, 99)[unit]
    d = (period >= cohort).astype(float)
    x = rng.normal(size=len(unit))
    y = (
        rng.normal(size=n_units)[unit]
        + 0.1 * period
        - 0.2 * d
        + 0.3 * x
        + rng.normal(size=len(unit))
    )
    w = rng.uniform(0.5, 2.0, len(unit)) if weighted else np.ones(len(unit))
    return unit, period, np.column_stack([d, x]), y, w


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # sqrtm of singular I - H_gg
@pytest.mark.parametrize("working", ["identity", "inverse_var"])
@pytest.mark.parametrize("weighted", [False, True])
def test_absorbed_fixed_effects_equal_full_dummy_design(weighted, working):
    """Two-way FE passed as codes (regressors raw or within-transformed) = the regressor
    block of the full-dummy computation, SEs and df; unit FE are nested in the clusters,
    so I - H_gg is singular and the pseudo-inverse square root is exercised."""
    rng = np.random.default_rng(6)
    unit, period, Xr, y, w = _panel(rng, weighted=weighted)
    U = np.eye(unit.max() + 1)[unit]
    P = np.eye(period.max() + 1)[period][:, 1:]
    Xf = np.hstack([Xr, U, P])
    _, e = _ols(Xf, y, w)
    C = np.eye(Xf.shape[1])[:2]
    kw = dict(weights=w, cr2_working=working)
    se_full, df_full = cr2_test(Xf, e, unit, C, **kw)
    se_abs, df_abs = cr2_test(Xr, e, unit, np.eye(2), fixed_effects=[unit, period], **kw)
    np.testing.assert_allclose(se_abs, se_full, rtol=1e-8)
    np.testing.assert_allclose(df_abs, df_full, rtol=1e-8)
    # within-transformed regressors give the same
    qf = np.linalg.qr(np.hstack([U, P]) * np.sqrt(w)[:, None])[0]
    Xw = Xr - (qf @ (qf.T @ (Xr * np.sqrt(w)[:, None]))) / np.sqrt(w)[:, None]
    se_w, df_w = cr2_test(Xw, e, unit, np.eye(2), fixed_effects=[unit, period], **kw)
    np.testing.assert_allclose(se_w, se_full, rtol=1e-8)
    np.testing.assert_allclose(df_w, df_full, rtol=1e-8)
    # and the naive computation agrees on the full design (pseudo-inverse square roots)
    V_ref, df_ref = _naive_cr2(Xf, e, unit, C[0], w, w if working == "identity" else None)
    assert se_full[0] ** 2 == pytest.approx(V_ref[0, 0], rel=1e-8)
    assert df_full[0] == pytest.approx(df_ref, rel=1e-8)


def test_period_effects_must_enter_the_leverage():
    """Unit FE nested in clusters may be left out of the leverage (Pustejovsky & Tipton
    2018, Thm 2); period FE may not: leaving them out changes the SE."""
    rng = np.random.default_rng(7)
    unit, period, Xr, y, _ = _panel(rng)
    U = np.eye(unit.max() + 1)[unit]
    P = np.eye(period.max() + 1)[period][:, 1:]
    Xf = np.hstack([Xr, U, P])
    _, e = _ols(Xf, y)
    full = cr2_vcov(Xf, e, unit)[:2, :2]
    XP = np.hstack([Xr, P])
    sizes = np.bincount(unit)[:, None]
    within = XP - (np.stack([np.bincount(unit, weights=c) for c in XP.T], 1) / sizes)[unit]
    no_unit = cr2_vcov(within, e, unit)[:2, :2]  # leverage without the unit dummies
    np.testing.assert_allclose(cr2_vcov(Xr, e, unit, fixed_effects=[unit, period]), full,
                               rtol=1e-8)  # fmt: skip
    np.testing.assert_allclose(no_unit, full, rtol=1e-8)
    only_unit = cr2_vcov(Xr, e, unit, fixed_effects=[unit])
    assert not np.allclose(only_unit, full, rtol=1e-3)


def test_cr2_exceeds_uncorrected_cr0_and_df_below_clusters():
    rng = np.random.default_rng(8)
    unit, period, Xr, y, _ = _panel(rng, n_units=20)
    Xf = np.hstack([Xr, np.eye(20)[unit], np.eye(period.max() + 1)[period][:, 1:]])
    _, e = _ols(Xf, y)
    fit = cr2_fit(Xr, e, unit, fixed_effects=[unit, period])
    M = fit.bread
    Xw = Xf[:, :2] - Xf[:, 2:] @ np.linalg.lstsq(Xf[:, 2:], Xf[:, :2], rcond=None)[0]
    s = np.zeros((20, 2))
    np.add.at(s, unit, Xw * e[:, None])
    cr0 = M @ s.T @ s @ M
    assert np.all(np.diag(fit.vcov) > np.diag(cr0))
    df = fit.df(np.eye(2))
    assert np.all((df > 1) & (df < 19))


def test_bad_input_is_refused():
    X = np.ones((4, 1))
    with pytest.raises(InputFileError, match="one label per row"):
        cr2_vcov(X, np.zeros(4), [0, 1])
    with pytest.raises(InputFileError, match="weights must be positive"):
        cr2_vcov(X, np.zeros(4), [0, 0, 1, 1], weights=[1, 0, 1, 1])
    with pytest.raises(EstimationError, match="collinear"):
        cr2_vcov(np.ones((4, 2)), np.zeros(4), [0, 0, 1, 1])
    with pytest.raises(EstimationError, match="two clusters"):
        cr2_vcov(np.c_[np.ones(4), np.arange(4.0)], np.zeros(4), [0, 0, 0, 0])
    with pytest.raises(InputFileError, match="contrast"):
        cr2_test(X, np.zeros(4), [0, 0, 1, 1], [1.0, 0.0])


# --------------------------------------------------------------------------- estimators
def _dummy_design(df, regressors):
    u = pd.get_dummies(df["unit"], dtype=float).to_numpy()
    t = pd.get_dummies(df["time"], dtype=float).to_numpy()[:, 1:]
    return np.column_stack([df[regressors].to_numpy(float), u, t])


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
@pytest.mark.parametrize("weights", [None, "w"])
def test_twfe_cr2_matches_naive_full_dummy_computation(weights):
    df = staggered_panel(n_units=14, n_periods=6, cohorts=(0, 3, 5), effect=0.5, seed=2)
    df["w"] = 1 + (df["unit"] % 3) / 2
    r = twfe(df, unit="unit", time="time", treat="treat", outcome="y", weights=weights, se="cr2")
    X = _dummy_design(df, ["treat"])
    w = None if weights is None else df["w"].to_numpy(float)
    b, e = _ols(X, df["y"].to_numpy(float), w)
    c = np.eye(X.shape[1])[0]
    V, dof = _naive_cr2(X, e, df["unit"].to_numpy(), c, w, w)  # default: identity model
    assert r.estimate == pytest.approx(b[0], abs=1e-10)
    assert r.se == pytest.approx(np.sqrt(V[0, 0]), rel=1e-8)
    assert r.df == pytest.approx(dof, rel=1e-8)
    q = stats.t.ppf(0.975, dof)
    assert r.ci_high - r.estimate == pytest.approx(q * r.se, rel=1e-10)
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(b[0]) / r.se, dof), rel=1e-8)
    assert "CR2" in r.summary() and r.to_dict()["se"] == r.se


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_event_study_cr2_matches_naive_and_average_post_df():
    df = staggered_panel(n_units=16, n_periods=7, cohorts=(0, 3, 5), effect=0.5, seed=4)
    es = event_study(df, unit="unit", time="time", cohort="cohort", outcome="y", leads=2,
                     lags=2, se="cr2")  # fmt: skip
    t = es.table.set_index("event_time").drop(index=-1)
    d = df.copy()
    e = np.where(d["cohort"] > 0, np.clip(d["time"] - d["cohort"], -2, 2), -99)
    names = []
    for k in (-2, 0, 1, 2):
        d[f"d{k}"] = (e == k).astype(float)
        names.append(f"d{k}")
    X = _dummy_design(d, names)
    _, res = _ols(X, d["y"].to_numpy(float))
    for j, k in enumerate((-2, 0, 1, 2)):
        V, dof = _naive_cr2(X, res, d["unit"].to_numpy(), np.eye(X.shape[1])[j])
        assert t.loc[k, "se"] == pytest.approx(np.sqrt(V[j, j]), rel=1e-8)
        assert t.loc[k, "df"] == pytest.approx(dof, rel=1e-8)
        assert t.loc[k, "ci_high"] - t.loc[k, "estimate"] == pytest.approx(
            stats.t.ppf(0.975, t.loc[k, "df"]) * t.loc[k, "se"], rel=1e-10
        )
    c = np.zeros(X.shape[1])
    c[[1, 2]] = 0.5  # average of the single-period lags 0 and 1 (lag 2 is binned)
    V, dof = _naive_cr2(X, res, d["unit"].to_numpy(), c)
    ap = es.average_post()
    assert ap["se"] == pytest.approx(np.sqrt(c @ V @ c), rel=1e-8)
    assert ap["df"] == pytest.approx(dof, rel=1e-8)
    assert es.settings["se_convention"].startswith("CR2")
    assert event_study(df, unit="unit", time="time", cohort="cohort", outcome="y", leads=2,
                       lags=2, se="cr1").cr2 is None  # fmt: skip


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_ppml_cr2_is_cr2_of_the_glm_at_convergence():
    """statsmodels' Poisson GLM with full dummies gives mu; CR2 of its IRLS problem
    (weights mu, working residuals (y - mu)/mu, negative-binomial working variance
    1 + kappa mu with the moment kappa), written out naively, equals ppml's."""
    df = count_panel(n_units=12, n_periods=6, effect=-0.3, seed=3, n_cohorts=3)
    rng = np.random.default_rng(3)  # gamma-Poisson mixture: overdispersed counts
    df["y"] = rng.poisson(df["y"].to_numpy() * rng.gamma(2.0, 0.5, len(df)) + 0.5)
    r = ppml(df, unit="unit", time="time", treat="treat", outcome="y", offset="households",
             se="cr2")  # fmt: skip
    X = np.column_stack([np.ones(len(df)), _dummy_design(df, ["treat"])[:, :1],
                         _dummy_design(df, ["treat"])[:, 2:]])  # fmt: skip
    glm = sm.GLM(df["y"].to_numpy(float), X, family=sm.families.Poisson(),
                 offset=np.log(df["households"].to_numpy(float))).fit(tol=1e-13)  # fmt: skip
    mu = glm.mu
    y = df["y"].to_numpy(float)
    kappa = max(0.0, np.sum((y - mu) ** 2 - mu) / np.sum(mu**2))
    assert kappa > 0.01  # count_panel is overdispersed: the target matters
    c = np.eye(X.shape[1])[1]
    V, dof = _naive_cr2(X, (y - mu) / mu, df["unit"].to_numpy(), c, mu, 1 + kappa * mu)
    assert r.estimate == pytest.approx(glm.params[1], abs=1e-7)
    assert r.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-6)
    assert r.df == pytest.approx(dof, rel=1e-6)
    cr1 = ppml(df, unit="unit", time="time", treat="treat", outcome="y", offset="households",
               se="cr1")  # fmt: skip
    assert cr1.df is None and cr1.se != pytest.approx(r.se, rel=1e-3)


def test_unknown_se_type_is_refused():
    df = staggered_panel(n_units=8, n_periods=4, cohorts=(0, 3), seed=1)
    with pytest.raises(ConfigError, match="'cr1', 'cr2'"):
        twfe(df, unit="unit", time="time", treat="treat", outcome="y", se="CR2")


def test_cli_twfe_se_cr2(tmp_path):
    import json

    from typer.testing import CliRunner

    from botrygt_eval.cli import app

    df = staggered_panel(n_units=20, n_periods=6, cohorts=(0, 3, 5), effect=0.5, seed=6)
    data, out = tmp_path / "panel.csv", tmp_path / "twfe.json"
    df.to_csv(data, index=False)
    args = ["did", "twfe", "--data", str(data), "--unit", "unit", "--time", "time", "--treat",
            "treat", "--outcome", "y", "--json", str(out), "--event-study", "--leads", "2",
            "--lags", "2"]  # fmt: skip
    res = CliRunner().invoke(app, [*args, "--se", "cr2"])
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())
    r = twfe(df, unit="unit", time="time", treat="treat", outcome="y", se="cr2")
    assert got["se"] == pytest.approx(r.se, rel=1e-12) and got["df"] == pytest.approx(r.df)
    coefs = {c["event_time"]: c for c in got["event_study"]["coefficients"]}
    assert coefs[0]["df"] > 1 and "df" in got["event_study"]["average_post"]
    bad = CliRunner().invoke(app, [*args, "--se", "hc3"], env={"COLUMNS": "200"})
    assert bad.exit_code == 2 and "'cr1', 'cr2', 'jackknife', 'wild'" in bad.output


# ----------------------------------------------------------------- CR3 (cluster jackknife)
def _loo_cv3(estimates: np.ndarray, full: float | np.ndarray) -> np.ndarray:
    g = len(estimates)
    d = np.asarray(estimates) - full
    return (g - 1) / g * (d.T @ d) if d.ndim == 2 else (g - 1) / g * (d**2).sum()


def test_cr3_is_the_exact_leave_one_cluster_out_jackknife_for_wls():
    rng = np.random.default_rng(1)
    G, T = 15, 6
    u, t = np.repeat(np.arange(G), T), np.tile(np.arange(T), G)
    x = rng.normal(size=(G * T, 2))
    y = x @ [1.0, -1.0] + rng.normal(size=G)[u] + 0.3 * t + rng.normal(size=G * T) * (1 + u / 5)
    w = rng.uniform(0.5, 2, G * T)

    def fit(rows):  # full dummy design, empty dummy columns dropped
        D = np.column_stack([x[rows], np.eye(G)[u[rows]], np.eye(T)[t[rows]][:, 1:]])
        D = D[:, np.abs(D).sum(axis=0) > 0]
        sw = np.sqrt(w[rows])
        b = np.linalg.lstsq(D * sw[:, None], y[rows] * sw, rcond=None)[0]
        return b, D

    b, D = fit(np.arange(G * T))
    reps = np.array([fit(np.flatnonzero(u != g))[0][:2] for g in range(G)])
    got = cr2_fit(x, y - D @ b, u, weights=w, fixed_effects=[u, t], jackknife=True)
    np.testing.assert_allclose(got.vcov, _loo_cv3(reps, b[:2]), rtol=1e-9)
    np.testing.assert_array_equal(got.df(np.eye(2)), [G - 1, G - 1])


def test_twfe_cr3_equals_refitting_without_each_unit():
    p = staggered_panel(n_units=30, n_periods=8, seed=2)
    k = dict(unit="unit", time="time", treat="treat", outcome="y")
    r = twfe(p, se="jackknife", **k)
    reps = [twfe(p[p["unit"] != i], **k).estimate for i in np.unique(p["unit"])]
    np.testing.assert_allclose(r.se**2, _loo_cv3(np.array(reps), r.estimate), rtol=1e-9)
    assert r.df == 29 and "jackknife" in r.se_convention
    lo = r.estimate - stats.t.ppf(0.975, 29) * r.se
    assert r.ci_low == pytest.approx(lo, rel=1e-12)


@pytest.mark.parametrize("cluster", [None, "politikreds"])
def test_ppml_cr3_is_the_one_step_jackknife(cluster):
    """The one-step (IRLS at convergence) jackknife is within 0.1 % of refitting PPML."""
    p = count_panel(n_units=40, n_periods=12, seed=3)
    k = dict(unit="unit", time="time", treat="treat", outcome="y", offset="households",
             cluster=cluster)  # fmt: skip
    r = ppml(p, se="jackknife", **k)
    col = cluster or "unit"
    reps = [ppml(p[p[col] != c], se="cr1", **k).estimate for c in np.unique(p[col])]
    np.testing.assert_allclose(r.se**2, _loo_cv3(np.array(reps), r.estimate), rtol=2e-3)
    assert r.df == len(reps) - 1


# ---------------------------------------------------- clubSandwich, both working models
@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
@pytest.mark.parametrize("absorbed", [False, True])
@pytest.mark.parametrize("working", ["identity", "inverse_var"])
def test_weighted_cr2_matches_clubsandwich(working, absorbed):
    """Weighted two-way FE regression with population weights (tests/reference/clubsandwich:
    generate.R, clubSandwich 0.5.8): vcovCR(type = "CR2", inverse_var = FALSE | TRUE) and
    coef_test(test = "Satterthwaite"): coefficients, SEs, covariance, df and p-values."""
    ref_dir = Path(__file__).parents[1] / "reference" / "clubsandwich"
    d = pd.read_csv(ref_dir / "panel.csv")
    ref = pd.read_csv(ref_dir / "cr2_reference.csv")
    ref = ref[(ref["inverse_var"] == (working == "inverse_var")) & ref["term"].isin(["treat", "x"])]
    unit, period = d["unit"].to_numpy(), d["period"].to_numpy()
    Xf = np.column_stack([d[["treat", "x"]].to_numpy(float), np.eye(unit.max())[unit - 1],
                          np.eye(period.max())[period - 1][:, 1:]])  # fmt: skip
    w = d["pop"].to_numpy(float)
    b, e = _ols(Xf, d["y"].to_numpy(float), w)
    if absorbed:
        fit = cr2_fit(d[["treat", "x"]].to_numpy(float), e, unit, weights=w,
                      fixed_effects=[unit, period], cr2_working=working)  # fmt: skip
        V, dof = fit.vcov, fit.df(np.eye(2))
    else:
        fit = cr2_fit(Xf, e, unit, weights=w, cr2_working=working)
        V, dof = fit.vcov[:2, :2], fit.df(np.eye(Xf.shape[1])[:2])
    se = np.sqrt(np.diag(V))
    np.testing.assert_allclose(b[:2], ref["estimate"], rtol=1e-10)
    np.testing.assert_allclose(se, ref["se"], rtol=1e-10)
    np.testing.assert_allclose(V[0, 1], ref["cov_treat_x"].iloc[0], rtol=1e-10)
    np.testing.assert_allclose(dof, ref["df"], rtol=1e-10)
    p = 2 * stats.t.sf(np.abs(b[:2] / se), dof)
    np.testing.assert_allclose(p, ref["p_value"], rtol=1e-9)


def test_identity_is_the_default_working_model_and_differs_with_unequal_weights():
    d = pd.read_csv(Path(__file__).parents[1] / "reference" / "clubsandwich" / "panel.csv")
    unit, period = d["unit"].to_numpy(), d["period"].to_numpy()
    X = d[["treat", "x"]].to_numpy(float)
    e = d["y"].to_numpy(float) - d["y"].mean()
    kw = dict(weights=d["pop"].to_numpy(float), fixed_effects=[unit, period])
    default = cr2_fit(X, e, unit, **kw)
    ident = cr2_fit(X, e, unit, cr2_working="identity", **kw)
    inv = cr2_fit(X, e, unit, cr2_working="inverse_var", **kw)
    np.testing.assert_array_equal(default.vcov, ident.vcov)
    assert not np.allclose(ident.df(np.eye(2)), inv.df(np.eye(2)), rtol=1e-2)
    # without weights (or with equal ones) the two models are the same
    eq = dict(weights=np.full(len(e), 7.0), fixed_effects=[unit, period])
    a, b = (cr2_fit(X, e, unit, cr2_working=m, **eq) for m in ("identity", "inverse_var"))
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-12)
    with pytest.raises(ConfigError, match="'identity', 'inverse_var'"):
        cr2_fit(X, e, unit, cr2_working="precision", **kw)
