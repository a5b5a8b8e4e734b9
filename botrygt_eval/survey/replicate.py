"""Replicate-weight designs (R's ``svrepdesign`` / ``as.svrepdesign``) and their variance.

variance = scale * sum_r rscale_r (theta_r - centre)^2, centre = the mean of the
replicate estimates, or the full-sample estimate with ``mse=True`` (R's ``svrVar``).
Replicate weights are analysis weights (already multiplied by the sampling weight).
Every replicate estimate is a matrix product over all replicates at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from botrygt_eval.errors import ConfigError, DesignError
from botrygt_eval.options import (
    DEFAULT_REPLICATE_WEIGHTS,
    DEFAULT_SEED,
    ReplicateType,
    check,
    check_replications,
    choices,
)
from botrygt_eval.survey.design import SurveyDesign

REPLICATE_TYPES: tuple[str, ...] = choices(ReplicateType)
MAX_CELLS = 50_000_000  # n x replicates: refuse beyond this (memory)


@dataclass(frozen=True, eq=False, repr=False)
class ReplicateDesign:
    """A design carried by replicate weights (n x R analysis weights)."""

    data: pd.DataFrame
    weights: np.ndarray
    repweights: np.ndarray
    type: str
    scale: float
    rscales: np.ndarray
    mse: bool = False
    degf: int = 0

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def n_replicates(self) -> int:
        return self.repweights.shape[1]

    @classmethod
    def from_frame(
        cls,
        data: pd.DataFrame,
        *,
        weights: str,
        repweights: list[str],
        scale: float,
        rscales: np.ndarray | None = None,
        mse: bool = False,
        type: str = "other",
    ) -> ReplicateDesign:
        """A design from given replicate-weight columns (analysis scale) and R's scales."""
        data = data.reset_index(drop=True)
        missing = [c for c in [weights, *repweights] if c not in data.columns]
        if missing:
            raise ConfigError(f"replicate-weight column(s) {missing[:5]} are not in the data")
        w = data[weights].to_numpy(dtype=float)
        rw = data[repweights].to_numpy(dtype=float)
        if not np.isfinite(rw).all() or (rw < 0).any():
            raise DesignError(
                "replicate weights must be finite and >= 0; check the replicate-weight columns"
            )
        if not np.isfinite(w).all() or (w <= 0).any():
            raise DesignError(f"the full-sample weight {weights!r} must be positive and finite")
        r = np.ones(rw.shape[1]) if rscales is None else np.asarray(rscales, dtype=float)
        if r.shape != (rw.shape[1],):
            raise ConfigError(f"{r.size} rscales for {rw.shape[1]} replicates; give one each")
        degf = int(np.linalg.matrix_rank(rw, tol=1e-5 * np.abs(rw).max()) - 1)
        return cls(data, w, rw, type, float(scale), r, bool(mse), degf)

    def subset_domain(self, mask) -> ReplicateDesign:
        """The domain ``mask``: rows kept, full-sample and replicate weights zero outside."""
        m = np.asarray(mask, dtype=bool)
        return dataclasses.replace(
            self,
            weights=np.where(m, self.weights, 0.0),
            repweights=np.where(m[:, None], self.repweights, 0.0),
        )

    def __repr__(self) -> str:
        return (
            f"ReplicateDesign(n={self.n}, type={self.type}, replicates={self.n_replicates}, "
            f"mse={self.mse})"
        )


def replicate_variance(
    replicates: np.ndarray, estimate: np.ndarray, scale: float, rscales: np.ndarray, mse: bool
) -> np.ndarray:
    """R's ``svrVar`` (diagonal): replicates is R x k, estimate k."""
    reps = np.asarray(replicates, dtype=float)
    centre = np.asarray(estimate, dtype=float) if mse else reps.mean(axis=0)
    return scale * (np.asarray(rscales)[:, None] * (reps - centre) ** 2).sum(axis=0)


def _multipliers_jk1(design: SurveyDesign) -> tuple[np.ndarray, float, np.ndarray]:
    if design.n_strata > 1:
        raise ConfigError("JK1 is for unstratified designs; use type='JKn' for a stratified design")
    P = design.n_psu
    M = np.full((P, P), P / (P - 1))
    np.fill_diagonal(M, 0.0)
    f = 1.0 if design.fpc is None else 1 - P / float(design.pop_psu_stratum[0])
    return M, (P - 1) / P * f, np.ones(P)


def _multipliers_jkn(design: SurveyDesign) -> tuple[np.ndarray, float, np.ndarray]:
    st = design.psu_stratum
    n_h = design.n_psu_stratum.astype(float)
    M = np.where(st[:, None] == st[None, :], (n_h / (n_h - 1))[st][:, None], 1.0)
    np.fill_diagonal(M, 0.0)
    f = np.ones_like(n_h) if design.fpc is None else 1 - n_h / design.pop_psu_stratum
    rscales = ((n_h - 1) / n_h * f)[st]
    return M, 1.0, rscales


def _multipliers_boot(design: SurveyDesign, replicates: int, seed: int | None):
    """Rao-Wu rescaling bootstrap: n_h - 1 PSUs drawn with replacement per stratum."""
    rng = np.random.default_rng(seed)
    st = design.psu_stratum
    n_h = design.n_psu_stratum
    P = design.n_psu
    order = np.argsort(st, kind="stable")  # PSUs grouped by stratum
    offset = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    draws_h = np.repeat(np.arange(design.n_strata), n_h - 1)  # stratum of each draw slot
    D = draws_h.size
    u = rng.random((replicates, D))
    pick = order[offset[draws_h] + np.floor(u * n_h[draws_h]).astype(np.int64)]
    counts = (
        np.bincount((np.arange(replicates)[:, None] * P + pick).ravel(), minlength=replicates * P)
        .reshape(replicates, P)
        .T.astype(float)
    )
    f = np.zeros(design.n_strata) if design.fpc is None else n_h / design.pop_psu_stratum
    lam = np.sqrt(1 - f)[st][:, None]
    nh = n_h[st][:, None].astype(float)
    M = 1 - lam + lam * counts * nh / (nh - 1)
    return M, 1.0 / (replicates - 1), np.ones(replicates)


def as_replicate(
    design: SurveyDesign,
    type: ReplicateType = "JKn",
    *,
    replications: int = DEFAULT_REPLICATE_WEIGHTS,
    seed: int = DEFAULT_SEED,
    mse: bool = False,
) -> ReplicateDesign:
    """Replicate weights from a design (R's ``as.svrepdesign``).

    ``JK1`` (unstratified delete-one-PSU jackknife), ``JKn`` (stratified jackknife,
    rscale (n_h - 1)/n_h * (1 - n_h/N_h)) or ``bootstrap`` (Rao-Wu rescaling bootstrap,
    R's ``subbootstrap``, with the Rao-Wu-Yue sqrt(1 - f_h) factor when there is an
    fpc; ``replications`` and ``seed``). Calibration is not redone in each replicate, so a
    calibrated design is refused: build replicates first, or use linearisation.
    """
    check("type", type, ReplicateType)
    if any(a.X is not None for a in design.adjustments):
        raise DesignError(
            "replicate weights built from a calibrated design would ignore the calibration; "
            "use Taylor linearisation (svymean on the design) instead"
        )
    if design.lonely_strata.size:
        raise DesignError(
            f"{design.lonely_strata.size} stratum/strata have one PSU; replicate weights need "
            "at least two PSUs per stratum: collapse strata first"
        )
    if type == "bootstrap":
        check_replications(replications)
    n_rep = design.n_psu if type != "bootstrap" else int(replications)
    if design.n * n_rep > MAX_CELLS:
        raise ConfigError(
            f"{design.n:,} rows x {n_rep:,} replicates is too large to hold; use fewer "
            "replicates, a bootstrap, or Taylor linearisation"
        )
    if type == "JK1":
        M, scale, rscales = _multipliers_jk1(design)
        degf = design.n_psu - 1
    elif type == "JKn":
        M, scale, rscales = _multipliers_jkn(design)
        degf = design.degf
    else:
        M, scale, rscales = _multipliers_boot(design, n_rep, seed)
        degf = design.degf
    rw = design.weights[:, None] * M[design.psu_codes]
    return ReplicateDesign(
        design.data, np.asarray(design.weights, float), rw, type, scale, rscales, mse, degf
    )


def replicate_domain_variance(design: ReplicateDesign, ys, xs, dom, statistic) -> np.ndarray:
    """Replicate variances for every variable x domain (flattened like the linearised path)."""
    G = dom.size
    out = []
    w = design.weights
    for y, x in zip(ys, xs, strict=True):
        valid = np.isfinite(y) & (dom.codes >= 0) & (w > 0)
        if x is not None:
            valid &= np.isfinite(x)
        idx = np.flatnonzero(valid)
        S = sp.csr_matrix(
            (np.ones(idx.size), (dom.codes[idx], idx)), shape=(G, design.n)
        )  # G x n domain indicator
        y0 = np.where(valid, y, 0.0)
        Wfull = np.concatenate([w[:, None], design.repweights], axis=1)
        Yr = S @ (Wfull * y0[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            if statistic == "mean":
                est = Yr / (S @ Wfull)
            elif statistic == "total":
                est = Yr
            else:
                est = Yr / (S @ (Wfull * np.where(valid, x, 0.0)[:, None]))
        out.append(
            replicate_variance(est[:, 1:].T, est[:, 0], design.scale, design.rscales, design.mse)
        )
    return np.concatenate(out)
