"""Synthetic DiD: solver against a literal transcription, closed forms, inference identities."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did.synth.fit import (
    estimate_matrix,
    leave_one_donor_out,
    same_region,
    similar_level,
    synth_did,
)
from botrygt_eval.did.synth.weights import frank_wolfe, sparsified_weights
from botrygt_eval.errors import ConfigError, DidDataError, DroppedUnitsWarning, EstimationError


# ---------------------------------------------------------------- literal R transcription
def _fw_literal(A, b, x, eta, zeta, md, max_iter):
    """synthdid R/solver.R ``sc.weight.fw`` loop, one problem, recomputing everything."""
    n = A.shape[0]
    vals = []
    t = 0
    while t < max_iter and (t < 2 or vals[-2] - vals[-1] > md**2):
        t += 1
        Ax = A @ x
        hg = (Ax - b) @ A + eta * x
        i = int(np.argmin(hg))
        dx = -x.copy()
        dx[i] = 1 - x[i]
        if np.any(dx != 0):
            derr = A[:, i] - Ax
            step = -(hg @ dx) / (derr @ derr + eta * dx @ dx)
            x = x + min(1.0, max(0.0, step)) * dx
        err = A @ x - b
        vals.append(zeta**2 * x @ x + err @ err / n)
    return x


def test_batched_solver_equals_literal_loop():
    rng = np.random.default_rng(3)
    B, n, k = 6, 15, 9
    A = rng.normal(size=(B, n, k))
    b = rng.normal(size=(B, n))
    x0 = rng.dirichlet(np.ones(k), size=B)
    zeta = rng.uniform(0.01, 0.5, B)
    md = np.full(B, 1e-4)
    got = frank_wolfe(A, b, x0, zeta=zeta, n_rows=np.full(B, n), min_decrease=md, max_iter=500)
    for r in range(B):
        want = _fw_literal(A[r], b[r], x0[r], n * zeta[r] ** 2, zeta[r], md[r], 500)
        np.testing.assert_allclose(got[r], want, atol=1e-10)


def test_padding_does_not_change_a_problem():
    rng = np.random.default_rng(4)
    Y = rng.normal(size=(1, 12, 8))  # 12 rows, 7 columns + target
    x0 = np.full((1, 7), 1 / 7)
    opts = dict(zeta=np.array([0.1]), intercept=True, min_decrease=np.array([1e-5]))
    plain = sparsified_weights(Y, x0, **opts)
    # pad 3 zero rows and 2 invalid columns (placed before the target column)
    Yp = np.zeros((1, 15, 10))
    Yp[0, :12, :7] = Y[0, :, :7]
    Yp[0, :12, 9] = Y[0, :, 7]
    Yp[0, 12:, :] = 99.0  # padded rows hold junk: must be ignored
    rv = np.r_[np.ones(12, bool), np.zeros(3, bool)][None]
    cv = np.r_[np.ones(7, bool), np.zeros(2, bool)][None]
    x0p = np.r_[x0[0], 0, 0][None]
    padded = sparsified_weights(Yp, x0p, row_valid=rv, col_valid=cv, **opts)
    np.testing.assert_allclose(padded[0, :7], plain[0], atol=1e-12)
    assert (padded[0, 7:] == 0).all()


# ---------------------------------------------------------------- simulated panels
def factor_panel(n_units=30, n_periods=20, start=15, treated=(1,), effect=0.0, noise=0.5,
                 seed=0, factors=2) -> pd.DataFrame:  # fmt: skip
    """Interactive fixed effects panel ``unit, time, y, d`` with a planted constant effect."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n_periods, factors)).cumsum(axis=0) * 0.5
    lam = rng.normal(size=(n_units, factors))
    Y = (10 + rng.normal(size=(n_units, 1)) * 2 + lam @ f.T
         + rng.normal(scale=noise, size=(n_units, n_periods)))  # fmt: skip
    units = np.arange(1, n_units + 1)
    times = np.arange(1, n_periods + 1)
    df = pd.DataFrame({"unit": np.repeat(units, n_periods), "time": np.tile(times, n_units),
                       "y": Y.ravel()})  # fmt: skip
    df["d"] = (df["unit"].isin(treated) & (df["time"] >= start)).astype(int)
    df.loc[df["d"] == 1, "y"] += effect
    return df


def _fit(df, **kw):
    return synth_did(df, unit="unit", time="time", outcome="y", treat="d", **kw)


def test_did_is_the_two_by_two_difference():
    df = factor_panel(seed=1, treated=(1, 2, 3))
    res = _fit(df, method="did", se="none")
    tr = df["unit"].isin([1, 2, 3])
    post = df["time"] >= 15
    m = df.groupby([tr, post])["y"].mean()
    want = (m[True, True] - m[True, False]) - (m[False, True] - m[False, False])
    assert res.estimate == pytest.approx(want, abs=1e-12)


def test_exhaustive_placebo_did_equals_loop_over_donors():
    df = factor_panel(seed=2)
    res = _fit(df, method="did", se="placebo")
    assert res.replications == 29  # every donor once
    donors = df[df["unit"] != 1]
    ests = []
    for j in range(2, 31):
        d = donors.assign(d=((donors["unit"] == j) & (donors["time"] >= 15)).astype(int))
        ests.append(_fit(d, method="did", se="none").estimate)
    assert res.se == pytest.approx(np.std(ests), rel=1e-12)  # sqrt((R-1)/R) * sd, as synthdid


@pytest.mark.parametrize("method", ["sdid", "did"])
def test_jackknife_equals_brute_force_fixed_weights(method):
    df = factor_panel(seed=5, treated=(1, 2, 3, 4), effect=1.0)
    res = _fit(df, method=method, se="jackknife")
    c = res.cohorts[0]
    n0 = len(c.donors)
    Y, lam, om = c.Y, c.lambda_, c.omega
    tw = np.r_[-lam, np.full(c.n_post, 1 / c.n_post)]
    u = []
    for i in range(Y.shape[0]):  # Algorithm 3: drop unit i, keep lambda, renormalise omega
        keep_c = [j for j in range(n0) if j != i]
        keep_t = [j for j in range(n0, Y.shape[0]) if j != i]
        w = om[keep_c] / om[keep_c].sum()
        u.append(Y[keep_t].mean(axis=0) @ tw - w @ (Y[keep_c] @ tw))
    u = np.array(u)
    n = len(u)
    want = np.sqrt((n - 1) / n * np.sum((u - u.mean()) ** 2))
    assert res.se == pytest.approx(want, rel=1e-10)


def test_padded_bootstrap_sample_equals_explicit_duplicates():
    """A bootstrap draw (repeats, donors and treated mixed, padding) = the explicit matrix."""
    from botrygt_eval.did.synth.fit import fit_block, tuning

    rng = np.random.default_rng(14)
    n0, n1, t, t0 = 12, 3, 14, 10
    Y = rng.normal(size=(n0 + n1, t)).cumsum(axis=1)
    draw = np.sort(np.array([0, 0, 3, 5, 5, 5, 7, 9, 11, 11, 12, 14, 14, 2, 8]))
    is_ctrl = draw < n0
    tune = tuning(Y, n0, t0, "sdid")
    om0 = np.where(is_ctrl, 1.0, 0.0)
    for method in ("sdid", "sc", "did"):
        tau_pad, om_pad, _ = fit_block(Y, draw[None], draw[None], t0, method, tune,
                                       ctrl_valid=is_ctrl[None], tr_valid=~is_ctrl[None],
                                       omega0=om0[None])  # fmt: skip
        ctrl, tr = draw[is_ctrl], draw[~is_ctrl]
        tau, om, _ = fit_block(Y, ctrl[None], tr[None], t0, method, tune)
        assert tau_pad[0] == pytest.approx(tau[0], abs=1e-9)
        np.testing.assert_allclose(om_pad[0, is_ctrl], om[0], atol=1e-9)
        assert (om_pad[0, ~is_ctrl] == 0).all()


def test_jackknife_refuses_one_treated_unit():
    with pytest.raises(EstimationError, match="placebo"):
        _fit(factor_panel(), method="did", se="jackknife")


def test_planted_effect_is_recovered_within_interval():
    truth = -2.0
    df = factor_panel(n_units=40, n_periods=24, start=17, effect=truth, seed=11)
    res = _fit(df, method="sdid", se="placebo")
    lo, hi = res.ci
    assert lo < truth < hi
    assert abs(res.estimate - truth) < 0.5  # noise sd 0.5, 8 post-periods
    assert res.cohorts[0].pre_rmse < 1.0


def test_placebo_se_is_sane_on_null_simulation():
    """DiD with exhaustive placebo: coverage near 95% across null panels; sdid SE in range."""
    covered = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        n, t = 25, 12
        y = rng.normal(size=(n, 1)) + rng.normal(size=(1, t)) + rng.normal(size=(n, t))
        df = pd.DataFrame({"unit": np.repeat(np.arange(n), t), "time": np.tile(np.arange(t), n),
                           "y": y.ravel()})  # fmt: skip
        df["d"] = ((df["unit"] == 0) & (df["time"] >= 8)).astype(int)
        lo, hi = _fit(df, method="did").ci
        covered.append(lo < 0 < hi)
    assert 0.85 <= np.mean(covered) <= 1.0
    # sdid on iid noise: the DiD sampling sd is sqrt(1/T_post + 1/T_pre) (unit noise sd 1)
    res = _fit(df, method="sdid")
    ref = np.sqrt(1 / 4 + 1 / 8)
    assert 0.5 * ref < res.se < 2.0 * ref


def test_staggered_combines_cohorts_by_treated_unit_periods():
    df = factor_panel(n_units=30, n_periods=20, treated=(1, 2), seed=7, effect=1.0)
    late = df["unit"].isin([3]) & (df["time"] >= 18)
    df.loc[late, "d"] = 1
    res = _fit(df, method="did", se="none")
    assert [c.cohort for c in res.cohorts] == [15, 18]
    w = np.array([2 * 6, 1 * 3], float)
    assert [c.weight for c in res.cohorts] == pytest.approx(list(w / w.sum()))
    assert res.estimate == pytest.approx(w @ [c.estimate for c in res.cohorts] / w.sum())
    # the later-treated unit is never a donor, not even for the early cohort
    assert 3 not in res.cohorts[0].donors
    frame = res.to_frame()
    assert list(frame["term"]) == ["cohort 15", "cohort 18", "att"]
    # placebo (staggered: random donors take the cohorts' places) gives cohort SEs too
    res = _fit(df, method="did", se="placebo", replications=40, seed=1)
    frame = res.to_frame().set_index("term")
    assert np.isfinite(frame["se"]).all() and (frame["se"] > 0).all()
    assert frame.loc["att", "se"] == pytest.approx(np.std(res.replicate_estimates))


def test_bootstrap_and_placebo_are_reproducible_with_a_seed():
    df = factor_panel(treated=(1, 2, 3), seed=8, effect=0.5)
    a = _fit(df, method="did", se="bootstrap", replications=50, seed=3)
    b = _fit(df, method="did", se="bootstrap", replications=50, seed=3)
    c = _fit(df, method="did", se="bootstrap", replications=50, seed=4)
    assert a.se == b.se and a.se != c.se
    np.testing.assert_array_equal(a.replicate_estimates, b.replicate_estimates)


def test_sc_weights_fit_a_convex_combination():
    # the treated unit is an exact mixture of donors 2 and 3: SC finds it
    df = factor_panel(seed=9, noise=0.0, factors=12)  # enough factors for a unique mixture
    wide = df.pivot(index="unit", columns="time", values="y")
    mix = 0.3 * wide.loc[2] + 0.7 * wide.loc[3]
    df.loc[df["unit"] == 1, "y"] = mix.to_numpy()
    res = _fit(df, method="sc", se="none")
    w = res.unit_weights
    assert w.loc[2] + w.loc[3] > 0.98
    assert res.cohorts[0].pre_rmse < 0.05
    assert abs(res.estimate) < 0.05


def test_leave_one_donor_out_and_weights_frame():
    df = factor_panel(seed=10, effect=-1.0)
    res = _fit(df, method="sc", se="none")
    loo = leave_one_donor_out(res, min_weight=0.05)
    assert set(loo["unit"]) == set(res.unit_weights[res.unit_weights > 0.05].index)
    assert np.isfinite(loo["estimate"]).all()
    np.testing.assert_allclose(loo["change"], loo["estimate"] - res.estimate)


def test_donor_pool_restrictions_use_kommune_metadata():
    rng = np.random.default_rng(0)
    codes = [101, 147, 151, 153, 155, 157, 159, 161, 751, 851]  # mostly Hovedstaden
    t = 10
    df = pd.DataFrame({"kommune_kode": np.repeat(codes, t), "period": np.tile(np.arange(1, t + 1), 10),
                       "rate": rng.normal(size=10 * t) + np.repeat(np.arange(10), t)})  # fmt: skip
    df["treated"] = ((df["kommune_kode"] == 101) & (df["period"] >= 7)).astype(int)
    kw = dict(unit="kommune_kode", time="period", outcome="rate", treat="treated",
              method="did", se="none")  # fmt: skip
    res = synth_did(df, donors=same_region, **kw)
    assert 751 not in res.cohorts[0].donors and 851 not in res.cohorts[0].donors
    assert 147 in res.cohorts[0].donors
    res = synth_did(df, donors=similar_level("rate", ratio=1e9), **kw)
    assert len(res.cohorts[0].donors) >= 2
    res = synth_did(df, donors=[147, 151, 153], **kw)
    assert res.cohorts[0].donors == (147, 151, 153)
    assert res.weights_frame()["kommune"].tolist()[0] == "Frederiksberg"


def test_target_keeps_one_treated_unit():
    df = factor_panel(seed=13, treated=(1, 2, 3), effect=1.0)
    res = _fit(df, method="did", se="none", target=2)
    assert res.cohorts[0].treated == (2,)
    assert not {1, 3} & set(res.cohorts[0].donors)
    assert any("other treated" in n for n in res.notes)
    with pytest.raises(DidDataError, match="not treated"):
        _fit(df, method="did", se="none", target=7)


def test_synth_each_fits_every_treated_unit_on_its_own():
    from botrygt_eval.did.synth.fit import synth_each

    df = factor_panel(seed=15, treated=(1, 2), effect=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warnings on a clean panel
        batch = synth_each(df, unit="unit", time="time", outcome="y", treat="d", method="did")
    f = batch.to_frame()
    assert list(f["unit"]) == [1, 2]
    one = _fit(df, method="did", target=2)
    row = f.set_index("unit").loc[2]
    assert row["estimate"] == pytest.approx(one.estimate) and row["se"] == pytest.approx(one.se)
    assert row["n_donors"] == 28 and "2 treated unit(s)" in batch.summary()


def test_input_errors_name_the_fix():
    df = factor_panel()
    with pytest.raises(ConfigError, match="sdid"):
        _fit(df, method="synthetic")
    with pytest.raises(DidDataError, match="one row per unit"):
        _fit(pd.concat([df, df.head(1)]))
    off = df.copy()
    off.loc[(off["unit"] == 1) & (off["time"] == 20), "d"] = 0
    with pytest.raises(DidDataError, match="stay 1"):
        _fit(off)
    gap = df.drop(index=df.index[(df["unit"] == 5) & (df["time"] == 3)])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = _fit(gap, method="did", se="none")
    assert any(issubclass(w.category, DroppedUnitsWarning) for w in rec)
    assert 5 not in res.cohorts[0].donors
    with pytest.raises(EstimationError):
        estimate_matrix(np.zeros((3, 5)), 3, 2)


def test_result_outputs():
    import matplotlib

    matplotlib.use("Agg")
    df = factor_panel(seed=12, effect=1.0)
    res = _fit(df, method="did")
    f = res.to_frame()
    assert {"estimate", "se", "ci_low", "ci_high", "n"} <= set(f.columns)
    d = res.to_dict()
    assert set(d) >= {"method", "estimate", "se", "unit_weights", "time_weights"}
    assert sum(d["unit_weights"].values()) == pytest.approx(1.0)
    assert sum(d["time_weights"].values()) == pytest.approx(1.0)
    assert "Difference-in-differences" in res.summary()
    traj = res.trajectories()
    post = traj[traj["post"] == 1]
    assert post["gap"].mean() == pytest.approx(res.estimate)
    fig = res.plot()
    assert len(fig.axes) == 2
