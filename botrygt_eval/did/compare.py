"""The partnership effect, estimated several ways side by side.

Burglary (log rate per 1,000 households) by two-way fixed effects and by
Callaway–Sant'Anna with not-yet-treated controls; burglary counts by PPML with a
household offset; fear of burglary and Nabohjælp membership by Callaway–Sant'Anna
on municipality-year survey estimates. Every row carries its SE, interval and n.
Each partnership kommune's own effect on its burglary rate (:func:`own_effect`) by the
synthetic-control family, the methods declared in :data:`OWN_EFFECT_METHODS`.
A survey outcome whose series breaks (the item bank's comparability record,
:mod:`botrygt_eval.instrument.comparability`) is estimated on the years comparable with
its first year only; the row names the years left out (``excluded_years``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from botrygt_eval.did.aggregate import aggregate
from botrygt_eval.did.att_gt import att_gt
from botrygt_eval.did.honest import event_study_inputs, honest_did
from botrygt_eval.did.inference import one_blas_thread
from botrygt_eval.did.poisson import ppml
from botrygt_eval.did.synth.fit import Method, SynthResult, synth_did
from botrygt_eval.did.twfe import event_study, twfe
from botrygt_eval.errors import DroppedUnitsWarning, SmallCohortWarning
from botrygt_eval.instrument.comparability import SeriesBreak, first_series, series_breaks
from botrygt_eval.options import SynthMethod, choices
from botrygt_eval.panel.build import build_panel, cohorts_from_partnerships, survey_panel

COLUMNS = [
    "outcome",
    "estimator",
    "scale",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n_units",
    "n_obs",
    "excluded_years",
    "se_sampling",
]


def _row(outcome, estimator, scale, est, se, lo, hi, n_units, n_obs, excluded="",
         se_sampling=np.nan) -> dict:  # fmt: skip
    values = [outcome, estimator, scale, est, se, lo, hi, n_units, n_obs, excluded, se_sampling]
    return dict(zip(COLUMNS, values, strict=True))


def burglary_panel(ws, frequency: str = "quarter") -> pd.DataFrame:
    """Municipality x quarter panel of the workspace (timing: the quarter after signing)."""
    return build_panel(
        ws.burglaries_quarterly, ws.households, ws.population, ws.partnerships, frequency=frequency
    )


def burglary_effects(panel: pd.DataFrame):
    """TWFE, CS (simple and dynamic) and PPML on the quarterly burglary panel.

    Returns ``(table, event_study_result, dynamic_aggregate)``.
    """
    keys = dict(unit="kommune_kode", time="period")
    rows = []
    tw = twfe(panel, treat="treated", outcome="log_rate", **keys)
    rows.append(
        _row(
            "log_rate",
            "TWFE",
            "log",
            tw.estimate,
            tw.se,
            tw.ci_low,
            tw.ci_high,
            tw.n_units,
            tw.n_obs,
        )
    )
    cs = att_gt(panel, cohort="cohort", outcome="log_rate", control="notyet", method="dr", **keys)
    # cluster-jackknife SEs and t(G - 1): with 25 partnerships R's analytic and bootstrap
    # SEs are short, and the bootstrap's sup-t band over e = -12..16 held every truth in
    # only 82 % of simulated Denmarks; the Bonferroni band does (docs/COVERAGE.md)
    simple = aggregate(cs, "simple", se="jackknife").to_frame().iloc[0]
    rows.append(_row("log_rate", "Callaway-Sant'Anna (not yet treated)", "log", simple["estimate"],
                     simple["se"], simple["ci_low"], simple["ci_high"], cs.data.n_units, cs.data.n_obs))  # fmt: skip
    dynamic = aggregate(cs, "dynamic", min_e=-12, max_e=16, se="jackknife", band=True)
    pm = ppml(panel, treat="treated", outcome="burglaries", offset="households", **keys)
    rows.append(_row("burglaries", "PPML (households offset)", "log", pm.estimate, pm.se,
                     pm.ci_low, pm.ci_high, pm.n_units, pm.n_obs))  # fmt: skip
    es = event_study(panel, cohort="cohort", outcome="log_rate", leads=8, lags=12, **keys)
    return pd.DataFrame(rows, columns=COLUMNS), es, dynamic


def survey_cohorts(partnerships: pd.DataFrame, *, fieldwork_quarter: int = 4) -> pd.Series:
    """First treated survey year per kommune.

    The partnership counts from the quarter after signing; a survey fielded in quarter
    ``fieldwork_quarter`` of year Y sees it if that first treated quarter falls in Y
    at or before fieldwork, otherwise from Y + 1.
    """

    c = cohorts_from_partnerships(partnerships, frequency="quarter")
    absolute = c["first_abs"].to_numpy()  # 4 * year + quarter - 1
    year, quarter = absolute // 4, absolute % 4 + 1
    cohort_year = year + (quarter > fieldwork_quarter)
    return pd.Series(cohort_year, index=c["kommune_kode"].to_numpy(), name="cohort")


def survey_effects(
    estimates: pd.DataFrame,
    partnerships: pd.DataFrame,
    outcomes=("fear_burglary", "nabohjaelper"),
    breaks: tuple[SeriesBreak, ...] | None = None,
):
    """CS on municipality-year survey estimates (cohort = first treated survey year).

    Only the years comparable with an outcome's first year enter (``breaks``: the item
    bank's record by default); the years left out are listed in ``excluded_years``.
    """
    breaks = series_breaks() if breaks is None else breaks
    local = estimates[estimates["kommune_kode"].notna()].copy()
    local["kommune_kode"] = local["kommune_kode"].astype(int)
    sp = survey_panel(local[["kommune_kode", "year", "variable", "estimate", "se", "n"]])
    cohorts = survey_cohorts(partnerships)
    sp["cohort"] = sp["kommune_kode"].map(cohorts).fillna(0).astype(int)
    sp, left_out = first_series(sp[sp["estimate"].notna()], outcomes, breaks)
    rows = []
    for outcome in outcomes:
        d = sp[sp["variable"] == outcome]
        excluded = ", ".join(map(str, left_out[outcome]))
        cs = att_gt(d, **SURVEY_DID)
        s = aggregate(cs, "simple", se="jackknife").to_frame().iloc[0]
        rows.append(_row(outcome, "Callaway-Sant'Anna on kommune-year survey estimates", "share",
                         s["estimate"], s["se"], s["ci_low"], s["ci_high"],
                         cs.data.n_units, cs.data.n_obs, excluded, sampling_se(d)))  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


#: The survey DiD: CS on kommune-year estimates, not-yet-treated controls, no covariates.
SURVEY_DID = dict(unit="kommune_kode", time="year", cohort="cohort", outcome="estimate",
                  control="notyet", method="dr")  # fmt: skip


def _simple_att(d: pd.DataFrame) -> float:
    with warnings.catch_warnings():  # the fit itself warned once; its refits say the same
        warnings.simplefilter("ignore", DroppedUnitsWarning)
        warnings.simplefilter("ignore", SmallCohortWarning)
        return float(aggregate(att_gt(d, **SURVEY_DID), "simple").overall_att)


def sampling_se(d: pd.DataFrame) -> float:
    """The SE of the survey DiD's simple ATT due to the survey samples alone, carried
    from each kommune-year estimate's own ``se``: ``sqrt(sum_it c_it^2 se_it^2)``.

    Without covariates the estimate is linear in the kommune-year estimates,
    ``ATT = sum_it c_it y_it``, and kommuner of one cohort are exchangeable, so every
    estimate of a cohort in a year has the same weight ``c``: adding 1 to all ``m`` of
    them moves the ATT by ``m c`` (one refit per cohort and year, exact for a linear
    estimator). The samples are independent between kommuner (strata) and years. Kommuner
    the estimator leaves out (not observed in every year) have weight 0. The cluster
    jackknife ``se`` over kommuner covers this sampling error and the kommune-to-kommune
    variation of the effect; ``se_sampling`` says how much of it the survey's own
    precision explains (docs/ESTIMATION.md).
    """
    years = d["year"].nunique()
    full = d.groupby("kommune_kode")["year"].transform("nunique").eq(years)
    base = _simple_att(d)
    variance = 0.0
    for _, idx in d[full].groupby(["cohort", "year"]).groups.items():
        bumped = d.copy()
        bumped.loc[idx, "estimate"] += 1.0
        c = (_simple_att(bumped) - base) / len(idx)
        variance += c**2 * float((d.loc[idx, "se"].astype(float) ** 2).sum())
    return math.sqrt(variance)


def burglary_sensitivity(es, *, mbar=(0.0, 0.5, 1.0, 1.5, 2.0), grid_points: int = 200):
    """HonestDiD relative-magnitude sensitivity of the average post-period effect of the
    TWFE event study (``burglary_effects``' second value), with its breakdown M̄.

    Returns a :class:`~botrygt_eval.did.honest.HonestResult`; ``.breakdown`` is the
    largest M̄ of ``mbar`` up to which the robust interval excludes zero (docs/HONESTDID.md).
    """

    _, _, _, num_post, _ = event_study_inputs(es)
    with one_blas_thread():  # many small linear programs: threads only fight (10x slower)
        return honest_did(es, restriction="relative_magnitudes", m_grid=list(mbar),
                          l_vec=[1.0 / num_post] * num_post, grid_points=grid_points)  # fmt: skip


#: How a kommune's own effect is estimated, the headline method first (docs/SYNTH.md):
#: synthetic DiD, synthetic control, and plain DiD against every kommune without a partnership
#: (options.SynthMethod lists them in that order).
OWN_EFFECT_METHODS: tuple[Method, ...] = choices(SynthMethod)

OWN_EFFECT_COLUMNS = ["method", "estimate", "se", "ci_low", "ci_high", "pre_rmse", "n"]


def own_effect(
    panel_quarter: pd.DataFrame,
    kommune: int,
    *,
    seed: int,
    replications: int = 50,
    methods: tuple[Method, ...] = OWN_EFFECT_METHODS,
) -> tuple[pd.DataFrame, dict[str, SynthResult]] | tuple[None, None]:
    """The kommune's own partnership effect on its log burglary rate, by each of ``methods``.

    Each method compares the kommune with the kommuner never in a partnership; the
    interval comes from ``replications`` placebo runs on those donors (``seed``). Returns
    ``(table, results)``: one row per method (``method, estimate, se, ci_low, ci_high,
    pre_rmse, n``, log scale) and each method's :class:`SynthResult`, in ``methods``' order.
    ``(None, None)`` when the panel holds no treated period of the kommune yet (signed
    after the data end): too new to measure.
    """
    mine = panel_quarter[panel_quarter["kommune_kode"].eq(kommune)]
    if not mine["treated"].eq(1).any():
        return None, None
    results = {
        m: synth_did(panel_quarter, unit="kommune_kode", time="period", outcome="log_rate",
                     treat="treated", method=m, target=kommune, replications=replications,
                     seed=seed)
        for m in methods
    }  # fmt: skip
    rows = [r.to_frame().iloc[-1] for r in results.values()]
    return pd.DataFrame(rows)[OWN_EFFECT_COLUMNS].reset_index(drop=True), results
