"""Quantiles with Woodruff confidence intervals (R's ``svyquantile``, survey >= 4).

The quantile rules follow R's ``qrule_math`` (inverse of the weighted ECDF; the default),
``qrule_school`` and ``qrule_hf7`` (interpolating), computed for every domain at once
on rows sorted by (domain, value). Woodruff's interval (``interval.type="mean"``):
p = svymean(I(y <= q)), p +- t_df SE(p), both limits mapped back through the same rule;
SE = CI width / (2 t_df). One deliberate difference from R 4.1: when p is below the
first weight share, ``math`` returns the smallest value (R returns the second).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError, check_option
from botrygt_eval.options import DEFAULT_ALPHA, choices
from botrygt_eval.survey.estimators._common import (
    MIN_CELL,
    SurveyEstimate,
    as_list,
    critical,
    domains,
    numeric,
)
from botrygt_eval.survey.estimators.means import domain_arrays, domain_df
from botrygt_eval.survey.replicate import ReplicateDesign

QRule = Literal["math", "school", "hf7"]
QRULES: tuple[str, ...] = choices(QRule)


class _Sorted:
    """Values and weights sorted by (domain, value), with within-domain cumulative weights."""

    def __init__(self, y: np.ndarray, w: np.ndarray, g: np.ndarray, G: int) -> None:
        keep = w > 0
        y, w, g = y[keep], w[keep], g[keep]
        order = np.lexsort((y, g))
        self.y, self.w, self.g = y[order], w[order], g[order]
        self.start = np.searchsorted(self.g, np.arange(G), "left")
        self.end = np.searchsorted(self.g, np.arange(G), "right")
        self.size = self.end - self.start
        # sequential within-group sums, as R's cumsum on each domain
        self.cumw = pd.Series(self.w).groupby(self.g).cumsum().to_numpy()
        last = np.maximum(self.end - 1, 0)
        self.total = np.where(self.size > 0, self.cumw[last] if self.y.size else 0.0, np.nan)


def quantile_rule(s: _Sorted, p: np.ndarray, rule: QRule) -> np.ndarray:
    """The rule's quantile of every domain at probability p[g] (NaN for empty or NaN p)."""
    G = s.size.size
    out = np.full(G, np.nan)
    ok = (s.size > 0) & np.isfinite(p)
    if not ok.any():
        return out
    pg = np.where(ok, p, 0.0)
    if rule == "hf7":
        # pk = c(0, cumw[-n]) / cumw[n-1], linear interpolation, clamped (R's approx rule=2)
        prev = np.concatenate([[0.0], s.cumw[:-1]])
        prev[s.start[s.size > 0]] = 0.0
        second_last = s.cumw[np.clip(np.maximum(s.end - 2, s.start), 0, s.y.size - 1)]
        pk = prev / second_last[s.g]
        count = np.bincount(s.g, pk <= pg[s.g], G).astype(np.int64)
        i = s.start + np.maximum(count - 1, 0)
        j = np.minimum(i + 1, np.maximum(s.end - 1, 0))
        xi, xj = s.y[np.minimum(i, s.y.size - 1)], s.y[np.minimum(j, s.y.size - 1)]
        pi, pj = pk[np.minimum(i, s.y.size - 1)], pk[np.minimum(j, s.y.size - 1)]
        with np.errstate(divide="ignore", invalid="ignore"):
            val = np.where(
                pg == pj, xj, np.where(pg == pi, xi, xi + (xj - xi) * ((pg - pi) / (pj - pi)))
            )
        val = np.where(count >= s.size, s.y[np.maximum(s.end - 1, 0)], val)  # p >= 1
        val = np.where(s.size == 1, s.y[np.minimum(s.start, s.y.size - 1)], val)
        out[ok] = val[ok]
        return out
    target = pg * s.total
    count = np.bincount(s.g, s.cumw <= target[s.g], G).astype(np.int64)
    pos = s.start + np.maximum(count - 1, 0)
    nxt = np.minimum(pos + 1, np.maximum(s.end - 1, 0))
    pos_c, nxt_c = np.minimum(pos, s.y.size - 1), np.minimum(nxt, s.y.size - 1)
    wlow = pg - s.cumw[pos_c] / s.total
    low, up = s.y[pos_c], s.y[nxt_c]
    if rule == "math":
        val = np.where(wlow == 0, low, up)
    else:
        val = np.where(wlow == 0, (low + up) / 2, up)
    val = np.where(count == 0, s.y[np.minimum(s.start, s.y.size - 1)], val)
    out[ok] = val[ok]
    return out


def svyquantile(
    design,
    variables: str | list[str],
    quantiles: float | list[float] = 0.5,
    *,
    by: str | list[str] | None = None,
    qrule: QRule = "math",
    alpha: float = DEFAULT_ALPHA,
    min_cell: int = MIN_CELL,
) -> SurveyEstimate:
    """Quantiles overall or by domain, with Woodruff CIs and SE = width / (2 t_df)."""
    check_option("qrule", qrule, QRULES)
    if isinstance(design, ReplicateDesign):
        raise ConfigError(
            "quantiles are estimated on a linearisation design (SurveyDesign); jackknife "
            "replicates do not give valid quantile SEs"
        )
    qs = [float(q) for q in np.atleast_1d(quantiles)]
    if any(not 0 <= q <= 1 for q in qs):
        raise ConfigError(f"quantiles {qs} must lie between 0 and 1, e.g. 0.5 for the median")
    data = design.data
    dom = domains(data, by)
    G = dom.size
    w = np.asarray(design.weights, dtype=float)
    frames = []
    for name in as_list(variables):
        y = numeric(data, name)
        valid = np.isfinite(y) & (dom.codes >= 0) & (w > 0)
        idx = np.flatnonzero(valid)
        s = _Sorted(y[idx], w[idx], dom.codes[idx], G)
        df = domain_df(design, dom, valid)
        t = critical(alpha, df)
        n = s.size
        for q in qs:
            qhat = quantile_rule(s, np.full(G, q), qrule)
            below = np.where(valid, (y <= qhat[np.maximum(dom.codes, 0)]).astype(float), np.nan)
            parts, var, _ = domain_arrays(design, [below], [None], dom, "mean")
            p_hat, se_p = parts[0]["est"], np.sqrt(var)
            p_lo, p_hi = p_hat - t * se_p, p_hat + t * se_p
            lo = np.where(
                p_lo < 0, np.nan, quantile_rule(s, np.where(p_lo < 0, np.nan, p_lo), qrule)
            )
            hi = np.where(
                p_hi > 1, np.nan, quantile_rule(s, np.where(p_hi > 1, np.nan, p_hi), qrule)
            )
            f = pd.DataFrame({"variable": name, "domain": dom.names, "quantile": q})
            for c in dom.labels.columns:
                f[c] = dom.labels[c].to_numpy()
            f["estimate"] = qhat
            f["se"] = (hi - lo) / (2 * t)
            f["ci_low"] = lo
            f["ci_high"] = hi
            f["n"] = n.astype(np.int64)
            f["deff"] = np.nan
            f["df"] = df
            f["suppressed"] = n < min_cell
            frames.append(f)
    return SurveyEstimate(
        statistic="quantile",
        table=pd.concat(frames, ignore_index=True),
        by=tuple(as_list(by)),
        alpha=alpha,
        ci=f"woodruff ({qrule})",
        min_cell=min_cell,
        variance="Taylor linearisation (Woodruff)",
        design=repr(design),
    )
