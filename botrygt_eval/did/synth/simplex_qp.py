"""Exact quadratic programme on the unit simplex (an active-set solver).

Solves ``min_w 1/2 w'P w - q'w  subject to  w >= 0, sum(w) = 1`` for a small
positive semi-definite ``P`` (donors x donors), as the inner problem of
predictor-based synthetic control needs it: ``P = X0' V X0`` and
``q = X0' V X1`` give ``min (X1 - X0 w)' V (X1 - X0 w)``.

Why not Frank-Wolfe (:mod:`botrygt_eval.did.synth.weights`): its error after
10,000 iterations is still ~1e-4 on a face of the simplex, and the outer
Nelder-Mead search over V compares losses that differ by less than that, so it
would follow noise. Why not SLSQP (what pysyncon uses): it stops at ``ftol =
1e-6`` and costs ~50 ms a call. The primal active-set method below (the simplex
form of Lawson & Hanson's NNLS) ends at the exact solution in a handful of
equality-constrained solves, each a (|F|+1)-square linear system.
"""

from __future__ import annotations

import numpy as np


def _eqp(P: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Minimiser of ``1/2 z'Pz - q'z`` subject to ``sum(z) = 1`` (KKT system; lstsq if singular)."""
    m = len(q)
    K = np.empty((m + 1, m + 1))
    K[:m, :m] = P
    K[:m, m] = 1.0
    K[m, :m] = 1.0
    K[m, m] = 0.0
    rhs = np.append(q, 1.0)
    try:
        sol = np.linalg.solve(K, rhs)
        if np.all(np.isfinite(sol)):
            return sol[:m]
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(K, rhs, rcond=None)[0][:m]


def simplex_qp(P: np.ndarray, q: np.ndarray, *, tol: float = 1e-12) -> np.ndarray:
    """The weights ``w`` (on the simplex) minimising ``1/2 w'Pw - q'w``; see the module doc.

    Starts at the best single vertex and adds, one at a time, the coordinate with
    the most negative reduced gradient until the KKT conditions hold to ``tol``
    (relative to the scale of ``P`` and ``q``); a step that would leave the
    simplex stops at its boundary and frees the blocking coordinate.
    """
    P = np.asarray(P, float)
    q = np.asarray(q, float)
    n = len(q)
    w = np.zeros(n)
    j0 = int(np.argmin(0.5 * np.diag(P) - q))
    w[j0] = 1.0
    free = np.zeros(n, bool)
    free[j0] = True
    scale = max(float(np.abs(P).max()), float(np.abs(q).max()), np.finfo(float).tiny)
    for _ in range(10 * n + 10):
        g = P @ w - q
        lam = float(g @ w)  # common gradient on the support at a KKT point
        reduced = np.where(free, np.inf, g - lam)
        j = int(np.argmin(reduced))
        if not reduced[j] < -tol * scale:
            break
        free[j] = True
        for _ in range(n + 1):
            F = np.flatnonzero(free)
            z = _eqp(P[np.ix_(F, F)], q[F])
            if np.all(z > 0):
                w[:] = 0.0
                w[F] = z
                break
            neg = z <= 0
            wf = w[F]
            ratio = wf[neg] / (wf[neg] - z[neg])
            alpha = float(ratio.min())
            wf = wf + alpha * (z - wf)
            out = F[neg][ratio <= alpha]  # the blocking coordinate(s)
            w[:] = 0.0
            w[F] = wf
            w[out] = 0.0
            free[out] = False
            if out.size and j in out and alpha == 0.0:
                break  # degenerate (singular face): keep the current point
        w = np.maximum(w, 0.0)
        w /= w.sum()
    return w
