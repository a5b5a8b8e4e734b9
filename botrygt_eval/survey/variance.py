"""Taylor-linearisation variance for a :class:`SurveyDesign` (R's ``svyrecvar``).

Estimators hand over influence values ``x`` (n x k, already multiplied by the weights,
zero outside a domain). Two steps, as R:

1. **Calibration**: for every recorded :class:`Adjustment` with an ``X``, in order, ``x``
   is replaced by ``W * e`` where ``e`` is the residual of ``x / W`` from a regression on
   ``X`` with weights ``R`` (``W`` = ``weights_after``, ``R`` = ``regression_weights``).
   ``R = 1`` is R's ``rake``; ``R`` = input weights is ``calibrate`` and ``postStratify``.
   A ``rake`` record with ``details["backfit"]`` is residualised as R does it: 10
   backfitting sweeps over the margins with each margin's own weights (exact even when
   raking stopped early). The chain is linear: ``x_res = x - F @ Gm @ Q.T @ x``.
2. **Stratified PSU sums**: V = sum_h c_h sum_j (t_hj - tbar_h)(t_hj - tbar_h)' with
   t_hj the PSU totals and c_h = (1 - n_h/N_h) n_h/(n_h - 1).

A stratum with one PSU contributes 0 (``certainty``, ``remove``) or f_h t^2 without
centring (``adjust``), as R's ``onestrat``; ``fail`` is refused when the design is built.
:func:`variance_sparse` gives the diagonal for thousands of domain columns at once
without forming dense n x K matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from botrygt_eval.errors import DesignError
from botrygt_eval.survey.design import SurveyDesign

__all__ = [
    "residualise",
    "stratified_vcov",
    "linearization_vcov",
    "variance_sparse",
    "stratum_coefficients",
]


@dataclass(frozen=True, eq=False)
class _CalOperator:
    """x_res = x - F @ (Gm @ (Q.T @ x)) for the whole chain of calibration steps."""

    F: np.ndarray | sp.csr_matrix  # n x q: W_k * X_k, side by side
    Gm: np.ndarray  # q x q
    Q: np.ndarray | sp.csr_matrix  # n x q: X_k * R_k / W_k


def _dense(a) -> np.ndarray:
    return a.toarray() if sp.issparse(a) else np.asarray(a)


BACKFIT_SWEEPS = 10  # R's svyrecvar: for(iterations in 1:10) over the raking margins


def _scale_rows(X, v: np.ndarray):
    return sp.csr_matrix(X.multiply(v[:, None])) if sp.issparse(X) else X * v[:, None]


def _factors(design: SurveyDesign):
    """Blocks (F, Q) and, in order, the factors x <- x - F_j A Q_j' x of every record.

    A regression record (X, W, R) is one factor with F = W X, Q = X R / W and
    A = (X' R X)^+. A raking record with ``details["backfit"]`` (per margin: cell codes
    and the weights after that margin's step, R's ``attr(margin, "weights")``) is R's
    backfitting: 10 sweeps over the margins of x <- x - psw * ave(x / psw, margin),
    i.e. F = psw Z, Q = Z / psw, A = diag(1 / cell count) for the cell dummies Z.
    """
    blocks, factors = [], []
    n = design.n
    for adj in design.adjustments:
        if adj.X is None:
            continue
        if adj.kind == "rake" and adj.details.get("backfit"):
            margin_blocks, margin_A = [], []
            for codes, psw in adj.details["backfit"]:
                codes = np.asarray(codes, dtype=np.int64)
                psw = np.asarray(psw, dtype=float)
                k = int(codes.max()) + 1
                Z = sp.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, k))
                count = np.bincount(codes, minlength=k).astype(float)
                blocks.append((_scale_rows(Z, psw), _scale_rows(Z, 1 / psw)))
                margin_blocks.append(len(blocks) - 1)
                margin_A.append(np.diag(np.where(count > 0, 1 / np.maximum(count, 1), 0.0)))
            for _ in range(BACKFIT_SWEEPS):
                factors.extend(zip(margin_blocks, margin_A, strict=True))
            continue
        X = sp.csr_matrix(adj.X, dtype=float) if sp.issparse(adj.X) else np.asarray(adj.X, float)
        if X.ndim == 1:
            X = X[:, None]
        if "weights_after" not in adj.details:
            raise DesignError(
                f"the {adj.kind} step has an X but no weights_after; record the weights the "
                "step produced (SurveyDesign.with_weights does this)"
            )
        W = np.asarray(adj.details["weights_after"], dtype=float)
        R = np.asarray(adj.details.get("regression_weights", np.ones(n)), dtype=float)
        if (W <= 0).any():
            raise DesignError(
                f"the {adj.kind} step recorded weights_after <= 0; calibration-aware variance "
                "needs the positive weights the step produced"
            )
        A = np.linalg.pinv(_dense(X.T @ _scale_rows(X, R)), rcond=1e-12, hermitian=True)
        blocks.append((_scale_rows(X, W), _scale_rows(X, R / W)))
        factors.append((len(blocks) - 1, A))
    return blocks, factors


def _build_operator(design: SurveyDesign) -> _CalOperator | None:
    """Compose the factors: after each, x_res = x - F C Q' x with
    C <- C + E_j A (E_j' - Q_j' F C) (E_j selects block j)."""
    blocks, factors = _factors(design)
    if not blocks:
        return None
    sparse = any(sp.issparse(f) for f, _ in blocks)
    stack = (lambda m: sp.hstack(m, format="csr")) if sparse else np.hstack
    F = stack([f for f, _ in blocks])
    Q = stack([q for _, q in blocks])
    edges = np.concatenate([[0], np.cumsum([f.shape[1] for f, _ in blocks])])
    q = int(edges[-1])
    S = _dense(Q.T @ F)  # q x q
    C = np.zeros((q, q))
    for j, A in factors:
        rj = slice(edges[j], edges[j + 1])
        upd = -S[rj] @ C
        upd[:, rj] += np.eye(edges[j + 1] - edges[j])
        C[rj] += A @ upd
    return _CalOperator(F=F, Gm=C, Q=Q)


_CACHE: dict[int, tuple[tuple, _CalOperator]] = {}


def _operator(design: SurveyDesign) -> _CalOperator | None:
    """The calibration operator, cached on the adjustment tuple (domains share it)."""
    if not any(a.X is not None for a in design.adjustments):
        return None
    key = id(design.adjustments)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is design.adjustments:
        return hit[1]
    op = _build_operator(design)
    if len(_CACHE) >= 8:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (design.adjustments, op)
    return op


def residualise(x: np.ndarray, design: SurveyDesign) -> np.ndarray:
    """Influence values after the calibration projections recorded on the design."""
    x = np.asarray(x, dtype=float)
    op = _operator(design)
    if op is None:
        return x
    one = x.ndim == 1
    x2 = x[:, None] if one else x
    out = x2 - _dense(op.F @ (op.Gm @ _dense(op.Q.T @ x2)))
    return out[:, 0] if one else out


def stratum_coefficients(design: SurveyDesign) -> tuple[np.ndarray, np.ndarray]:
    """Per stratum: the coefficient c_h and whether PSU totals are centred (lonely PSU)."""
    n_h = design.n_psu_stratum.astype(float)
    if design.pop_psu_stratum is None:
        f = np.ones_like(n_h)
    else:
        N = design.pop_psu_stratum
        f = (N - n_h) / N
    f = np.where(f < 1e-7, 0.0, f)  # certainty (self-representing) strata
    several = n_h > 1
    c = np.where(several, f * n_h / np.maximum(n_h - 1, 1), 0.0)
    if design.lonely_psu == "adjust":
        c = np.where(several, c, f)
    return c, several


def _psu_indicator(design: SurveyDesign) -> sp.csr_matrix:
    n = design.n
    return sp.csr_matrix((np.ones(n), (design.psu_codes, np.arange(n))), shape=(design.n_psu, n))


def stratified_vcov(x: np.ndarray, design: SurveyDesign) -> np.ndarray:
    """Between-PSU covariance within strata (no calibration step), k x k."""
    x = np.asarray(x, dtype=float)
    x2 = x[:, None] if x.ndim == 1 else x
    T = _psu_indicator(design) @ x2  # P x k PSU totals
    hs = design.psu_stratum
    c, centred = stratum_coefficients(design)
    sums = np.zeros((design.n_strata, T.shape[1]))
    np.add.at(sums, hs, T)
    means = sums / design.n_psu_stratum[:, None]
    Tc = T - np.where(centred[hs][:, None], means[hs], 0.0)
    return (Tc * c[hs][:, None]).T @ Tc


def linearization_vcov(x: np.ndarray, design: SurveyDesign) -> np.ndarray:
    """Calibration-aware Taylor covariance of the estimators with influence values ``x``."""
    return stratified_vcov(residualise(x, design), design)


def _row_dot(B: sp.csr_matrix, gamma: np.ndarray, rows, cols, chunk: int) -> np.ndarray:
    """B[rows[i]] . gamma[:, cols[i]] for every i, over the stored entries of B only."""
    out = np.empty(len(rows))
    lengths = np.diff(B.indptr)
    for s in range(0, len(rows), chunk):
        r, c = rows[s : s + chunk], cols[s : s + chunk]
        L = lengths[r]
        owner = np.repeat(np.arange(r.size), L)
        offs = np.arange(owner.size) - np.repeat(np.cumsum(L) - L, L)
        pos = B.indptr[r][owner] + offs
        vals = B.data[pos] * gamma[B.indices[pos], c[owner]]
        out[s : s + chunk] = np.bincount(owner, weights=vals, minlength=r.size)
    return out


def variance_sparse(x: sp.spmatrix, design: SurveyDesign, *, chunk: int = 65536) -> np.ndarray:
    """Diagonal of :func:`linearization_vcov` for a sparse n x K influence matrix.

    Expands sum_p c_p t_p^2 - sum_h c_h S_h^2 / n_h with t = a - B gamma (a = PSU totals
    of x, B = PSU totals of F, gamma = Gm Q' x) so nothing n x K or P x K is made dense.
    """
    x = sp.csr_matrix(x, dtype=float)
    ind = _psu_indicator(design)
    a = (ind @ x).tocoo()  # P x K, sparse
    hs = design.psu_stratum
    c, centred = stratum_coefficients(design)
    cp = c[hs]
    K = x.shape[1]
    H = design.n_strata
    rows, cols, vals = a.row, a.col, a.data
    var = np.bincount(cols, weights=cp[rows] * vals**2, minlength=K).astype(float)
    S1 = sp.csr_matrix((vals, (hs[rows], cols)), shape=(H, K)).toarray()
    op = _operator(design)
    if op is not None:
        B = sp.csr_matrix(ind @ op.F)  # P x q; calibration dummies make it sparse
        gamma = op.Gm @ _dense(x.T @ op.Q).T  # q x K
        cross = _row_dot(B, gamma, rows, cols, chunk)
        var -= 2 * np.bincount(cols, weights=cp[rows] * vals * cross, minlength=K)
        Bc = _dense(B.T @ _scale_rows(B, cp))
        var += np.einsum("jk,jl,lk->k", gamma, Bc, gamma)
        hind = sp.csr_matrix((np.ones(len(hs)), (hs, np.arange(len(hs)))), shape=(H, len(hs)))
        S1 = S1 - _dense(hind @ B) @ gamma
    coef = np.where(centred, c / design.n_psu_stratum, 0.0)
    var -= coef @ (S1**2)
    return np.maximum(var, 0.0)
