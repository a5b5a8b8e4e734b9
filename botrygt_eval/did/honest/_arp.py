"""Andrews-Roth-Pakes (ARP) conditional and hybrid tests of moment inequalities.

The test of ``H0: E[y - X delta] <= 0 for some delta`` (Andrews, Roth & Pakes 2023,
as used by Rambachan & Roth 2023) inverted over a grid of theta values, following
HonestDiD's R/arp-nuisance.R and R/arp-nonuisance.R step for step so that the
confidence sets agree to the grid point:

* the statistic ``eta = min_{eta, delta} eta s.t. y - X delta <= eta sd(y)`` is a linear
  program whose dual is ``max gamma'y`` over the polytope ``{gamma >= 0, W'gamma = e1}``,
  ``W = [sd, X]``. Its vertices are enumerated once (they do not depend on theta), so
  the statistic, its dual solution and the least-favourable simulation are matrix
  products over all theta values and draws at once. With too many vertices the LP is
  solved with HiGHS per theta instead;
* conditional critical values from the truncated normal (primal approach when the
  dual solution is a non-degenerate vertex with full-rank binding moments, otherwise
  the dual bisection of ARP Appendix D, Algorithm 1);
* hybrids: least favourable (``"LF"``, first-stage size kappa) and FLCI (``"FLCI"``).
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
from scipy import optimize, stats

from botrygt_eval.did.honest._rrng import quantile7, rmvnorm
from botrygt_eval.errors import EstimationError

MAX_BASES = 60_000  # vertex enumeration up to this many candidate bases, else LPs
TOL_LAMBDA = 1e-6


def norminvp(p: float, lo: float, hi: float, mu: float = 0.0, sd: float = 1.0) -> float:
    """Quantile ``p`` of N(mu, sd^2) truncated to [lo, hi] (TruncatedNormal::norminvp)."""
    a, b = (lo - mu) / sd, (hi - mu) / sd
    return float(mu + sd * stats.truncnorm.ppf(p, a, b))


def _tolerance(F: np.ndarray) -> float:
    """Slack allowed in ``f - W x <= 0`` when a basis is checked against the columns of F."""
    return 1e-9 * (np.abs(F).max() + 1.0)


# --------------------------------------------------------------------------- the dual polytope
class DualPolytope:
    """``{gamma >= 0 : W'gamma = e1}``; ``maximize(F)`` returns max_gamma gamma'f per column."""

    def __init__(self, W: np.ndarray):
        self.W = np.asarray(W, float)
        m, k1 = self.W.shape
        self.vertices = None
        self._bases: list = []
        if k1 <= m and comb(m, k1) <= MAX_BASES:
            self.vertices = self._enumerate(m, k1)

    def _enumerate(self, m: int, k1: int) -> np.ndarray:
        subsets = np.array(list(combinations(range(m), k1)), dtype=int)
        Wb = self.W[subsets]  # n x k1 x k1 (rows of W in the basis)
        sv = np.linalg.svd(Wb, compute_uv=False)
        ok = sv[:, -1] > 1e-12 * np.maximum(sv[:, 0], 1e-300)
        subsets, Wb = subsets[ok], Wb[ok]
        e1 = np.zeros((len(Wb), k1, 1))
        e1[:, 0, 0] = 1.0
        g = np.linalg.solve(np.transpose(Wb, (0, 2, 1)), e1)[..., 0]
        feas = (g >= -1e-12).all(axis=1)
        verts = np.zeros((int(feas.sum()), m))
        rows = np.repeat(np.arange(len(verts)), k1)
        verts[rows, subsets[feas].ravel()] = np.maximum(g[feas], 0).ravel()
        if not len(verts):
            raise EstimationError(
                "the ARP linear program is unbounded for this restriction (no dual vertex); "
                "check that the restriction set is non-empty"
            )
        return np.unique(np.round(verts, 15), axis=0)

    def _basis(self, lam: np.ndarray, binding: np.ndarray):
        """k+1 binding rows with a nonsingular W_B that contain the dual support."""
        k1 = self.W.shape[1]
        chosen: list[int] = []
        for i in [*np.flatnonzero(lam > 1e-12), *np.flatnonzero(binding & (lam <= 1e-12))]:
            if np.linalg.matrix_rank(self.W[[*chosen, i]]) > len(chosen):
                chosen.append(int(i))
            if len(chosen) == k1:
                idx = np.array(chosen)
                winv = np.linalg.inv(self.W[idx])
                return idx, winv, lam
        return None

    def maximize(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Optimal values and maximizing gammas (rows) for every column of F (m x n)."""
        F = np.asarray(F, float)
        if F.ndim == 1:
            F = F[:, None]
        if self.vertices is not None:
            vals = self.vertices @ F  # nV x n
            idx = np.argmax(vals, axis=0)
            return vals[idx, np.arange(F.shape[1])], self.vertices[idx]
        return self._maximize_lazy(F)

    def max_values(self, F: np.ndarray) -> np.ndarray:
        """Optimal values only, for every column of F (m x n): the least-favourable draws.

        Without vertex enumeration, a column no known basis covers is solved by the simplex
        method on the dual polytope, started from the last optimal basis (a vertex, so
        feasible): a few pivots of a k+1 system instead of an LP solved from scratch. Its
        optimal basis then covers further columns, as in :meth:`maximize`. HiGHS is the
        fallback (first column, a singular basis, no convergence).
        """
        F = np.asarray(F, float)
        if F.ndim == 1:
            F = F[:, None]
        if self.vertices is not None:
            return (self.vertices @ F).max(axis=0)
        n = F.shape[1]
        vals = np.full(n, np.nan)
        rem = np.arange(n)
        tol = _tolerance(F)

        def cover(idx, winv):
            nonlocal rem
            ok, values = self._covered(F, rem, idx, winv, tol)
            vals[rem[ok]] = values
            rem = rem[~ok]

        for idx, winv, _ in self._bases:
            if not len(rem):
                break
            cover(idx, winv)
        while len(rem):
            j = rem[0]
            found = self._simplex(F[:, j], self._bases[-1][0], tol) if self._bases else None
            if found is None:
                vals[j] = self._maximize_lazy(F[:, [j]])[0][0]  # HiGHS; keeps its basis
                rem = rem[1:]
                continue
            self._bases.append(found)
            cover(found[0], found[1])
            if len(rem) and rem[0] == j:  # left out by rounding at the tolerance: optimal
                vals[j] = (found[1] @ F[found[0], j])[0]
                rem = rem[1:]
        return vals

    def _covered(self, F, cols, idx, winv, tol) -> tuple[np.ndarray, np.ndarray]:
        """Which of the columns ``cols`` of F the basis ``idx`` (with ``W_B^-1``) is optimal
        for (its primal solution ``x = W_B^-1 f_B`` meets every ``f - W x <= tol``), and
        their optimal values ``x[0]``."""
        x = winv @ F[np.ix_(idx, cols)]
        ok = (F[:, cols] - self.W @ x <= tol).all(axis=0)
        return ok, x[0, ok]

    def _simplex(self, f: np.ndarray, start: np.ndarray, tol: float, max_pivots: int = 500):
        """max gamma'f over the polytope by the (revised) simplex method from the basis
        ``start`` (rows of W whose gamma may be positive). Dantzig's rule, then Bland's
        from the first degenerate pivot on (no cycling). Returns the optimal basis as
        ``(rows, W_B^-1, gamma)``, or None (singular basis, no convergence)."""
        W = self.W
        idx = np.array(start, dtype=int)
        bland = False
        for _ in range(max_pivots):
            try:
                winv = np.linalg.inv(W[idx])
            except np.linalg.LinAlgError:
                return None
            reduced = f - W @ (winv @ f[idx])  # reduced costs of the rows not in the basis
            reduced[idx] = 0.0
            entering = np.flatnonzero(reduced > tol)
            gamma_b = np.maximum(winv[0], 0.0)  # W_B' gamma_B = e1
            if not len(entering):
                gamma = np.zeros(len(f))
                gamma[idx] = gamma_b
                return idx, winv, gamma
            j = entering[0] if bland else entering[np.argmax(reduced[entering])]
            u = winv.T @ W[j]  # how gamma_B changes per unit of gamma_j
            pos = np.flatnonzero(u > 1e-12)
            if not len(pos):  # unbounded: cannot happen while W's first column is positive
                return None
            ratios = gamma_b[pos] / u[pos]
            ties = pos[ratios <= ratios.min() + 1e-15]
            leave = ties[np.argmin(idx[ties])]  # Bland: the smallest row index leaves
            bland = bland or ratios.min() <= 1e-15
            idx[leave] = j
        return None

    def _maximize_lazy(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Too many bases to enumerate: parametric simplex by hand. A dual-feasible basis
        found by one LP (HiGHS dual simplex) stays optimal for every column whose primal
        solution ``x = W_B^-1 f_B`` satisfies all constraints ``f - W x <= 0``; those are
        checked at once, and an LP is solved only for columns no known basis covers."""
        m, k1 = self.W.shape
        n = F.shape[1]
        vals, gams = np.full(n, np.nan), np.zeros((n, m))
        rem = np.arange(n)
        tol = _tolerance(F)

        def apply(basis):
            nonlocal rem
            idx, winv, gamma = basis
            ok, values = self._covered(F, rem, idx, winv, tol)
            vals[rem[ok]] = values
            gams[rem[ok]] = gamma
            rem = rem[~ok]

        for basis in self._bases:
            if not len(rem):
                break
            apply(basis)
        while len(rem):
            j = rem[0]
            # primal LP  min eta  s.t.  f - W x <= 0  (x = (eta, delta) free), dual simplex
            c = np.zeros(k1)
            c[0] = 1.0
            r = optimize.linprog(c, A_ub=-self.W, b_ub=-F[:, j], bounds=(None, None),
                                 method="highs-ds")  # fmt: skip
            rem = rem[1:]
            if r.status != 0:
                continue
            lam = np.maximum(-r.ineqlin.marginals, 0.0)
            vals[j], gams[j] = r.fun, lam
            basis = self._basis(lam, np.abs(self.W @ r.x - F[:, j]) <= tol)
            if basis is not None:
                self._bases.append(basis)
                apply(basis)
        return vals, gams


# --------------------------------------------------------------------------- least favourable cv
def lf_cv_nuisance(X: np.ndarray, sigma: np.ndarray, kappa: float, seed: int = 0,
                   sims: int = 1000) -> float:  # fmt: skip
    """Least-favourable critical value: 1-kappa quantile of eta at y ~ N(0, sigma)."""
    sd = np.sqrt(np.diag(sigma))
    poly = DualPolytope(np.column_stack([sd, X]))
    xi = rmvnorm(sims, sigma, seed)
    return quantile7(poly.max_values(xi.T), 1 - kappa)


def lf_cv_no_nuisance(sigma: np.ndarray, kappa: float, seed: int = 0, sims: int = 1000) -> float:
    """Least-favourable critical value without nuisance parameters (max of t-statistics)."""
    xi = rmvnorm(sims, sigma, seed) / np.sqrt(np.diag(sigma))
    return quantile7(xi.max(axis=1), 1 - kappa)


# --------------------------------------------------------------------------- nuisance-parameter test
def _vlo_vup_dual(eta, s_T, gamma, sigma, poly: DualPolytope) -> tuple[float, float]:
    """Truncation points by ARP's bisection over the dual polytope (Algorithm 1)."""
    tol_c, tol_eq = 1e-6, 1e-6
    gsg = float(gamma @ sigma @ gamma)
    sigma_b = np.sqrt(gsg)
    b = sigma @ gamma / gsg
    low0, high0 = min(-100.0, eta - 20 * sigma_b), max(100.0, eta + 20 * sigma_b)
    maxiters, switchiters = 10000, 10

    def check(c):
        val, g = poly.maximize(s_T + b * c)
        return abs(c - val[0]) <= tol_eq, g[0]

    def roundeps(x, eps=np.finfo(float).eps ** 0.75):
        return 0.0 if abs(x) < eps else x

    if not check(eta)[0]:
        return eta, np.inf

    def search(start, upward):
        ok, sol = check(start)
        if ok:
            return np.inf if upward else -np.inf
        dif, iters = 0.0, 1
        mid = roundeps(sol @ s_T) / (1 - sol @ b)
        while True:
            ok, sol = check(mid)
            if ok or iters >= maxiters:
                break
            iters += 1
            if iters >= switchiters:
                dif = tol_c + 1
                break
            mid = roundeps(sol @ s_T) / (1 - sol @ b)
        lo, hi = (eta, mid) if upward else (mid, eta)
        while dif > tol_c and iters < maxiters:
            iters += 1
            mid = (hi + lo) / 2
            if check(mid)[0] == upward:
                lo = mid
            else:
                hi = mid
            dif = hi - lo
        return mid

    return search(low0, upward=False), search(high0, upward=True)


class NuisanceTest:
    """ARP test of ``y_T(theta) = Y - a theta`` with nuisance parameters X_T, over a grid."""

    def __init__(self, X_T, sigma, rows, alpha, hybrid, kappa, seed=0, flci=None):
        self.X = np.asarray(X_T, float)
        if self.X.ndim == 1:
            self.X = self.X[:, None]
        self.sigma, self.rows = np.asarray(sigma, float), np.asarray(rows)
        self.alpha, self.hybrid, self.kappa, self.flci = alpha, hybrid, kappa, flci
        self.Xa = self.X[self.rows]
        self.Sa = self.sigma[np.ix_(self.rows, self.rows)]
        self.sd = np.sqrt(np.diag(self.Sa))
        self.W = np.column_stack([self.sd, self.Xa])
        self.poly = DualPolytope(self.W)
        self.k = self.Xa.shape[1]
        self.lf_cv = None
        if hybrid == "LF":
            self.lf_cv = lf_cv_nuisance(self.Xa, self.Sa, kappa, seed)
        self.mod_size = alpha if hybrid == "ARP" else (alpha - kappa) / (1 - kappa)
        self._cache: dict = {}

    def _primal_parts(self, B: tuple):
        if B not in self._cache:
            M = len(self.sd)
            Bi = np.array(B)
            Bc = np.setdiff1d(np.arange(M), Bi)
            WBinv = np.linalg.inv(self.W[Bi])
            SB = np.eye(M)[Bi]
            gammaB = self.W[Bc] @ WBinv @ SB - np.eye(M)[Bc]
            vB = WBinv[0] @ SB
            s2 = float(vB @ self.Sa @ vB)
            if not s2 > np.finfo(float).eps * float(vB @ vB) * np.diag(self.Sa).max():
                # the binding combination has no variance (R would fail on sqrt of <= 0):
                # reject iff eta > 0, as the dual route does
                self._cache[B] = None
            else:
                rho = gammaB @ self.Sa @ vB / s2
                self._cache[B] = (gammaB, vB, np.sqrt(s2), rho)
        return self._cache[B]

    def accept(self, Y: np.ndarray, a: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """1 where theta is not rejected.

        The conditional critical values (truncated-normal quantiles) of all theta values
        are computed in one vectorised call: one at a time, SciPy's per-call overhead was
        a seventh of a sensitivity analysis. Elementwise, the quantiles are the same.
        """
        Yt = Y[:, None] - a[:, None] * thetas[None, :]  # full y_T per theta (columns)
        ya = Yt[self.rows]
        eta, lam = self.poly.maximize(ya)
        out = np.ones(len(thetas))
        pending = []  # (theta index, statistic, truncation points) awaiting a critical value
        for j, th in enumerate(thetas):
            decision = self._reject(eta[j], lam[j], ya[:, j], Yt[:, j], th, a)
            if isinstance(decision, tuple):
                pending.append((j, *decision))
            elif decision:
                out[j] = 0.0
        if pending:
            j, stat, zlo, zup = (np.array(v) for v in zip(*pending, strict=True))
            cval = np.maximum(0.0, stats.truncnorm.ppf(1 - self.mod_size, zlo, zup))
            out[j[stat > cval]] = 0.0
        return out

    def _reject(self, eta, lam, y, y_full, theta, a) -> bool | tuple[float, float, float]:
        if not np.isfinite(eta):
            return False
        dbar = None
        if self.hybrid == "LF":
            if eta > self.lf_cv:
                return True
        elif self.hybrid == "FLCI":
            f = self.flci
            dbar = np.array([f["halflength"] - f["vbar_d"] + (1 - f["vbar_a1"]) * theta,
                             f["halflength"] + f["vbar_d"] - (1 - f["vbar_a1"]) * theta])  # fmt: skip
            vy = float(f["vbar"] @ y_full)
            if max(vy - dbar[0], -vy - dbar[1]) > 0:
                return True
        B = lam > TOL_LAMBDA
        degenerate = int(B.sum()) != self.k + 1
        XB = self.Xa[B]
        xdim = min(XB.shape)
        full_rank = xdim > 0 and np.linalg.matrix_rank(XB) == xdim
        if not full_rank or degenerate:
            return self._reject_dual(eta, lam, y, y_full, dbar)
        parts = self._primal_parts(tuple(np.flatnonzero(B)))
        if parts is None:
            return eta > 0
        gammaB, vB, sigma_b, rho = parts
        with np.errstate(divide="ignore", invalid="ignore"):
            mm = -(gammaB @ y) / rho + float(vB @ y)
        vlo = mm[rho > 0].max() if (rho > 0).any() else -np.inf
        vup = mm[rho < 0].min() if (rho < 0).any() else np.inf
        return self._decide(eta, vlo, vup, sigma_b, vB, y_full, dbar)

    def _reject_dual(self, eta, gamma, y, y_full, dbar) -> bool:
        S = self.Sa
        gsg = float(gamma @ S @ gamma)
        if abs(gsg) < np.finfo(float).eps:  # no variance in the direction: reject iff eta > 0
            return eta > 0
        s_T = y - (S @ gamma) * float(gamma @ y) / gsg
        vlo, vup = _vlo_vup_dual(eta, s_T, gamma, S, self.poly)
        return self._decide(eta, vlo, vup, np.sqrt(gsg), gamma, y_full, dbar)

    def _decide(self, eta, vlo, vup, sigma_b, gamma_ar, y_full, dbar):
        """Reject (True), accept (False), or the statistic and truncation points
        ``(stat, zlo, zup)`` when the decision needs the conditional critical value (the
        truncated-normal quantile, computed for all theta values at once in :meth:`accept`)."""
        if self.hybrid == "LF":
            vup = min(vup, self.lf_cv)
        elif self.hybrid == "FLCI":
            g = np.zeros(len(y_full))
            g[self.rows] = gamma_ar
            sg = self.sigma @ g / float(g @ self.sigma @ g)
            S = y_full - sg * float(g @ y_full)
            vb = self.flci["vbar"]
            Vm = np.vstack([vb, -vb])
            den = Vm @ sg
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = (dbar - Vm @ S) / den
            flo = ratio[den < 0].max() if (den < 0).any() else -np.inf
            fup = ratio[den > 0].min() if (den > 0).any() else np.inf
            vlo, vup = max(vlo, flo), min(vup, fup)
        zlo, zup, stat = vlo / sigma_b, vup / sigma_b, eta / sigma_b
        if not (zlo <= stat <= zup):
            return False
        return stat, zlo, zup


# --------------------------------------------------------------------------- no nuisance parameters
def no_nuisance_accept(betahat, sigma, A, d, num_pre, thetas, alpha, hybrid, kappa, seed=0,
                       flci=None) -> np.ndarray:  # fmt: skip
    """ARP test without nuisance parameters (one post period), vectorised over theta."""
    A, d = np.atleast_2d(np.asarray(A, float)), np.asarray(d, float)
    sig_t = np.sqrt(np.diag(A @ sigma @ A.T))
    At, dt = A / sig_t[:, None], d / sig_t
    e = np.zeros(len(betahat))
    e[num_pre] = 1.0
    lf_cv = lf_cv_no_nuisance(A @ sigma @ A.T, kappa, seed) if hybrid == "LF" else None
    size = alpha if hybrid == "ARP" else (alpha - kappa) / (1 - kappa)
    out = np.ones(len(thetas))
    for j, th in enumerate(thetas):
        y = betahat - e * th
        if hybrid == "FLCI":
            fl = flci["l"] @ y
            if max(fl - flci["halflength"], -fl - flci["halflength"]) > 0:
                out[j] = 0.0
                continue
        nm = At @ y - dt
        loc = int(np.argmax(nm))
        mx = nm[loc]
        if hybrid == "LF" and mx > lf_cv:
            out[j] = 0.0
            continue
        g = At[loc]
        Abar, dbar = At - At[loc], dt - dt[loc]
        if hybrid == "FLCI":
            Abar = np.vstack([Abar, flci["l"], -flci["l"]])
            dbar = np.r_[dbar, flci["halflength"], flci["halflength"]]
        gsg = float(g @ sigma @ g)
        c = sigma @ g / gsg
        z = y - c * float(g @ y)
        ac = Abar @ c
        obj = (dbar - Abar @ z) / np.where(ac == 0, np.nan, ac)
        vlo = obj[ac < 0].max() if (ac < 0).any() else -np.inf
        vup = obj[ac > 0].min() if (ac > 0).any() else np.inf
        crit = max(0.0, norminvp(1 - size, vlo, vup, mu=dt[loc], sd=np.sqrt(gsg)))
        out[j] = 0.0 if mx + dt[loc] > crit else 1.0
    return out
