"""Means, proportions, totals and ratios, overall and by domain (R's svymean/svytotal/svyratio/svyby).

One engine for all three: per variable and domain the estimate is a ratio of weighted
sums, its influence values go into one sparse n x (variables x domains) matrix, and one
call to :func:`~botrygt_eval.survey.variance.variance_sparse` gives every SE. Domains
keep the design (rows outside carry zero influence), so a domain SE equals the SE from
``design.subset_domain(mask)``. Missing values of a variable are left out of that
variable only (R's ``na.rm=TRUE``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from botrygt_eval.errors import ConfigError, check_option
from botrygt_eval.options import DEFAULT_ALPHA
from botrygt_eval.survey.design import SurveyDesign
from botrygt_eval.survey.estimators._common import (
    MIN_CELL,
    CIMethod,
    Domains,
    SurveyEstimate,
    as_list,
    check_ci,
    domains,
    is_binary,
    numeric,
    proportion_ci,
    wald_ci,
)
from botrygt_eval.survey.replicate import ReplicateDesign, replicate_domain_variance
from botrygt_eval.survey.variance import variance_sparse

Statistic = Literal["mean", "total", "ratio"]
DeffType = Literal["srswor", "srswr"]
DEFF_TYPES: tuple[str, ...] = ("srswor", "srswr")


def domain_df(design, dom: Domains, valid: np.ndarray) -> np.ndarray:
    """R's ``degf`` of each domain: PSUs minus strata among rows with weight in the domain."""
    G = dom.size
    idx = np.flatnonzero(valid)
    g = dom.codes[idx]
    if isinstance(design, ReplicateDesign):
        return np.full(G, float(design.degf))

    def distinct_per_domain(codes: np.ndarray, k: int) -> np.ndarray:
        keys = pd.unique(g.astype(np.int64) * k + codes.astype(np.int64))  # hash, no sort
        return np.bincount(keys // k, minlength=G)

    if design.clusters is None:
        n_psu = np.bincount(g, minlength=G)  # every row its own PSU
    else:
        n_psu = distinct_per_domain(design.psu_codes[idx], design.n_psu)
    n_st = distinct_per_domain(design.strata_codes[idx], design.n_strata)
    return (n_psu - n_st).astype(float)


def _weights(design) -> np.ndarray:
    return np.asarray(design.weights, dtype=float)


def _parts(design, ys, xs, dom: Domains, statistic: Statistic):
    """Estimates, influence entries and srs variances per variable x domain."""
    w = _weights(design)
    G = dom.size
    out = []
    for y, x in zip(ys, xs, strict=True):
        valid = np.isfinite(y) & (dom.codes >= 0) & (w > 0)
        if x is not None:
            valid &= np.isfinite(x)
        idx = np.flatnonzero(valid)
        g = dom.codes[idx]
        wi, yi = w[idx], y[idx]
        Wg = np.bincount(g, wi, G)
        Yg = np.bincount(g, wi * yi, G)
        ng = np.bincount(g, minlength=G)
        with np.errstate(divide="ignore", invalid="ignore"):
            if statistic == "mean":
                est = Yg / Wg
                z = wi * (yi - est[g]) / Wg[g]
            elif statistic == "total":
                est = Yg
                z = wi * yi
            else:
                xi = x[idx]
                Xg = np.bincount(g, wi * xi, G)
                est = Yg / Xg
                z = wi * (yi - est[g] * xi) / Xg[g]
            m = Yg / Wg
            s2 = np.bincount(g, wi * (yi - m[g]) ** 2, G) / Wg * ng / (ng - 1)
        out.append(
            {
                "valid": valid,
                "idx": idx,
                "g": g,
                "z": z,
                "est": est,
                "n": ng,
                "W": Wg,
                "s2": s2,
            }
        )
    return out


def domain_arrays(design, ys, xs, dom: Domains, statistic: Statistic):
    """Per-variable parts and the variance of every variable x domain (flattened)."""
    parts = _parts(design, ys, xs, dom, statistic)
    if isinstance(design, ReplicateDesign):
        var = replicate_domain_variance(design, ys, xs, dom, statistic)
        return parts, var, f"replicate weights ({design.type}, {design.n_replicates} replicates)"
    G = dom.size
    rows = np.concatenate([p["idx"] for p in parts])
    cols = np.concatenate([v * G + p["g"] for v, p in enumerate(parts)])
    vals = np.concatenate([p["z"] for p in parts])
    X = sp.csr_matrix((vals, (rows, cols)), shape=(design.n, len(ys) * G))
    return parts, variance_sparse(X, design), "Taylor linearisation"


def _srs_variance(p: dict, statistic: Statistic, deff: DeffType) -> np.ndarray:
    s2, W, n = p["s2"], p["W"], p["n"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if statistic == "mean":
            return s2 / n if deff == "srswr" else s2 * (W - n) / (W * n)
        if statistic == "total":
            return s2 * W**2 / n if deff == "srswr" else s2 * W**2 * (W - n) / (W * n)
    return np.full_like(s2, np.nan)


def estimate_domains(
    design: SurveyDesign | ReplicateDesign,
    variables: list[str],
    by: str | list[str] | None,
    statistic: Statistic,
    *,
    denominators: list[str] | None = None,
    ci: CIMethod = "auto",
    alpha: float = DEFAULT_ALPHA,
    deff: DeffType = "srswor",
    min_cell: int = MIN_CELL,
) -> SurveyEstimate:
    """The engine behind :func:`svymean`, :func:`svytotal`, :func:`svyratio`."""
    check_ci(ci, alpha)
    check_option("deff", deff, DEFF_TYPES)
    if not variables:
        raise ConfigError("no variables to estimate; give at least one column name")
    data = design.data
    dom = domains(data, by)
    ys = [numeric(data, v) for v in variables]
    xs = [None] * len(ys) if denominators is None else [numeric(data, v) for v in denominators]
    parts, var, variance = domain_arrays(design, ys, xs, dom, statistic)
    G = dom.size
    frames = []
    for v, (name, p, y) in enumerate(zip(variables, parts, ys, strict=True)):
        est = p["est"]
        se = np.sqrt(var[v * G : (v + 1) * G])
        n = p["n"]
        se = np.where(n > 0, se, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = se**2 / _srs_variance(p, statistic, deff)
        if isinstance(design, ReplicateDesign):
            d = np.full(G, np.nan)
        binary = statistic == "mean" and is_binary(y)
        if ci in ("logit", "wilson") and not binary:
            raise ConfigError(
                f"ci={ci!r} is for proportions (means of 0/1 variables); {name!r} has other "
                "values: use ci='wald' or 'auto'"
            )
        df = domain_df(design, dom, p["valid"])
        if binary and ci != "wald":
            lo, hi = proportion_ci("wilson" if ci == "wilson" else "logit", est, se, n, alpha, df)
        else:
            lo, hi = wald_ci(est, se, alpha)
        f = pd.DataFrame(
            {
                "variable": name if denominators is None else f"{name}/{denominators[v]}",
                "domain": dom.names,
            }
        )
        for c in dom.labels.columns:
            f[c] = dom.labels[c].to_numpy()
        f["estimate"] = est
        f["se"] = se
        f["ci_low"] = lo
        f["ci_high"] = hi
        f["n"] = n.astype(np.int64)
        f["deff"] = d
        f["df"] = df
        f["suppressed"] = n < min_cell
        frames.append(f)
    table = pd.concat(frames, ignore_index=True)
    return SurveyEstimate(
        statistic=statistic,
        table=table,
        by=tuple(as_list(by)),
        alpha=alpha,
        ci=ci,
        min_cell=min_cell,
        variance=variance,
        design=repr(design),
    )


def svymean(
    design: SurveyDesign | ReplicateDesign,
    variables: str | list[str],
    by: str | list[str] | None = None,
    *,
    ci: CIMethod = "auto",
    alpha: float = DEFAULT_ALPHA,
    deff: DeffType = "srswor",
    min_cell: int = MIN_CELL,
) -> SurveyEstimate:
    """Weighted means (proportions for 0/1 variables), overall or by domain.

    ``ci="auto"`` gives proportions R's ``svyciprop`` logit interval (t with the domain's
    design df) and other means a normal Wald interval (R's ``confint``). ``deff="srswor"``
    is R's ``deff=TRUE``; ``"srswr"`` is ``deff="replace"``.
    """
    return estimate_domains(
        design, as_list(variables), by, "mean", ci=ci, alpha=alpha, deff=deff, min_cell=min_cell
    )


def svytotal(
    design: SurveyDesign | ReplicateDesign,
    variables: str | list[str],
    by: str | list[str] | None = None,
    *,
    alpha: float = DEFAULT_ALPHA,
    deff: DeffType = "srswor",
    min_cell: int = MIN_CELL,
) -> SurveyEstimate:
    """Weighted (Horvitz-Thompson) totals, overall or by domain."""
    return estimate_domains(
        design,
        as_list(variables),
        by,
        "total",
        ci="wald",
        alpha=alpha,
        deff=deff,
        min_cell=min_cell,
    )


def svyratio(
    design: SurveyDesign | ReplicateDesign,
    numerator: str | list[str],
    denominator: str | list[str],
    by: str | list[str] | None = None,
    *,
    alpha: float = DEFAULT_ALPHA,
    min_cell: int = MIN_CELL,
) -> SurveyEstimate:
    """Ratios of weighted totals sum(w y) / sum(w x), paired column by column."""
    num, den = as_list(numerator), as_list(denominator)
    if len(den) == 1 and len(num) > 1:
        den = den * len(num)
    if len(num) != len(den):
        raise ConfigError(
            f"{len(num)} numerator(s) but {len(den)} denominator(s); give one denominator, "
            "or one per numerator"
        )
    return estimate_domains(
        design, num, by, "ratio", denominators=den, ci="wald", alpha=alpha, min_cell=min_cell
    )
