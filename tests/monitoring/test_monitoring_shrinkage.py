"""Empirical-Bayes shrinkage: prior recovery, fewer false hotspots, the gap index (known truth)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from botrygt_eval.errors import EstimationError
from botrygt_eval.monitoring.shrinkage import (
    beta_prior,
    gamma_prior,
    gap_index,
    shrink_rates,
)


def test_moment_prior_recovers_a_known_gamma():
    # large exposures: the method of moments must find the true Gamma(shape 4, rate 400)
    rng = np.random.default_rng(11)
    n = rng.integers(20_000, 40_000, 4000).astype(float)
    theta = rng.gamma(4.0, 1 / 400.0, 4000)
    y = rng.poisson(n * theta)
    prior = gamma_prior(y, n)
    assert prior.mean == pytest.approx(0.01, rel=0.02)
    assert prior.shape == pytest.approx(4.0, rel=0.1)


def test_moment_prior_recovers_a_known_beta():
    rng = np.random.default_rng(12)
    n = rng.integers(2_000, 5_000, 4000).astype(float)
    x = rng.binomial(n.astype(int), rng.beta(3.0, 12.0, 4000))
    prior = beta_prior(x, n)
    assert prior.alpha == pytest.approx(3.0, rel=0.1)
    assert prior.beta == pytest.approx(12.0, rel=0.1)


def test_posterior_is_the_conjugate_gamma():
    # shrink_rates must equal Gamma(a + y, b + n) quantiles computed here from scipy directly
    y, n = np.array([0, 1, 10]), np.array([10.0, 100.0, 1000.0])
    mean, low, high, prior = shrink_rates(y, n, level=0.9)
    a, b = prior.shape + y, prior.rate + n
    np.testing.assert_allclose(mean, a / b)
    np.testing.assert_allclose(low, stats.gamma(a, scale=1 / b).ppf(0.05))
    np.testing.assert_allclose(high, stats.gamma(a, scale=1 / b).ppf(0.95))


def _grid_with_hotspots(seed: int):
    """600 cells, most with few households; 30 true hotspots at 3x the base rate."""
    rng = np.random.default_rng(seed)
    n = np.where(rng.random(600) < 0.6, rng.integers(5, 40, 600), rng.integers(200, 2000, 600))
    hot = np.zeros(600, dtype=bool)
    hot[rng.choice(600, 30, replace=False)] = True
    theta = 0.01 * np.exp(rng.normal(0, 0.15, 600)) * np.where(hot, 3.0, 1.0)
    return rng.poisson(n * theta), n.astype(float), hot


def test_shrinkage_reduces_false_hotspots():
    """A cell is called hot when its rate is above twice the kommune rate. Raw rates call
    many small cells with one or two burglaries hot; shrunk rates call almost none, keep
    most of the large true hotspots and make far fewer errors overall (20 kommuner)."""
    fp_raw, fp_eb, tp_big, err_raw, err_eb = [], [], [], [], []
    for seed in range(20):
        y, n, hot = _grid_with_hotspots(seed)
        overall = y.sum() / n.sum()
        raw_call = y / n > 2 * overall
        eb_call = shrink_rates(y, n)[0] > 2 * overall
        fp_raw.append(raw_call[~hot].mean())
        fp_eb.append(eb_call[~hot].mean())
        big = hot & (n >= 1000)
        if big.any():
            tp_big.append(eb_call[big].mean())
        err_raw.append((raw_call != hot).sum())
        err_eb.append((eb_call != hot).sum())
    assert np.mean(fp_raw) > 0.10  # the problem is real: one in ten cold cells looks hot
    assert np.mean(fp_eb) < np.mean(fp_raw) / 5
    assert np.mean(tp_big) > 0.6  # hotspots with >= 1,000 households survive shrinkage
    assert np.mean(err_eb) < np.mean(err_raw) / 2


def test_gap_index_ranks_planted_gap_cells_first():
    rng = np.random.default_rng(3)
    n = rng.integers(100, 3000, 400).astype(float)
    gap = np.zeros(400, dtype=bool)
    gap[:20] = True
    y = rng.poisson(n * 0.01 * np.where(gap, 3.0, 1.0))
    x = rng.binomial(n.astype(int), np.where(gap, 0.04, 0.12))
    g = gap_index(y, x, n)
    auc = stats.mannwhitneyu(g["gap_index"][gap], g["gap_index"][~gap]).statistic / (20 * 380)
    assert auc > 0.95
    assert ((g["gap_index"] >= 0) & (g["gap_index"] <= 1)).all()
    assert np.median(g["gap_index"][gap]) > 0.9


def test_bad_input_is_refused():
    with pytest.raises(EstimationError, match="non-negative"):
        gamma_prior([1, -1], [10, 10])
    with pytest.raises(EstimationError, match="no households"):
        gamma_prior([0, 0], [0, 0])
