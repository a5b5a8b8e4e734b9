"""PPML with unit and period effects and an exposure offset, against pyfixest ``fepois``.

Reference comparisons use ``se="cr1"`` (the default is CR2, tested in
tests/did/test_did_small_sample.py); both use CR1 = G/(G-1) (N-1)/(N-k) with fixed effects not counted
(pyfixest ``ssc(k_adj=True, k_fixef="none", G_adj=True)``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from botrygt_eval.did.poisson import ppml, ppml_event_study
from botrygt_eval.errors import InputFileError
from tests.did.did_panel_helpers import count_panel

pf = pytest.importorskip("pyfixest")
SSC = {"k_adj": True, "k_fixef": "none", "G_adj": True}


def fepois(formula, data, cluster):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.fepois(formula, data=data, offset="log_households", vcov={"CRV1": cluster},
                         ssc=pf.ssc(**SSC), iwls_tol=1e-12, fixef_tol=1e-12)  # fmt: skip


@pytest.fixture(scope="module")
def counts():
    df = count_panel(n_units=98, n_periods=64, effect=-0.2, seed=4)
    df["log_households"] = np.log(df["households"])
    return df


@pytest.mark.parametrize("cluster", [None, "politikreds"])
def test_ppml_matches_pyfixest(counts, cluster):
    r = ppml(counts, unit="unit", time="time", treat="treat", outcome="y", offset="households",
             cluster=cluster, se="cr1")  # fmt: skip
    f = fepois("y ~ treat | unit + time", counts, cluster or "unit")
    assert r.estimate == pytest.approx(f.coef().iloc[0], abs=1e-6)
    assert r.se == pytest.approx(f.se().iloc[0], abs=1e-6)
    assert r.n_obs == 98 * 64 and r.n_clusters == (12 if cluster else 98)


def test_ppml_recovers_known_rate_ratio(counts):
    r = ppml(counts, unit="unit", time="time", treat="treat", outcome="y", offset="households")
    assert abs(r.estimate - (-0.2)) < 4 * r.se and r.se < 0.02
    assert r.to_frame()["rate_ratio"].iloc[0] == pytest.approx(np.exp(r.estimate))


def test_ppml_event_study_matches_pyfixest(counts):
    es = ppml_event_study(counts, unit="unit", time="time", cohort="cohort", outcome="y",
                          offset="households", leads=4, lags=3, se="cr1")  # fmt: skip
    d = counts.copy()
    d["evt"] = np.where(d["cohort"] > 0, np.clip(d["time"] - d["cohort"], -4, 3), -1)
    f = fepois("y ~ i(evt, ref=-1) | unit + time", d, "unit")
    est = es.table[es.table["event_time"] != -1]
    np.testing.assert_allclose(est["estimate"], f.coef().to_numpy(), atol=1e-6)
    np.testing.assert_allclose(est["se"], f.se().to_numpy(), atol=1e-6)
    post = est[est["event_time"] >= 0]
    assert (np.abs(post["estimate"] + 0.2) < 4 * post["se"]).all()
    assert es.model == "PPML"


def test_all_zero_units_dropped_like_pyfixest(counts):
    d = counts.copy()
    d.loc[d["unit"].isin([3, 7]), "y"] = 0
    r = ppml(d, unit="unit", time="time", treat="treat", outcome="y", offset="households",
             se="cr1")  # fmt: skip
    assert r.n_dropped_zero == 2 * 64 and r.n_units == 96
    f = fepois("y ~ treat | unit + time", d, "unit")
    assert r.estimate == pytest.approx(f.coef().iloc[0], abs=1e-6)
    assert r.se == pytest.approx(f.se().iloc[0], abs=1e-6)


def test_ppml_bad_input(counts):
    with pytest.raises(InputFileError, match="negative"):
        ppml(counts.assign(y=-counts["y"] + 1), unit="unit", time="time", treat="treat",
             outcome="y")  # fmt: skip
    with pytest.raises(InputFileError, match="positive"):
        ppml(counts.assign(households=0), unit="unit", time="time", treat="treat", outcome="y",
             offset="households")  # fmt: skip


def test_ppml_unbalanced_matches_pyfixest(counts):
    rng = np.random.default_rng(2)
    d = counts.drop(index=rng.choice(len(counts), 500, replace=False)).reset_index(drop=True)
    r = ppml(d, unit="unit", time="time", treat="treat", outcome="y", offset="households",
             cluster="politikreds")  # fmt: skip
    f = fepois("y ~ treat | unit + time", d, "politikreds")
    assert r.n_obs == len(d)
    assert r.estimate == pytest.approx(f.coef().iloc[0], abs=1e-6)
    assert r.se == pytest.approx(f.se().iloc[0], abs=1e-6)
