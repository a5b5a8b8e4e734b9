"""CR2 variance and Bell-McCaffrey df against closed forms, statsmodels HC2 and a naive
Imbens-Kolesar computation with explicit n x n matrices."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import linalg

from botrygt_eval.did.small_sample import cr2_fit, cr2_test, cr2_vcov
from botrygt_eval.errors import EstimationError, InputFileError


def _ols(X, y, w=None):
    w = np.ones(len(y)) if w is None else w
    b = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (w * y))
    return b, y - X @ b


def _naive_cr2(X, e, clusters, c, w=None):
    """Imbens & Kolesar (2016) CR2 and K_BM written out with n x n matrices."""
    n = len(e)
    w = np.ones(n) if w is None else w
    Xs, es = X * np.sqrt(w)[:, None], e * np.sqrt(w)
    M = np.linalg.inv(Xs.T @ Xs)
    H = Xs @ M @ Xs.T
    IH = np.eye(n) - H
    meat = np.zeros((X.shape[1],) * 2)
    Gcols = []
    for g in np.unique(clusters):
        i = np.flatnonzero(clusters == g)
        A = np.real(linalg.pinv(linalg.sqrtm(IH[np.ix_(i, i)])))
        u = Xs[i].T @ A @ es[i]
        meat += np.outer(u, u)
        Gcols.append(IH[:, i] @ A @ Xs[i] @ M @ c)
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
    np.testing.assert_allclose(cr2_vcov(X, e, np.arange(n), weights=w), ref, rtol=1e-10)


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


@pytest.mark.parametrize("weighted", [False, True])
def test_matches_naive_imbens_kolesar_on_unbalanced_clusters(weighted):
    rng = np.random.default_rng(5)
    sizes = [1, 2, 3, 3, 4, 6, 2, 5]
    cl = np.repeat(np.arange(len(sizes)), sizes)
    n = len(cl)
    X = np.column_stack([np.ones(n), rng.normal(size=n), (cl < 3).astype(float)])
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    y = X @ [1.0, -0.4, 0.3] + rng.normal(size=n)
    _, e = _ols(X, y, w)
    C = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, -1.0]])
    se, df = cr2_test(X, e, cl, C, weights=w)
    for j, c in enumerate(C):
        V_ref, df_ref = _naive_cr2(X, e, cl, c, w)
        assert se[j] ** 2 == pytest.approx(c @ V_ref @ c, rel=1e-9)
        assert df[j] == pytest.approx(df_ref, rel=1e-9)
    np.testing.assert_allclose(cr2_vcov(X, e, cl, weights=w), V_ref, rtol=1e-9)


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
@pytest.mark.parametrize("weighted", [False, True])
def test_absorbed_fixed_effects_equal_full_dummy_design(weighted):
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
    se_full, df_full = cr2_test(Xf, e, unit, C, weights=w)
    se_abs, df_abs = cr2_test(Xr, e, unit, np.eye(2), weights=w, fixed_effects=[unit, period])
    np.testing.assert_allclose(se_abs, se_full, rtol=1e-8)
    np.testing.assert_allclose(df_abs, df_full, rtol=1e-8)
    # within-transformed regressors give the same
    qf = np.linalg.qr(np.hstack([U, P]) * np.sqrt(w)[:, None])[0]
    Xw = Xr - (qf @ (qf.T @ (Xr * np.sqrt(w)[:, None]))) / np.sqrt(w)[:, None]
    se_w, df_w = cr2_test(Xw, e, unit, np.eye(2), weights=w, fixed_effects=[unit, period])
    np.testing.assert_allclose(se_w, se_full, rtol=1e-8)
    np.testing.assert_allclose(df_w, df_full, rtol=1e-8)
    # and the naive computation agrees on the full design (pseudo-inverse square roots)
    V_ref, df_ref = _naive_cr2(Xf, e, unit, C[0], w)
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
