"""Coverage study of the partnership effect on burglary on the synthetic Denmark.

Each replication draws a new synthetic Denmark with the simulator's own component
functions (population, kommune rates, partnership selection and timing, negative
binomial burglary counts: the code path of ``simulate_workspace``), builds the
kommune x quarter panel in memory with the columns of ``build_panel``, and
estimates the partnership effect with naive TWFE (static treated dummy on the log
rate), Callaway-Sant'Anna (not-yet-treated controls, doubly robust; simple and
dynamic aggregates, analytic SEs and cluster-jackknife SEs with t(G - 1) intervals;
the simple ATT also with the multiplier bootstrap), the TWFE event study on the log rate (leads 8, lags 12, binned, as the
evaluation runs it) and PPML (counts, household offset); TWFE, the event study and
PPML each with CR1 (normal interval) and CR2 (t interval with Bell-McCaffrey df) SEs
(PPML also with CR3, the one-step cluster jackknife, and a t(G - 1) interval), and with
the wild bootstrap of :mod:`botrygt_eval.did.wild` (``--wild`` draws, Rademacher): TWFE and
the event study with the restricted wild cluster bootstrap (intervals by test inversion;
the event study also with its sup-t band over the single event times e = -7..11, joint
coverage), PPML with the Kline-Santos score bootstrap (null imposed).
Every estimate is compared with its exact true target in that replication, and each
estimator is also run on the draw's noise-free expected outcome to split its bias into
design and count-noise parts.

Run: ``python analyses/coverage_study.py --reps 500 --out analyses/results``
(``make coverage``); writes ``coverage.csv`` (one row per replication and
quantity) and ``coverage.md`` (the summary); ``--only-wild`` runs only the wild bootstrap
rows and writes ``coverage_wild.csv`` / ``coverage_wild.md``. ``--diagnostics N`` instead writes
``coverage_diagnostics.csv`` (log-transform bias, effective df of the CS SE, TWFE
design bias by build-up length). See docs/COVERAGE.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import re
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from botrygt_eval.did.aggregate import aggregate
from botrygt_eval.did.att_gt import att_gt
from botrygt_eval.did.poisson import ppml
from botrygt_eval.did.twfe import event_study, twfe
from botrygt_eval.panel.build import LOG_OFFSET
from botrygt_eval.simulate.burglary import base_rates, quarter_years, simulate_burglaries
from botrygt_eval.simulate.config import DEFAULT_ACTIVITY_BURGLARY_EFFECTS, SimulationConfig
from botrygt_eval.simulate.partnerships import (
    activity_effects,
    partnership_effects,
    select_partnerships,
    simulate_activities,
)
from botrygt_eval.simulate.population import simulate_population

Z95 = 1.959963984540054
#: event times of the dynamic aggregate reported (e < 0 are placebo periods, truth 0)
EVENT_TIMES = tuple(range(-4, 9))
#: the evaluation's CS event-study window, drawn with the bootstrap's simultaneous band
BAND_EVENT_TIMES = tuple(range(-12, 17))
KEYS = dict(unit="kommune_kode", time="period")
#: build-up lengths (quarters) at which --diagnostics measures TWFE's design bias
DESIGN_BUILDUPS = (4, 12, 24)
#: the TWFE event-study window of botrygt_eval.did.compare (endpoints binned)
ES_WINDOW = dict(leads=8, lags=12)


def study_config(with_activities: bool = False) -> SimulationConfig:
    """The default synthetic Denmark; activity effects zero unless ``with_activities``."""
    cfg = SimulationConfig(write_frame=False)
    if with_activities:
        return cfg
    return dataclasses.replace(
        cfg, activity_burglary_effects=dict.fromkeys(DEFAULT_ACTIVITY_BURGLARY_EFFECTS, 0.0)
    )


@dataclasses.dataclass(frozen=True)
class Draw:
    """One simulated Denmark: the panel and the true log effects / expected counts (K, Q)."""

    panel: pd.DataFrame
    effects: np.ndarray  # true log rate ratio per kommune and quarter
    expected: np.ndarray  # expected counts (with effects)
    cohort: np.ndarray  # (K,) first treated period (1-based), 0 = never


def simulate_draw(config: SimulationConfig, seed: int) -> Draw:
    """Burglary panel of one synthetic Denmark, as ``simulate_workspace`` generates it."""
    pop = simulate_population(config, seed)
    rates = base_rates(pop, config, seed)
    part = select_partnerships(pop, rates, config, seed)
    effects = partnership_effects(part, config)
    if any(v != 0 for v in config.activity_burglary_effects.values()):
        acts = simulate_activities(pop, part, config, seed)
        effects = effects + activity_effects(acts, pop, config)
    burg = simulate_burglaries(pop, rates, effects, config, seed)
    year, quarter = quarter_years(config)
    k, q = burg.counts.shape
    hh = pop.households[:, year - config.start_year]  # (K, Q)
    cohort = np.where(part.first_treated >= 0, part.first_treated + 1, 0)
    period = np.arange(1, q + 1)
    counts = burg.counts
    panel = pd.DataFrame(
        {
            "kommune_kode": np.repeat(pop.codes.astype("int64"), q),
            "year": np.tile(year, k),
            "quarter": np.tile(quarter, k),
            "period": np.tile(period, k),
            "burglaries": counts.ravel(),
            "households": hh.ravel(),
            "log_rate": np.log((counts + LOG_OFFSET) / hh * 1000.0).ravel(),
            "cohort": np.repeat(cohort, q),
            "treated": ((cohort[:, None] > 0) & (period[None, :] >= cohort[:, None]))
            .astype("int64")
            .ravel(),
            # noise-free outcomes: what each estimator targets in this draw
            "expected": burg.expected.ravel(),
            "log_expected_rate": np.log(burg.expected / hh * 1000.0).ravel(),
        }
    )
    return Draw(panel=panel, effects=effects, expected=burg.expected, cohort=cohort)


def twfe_balanced(panel: pd.DataFrame, outcome: str, treat: str = "treated") -> float:
    """TWFE coefficient on a balanced panel sorted by kommune and period (two-way demeaning).

    Used only for the noise-free target; the estimate itself comes from ``twfe``.
    """
    n = panel["kommune_kode"].nunique()

    def dm(a: np.ndarray) -> np.ndarray:
        a = a.reshape(n, -1)
        return a - a.mean(1, keepdims=True) - a.mean(0, keepdims=True) + a.mean()

    d = dm(panel[treat].to_numpy(float))
    return float((d * dm(panel[outcome].to_numpy(float))).sum() / (d * d).sum())


def log_transform_bias(expected: np.ndarray, size: float, chunk: int = 256) -> np.ndarray:
    """Exact ``E[log(Y + 0.5)] - log(mu)`` for negative binomial counts (mean mu, ``size``).

    The log rate of ``build_panel`` is not the log of the expected rate; this is the
    gap cell by cell (summed over the pmf on a window of +/- 12 SD). CS and TWFE are
    linear in the outcome, so applied to it they give their exact expected bias from the
    log transform in a draw.
    """
    from scipy import stats

    mu = np.asarray(expected, dtype=float).ravel()
    order = np.argsort(mu)
    out = np.empty_like(mu)
    for start in range(0, len(mu), chunk):  # chunks of cells, vectorised within
        idx = order[start : start + chunk]
        m = mu[idx]
        sd = np.sqrt(m + m**2 / size)
        lo = max(int(np.floor(m.min() - 12 * sd.min())), 0)
        hi = int(np.ceil(m.max() + 12 * sd.max())) + 1
        y = np.arange(lo, hi)[None, :]
        pmf = stats.nbinom.pmf(y, size, size / (size + m[:, None]))
        out[idx] = (pmf * np.log(y + LOG_OFFSET)).sum(axis=1) / pmf.sum(axis=1) - np.log(m)
    return out.reshape(np.shape(expected))


def diagnose(config: SimulationConfig, seed: int, method: str = "dr") -> dict:
    """Why CS/TWFE on the log rate miss: log-transform bias and variance concentration.

    ``*_log_bias``: the estimator applied to ``log_transform_bias`` of the draw, i.e. its
    exact expected bias from ``log(y + 0.5)`` alone. ``cs_simple_df_eff``: effective
    degrees of freedom ``(sum psi^2)^2 / sum psi^4`` of the unit influence values of the
    CS simple ATT (few kommuner carrying the variance make the SE itself noisy);
    ``never_treated_var_share``: their share of the estimated variance.
    ``twfe_design_bias_b{q}``: noise-free TWFE minus the true ATT when the effect builds
    up over q quarters (same draw otherwise): TWFE's own bias from the staggered timing.
    """
    draw = simulate_draw(config, seed)
    panel = draw.panel.assign(log_bias=log_transform_bias(draw.expected, config.nb_size).ravel())
    keys = dict(cohort="cohort", control="notyet", method=method, **KEYS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bias = aggregate(att_gt(panel, outcome="log_bias", **keys), "simple").overall_att
        res = att_gt(panel, outcome="log_rate", **keys)
        psi = aggregate(res, "simple").inf[:, -1]
    sq = psi**2
    never = np.asarray(res.data.cohort) == 0  # cohort of each influence row
    design = {}
    for q in DESIGN_BUILDUPS:
        d = simulate_draw(dataclasses.replace(config, buildup_quarters=q), seed)
        post = d.panel["treated"].to_numpy() == 1
        truth = d.effects.ravel()[post].mean()
        design[f"twfe_design_bias_b{q}"] = twfe_balanced(d.panel, "log_expected_rate") - truth
    return {
        "seed": seed,
        "cs_simple_log_bias": bias,
        "twfe_log_bias": twfe_balanced(panel, "log_bias"),
        "cs_simple_df_eff": sq.sum() ** 2 / (sq**2).sum(),
        "never_treated_var_share": sq[never].sum() / sq.sum(),
        **design,
    }


def cell_truth(draw: Draw, groups: np.ndarray, times: np.ndarray) -> np.ndarray:
    """True ATT(g,t): mean true log effect over the kommuner of cohort g in period t."""
    coh = draw.cohort
    glist = np.unique(coh[coh > 0])
    gi = np.searchsorted(glist, coh)
    sums = np.zeros((len(glist), draw.effects.shape[1]))
    treated = coh > 0
    np.add.at(sums, gi[treated], draw.effects[treated])
    means = sums / np.bincount(gi[treated], minlength=len(glist))[:, None]
    return means[np.searchsorted(glist, groups.astype(int)), times.astype(int) - 1]


def cs_truths(draw: Draw, table: pd.DataFrame) -> dict[str, float]:
    """Truths of the CS aggregates, weighting cells exactly as ``aggregate`` does.

    Simple: cohort-size weights over post cells (= mean over treated kommune-quarters);
    dynamic e: cohort-size weights over the cells with t - g = e (for EVENT_TIMES and
    BAND_EVENT_TIMES); the dynamic average is the mean of e = 0..8.
    """
    tab = table[table["att"].notna()]
    g, t = tab["group"].to_numpy(float), tab["time"].to_numpy(float)
    truth = cell_truth(draw, g, t)
    n_g = pd.Series(draw.cohort).value_counts()
    w = n_g.reindex(g.astype(int)).to_numpy(float)
    post = g <= t
    out = {"cs_simple": float(np.average(truth[post], weights=w[post]))}
    for e in sorted(set(EVENT_TIMES) | set(BAND_EVENT_TIMES)):
        m = (t - g) == e
        out[f"cs_dynamic_e{e}"] = float(np.average(truth[m], weights=w[m])) if m.any() else np.nan
    out["cs_dynamic_avg"] = float(np.mean([out[f"cs_dynamic_e{e}"] for e in EVENT_TIMES if e >= 0]))
    return out


def replicate(
    config: SimulationConfig, seed: int, method: str = "dr", boot: int = 999, wild: int = 999
) -> list[dict]:
    """Estimates, SEs, true targets and noise-free estimates for one synthetic Denmark.

    ``noise_free`` is the same estimator applied to the expected outcomes of the draw
    (log expected rate, expected counts): what it would give without count noise, so
    ``noise_free - truth`` is the bias of what the estimator targets in this design
    and ``estimate - noise_free`` the part due to count noise and the log transform.
    """
    draw = simulate_draw(config, seed)
    panel = draw.panel
    rows: list[dict] = []

    def add(quantity, estimator, est, se, truth, noise_free=np.nan, df=np.inf, crit=np.nan,
            ci=(np.nan, np.nan)):  # fmt: skip
        rows.append({"seed": seed, "quantity": quantity, "estimator": estimator,
                     "estimate": est, "se": se, "df": df, "truth": truth,
                     "noise_free": noise_free, "crit": crit, "ci_low": ci[0],
                     "ci_high": ci[1]})  # fmt: skip

    post = panel["treated"].to_numpy() == 1
    att_truth = float(draw.effects.ravel()[post].mean())  # mean over treated kommune-quarters
    cs_keys = dict(cohort="cohort", control="notyet", method=method, **KEYS)
    ev = dict(min_e=min(EVENT_TIMES), max_e=max(EVENT_TIMES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = att_gt(panel, outcome="log_rate", **cs_keys)
        simple = aggregate(cs, "simple")
        simple_b = (
            aggregate(cs, "simple", se="bootstrap", replications=boot, seed=seed) if boot else None
        )
        wide = dict(min_e=min(BAND_EVENT_TIMES), max_e=max(BAND_EVENT_TIMES))
        band = (
            aggregate(cs, "dynamic", se="bootstrap", replications=boot, seed=seed, **wide)
            if boot
            else None
        )
        jk_band = aggregate(cs, "dynamic", se="jackknife", band=True, **wide)
        dyn = aggregate(cs, "dynamic", **ev)
        simple_j = aggregate(cs, "simple", se="jackknife")
        dyn_j = aggregate(cs, "dynamic", se="jackknife", **ev)
        cs0 = att_gt(panel, outcome="log_expected_rate", **cs_keys)
        simple0, dyn0 = aggregate(cs0, "simple"), aggregate(cs0, "dynamic", **ev)
        tw = twfe(panel, treat="treated", outcome="log_rate", **KEYS)
        tw2 = twfe(panel, treat="treated", outcome="log_rate", se="cr2", **KEYS)
        es_keys = dict(cohort="cohort", **ES_WINDOW, **KEYS)
        es1 = event_study(panel, outcome="log_rate", se="cr1", **es_keys)
        es2 = event_study(panel, outcome="log_rate", se="cr2", **es_keys)
        es0 = event_study(panel, outcome="log_expected_rate", se="cr1", **es_keys)
        pm_keys = dict(treat="treated", offset="households", **KEYS)
        pm = ppml(panel, outcome="burglaries", se="cr1", **pm_keys)
        pm2 = ppml(panel, outcome="burglaries", se="cr2", **pm_keys)
        pm3 = ppml(panel, outcome="burglaries", se="jackknife", **pm_keys)
        pm0 = ppml(panel, outcome="expected", se="cr1", **pm_keys)
    truths = cs_truths(draw, cs.table)
    add("cs_simple", "CS simple", simple.overall_att, simple.overall_se, truths["cs_simple"],
        simple0.overall_att)  # fmt: skip
    if simple_b is not None:
        add("cs_simple_boot", f"CS simple, multiplier bootstrap SE ({boot} draws)",
            simple_b.overall_att, simple_b.overall_se, truths["cs_simple"], simple0.overall_att)  # fmt: skip
    by, by0 = dyn.by.set_index("egt"), dyn0.by.set_index("egt")
    for e in EVENT_TIMES:
        if e in by.index:
            add(f"cs_dynamic_e{e}", f"CS dynamic e={e}", by.loc[e, "att"], by.loc[e, "se"],
                truths[f"cs_dynamic_e{e}"], by0.loc[e, "att"] if e in by0.index else np.nan)  # fmt: skip
    add("cs_dynamic_avg", "CS dynamic average e=0..8", dyn.overall_att, dyn.overall_se,
        truths["cs_dynamic_avg"], dyn0.overall_att)  # fmt: skip
    window = f"CS dynamic e={min(BAND_EVENT_TIMES)}..{max(BAND_EVENT_TIMES)}"
    for q, label, agg in (("cs_band_joint", f"bootstrap sup-t band ({boot} draws)", band),
                          ("cs_band_joint_jk", "cluster-jackknife Bonferroni band, t(G-1)", jk_band)):  # fmt: skip
        if agg is not None:  # does the simultaneous band hold every truth at once?
            truth_b = np.array([truths[f"cs_dynamic_e{int(e)}"] for e in agg.by["egt"]])
            sup_t = np.max(np.abs(agg.by["att"].to_numpy() - truth_b) / agg.by["se"].to_numpy())
            add(q, f"{window}, {label}", float(sup_t), 1.0, 0.0, crit=agg.crit)
    # the cluster jackknife (CV3) with t(G - 1) intervals: aggregate(se="jackknife")
    jk = "cluster jackknife SE, t(G-1)"
    add("cs_simple_jk", f"CS simple, {jk}", simple_j.overall_att, simple_j.overall_se,
        truths["cs_simple"], simple0.overall_att, simple_j.df)  # fmt: skip
    byj = dyn_j.by.set_index("egt")
    for e in EVENT_TIMES:
        if e in byj.index:
            add(f"cs_jk_e{e}", f"CS dynamic e={e}, {jk}", byj.loc[e, "att"], byj.loc[e, "se"],
                truths[f"cs_dynamic_e{e}"], by0.loc[e, "att"] if e in by0.index else np.nan,
                dyn_j.df)  # fmt: skip
    add("cs_jk_avg", f"CS dynamic average e=0..8, {jk}", dyn_j.overall_att, dyn_j.overall_se,
        truths["cs_dynamic_avg"], dyn0.overall_att, dyn_j.df)  # fmt: skip
    tw0 = twfe_balanced(panel, "log_expected_rate")
    add("twfe", "naive TWFE (static dummy, log rate), CR1", tw.estimate, tw.se, att_truth, tw0)
    add("twfe_cr2", "naive TWFE (static dummy, log rate), CR2", tw2.estimate, tw2.se, att_truth,
        tw0, tw2.df)  # fmt: skip
    post_e = [e for e in EVENT_TIMES if e >= 0]
    t0 = es0.table.set_index("event_time")
    for se, es in (("cr1", es1), ("cr2", es2)):
        t = es.table.set_index("event_time")
        label = f"TWFE event study ({se.upper()})"
        for e in EVENT_TIMES:
            if e == es.reference:
                continue
            add(f"es_{se}_e{e}", f"{label} e={e}", t.loc[e, "estimate"], t.loc[e, "se"],
                truths[f"cs_dynamic_e{e}"], t0.loc[e, "estimate"],
                t.loc[e, "df"] if se == "cr2" else np.inf)  # fmt: skip
        avg = es.combination(post_e)
        add(f"es_{se}_avg", f"{label} average e=0..8", avg["estimate"], avg["se"],
            truths["cs_dynamic_avg"], es0.combination(post_e)["estimate"],
            avg.get("df", np.inf))  # fmt: skip
    add("ppml", "PPML (static dummy, counts, households offset), CR1", pm.estimate, pm.se,
        att_truth, pm0.estimate)  # fmt: skip
    add("ppml_cr2", "PPML (static dummy, counts, households offset), CR2", pm2.estimate,
        pm2.se, att_truth, pm0.estimate, pm2.df)  # fmt: skip
    add("ppml_cr3", "PPML (static dummy, counts, households offset), CR3 jackknife, t(G-1)",
        pm3.estimate, pm3.se, att_truth, pm0.estimate, pm3.df)  # fmt: skip
    if wild:
        rows += wild_rows(draw, seed, wild, truths, att_truth, tw0, t0, pm0.estimate)
    return rows


def wild_rows(draw, seed, wild, truths, att_truth, tw0, t0, pm0) -> list[dict]:
    """The wild bootstrap rows (botrygt_eval.did.wild; Rademacher, seed = the draw's seed):
    TWFE and event study WCR (own intervals), the event study's sup-t band, PPML score
    bootstrap. ``truths``/``att_truth``: as in :func:`replicate`; ``tw0``, ``t0``, ``pm0``:
    the noise-free TWFE estimate, event-study table and PPML estimate."""
    panel = draw.panel
    rows: list[dict] = []

    def add(quantity, estimator, est, se, truth, noise_free=np.nan, crit=np.nan,
            ci=(np.nan, np.nan)):  # fmt: skip
        rows.append({"seed": seed, "quantity": quantity, "estimator": estimator,
                     "estimate": est, "se": se, "df": np.inf, "truth": truth,
                     "noise_free": noise_free, "crit": crit, "ci_low": ci[0],
                     "ci_high": ci[1]})  # fmt: skip

    wk = dict(se="wild", replications=wild, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tww = twfe(panel, treat="treated", outcome="log_rate", **wk, **KEYS)
        esw = event_study(panel, outcome="log_rate", cohort="cohort", **wk, **ES_WINDOW, **KEYS)
        pmw = ppml(panel, outcome="burglaries", treat="treated", offset="households", **wk,
                   **KEYS)  # fmt: skip
    add("twfe_wild", f"naive TWFE (static dummy, log rate), wild WCR ({wild} draws)",
        tww.estimate, tww.se, att_truth, tw0, ci=(tww.ci_low, tww.ci_high))  # fmt: skip
    t = esw.table.set_index("event_time")
    label = f"TWFE event study (wild WCR, {wild} draws)"
    for e in EVENT_TIMES:
        if e != esw.reference:
            add(f"es_wild_e{e}", f"{label} e={e}", t.loc[e, "estimate"], t.loc[e, "se"],
                truths[f"cs_dynamic_e{e}"], t0.loc[e, "estimate"],
                ci=(t.loc[e, "ci_low"], t.loc[e, "ci_high"]))  # fmt: skip
    single = t[t["band_low"].notna()]
    truth_b = np.array([truths[f"cs_dynamic_e{int(e)}"] for e in single.index])
    sup_t = np.max(np.abs(single["estimate"].to_numpy() - truth_b) / single["se"].to_numpy())
    lo, hi = int(single.index.min()), int(single.index.max())
    add("es_band_joint_wild", f"TWFE event study e={lo}..{hi} (single event times), "
        f"wild sup-t band ({wild} draws)", float(sup_t), 1.0, 0.0,
        crit=esw.settings["inference"]["band_crit"])  # fmt: skip
    add("ppml_wild", f"PPML (static dummy, counts, households offset), score bootstrap "
        f"({wild} draws)", pmw.estimate, pmw.se, att_truth, pm0,
        ci=(pmw.ci_low, pmw.ci_high))  # fmt: skip
    return rows


def replicate_wild(config: SimulationConfig, seed: int, method: str = "dr", wild: int = 999):
    """Only the wild bootstrap rows of one replication (``--only-wild``): the same draw,
    truths and noise-free estimates as :func:`replicate`, without the other estimators."""
    draw = simulate_draw(config, seed)
    panel = draw.panel
    post = panel["treated"].to_numpy() == 1
    att_truth = float(draw.effects.ravel()[post].mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = att_gt(panel, outcome="log_rate", cohort="cohort", control="notyet", method=method,
                    **KEYS)  # fmt: skip
        es0 = event_study(panel, outcome="log_expected_rate", se="cr1", cohort="cohort",
                          **ES_WINDOW, **KEYS)  # fmt: skip
        pm0 = ppml(panel, outcome="expected", se="cr1", treat="treated", offset="households",
                   **KEYS)  # fmt: skip
    truths = cs_truths(draw, cs.table)
    tw0 = twfe_balanced(panel, "log_expected_rate")
    return wild_rows(draw, seed, wild, truths, att_truth, tw0,
                     es0.table.set_index("event_time"), pm0.estimate)  # fmt: skip


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per quantity: truth, estimate, bias and its parts, SD, SE, coverage with MC SE.

    ``sd`` is the SD of the error (estimate - truth) over draws; ``se_over_sd`` compares
    the mean reported SE with it. ``bias_noise_free`` is the mean of noise_free - truth.
    An interval is estimate +/- q SE with q the t(df) quantile (``df`` infinite, i.e.
    normal, when the column is absent or infinite); ``mean_df`` is the mean finite df.
    """
    from scipy import stats

    err = results["estimate"] - results["truth"]
    df = results["df"] if "df" in results else pd.Series(np.inf, index=results.index)
    crit = np.where(np.isfinite(df), stats.t.ppf(0.975, df.clip(lower=1e-9)), Z95)
    if "crit" in results:  # a row's own critical value (the sup-t band)
        crit = np.where(results["crit"].notna(), results["crit"], crit)
    covered = err.abs() <= crit * results["se"]
    if "ci_low" in results:  # a row's own interval (wild bootstrap: test inversion)
        own = results["ci_low"].notna()
        inside = (results["ci_low"] <= results["truth"]) & (results["truth"] <= results["ci_high"])
        covered = covered.where(~own, inside)
    r = results.assign(
        err=err,
        err0=results["noise_free"] - results["truth"],
        covered=covered,
        dfin=df.where(np.isfinite(df)),
    )
    g = r.groupby("quantity", sort=False)
    n = g.size()
    out = pd.DataFrame(
        {
            "estimator": g["estimator"].first(),
            "reps": n,
            "mean_truth": g["truth"].mean(),
            "mean_estimate": g["estimate"].mean(),
            "bias": g["err"].mean(),
            "bias_mc_se": g["err"].std() / np.sqrt(n),
            "bias_noise_free": g["err0"].mean(),
            "sd": g["err"].std(),
            "mean_se": g["se"].mean(),
            "rmse": np.sqrt((r["err"] ** 2).groupby(r["quantity"], sort=False).mean()),
            "mean_df": g["dfin"].mean(),
            "coverage": g["covered"].mean(),
        }
    )
    out["se_over_sd"] = out["mean_se"] / out["sd"]
    p = out["coverage"]
    out["coverage_mc_se"] = np.sqrt(p * (1 - p) / out["reps"])
    return out.reset_index()


def _fmt(v, digits=4):
    return "" if pd.isna(v) else f"{v:.{digits}f}"


def write_report(summary: pd.DataFrame, meta: dict, path: Path) -> None:
    """The Markdown summary: settings, table, and what each column means."""
    lines = [
        "# Coverage study: the partnership effect on burglary (synthetic Denmark)",
        "",
        "SIMULEREDE DATA / SIMULATED DATA. Written by `analyses/coverage_study.py`; "
        "method, definitions and discussion in docs/COVERAGE.md.",
        "",
        f"- replications: **{meta['reps']}** (seeds {meta['seed']}..{meta['seed'] + meta['reps'] - 1})",
        f"- true partnership effect: log rate ratio {meta['effect']:.6f} "
        f"(rate ratio {np.exp(meta['effect']):.3f}), linear build-up over "
        f"{meta['buildup']} quarters, absorbing",
        f"- activity effects on burglary: {meta['activities']}",
        f"- panel: 98 kommuner x {meta['n_quarters']} quarters; {meta['n_partnerships']} "
        f"partnerships per draw, signed {meta['signing']}",
        f"- CS: not-yet-treated controls, method '{meta['method']}', varying base period, "
        "analytic SEs clustered by kommune (one row with the multiplier bootstrap), "
        "intervals estimate +/- 1.96 SE; cluster-jackknife rows +/- t(97) SE; TWFE, TWFE event study (leads 8, lags 12, endpoints "
        "binned, reference e = -1) and PPML: clustered by kommune, CR1 with +/- 1.96 SE or "
        "CR2 with +/- t(df) SE, df = Bell-McCaffrey (column *mean df*); wild rows: the "
        "bootstrap's own interval by test inversion (Rademacher draws, seed = the draw's seed; "
        "*mean SE* is the CR1 SE)",
        f"- run: {meta['started']} UTC, {meta['seconds']:.0f} s, {meta['host']}",
        "",
        "| quantity | reps | mean truth | mean estimate | bias (MC SE) | bias without count "
        "noise | SD of error | mean SE | SE/SD | mean df | coverage 95 % (MC SE) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    band = summary[summary["quantity"].str.contains("band_joint")]
    for row in summary.drop(band.index).itertuples(index=False):
        lines.append(
            f"| {row.estimator} | {row.reps} | {_fmt(row.mean_truth)} | {_fmt(row.mean_estimate)} "
            f"| {_fmt(row.bias)} ({_fmt(row.bias_mc_se)}) | {_fmt(row.bias_noise_free)} "
            f"| {_fmt(row.sd)} | {_fmt(row.mean_se)} | {_fmt(row.se_over_sd, 2)} "
            f"| {_fmt(row.mean_df, 1)} | {_fmt(row.coverage, 3)} ({_fmt(row.coverage_mc_se, 3)}) |"
        )
    lines.append("")
    for q in ("cs_simple", "cs_simple_boot", "cs_simple_jk", "cs_dynamic_avg", "cs_jk_avg", "twfe",
              "twfe_cr2", "es_cr1_avg",
              "es_cr2_avg", "ppml", "ppml_cr2", "ppml_cr3", "twfe_wild",
              "ppml_wild"):  # fmt: skip
        s = summary[summary["quantity"] == q]
        if len(s):
            c = float(s["coverage"].iloc[0])
            verdict = "inside" if 0.93 <= c <= 0.97 else "OUTSIDE"
            lines.append(
                f"- {s['estimator'].iloc[0]}: coverage {c:.3f}, {verdict} the 93-97 % band "
                "of issue 6."
            )
    for prefix in ("cs_dynamic_e", "cs_jk_e", "es_cr1_e", "es_cr2_e", "es_wild_e"):
        s = summary[summary["quantity"].str.startswith(prefix)]
        s = s[s["mean_truth"] != 0]  # post-treatment event times
        if len(s):
            lo, hi = s["coverage"].min(), s["coverage"].max()
            inside = int(((s["coverage"] >= 0.93) & (s["coverage"] <= 0.97)).sum())
            name = re.sub(r" e=-?\d+", "", s["estimator"].iloc[0])
            lines.append(
                f"- {name}, single post-treatment event times: coverage {lo:.3f}-{hi:.3f}, "
                f"{inside} of {len(s)} inside the 93-97 % band."
            )
    for b in band.itertuples(index=False):
        lines.append(
            f"- {b.estimator}: every event time inside the band in {b.coverage:.3f} of the "
            f"draws (joint coverage, MC SE {b.coverage_mc_se:.3f})."
        )
    for q, label in (("twfe", "Naive TWFE"), ("ppml", "PPML")):
        s = summary[summary["quantity"] == q]
        if len(s):
            s = s.iloc[0]
            lines.append(
                f"- {label}: mean {s.mean_estimate:.4f} against a mean true ATT of "
                f"{s.mean_truth:.4f}: bias {s.bias:+.4f} ({100 * s.bias / s.mean_truth:+.1f} % "
                f"of the effect), of which {s.bias_noise_free:+.4f} without count noise."
            )
    lines += [
        "",
        "Columns: *truth* is the exact true ATT in each draw (CS aggregates: the true "
        "ATT(g,t) weighted as `aggregate` weights them; TWFE and PPML: the mean true log "
        "effect over treated kommune-quarters, which is the CS simple target). *bias without "
        "count noise*: the same estimator on the draw's expected log rate / expected counts, "
        "minus the truth (what the estimator targets in this design). *SD of error*: SD "
        "over draws of estimate - truth. *coverage*: share of draws whose interval contains "
        "the truth; Monte-Carlo SE sqrt(p(1-p)/reps).",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def _meta(config, reps, seed, with_activities, method, started, seconds) -> dict:
    return {
        "reps": reps,
        "seed": seed,
        "effect": config.partnership_effect,
        "buildup": config.buildup_quarters,
        "activities": "as in the default config (bo_trygt_korps log(0.95)); truth includes them"
        if with_activities
        else "set to zero (partnership effect only)",
        "n_quarters": config.n_quarters,
        "n_partnerships": config.n_partnerships,
        "signing": f"{config.first_signing_year}-{config.last_signing_year}",
        "method": method,
        "started": started,
        "seconds": seconds,
        "host": f"Python {platform.python_version()}, {platform.machine()}",
    }


def _write(rows, config, seed, out, with_activities, method, started, t0, stem="coverage"):
    """Write ``{stem}.csv`` and ``{stem}.md`` for the replications done so far."""
    results = pd.DataFrame(rows)
    results.insert(0, "rep", (results["seed"] - seed).astype("int64"))
    results.to_csv(out / f"{stem}.csv", index=False, float_format="%.10g")
    summary = summarise(results)
    reps = int(results["rep"].nunique())
    meta = _meta(config, reps, seed, with_activities, method, started, time.perf_counter() - t0)
    write_report(summary, meta, out / f"{stem}.md")
    return summary


def run(reps: int, seed: int, out: Path, with_activities: bool = False,
        method: str = "dr", quiet: bool = False, checkpoint: int = 25,
        boot: int = 999, wild: int = 999, only_wild: bool = False) -> pd.DataFrame:  # fmt: skip
    """Run ``reps`` replications (seeds ``seed, seed+1, ...``); write CSV and Markdown.

    The files are rewritten every ``checkpoint`` replications, so an interrupted run
    leaves a labelled partial result (the report states how many replications it has).
    """
    config = study_config(with_activities)
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    t0 = time.perf_counter()
    rows: list[dict] = []
    cols = [BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    args = (config, seed, out, with_activities, method, started, t0,
            "coverage_wild" if only_wild else "coverage")  # fmt: skip
    with Progress(*cols, disable=quiet) as bar:
        task = bar.add_task("replications", total=reps)
        for r in range(reps):
            if only_wild:
                rows.extend(replicate_wild(config, seed + r, method=method, wild=wild))
            else:
                rows.extend(replicate(config, seed + r, method=method, boot=boot, wild=wild))
            bar.advance(task)
            if checkpoint and (r + 1) % checkpoint == 0 and r + 1 < reps:
                _write(rows, *args)
    return _write(rows, *args)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500, help="number of simulated Denmarks")
    ap.add_argument("--seed", type=int, default=1, help="seed of the first replication")
    ap.add_argument("--out", type=Path, default=Path("analyses/results"))
    ap.add_argument("--with-activities", action="store_true",
                    help="keep the default activity effects (truth then includes them)")  # fmt: skip
    ap.add_argument("--method", default="dr", choices=["dr", "reg", "ipw"])
    ap.add_argument("--bootstrap", type=int, default=999,
                    help="multiplier-bootstrap draws for the CS simple row (0 = skip it)")  # fmt: skip
    ap.add_argument("--wild", type=int, default=999,
                    help="wild / score bootstrap draws for the wild rows (0 = skip them)")  # fmt: skip
    ap.add_argument("--only-wild", action="store_true",
                    help="only the wild bootstrap rows -> coverage_wild.csv / coverage_wild.md")  # fmt: skip
    ap.add_argument("--diagnostics", type=int, default=0, metavar="N",
                    help="instead of the study: diagnose() on N draws -> coverage_diagnostics.csv")  # fmt: skip
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)
    if a.diagnostics:
        cfg = study_config(a.with_activities)
        diag = pd.DataFrame([diagnose(cfg, a.seed + r, a.method) for r in range(a.diagnostics)])
        a.out.mkdir(parents=True, exist_ok=True)
        diag.to_csv(a.out / "coverage_diagnostics.csv", index=False, float_format="%.10g")
        print(diag.drop(columns="seed").describe().to_string(float_format=lambda v: f"{v:.4f}"))
        return
    if a.reps < 2:
        ap.error("--reps must be at least 2 (a coverage needs several draws)")
    summary = run(a.reps, a.seed, a.out, a.with_activities, a.method, a.quiet, boot=a.bootstrap,
                  wild=a.wild, only_wild=a.only_wild)  # fmt: skip
    cols = ["quantity", "reps", "mean_truth", "bias", "bias_noise_free", "sd", "mean_se",
            "coverage", "coverage_mc_se"]  # fmt: skip
    print(summary[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
