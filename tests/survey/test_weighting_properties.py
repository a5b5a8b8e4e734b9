"""Property tests (hypothesis) and closed-form cases for raking, calibration and trimming."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botrygt_eval.errors import ConvergenceError
from botrygt_eval.survey.calibrate import (
    calibrate_weights,
    calibration_matrix,
    poststratify_weights,
    rake_weights,
)
from botrygt_eval.survey.margins import parse_margins
from botrygt_eval.survey.trim import trim_weights

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def survey(draw):
    """A small sample with every cell present, positive weights and consistent margins."""
    seed = draw(st.integers(0, 2**31 - 1))
    n = draw(st.integers(40, 300))
    ka, kb = draw(st.integers(2, 5)), draw(st.integers(2, 4))
    rng = np.random.default_rng(seed)
    # every (a, b) cell is present, so any positive margins are attainable
    a = np.concatenate([np.repeat(np.arange(ka), kb), rng.integers(0, ka, n - ka * kb)])
    b = np.concatenate([np.tile(np.arange(kb), ka), rng.integers(0, kb, n - ka * kb)])
    df = pd.DataFrame({"a": a + 101, "b": np.array(list("pqrs"))[b]})
    w = rng.uniform(1, 10, n)
    pop = draw(st.floats(1e3, 1e7))
    pa = rng.dirichlet(np.ones(ka) * 3)
    pb = rng.dirichlet(np.ones(kb) * 3)
    margins = pd.DataFrame(
        [("a", str(101 + i), pop * p) for i, p in enumerate(pa)]
        + [("b", "pqrs"[i], pop * p) for i, p in enumerate(pb)],
        columns=["variable", "level", "total"],
    )
    return df, w, margins


def achieved(df, w, margins):
    m = parse_margins(margins)
    out = []
    for v in m.variables:
        got = pd.Series(w).groupby(df[v].astype(str).to_numpy()).sum()
        out.append(got.reindex(list(m.levels[v])).to_numpy() / m.totals[v] - 1)
    return np.concatenate(out)


@SETTINGS
@given(survey())
def test_raking_hits_the_margins(s):
    df, w, margins = s
    fit = rake_weights(df, w, margins, tol=1e-10, maxit=5000)
    assert np.max(np.abs(achieved(df, fit.weights, margins))) < 1e-9
    assert (fit.weights > 0).all()


@SETTINGS
@given(survey(), st.sampled_from(["linear", "logit", "raking"]))
def test_calibration_hits_the_margins(s, calfun):
    df, w, margins = s
    X, totals, _ = calibration_matrix(df, margins)
    bounds = (0.01, 100.0) if calfun == "logit" else None
    try:
        fit = calibrate_weights(X, w, totals, calfun=calfun, bounds=bounds, maxit=200)
    except ConvergenceError:
        # only bounded logit may be unattainable; linear and raking always have a solution
        assert calfun == "logit"
        return
    assert np.max(np.abs(achieved(df, w * fit.g, margins))) < 1e-8
    if bounds:
        assert fit.g.min() >= bounds[0] and fit.g.max() <= bounds[1]


@SETTINGS
@given(survey(), st.integers(0, 2**31 - 1))
def test_raking_is_invariant_to_row_order(s, seed):
    df, w, margins = s
    perm = np.random.default_rng(seed).permutation(len(df))
    a = rake_weights(df, w, margins).weights
    b = rake_weights(df.iloc[perm].reset_index(drop=True), w[perm], margins).weights
    np.testing.assert_allclose(b, a[perm], rtol=1e-12)


@SETTINGS
@given(survey(), st.floats(0.01, 1000))
def test_weights_scale_with_the_population(s, k):
    df, w, margins = s
    a = rake_weights(df, w, margins).weights
    m2 = margins.assign(total=margins["total"] * k)
    b = rake_weights(df, w, m2).weights
    np.testing.assert_allclose(b, a * k, rtol=1e-9)
    X, t, _ = calibration_matrix(df, margins)
    g1 = calibrate_weights(X, w, t, calfun="linear").g
    g2 = calibrate_weights(X, w, t * k, calfun="linear").g
    # linear calibration: g is affine in the totals, so check the weights' totals scale
    np.testing.assert_allclose(X.T @ (w * g2), k * (X.T @ (w * g1)), rtol=1e-9)


def test_raking_one_margin_is_poststratification():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"k": rng.choice([101, 147, 151], 500)})
    w = rng.uniform(1, 5, 500)
    m = pd.DataFrame({"variable": "k", "level": ["101", "147", "151"], "total": [5e3, 3e3, 2e3]})
    np.testing.assert_allclose(
        rake_weights(df, w, m).weights, poststratify_weights(df, w, m), rtol=1e-13
    )


def test_raking_independent_table_closed_form():
    """With a product-form starting table, IPF converges to w * (A_a / W_a) * (B_b / W_b) / ..."""
    # sample = every (a, b) cell once with weight 1; targets are a product table
    df = pd.DataFrame({"a": [0, 0, 1, 1], "b": [0, 1, 0, 1]})
    m = pd.DataFrame(
        {
            "variable": ["a", "a", "b", "b"],
            "level": ["0", "1", "0", "1"],
            "total": [30.0, 70.0, 40.0, 60.0],
        }
    )
    fit = rake_weights(df, np.ones(4), m, tol=1e-14)
    expect = np.array([30 * 40, 30 * 60, 70 * 40, 70 * 60]) / 100.0
    np.testing.assert_allclose(fit.weights, expect, rtol=1e-12)


def test_greg_closed_form_equals_newton():
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(200), rng.normal(size=200), rng.integers(0, 2, 200)])
    d = rng.uniform(1, 3, 200)
    t = X.T @ d * np.array([1.05, 1.0, 0.9]) + np.array([0, 20, 0])
    closed = calibrate_weights(X, d, t, calfun="linear").g
    newton = calibrate_weights(X, d, t, calfun="linear", bounds=(-1e9, 1e9), tol=1e-13).g
    np.testing.assert_allclose(closed, newton, rtol=1e-10)


@SETTINGS
@given(
    st.lists(st.floats(0.5, 100), min_size=5, max_size=200),
    st.floats(1.1, 3.0),
)
def test_strict_trimming_keeps_total_and_bound(raw, mult):
    w = np.asarray(raw)
    upper = mult * w.mean()
    fit = trim_weights(w, upper, strict=True)
    assert fit.weights.sum() == pytest.approx(w.sum(), rel=1e-12)
    assert fit.weights.max() <= upper * (1 + 1e-12)
    assert fit.n_trimmed == int((w > upper).sum())


def test_trim_relative_to_median():
    w = np.array([1.0, 1, 1, 1, 10])
    fit = trim_weights(w, 3, relative_to="median")
    assert fit.upper == 3.0 and fit.weights.max() == pytest.approx(3.0)
    assert fit.weights.sum() == pytest.approx(14.0)
