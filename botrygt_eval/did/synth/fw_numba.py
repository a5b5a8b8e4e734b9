"""Compiled (numba) Frank-Wolfe loop for :mod:`botrygt_eval.did.synth.weights`.

Why: synthdid's stopping rule lets almost every unit-weight problem run all
10,100 iterations, and in numpy each iteration is a dozen array calls whose
overhead, not their arithmetic, is the cost. Here each problem of a batch runs
the steps of ``synth_weights._frank_wolfe_one`` (same lazily scaled state,
same residual kept explicitly for the stopping rule) in one compiled loop, at
a few hundred nanoseconds an iteration.

The numpy loops in ``synth_weights`` stay the reference: tests check that this
kernel gives their weights (``tests/did/test_did_synth_solver.py``). numba is
imported only when the kernel is first used, so importing the package (and the
CLI) does not pay for it; the compiled code is cached next to this file (or in
numba's user cache) when a writable place exists, and compiled afresh otherwise.
Should numba fail to import or compile (or its JIT be disabled), the callers run
the numpy loop instead: the same weights, slower.
"""

from __future__ import annotations

import numpy as np

_KERNEL = None
_AVAILABLE: bool | None = None
#: the one signature compiled (eagerly, so that :func:`available` knows it works)
SIGNATURE = (
    "void(f8[:, :, ::1], f8[:, :, ::1], f8[:, ::1], f8[:, ::1], f8[::1], f8[::1], f8[::1],"
    " f8[::1], i8, i8[::1], i8[::1])"
)
#: rescale the lazily scaled state when its scale factor falls below this (as the numpy path)
_RESCALE_BELOW = 1e-150
#: LLVM may reorder sums (to vectorise them) and fuse multiply-adds: ~20 % faster, and the
#: weights differ from the numpy loop's by rounding only (as the two numpy loops do)
FASTMATH = {"reassoc", "contract"}


def available() -> bool:
    """True when the kernel compiles (or loads from the cache); asked once per process.

    numba is a dependency, so only a broken install (e.g. a numba too old for the
    installed numpy) says no; the callers then run the numpy loop, same weights.
    """
    global _AVAILABLE
    if _AVAILABLE is None:
        try:
            kernel()
            _AVAILABLE = True
        except Exception:  # an import or compile failure of any kind means: use the numpy loop
            _AVAILABLE = False
    return _AVAILABLE


def _fw_batch(H, AbT, x, err, eta, zeta2, inv_n, md2, max_iter, n_end, k_end):  # pragma: no cover
    """Frank-Wolfe for every problem ``r``; ``x (B,k)`` and ``err (B,n)`` are updated in place.

    ``H (B,k,k)`` (row i: the half-gradient at vertex i), ``AbT (B,k,n)`` (column i
    of A minus b), ``err = A x - b``; problem r uses rows ``:n_end[r]`` and
    columns ``:k_end[r]`` only (the rest is padding).
    """
    nb = x.shape[0]
    for r in range(nb):
        n = n_end[r]
        k = k_end[r]
        Hr = H[r]
        Ar = AbT[r]
        u = x[r, :k].copy()
        e = err[r, :n]
        v = np.zeros(k)
        for i in range(k):
            ui = u[i]
            if ui != 0.0:
                for j in range(k):
                    v[j] += ui * Hr[i, j]
        xx = 0.0
        for j in range(k):
            xx += u[j] * u[j]
        d = np.empty(n)
        alpha = 1.0
        prev = np.nan
        et = eta[r]
        z2 = zeta2[r]
        inn = inv_n[r]
        m2 = md2[r]
        for t in range(1, max_iter + 1):
            i = 0
            vmin = v[0]
            for j in range(1, k):
                if v[j] < vmin:
                    vmin = v[j]
                    i = j
            vu = 0.0  # a separate loop, so that this sum is vectorised
            for j in range(k):
                vu += v[j] * u[j]
            xi = alpha * u[i]
            dd = 0.0
            for j in range(n):
                dj = Ar[i, j] - e[j]
                d[j] = dj
                dd += dj * dj
            denom = dd + et * (xx - 2.0 * xi + 1.0)
            num = alpha * alpha * vu - alpha * v[i]
            step = num / denom if denom > 0.0 else 0.0
            if step < 0.0:
                step = 0.0
            elif step > 1.0:
                step = 1.0
            keep = 1.0 - step
            if keep > 0.0:
                alpha *= keep
                rr = step / alpha
                u[i] += rr
                for j in range(k):
                    v[j] += Hr[i, j] * rr
                if alpha < _RESCALE_BELOW:
                    for j in range(k):
                        u[j] *= alpha
                        v[j] *= alpha
                    alpha = 1.0
            else:  # a full step lands on the vertex
                for j in range(k):
                    u[j] = 0.0
                    v[j] = Hr[i, j]
                u[i] = 1.0
                alpha = 1.0
            xx = keep * keep * xx + 2.0 * step * keep * xi + step * step
            ee = 0.0
            for j in range(n):
                ej = e[j] + step * d[j]
                e[j] = ej
                ee += ej * ej
            val = z2 * xx + ee * inn
            if t >= 2 and not (prev - val) > m2:
                break
            prev = val
        for j in range(k):
            x[r, j] = alpha * u[j]


def kernel():
    """The compiled :func:`_fw_batch` (compiled, or loaded from numba's cache, on first use)."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        if numba.config.DISABLE_JIT:  # the loop would run as plain Python: far slower than numpy
            raise RuntimeError("numba's JIT is disabled (NUMBA_DISABLE_JIT)")
        # sums may be reordered (vectorised) and fused; never assumed free of NaN or inf
        opts = dict(nogil=True, fastmath=set(FASTMATH))
        try:
            _KERNEL = numba.njit(SIGNATURE, cache=True, **opts)(_fw_batch)
        except RuntimeError:  # no writable cache location: compile in memory
            _KERNEL = numba.njit(SIGNATURE, **opts)(_fw_batch)
    return _KERNEL


def run(H, AbT, x, err, eta, zeta2, inv_n, md2, max_iter, n_end, k_end) -> np.ndarray:
    """Run the kernel (inputs as contiguous, writable arrays of the signature's types; ``x``
    and ``err`` copied, as the kernel writes them); returns the weights ``(B, k)``."""
    x = np.array(x, dtype=np.float64, order="C", copy=True)
    err = np.array(err, dtype=np.float64, order="C", copy=True)
    f64 = [np.require(a, np.float64, ["C", "W"]) for a in (H, AbT, eta, zeta2, inv_n, md2)]
    ends = [np.require(a, np.int64, ["C", "W"]) for a in (n_end, k_end)]
    kernel()(f64[0], f64[1], x, err, *f64[2:], int(max_iter), *ends)
    return x
