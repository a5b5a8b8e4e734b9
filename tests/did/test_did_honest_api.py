"""honest_did: inputs from TWFE and Callaway-Sant'Anna results, result object, errors."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did import honest_did
from botrygt_eval.did.honest import HonestResult, event_study_inputs
from botrygt_eval.did.twfe import EventStudyResult, event_table
from botrygt_eval.errors import ConfigError

REF = Path(__file__).parents[1] / "reference" / "honestdid"


def medicaid():
    b = pd.read_csv(REF / "betahat.csv")
    s = pd.read_csv(REF / "sigma.csv", index_col=0).to_numpy()
    return b, s


def test_event_study_result_gives_the_same_interval_as_beta_sigma():
    b, s = medicaid()
    times = [int(t) for t in b["rel_time"]]  # 2008..2015 minus 2014; 2013 = -1 omitted
    counts = {e: 10 for e in (*times, -1)}
    table = event_table(b["betahat"].to_numpy(), s, times, -1, counts, set(), 0.05)
    es = EventStudyResult(table=table, vcov=s, event_times=tuple(times), reference=-1,
                          pretrend={"stat": 0.0, "df": 5, "p_value": 1.0}, n_obs=344,
                          n_units=43, n_clusters=43, cluster="stfips", outcome="dins")  # fmt: skip
    beta, sigma, npre, npost, et = event_study_inputs(es)
    assert (npre, npost) == (5, 2) and et == times
    direct = honest_did(b["betahat"].to_numpy(), s, 5, 2, m_grid=[1.0], grid_points=200)
    via = honest_did(es, m_grid=[1.0], grid_points=200)
    pd.testing.assert_frame_equal(direct.table, via.table)


def test_result_object_and_breakdown():
    b, s = medicaid()
    res = honest_did(b["betahat"].to_numpy(), s, 5, 2, restriction="smoothness",
                     m_grid=[0.01, 0.02, 0.03])  # fmt: skip
    assert isinstance(res, HonestResult)
    # the README: "the breakdown value for a significant effect is M ~ 0.03" (0.02 on this grid)
    assert res.breakdown == 0.02
    f = res.to_frame()
    assert list(f.columns[:5]) == ["m", "lb", "ub", "method", "delta"]
    assert f["method"].iloc[0] == "Original" and len(f) == 4
    d = res.to_dict()
    assert d["breakdown"] == 0.02 and len(d["robust"]) == 3 and d["m_name"] == "M"
    assert "breakdown M" in res.summary()
    fig = res.plot(lang="da")
    assert "M (største" in fig.axes[0].get_xlabel()
    assert "M (largest" in res.plot(lang="en").axes[0].get_xlabel()


def test_intervals_widen_with_m_and_contain_the_original_at_zero_mbar():
    b, s = medicaid()
    res = honest_did(b["betahat"].to_numpy(), s, 5, 2, m_grid=[0, 1, 2], grid_points=300)
    t = res.table
    assert (np.diff(t["lb"]) <= 0).all() and (np.diff(t["ub"]) >= 0).all()


def test_sign_and_shape_variants_run_and_name_delta():
    b, s = medicaid()
    beta = b["betahat"].to_numpy()
    r1 = honest_did(beta, s, 5, 2, restriction="smoothness", m_grid=[0.01],
                    bias_direction="positive")  # fmt: skip
    assert r1.delta == "DeltaSDPB" and r1.method == "C-F"
    r2 = honest_did(beta, s, 5, 2, m_grid=[1.0], monotonicity="increasing", grid_points=200)
    assert r2.delta == "DeltaRMI"
    assert r2.table["lb"].iloc[0] < r2.table["ub"].iloc[0]


def test_errors_name_the_fix():
    b, s = medicaid()
    beta = b["betahat"].to_numpy()
    with pytest.raises(ConfigError, match="l_vec has 3 weights"):
        honest_did(beta, s, 5, 2, l_vec=[1, 0, 0])
    with pytest.raises(ConfigError, match="method"):
        honest_did(beta, s, 5, 2, method="FLCI")
    with pytest.raises(ConfigError, match="not both"):
        honest_did(beta, s, 5, 2, monotonicity="increasing", bias_direction="positive")
    with pytest.raises(ConfigError, match="must agree"):
        honest_did(beta, s, 4, 2)


def test_callaway_santanna_dynamic_aggregate_route():
    from botrygt_eval.did import aggregate, att_gt
    from tests.did.did_cs_sim import cs_panel

    df = cs_panel(n_units=600, n_periods=7, cohorts=(0, 4, 5, 6), seed=3)
    res = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y",
                 base_period="universal")  # fmt: skip
    dyn = aggregate(res, "dynamic")
    beta, sigma, npre, npost, et = event_study_inputs(dyn)
    by = dyn.by.set_index("egt")
    assert -1 not in et and et == sorted(et)
    np.testing.assert_allclose(beta, by.loc[et, "att"].to_numpy())
    # the influence-function covariance (HonestDiD's honest_did.AGGTEobj) has the
    # aggregate's own (unclustered analytic) standard errors on its diagonal
    inf = dyn.inf[:, : len(dyn.by)][:, [list(dyn.by["egt"]).index(e) for e in et]]
    raw = inf.T @ inf / inf.shape[0] ** 2
    np.testing.assert_allclose(sigma, raw, rtol=1e-10)
    np.testing.assert_allclose(np.sqrt(np.diag(sigma)), by.loc[et, "se"].to_numpy(), rtol=1e-10)
    out = honest_did(dyn, m_grid=[0.5], grid_points=100)
    assert out.num_pre == npre and out.num_post == npost
    assert out.table["lb"].iloc[0] <= out.estimate <= out.table["ub"].iloc[0]
    with pytest.raises(ConfigError, match="dynamic"):
        honest_did(aggregate(res, "group"))


def test_varying_base_period_is_refused():
    from botrygt_eval.did import aggregate, att_gt
    from tests.did.did_cs_sim import cs_panel

    df = cs_panel(n_units=400, n_periods=7, cohorts=(0, 4, 5, 6), seed=4)
    res = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y")
    with pytest.raises(ConfigError, match="universal"):
        honest_did(aggregate(res, "dynamic"))


def test_evaluation_sensitivity_gives_a_breakdown_for_the_average_effect():
    from botrygt_eval.did.compare import burglary_sensitivity
    from botrygt_eval.did.twfe import event_study
    from tests.did.did_panel_helpers import staggered_panel

    df = staggered_panel(n_units=80, n_periods=12, effect=1.0, noise=0.5, seed=2)
    es = event_study(df, unit="unit", time="time", cohort="cohort", outcome="y", leads=3, lags=2)
    res = burglary_sensitivity(es, mbar=(0.0, 1.0, 3.0), grid_points=100)
    _, _, npre, npost, _ = event_study_inputs(es)
    np.testing.assert_allclose(res.l_vec, np.full(npost, 1 / npost))
    assert res.to_dict()["breakdown"] == res.breakdown
    # a strong effect (1.0 with noise 0.5) survives Mbar = 0
    assert res.breakdown >= 0.0


def test_refined_breakdown_lies_between_grid_values_and_is_a_crossing():
    b, s = medicaid()
    beta = b["betahat"].to_numpy()
    res = honest_did(beta, s, 5, 2, restriction="smoothness", m_grid=[0.0, 0.02, 0.04])
    assert res.breakdown == 0.02
    bd = res.refine_breakdown(tol=1e-4)
    assert 0.02 <= bd < 0.04
    at = honest_did(beta, s, 5, 2, restriction="smoothness", m_grid=[bd, bd + 1e-4]).table
    assert at["lb"].iloc[0] > 0 and at["lb"].iloc[1] <= 0


def test_a_restriction_the_data_reject_gives_nan_and_a_warning():
    # a strongly bent pre-trend with tiny sampling noise: Delta^SD(M = 0) is rejected
    # (one post period, so the pre-period moments enter the test, as in HonestDiD)
    beta = np.array([0.5, 0.0, 0.2, 1.0])
    sigma = 1e-8 * np.eye(4)
    with pytest.warns(UserWarning, match="reject"):
        res = honest_did(beta, sigma, 3, 1, restriction="smoothness", m_grid=[0.0],
                         method="Conditional", grid_lb=-5, grid_ub=5, grid_points=101)  # fmt: skip
    assert np.isnan(res.table["lb"].iloc[0]) and np.isnan(res.breakdown)
