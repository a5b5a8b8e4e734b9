"""One production path per quantity, with the general route as the test oracle (issue 19.7).

``att_gt`` estimates a no-covariate cell by one closed form (a difference of weighted
means) behind one dispatch rule (``closed_form_applies``); here every such cell is
re-estimated by hand with the general DRDID estimator on an intercept-only design.
The cluster jackknife takes closed-form replicates or refits, decided in one place
(``jackknife.replicates``); here both are checked replicate by replicate against a
literal loop that drops each cluster and reruns the public ``att_gt``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did import att_gt, drdid
from botrygt_eval.did import jackknife as jk
from botrygt_eval.did.att_gt import closed_form_applies
from tests.did.did_cs_sim import cs_panel

KEYS = dict(unit="unit", time="time", cohort="cohort", outcome="y")


def _oracle_cells(df, res, method, control, weights, fix_weights, anticipation):
    """Each cell by hand: its units, outcome change and weights, the DRDID estimator with
    an intercept-only design (the general route), IF scaled to all units."""
    wide = df.pivot(index="unit", columns="time", values="y")
    wts = df.pivot(index="unit", columns="time", values="w")
    cohort = df.groupby("unit")["cohort"].first().to_numpy()
    n = len(cohort)
    rowpos = np.empty(n, int)  # IF rows are the units sorted by cohort (stable)
    rowpos[np.argsort(cohort, kind="stable")] = np.arange(n)
    for j, row in enumerate(res.table.itertuples()):
        g, t, b = row.group, row.time, row.base_period
        if t == b:  # universal base period: 0 by definition
            assert row.att == 0.0 and res.inf[:, j].nnz == 0
            continue
        thr = max(t, b) + anticipation
        ctrl = (cohort == 0) | ((control == "notyet") & (cohort > thr) & (cohort != g))
        keep = (cohort == g) | ctrl
        early = min(t, b)
        wcol = {"earlier": early, "base_period": g - 1 - anticipation, "first_period": 1}
        w = np.ones(keep.sum()) if weights is None else wts[wcol[fix_weights]].to_numpy()[keep]
        dy = (wide[t] - wide[b]).to_numpy()[keep]
        D = (cohort[keep] == g).astype(float)
        att, inf = drdid.PANEL[method](dy, D, np.ones((keep.sum(), 1)), w)
        yield j, row.att, att, rowpos[keep], inf * n / keep.sum()


CLOSED_FORM = [
    dict(method="dr", control="never", weights=None, fix_weights="earlier"),
    dict(method="ipw", control="notyet", weights=None, fix_weights="earlier"),
    dict(method="reg", control="notyet", weights="w", fix_weights="base_period"),
    dict(method="dr", control="never", weights="w", fix_weights="first_period"),
    dict(method="dr_imp", control="notyet", weights="w", fix_weights="earlier"),
    dict(method="ipw_unnormalized", control="never", weights=None, fix_weights="earlier"),
    dict(method="dr", control="notyet", weights=None, fix_weights="earlier",
         base_period="universal"),
    dict(method="reg", control="notyet", weights=None, fix_weights="earlier", anticipation=1),
]  # fmt: skip


@pytest.mark.parametrize("kw", CLOSED_FORM, ids=lambda kw: "-".join(map(str, kw.values())))
def test_closed_form_cells_equal_the_general_estimator(kw):
    df = cs_panel(n_units=300, n_periods=6, cohorts=(0, 3, 4, 5), seed=21)
    df["w"] = df["w"] * (1 + 0.1 * df["time"])  # time-varying weights: fix_weights matters
    res = att_gt(df, **KEYS, **kw)
    assert res.data.X is None
    anticipation = kw.get("anticipation", 0)
    cells = list(_oracle_cells(df, res, kw["method"], kw["control"], kw["weights"],
                               kw["fix_weights"], anticipation))  # fmt: skip
    assert len(cells) >= 10
    for j, got, want, rows, inf in cells:
        assert got == pytest.approx(want, rel=1e-10, abs=1e-9)  # outcomes are O(1)
        col = res.inf[:, j].toarray().ravel()
        # atol on the scale of the column: the logit of the general route converges to 1e-8
        np.testing.assert_allclose(col[rows], inf, rtol=1e-9, atol=1e-9 * np.abs(inf).max())
        assert np.count_nonzero(np.delete(col, rows)) == 0


def test_trimmed_share_leaves_the_closed_form():
    """A treated share at DRDID's trimming level: the rule sends IPW/DR to the estimator,
    outcome regression stays closed form (no propensity score)."""
    assert not closed_form_applies("dr", "earlier", True, drdid.TRIM_LEVEL)
    assert closed_form_applies("reg", "earlier", True, drdid.TRIM_LEVEL)
    assert not closed_form_applies("reg", "varying", True, 0.5)
    assert not closed_form_applies("reg", "earlier", False, 0.5)


# ---------------------------------------------------------------- jackknife replicates


def _rc(df):
    keep = np.random.default_rng(1).integers(1, 6, df["unit"].nunique())
    return df[df["time"].to_numpy() == keep[df["unit"].to_numpy() - 1]]


def _unbalanced(df):
    return df.drop(index=np.random.default_rng(2).choice(len(df), 120, replace=False))


JACKKNIFE = {
    "balanced-never-dr": ({}, None, "closed form"),
    "notyet-reg": (dict(control="notyet", method="reg"), None, "closed form"),
    "weights-ipw": (dict(weights="w", method="ipw"), None, "closed form"),
    "universal-dr": (dict(base_period="universal", control="notyet"), None, "closed form"),
    "covariates-dr": (dict(covariates=["x"], control="notyet"), None, "refit"),
    "varying-weights": (dict(weights="w", fix_weights="varying"), None, "refit"),
    "rc-reg": (dict(panel=False, method="reg"), _rc, "refit"),
    "unbalanced-notyet": (dict(allow_unbalanced=True, control="notyet"), _unbalanced, "refit"),
}


def _if_row_clusters(df, res, design):
    """The cluster label of every IF row, as att_gt orders them."""
    if design.startswith("rc"):
        return df["cluster"].to_numpy()
    units = df.groupby("unit")[["cohort", "cluster"]].first()  # sorted unit ids
    if design.startswith("unbalanced"):
        return units["cluster"].to_numpy()
    return units["cluster"].to_numpy()[np.argsort(units["cohort"].to_numpy(), kind="stable")]


@pytest.mark.parametrize("design", JACKKNIFE)
def test_replicates_equal_dropping_each_cluster_by_hand(design):
    att_kw, reshape, route = JACKKNIFE[design]
    df = cs_panel(n_units=240, n_periods=5, cohorts=(0, 3, 4, 5), seed=7, covariate_trend=0.3)
    df["cluster"] = df["cluster"] % 7
    if reshape is not None:
        df = reshape(df)
    kw = {**KEYS, **att_kw, "cluster": "cluster"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = att_gt(df, **kw)
        reps = jk.replicates(res)
        labels = _if_row_clusters(df, res, design)
        code_label = pd.Series(labels).groupby(res.data.cluster).first()
        keys = list(zip(res.table["group"], res.table["time"], strict=True))
        for code, label in code_label.items():
            sub = att_gt(df[df["cluster"] != label], **kw).table
            by_hand = dict(zip(zip(sub["group"], sub["time"], strict=True), sub["att"],
                               strict=True))  # fmt: skip
            want = np.array([by_hand.get(k, np.nan) for k in keys])
            np.testing.assert_allclose(reps.att[code], want, rtol=1e-9, atol=1e-12)
    M = jk._membership(res.data)
    closed = jk._closed_form_data(res.data, res.settings) and jk._closed_form(res, M) is not None
    assert ("closed form" if closed else "refit") == route
