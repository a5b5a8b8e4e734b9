"""Frank-Wolfe solver for synthetic-control and synthetic-DiD weights, batched.

Solves, for each problem ``r`` of a batch,

    min_x  zeta_r^2 |x|^2 + |A_r x - b_r|^2 / n_r   over the unit simplex,

with the exact-line-search Frank-Wolfe steps of the R package synthdid
(``fw.step`` / ``sc.weight.fw`` in R/solver.R): start from ``x0``, stop when an
iteration lowers the objective by no more than ``min_decrease^2`` (after at
least two iterations) or after ``max_iter`` iterations. ``sparsified_weights``
adds the package's two-step sparsification (100 iterations, weights at or
below a quarter of the largest set to zero, then up to 10,000 more).

Why batched: placebo, bootstrap and leave-one-out inference solve hundreds of
problems of the same shape. Iterations are sequential, but every step runs on
the whole batch at once (a finished problem is frozen by a mask), so the Python
loop is over iterations, never over replications. Each step costs O(n + k) per
problem: ``A x`` and ``A'A x`` are updated along the chosen vertex instead of
being recomputed.

Problems of unequal size are padded: padded rows of ``A`` and ``b`` are zero
(they add nothing to the fit) and padded columns are marked invalid (never
chosen, weight zero); ``n_rows`` holds each problem's true row count.
"""

from __future__ import annotations

import numpy as np

#: synthdid defaults (R/synthdid.R, synthdid 0.0.9).
MAX_ITER = 10_000
MAX_ITER_PRE_SPARSIFY = 100


def frank_wolfe(
    A: np.ndarray,
    b: np.ndarray,
    x0: np.ndarray,
    *,
    zeta: np.ndarray,
    n_rows: np.ndarray,
    min_decrease: np.ndarray,
    max_iter: int,
    col_valid: np.ndarray | None = None,
) -> np.ndarray:
    """Run Frank-Wolfe on a batch; arrays are ``A (B,n,k)``, ``b (B,n)``, ``x0 (B,k)``.

    ``zeta``, ``n_rows`` and ``min_decrease`` are per problem, shape ``(B,)``.
    Returns the weights ``(B, k)``. Finished problems are dropped from the
    working arrays every few iterations, so late iterations only touch the
    problems still running.
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.array(x0, dtype=float, copy=True)
    nb, _, k = A.shape
    zeta2 = np.broadcast_to(np.asarray(zeta, float) ** 2, (nb,)).copy()
    inv_n = 1.0 / np.broadcast_to(np.asarray(n_rows, float), (nb,))
    md2 = np.broadcast_to(np.asarray(min_decrease, float) ** 2, (nb,)).copy()
    eta = zeta2 / inv_n  # the solver's ridge term, eta = N * zeta^2
    # half-gradient g = A'(Ax - b) + eta x = H x with H_i = A'A_i + eta e_i - A'b (x on the
    # simplex), so a step towards vertex i updates it as g <- (1 - s) g + s H_i.
    c = np.einsum("rni,rn->ri", A, b)
    H = np.einsum("rni,rnj->rij", A, A) - c[:, None, :]  # row i of H holds H_i
    H[:, np.arange(k), np.arange(k)] += eta[:, None]
    # column i minus the target, stored row-wise for contiguous gathers: A_i - Ax = Ab_i - err
    AbT = np.ascontiguousarray((A - b[:, :, None]).transpose(0, 2, 1))
    x = out.copy()
    err = np.einsum("rnk,rk->rn", A, x) - b
    g = np.einsum("rji,rj->ri", H, x)
    xx = np.einsum("rk,rk->r", x, x)
    penalty = None if col_valid is None else np.where(np.asarray(col_valid, bool), 0.0, np.inf)
    ids = np.arange(nb)  # positions in ``out`` of the working rows
    prev = np.full(nb, np.nan)
    for t in range(1, max_iter + 1):
        rows = np.arange(len(ids))
        i = np.argmin(g if penalty is None else g + penalty, axis=1)
        xi = x[rows, i]
        d_err = AbT[rows, i] - err
        dx2 = xx - 2.0 * xi + 1.0  # |e_i - x|^2
        denom = np.einsum("rn,rn->r", d_err, d_err) + eta * dx2
        num = np.einsum("rk,rk->r", g, x) - g[rows, i]
        step = np.clip(np.divide(num, denom, out=np.zeros_like(num), where=denom > 0), 0.0, 1.0)
        keep = 1.0 - step
        x *= keep[:, None]
        x[rows, i] += step
        xx = keep * keep * xx + 2.0 * step * keep * xi + step * step
        err += step[:, None] * d_err
        g *= keep[:, None]
        g += step[:, None] * H[rows, i]
        val = zeta2 * xx + np.einsum("rn,rn->r", err, err) * inv_n
        if t >= 2:
            done = (prev - val) <= md2
            if done.any():
                out[ids[done]] = x[done]
                live = ~done
                if not live.any():
                    return out
                ids, x, err, g, xx, val = (
                    ids[live],
                    x[live],
                    err[live],
                    g[live],
                    xx[live],
                    val[live],
                )
                H, AbT, eta, zeta2, inv_n, md2 = (
                    H[live],
                    AbT[live],
                    eta[live],
                    zeta2[live],
                    inv_n[live],
                    md2[live],
                )
                if penalty is not None:
                    penalty = penalty[live]
        prev = val
    out[ids] = x
    return out


def sparsify(x: np.ndarray) -> np.ndarray:
    """synthdid's ``sparsify_function``, row-wise: zero weights <= max/4, renormalise."""
    x = np.where(x <= x.max(axis=1, keepdims=True) / 4, 0.0, x)
    return x / x.sum(axis=1, keepdims=True)


def sparsified_weights(
    Y: np.ndarray,
    x0: np.ndarray,
    *,
    zeta: np.ndarray,
    intercept: bool,
    min_decrease: np.ndarray,
    row_valid: np.ndarray | None = None,
    col_valid: np.ndarray | None = None,
    max_iter: int = MAX_ITER,
    max_iter_pre_sparsify: int = MAX_ITER_PRE_SPARSIFY,
) -> np.ndarray:
    """synthdid's weight fit for ``Y (B, n, k+1)``: regress the last column on the first k.

    With ``intercept`` every column is centred over the (valid) rows first, which
    lets the fitted combination differ from the target by a constant.
    """
    Y = np.array(Y, dtype=float, copy=True)
    nb, n, _ = Y.shape
    rv = np.ones((nb, n), bool) if row_valid is None else np.asarray(row_valid, bool)
    Y[~rv] = 0.0
    n_rows = rv.sum(axis=1).astype(float)
    if intercept:
        Y -= (Y.sum(axis=1) / n_rows[:, None])[:, None, :]
        Y[~rv] = 0.0
    A, b = Y[:, :, :-1], Y[:, :, -1]
    opts = dict(zeta=zeta, n_rows=n_rows, min_decrease=min_decrease, col_valid=col_valid)
    x = frank_wolfe(A, b, x0, max_iter=max_iter_pre_sparsify, **opts)
    return frank_wolfe(A, b, sparsify(x), max_iter=max_iter, **opts)
