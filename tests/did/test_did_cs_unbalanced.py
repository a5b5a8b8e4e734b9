"""Unbalanced panels and repeated cross-sections against csdid (Python port of R did).

R references cover neither an unbalanced panel kept whole nor the DR/IPW
repeated-cross-section estimators with covariates; csdid 0.4.2 reproduces every R
reference row, so its numbers are an independent check here (ATT and SE to 1e-8).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did import att_gt
from botrygt_eval.errors import DroppedUnitsWarning

csdid_att_gt = pytest.importorskip("csdid.att_gt")
REF = Path(__file__).parents[1] / "reference" / "did"


@pytest.fixture(scope="module")
def gappy():
    mp = pd.read_csv(REF / "mpdta.csv")
    rng = np.random.default_rng(0)
    return mp.drop(index=rng.choice(len(mp), 150, replace=False)).reset_index(drop=True)


def _csdid(df, method, cov, control, idname="countyreal", **kw):
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = csdid_att_gt.ATTgt(yname="lemp", tname="year", idname=idname, gname="first.treat",
                               data=df, control_group=control,
                               xformla=f"lemp~{cov}" if cov else None, **kw)  # fmt: skip
        m.fit(est_method=method, bstrap=False)
    return np.asarray(m.results["att"], float), np.asarray(m.results["se"], float)


CASES = [
    (m, c, k) for m in ("reg", "ipw", "dr") for c in (None, "lpop") for k in ("never", "notyet")
]


@pytest.mark.parametrize(("method", "cov", "control"), CASES)
def test_unbalanced_panel_matches_csdid(gappy, method, cov, control):
    ctrl = "nevertreated" if control == "never" else "notyettreated"
    att, se = _csdid(gappy, method, cov, ctrl, allow_unbalanced_panel=True)
    r = att_gt(gappy, unit="countyreal", time="year", cohort="first.treat", outcome="lemp",
               method=method, covariates=[cov] if cov else None, control=control,
               allow_unbalanced=True)  # fmt: skip
    np.testing.assert_allclose(r.table["att"], att, atol=1e-8)
    np.testing.assert_allclose(r.table["se"], se, atol=1e-8)
    assert r.data.n_units == gappy["countyreal"].nunique()


@pytest.mark.parametrize("method", ["ipw", "dr"])
def test_repeated_cross_sections_with_covariates_match_csdid(method):
    mp = pd.read_csv(REF / "mpdta.csv")
    mp["rid"] = np.arange(len(mp))  # cross-sections: every row its own unit
    att, se = _csdid(mp, method, "lpop", "nevertreated", idname="rid", panel=False)
    r = att_gt(mp, unit="rid", time="year", cohort="first.treat", outcome="lemp",
               method=method, covariates=["lpop"], panel=False)  # fmt: skip
    np.testing.assert_allclose(r.table["att"], att, atol=1e-8)
    np.testing.assert_allclose(r.table["se"], se, atol=1e-8)


def test_unbalanced_default_is_balancing(gappy):
    with pytest.warns(DroppedUnitsWarning, match="balance the panel"):
        r = att_gt(gappy, unit="countyreal", time="year", cohort="first.treat", outcome="lemp")
    assert r.data.n_units < gappy["countyreal"].nunique()
