"""Partnership KPIs: progress against each agreement's burglary and Nabohjælp targets.

For each partnership: reported burglaries in its baseline year and in the latest full
year, the change in percent with an exact Poisson interval for the ratio of the two
counts (conditional binomial / Clopper-Pearson), its target (``burglary_target_pct``) and
whether it is met (the whole interval at or below the target), not met (the whole
interval above it) or uncertain; the change over the same years in the kommuner without a
partnership by the latest year (pooled counts, same interval), and the ratio of the two
changes (Wald interval on the log scale, ``sqrt(1/y1 + 1/y0 + 1/c1 + 1/c0)``). Poisson
intervals ignore overdispersion (burglary waves), so they are on the narrow side.
Nabohjælp: members at the end of the latest year in the register against
``nabohjaelp_target`` (a register count: no sampling uncertainty); empty when the
agreement has no target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.errors import InputFileError
from botrygt_eval.reference import kommune_name

STATUS_DA = {"met": "nået", "not_met": "ikke nået", "uncertain": "usikker", "": ""}
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


def partnership_kpis(ws, *, latest_year: int | None = None, level: float = 0.95) -> pd.DataFrame:
    """One row per partnership: burglary change vs baseline and target, vs comparison, Nabohjælp.

    ``latest_year`` defaults to the last year with all four quarters reported for most
    kommuner. Columns are described in docs/ACTIVITIES.md.
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
    base = p["baseline_year"].astype("Int64")

    def lookup(codes, years):
        out = np.full(len(codes), np.nan)
        for i, (k, y) in enumerate(zip(codes, years, strict=True)):  # one per partnership
            if pd.notna(y) and k in wide.index and y in wide.columns:
                out[i] = wide.at[k, y]
        return out

    y0 = lookup(p["kommune_kode"], base)
    y1 = lookup(p["kommune_kode"], np.full(len(p), latest_year))
    lo, hi = poisson_ratio_ci(y1, y0, level)
    p["burglaries_baseline"] = y0
    p["burglaries_latest"] = y1
    p["burglary_change_pct"] = 100 * (y1 / y0 - 1)
    p["burglary_change_ci_low"] = 100 * (lo - 1)
    p["burglary_change_ci_high"] = 100 * (hi - 1)
    tgt = p["burglary_target_pct"].astype(float)
    status = np.select(
        [tgt.isna() | np.isnan(y0) | np.isnan(y1), p["burglary_change_ci_high"] <= tgt,
         p["burglary_change_ci_low"] > tgt],
        ["", "met", "not_met"], default="uncertain",
    )  # fmt: skip
    p["burglary_target_status_code"] = status
    p["burglary_target_status"] = pd.Series(status).map(STATUS_DA)
    # comparison: kommuner without a partnership signed by the end of the latest year
    signed = pd.to_datetime(p["signed_date"]).dt.year
    partners = set(p.loc[signed <= latest_year, "kommune_kode"])
    comp = wide.loc[~wide.index.isin(partners)]
    c0 = np.array(
        [comp[y].sum(min_count=1) if y in comp.columns else np.nan for y in base.fillna(-1)]
    )
    c1 = np.full(
        len(p), comp[latest_year].sum(min_count=1) if latest_year in comp.columns else np.nan
    )
    clo, chi = poisson_ratio_ci(c1, c0, level)
    p["comparison_n_kommuner"] = len(comp)
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
    # Nabohjælp members vs target
    nh = ws.nabohjaelp
    if nh is not None and len(nh):
        last = nh.dropna(subset=["members"]).sort_values("year").groupby("kommune_kode").tail(1)
        last = last.set_index("kommune_kode")
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
    cols = [
        "kommune_kode", "kommune", "signed_date", "end_date", "baseline_year", "latest_year",
        "burglaries_baseline", "burglaries_latest", "burglary_change_pct",
        "burglary_change_ci_low", "burglary_change_ci_high", "burglary_target_pct",
        "burglary_target_status", "burglary_target_status_code", "comparison_n_kommuner",
        "comparison_change_pct", "comparison_change_ci_low", "comparison_change_ci_high",
        "relative_to_comparison_pct", "relative_ci_low", "relative_ci_high",
        "better_than_comparison", "better_than_comparison_code", "nabohjaelp_year",
        "nabohjaelp_members", "nabohjaelp_target", "nabohjaelp_pct_of_target",
        "nabohjaelp_target_status", "nabohjaelp_target_status_code",
    ]  # fmt: skip
    return p[cols].sort_values("kommune_kode", ignore_index=True)
