"""Wild cluster bootstrap for TWFE / event studies and the score bootstrap for PPML.

With 98 kommuner of which 25 are treated, a coefficient rests on few *effective*
clusters and sandwich t tests over-reject (MacKinnon & Webb 2017). The restricted wild
cluster bootstrap (WCR, Cameron, Gelbach & Miller 2008; the default of Stata's
``boottest``, Roodman, MacKinnon, Nielsen & Webb 2019) imposes the null ``beta_j =
theta0`` on the bootstrap data-generating process, multiplies each cluster's restricted
residuals by one draw ``v_g`` (Rademacher +/-1, or Webb's six points +/-sqrt(1/2),
+/-1, +/-sqrt(3/2)) and compares the CR1 t statistic with the bootstrap t statistics.
With ``2^G <= draws`` Rademacher draws are enumerated (every sign vector once), so the
test is deterministic.

Linear models (FWL, Roodman et al. 2019 section 3). The unit and period effects are
partialled out once (:func:`botrygt_eval.did.poisson.two_way_wls`), in the weighted
coordinates ``sqrt(w) z``. For ``H0: beta_j = theta0`` the restricted residuals are
affine in ``theta0``: ``u(theta0) = u0 - theta0 u1`` with ``u0 = M_-j y~``, ``u1 = M_-j
x~_j``. The bootstrap numerator is ``beta*_j - theta0 = C v`` with ``C_g = a_j' X~_g'
u_g`` (``a_j`` row j of ``(X~'X~)^-1``) and the bootstrap cluster scores of the
re-estimated model are ``Z = diag(C) v - (H + F) v`` with ``H_gh = a_j' X~_g'X~_g A
X~_h'u_h`` (re-fitting the regressors) and ``F_gh = a_j' X~_g' [P_FE D_h u]_g``
(re-fitting the fixed effects, which are not nested in the clusters for the period
effects). Both are affine in ``theta0``, so every bootstrap t statistic is
``(n0 - theta0 n1) / sqrt(c (q0 - 2 theta0 q01 + theta0^2 q11))`` with B-vectors
computed once from the (clusters x B) draw matrix: p-values at any ``theta0`` cost
O(B), and the confidence interval is the set of ``theta0`` not rejected (test
inversion, as boottest), found by bisection on that closed form. This reproduces
``wildboottest`` (PyPI) with the fixed-effect dummies as regressors, exactly under
enumeration (tests/did/test_did_wild.py).

The sup-t band of an event study uses the same draws with the unrestricted residuals
(WCU: a band holds for all coefficients at once, so there is no single null to impose):
``c`` is the (1 - alpha) quantile over draws of ``max_j |t*_j|`` and the band
``beta_j +/- c se_j``.

PPML (Kline & Santos 2012, null imposed). The model is re-fitted only under the null
(``log(mu) = offset + theta0 x_j + ...``, fixed effects re-estimated); the bootstrap
perturbs the cluster sums of the effective scores ``c_g = a_j' sum_{i in g} x~_i (y_i -
mu~_i)`` (``x~`` residualised on the fixed effects with weights ``mu~``, ``a_j`` row j
of the inverse Hessian) without re-fitting: ``t* = sum_g c_g v_g / sqrt(sum_g c_g^2
v_g^2)`` against the score statistic ``t = sum_g c_g / sqrt(sum_g c_g^2)`` (the draw
``v = 1``). The interval inverts the test with a restricted fit per ``theta0``.

p-values are ``mean(|t*| > |t|)`` (strict, as ``wildboottest``); a ``theta0`` is in the
interval when its p-value exceeds ``alpha``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from botrygt_eval.did._fe import two_way_wls
from botrygt_eval.errors import ConfigError
from botrygt_eval.options import DEFAULT_SEED, DEFAULT_WILD_REPLICATIONS, WeightsType, check

#: default bootstrap draws for users (the reason is in :mod:`botrygt_eval.options`)
DEFAULT_DRAWS = DEFAULT_WILD_REPLICATIONS
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
#: bisection steps of the interval search (relative precision 2^-60 of the bracket)
_BISECT = 60


@dataclass(frozen=True)
class Draws:
    """The (clusters x B) matrix of wild weights and how it was made."""

    v: np.ndarray
    weights_type: str
    seed: int | None
    enumerated: bool

    @property
    def n_draws(self) -> int:
        return self.v.shape[1]

    def describe(self) -> dict:
        return {"draws": self.n_draws, "weights_type": self.weights_type, "seed": self.seed,
                "enumerated": self.enumerated}  # fmt: skip


def draw_weights(
    n_clusters: int,
    draws: int = DEFAULT_DRAWS,
    weights_type: WeightsType = "rademacher",
    seed: int = DEFAULT_SEED,
) -> Draws:
    """Wild weights, one row per cluster and one column per draw.

    Rademacher with ``2^G <= draws``: all ``2^G`` sign vectors (full enumeration,
    deterministic; ``seed`` unused). Otherwise ``draws`` independent draws from
    ``numpy.random.default_rng(seed)``.
    """
    check("weights_type", weights_type, WeightsType)
    if int(draws) < 19:
        raise ConfigError(
            f"replications={draws} is too few draws; use at least 99 (e.g. 999 or 9999)"
        )
    if n_clusters < 2:
        raise ConfigError("the wild cluster bootstrap needs at least two clusters")
    if weights_type == "rademacher" and n_clusters < 31 and 2**n_clusters <= draws:
        grid = (np.arange(2**n_clusters)[None, :] >> np.arange(n_clusters)[:, None]) & 1
        return Draws(v=1.0 - 2.0 * grid, weights_type=weights_type, seed=None, enumerated=True)
    rng = np.random.default_rng(seed)
    if weights_type == "rademacher":
        v = rng.choice(np.array([-1.0, 1.0]), size=(n_clusters, int(draws)))
    else:
        v = rng.choice(_WEBB, size=(n_clusters, int(draws)))
    return Draws(v=v, weights_type=weights_type, seed=seed, enumerated=False)


def boot_pvalue(t: np.ndarray | float, tstar: np.ndarray) -> np.ndarray | float:
    """Symmetric bootstrap p-value ``mean(|t*| > |t|)`` (``tstar``: draws on the last axis).

    Ties within 1e-9 relative count as not exceeding, so the enumerated draws ``v = +/-1``
    (which reproduce ``t`` exactly in exact arithmetic) never count by rounding.
    """
    t = np.abs(np.asarray(t, float))
    return np.mean(np.abs(tstar) > t[..., None] * (1 + 1e-9) + 1e-300, axis=-1)


def invert(
    pvalue: Callable[[float], float], estimate: float, scale: float, alpha: float, rtol=1e-9
):
    """Confidence interval ``{theta0: p(theta0) > alpha}`` around ``estimate`` by bracketing
    and bisection (each side separately) to ``rtol * scale``. ``scale``: a standard error,
    the first step.

    A side whose p-value stays above ``alpha`` out to 1,000 SEs is unbounded (``inf``):
    with few clusters enumerated draws cannot reject at ``alpha``.
    """
    scale = scale if np.isfinite(scale) and scale > 0 else max(abs(estimate), 1.0)
    ends = []
    for sign in (-1.0, 1.0):
        inner, step = estimate, scale
        outer = estimate + sign * step
        while pvalue(outer) > alpha:
            inner, step = outer, 2 * step
            outer = estimate + sign * step
            if step > 1000 * scale:
                outer = sign * np.inf
                break
        if np.isfinite(outer):
            for _ in range(_BISECT):
                mid = 0.5 * (inner + outer)
                if mid in (inner, outer) or abs(outer - inner) < rtol * scale:
                    break
                if pvalue(mid) > alpha:
                    inner = mid
                else:
                    outer = mid
            outer = 0.5 * (inner + outer)
        ends.append(float(outer))
    return ends[0], ends[1]


# --------------------------------------------------------------------------- linear models
@dataclass(frozen=True)
class LinearWild:
    """Partialled-out least-squares problem in weighted coordinates, ready for WCR/WCU.

    ``x``, ``y``: regressors and outcome with the fixed effects partialled out (FWL) and
    multiplied by ``sqrt(w)``; ``project_fe(Z)`` applies the fixed-effect projection (in
    the same coordinates) to the columns of ``Z``; ``clusters`` codes 0..G-1.
    """

    x: np.ndarray
    y: np.ndarray
    clusters: np.ndarray
    project_fe: Callable[[np.ndarray], np.ndarray]
    scale: float  # CR1 factor G/(G-1) (N-1)/(N-k); cancels in p-values, kept for the SE

    def __post_init__(self):
        g = int(self.clusters.max()) + 1
        n, k = self.x.shape
        ind = sparse.csr_matrix((np.ones(n), (self.clusters, np.arange(n))), shape=(g, n))
        object.__setattr__(self, "_ind", ind)
        xgx = (ind @ np.einsum("ik,il->ikl", self.x, self.x).reshape(n, k * k)).reshape(g, k, k)
        object.__setattr__(self, "_xgxg", xgx)  # X_g'X_g, G x k x k
        a = np.linalg.inv(self.x.T @ self.x)
        beta = a @ (self.x.T @ self.y)
        u = self.y - self.x @ beta
        s = self._sums(self.x * u[:, None]) @ a  # G x k: a_j' X_g'u_g
        object.__setattr__(self, "_fit", (beta, a, u, np.sqrt(self.scale * (s**2).sum(0))))

    @property
    def n_clusters(self) -> int:
        return int(self.clusters.max()) + 1

    def _sums(self, a: np.ndarray) -> np.ndarray:
        """Cluster sums of the rows of ``a`` (n x m) -> G x m."""
        return np.asarray(self._ind @ a)

    def fit(self):
        """``(beta, A = (X'X)^-1, residuals, CR1 se)`` of the unrestricted fit."""
        return self._fit

    def _score_maps(self, a: np.ndarray, u: np.ndarray, cols: list[int]):
        """For residuals ``u`` and tested coefficients ``cols``: ``C`` (q x G) and the
        re-estimation map ``J = H + F`` (q x G x G) of the module docstring."""
        g = self.n_clusters
        xs = self._sums(self.x * u[:, None])  # G x k: X_h'u_h
        c = (xs @ a[:, cols]).T  # q x G
        d = np.zeros((len(u), g))
        d[np.arange(len(u)), self.clusters] = u  # D_h u as columns
        pz = self.project_fe(d)  # n x G
        xa = self.x @ a[:, cols]  # n x q: x_i' a_j
        # H_gh = a_j' X_g'X_g A X_h'u_h ; F_gh = sum_{i in g} (x_i'a_j) [P_FE D_h u]_i
        h = np.einsum("gkl,kq->qgl", self._xgxg, a[:, cols]) @ (xs @ a).T  # q x G x G
        f = np.stack([self._sums(xa[:, [j]] * pz) for j in range(len(cols))])
        return c, h + f

    def restricted(self, j: int, draws: Draws):
        """Closed form of the WCR test of ``beta_j = theta0`` (module docstring)."""
        beta, a, _, se = self.fit()
        others = [i for i in range(self.x.shape[1]) if i != j]
        if others:
            xo = self.x[:, others]
            yx = np.column_stack([self.y, self.x[:, j]])
            res = yx - xo @ np.linalg.solve(xo.T @ xo, xo.T @ yx)
        else:
            res = np.column_stack([self.y, self.x[:, j]])
        v = draws.v
        parts = []
        for u in (res[:, 0], res[:, 1]):
            c, jm = self._score_maps(a, u, [j])
            parts.append((c[0] @ v, c[0][:, None] * v - jm[0] @ v))
        (n0, z0), (n1, z1) = parts
        q = (np.sum(z0 * z0, 0), np.sum(z0 * z1, 0), np.sum(z1 * z1, 0))
        return WCRTest(estimate=float(beta[j]), se=float(se[j]), n0=n0, n1=n1, q=q,
                       scale=self.scale)  # fmt: skip

    def sup_t(self, cols: list[int], draws: Draws, alpha: float) -> float:
        """Sup-t critical value over ``cols`` from the unrestricted (WCU) draws."""
        _, a, u, _ = self.fit()
        c, jm = self._score_maps(a, u, cols)
        v = draws.v
        num = c @ v  # q x B
        z = c[:, :, None] * v[None] - jm @ v  # q x G x B
        tstar = num / np.sqrt(self.scale * np.sum(z * z, 1))  # WCU t*: CR1 in each draw
        return float(np.quantile(np.max(np.abs(tstar), 0), 1 - alpha))


@dataclass(frozen=True)
class WCRTest:
    """Restricted wild bootstrap t test of one coefficient as a function of ``theta0``."""

    estimate: float
    se: float  # CR1 standard error of the unrestricted fit
    n0: np.ndarray
    n1: np.ndarray
    q: tuple
    scale: float

    def tstar(self, theta0: float) -> np.ndarray:
        q0, q01, q11 = self.q
        den = np.sqrt(np.maximum(q0 - 2 * theta0 * q01 + theta0**2 * q11, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.n0 - theta0 * self.n1) / den  # the CR1 factor cancels with t's

    def pvalue(self, theta0: float = 0.0) -> float:
        t = (self.estimate - theta0) / (self.se / np.sqrt(self.scale))
        return float(boot_pvalue(t, self.tstar(theta0)))

    def ci(self, alpha: float = 0.05) -> tuple[float, float]:
        return invert(self.pvalue, self.estimate, self.se, alpha)


def linear_problem(
    x: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    unit_codes: np.ndarray,
    time_codes: np.ndarray,
    weights: np.ndarray | None = None,
) -> LinearWild:
    """Partial the unit and period effects out of ``x`` and ``y`` (exact two-way WLS)."""
    n = len(y)
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    sw = np.sqrt(w)
    empty = np.zeros((n, 0))

    def project_fe(z: np.ndarray) -> np.ndarray:  # weighted coordinates in and out
        _, al, ga = two_way_wls(w, unit_codes, time_codes, empty, z / sw[:, None])
        return sw[:, None] * (al[unit_codes] + ga[time_codes])

    raw = np.column_stack([x, y]) * sw[:, None]
    tilde = raw - project_fe(raw)
    g = int(clusters.max()) + 1
    k = x.shape[1]
    return LinearWild(x=tilde[:, :k], y=tilde[:, k], clusters=clusters, project_fe=project_fe,
                      scale=g / (g - 1) * (n - 1) / (n - k))  # fmt: skip


# --------------------------------------------------------------------------- PPML
def score_components(xr: np.ndarray, y: np.ndarray, mu: np.ndarray, clusters: np.ndarray, j: int):
    """Cluster sums ``c_g`` of the effective score of coefficient ``j`` at a (restricted) fit.

    ``xr``: all regressors residualised on the fixed effects with weights ``mu``.
    """
    hinv_j = np.linalg.inv(xr.T @ (xr * mu[:, None]))[j]
    return np.bincount(clusters, weights=(xr @ hinv_j) * (y - mu))


def score_test(c: np.ndarray, draws: Draws) -> float:
    """Kline-Santos score bootstrap p-value from the cluster score sums ``c``."""
    t = c.sum() / np.sqrt(np.sum(c * c))
    cv = c[:, None] * draws.v
    tstar = cv.sum(0) / np.sqrt(np.sum(cv * cv, 0))
    return float(boot_pvalue(t, tstar))


def describe(method: str, draws: Draws, alpha: float) -> str:
    """The ``se_convention`` text of a bootstrap result."""
    how = "all sign vectors" if draws.enumerated else f"seed {draws.seed}"
    return (f"{method}, {draws.weights_type} weights, {draws.n_draws} draws ({how}); "
            f"p-value and {100 * (1 - alpha):g}% CI by test inversion")  # fmt: skip


__all__ = [
    "DEFAULT_DRAWS",
    "Draws",
    "LinearWild",
    "WCRTest",
    "boot_pvalue",
    "draw_weights",
    "invert",
    "linear_problem",
    "score_components",
    "score_test",
]
