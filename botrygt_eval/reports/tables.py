"""The report tables: aggregates from the input cache, labelled in the report's language.

Every survey cell shown rests on at least ``min_cell`` respondents; smaller cells are
blanked and flagged (:func:`publishable`). Column names of the returned frames stay as
identifiers; display text comes from :mod:`botrygt_eval.text.catalogue` in ``lang``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.reference import kommune_name, kommuner
from botrygt_eval.reports.sentences import interval_text
from botrygt_eval.text.catalogue import labels, num, t

#: Danish labels of the codes (docs/DATA_FORMATS.md); other languages: ``labels(group, lang)``.
OUTCOME_LABELS = labels("outcome", "da")
SHARES = ("fear_burglary", "unsafe_home", "nabohjaelper", "victim_burglary")


def publishable(estimates: pd.DataFrame, min_cell: int = 10) -> pd.DataFrame:
    """Blank every cell with fewer than ``min_cell`` respondents (or flagged suppressed).

    The rows stay (so a reader sees the cell exists) with estimate, se and interval
    missing and ``suppressed`` True.
    """
    out = estimates.copy()
    small = out["n"].fillna(0).lt(min_cell)
    if "suppressed" in out:
        small |= out["suppressed"].fillna(False).astype(bool)
    out.loc[small, [c for c in ("estimate", "se", "ci_low", "ci_high", "deff") if c in out]] = (
        np.nan
    )
    out["suppressed"] = small
    return out


def survey_table(estimates: pd.DataFrame, year: int, kommune_kode: int | None = None,
                 min_cell: int = 10, lang: str = "da") -> pd.DataFrame:  # fmt: skip
    """One year's survey results for the nation (``None``) or one kommune, labelled in ``lang``."""
    est = publishable(estimates, min_cell)
    sel = (
        est["kommune_kode"].isna() if kommune_kode is None else est["kommune_kode"].eq(kommune_kode)
    )
    d = est[sel & est["year"].eq(year) & est["variable"].isin(OUTCOME_LABELS)].copy()
    scale = np.where(d["variable"].isin(SHARES), 100.0, 1.0)
    out = pd.DataFrame({
        "variable": d["variable"].to_numpy(),
        "maal": d["variable"].map(labels("outcome", lang)).to_numpy(),
        "enhed": np.where(d["variable"].isin(SHARES), t("unit.share", lang), t("unit.tips", lang)),
        "estimate": (d["estimate"] * scale).round(1).to_numpy(),
        "ci_low": (d["ci_low"] * scale).round(1).to_numpy(),
        "ci_high": (d["ci_high"] * scale).round(1).to_numpy(),
        "n": d["n"].astype("Int64").to_numpy(),
        "suppressed": d["suppressed"].to_numpy(),
    })  # fmt: skip
    return out.reset_index(drop=True)


def district_survey(estimates: pd.DataFrame, kommune_kode: int, variable: str, year: int,
                    min_cell: int = 10, lang: str = "da") -> pd.DataFrame:  # fmt: skip
    """One outcome in every kommune of ``kommune_kode``'s police district, plus the nation."""
    ref = kommuner()
    district = ref.loc[ref["kommune_kode"].eq(kommune_kode), "politikreds"].iloc[0]
    codes = ref.loc[ref["politikreds"].eq(district), "kommune_kode"]
    est = publishable(estimates, min_cell)
    d = est[est["variable"].eq(variable) & est["year"].eq(year)]
    local = d[d["kommune_kode"].isin(codes)].copy()
    local["enhed"] = local["kommune_kode"].astype(int).map(kommune_name)
    nat = d[d["kommune_kode"].isna()].assign(enhed=t("common.whole_country", lang))
    out = pd.concat([local, nat], ignore_index=True)
    out["valgt"] = out["kommune_kode"].eq(kommune_kode).fillna(False).astype(bool)
    out["landet"] = out["kommune_kode"].isna()
    out.attrs["politikreds"] = district
    keep = ["enhed", "kommune_kode", "estimate", "ci_low", "ci_high", "n", "suppressed", "valgt",
            "landet"]  # fmt: skip
    return out[keep]


def burglary_trends(panel_year: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """Burglaries per 1,000 households by year: partnership kommuner vs the others."""
    d = panel_year.assign(gruppe=np.where(panel_year["ever_treated"].astype(bool),
                                          t("group.partnership", lang), t("group.other", lang)))  # fmt: skip
    g = d.groupby(["year", "gruppe"], as_index=False).agg(
        burglaries=("burglaries", "sum"), households=("households", "sum"),
        n_kommuner=("kommune_kode", "nunique"))  # fmt: skip
    g["rate"] = 1000 * g["burglaries"] / g["households"]
    return g


def similar_kommuner(panel_year: pd.DataFrame, kommune_kode: int, k: int = 5) -> list[int]:
    """The ``k`` kommuner closest in households (log scale) in the first year, without it."""
    first = panel_year[panel_year["year"].eq(panel_year["year"].min())]
    size = np.log(first.set_index("kommune_kode")["households"])
    dist = (size - size.loc[kommune_kode]).abs().drop(kommune_kode).sort_values(kind="stable")
    return [int(c) for c in dist.index[:k]]


def kommune_burglary(panel_year: pd.DataFrame, kommune_kode: int, lang: str = "da") -> pd.DataFrame:
    """Rate per 1,000 households by year: the kommune, its police district, similar, nation."""
    ref = kommuner().set_index("kommune_kode")
    district = ref.loc[kommune_kode, "politikreds"]
    groups = {
        kommune_name(kommune_kode): [kommune_kode],
        t("group.district_rest", lang, district=district): [
            int(c) for c in ref.index[ref["politikreds"].eq(district)] if c != kommune_kode],
        t("group.similar", lang): similar_kommuner(panel_year, kommune_kode),
        t("common.whole_country", lang): [int(c) for c in panel_year["kommune_kode"].unique()],
    }  # fmt: skip
    rows = []
    for name, codes in groups.items():
        d = panel_year[panel_year["kommune_kode"].isin(codes)]
        g = d.groupby("year", as_index=False)[["burglaries", "households"]].sum(min_count=1)
        g["rate"] = 1000 * g["burglaries"] / g["households"]
        rows.append(g.assign(enhed=name, n_kommuner=len(codes)))
    out = pd.concat(rows, ignore_index=True)
    out.attrs["similar"] = groups[t("group.similar", lang)]
    return out[["enhed", "year", "burglaries", "households", "rate", "n_kommuner"]]


def targets_table(kpis: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """Each partnership's targets as a reader sees them (from :func:`botrygt_eval.kpi.targets.
    partnership_kpis`): the burglary change net of similar kommuner with its interval, the
    share worried with its interval, Nabohjælp, and the status of each target in words
    (nået / ikke nået / for tidligt at sige); an ended partnership says so."""
    status = labels("target_status", lang)
    d = kpis.copy()
    d["status"] = np.where(d["ended"].astype(bool),
                           [t("target.ended", lang, year=y) for y in d["judged_year"]],
                           t("target.active", lang))  # fmt: skip
    for col in ("burglary_target_status_code", "fear_target_status_code",
                "nabohjaelp_target_status_code"):  # fmt: skip
        d[col.replace("_code", "_text")] = d[col].fillna("").map(status).fillna("")
    unit = " %"
    d["net_change"] = [interval_text(e, lo, hi, unit=unit, lang=lang) for e, lo, hi in
                       zip(d["net_change_pct"], d["net_change_ci_low"], d["net_change_ci_high"],
                           strict=True)]  # fmt: skip
    d["fear_share"] = [interval_text(e, lo, hi, unit=unit, lang=lang) for e, lo, hi in
                       zip(d["fear_share_pct"], d["fear_ci_low"], d["fear_ci_high"],
                           strict=True)]  # fmt: skip
    return d


def targets_long(kpi_row: pd.Series, lang: str = "da") -> pd.DataFrame:
    """One partnership's targets one per row (``maal, maalsaetning, resultat, vurdering``),
    for a kommune report: the target, the result with its interval, and the status."""
    d = targets_table(kpi_row.to_frame().T, lang).iloc[0]
    pct = lambda x: f"{num(x, lang)} %" if pd.notna(x) else "–"  # noqa: E731
    rows = [
        (t("target.burglary", lang), pct(d["burglary_target_pct"]), d["net_change"],
         d["burglary_target_status_text"]),
        (t("target.fear", lang), pct(d["fear_target_pct"]), d["fear_share"],
         d["fear_target_status_text"]),
        (t("target.nabohjaelp", lang),
         num(d["nabohjaelp_target"], lang, 0) if pd.notna(d["nabohjaelp_target"]) else "–",
         num(d["nabohjaelp_members"], lang, 0) if pd.notna(d["nabohjaelp_members"]) else "–",
         d["nabohjaelp_target_status_text"]),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["maal_type", "maalsaetning", "resultat", "vurdering"])


def count_targets(kpis: pd.DataFrame, column: str = "burglary_target_status_code") -> dict:
    """How many targets are met, not met and too early to judge (a target set)."""
    codes = kpis[column].fillna("")
    return {c: int(codes.eq(c).sum()) for c in ("met", "not_met", "too_early")} | {
        "n": int(codes.ne("").sum())
    }


def _sum_known(s: pd.Series) -> float:
    """Sum of the reported values; missing (not 0) when none was reported."""
    return s.sum(min_count=1)


def activity_summary(activities: pd.DataFrame, kommune_kode: int | None = None,
                     lang: str = "da") -> pd.DataFrame:  # fmt: skip
    """Count, reach and cost of activities by type and start year (aggregates only).

    ``n_reach``/``n_cost`` say how many activities reported reach/cost: the sums
    cover only those.
    """
    a = (
        activities
        if kommune_kode is None
        else activities[activities["kommune_kode"].eq(kommune_kode)]
    )
    a = a.assign(year=pd.to_datetime(a["start_date"]).dt.year)
    g = a.groupby(["activity_type", "year"], as_index=False).agg(
        antal=("activity_id", "count"), kommuner=("kommune_kode", "nunique"),
        reach=("reach", _sum_known), n_reach=("reach", "count"),
        cost_dkk=("cost_dkk", _sum_known), n_cost=("cost_dkk", "count"))  # fmt: skip
    g.insert(1, "aktivitet",
             g["activity_type"].map(labels("activity", lang)).fillna(g["activity_type"]))  # fmt: skip
    return g


def activity_totals(activities: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """Totals by activity type over all years, with cost per person reached.

    ``kr_pr_naaet`` uses only the activities that report both cost and reach.
    """
    s = activity_summary(activities, lang=lang)
    g = s.groupby(["activity_type", "aktivitet"], as_index=False)[
        ["antal", "reach", "n_reach", "cost_dkk", "n_cost"]].sum(min_count=1)  # fmt: skip
    both = activities[activities["reach"].notna() & activities["cost_dkk"].notna()]
    both = both.groupby("activity_type")[["cost_dkk", "reach"]].sum()  # same activities in both
    per = both["cost_dkk"] / both["reach"].where(both["reach"] > 0)
    g["kr_pr_naaet"] = g["activity_type"].map(per).round(1)
    return g.sort_values("antal", ascending=False, kind="stable").reset_index(drop=True)


def effects_table(effects: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """The DiD table with outcome names in ``lang`` and the effect as % change (log outcomes)."""
    out = effects.copy()
    out["maal"] = out["outcome"].map(labels("effect_outcome", lang)).fillna(out["outcome"])
    log = out["scale"].eq("log")
    for c in ("estimate", "ci_low", "ci_high"):
        out[f"{c}_pct"] = np.where(log, 100 * (np.exp(out[c]) - 1), 100 * out[c])
    out["enhed"] = np.where(log, t("unit.pct_change", lang), t("unit.pp", lang))
    out["metode"] = out["estimator"].map(labels("estimator", lang)).fillna(out["estimator"])
    return out


def synth_in_years(res, panel_quarter: pd.DataFrame, kommune: int) -> pd.DataFrame:
    """The kommune and its synthetic comparison as burglaries per 1,000 households a year.

    The fit is on ``log((burglaries + 0.5) / households * 1000)`` per quarter; each
    quarter is taken back to a rate (the 0.5 removed with the kommune's households) and
    the four quarters of a year are added. Only whole years are kept.
    """
    traj = res.trajectories()
    own = panel_quarter[panel_quarter["kommune_kode"].eq(kommune)]
    own = own.set_index("period")[["year", "households"]]
    d = traj.join(own, on="time").dropna(subset=["year"])
    half = 500 / d["households"]
    d = d.assign(kommune=np.exp(d["treated"]) - half, sammenligning=np.exp(d["synthetic"]) - half)
    g = d.groupby("year").agg(kommune=("kommune", "sum"), sammenligning=("sammenligning", "sum"),
                              quarters=("time", "size"), post=("post", "max"))  # fmt: skip
    return g[g["quarters"].eq(4)].drop(columns="quarters").reset_index()


def own_effect_table(own: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """The kommune's own effect (:func:`botrygt_eval.did.compare.own_effect`, log scale) as
    a reader sees it: ``metode, effekt_pct, ki_fra_pct, ki_til_pct, se_log, foer_rmse``,
    the effect and interval as % change (exp of the log-rate effect minus 1)."""
    return pd.DataFrame({
        "metode": own["method"].map(labels("synth", lang)).fillna(own["method"]).to_numpy(),
        "effekt_pct": 100 * np.expm1(own["estimate"].to_numpy(dtype=float)),
        "ki_fra_pct": 100 * np.expm1(own["ci_low"].to_numpy(dtype=float)),
        "ki_til_pct": 100 * np.expm1(own["ci_high"].to_numpy(dtype=float)),
        "se_log": own["se"].to_numpy(dtype=float),
        "foer_rmse": own["pre_rmse"].to_numpy(dtype=float),
    })  # fmt: skip
