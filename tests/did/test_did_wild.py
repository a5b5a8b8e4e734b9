"""Wild cluster bootstrap (botrygt_eval.did.wild) against independent implementations.

- Linear models: ``wildboottest`` (PyPI) on the committed small panel, with the unit and
  period dummies as ordinary regressors (no FWL), WCR "11". With 8 clusters the
  Rademacher draws are all 2^8 sign vectors, so the bootstrap distribution, the p-value
  and the interval are deterministic and must agree exactly; Webb draws are shared by
  handing our draw matrix to wildboottest.
- PPML score bootstrap: the restricted fit by statsmodels' GLM with dummy variables and the
  sign-flip distribution enumerated by itertools (the closed form of the Rademacher score
  bootstrap: every denominator equals the statistic's).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from wildboottest.wildboottest import WildboottestCL

from botrygt_eval.did.poisson import ppml
from botrygt_eval.did.twfe import event_study, twfe
from botrygt_eval.did.wild import boot_pvalue, draw_weights, linear_problem
from botrygt_eval.errors import ConfigError

PANEL = Path(__file__).parents[1] / "reference" / "wild_small_panel" / "panel.csv"
KEYS = dict(unit="unit", time="time")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(PANEL)


def _wildboottest(df, x, theta=0.0, col=0, weights=None, v=None, cluster=None):
    """wildboottest's WCR '11' test of coefficient ``col`` of ``x`` = theta, with dummies."""
    unit, time = df["unit"].to_numpy(), df["time"].to_numpy()
    cluster = unit if cluster is None else cluster
    d = np.column_stack([x, np.eye(unit.max() + 1)[unit], np.eye(time.max())[time - 1][:, 1:]])
    y = df["y"].to_numpy() - theta * x[:, col]
    sw = np.ones(len(y)) if weights is None else np.sqrt(weights)
    r = np.zeros(d.shape[1])
    r[col] = 1.0
    wb = WildboottestCL(X=d * sw[:, None], Y=y * sw, cluster=cluster, R=r, B=999, seed=1,
                        parallel=False)  # fmt: skip
    wb.get_scores(bootstrap_type="11", impose_null=True)
    if v is None:
        wb.get_weights(weights_type="rademacher")
        assert wb.full_enumeration and wb.v.shape[1] == 2 ** len(np.unique(cluster))
    else:
        wb.v, wb.B = v, v.shape[1]
    for step in (wb.get_numer, wb.get_denom, wb.get_tboot, wb.get_vcov, wb.get_tstat):
        step()
    wb.get_pvalue()
    return wb


def _p_from(wb) -> float:
    """wildboottest's statistic and draws with the tie rule of boot_pvalue."""
    return float(boot_pvalue(float(np.ravel(wb.t_stat)[0]), np.ravel(wb.t_boot)))


@pytest.mark.parametrize("theta", [0.0, 0.3, -0.4])
def test_enumerated_distribution_and_pvalue_equal_wildboottest(panel, theta):
    x = panel[["treated", "x2"]].to_numpy(float)
    prob = linear_problem(x, panel["y"].to_numpy(), panel["unit"].to_numpy(),
                          panel["unit"].to_numpy(), panel["time"].to_numpy() - 1)  # fmt: skip
    draws = draw_weights(8, 999)
    assert draws.enumerated and draws.n_draws == 256
    test = prob.restricted(0, draws)
    wb = _wildboottest(panel, x, theta)
    # the same 256 bootstrap t statistics (wildboottest scales by its own CR1 factor)
    ours = np.sort(np.abs(test.tstar(theta)))
    theirs = np.sort(np.abs(np.ravel(wb.t_boot))) * np.sqrt(wb.ssc)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    # and the statistic up to the CR1 factor (theirs counts the dummies in k)
    t_ours = (test.estimate - theta) / test.se * np.sqrt(test.scale)
    np.testing.assert_allclose(t_ours, np.ravel(wb.t_stat)[0] * np.sqrt(wb.ssc), rtol=1e-9)
    assert test.pvalue(theta) == _p_from(wb)
    # wildboottest's own p counts the draws v = +/-1 (|t*| = |t|) when rounding tips them
    assert wb.pvalue - test.pvalue(theta) in {0.0, 1 / 256, 2 / 256}


def test_twfe_wild_interval_is_the_inverted_wildboottest(panel):
    res = twfe(panel, treat="treated", outcome="y", se="wild", replications=999, **KEYS)
    assert res.inference["enumerated"] and res.inference["draws"] == 256
    x = panel[["treated"]].to_numpy(float)
    assert res.p_value == _p_from(_wildboottest(panel, x, 0.0))
    cr1 = twfe(panel, treat="treated", outcome="y", **KEYS)
    assert res.estimate == pytest.approx(cr1.estimate) and res.se == pytest.approx(cr1.se)
    d = 1e-6 * res.se
    for end, out in ((res.ci_low, -d), (res.ci_high, d)):  # p crosses 0.05 at each end
        assert _p_from(_wildboottest(panel, x, end - out)) > 0.05
        assert _p_from(_wildboottest(panel, x, end + out)) <= 0.05
    assert "WCR" in res.summary() and "256 draws" in res.summary()


def test_weighted_twfe_wild_equals_wildboottest_in_weighted_coordinates(panel):
    res = twfe(panel, treat="treated", outcome="y", weights="weight", se="wild", **KEYS)
    x = panel[["treated"]].to_numpy(float)
    w = panel["weight"].to_numpy()
    assert res.p_value == _p_from(_wildboottest(panel, x, 0.0, weights=w))
    d = 1e-6 * res.se
    assert _p_from(_wildboottest(panel, x, res.ci_high - d, weights=w)) > 0.05
    assert _p_from(_wildboottest(panel, x, res.ci_high + d, weights=w)) <= 0.05


def test_webb_draws_shared_with_wildboottest(panel):
    x = panel[["treated", "x2"]].to_numpy(float)
    prob = linear_problem(x, panel["y"].to_numpy(), panel["unit"].to_numpy(),
                          panel["unit"].to_numpy(), panel["time"].to_numpy() - 1)  # fmt: skip
    draws = draw_weights(8, 999, "webb", seed=5)
    assert not draws.enumerated and draws.v.shape == (8, 999)
    assert set(np.round(np.unique(draws.v) ** 2, 12)) == {0.5, 1.0, 1.5}
    for col in (0, 1):
        test = prob.restricted(col, draws)
        wb = _wildboottest(panel, x, 0.0, col=col, v=draws.v)
        np.testing.assert_allclose(test.tstar(0.0), np.ravel(wb.t_boot) * np.sqrt(wb.ssc),
                                   rtol=1e-9)  # fmt: skip
        assert test.pvalue(0.0) == _p_from(wb)


def test_event_study_wild_matches_wildboottest_per_event_time(panel):
    es = event_study(panel, cohort="cohort", outcome="y", se="wild", **KEYS)
    t = es.table.set_index("event_time")
    names = [f"event_m{-e}" if e < 0 else f"event_p{e}" for e in es.event_times]
    g, time = panel["cohort"].to_numpy(), panel["time"].to_numpy()
    e_it = np.where(g > 0, time - g, -999)
    x = np.column_stack([(e_it == e).astype(float) for e in es.event_times])
    assert len(names) == x.shape[1]
    for j in (0, es.event_times.index(0), len(es.event_times) - 1):
        wb = _wildboottest(panel, x, 0.0, col=j)
        assert t.loc[es.event_times[j], "p_value"] == _p_from(wb)
    band = t.dropna(subset=["band_low"])
    # a sup-t critical value over several event times exceeds the pointwise normal one
    assert es.settings["inference"]["band_crit"] >= 1.96
    assert (band["band_high"] - band["band_low"] > 0).all()


def _restricted_poisson_scores(panel, theta):
    """Independent restricted PPML fit (statsmodels GLM with dummies) and its cluster
    score sums of the treatment coefficient, the treatment residualised on the dummies."""
    import statsmodels.api as sm

    unit, time = panel["unit"].to_numpy(), panel["time"].to_numpy()
    fe = np.column_stack([np.eye(8)[unit], np.eye(10)[time - 1][:, 1:]])
    y, d = panel["count"].to_numpy(float), panel["treated"].to_numpy(float)
    off = np.log(panel["households"].to_numpy(float)) + theta * d
    fit = sm.GLM(y, fe, family=sm.families.Poisson(), offset=off).fit(tol=1e-13)
    mu = fit.fittedvalues
    dr = d - fe @ np.linalg.lstsq(fe * np.sqrt(mu)[:, None], d * np.sqrt(mu), rcond=None)[0]
    return np.bincount(unit, weights=dr * (y - mu))


def _sign_flip_p(c) -> float:
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=len(c))))
    return float(np.mean(np.abs(signs @ c) > abs(c.sum()) * (1 + 1e-9)))


def test_ppml_score_bootstrap_is_the_enumerated_sign_flip_test(panel):
    res = ppml(panel, treat="treated", outcome="count", offset="households", se="wild", **KEYS)
    assert res.inference["enumerated"] and res.inference["method"].startswith("score")
    assert res.p_value == _sign_flip_p(_restricted_poisson_scores(panel, 0.0))
    d = 1e-3 * res.se  # the interval search stops at 1e-4 SE
    assert _sign_flip_p(_restricted_poisson_scores(panel, res.ci_low + d)) > 0.05
    assert _sign_flip_p(_restricted_poisson_scores(panel, res.ci_low - d)) <= 0.05
    assert _sign_flip_p(_restricted_poisson_scores(panel, res.ci_high - d)) > 0.05
    assert _sign_flip_p(_restricted_poisson_scores(panel, res.ci_high + d)) <= 0.05
    assert res.ci_low < res.estimate < res.ci_high


def test_enumeration_gives_a_symmetric_distribution(panel):
    """Enumerated Rademacher draws come in pairs v, -v: t*(-v) = -t*(v)."""
    x = panel[["treated"]].to_numpy(float)
    prob = linear_problem(x, panel["y"].to_numpy(), panel["unit"].to_numpy(),
                          panel["unit"].to_numpy(), panel["time"].to_numpy() - 1)  # fmt: skip
    draws = draw_weights(8, 999)
    ts = prob.restricted(0, draws).tstar(0.1)
    np.testing.assert_allclose(ts, -ts[::-1], rtol=1e-9)  # column b and 255 - b are opposite


def test_random_draws_are_reproducible_and_seeded(panel):
    a = twfe(panel, treat="treated", outcome="y", se="wild", weights_type="webb", seed=3, **KEYS)
    b = twfe(panel, treat="treated", outcome="y", se="wild", weights_type="webb", seed=3, **KEYS)
    c = twfe(panel, treat="treated", outcome="y", se="wild", weights_type="webb", seed=4, **KEYS)
    assert a.to_dict() == b.to_dict()
    assert a.inference == {"method": "WCR", "draws": 9999, "weights_type": "webb", "seed": 3,
                           "enumerated": False}  # fmt: skip
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"weights_type": "mammen"}, "weights_type"), ({"replications": 5}, "too few draws")],
)
def test_bad_options_are_refused(panel, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        twfe(panel, treat="treated", outcome="y", se="wild", **kwargs, **KEYS)


def test_cli_se_wild_writes_the_bootstrap_settings(panel, tmp_path):
    import json

    from typer.testing import CliRunner

    from botrygt_eval.cli import app

    out = tmp_path / "twfe.json"
    args = ["did", "twfe", "--data", str(PANEL), "--unit", "unit", "--time", "time", "--treat",
            "treated", "--outcome", "y", "--se", "wild", "--bootstrap", "999", "--seed", "3",
            "--event-study", "--json", str(out)]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())
    direct = twfe(panel, treat="treated", outcome="y", se="wild", replications=999, **KEYS)
    assert got["p_value"] == direct.p_value and got["ci_low"] == direct.ci_low
    assert got["inference"]["enumerated"] and got["event_study"]["inference"]["band_crit"] > 1.96
    # a wrong weight type is refused by the parser (exit 2), listing the choices
    bad = CliRunner().invoke(app, [*args[:-2], "--weights-type", "mammen", "--json", str(out)],
                             env={"COLUMNS": "200"})  # fmt: skip
    assert bad.exit_code == 2 and "'mammen' is not one of 'rademacher', 'webb'" in bad.output


def test_wcr_size_under_the_null_by_simulation():
    """Balanced two-way panel, 12 clusters (4 treated), normal errors with a cluster effect:
    the WCR test of the true effect rejects at 5 % in about 5 % of 400 simulated panels
    (MC SE 1.1 points); the CR1 normal test, with 12 clusters, rejects clearly more often."""
    from scipy import stats

    rng = np.random.default_rng(12)
    g_n, t_n, sims = 12, 8, 400
    unit, time = np.repeat(np.arange(g_n), t_n), np.tile(np.arange(t_n), g_n)
    d = ((unit < 4) & (time >= 4)).astype(float)[:, None]
    reject_wcr = reject_cr1 = 0
    for _ in range(sims):  # simulation replicates, not bootstrap draws
        y = 0.5 * d[:, 0] + rng.normal(size=g_n)[unit] + rng.normal(size=g_n * t_n)
        prob = linear_problem(d, y, unit, unit, time)
        test = prob.restricted(0, draw_weights(g_n, 399, seed=int(rng.integers(1 << 30))))
        reject_wcr += test.pvalue(0.5) <= 0.05
        reject_cr1 += 2 * stats.norm.sf(abs(test.estimate - 0.5) / test.se) <= 0.05
    assert 0.025 <= reject_wcr / sims <= 0.08
    assert reject_cr1 > reject_wcr


def test_clusters_coarser_than_units_match_wildboottest(panel):
    """Pairs of units as clusters (4 clusters, 16 sign vectors): the unit effects are now
    nested in the clusters but the period effects are not."""
    pairs = panel.assign(pair=panel["unit"] // 2)
    res = twfe(pairs, treat="treated", outcome="y", cluster="pair", se="wild", **KEYS)
    assert res.inference["draws"] == 16 and res.n_clusters == 4
    wb = _wildboottest(pairs, pairs[["treated"]].to_numpy(float), cluster=pairs["pair"].to_numpy())
    assert res.p_value == _p_from(wb)
