"""Leave-one-cluster-out replicates of ATT(g,t) for the cluster jackknife (CV3).

The analytic influence-function SE of R ``did`` is a sum of squared influence
values (HC0-type): with few treated kommuner per cohort it is too small, and for
a cohort of one kommune it ignores that kommune's own variability altogether.
The cluster jackknife re-estimates everything without each cluster in turn --
cohort shares included, so a cohort of one simply drops out of its replicate --
and ``aggregate(se="jackknife")`` turns the replicates into
V = (G - 1) / G * sum_c (theta_(c) - theta)^2 with t(G - 1) intervals
(MacKinnon, Nielsen & Webb 2023, "CV3"; for a difference of two means it is
(G - 1) / G * (s_1^2 / (n_1 - 1) + s_0^2 / (n_0 - 1)), a little above Welch's).

How the replicates are computed is decided in one place, :func:`replicates`:

- **closed form** when ``att_gt`` itself estimates every cell by its closed form
  (:func:`botrygt_eval.did.att_gt.closed_form_applies`: a balanced panel without
  covariates, fixed weights) and no replicate crosses DRDID's trimming level: each
  replicate is then the same difference of weighted means on the sums left after
  removing one cluster, a few matrix products for all clusters at once;
- **refit** otherwise (covariates, ``fix_weights="varying"``, repeated cross-sections,
  unbalanced panels, trimming): every cell is re-estimated without each cluster on the
  prepared data, by the same ``_estimate`` that ``att_gt`` runs.

Both routes are checked against a literal leave-one-cluster-out loop through the
public ``att_gt`` in the tests (``tests/did/test_did_cs_one_path.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from botrygt_eval.did._data import DidData
from botrygt_eval.did.att_gt import (
    _estimate,
    _weight_col,
    closed_form_applies,
    control_mask,
    control_threshold,
)
from botrygt_eval.errors import BotrygtError, EstimationError

#: limits: replicate cells held in memory (closed form) and refits (other estimators)
MAX_CELLS = 5_000_000
MAX_REFITS = 1_000


@dataclass(frozen=True)
class Replicates:
    """ATT(g,t) and cohort weights with each cluster left out in turn."""

    att: np.ndarray  # G x cells (the columns of ATTgtResult.table); NaN: not estimable
    cohort_w: np.ndarray  # G x cohorts of res.data.glist: summed aggregation weights
    n_clusters: int


def _membership(d: DidData) -> sparse.csr_matrix:
    """G x n indicator of which cluster each influence-function row belongs to."""
    codes = np.arange(len(d.cohort)) if d.cluster is None else d.cluster
    g = int(codes.max()) + 1
    return sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(g, len(codes))
    )


def _cohort_weights(d: DidData, M: sparse.csr_matrix) -> np.ndarray:
    """Aggregation weight of every cohort of ``d.glist`` without each cluster (G x cohorts)."""
    onehot = (d.cohort[:, None] == d.glist[None, :]) * d.agg_w[:, None]
    return onehot.sum(axis=0)[None, :] - np.asarray(M @ onehot)


def _closed_form_data(d: DidData, settings: dict) -> bool:
    """Whether att_gt's cells can be closed forms here: a balanced panel without covariates
    and fixed weights (the method and trimming are checked per replicate by
    :func:`closed_form_applies`)."""
    return d.panel and d.X is None and settings["fix_weights"] != "varying"


def _closed_form(res, M: sparse.csr_matrix) -> np.ndarray | None:
    """Exact replicates of a no-covariate panel: att_gt's difference of weighted means
    (``_mean_difference``) on the sums left without each cluster.

    None when att_gt would not take its closed form for some replicate (its dispatch
    rule :func:`closed_form_applies`, e.g. a treated share crossing the trimming level).
    """
    d, s, tab = res.data, res.settings, res.table
    tl = d.tlist
    tt = np.searchsorted(tl, tab["time"].to_numpy(float))
    pret = np.searchsorted(tl, tab["base_period"].to_numpy(float))
    g = tab["group"].to_numpy(float)
    coh = d.cohort[:, None]
    thr = control_threshold(d, tt, pret, s["anticipation"])
    treat = coh == g[None, :]
    ctrl = control_mask(coh, g[None, :], thr[None, :], s["control"])
    if d.W is None:
        w = np.ones((len(d.cohort), len(tab)))
    else:
        pret_g = [np.nonzero(tl + s["anticipation"] < gi)[0][-1] for gi in g]  # as _cells
        cols = [_weight_col(s["fix_weights"], *c) for c in zip(tt, pret, pret_g, strict=True)]
        w = d.W[:, cols]
    dy = d.Y[:, tt] - d.Y[:, pret]
    wt, wc = w * treat, w * ctrl

    def left_out(a):
        return a.sum(axis=0)[None, :] - np.asarray(M @ a)

    St, Sc = left_out(wt), left_out(wc)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.nan_to_num(St / (St + Sc), nan=0.0)
    if not closed_form_applies(s["method"], s["fix_weights"], True, float(share.max(initial=0))):
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        att = left_out(wt * dy) / St - left_out(wc * dy) / Sc
    att[:, (tt == pret)] = 0.0  # universal base period: the base cell is 0 by definition
    att[:, tab["att"].isna().to_numpy()] = np.nan
    return att


def _subset(d: DidData, keep: np.ndarray) -> DidData:
    """The prepared data without the influence-function rows where ``keep`` is False."""
    cohort = d.cohort[keep]
    out = dict(
        cohort=cohort,
        glist=d.glist[np.isin(d.glist, cohort)],
        cluster=None if d.cluster is None else d.cluster[keep],
        agg_w=d.agg_w[keep],
        n_units=int(keep.sum()) if d.panel or d.row_unit is not None else d.n_units,
    )
    if d.panel:
        out.update(Y=d.Y[keep], W=None if d.W is None else d.W[keep],
                   X=None if d.X is None else d.X[:, keep], n_obs=int(keep.sum()) * len(d.tlist))  # fmt: skip
        return replace(d, **out)
    rows = keep if d.row_unit is None else keep[d.row_unit]
    out.update(y=d.y[rows], t_idx=d.t_idx[rows], w=d.w[rows], Xrc=d.Xrc[rows],
               row_cohort=d.row_cohort[rows], n_obs=int(rows.sum()))  # fmt: skip
    if d.row_unit is not None:
        newpos = np.cumsum(keep) - 1
        out["row_unit"] = newpos[d.row_unit[rows]]
    return replace(d, **out)


def _refits(res, M: sparse.csr_matrix) -> np.ndarray:
    """Replicates by re-estimating every cell without each cluster (any estimator)."""
    d, s, tab = res.data, res.settings, res.table
    key = list(zip(tab["group"], tab["time"], strict=True))
    out = np.full((M.shape[0], len(tab)), np.nan)
    for c in range(M.shape[0]):
        keep = np.asarray(M[c].toarray()).ravel() == 0
        try:
            sub = _subset(d, keep)
            if len(sub.glist) == 0:
                continue
            t_c, _ = _estimate(sub, s["control"], s["method"], s["base_period"],
                               s["anticipation"], s["fix_weights"], quiet=True)  # fmt: skip
        except (BotrygtError, np.linalg.LinAlgError):
            continue
        pos = dict(zip(zip(t_c["group"], t_c["time"], strict=True), t_c["att"], strict=True))
        out[c] = [pos.get(k, np.nan) for k in key]
    return out


def replicates(res) -> Replicates:
    """Leave-one-cluster-out ATT(g,t) and cohort weights of an ``att_gt`` result (cached)."""
    if res._jackknife:
        return res._jackknife[0]
    d = res.data
    M = _membership(d)
    G, K = M.shape[0], len(res.table)
    if G < 2:
        raise EstimationError("the jackknife needs at least two clusters")
    fast = _closed_form_data(d, res.settings)
    if (G * K > MAX_CELLS) or (not fast and G > MAX_REFITS):
        raise EstimationError(
            f"the jackknife re-estimates once per cluster and {G} clusters is too many here: "
            "give a coarser cluster (e.g. kommune) or use analytic or bootstrap SEs"
        )
    # the one dispatch point (see the module docstring): closed form, else refits
    att = _closed_form(res, M) if fast else None
    if att is None:
        att = _refits(res, M)
    out = Replicates(att=att, cohort_w=_cohort_weights(d, M), n_clusters=G)
    res._jackknife.append(out)
    return out


def jackknife_variance(theta_rep: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """CV3: (G - 1) / G * sum of squared deviations from the full-sample estimate.

    A quantity that some replicate cannot estimate (e.g. an event time seen in one
    cluster only) has no jackknife variance: NaN.
    """
    g = theta_rep.shape[0]
    return (g - 1) / g * ((theta_rep - theta[None, :]) ** 2).sum(axis=0)
