"""Exact two-way fixed effects: weighted projection on unit and period dummies.

One object per (unit codes, period codes, weights) that the TWFE fit, the event study,
the CR2 leverage and every PPML IRLS step share. The normal equations of the dummies
are solved with the block of the factor with more levels (the "local" factor, usually
the unit) eliminated: it is diagonal, so what is left is the Schur complement of the
other factor, a small square matrix (periods - 1), factorised once by an
eigendecomposition. No dense dummy matrix is formed, and nothing is iterated: the
projection is exact (to rounding) for balanced, unbalanced and weighted panels.

In the weighted coordinates (rows times ``sqrt(w)``) the dummies span the same space
as the orthonormal columns ``[Q_L, Q_B]``:

- ``Q_L``: one column per level ``u`` of the local factor, ``sqrt(w_i) / sqrt(W_u)``
  on its rows and 0 elsewhere (disjoint supports, so only the vector ``q_local`` is
  stored);
- ``Q_B``: the other factor's dummies residualised on the local ones, orthonormalised
  through the eigendecomposition of their Gram matrix (the Schur complement).

CR2 (:mod:`botrygt_eval.did.small_sample`) uses this basis for the leverage instead of
the SVD of a dense n x (units + periods) dummy matrix.
"""

from __future__ import annotations

import copy

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components

#: eigenvalues of the Schur complement below this share of the largest count as zero
#: (a panel whose units and periods fall apart into disconnected groups)
SCHUR_RTOL = 1e-11


def dense_codes(codes) -> tuple[np.ndarray, int]:
    """Integer codes ``0 .. L-1`` of any labels, and ``L``."""
    a = np.asarray(codes)
    if a.dtype.kind in "iu" and a.size and a.min() == 0:
        n_levels = int(a.max()) + 1
        if np.bincount(a, minlength=n_levels).all():
            return a.astype(np.intp, copy=False), n_levels
    uniq, inv = np.unique(a, return_inverse=True)
    return inv.astype(np.intp).reshape(-1), len(uniq)


def _group_sum_matrix(codes: np.ndarray, n_levels: int, w: np.ndarray) -> sparse.csr_matrix:
    """Sparse ``levels x n`` matrix whose product with ``z`` sums ``w z`` by level."""
    order = np.argsort(codes, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_levels))])
    return sparse.csr_matrix((w[order], order, indptr), shape=(n_levels, len(codes)))


def _connected(present: np.ndarray) -> bool:
    """Whether the observed (unit, period) cells link every unit and period (then the Schur
    complement without the reference period is positive definite)."""
    na, nb = present.shape
    a, b = np.nonzero(present)
    graph = sparse.csr_matrix((np.ones(len(a)), (a, na + b)), shape=(na + nb, na + nb))
    return connected_components(graph, directed=False)[0] == 1


class TwoWayFE:
    """Weighted least-squares projection on the dummies of two factors (unit, period).

    ``unit_codes``, ``time_codes``: one label per row; ``weights``: positive (default 1).
    ``residualize(z)`` returns ``z`` minus its fitted two-way effects (raw scale),
    ``effects(z)`` the effects themselves, ``basis()`` an orthonormal basis of the
    weighted dummies (module docstring).
    """

    def __init__(self, unit_codes, time_codes, weights=None):
        u, nu = dense_codes(unit_codes)
        t, nt = dense_codes(time_codes)
        self.n = len(u)
        self.unit_codes, self.time_codes = u, t
        self.swapped = nt > nu  # eliminate the factor with more levels
        a, b, na, nb = (t, u, nt, nu) if self.swapped else (u, t, nu, nt)
        self.local, self.other, self.n_local, self.n_other = a, b, na, nb
        self._order_a, self._order_b = np.argsort(a, kind="stable"), np.argsort(b, kind="stable")
        self._ptr_a = np.concatenate([[0], np.cumsum(np.bincount(a, minlength=na))])
        self._ptr_b = np.concatenate([[0], np.cumsum(np.bincount(b, minlength=nb))])
        self._cell_index = a * nb + b
        present = np.bincount(self._cell_index, minlength=na * nb).reshape(na, nb) > 0
        self._connected = _connected(present)
        self._set_weights(weights)

    def reweighted(self, weights) -> TwoWayFE:
        """The projection for the same units and periods with other weights (IRLS steps),
        reusing what depends on the codes only."""
        new = copy.copy(self)
        new._set_weights(weights)
        return new

    def _set_weights(self, weights) -> None:
        n, na, nb = self.n, self.n_local, self.n_other
        w = np.ones(n) if weights is None else np.asarray(weights, float)
        self.w = w
        self._sum_a = sparse.csr_matrix((w[self._order_a], self._order_a, self._ptr_a), (na, n))
        self._sum_b = sparse.csr_matrix((w[self._order_b], self._order_b, self._ptr_b), (nb, n))
        self.wa = np.bincount(self.local, weights=w, minlength=na)
        # A'WB, dense: at most one entry per observed cell, so no larger than the data
        cell = np.bincount(self._cell_index, weights=w, minlength=na * nb).reshape(na, nb)
        self._cell = cell
        self.share = cell / self.wa[:, None]  # A-weighted means of the B dummies
        wb = np.bincount(self.other, weights=w, minlength=nb)
        s1 = (np.diag(wb) - cell.T @ self.share)[1:, 1:]  # the first level of b: reference
        # W with W W' = s1^+: Cholesky for a connected panel, else the eigendecomposition,
        # dropping the directions of the disconnected groups
        if self._connected:
            self._white = linalg.solve_triangular(
                np.linalg.cholesky(s1), np.eye(len(s1)), lower=True
            ).T
        else:
            lam, vec = np.linalg.eigh(s1)
            keep = lam > SCHUR_RTOL * max(lam[-1], 0) if lam.size else np.zeros(0, bool)
            self._white = vec[:, keep] / np.sqrt(lam[keep])

    # ------------------------------------------------------------------ projection
    def _coef(self, z2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r_a = self._sum_a @ z2
        r_b = (self._sum_b @ z2)[1:] - (self.share.T @ r_a)[1:]
        g = np.zeros((self.n_other, z2.shape[1]))
        g[1:] = self._white @ (self._white.T @ r_b)
        al = (r_a - self._cell @ g) / self.wa[:, None]
        return al, g

    def effects(self, z) -> tuple[np.ndarray, np.ndarray]:
        """WLS coefficients of ``z`` (n or n x m) on the dummies: (unit effects, period
        effects), each levels x m, one level of one factor normalised to 0. Only the
        fitted sum ``unit[u] + period[t]`` is unique."""
        z2 = np.asarray(z, float).reshape(self.n, -1)
        al, g = self._coef(z2)
        return (g, al) if self.swapped else (al, g)

    def residualize(self, z) -> np.ndarray:
        """``z`` minus its weighted least-squares fit on the unit and period dummies."""
        z = np.asarray(z, float)
        z2 = z.reshape(self.n, -1)
        al, g = self._coef(z2)
        return (z2 - al[self.local] - g[self.other]).reshape(z.shape)

    # ------------------------------------------------------------------ basis
    @property
    def rank(self) -> int:
        """Rank of the dummy design (levels of both factors - 1 if connected)."""
        return self.n_local + self._white.shape[1]

    def basis_times(self, m: np.ndarray) -> np.ndarray:
        """``Q_B @ m`` (n x c) for ``m`` (rank x c) without the n x rank product: the rows of
        ``Q_B`` are differences of rows of two small matrices."""
        v = self._white @ m
        v = np.vstack([np.zeros((1, v.shape[1])), v])
        out = v[self.other]
        out -= (self.share @ v)[self.local]
        if not np.all(self.w == 1.0):
            out *= np.sqrt(self.w)[:, None]
        return out

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Orthonormal basis of the weighted dummies: ``(local codes, q_local, Q_B)``;
        column ``u`` of ``Q_L`` is ``q_local`` on the rows with local code ``u``."""
        sw = np.sqrt(self.w)
        q_local = sw / np.sqrt(self.wa[self.local])
        v = np.vstack([np.zeros((1, self._white.shape[1])), self._white])
        q_b = v[self.other]
        q_b -= (self.share @ v)[self.local]
        if not np.all(sw == 1.0):
            q_b *= sw[:, None]
        return self.local, q_local, q_b


__all__ = ["TwoWayFE", "dense_codes"]


def two_way_wls(
    w: np.ndarray,
    ui: np.ndarray,
    ti: np.ndarray,
    x: np.ndarray,
    z: np.ndarray,
    like: TwoWayFE | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares of ``z`` on ``x`` plus unit and period dummies.

    Exact: ``x`` and ``z`` are residualised on the dummies by the two-way projection of
    :class:`botrygt_eval.did._fe.TwoWayFE` (Frisch-Waugh-Lovell), so the cost is
    O(n k + N T) instead of a dense n x (k + N + T) design. ``z`` may have several columns.
    Returns (beta k x m, unit effects N x m, period effects T x m); only the fitted sum of
    the effects is unique. Raises ``numpy.linalg.LinAlgError`` if a column of ``x`` is
    collinear with the dummies or with the other columns. ``like``: a projection for the
    same ``ui``, ``ti`` whose code-only work is reused (used as is if its weights are ``w``).
    """
    n = len(w)
    z2 = z.reshape(n, -1)
    if like is None:
        fe = TwoWayFE(ui, ti, w)
    else:
        fe = like if like.w is w else like.reweighted(w)
    beta = np.zeros((x.shape[1], z2.shape[1]))
    if x.shape[1]:
        xr = fe.residualize(x)
        xw = xr * w[:, None]
        gram = xr.T @ xw
        size = np.einsum("ij,ij->j", x * w[:, None], x)
        if np.any(np.diag(gram) <= 1e-20 * size):
            raise np.linalg.LinAlgError("a regressor is collinear with the fixed effects")
        beta = np.linalg.solve(gram, xw.T @ fe.residualize(z2))
    alpha, gamma = fe.effects(z2 - x @ beta)
    return beta, alpha, gamma
