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

By default (``kernel="auto"``) the same steps run in a compiled numba kernel
(:mod:`botrygt_eval.did.synth.fw_numba`, ~100 ns an iteration instead of a dozen
numpy calls); the numpy loops here are its reference in the tests and the
fallback when numba cannot compile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

import botrygt_eval.did.synth.fw_numba as synth_fw_numba
from botrygt_eval.errors import check_option

#: synthdid defaults (R/synthdid.R, synthdid 0.0.9).
MAX_ITER = 10_000
MAX_ITER_PRE_SPARSIFY = 100
#: gradient given to padded columns so that Frank-Wolfe never picks them
_NEVER = 1e100
#: row-wise dot product: the ``np.vecdot`` ufunc (numpy >= 2) costs half an einsum call
_rowdot = getattr(np, "vecdot", None) or (lambda a, b: np.einsum("rk,rk->r", a, b))
#: batches up to this size run problem by problem through the scalar-state loop
SINGLE_MAX_BATCH = 2
#: rescale the lazily scaled state when its scale factor falls below this
_RESCALE_BELOW = 1e-150
#: which loop runs the iterations: compiled when numba imports ("auto"), or either one
Kernel = Literal["auto", "numba", "numpy"]
KERNELS: tuple[str, ...] = ("auto", "numba", "numpy")


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
    single: bool = True,
    kernel: Kernel = "auto",
) -> np.ndarray:
    """Run Frank-Wolfe on a batch; arrays are ``A (B,n,k)``, ``b (B,n)``, ``x0 (B,k)``.

    ``zeta``, ``n_rows`` and ``min_decrease`` are per problem, shape ``(B,)``.
    Returns the weights ``(B, k)``. Finished problems are dropped from the
    working arrays every few iterations, so late iterations only touch the
    problems still running. Batches of at most ``SINGLE_MAX_BATCH`` problems
    are solved one by one by :func:`_frank_wolfe_one` (same steps, fewer numpy
    calls per iteration) unless ``single=False``. ``kernel="numba"`` (the default
    ``"auto"`` when numba imports) runs the same steps compiled
    (:mod:`botrygt_eval.did.synth.fw_numba`); ``"numpy"`` runs the loops here, the
    reference the compiled kernel is tested against.
    """
    if _use_compiled(kernel):
        return _frank_wolfe_compiled(A, b, x0, zeta=zeta, n_rows=n_rows,
                                     min_decrease=min_decrease, max_iter=max_iter,
                                     col_valid=col_valid)  # fmt: skip
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.array(x0, dtype=float, copy=True)
    nb, _, k = A.shape
    zeta2 = np.broadcast_to(np.asarray(zeta, float) ** 2, (nb,)).copy()
    inv_n = 1.0 / np.broadcast_to(np.asarray(n_rows, float), (nb,))
    md2 = np.broadcast_to(np.asarray(min_decrease, float) ** 2, (nb,)).copy()
    if nb <= SINGLE_MAX_BATCH and single:
        cv = None if col_valid is None else np.asarray(col_valid, bool)
        for r in range(nb):
            out[r] = _frank_wolfe_one(A[r], b[r], out[r], zeta2[r], inv_n[r], md2[r], max_iter,
                                      None if cv is None else cv[r])  # fmt: skip
        return out
    eta = zeta2 / inv_n  # the solver's ridge term, eta = N * zeta^2
    H, AbT = _vertex_rows(A, b, eta, col_valid)
    # state: weights x and half-gradient g side by side, so one product rescales both
    xg = np.empty((nb, 2 * k))
    xg[:, :k] = out
    xg[:, k:] = (out[:, None, :] @ H)[:, 0, :]
    err = (A @ out[:, :, None])[:, :, 0] - b
    xx = np.einsum("rk,rk->r", out, out)
    ids = np.arange(nb)  # positions in ``out`` of the working rows
    # trailing padding (all-zero rows of A and b; invalid columns starting at 0) is cut away
    # when finished problems are dropped, once no live problem uses it
    row_end = _last_used_row(A, b)
    used_col = (out != 0) if col_valid is None else (np.asarray(col_valid, bool) | (out != 0))
    col_end = k if col_valid is None else k - np.argmax(used_col[:, ::-1], axis=1)
    col_end = np.broadcast_to(col_end, (nb,)).copy()
    running = np.ones(nb, bool)
    rows = np.arange(nb)
    prev = np.full(nb, np.nan)
    for t in range(1, max_iter + 1):
        x, g = xg[:, :k], xg[:, k:]
        i = np.argmin(g, axis=1)
        xi = x[rows, i]
        d_err = AbT[rows, i]
        d_err -= err
        denom = _rowdot(d_err, d_err) + eta * (xx - 2.0 * xi + 1.0)
        num = _rowdot(g, x) - g[rows, i]
        step = np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
        np.minimum(np.maximum(step, 0.0, out=step), 1.0, out=step)
        step *= running
        keep = 1.0 - step
        xg *= keep[:, None]
        x[rows, i] += step
        h = H[rows, i]  # a fresh gather: scaled in place, no temporary
        h *= step[:, None]
        g += h
        xx = keep * keep * xx + 2.0 * step * keep * xi + step * step
        d_err *= step[:, None]
        err += d_err
        val = zeta2 * xx + _rowdot(err, err) * inv_n
        if t >= 2:
            running &= (prev - val) > md2
            n_live = int(running.sum())
            if n_live == 0:
                break
            if n_live <= 0.75 * len(ids):  # drop finished problems from the working arrays
                done = ~running
                out[ids[done], :k] = xg[done, :k]
                ids, xg, err, xx, val, H, AbT, eta, zeta2, inv_n, md2, row_end, col_end = (
                    a[running]
                    for a in (
                        ids,
                        xg,
                        err,
                        xx,
                        val,
                        H,
                        AbT,
                        eta,
                        zeta2,
                        inv_n,
                        md2,
                        row_end,
                        col_end,
                    )  # fmt: skip
                )
                n_cut, k_cut = int(row_end.max()), int(col_end.max())
                if n_cut < err.shape[1] or k_cut < k:
                    xg = np.concatenate([xg[:, :k_cut], xg[:, k : k + k_cut]], axis=1)
                    H = np.ascontiguousarray(H[:, :k_cut, :k_cut])
                    AbT = np.ascontiguousarray(AbT[:, :k_cut, :n_cut])
                    err = np.ascontiguousarray(err[:, :n_cut])
                    k = k_cut
                running = np.ones(n_live, bool)
                rows = np.arange(n_live)
        prev = val
    out[ids, :k] = xg[:, :k]
    return out


def _frank_wolfe_one(A: np.ndarray, b: np.ndarray, x0: np.ndarray, zeta2: float, inv_n: float,
                     md2: float, max_iter: int, col_valid: np.ndarray | None) -> np.ndarray:  # fmt: skip
    """One problem of :func:`frank_wolfe` with the same iterations, at ~10 numpy calls each.

    Why: a single fit (one kommune's SC point estimate) runs all 10,100 iterations, and
    the batched loop's ~25 array calls per iteration, not arithmetic, are its cost.
    Here the weights and the half-gradient share one lazily applied scale factor
    ``alpha`` (``x = alpha u``, ``g = alpha v``), so a step ``x <- (1-s) x + s e_i``,
    ``g <- (1-s) g + s H_i`` touches one entry of ``u`` and adds one row of ``H`` to
    ``v``; the residual ``err = A x - b`` is kept explicitly (its squared norm
    drives the stopping rule and must not come from a cancelling recurrence).
    """
    n, k = A.shape
    eta = zeta2 / inv_n
    At = A.T
    c = At @ b
    H = At @ A - c[None, :]
    H[np.arange(k), np.arange(k)] += eta
    if col_valid is not None and not col_valid.all():
        H[:, ~col_valid] = _NEVER
    AbT = np.ascontiguousarray((A - b[:, None]).T)
    u = np.array(x0, dtype=float, copy=True)
    v = u @ H
    err = A @ u - b
    xx = float(u @ u)
    alpha = 1.0
    tmp_n = np.empty(n)
    tmp_k = np.empty(k)
    dot = np.dot
    prev = np.nan
    for t in range(1, max_iter + 1):
        i = int(v.argmin())
        xi = alpha * float(u[i])
        np.subtract(AbT[i], err, out=tmp_n)  # d_err = A_i - A x
        denom = float(dot(tmp_n, tmp_n)) + eta * (xx - 2.0 * xi + 1.0)
        num = alpha * alpha * float(dot(v, u)) - alpha * float(v[i])
        step = num / denom if denom > 0 else 0.0
        step = 0.0 if step < 0.0 else (1.0 if step > 1.0 else step)
        keep = 1.0 - step
        if keep > 0.0:
            alpha *= keep
            r = step / alpha
            u[i] += r
            np.multiply(H[i], r, out=tmp_k)
            v += tmp_k
            if alpha < _RESCALE_BELOW:
                u *= alpha
                v *= alpha
                alpha = 1.0
        else:  # a full step lands on the vertex
            u[:] = 0.0
            u[i] = 1.0
            v[:] = H[i]
            alpha = 1.0
        xx = keep * keep * xx + 2.0 * step * keep * xi + step * step
        tmp_n *= step
        err += tmp_n
        val = zeta2 * xx + float(dot(err, err)) * inv_n
        if t >= 2 and not (prev - val) > md2:
            break
        prev = val
    return alpha * u


def _vertex_rows(A: np.ndarray, b: np.ndarray, eta: np.ndarray,
                 col_valid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per vertex i: the half-gradient there (``H``) and column i minus the target (``AbT``).

    The half-gradient g = A'(Ax - b) + eta x = H x with H_i = A'A_i + eta e_i - A'b (x on
    the simplex), so a step towards vertex i updates it as g <- (1 - s) g + s H_i; row i of
    ``H`` holds H_i (batched BLAS, not einsum). An invalid (padded) column gets a huge
    gradient in every row of ``H``, so it is never the Frank-Wolfe vertex; its weight stays
    0, so it never enters g'x either. ``AbT`` is stored row-wise for contiguous gathers
    (A_i - Ax = Ab_i - err); both are new arrays, the inputs are never written.
    """
    k = A.shape[2]
    At = A.transpose(0, 2, 1)
    c = (At @ b[:, :, None])[:, :, 0]
    H = At @ A - c[:, None, :]
    H[:, np.arange(k), np.arange(k)] += eta[:, None]
    if col_valid is not None:
        H = np.where(np.asarray(col_valid, bool)[:, None, :], H, _NEVER)
    AbT = np.subtract(At, b[:, None, :], order="C")
    return H, AbT


def _last_used_row(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per problem, one past its last row with a non-zero in ``A`` or ``b`` (then padding)."""
    used_row = (A != 0).any(axis=2) | (b != 0)
    return np.where(used_row.any(axis=1), A.shape[1] - np.argmax(used_row[:, ::-1], axis=1), 0)


def _use_compiled(kernel: str) -> bool:
    check_option("kernel", kernel, KERNELS)
    return kernel == "numba" or (kernel == "auto" and synth_fw_numba.available())


def _frank_wolfe_compiled(A, b, x0, *, zeta, n_rows, min_decrease, max_iter, col_valid):
    """:func:`frank_wolfe` with the iterations in the numba kernel (same set-up, same steps)."""
    setup = _CompiledSetup.build(A, b, zeta, n_rows, min_decrease, col_valid)
    return setup.run(x0, max_iter)


@dataclass(frozen=True, eq=False)
class _CompiledSetup:
    """What the compiled kernel needs for a batch, built once for both sparsification stages.

    The same quantities as the numpy loop (:func:`_vertex_rows`), and each
    problem's last used row and column (trailing padding is skipped).
    """

    A: np.ndarray
    b: np.ndarray
    H: np.ndarray
    AbT: np.ndarray
    eta: np.ndarray
    zeta2: np.ndarray
    inv_n: np.ndarray
    md2: np.ndarray
    n_end: np.ndarray
    col_valid: np.ndarray | None

    @classmethod
    def build(cls, A, b, zeta, n_rows, min_decrease, col_valid) -> _CompiledSetup:
        A = np.asarray(A, dtype=float)
        b = np.asarray(b, dtype=float)
        nb = A.shape[0]
        zeta2 = np.broadcast_to(np.asarray(zeta, float) ** 2, (nb,))
        inv_n = 1.0 / np.broadcast_to(np.asarray(n_rows, float), (nb,))
        md2 = np.broadcast_to(np.asarray(min_decrease, float) ** 2, (nb,))
        eta = zeta2 / inv_n
        cv = None
        if col_valid is not None and not np.all(col_valid):
            cv = np.asarray(col_valid, bool)
        H, AbT = _vertex_rows(A, b, eta, cv)
        return cls(A, b, H, AbT, eta, zeta2, inv_n, md2, _last_used_row(A, b), cv)

    def run(self, x0: np.ndarray, max_iter: int) -> np.ndarray:
        x = np.array(x0, dtype=float, copy=True)
        nb, k = x.shape
        if self.col_valid is None:
            k_end = np.full(nb, k)
        else:  # trailing invalid columns with zero weight are padding
            used_col = self.col_valid | (x != 0)
            k_end = np.maximum(k - np.argmax(used_col[:, ::-1], axis=1), 1)
        err = (self.A @ x[:, :, None])[:, :, 0] - self.b
        return synth_fw_numba.run(self.H, self.AbT, x, err, self.eta, self.zeta2, self.inv_n,
                                  self.md2, max_iter, self.n_end, k_end)  # fmt: skip


def sparsify(x: np.ndarray) -> np.ndarray:
    """synthdid's ``sparsify_function``, row-wise: zero weights <= max/4, renormalise."""
    x = np.where(x <= x.max(axis=1, keepdims=True) / 4, 0.0, x)
    return x / x.sum(axis=1, keepdims=True)


@dataclass(frozen=True, eq=False)
class WeightProblem:
    """A batch of weight fits: regress the last column of ``Y (B, n, k+1)`` on the first k.

    With ``intercept`` every column is centred over the (valid) rows first, which
    lets the fitted combination differ from the target by a constant.
    """

    Y: np.ndarray
    x0: np.ndarray
    zeta: np.ndarray
    intercept: bool
    min_decrease: np.ndarray
    row_valid: np.ndarray | None = None
    col_valid: np.ndarray | None = None


def solve_weights(
    problems: list[WeightProblem],
    *,
    max_iter: int = MAX_ITER,
    max_iter_pre_sparsify: int = MAX_ITER_PRE_SPARSIFY,
    kernel: Kernel = "auto",
) -> list[np.ndarray]:
    """synthdid's two-step sparsified fit for several batches in one Frank-Wolfe run.

    With the numpy loop, batches of different shapes (e.g. the unit-weight and
    time-weight problems) are padded to a common shape and solved together, so
    the sequential iterations are paid once. The compiled kernel has no
    per-iteration overhead to share, so there each batch is solved at its own
    shape. Returns one ``(B, k)`` weight array per problem.
    """
    parts = []
    for p in problems:
        Y = np.array(p.Y, dtype=float, copy=True)
        nb, n, k1 = Y.shape
        rv = np.ones((nb, n), bool) if p.row_valid is None else np.asarray(p.row_valid, bool)
        cv = np.ones((nb, k1 - 1), bool) if p.col_valid is None else np.asarray(p.col_valid, bool)
        Y[~rv] = 0.0
        n_rows = rv.sum(axis=1).astype(float)
        if p.intercept:
            Y -= (Y.sum(axis=1) / n_rows[:, None])[:, None, :]
            Y[~rv] = 0.0
        zeta = np.broadcast_to(np.asarray(p.zeta, float), (nb,))
        md = np.broadcast_to(np.asarray(p.min_decrease, float), (nb,))
        parts.append((Y, cv, n_rows, np.asarray(p.x0, float), zeta, md))
    if _use_compiled(kernel):
        out = []
        for Y, cv, nr, x, z, m in parts:
            setup = _CompiledSetup.build(Y[:, :, :-1], Y[:, :, -1], z, nr, m,
                                         None if cv.all() else cv)  # fmt: skip
            w = setup.run(np.where(cv, x, 0.0), max_iter_pre_sparsify)
            out.append(setup.run(sparsify(w), max_iter))
        return out
    n_max = max(y.shape[1] for y, *_ in parts)
    k_max = max(y.shape[2] - 1 for y, *_ in parts)
    total = sum(y.shape[0] for y, *_ in parts)
    A = np.zeros((total, n_max, k_max))
    b = np.zeros((total, n_max))
    x0 = np.zeros((total, k_max))
    cv_all = np.zeros((total, k_max), bool)
    n_rows, zeta, md = np.empty(total), np.empty(total), np.empty(total)
    sizes, r = [], 0
    for Y, cv, nr, x, z, m in parts:
        nb, n, k1 = Y.shape
        sl = slice(r, r + nb)
        A[sl, :n, : k1 - 1] = Y[:, :, :-1]
        b[sl, :n] = Y[:, :, -1]
        x0[sl, : k1 - 1] = np.where(cv, x, 0.0)
        cv_all[sl, : k1 - 1] = cv
        n_rows[sl], zeta[sl], md[sl] = nr, z, m
        sizes.append((sl, k1 - 1))
        r += nb
    opts = dict(zeta=zeta, n_rows=n_rows, min_decrease=md,
                col_valid=None if cv_all.all() else cv_all)  # fmt: skip
    x = frank_wolfe(A, b, x0, max_iter=max_iter_pre_sparsify, kernel="numpy", **opts)
    x = frank_wolfe(A, b, sparsify(x), max_iter=max_iter, kernel="numpy", **opts)
    return [x[sl, :k] for sl, k in sizes]


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
    kernel: Kernel = "auto",
) -> np.ndarray:
    """One batch of :class:`WeightProblem` solved by :func:`solve_weights`."""
    problem = WeightProblem(Y, x0, zeta, intercept, min_decrease, row_valid, col_valid)
    return solve_weights([problem], max_iter=max_iter,
                         max_iter_pre_sparsify=max_iter_pre_sparsify, kernel=kernel)[0]  # fmt: skip
