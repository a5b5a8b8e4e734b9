"""CR3 (the leave-one-cluster-out jackknife) against pyfixest's ``CRV3``, independent code.

pyfixest's CRV3 without small-sample factors (``ssc(k_adj=False, G_adj=False)``) is the
plain sum of squared leave-one-cluster-out deviations, sum_g (b_(g) - b)^2; ours is the
CV3 of MacKinnon, Nielsen & Webb (2023), the same sum times (G - 1) / G. The test checks
that identity for TWFE (weighted and not, by unit and by a coarser cluster) and the
event study's full covariance of its event-time coefficients.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from botrygt_eval.did.twfe import event_study, twfe
from tests.did.did_panel_helpers import staggered_panel

pf = pytest.importorskip("pyfixest")
PLAIN = {"k_adj": False, "k_fixef": "none", "G_adj": False}


@pytest.fixture(scope="module")
def panel():
    df = staggered_panel(n_units=40, n_periods=9, cohorts=(0, 4, 6, 8), effect=0.5, seed=11)
    df["w"] = 1 + (df["unit"] % 5) / 4
    return df


def crv3(formula, data, cluster, weights=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(formula, data=data, weights=weights, vcov={"CRV3": cluster},
                        ssc=pf.ssc(**PLAIN))  # fmt: skip


@pytest.mark.parametrize("cluster", [None, "cluster"])
@pytest.mark.parametrize("weights", [None, "w"])
def test_twfe_cr3_is_pyfixest_crv3_times_g_minus_1_over_g(panel, cluster, weights):
    r = twfe(panel, unit="unit", time="time", treat="treat", outcome="y", cluster=cluster,
             weights=weights, se="jackknife")  # fmt: skip
    col = cluster or "unit"
    g = panel[col].nunique()
    f = crv3("y ~ treat | unit + time", panel, col, weights)
    assert r.estimate == pytest.approx(f.coef().iloc[0], abs=1e-9)
    assert r.se**2 == pytest.approx(f.se().iloc[0] ** 2 * (g - 1) / g, rel=1e-8)
    assert r.df == g - 1


def test_event_study_cr3_covariance_is_pyfixest_crv3(panel):
    es = event_study(panel, unit="unit", time="time", cohort="cohort", outcome="y", leads=3,
                     lags=2, se="jackknife")  # fmt: skip
    d = panel.copy()
    d["evt"] = np.where(d["cohort"] > 0, np.clip(d["time"] - d["cohort"], -3, 2), -1)
    f = crv3("y ~ i(evt, ref=-1) | unit + time", d, "unit")
    g = panel["unit"].nunique()
    est = es.table.set_index("event_time").drop(index=-1)
    np.testing.assert_allclose(est["estimate"], f.coef().to_numpy(), atol=1e-9)
    np.testing.assert_allclose(es.vcov, f._vcov * (g - 1) / g, rtol=1e-8, atol=1e-14)
