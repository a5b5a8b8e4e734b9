"""Analytic SEs from the Gram of the influence functions equal the dense route.

``ATTgtResult.gram`` is S'S for S the cluster sums of ``[inf, cohort_columns]``; each
aggregate's SE is a quadratic form in it. Checked against the matrix product written
out densely here (cluster sums by pandas groupby) and against
``inference.analytic_se`` on the aggregate's dense influence function (the route the
package took before), for panels (with the compressed never-treated block), weights,
covariates, not-yet-treated controls, a universal base period, clusters, repeated
cross-sections and an unbalanced panel. Reading a panel by reshaping (rows in the
usual unit-then-period order) must give what reading shuffled rows gives.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did import aggregate, att_gt
from botrygt_eval.did.att_gt import cohort_columns
from botrygt_eval.did.inference import analytic_se
from tests.did.did_cs_sim import cs_panel

KEYS = dict(unit="unit", time="time", cohort="cohort", outcome="y")
DESIGNS = {
    "never": {},
    "notyet-dr": dict(control="notyet", method="dr"),
    "weights-reg": dict(weights="w", method="reg"),
    "weights-ipw": dict(weights="w", method="ipw"),
    "covariate-dr": dict(covariates=["x"], method="dr"),
    "universal": dict(base_period="universal"),
    "cluster": dict(cluster="cluster"),
    "cluster-covariate": dict(cluster="cluster", covariates=["x"], control="notyet"),
    "rc": dict(panel=False),
    "unbalanced": dict(allow_unbalanced=True),
}


def _data(design):
    df = cs_panel(n_units=400, n_periods=6, cohorts=(0, 3, 4, 5, 6), seed=5)
    if design == "rc":
        keep = np.random.default_rng(1).integers(1, 7, df["unit"].nunique())
        df = df[df["time"].to_numpy() == keep[df["unit"].to_numpy() - 1]]
    if design == "unbalanced":
        df = df.drop(index=np.random.default_rng(2).choice(len(df), 150, replace=False))
    return df


def _fit(design):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return att_gt(_data(design), **KEYS, **DESIGNS[design])


def _dense_gram(res):
    z = np.hstack([res.inf.toarray(), cohort_columns(res.data).toarray()])
    if res.data.cluster is not None:
        z = pd.DataFrame(z).groupby(res.data.cluster).sum().to_numpy()
    return z.T @ z


@pytest.mark.parametrize("chunk", [None, 97], ids=["one-product", "blocks-or-patterns"])
@pytest.mark.parametrize("design", DESIGNS)
def test_gram_equals_dense_product(design, chunk, monkeypatch):
    """Small problems take one dense product; with a tiny chunk the same data go through
    the cohort-block route (panels) or the sparsity-pattern route (clusters, RC)."""
    if chunk is not None:
        monkeypatch.setattr(importlib.import_module("botrygt_eval.did.att_gt"), "GRAM_CHUNK", chunk)
    res = _fit(design)
    want = _dense_gram(res)
    scale = np.sqrt(np.outer(np.diag(want), np.diag(want))) + 1e-300
    np.testing.assert_allclose(res.gram / scale, want / scale, rtol=0, atol=1e-10)


@pytest.mark.parametrize("keep_gram", [True, False], ids=["gram", "cluster-sums"])
@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("type_", ["simple", "group", "dynamic", "calendar"])
def test_aggregate_se_equals_dense_influence_function_route(design, type_, keep_gram, monkeypatch):
    """Through the kept Gram, and (too many cells to keep one) the cluster sums."""
    if not keep_gram:
        monkeypatch.setattr(
            importlib.import_module("botrygt_eval.did.att_gt"), "MAX_GRAM_COLUMNS", 0
        )
    res = _fit(design)
    assert (res.gram is not None) == keep_gram
    a = aggregate(res, type_)
    dense = analytic_se(a.inf, res.data.cluster)
    got = np.r_[a.by["se"].to_numpy(float), a.overall_se]
    np.testing.assert_allclose(got, dense, rtol=1e-9, atol=0)
    assert a.inf.shape == (res.n, len(a.by) + 1)


def test_wide_never_treated_block_is_compressed_exactly(monkeypatch):
    """The never-treated block touches every cell: its Gram goes through the projection on
    the outcomes (more cells than 2 x (periods + 1)) and must equal the plain product,
    however the rows are chunked."""
    mod = importlib.import_module("botrygt_eval.did.att_gt")
    res = _fit("never")
    d = res.data
    assert res.inf.shape[1] > 2 * (d.Y.shape[1] + 1)
    qr_calls = []
    real_qr = np.linalg.qr
    monkeypatch.setattr(np.linalg, "qr", lambda a, *k: qr_calls.append(a.shape) or real_qr(a, *k))
    monkeypatch.setattr(mod, "GRAM_CHUNK", 97)  # many row chunks
    chunked = mod.if_gram(res.inf, d)
    assert qr_calls, "the wide block was not projected"
    want = _dense_gram(res)
    np.testing.assert_allclose(chunked, want, rtol=1e-10, atol=1e-8 * np.abs(want).max())


@pytest.mark.parametrize("design", ["never", "covariate-dr", "weights-ipw", "cluster"])
def test_reading_the_grid_by_reshaping_equals_reading_shuffled_rows(design):
    df = _data(design)
    shuffled = df.sample(frac=1.0, random_state=3)
    kw = {**KEYS, **DESIGNS[design]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = att_gt(df, **kw), att_gt(shuffled, **kw)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=False, rtol=1e-12)
    np.testing.assert_allclose(a.inf.toarray(), b.inf.toarray(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(a.data.cohort, b.data.cohort)


@pytest.mark.parametrize("keep_gram", [True, False], ids=["gram", "cluster-sums"])
def test_pretest_from_the_gram_equals_dense_wald_statistic(keep_gram, monkeypatch):
    if not keep_gram:
        monkeypatch.setattr(
            importlib.import_module("botrygt_eval.did.att_gt"), "MAX_GRAM_COLUMNS", 0
        )
    res = _fit("cluster")
    t = res.table
    pre = np.nonzero((t["group"] > t["time"]).to_numpy() & t["se"].notna().to_numpy())[0]
    z = pd.DataFrame(res.inf[:, pre].toarray()).groupby(res.data.cluster).sum().to_numpy()
    V = z.T @ z / res.n
    a = t["att"].to_numpy()[pre]
    assert res.pretest.statistic == pytest.approx(res.n * a @ np.linalg.solve(V, a), rel=1e-9)


def test_grid_read_with_dropped_units_and_periods_equals_shuffled_rows():
    """Units treated in the first period are dropped and, without never-treated units,
    the last cohort's periods too: the reshape read must drop the same rows."""
    df = cs_panel(n_units=300, n_periods=6, cohorts=(1, 3, 4, 5, 6), seed=9)
    assert (df["cohort"] == 1).any() and not (df["cohort"] == 0).any()
    kw = {**KEYS, "control": "notyet"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = att_gt(df, **kw)
        b = att_gt(df.sample(frac=1.0, random_state=4), **kw)
    assert a.data.n_units == b.data.n_units < 300
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=False, rtol=1e-12)
    np.testing.assert_allclose(a.inf.toarray(), b.inf.toarray(), rtol=1e-12, atol=1e-12)
