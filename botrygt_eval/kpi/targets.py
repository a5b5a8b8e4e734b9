"""Partnership KPIs: progress against each agreement's burglary, fear and Nabohjælp targets.

Burglary fell by half in all of Denmark, so a partnership's raw change says little about
the partnership: its target is judged **net of what comparable kommuner did**. For each
partnership, over its active period (baseline year to the latest full year, or the year it
ended):

- the raw change in reported burglaries, with an exact Poisson interval for the ratio of
  the two counts (conditional binomial / Clopper-Pearson), and the change in the pooled
  kommuner without a partnership (same interval; ratio of the two by a Wald interval on the
  log scale). Poisson intervals ignore overdispersion (burglary waves): descriptive only.
- the **net change**: the kommune's log change minus the mean log change of its
  ``n_similar`` most similar kommuner without a partnership (closest in burglaries per
  1,000 households in the baseline year), with a t prediction interval on ``n - 1`` df:
  ``se^2 = tau^2 + v_own + s^2 / n``, where ``s^2`` is the variance of the similar
  kommuner's log changes, ``tau^2 = max(s^2 - mean(v_j), 0)`` its part beyond counting
  noise (real differences between kommuner) and ``v = 1/(c0 + 0.5) + 1/(c1 + 0.5)`` the
  Poisson variance of a log change (the kommune's own ``v_own``, so a small kommune gets a
  wide interval). Counts enter as ``log(count + 0.5)`` so that a year with no burglary stays
  finite. In simulated Denmarks with kommune-specific trends the interval covers a planted
  effect in 95.0 % of partnerships (tests/kpi/test_kpi_partnerships.py).
- the target status from the net interval: ``met`` (nået) when the whole interval is at or
  below ``burglary_target_pct``, ``not_met`` (ikke nået) when it is wholly above, otherwise
  ``too_early`` (for tidligt at sige).
- fear: the kommune's weighted share worried about burglary in the latest survey year of the
  active period, with its survey interval, against ``fear_target_pct`` (a level): met when
  the whole interval is at or below it, not met when wholly above, otherwise too early;
  empty when the cell has fewer than ``min_cell`` respondents or no estimate. Only years
  in the same series as the baseline year count: after a break in the item's
  comparability (:mod:`botrygt_eval.instrument.comparability`) the target's scale is gone.
- Nabohjælp: members at the end of the latest year in the register against
  ``nabohjaelp_target`` (a register count: no sampling uncertainty); empty when the
  agreement has no target.

A partnership whose ``end_date`` falls before the end of the data is marked ``ended`` and
judged on its active period only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.errors import InputFileError
from botrygt_eval.instrument.comparability import comparable_years, series_breaks
from botrygt_eval.reference import kommune_name

STATUS_DA = {"met": "nået", "not_met": "ikke nået", "too_early": "for tidligt at sige", "": ""}
COMPARE_DA = {"better": "ja", "not_better": "nej", "uncertain": "usikker", "": ""}


def poisson_ratio_ci(y1, y0, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact interval for ``lambda1 / lambda0`` from counts ``y1, y0`` (Clopper-Pearson on
    ``y1 | y1 + y0 ~ Bin(n, p)``, ``ratio = p / (1 - p)``)."""
    y1 = np.asarray(y1, dtype=float)
    y0 = np.asarray(y0, dtype=float)
    a = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        p_lo = np.where(y1 > 0, stats.beta.ppf(a, y1, y0 + 1), 0.0)
        p_hi = np.where(y0 > 0, stats.beta.ppf(1 - a, y1 + 1, y0), 1.0)
        lo = p_lo / (1 - p_lo)
        hi = np.where(p_hi < 1, p_hi / (1 - p_hi), np.inf)
    bad = np.isnan(y1) | np.isnan(y0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def annual_counts(burglaries_quarterly: pd.DataFrame) -> pd.DataFrame:
    """``kommune_kode, year, burglaries`` for years with all four quarters observed."""
    b = burglaries_quarterly.dropna(subset=["burglaries"])
    g = b.groupby(["kommune_kode", "year"])
    out = g["burglaries"].sum().to_frame().join(g["quarter"].nunique().rename("nq"))
    return out.loc[out["nq"] == 4, ["burglaries"]].reset_index()


def target_status(lo, hi, target) -> np.ndarray:
    """``met`` when the whole interval is at or below the target, ``not_met`` when it is
    wholly above, ``too_early`` otherwise; empty where the target or interval is missing."""
    lo, hi, target = (np.asarray(x, dtype=float) for x in (lo, hi, target))
    return np.select(
        [np.isnan(target) | np.isnan(lo) | np.isnan(hi), hi <= target, lo > target],
        ["", "met", "not_met"], default="too_early",
    )  # fmt: skip


def _judged_years(part: pd.DataFrame, latest_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Per partnership: whether it ended before the data end, and the last year judged."""
    end = pd.to_datetime(part["end_date"] if "end_date" in part else pd.NaT, errors="coerce")
    end = pd.Series(end, index=part.index)
    ended = (end.notna() & (end < pd.Timestamp(year=latest_year, month=12, day=31))).to_numpy()
    judged = np.where(ended, np.minimum(end.dt.year.fillna(latest_year), latest_year), latest_year)
    return ended, judged.astype(int)


def _baseline_log_rates(wide: pd.DataFrame, hh: pd.DataFrame | None, year) -> pd.Series:
    """log((burglaries + 0.5) per household) by kommune in ``year`` (log counts without
    household figures ``hh``, kommune x year); the households of the nearest year."""
    counts = np.log(wide[year] + 0.5)
    if hh is None:
        return counts
    near = hh.columns[np.argmin(np.abs(hh.columns.to_numpy() - year))]
    return counts - np.log(hh[near].reindex(counts.index))


def _log_change_var(c0, c1):
    """Poisson variance of ``log(c1 + 0.5) - log(c0 + 0.5)`` (delta method)."""
    return 1 / (c0 + 0.5) + 1 / (c1 + 0.5)


def net_changes(wide, households, partnerships, judged, *, n_similar=10, level=0.95):
    """The net log change of each partnership against its ``n_similar`` most similar
    kommuner without a partnership, with a t prediction interval (see the module text).

    Returns a frame with ``net_log``, ``net_se``, ``net_df``, ``net_lo``, ``net_hi`` and the
    codes of the kommuner compared with (``similar``), one row per partnership.
    """
    signed = pd.to_datetime(partnerships["signed_date"]).dt.year.to_numpy()
    codes = partnerships["kommune_kode"].to_numpy()
    hh = None
    if households is not None and len(households):
        hh = households.pivot_table(index="kommune_kode", columns="year", values="households")
    rows, rates = [], {}
    for k, b, j in zip(codes, partnerships["baseline_year"], judged, strict=True):  # <= 98
        empty = dict(net_log=np.nan, net_se=np.nan, net_df=np.nan, similar=())
        if pd.isna(b) or b not in wide.columns or j not in wide.columns or k not in wide.index:
            rows.append(empty)
            continue
        ever = set(codes[signed <= j])
        pool = wide.loc[~wide.index.isin(ever), [b, j]].dropna()
        if len(pool) < 3 or wide.loc[k, [b, j]].isna().any():
            rows.append(empty)
            continue
        if b not in rates:  # once per baseline year, for every kommune
            rates[b] = _baseline_log_rates(wide, hh, b)
        rate = rates[b]
        dist = (rate.loc[pool.index] - rate.loc[k]).abs().sort_values(kind="stable")
        near = pool.loc[dist.index[: min(n_similar, len(pool))]]
        d = np.log(near[j] + 0.5) - np.log(near[b] + 0.5)
        own = np.log(wide.at[k, j] + 0.5) - np.log(wide.at[k, b] + 0.5)
        n = len(d)
        # spread between kommuner beyond counting noise, plus this kommune's own noise
        tau2 = max(d.var(ddof=1) - _log_change_var(near[b], near[j]).mean(), 0.0)
        own_var = _log_change_var(wide.at[k, b], wide.at[k, j])
        rows.append(dict(net_log=own - d.mean(), net_se=np.sqrt(tau2 + own_var + d.var(ddof=1) / n),
                         net_df=n - 1.0, similar=tuple(int(c) for c in near.index)))  # fmt: skip
    out = pd.DataFrame(rows, index=partnerships.index)
    crit = stats.t.ppf(0.5 + level / 2, out["net_df"].to_numpy(float))
    out["net_lo"] = out["net_log"] - crit * out["net_se"]
    out["net_hi"] = out["net_log"] + crit * out["net_se"]
    return out


def _fear_rows(survey_estimates, codes, baseline, judged, min_cell: int, breaks) -> pd.DataFrame:
    """Per partnership: the latest publishable fear estimate within its active period, in
    the series of its baseline year (a break in the item's comparability ends it)."""
    cols = ["fear_year", "fear_share_pct", "fear_ci_low", "fear_ci_high", "fear_n"]
    out = pd.DataFrame(np.nan, index=range(len(codes)), columns=cols)
    if survey_estimates is None or len(survey_estimates) == 0:
        return out
    e = survey_estimates
    e = e[e["variable"].eq("fear_burglary") & e["kommune_kode"].notna() & e["estimate"].notna()]
    e = e[e["n"].fillna(0).ge(min_cell)]
    if "suppressed" in e:
        e = e[~e["suppressed"].fillna(False).astype(bool)]
    e = e.assign(kommune_kode=e["kommune_kode"].astype("int64")).sort_values("year")
    for i, (k, b, j) in enumerate(zip(codes, baseline, judged, strict=True)):  # per partnership
        mine = e[e["kommune_kode"].eq(k) & e["year"].le(j)]
        if pd.notna(b):
            same = comparable_years("fear_burglary", mine["year"], breaks, anchor=int(b))
            mine = mine[mine["year"].isin(same)]
        hit = mine.tail(1)
        if len(hit):
            h = hit.iloc[0]
            out.iloc[i] = [h["year"], 100 * h["estimate"], 100 * h["ci_low"],
                           100 * h["ci_high"], h["n"]]  # fmt: skip
    return out


def partnership_kpis(
    ws,
    *,
    latest_year: int | None = None,
    level: float = 0.95,
    survey_estimates: pd.DataFrame | None = None,
    n_similar: int = 10,
    min_cell: int = 10,
    breaks: tuple | None = None,
) -> pd.DataFrame:
    """One row per partnership: burglary change and its net judgement against the target,
    the comparison kommuner, fear (with ``survey_estimates``) and Nabohjælp.

    ``latest_year`` defaults to the last year with all four quarters reported for most
    kommuner. ``survey_estimates`` is the survey stage's table (``kommune_kode, year,
    variable, estimate, ci_low, ci_high, n``); without it the fear columns are empty.
    ``breaks``: the series breaks of the item bank (default: its own record).
    Columns are described in docs/ACTIVITIES.md.
    """
    part = ws.partnerships
    if part is None or len(part) == 0:
        raise InputFileError(
            "the partnership register is empty; put registers/partnerships.csv in the "
            "workspace (docs/DATA_FORMATS.md) to compute KPIs"
        )
    counts = annual_counts(ws.burglaries_quarterly)
    if len(counts) == 0:
        raise InputFileError("no full year of quarterly burglaries (STRAF11) to compare with")
    if latest_year is None:
        per_year = counts.groupby("year")["kommune_kode"].nunique()
        latest_year = int(per_year.index[per_year >= 0.9 * per_year.max()].max())
    wide = counts.pivot(index="kommune_kode", columns="year", values="burglaries")
    p = part.copy().reset_index(drop=True)
    p["kommune_kode"] = p["kommune_kode"].astype("int64")
    p["kommune"] = [kommune_name(int(k)) for k in p["kommune_kode"]]
    p["latest_year"] = latest_year
    ended, judged = _judged_years(p, latest_year)
    p["ended"] = ended
    p["judged_year"] = judged
    base = p["baseline_year"].astype("Int64")

    def lookup(codes, years):
        out = np.full(len(codes), np.nan)
        for i, (k, y) in enumerate(zip(codes, years, strict=True)):  # one per partnership
            if pd.notna(y) and k in wide.index and y in wide.columns:
                out[i] = wide.at[k, y]
        return out

    y0 = lookup(p["kommune_kode"], base)
    y1 = lookup(p["kommune_kode"], judged)
    lo, hi = poisson_ratio_ci(y1, y0, level)
    p["burglaries_baseline"] = y0
    p["burglaries_latest"] = y1
    p["burglary_change_pct"] = 100 * (y1 / y0 - 1)
    p["burglary_change_ci_low"] = 100 * (lo - 1)
    p["burglary_change_ci_high"] = 100 * (hi - 1)
    # net of the most similar kommuner without a partnership: the target is judged on this
    net = net_changes(wide, getattr(ws, "households", None), p, judged, n_similar=n_similar,
                      level=level)  # fmt: skip
    p["net_change_pct"] = 100 * np.expm1(net["net_log"])
    p["net_change_ci_low"] = 100 * np.expm1(net["net_lo"])
    p["net_change_ci_high"] = 100 * np.expm1(net["net_hi"])
    p["net_n_similar"] = net["similar"].map(len)
    p["similar_kommuner"] = net["similar"].map(lambda c: ", ".join(kommune_name(k) for k in c))
    status = target_status(p["net_change_ci_low"], p["net_change_ci_high"],
                           p["burglary_target_pct"].astype(float))  # fmt: skip
    p["burglary_target_status_code"] = status
    p["burglary_target_status"] = pd.Series(status).map(STATUS_DA)
    # descriptive comparison: all kommuner without a partnership by the judged year, pooled
    signed = pd.to_datetime(p["signed_date"]).dt.year.to_numpy()
    c0, c1, n_comp = (np.full(len(p), np.nan) for _ in range(3))
    for i, (b, j) in enumerate(zip(base, judged, strict=True)):  # one per partnership
        comp = wide.loc[~wide.index.isin(p.loc[signed <= j, "kommune_kode"])]
        n_comp[i] = len(comp)
        if pd.notna(b) and b in comp.columns and j in comp.columns:
            c0[i], c1[i] = comp[b].sum(min_count=1), comp[j].sum(min_count=1)
    clo, chi = poisson_ratio_ci(c1, c0, level)
    p["comparison_n_kommuner"] = n_comp.astype(int)
    p["comparison_change_pct"] = 100 * (c1 / c0 - 1)
    p["comparison_change_ci_low"] = 100 * (clo - 1)
    p["comparison_change_ci_high"] = 100 * (chi - 1)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        lrr = np.log(y1 / y0) - np.log(c1 / c0)
        se = np.sqrt(1 / y1 + 1 / y0 + 1 / c1 + 1 / c0)
    p["relative_to_comparison_pct"] = 100 * np.expm1(lrr)
    p["relative_ci_low"] = 100 * np.expm1(lrr - z * se)
    p["relative_ci_high"] = 100 * np.expm1(lrr + z * se)
    cmp = np.select(
        [np.isnan(lrr), lrr + z * se < 0, lrr - z * se > 0], ["", "better", "not_better"],
        default="uncertain",
    )  # fmt: skip
    p["better_than_comparison_code"] = cmp
    p["better_than_comparison"] = pd.Series(cmp).map(COMPARE_DA)
    # fear: the survey interval against the target share
    if survey_estimates is not None and breaks is None:
        breaks = series_breaks()
    fear = _fear_rows(survey_estimates, p["kommune_kode"].to_numpy(), base, judged, min_cell,
                      breaks)  # fmt: skip
    p[fear.columns] = fear.to_numpy()
    p["fear_year"] = p["fear_year"].astype("Int64")
    fstatus = target_status(p["fear_ci_low"], p["fear_ci_high"],
                            p["fear_target_pct"].astype(float) if "fear_target_pct" in p
                            else np.full(len(p), np.nan))  # fmt: skip
    p["fear_target_status_code"] = fstatus
    p["fear_target_status"] = pd.Series(fstatus).map(STATUS_DA)
    # Nabohjælp members vs target (the last register year within the active period)
    nh = ws.nabohjaelp
    if nh is not None and len(nh):
        nh = nh.dropna(subset=["members"]).merge(p[["kommune_kode", "judged_year"]])
        last = nh[nh["year"] <= nh["judged_year"]].sort_values("year")
        last = last.groupby("kommune_kode").tail(1).set_index("kommune_kode")
        p["nabohjaelp_year"] = p["kommune_kode"].map(last["year"]).astype("Int64")
        p["nabohjaelp_members"] = p["kommune_kode"].map(last["members"]).astype(float)
    else:
        p["nabohjaelp_year"] = pd.array([pd.NA] * len(p), dtype="Int64")
        p["nabohjaelp_members"] = np.nan
    target = p["nabohjaelp_target"].astype(float)
    p["nabohjaelp_pct_of_target"] = 100 * p["nabohjaelp_members"] / target
    nh_status = np.select(
        [target.isna() | p["nabohjaelp_members"].isna(), p["nabohjaelp_members"] >= target],
        ["", "met"], default="not_met",
    )  # fmt: skip
    p["nabohjaelp_target_status_code"] = nh_status
    p["nabohjaelp_target_status"] = pd.Series(nh_status).map(
        {"": "", "met": "nået", "not_met": "ikke nået endnu"}
    )
    if "fear_target_pct" not in p:
        p["fear_target_pct"] = np.nan
    cols = [
        "kommune_kode", "kommune", "signed_date", "end_date", "ended", "baseline_year",
        "latest_year", "judged_year", "burglaries_baseline", "burglaries_latest",
        "burglary_change_pct", "burglary_change_ci_low", "burglary_change_ci_high",
        "net_change_pct", "net_change_ci_low", "net_change_ci_high", "net_n_similar",
        "similar_kommuner", "burglary_target_pct", "burglary_target_status",
        "burglary_target_status_code", "comparison_n_kommuner",
        "comparison_change_pct", "comparison_change_ci_low", "comparison_change_ci_high",
        "relative_to_comparison_pct", "relative_ci_low", "relative_ci_high",
        "better_than_comparison", "better_than_comparison_code", "fear_year", "fear_share_pct",
        "fear_ci_low", "fear_ci_high", "fear_n", "fear_target_pct", "fear_target_status",
        "fear_target_status_code", "nabohjaelp_year", "nabohjaelp_members", "nabohjaelp_target",
        "nabohjaelp_pct_of_target", "nabohjaelp_target_status", "nabohjaelp_target_status_code",
    ]  # fmt: skip
    return p[cols].sort_values("kommune_kode", ignore_index=True)
