"""Small-sample cluster-robust inference: CR2 variance and Bell-McCaffrey degrees of freedom.

With few clusters, or few *effective* clusters (25 partnership kommuner, a handful of
large ones carrying a Poisson fit), the usual CR1 sandwich is biased downwards and
normal (or t(G-1)) intervals are too short. CR2 (Bell & McCaffrey 2002) rescales each
cluster's residuals by ``A_g = (I - H_gg)^(-1/2)``, with ``H_gg`` the cluster's block
of the hat matrix, which makes the variance unbiased when the errors are independent
and homoskedastic. Each contrast ``c'beta`` is then compared with a t distribution
whose degrees of freedom are the Satterthwaite approximation of the distribution of
``c' V_CR2 c`` under that working model (Bell & McCaffrey 2002; Imbens & Kolesar
2016, "K_BM"; Pustejovsky & Tipton 2018). This is what R clubSandwich's
``coef_test(fit, vcov = "CR2", test = "Satterthwaite")`` computes for ``lm`` fits.

Weighted least squares needs a working model for the errors (``cr2_working``):

- ``"identity"`` (default): errors homoskedastic on the outcome scale; the weights only
  define the estimand (population weights: a kommune counts by its inhabitants). This is
  clubSandwich's default for a weighted ``lm`` (``inverse_var = FALSE``) and estimatr's
  ``lm_robust(se_type = "CR2")``.
- ``"inverse_var"``: the weights are inverse variances (precision weights, e.g. group sizes
  when each row is a group mean), so the *weighted* errors are homoskedastic;
  clubSandwich's ``inverse_var = TRUE``.

Population weights are not known to be inverse variances (kommune-level burglary and survey
outcomes carry shocks that do not shrink with size), and when they are not, the
inverse-variance model overstates the df: with a few large kommuner the identity model's
df are much smaller (issue 21's example: 7.1 against 17.9), so it is the default. Both are
tested against clubSandwich (tests/reference/clubsandwich/). The two agree without weights.

Formulas (in the weighted coordinates ``X* = W^(1/2) X``, ``e* = W^(1/2) e``, so that
WLS is OLS; written for the inverse-variance model, clubSandwich's target ``Phi = W^-1``;
the identity model is the ``target`` case below with ``Phi* = W``):

- ``M = (X*'X*)^-1``; ``A_g`` = symmetric (pseudo-)inverse square root of
  ``I - H_gg``; ``V = M (sum_g X*_g' A_g e*_g e*_g' A_g X*_g) M`` (no G/(G-1) factor);
- for a contrast ``c``: ``p_g = A_g X*_g M c`` and ``G_g = (I - H)[:, g] p_g``;
  with ``Gram = [G_g'G_h]`` (G x G), ``df = tr(Gram)^2 / ||Gram||_F^2``. Writing
  ``H = Q Q'`` (``Q`` an orthonormal basis of the full design) gives
  ``Gram = diag(p_g'p_g) - R'R`` with ``R[:, g] = Q_g' p_g``, so ``I - H`` (n x n) is
  never formed.

Fixed effects. CR2 needs the hat matrix of the *full* design, fixed-effect dummies
included. Either pass them as columns of ``X`` (exact, then every coefficient gets a
variance), or pass their integer codes as ``fixed_effects`` and ``X`` holding only the
regressors of interest (raw or already within-transformed: they are residualised on the
fixed effects here); the leverage then comes from the full design and the result
equals the regressor block of the full-dummy computation. Dropping absorbed fixed
effects from the leverage is exact only when every fixed effect is nested within a
cluster (Pustejovsky & Tipton 2018, Theorem 2); period effects in a panel clustered by
unit are not, so they must be passed. When a fixed effect is nested in a cluster,
``I - H_gg`` is singular and the Moore-Penrose inverse square root is used, as
clubSandwich does.

Generalised linear models (PPML): apply CR2 to the IRLS problem at convergence, i.e.
``X`` the regressors, ``weights`` the working weights (``mu`` for Poisson with log
link) and ``resid`` the working residuals ``(y - mu) / mu``: then ``X*'e* = X'(y - mu)``
are the score contributions and ``H`` is the GLM hat matrix ``W^(1/2) X (X'WX)^-1
X'W^(1/2)`` (the adjustment of Pustejovsky & Tipton's GLM extension and of
``clubSandwich::vcovCR`` for ``glm``).

Cost: dense ``n x (p + k)`` design (p = number of fixed-effect levels) and one
eigendecomposition per cluster, batched over clusters of equal size: a 98-kommune x
64-quarter panel with two-way effects takes well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from botrygt_eval.errors import EstimationError, InputFileError, check_option

CR2Working = Literal["identity", "inverse_var"]

#: eigenvalues of I - H_gg below this count as zero (a fixed effect nested in the cluster)
EIG_TOL = 1e-10
#: most padded cells (clusters x size^2) in one batched eigendecomposition
_BATCH_CELLS = 8_000_000


@dataclass(frozen=True)
class CR2Fit:
    """Pieces shared by the CR2 variance and the Bell-McCaffrey df of any contrast.

    Arrays padded per cluster to the size of the largest cluster of their batch;
    kept so that several contrasts can be tested without repeating the
    eigendecompositions.
    """

    bread: np.ndarray  # M = (X*'X*)^-1, k x k
    vcov: np.ndarray  # CR2 covariance, k x k
    batches: tuple  # per batch: (A (b, m, m), Xt (b, m, k), Q (b, m, r), phi (b, m))
    n_clusters: int
    qphiq: np.ndarray  # Q' Phi Q (r x r; the identity without a target)
    jackknife: bool = False  # CR3: df are G - 1

    def df(self, contrast: np.ndarray) -> np.ndarray:
        """Bell-McCaffrey (Satterthwaite) df of each row of ``contrast`` (q x k); G - 1 for CR3.

        ``Gram = diag(p_g' Phi_g p_g) - S'R - R'S + R' (Q' Phi Q) R`` with
        ``R[:, g] = Q_g' p_g`` and ``S[:, g] = Q_g' Phi_g p_g`` (``Phi = I``: the module
        docstring's ``diag(p_g'p_g) - R'R``).
        """
        C = np.atleast_2d(np.asarray(contrast, float))
        if self.jackknife:
            return np.full(C.shape[0], float(self.n_clusters - 1))
        mc = self.bread @ C.T  # k x q
        D, R, S = [], [], []
        for A, Xt, Q, phi in self.batches:
            p = A @ (Xt @ mc)  # (b, m, q)
            fp = phi[..., None] * p
            Qt = Q.transpose(0, 2, 1)
            D.append(np.einsum("bmq,bmq->bq", p, fp))
            R.append(Qt @ p)  # Q_g' p_g, (b, r, q)
            S.append(Qt @ fp)  # Q_g' Phi_g p_g
        d = np.concatenate(D, axis=0).T  # q x G
        r = np.concatenate(R, axis=0).transpose(2, 1, 0)  # q x r x G
        sr = np.concatenate(S, axis=0).transpose(2, 1, 0)
        rt = r.transpose(0, 2, 1)  # q x G x r
        rs = rt @ sr  # (R'S)_{gh} = r_g' s_h
        gram = rt @ (self.qphiq @ r) - rs - rs.transpose(0, 2, 1)
        idx = np.arange(gram.shape[1])
        gram[:, idx, idx] += d
        tr = np.einsum("qgg->q", gram)
        return tr**2 / np.einsum("qgh,qgh->q", gram, gram)


def _as_2d(x, name: str, n: int | None = None) -> np.ndarray:
    a = np.asarray(x, float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or (n is not None and a.shape[0] != n):
        raise InputFileError(f"{name} must have one row per observation ({n}); got {a.shape}")
    if not np.isfinite(a).all():
        raise InputFileError(f"{name} has missing or infinite values; drop those rows first")
    return a


def _orthonormal_basis(Z: np.ndarray, what: str) -> np.ndarray:
    """Orthonormal basis of the column space of ``Z`` (rank-revealing SVD)."""
    u, s, _ = np.linalg.svd(Z, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        raise EstimationError(f"the {what} is zero; nothing to estimate")
    return u[:, s > s[0] * max(Z.shape) * np.finfo(float).eps]


def _dummies(fixed_effects, n: int) -> np.ndarray:
    """Dense 0/1 columns of every level of every fixed-effect code array."""
    codes = [np.asarray(c) for c in fixed_effects]
    blocks = []
    for c in codes:
        if c.shape != (n,):
            raise InputFileError(f"each fixed-effect code array needs {n} entries; got {c.shape}")
        _, inv = np.unique(c, return_inverse=True)
        blocks.append(np.eye(int(inv.max()) + 1)[inv])
    return np.hstack(blocks)


def _cluster_batches(clusters: np.ndarray):
    """Row indices per cluster, grouped into batches of similar size.

    Yields ``(rows, valid)``: ``rows`` (b, m) int indices padded with 0, ``valid`` (b, m)
    marks real rows. Clusters are sorted by size, so a balanced panel is one batch.
    """
    codes = np.unique(clusters, return_inverse=True)[1]
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    by_size = np.argsort(sizes, kind="stable")
    i = 0
    while i < len(by_size):
        m = sizes[by_size[i]]
        j = i + 1
        # grow the batch while the padded cells stay within budget
        while j < len(by_size) and (j - i + 1) * sizes[by_size[j]] ** 2 <= _BATCH_CELLS:
            j += 1
        batch = by_size[i:j]
        m = int(sizes[batch].max())
        pos = np.arange(m)
        valid = pos[None, :] < sizes[batch][:, None]
        rows = np.where(valid, starts[batch][:, None] + pos[None, :], 0)
        yield order[rows], valid
        i = j


def cr2_fit(
    X,
    resid,
    clusters,
    weights=None,
    fixed_effects=None,
    target=None,
    *,
    jackknife=False,
    cr2_working: CR2Working = "identity",
) -> CR2Fit:
    """CR2 covariance and the pieces for Bell-McCaffrey df (see the module docstring).

    ``X`` (n x k): regressors, all fixed-effect dummies included unless their integer
    codes are passed as ``fixed_effects`` (a list of length-n arrays, e.g. ``[unit,
    period]``). ``resid``: residuals ``y - fitted`` of the full model (for a GLM, the
    working residuals). ``clusters``: one label per row. ``weights``: WLS (or IRLS
    working) weights, positive.

    ``target``: the working model's variances of the *weighted* errors ``w_i^(1/2) e_i``
    (length n, positive, any scale; default all equal, i.e. variance ``1 / w``). The
    adjustment becomes ``A_g = D_g B_g^(+1/2) D_g`` with ``D_g = Phi_g^(1/2)`` and
    ``B_g = D_g [(I - H) Phi (I - H)]_gg D_g``, which makes CR2 unbiased when ``Phi`` is
    the true variance (Pustejovsky & Tipton 2018, eq. 7; clubSandwich's ``target``), and
    the df are computed under ``Phi``. Used for PPML with overdispersed counts.

    ``cr2_working``: the working model for ``weights`` when no ``target`` is given (module
    docstring): ``"identity"`` (default; clubSandwich's ``inverse_var = FALSE``, i.e. the
    target ``w``) or ``"inverse_var"`` (``inverse_var = TRUE``). A ``target`` states the
    working model itself (PPML: the IRLS weights are inverse variances) and overrides it.

    ``jackknife=True`` gives CR3 instead, ``(G - 1) / G`` times the sandwich with
    ``A_g = (I - H_gg)^-1`` (pseudo-inverse; ``target`` ignored): for least squares
    exactly the leave-one-cluster-out jackknife variance (MacKinnon, Nielsen & Webb
    2023, CV3), for a GLM its one-step approximation. Use it with t(G - 1); the
    Bell-McCaffrey ``df`` belong to CR2.
    """
    check_option("cr2_working", cr2_working, ("identity", "inverse_var"))
    X = _as_2d(X, "X")
    n, k = X.shape
    e = _as_2d(resid, "resid", n)[:, 0]
    clusters = np.asarray(clusters)
    if clusters.shape != (n,):
        raise InputFileError(f"clusters needs one label per row ({n}); got {clusters.shape}")
    if weights is None:
        sw = np.ones(n)
    else:
        w = _as_2d(weights, "weights", n)[:, 0]
        if (w <= 0).any():
            raise InputFileError("weights must be positive; drop rows with zero weight first")
        sw = np.sqrt(w)
        if target is None and cr2_working == "identity" and not np.allclose(w, w[0]):
            target = w  # Var(w^(1/2) e) = w Var(e): homoskedastic on the outcome scale
    Xs, es = X * sw[:, None], e * sw
    if fixed_effects is not None and len(fixed_effects):
        qf = _orthonormal_basis(_dummies(fixed_effects, n) * sw[:, None], "fixed-effect design")
        Xs = Xs - qf @ (qf.T @ Xs)
    else:
        qf = np.zeros((n, 0))
    qx = _orthonormal_basis(Xs, "regressor matrix")
    if qx.shape[1] < k:
        raise EstimationError(
            f"the regressors are collinear (rank {qx.shape[1]} of {k}) with each other or with "
            "the fixed effects; drop the redundant columns"
        )
    Q = np.hstack([qf, qx])
    phi = np.ones(n) if target is None else _as_2d(target, "target", n)[:, 0]
    if (phi <= 0).any():
        raise InputFileError("target variances must be positive")
    phi = phi / phi.mean()  # scale-free: SEs and df do not depend on it
    qphiq = np.eye(Q.shape[1]) if target is None else Q.T @ (Q * phi[:, None])
    bread = np.linalg.inv(Xs.T @ Xs)
    meat = np.zeros((k, k))
    batches = []
    n_clusters = 0
    for rows, valid in _cluster_batches(clusters):
        v = valid[..., None]
        Qg = np.where(v, Q[rows], 0.0)
        Xg = np.where(v, Xs[rows], 0.0)
        eg = np.where(valid, es[rows], 0.0)
        Hg = Qg @ Qg.transpose(0, 2, 1)
        if target is None or jackknife:
            lam, vec = np.linalg.eigh(np.eye(Hg.shape[1]) - Hg)
            power = -1.0 if jackknife else -0.5  # CR3: (I - H_gg)^-1, CR2: ^(-1/2)
            inv_root = np.where(lam > EIG_TOL, np.clip(lam, EIG_TOL, None) ** power, 0.0)
            A = (vec * inv_root[:, None, :]) @ vec.transpose(0, 2, 1)
            fg = valid.astype(float)
        else:
            fg = np.where(valid, phi[rows], 1.0)
            HF = Hg * fg[:, None, :]  # H_gg Phi_g
            mid = Qg @ qphiq @ Qg.transpose(0, 2, 1) - HF - HF.transpose(0, 2, 1)
            idx = np.arange(Hg.shape[1])
            mid[:, idx, idx] += fg  # [(I - H) Phi (I - H)]_gg
            dg = np.sqrt(fg)
            lam, vec = np.linalg.eigh(dg[:, :, None] * mid * dg[:, None, :])  # B_g
            tol = EIG_TOL * fg.max()  # phi has mean 1
            inv_sqrt = np.where(lam > tol, 1 / np.sqrt(np.clip(lam, tol, None)), 0.0)
            A = dg[:, :, None] * ((vec * inv_sqrt[:, None, :]) @ vec.transpose(0, 2, 1))
            A = A * dg[:, None, :]
        s = np.einsum("bmk,bm->bk", Xg, np.einsum("bij,bj->bi", A, eg))
        meat += s.T @ s
        batches.append((A, Xg, Qg, np.where(valid, fg, 0.0)))
        n_clusters += rows.shape[0]
    if n_clusters < 2:
        raise EstimationError("CR2 needs at least two clusters")
    if jackknife:
        meat *= (n_clusters - 1) / n_clusters
    return CR2Fit(bread=bread, vcov=bread @ meat @ bread, batches=tuple(batches),
                  n_clusters=n_clusters, qphiq=qphiq, jackknife=jackknife)  # fmt: skip


def cr2_vcov(
    X,
    resid,
    clusters,
    weights=None,
    fixed_effects=None,
    target=None,
    *,
    cr2_working: CR2Working = "identity",
) -> np.ndarray:
    """CR2 (Bell-McCaffrey) cluster-robust covariance of the coefficients of ``X`` (k x k).

    See :func:`cr2_fit` for the arguments and the module docstring for the formula.
    """
    return cr2_fit(X, resid, clusters, weights, fixed_effects, target, cr2_working=cr2_working).vcov


def cr2_test(
    X,
    resid,
    clusters,
    contrast,
    weights=None,
    fixed_effects=None,
    target=None,
    *,
    cr2_working: CR2Working = "identity",
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Standard error and Bell-McCaffrey df of the contrast(s) ``c' beta``.

    ``contrast``: a length-k vector (returns two floats) or a q x k matrix (returns two
    length-q arrays). An interval is ``c'b +/- t_{df}(1 - alpha/2) * se``.
    """
    fit = cr2_fit(X, resid, clusters, weights, fixed_effects, target, cr2_working=cr2_working)
    c = np.asarray(contrast, float)
    C = np.atleast_2d(c)
    if C.shape[1] != fit.bread.shape[0]:
        raise InputFileError(
            f"contrast has {C.shape[1]} entries but X has {fit.bread.shape[0]} columns"
        )
    se = np.sqrt(np.einsum("qk,kl,ql->q", C, fit.vcov, C))
    df = fit.df(C)
    if c.ndim == 1:
        return float(se[0]), float(df[0])
    return se, df


__all__ = ["CR2Fit", "cr2_fit", "cr2_test", "cr2_vcov"]
