"""The 2x2 DRDID estimators and their propensity scores against R: DRDID's printed examples
on its shipped data (the NSW-CPS panel and ``sim_rc``; tests/reference/drdid/) and R's
``glm`` on the NSW-CPS logit. Also: separation and all-NaN aggregation give named errors,
and the CLI prints no traceback on the NSW-CPS data."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from botrygt_eval.did import aggregate, att_gt, drdid
from botrygt_eval.errors import (
    ConfigError,
    EstimationError,
    NoEstimableCellsError,
    PropensityScoreError,
)

REF = Path(__file__).parents[1] / "reference" / "drdid"
COVS = ["age", "educ", "black", "married", "nodegree", "hisp", "re74"]
PRINTED = 0.5e-4 + 1e-9  # DRDID prints round(x, 4)


@pytest.fixture(scope="module")
def printed() -> pd.DataFrame:
    return pd.read_csv(REF / "drdid_printed.csv").set_index(["data", "method"])


@pytest.fixture(scope="module")
def nsw_long() -> pd.DataFrame:
    d = pd.read_csv(REF / "nsw_cps_5000.csv")
    d["cohort"] = np.where(d["experimental"] == 1, 1978, 0)
    return d


@pytest.fixture(scope="module")
def nsw(nsw_long):
    """(dy, D, X with intercept) of the 5,000 NSW-CPS units, sorted by id."""
    d = nsw_long.sort_values(["id", "year"])
    pre, post = d[d["year"] == 1975].set_index("id"), d[d["year"] == 1978].set_index("id")
    assert (pre.index == post.index).all() and len(pre) == 5000
    X = np.column_stack([np.ones(len(pre)), pre[COVS].to_numpy(float)])
    dy = (post["re"] - pre["re"]).to_numpy(float)
    return dy, pre["experimental"].to_numpy(float), X


@pytest.fixture(scope="module")
def sim_rc():
    s = pd.read_csv(REF / "sim_rc.csv")
    X = np.column_stack([np.ones(len(s)), s[["x1", "x2", "x3", "x4"]].to_numpy(float)])
    return s["y"].to_numpy(float), s["post"].to_numpy(float), s["d"].to_numpy(float), X


def _se_drdid(inf):
    """DRDID 1.0.7's printed SE (the version of its documentation): sd(inf) / sqrt(n)."""
    return np.std(inf, ddof=1) / np.sqrt(len(inf))


# ------------------------------------------------------------------ the logit (R's glm)
def test_logit_is_r_glm_on_nsw_cps(nsw):
    """R's glm converges in 9 IRLS iterations where plain Newton from an intercept-only
    start diverged (LinAlgError); ours takes the same 9 steps to the same coefficients."""
    _, D, X = nsw
    ref = pd.read_csv(REF / "glm_nsw_cps.csv")
    fit = drdid.logit_fit(X, D, np.ones(len(D)))
    np.testing.assert_allclose(fit.coef, ref["estimate"], rtol=1e-9)
    assert fit.iterations == ref["iterations"].iloc[0] == 9
    dev = -2 * np.sum(np.where(D > 0, np.log(fit.fitted), np.log1p(-fit.fitted)))
    assert dev == pytest.approx(ref["deviance"].iloc[0], rel=1e-12)


def test_logit_with_earnings_in_cents_is_the_rescaled_fit(nsw):
    """Earnings in øre (x 100): the MLE is the same up to the scale of that coefficient
    (statsmodels' GLM as an independent solver), and the IRLS start copes with it."""
    _, D, X = nsw
    Xc = X.copy()
    Xc[:, -1] *= 100
    fit = drdid.logit_fit(Xc, D, np.ones(len(D)))
    sm_fit = sm.GLM(D, Xc, family=sm.families.Binomial()).fit(tol=1e-13)
    np.testing.assert_allclose(fit.coef, sm_fit.params, rtol=1e-6, atol=1e-12)
    ref = pd.read_csv(REF / "glm_nsw_cps.csv")["estimate"].to_numpy()
    assert fit.coef[-1] * 100 == pytest.approx(ref[-1], rel=1e-7)


def test_weighted_logit_matches_statsmodels(nsw):
    _, D, X = nsw
    w = np.random.default_rng(3).uniform(0.2, 3.0, len(D))
    fit = drdid.logit_fit(X, D, w / w.mean())
    sm_fit = sm.GLM(D, X, family=sm.families.Binomial(), var_weights=w / w.mean()).fit(tol=1e-13)
    np.testing.assert_allclose(fit.coef, sm_fit.params, rtol=1e-6, atol=1e-12)


def test_step_halving_recovers_from_overshooting_steps(nsw, monkeypatch):
    """Make every IRLS step overshoot (three times as far as the least-squares solution
    moved): the deviance rises, the halving pulls each step back, and the fit ends at R's
    deviance. Without the halving the coefficients run off to 1e18 (checked by hand)."""
    _, D, X = nsw
    solve = drdid._qr_solve
    last = {}

    def overshoot(A, b):
        beta = solve(A, b)
        prev = last.get("beta")
        last["beta"] = beta
        return beta if prev is None else 3 * beta - 2 * prev

    monkeypatch.setattr(drdid, "_qr_solve", overshoot)
    fit = drdid.logit_fit(X, D, np.ones(len(D)), maxit=60)
    ref = pd.read_csv(REF / "glm_nsw_cps.csv")
    dev = -2 * np.sum(np.where(D > 0, np.log(fit.fitted), np.log1p(-fit.fitted)))
    assert dev == pytest.approx(ref["deviance"].iloc[0], rel=1e-7)
    np.testing.assert_allclose(fit.coef, ref["estimate"], rtol=1e-3)


def test_ipt_balances_covariate_means_exactly(nsw):
    """Inverse probability tilting's first-order condition: the controls weighted by
    p / (1 - p) reproduce the treated units' covariate totals (weighted), unlike the logit."""
    _, D, X = nsw
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(D))
    w = w / w.mean()
    fit = drdid.logit_fit(X, D, w)
    p = drdid.ipt_fit(X, D, w, fit.coef)
    treated = X.T @ (w * D)
    tilted = X.T @ (w * (1 - D) * p / (1 - p))
    np.testing.assert_allclose(tilted, treated, rtol=1e-8)
    logit_odds = X.T @ (w * (1 - D) * fit.fitted / (1 - fit.fitted))
    assert not np.allclose(logit_odds, treated, rtol=1e-3)


def test_separation_is_a_propensity_score_error_not_linalg():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    D = (x > 0.3).astype(float)  # x predicts treatment perfectly
    X = np.column_stack([np.ones(400), x])
    with pytest.raises(PropensityScoreError, match="did not converge.*method='reg'"):
        drdid.logit_fit(X, D, np.ones(400))
    with pytest.raises(PropensityScoreError):
        drdid.ipw_panel(rng.normal(size=400), D, X, np.ones(400))
    collinear = np.column_stack([X, 2 * x])
    D2 = (rng.uniform(size=400) < 0.3).astype(float)
    with pytest.raises(PropensityScoreError, match="collinear"):
        drdid.logit_fit(collinear, D2, np.ones(400))
    assert issubclass(PropensityScoreError, EstimationError)


# ------------------------------------------------ DRDID's printed examples, panel data
@pytest.mark.parametrize("method", ["reg", "ipw", "dr", "ipw_unnormalized", "dr_imp"])
def test_panel_estimators_reproduce_drdid_printed_results(nsw, printed, method):
    """ATT and SE to DRDID's printed digits. DRDID 1.0.7 (which built the documentation)
    took the logit's Hessian from ``vcov(glm)``, i.e. at the working weights of glm's last
    IRLS step, where DRDID >= 1.2 and R did use the final fitted probabilities (as our
    default): passing that Hessian reproduces its SEs; our default differs from them by
    less than 2e-7 relative."""
    dy, D, X = nsw
    w = np.ones(len(D))
    ref = printed.loc[("nsw_cps", method)]
    att, inf = drdid.PANEL[method](dy, D, X, w)
    assert abs(att - ref["att"]) <= PRINTED
    se = _se_drdid(inf)
    if method in ("ipw", "dr", "ipw_unnormalized"):
        fit = drdid.logit_fit(X, D, w)
        p = fit.fitted
        hess = np.linalg.inv((X * fit.working_weights[:, None]).T @ X) * len(D)
        alr = ((D - p)[:, None] * X) @ hess
        trim = np.where(D == 1, True, p < drdid.TRIM_LEVEL)
        att_v, inf_v = drdid.PANEL[method](dy, D, X, w, ps=(p, trim, alr))
        assert att_v == att
        assert abs(_se_drdid(inf_v) - ref["se"]) <= PRINTED
        assert se == pytest.approx(_se_drdid(inf_v), rel=2e-7)
    else:
        assert abs(se - ref["se"]) <= PRINTED


@pytest.mark.parametrize("method", ["reg", "ipw", "dr", "ipw_unnormalized", "dr_imp"])
def test_rc_estimators_reproduce_drdid_printed_results(sim_rc, printed, method):
    """``sim_rc``. The traditional DR estimator's SE is the one deliberate difference: DRDID
    adds the two pre-period outcome-regression terms of its influence function, which enter
    the ATT with a minus sign; we subtract them (see ``dr_rc``). With DRDID's signs the SE
    would be its printed 0.2009."""
    y, post, D, X = sim_rc
    ref = printed.loc[("sim_rc", method)]
    att, inf = drdid.RC[method](y, post, D, X, np.ones(len(y)))
    assert abs(att - ref["att"]) <= PRINTED
    if method != "dr":
        assert abs(_se_drdid(inf) - ref["se"]) <= PRINTED


def test_dr_imp_influence_function_is_its_derivative(nsw):
    """The improved DR has no estimation-effect terms: check the leading-term influence
    function against numerical derivatives of the ATT in each unit's weight (the property
    that justifies dropping them: IPT and the p/(1-p)-weighted regression's first-order
    conditions), on a small subsample."""
    dy, D, X = nsw
    idx = np.r_[np.flatnonzero(D == 1)[:60], np.flatnonzero(D == 0)[:240]]
    dy, D, X = dy[idx], D[idx], X[idx][:, [0, 1, 2, 7]]
    X = X / X.std(axis=0).clip(1e-12) * np.r_[0, np.ones(3)] + np.r_[1, np.zeros(3)]
    n = len(D)
    w = np.ones(n)
    att, inf = drdid.dr_imp_panel(dy, D, X, w)
    h = 1e-6
    for i in (0, 5, 70, 150, 299):
        wp, wm = w.copy(), w.copy()
        wp[i] += h
        wm[i] -= h
        deriv = (drdid.dr_imp_panel(dy, D, X, wp)[0] - drdid.dr_imp_panel(dy, D, X, wm)[0]) / (
            2 * h
        )
        # d att / d w_i = inf_i / n for an estimator whose weights are normalised to mean 1
        assert deriv * n == pytest.approx(inf[i], rel=1e-4, abs=1e-6 * np.abs(inf).max())


# ------------------------------------------------------------------- att_gt and the CLI
@pytest.mark.parametrize("method", ["reg", "ipw", "dr", "ipw_unnormalized", "dr_imp"])
def test_att_gt_reproduces_drdid_on_nsw_long(nsw_long, nsw, printed, method):
    """One 2x2 cell: ATT to DRDID's printed digits; SE that of the 2x2 estimator's influence
    function with R did's divisor (sqrt(mean(inf^2) / n))."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NaN cell, no not-estimable warning
        r = att_gt(nsw_long, unit="id", time="year", cohort="cohort", outcome="re",
                   covariates=COVS, method=method)  # fmt: skip
    row = r.table.iloc[0]
    assert abs(row["att"] - printed.loc[("nsw_cps", method), "att"]) <= PRINTED
    dy, D, X = nsw
    _, inf = drdid.PANEL[method](dy, D, X, np.ones(len(D)))
    assert row["se"] == pytest.approx(np.sqrt(np.mean(inf**2) / len(inf)), rel=1e-9)
    assert r.settings["method"] == method


def test_unknown_method_lists_all_methods(nsw_long):
    with pytest.raises(ConfigError, match="'dr', 'ipw', 'reg', 'dr_imp', 'ipw_unnormalized'"):
        att_gt(nsw_long, unit="id", time="year", cohort="cohort", outcome="re", method="aipw")


@pytest.mark.parametrize("method", ["dr", "ipw", "dr_imp", "ipw_unnormalized"])
def test_cli_att_gt_on_nsw_cps_prints_no_traceback(tmp_path, nsw_long, printed, method):
    from typer.testing import CliRunner

    from botrygt_eval.cli import app

    data, out = tmp_path / "nsw.csv", tmp_path / "cs.json"
    nsw_long.to_csv(data, index=False)
    args = ["did", "att-gt", "--data", str(data), "--unit", "id", "--time", "year", "--cohort",
            "cohort", "--outcome", "re", "--covariates", ",".join(COVS), "--method", method,
            "--json", str(out)]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    got = json.loads(out.read_text())
    assert abs(got["att_gt"][0]["att"] - printed.loc[("nsw_cps", method), "att"]) <= PRINTED


def _separated_panel(n_units=60):
    """Two periods, a covariate equal to the treatment indicator: every propensity score
    is 0 or 1 (complete separation)."""
    rng = np.random.default_rng(5)
    unit = np.repeat(np.arange(n_units), 2)
    time = np.tile([1, 2], n_units)
    treated = (np.arange(n_units) < n_units // 3)[unit]
    return pd.DataFrame({
        "unit": unit, "time": time, "cohort": np.where(treated, 2, 0),
        "x": treated.astype(float) + 0.0, "y": rng.normal(size=2 * n_units) + treated * time,
    })  # fmt: skip


def test_cli_separation_is_a_message_not_a_traceback(tmp_path):
    """Through the real entry point (``main``), as a user runs it: exit 2, one message."""
    data, out = tmp_path / "sep.csv", tmp_path / "cs.json"
    _separated_panel().to_csv(data, index=False)
    args = ["did", "att-gt", "--data", str(data), "--unit", "unit", "--time", "time",
            "--cohort", "cohort", "--outcome", "y", "--covariates", "x", "--method", "ipw",
            "--json", str(out)]  # fmt: skip
    code = "import sys; from botrygt_eval.cli import main; sys.argv[0] = 'botrygt-eval'; main()"
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    msg = " ".join(proc.stderr.split())
    assert "nothing to aggregate" in msg and "(g=2, t=2)" in msg and "overlap" in msg


# ------------------------------------------------------------------ aggregate on all-NaN
def test_aggregate_of_all_nan_cells_names_the_cells_and_why():
    df = _separated_panel()
    with pytest.warns(UserWarning, match="not estimable"):
        r = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y",
                   covariates=["x"], method="dr")  # fmt: skip
    assert r.table["att"].isna().all()
    for kind in ("simple", "dynamic", "group", "calendar"):
        with pytest.raises(NoEstimableCellsError) as exc:
            aggregate(r, kind)
        msg = str(exc.value)
        assert "all 1 ATT(g,t) cells are NaN" in msg
        assert "(g=2, t=2): " in msg and "propensity" in msg and "method='reg'" in msg
    # the reason survives in the table the result carries
    assert "propensity" in r.table.attrs["not_estimable"][(2, 2)]


@pytest.mark.parametrize("method", ["ipw_unnormalized", "dr_imp"])
def test_panel_estimators_take_several_outcome_columns(nsw, method):
    """att_gt runs the cells sharing units and covariates as one matrix of outcome changes:
    each column equals the single-outcome call."""
    dy, D, X = nsw
    Y = np.column_stack([dy, dy / 3 + X[:, 1], np.sqrt(np.abs(dy))])
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(D))
    att, inf = drdid.PANEL[method](Y, D, X, w)
    for j in range(Y.shape[1]):
        a1, i1 = drdid.PANEL[method](Y[:, j], D, X, w)
        assert att[j] == pytest.approx(a1, rel=1e-12)
        np.testing.assert_allclose(inf[:, j], i1, rtol=1e-10, atol=1e-12 * np.abs(i1).max())
