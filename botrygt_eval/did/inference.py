"""Inference from influence functions: analytic SEs, clustering, multiplier bootstrap.

One path for every DiD quantity: ATT(g,t) and all aggregates carry an n x k
influence-function matrix (one row per unit, or per observation for repeated
cross-sections). Analytic: V = S'S / n with S the IF summed within clusters
(S = IF without clustering), se = sqrt(diag(V) / n), as R ``did``. Bootstrap:
Rademacher multipliers on cluster sums (as R ``did``'s ``mboot``), IQR-based SEs
and the sup-t critical value for simultaneous bands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats

SE_FLOOR = np.sqrt(np.finfo(float).eps) * 10  # R did: smaller SEs are reported as NA


def cluster_sums(inf, cluster: np.ndarray | None):
    """Sum influence-function rows within clusters (identity without clusters)."""
    if cluster is None:
        return inf
    nc = int(cluster.max()) + 1
    agg = sparse.csr_matrix(
        (np.ones(len(cluster)), (cluster, np.arange(len(cluster)))), shape=(nc, len(cluster))
    )
    out = agg @ inf
    return out if sparse.issparse(out) else np.asarray(out)


def analytic_se(inf, cluster: np.ndarray | None = None) -> np.ndarray:
    """Standard errors sqrt(diag(S'S)) / n; tiny or undefined ones become NaN (R's NA).

    ``inf`` is a dense array or a scipy sparse matrix (n x k), or a vector.
    """
    if not sparse.issparse(inf):
        inf = np.asarray(inf, float)
        if inf.ndim == 1:
            inf = inf[:, None]
    n = inf.shape[0]
    S = cluster_sums(inf, cluster)
    if sparse.issparse(S):
        ss = np.asarray(S.multiply(S).sum(axis=0)).ravel()
    else:
        ss = np.einsum("ij,ij->j", S, S)
    se = np.sqrt(ss) / n
    se[~(se > SE_FLOOR)] = np.nan
    return se


def vcov(inf: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
    """V = S'S / n (the asymptotic covariance of sqrt(n)(estimate - truth))."""
    S = cluster_sums(inf, cluster)
    return S.T @ S / inf.shape[0]


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap SEs per column and the sup-t critical value for a simultaneous band."""

    se: np.ndarray
    crit: float
    draws: int
    seed: int | None


def _type1_quantile(x: np.ndarray, q: float, axis=0) -> np.ndarray:
    return np.quantile(x, q, axis=axis, method="inverted_cdf")


def multiplier_bootstrap(
    inf: np.ndarray,
    draws: int,
    *,
    seed: int | None,
    cluster: np.ndarray | None = None,
    alpha: float = 0.05,
    band: np.ndarray | None = None,
    max_cells: int = 4_000_000,
) -> BootstrapResult:
    """Rademacher multiplier bootstrap: draws = V @ S / n with V a (B x clusters) +-1 matrix.

    V is generated and multiplied in chunks of rows so that no more than
    ``max_cells`` multipliers exist at a time. SEs are IQR / (z(.75) - z(.25));
    the critical value is the (1 - alpha) quantile of max_k |draw_k / se_k| over the
    columns selected by the boolean ``band`` (all columns by default).
    """
    inf = np.asarray(inf, float)
    if inf.ndim == 1:
        inf = inf[:, None]
    n = inf.shape[0]
    S = cluster_sums(inf, cluster)
    nc, k = S.shape
    total = S.sum(axis=0)
    rng = np.random.default_rng(seed)
    out = np.empty((draws, k))
    # float32 product: the +-1 multipliers are exact and the rounding (~1e-7 relative)
    # is far below the Monte-Carlo error of any bootstrap quantity
    S32 = np.asarray(S, np.float32)
    chunk = max(1, min(draws, max_cells // max(nc, 1)))
    for start in range(0, draws, chunk):
        b = min(chunk, draws - start)
        # Rademacher v = 2u - 1 from random bits u: V @ S = 2 (U @ S) - colsum(S)
        bits = np.frombuffer(rng.bytes((b * nc + 7) // 8), np.uint8)
        u = np.unpackbits(bits, count=b * nc).reshape(b, nc).astype(np.float32)
        out[start : start + b] = (2.0 * (u @ S32).astype(np.float64) - total) / n
    q75, q25 = _type1_quantile(out, 0.75), _type1_quantile(out, 0.25)
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    se[~(se > SE_FLOOR)] = np.nan
    ok = np.isfinite(se) & (np.ones(k, bool) if band is None else band)
    if ok.any():
        tmax = np.max(np.abs(out[:, ok] / se[ok]), axis=1)
        crit = float(_type1_quantile(tmax, 1 - alpha))
    else:
        crit = float("nan")
    return BootstrapResult(se=se, crit=crit, draws=draws, seed=seed)
