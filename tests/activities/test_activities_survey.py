"""Survey outcomes (fear) per activity type, from weighted kommune-year estimates."""

from __future__ import annotations

import pytest

from botrygt_eval.activities import evaluate_activities
from botrygt_eval.activities.effects import _col, survey_design
from botrygt_eval.activities.evaluate import _comparable_series
from botrygt_eval.io.workspace import load_workspace
from botrygt_eval.panel.build import panel_from_workspace
from botrygt_eval.simulate import SimulationConfig, simulate_workspace
from botrygt_eval.survey.pipeline import survey_estimates


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws_survey")
    cfg = SimulationConfig(survey_start_year=2021, write_frame=False, survey_min_n=60,
                           survey_fraction=0.001)  # fmt: skip
    simulate_workspace(root, seed=4, config=cfg)
    ws = load_workspace(root)
    est, _ = survey_estimates(ws, outcomes=("fear_burglary",))
    return ws, est, evaluate_activities(ws, survey_estimates=est)


def test_fear_columns_and_null_truth(run):
    """The simulator gives activities no fear effect: every interval covers 0."""
    _, _, ev = run
    d = ev.decisions
    assert d["fear_burglary_estimate"].notna().sum() >= 8
    fear = ev.effects.loc[ev.effects["outcome"] == "fear_burglary_pp"].dropna(subset=["se"])
    assert len(fear) == d["fear_burglary_estimate"].notna().sum()
    assert ((fear["ci_low"] < 0) & (fear["ci_high"] > 0)).all()


def test_fear_model_against_pyfixest(run):
    pf = pytest.importorskip("pyfixest")
    ws, est, ev = run
    types = sorted(ws.activities["activity_type"].unique())
    # the fear series breaks in 2025 (worry_burglary recoded): the model uses 2021-2024
    comparable = _comparable_series(est, ("fear_burglary",))
    assert comparable["year"].max() == 2024
    sd = survey_design(comparable, "fear_burglary", panel_from_workspace(ws), ws.activities,
                       types)  # fmt: skip
    used = [_col(t) for t in types if sd[_col(t)].std() > 0]
    fit = pf.feols(f"y_pp ~ treated + {' + '.join(used)} | kommune_kode + year", data=sd,
                   weights="w", vcov={"CRV1": "kommune_kode"},
                   ssc=pf.ssc(k_adj=True, k_fixef="none", G_adj=True))  # fmt: skip
    d = ev.decisions.set_index("activity_type")
    for c in used:
        t = c[2:]
        assert d.at[t, "fear_burglary_estimate"] == pytest.approx(fit.coef()[c], rel=1e-6)
        cr1 = ev.effects.set_index(["activity_type", "outcome"]).at[
            (t, "fear_burglary_pp"), "se_cr1"
        ]
        assert cr1 == pytest.approx(fit.se()[c], rel=1e-4)


def test_fear_model_se_and_df_are_weighted_cr2(run):
    """The fear SE and df equal ``cr2_test`` with the WLS weights on the model written with
    kommune and year dummies as columns (residuals from lstsq, nothing absorbed)."""
    import numpy as np
    import pandas as pd

    from botrygt_eval.did.small_sample import cr2_test

    ws, est, ev = run
    types = sorted(ws.activities["activity_type"].unique())
    comparable = _comparable_series(est, ("fear_burglary",))
    sd = survey_design(comparable, "fear_burglary", panel_from_workspace(ws), ws.activities,
                       types)  # fmt: skip
    regs = [c for c in ["treated", *[_col(t) for t in types]] if sd[c].std() > 0]
    X = np.column_stack([
        pd.get_dummies(sd["kommune_kode"]).to_numpy(float),
        pd.get_dummies(sd["year"], drop_first=True).to_numpy(float),
        sd[regs].to_numpy(float),
    ])  # fmt: skip
    y, w = sd["y_pp"].to_numpy(float), sd["w"].to_numpy(float)
    b = np.linalg.lstsq(X * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
    first = X.shape[1] - len(regs)
    tested = [c for c in regs if c != "treated"]
    C = np.eye(X.shape[1])[[first + regs.index(c) for c in tested]]
    se, df = cr2_test(X, y - X @ b, sd["kommune_kode"].to_numpy(), C, weights=w)
    eff = ev.effects.loc[ev.effects["outcome"] == "fear_burglary_pp"].set_index("activity_type")
    names = [c[2:] for c in tested]
    np.testing.assert_allclose(eff.loc[names, "se"], se, rtol=1e-6)
    np.testing.assert_allclose(eff.loc[names, "df"], df, rtol=1e-6)
