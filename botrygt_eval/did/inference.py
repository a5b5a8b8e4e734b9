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
from functools import cache

import numpy as np
import pandas as pd
from scipy import sparse, stats
from threadpoolctl import ThreadpoolController

from botrygt_eval.results import ResultMixin

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
class BootstrapResult(ResultMixin):
    """Bootstrap SEs per column and the sup-t critical value for a simultaneous band."""

    se: np.ndarray
    crit: float
    draws: int
    seed: int | None

    frame_columns = ("column", "se")

    def to_frame(self) -> pd.DataFrame:
        """One row per bootstrapped column: ``column, se`` (the sup-t critical value and
        the draws are in :meth:`to_dict`)."""
        return pd.DataFrame({"column": np.arange(len(self.se)), "se": self.se})

    def _payload(self) -> dict:
        return {"se": self.se, "crit": self.crit, "draws": self.draws, "seed": self.seed}

    def summary(self) -> str:
        return (
            f"Multiplier bootstrap: {self.draws} draws (seed {self.seed}), sup-t critical "
            f"value {self.crit:.4f}; SEs of {len(self.se)} columns"
        )


def _type1_quantile(x: np.ndarray, q: float, axis=0) -> np.ndarray:
    return np.quantile(x, q, axis=axis, method="inverted_cdf")


@cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread():
    """Context: BLAS on one thread. DiD products are small (thin matrices, many calls):
    threads gain little and stall badly when the machine is busy."""
    return _blas_controller().limit(limits=1, user_api="blas")


def _rademacher_rows(seed: int | None, draws: int, bounds: np.ndarray, max_cells: int):
    """Yield (first row, end row, U) with U a (rows x draws) float32 0/1 matrix, 2U - 1
    being the rows' multipliers.

    Row j's bits are 64-bit words [j * w, (j + 1) * w) of one seeded PCG64 stream
    (w = ceil(draws / 64)), so the multipliers of a row do not depend on how rows are
    chunked: chunks never cross ``bounds`` (sorted row boundaries, first 0, last n).
    """
    bitgen = np.random.default_rng(seed).bit_generator
    words = -(-draws // 64)
    step = max(1, max_cells // draws)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        for a in range(int(lo), int(hi), step):
            e = min(int(hi), a + step)
            raw = bitgen.random_raw((e - a) * words).view(np.uint8).reshape(e - a, words * 8)
            u = np.unpackbits(raw, axis=1, count=draws, bitorder="little")
            yield a, e, u.astype(np.float32)


def bootstrap_summary(
    out: np.ndarray, *, seed: int | None, alpha: float = 0.05, band: np.ndarray | None = None
) -> BootstrapResult:
    """SEs (IQR / (z(.75) - z(.25))) and the sup-t critical value from a (draws x k) matrix."""
    draws, k = out.shape
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


def multiplier_bootstrap(
    inf: np.ndarray,
    draws: int,
    *,
    seed: int | None,
    cluster: np.ndarray | None = None,
    alpha: float = 0.05,
    band: np.ndarray | None = None,
    max_cells: int = 1_000_000,
) -> BootstrapResult:
    """Rademacher multiplier bootstrap: draws = V @ S / n with V a (B x clusters) +-1 matrix.

    V is generated and multiplied in chunks of clusters (units without clusters) so
    that no more than ``max_cells`` multipliers exist at a time; a unit's multipliers
    do not depend on the chunking. SEs are IQR / (z(.75) - z(.25));
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
    out = np.zeros((draws, k))
    # float32 product: the +-1 multipliers are exact and the rounding (~1e-7 relative)
    # is far below the Monte-Carlo error of any bootstrap quantity; one BLAS thread, as
    # these products are small and threads stall on a busy machine
    S32 = np.asarray(S, np.float32)
    with one_blas_thread():
        for a, e, u in _rademacher_rows(seed, draws, np.array([0, nc]), max_cells):
            out += (u.T @ S32[a:e]).astype(np.float64)
    # Rademacher v = 2u - 1 from random bits u: V @ S = 2 (U @ S) - colsum(S)
    out = (2.0 * out - total) / n
    return bootstrap_summary(out, seed=seed, alpha=alpha, band=band)


def block_multiplier_draws(
    blocks: list[tuple[int, int, np.ndarray]],
    n: int,
    draws: int,
    *,
    seed: int | None,
    max_cells: int = 1_000_000,
) -> list[np.ndarray]:
    """Multiplier draws of block-supported bases, one pass over the multipliers.

    ``blocks`` holds (first row, end row, Q) with Q an (end - first) x r basis living on
    those rows. Returns V[:, first:end] @ Q / n per block, with V the Rademacher matrix
    :func:`multiplier_bootstrap` draws for the same seed and n rows (no clusters): any
    influence function that is Q_b @ C_b on every block b then has draws sum_b Z_b @ C_b,
    so several aggregations share one set of multipliers.
    """
    q32 = [np.asarray(q, np.float32) for _, _, q in blocks]
    bounds = np.array([0, *(e for _, e, _ in blocks)])
    if any(a != b for (a, _, _), b in zip(blocks, bounds[:-1], strict=True)) or bounds[-1] != n:
        raise ValueError("blocks must tile the rows 0..n in order")
    out = [np.zeros((draws, q.shape[1])) for q in q32]
    with one_blas_thread():
        for a, e, u in _rademacher_rows(seed, draws, bounds, max_cells):
            j = int(np.searchsorted(bounds, a, side="right")) - 1
            lo = blocks[j][0]
            out[j] += (u.T @ q32[j][a - lo : e - lo]).astype(np.float64)
    return [(2.0 * z - q.sum(axis=0)) / n for z, (_, _, q) in zip(out, blocks, strict=True)]
