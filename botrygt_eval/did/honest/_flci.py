"""Fixed-length confidence interval (FLCI) for Delta^SD(M) (Armstrong & Kolesar style).

As HonestDiD's R/flci.R (``findOptimalFLCI``): the affine estimator
``l_pre' beta_pre + l' beta_post`` has pre-period weights written through
``w`` (``l_pre = D w``, D the first-difference map) with ``sum(w) = sum_s s l_s``; its
worst-case bias over Delta^SD(M) is ``M (const + sum_i |w_1 + ... + w_i|)``. For a
standard deviation ``h`` the smallest worst-case bias is a second-order cone program
(solved here with SLSQP on ``(U, w)``, ``U_i >= |cumsum(w)_i|``); the half-length
``h * q_{1-alpha}(|N(bias/h, 1)|)`` is minimised over ``h`` in ``[h_min, h_0]`` by R's
derivative bisection. The folded-normal quantile is R's: the empirical quantile of
``|z + mu|`` over the 10^6 draws of ``set.seed(seed); rnorm(10^6)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize

from botrygt_eval.did.honest._rrng import quantile7, rnorm

EPS = np.finfo(float).eps


@lru_cache(maxsize=4)
def _draws(seed: int, n: int = 10**6) -> np.ndarray:
    return rnorm(n, seed)


def qfoldednormal(p: float, mu: float, seed: int = 0) -> float:
    """R's ``.qfoldednormal``: empirical p-quantile of |z + mu| over 10^6 seeded draws."""
    return quantile7(np.abs(_draws(seed) + mu), p)


@dataclass(frozen=True)
class FLCI:
    """The optimal affine estimator and its half-length."""

    optimal_vec: np.ndarray  # weights on (beta_pre, beta_post)
    halflength: float
    h: float

    def interval(self, betahat: np.ndarray) -> tuple[float, float]:
        c = float(self.optimal_vec @ betahat)
        return c - self.halflength, c + self.halflength


class _Problem:
    def __init__(self, sigma, num_pre, num_post, l_vec):
        K, P = num_pre, num_post
        self.K, self.l = K, np.asarray(l_vec, float)
        self.D = np.eye(K) - np.eye(K, k=-1)
        spre = sigma[:K, :K]
        spp = sigma[:K, K:]
        self.Q = self.D.T @ spre @ self.D
        self.q = self.D.T @ spp @ self.l
        self.c0 = float(self.l @ sigma[K:, K:] @ self.l)
        s = np.arange(1, P + 1)
        self.total = float(s @ self.l)  # sum(w)
        self.const = sum(abs(float(np.arange(1, j + 1) @ self.l[P - j :])) for j in range(1, P + 1))
        self.const -= self.total
        self.L = np.tril(np.ones((K, K)))
        # minimum-variance w (equality-constrained QP, closed form)
        kkt = np.block([[2 * self.Q, np.ones((K, 1))], [np.ones((1, K)), np.zeros((1, 1))]])
        sol = np.linalg.lstsq(kkt, np.r_[-2 * self.q, self.total], rcond=None)[0]
        self.w_min = sol[:K]
        self.w_0 = np.r_[np.zeros(K - 1), self.total]
        self.h_min = np.sqrt(max(self.var(self.w_min), 0.0))
        self.h_0 = np.sqrt(self.var(self.w_0))

    def var(self, w):
        return float(w @ self.Q @ w + 2 * self.q @ w + self.c0)

    def bias_of(self, w):
        return self.const + float(np.abs(self.L @ w).sum())

    def min_bias(self, h: float) -> tuple[float, np.ndarray]:
        """Smallest worst-case bias (M = 1) among weights with SD <= h."""
        if h < self.h_min * (1 - 1e-9):
            return np.inf, self.w_min
        if h <= self.h_min * (1 + 1e-12):
            return self.bias_of(self.w_min), self.w_min
        if h >= self.h_0:
            return self.bias_of(self.w_0), self.w_0
        K, h2 = self.K, h * h
        # start on the segment from the min-variance to the min-bias weights, at var = h^2
        lo, hi = 0.0, 1.0
        for _ in range(60):
            t = (lo + hi) / 2
            if self.var(self.w_min + t * (self.w_0 - self.w_min)) <= h2:
                lo = t
            else:
                hi = t
        w = self.w_min + lo * (self.w_0 - self.w_min)
        x0 = np.r_[np.abs(self.L @ w), w]
        cons = [
            {"type": "ineq", "fun": lambda x: x[:K] - self.L @ x[K:],
             "jac": lambda x: np.hstack([np.eye(K), -self.L])},
            {"type": "ineq", "fun": lambda x: x[:K] + self.L @ x[K:],
             "jac": lambda x: np.hstack([np.eye(K), self.L])},
            {"type": "eq", "fun": lambda x: np.sum(x[K:]) - self.total,
             "jac": lambda x: np.r_[np.zeros(K), np.ones(K)][None, :]},
            {"type": "ineq", "fun": lambda x: (h2 - self.var(x[K:])) / h2,
             "jac": lambda x: np.r_[np.zeros(K), -(2 * self.Q @ x[K:] + 2 * self.q)][None, :] / h2},
        ]  # fmt: skip
        r = optimize.minimize(
            lambda x: x[:K].sum(), x0, jac=lambda x: np.r_[np.ones(K), np.zeros(K)],
            constraints=cons, method="SLSQP", options={"ftol": 1e-15, "maxiter": 1000},
        )  # fmt: skip
        w = r.x[K:]
        return self.bias_of(w), w


def optimal_flci(sigma, num_pre, num_post, l_vec, M, alpha, seed=0, num_points=100) -> FLCI:
    """HonestDiD's ``.findOptimalFLCI_helper``."""
    pr = _Problem(np.asarray(sigma, float), num_pre, num_post, l_vec)
    p = 1 - alpha

    def f(h):
        b, _ = pr.min_bias(h)
        return qfoldednormal(p, M * b / h, seed) * h if np.isfinite(b) else np.nan

    a, b = pr.h_min, pr.h_0
    hstar = _derivative_bisection(f, a, b, num_points)
    if np.isnan(hstar):  # R falls back on a grid of h
        grid = np.linspace(a, b, num_points)
        vals = np.array([f(h) for h in grid])
        hstar = float(grid[np.nanargmin(vals)])
    bias, w = pr.min_bias(hstar)
    half = qfoldednormal(p, M * bias / hstar, seed) * hstar
    return FLCI(optimal_vec=np.r_[pr.D @ w, pr.l], halflength=float(half), h=float(hstar))


def _derivative_bisection(f, a, b, num_points) -> float:
    """R's ``.findOptimalCIDerivativeBisection`` (convex f; NaN on failure)."""
    failtol = EPS**0.5
    dif = min((b - a) / num_points, abs(b) * EPS ** (1 / 3))
    if dif <= 0:
        return a
    fa, fb = f(a), f(b)
    fpa = (f(a + dif) - fa) / dif
    fpb = (f(b - dif) - fb) / -dif
    it = 1
    maxiter = 10 * int(np.ceil(np.log(abs(b - a) / dif) / np.log(2)))
    if fpa > fpb or np.isnan(fa) or np.isnan(fb):
        return np.nan
    if fpb < 0:
        return b
    if fpa > 0:
        return a
    failed = False
    while not failed and abs(b - a) > dif:
        it += 1
        x = (a + b) / 2
        fpx = (f(x + dif) - f(x - dif)) / (2 * dif)
        failed = (fpx > fpb + failtol) or (fpx + failtol < fpa) or it > maxiter
        if fpx > 0:
            b = x
        else:
            a = x
    return np.nan if failed else (a + b) / 2
