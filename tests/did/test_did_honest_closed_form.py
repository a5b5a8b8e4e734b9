"""honest_did against identified sets in closed form, with a nearly known beta.

As sigma -> 0 every method's interval shrinks to the identified set of theta = tau_0,
which has a closed form for these designs (reference period -1, bias delta_{-1} = 0):
* Delta^SD(M) with linear pre-trends delta_e = -c (e + 1): delta_0 in [-c - M, -c + M],
  so tau_0 in [beta_0 + c - M, beta_0 + c + M];
* Delta^RM(Mbar): |delta_0| <= Mbar * max |pre-period first differences| =: Mbar m;
* the positive-bias variants add delta_0 >= 0, i.e. tau_0 <= beta_0.
This checks the conditional, hybrid and FLCI routes that the HonestDiD README does not print.
"""

from __future__ import annotations

import numpy as np
import pytest

from botrygt_eval.did import honest_did

EPS = 1e-6
M = 0.1
B0 = 1.0
C = 0.05


def design(num_post, eps=EPS):
    beta_pre = np.array([2 * C, C])  # e = -3, -2: linear through delta_{-1} = 0
    beta = np.r_[beta_pre, B0, np.full(num_post - 1, B0 + 0.3)]
    return beta, eps**2 * np.eye(len(beta))


def check(res, lo, hi, step, eps=EPS):
    lb, ub = res.table["lb"].iloc[0], res.table["ub"].iloc[0]
    assert lb == pytest.approx(lo, abs=step + 10 * eps)
    assert ub == pytest.approx(hi, abs=step + 10 * eps)


@pytest.mark.parametrize("num_post", [1, 2])
@pytest.mark.parametrize("method", ["FLCI", "Conditional", "C-LF", "C-F"])
def test_smoothness_shrinks_to_the_identified_set(num_post, method):
    beta, sigma = design(num_post)
    kw = {} if method == "FLCI" else dict(grid_lb=B0 - 3 * M, grid_ub=B0 + 3 * M, grid_points=1201)
    if method == "C-F":
        kw = {}  # the grid is the first-stage FLCI
    res = honest_did(beta, sigma, 2, num_post, restriction="smoothness", m_grid=[M],
                     method=method, **kw)  # fmt: skip
    check(res, B0 + C - M, B0 + C + M, 6 * M / 1200 if method != "C-F" else 2 * M / 999)


@pytest.mark.parametrize("num_post", [1, 2])
@pytest.mark.parametrize("method", ["Conditional", "C-F"])
def test_positive_bias_smoothness_caps_at_beta0(num_post, method):
    eps = EPS
    beta, sigma = design(num_post, eps)
    c = 0.5 * M  # so that beta_0 + c + M > beta_0: the sign restriction binds
    beta[:2] = [2 * c, c]
    # HonestDiD's default grid for "Conditional" is centred on the identified set at
    # beta = 0 (+/- 20 sd), so with a tiny sigma it must be given
    kw = {} if method == "C-F" else dict(grid_lb=B0 - 3 * M, grid_ub=B0 + 3 * M, grid_points=1201)
    res = honest_did(beta, sigma, 2, num_post, restriction="smoothness", m_grid=[M],
                     method=method, bias_direction="positive", **kw)  # fmt: skip
    assert res.delta == "DeltaSDPB"
    check(res, B0 + c - M, B0, 2 * (2 * M) / 999 if method == "C-F" else 6 * M / 1200, eps)


@pytest.mark.parametrize("num_post", [1, 2])
@pytest.mark.parametrize("method", ["C-LF", "Conditional"])
def test_relative_magnitudes_shrink_to_the_identified_set(num_post, method):
    beta, sigma = design(num_post)
    beta[:2] = [0.03, 0.08]  # first differences 0.05 and -0.08: m = 0.08
    mbar, m = 1.5, 0.08
    res = honest_did(beta, sigma, 2, num_post, m_grid=[mbar], method=method,
                     grid_lb=B0 - 0.3, grid_ub=B0 + 0.3, grid_points=1201)  # fmt: skip
    check(res, B0 - mbar * m, B0 + mbar * m, 0.6 / 1200)
    pos = honest_did(beta, sigma, 2, num_post, m_grid=[mbar], method=method,
                     bias_direction="positive", grid_lb=B0 - 0.3, grid_ub=B0 + 0.3,
                     grid_points=1201)  # fmt: skip
    assert pos.delta == "DeltaRMPB"
    check(pos, B0 - mbar * m, B0, 0.6 / 1200)


@pytest.mark.parametrize("num_post", [1, 2])
def test_increasing_bias_variants(num_post):
    """Delta^SDI and Delta^RMI: delta increasing through delta_{-1} = 0, so delta_0 >= 0."""
    beta, sigma = design(num_post)
    beta[:2] = [-2 * C, -C]  # increasing linear pre-trend: delta_e = C (e + 1)
    sdi = honest_did(beta, sigma, 2, num_post, restriction="smoothness", m_grid=[M],
                     monotonicity="increasing")  # fmt: skip
    assert sdi.delta == "DeltaSDI" and sdi.method == "C-F"
    check(sdi, B0 - (C + M), B0 - max(C - M, 0.0), 2 * M / 999 * 2)
    beta[:2] = [-0.08, -0.03]  # first differences 0.05, 0.03: m = 0.05
    rmi = honest_did(beta, sigma, 2, num_post, m_grid=[2.0], monotonicity="increasing",
                     grid_lb=B0 - 0.3, grid_ub=B0 + 0.3, grid_points=1201)  # fmt: skip
    assert rmi.delta == "DeltaRMI"
    check(rmi, B0 - 2.0 * 0.05, B0, 0.6 / 1200)


@pytest.mark.parametrize("num_post", [1, 2])
def test_deviation_from_linear_trend(num_post):
    """Delta^SDRM: post second differences at most Mbar times the largest pre one.
    Pre-periods e = -4, -3, -2 with second differences a and 0 give
    delta_0 in [-c - Mbar a, -c + Mbar a]."""
    a, mbar = 0.04, 1.5
    beta = np.r_[3 * C + a, 2 * C, C, B0, np.full(num_post - 1, B0 + 0.3)]
    sigma = EPS**2 * np.eye(len(beta))
    res = honest_did(beta, sigma, 3, num_post, m_grid=[mbar], bound="deviation from linear trend",
                     grid_lb=B0 - 0.3, grid_ub=B0 + 0.3, grid_points=1201)  # fmt: skip
    assert res.delta == "DeltaSDRM"
    check(res, B0 + C - mbar * a, B0 + C + mbar * a, 0.6 / 1200)
