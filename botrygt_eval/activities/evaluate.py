"""``evaluate_activities``: effect per activity type, the MDE, the verdict and its cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from botrygt_eval.activities.effects import (
    _col,
    burglary_design,
    fit_burglary,
    fit_nabohjaelp,
    fit_survey,
    nabohjaelp_design,
    survey_design,
)
from botrygt_eval.activities.rule import DecisionRule, decide
from botrygt_eval.errors import ConfigError, InputFileError
from botrygt_eval.instrument.comparability import first_series, series_breaks
from botrygt_eval.panel.build import panel_from_workspace
from botrygt_eval.results import ResultMixin

DECISION_COLUMNS = [
    "activity_type", "n_activities", "n_kommuner", "outcome", "estimate", "se", "df", "ci_low",
    "ci_high", "mde", "effect_pct", "verdict", "verdict_code", "verdict_branch", "reasons",
    "pretrend_flag",
    "nabohjaelp_estimate", "nabohjaelp_se", "nabohjaelp_ci_low", "nabohjaelp_ci_high", "pretrend_estimate", "pretrend_se", "total_cost_dkk", "prevented_burglaries",
    "cost_per_prevented_burglary", "cost_per_prevented_low", "cost_per_prevented_high",
]  # fmt: skip


@dataclass(frozen=True)
class ActivityEvaluation(ResultMixin):
    """The decision table (one row per activity type), the effects behind it, the settings."""

    decisions: pd.DataFrame
    effects: pd.DataFrame
    rule: DecisionRule
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Tidy effects: ``activity_type, outcome, estimate, se, df, ci_low, ci_high, n, mde,
        se_cr1`` (``se``: CR2; ``df``: its Bell-McCaffrey degrees of freedom; ``se_cr1``:
        the CR1 SE, kept as a cross-check)."""
        return self.effects.copy()

    def summary(self) -> str:
        """Plain-text decision table."""
        d = self.decisions
        lines = [
            "Activity evaluation (burglary: log rate ratio per activity, "
            f"{self.settings.get('window_quarters')} quarters; rule: delta={self.rule.delta}, "
            f"adjust={self.rule.adjust})",
            f"{'type':<26}{'n':>5}{'kom':>5}{'est':>9}{'se':>8}{'ci_low':>9}{'ci_high':>9}"
            f"{'mde':>8}  verdict",
        ]
        for r in d.itertuples(index=False):
            lines.append(
                f"{r.activity_type:<26}{r.n_activities:>5}{r.n_kommuner:>5}{r.estimate:>9.3f}"
                f"{r.se:>8.3f}{r.ci_low:>9.3f}{r.ci_high:>9.3f}{r.mde:>8.3f}  {r.verdict}"
            )
        return "\n".join(lines)

    def _payload(self) -> dict:
        """The decisions, the effects behind them and the settings (``botrygt-eval
        activities`` adds the partnership KPIs)."""
        return {"decisions": self.decisions, "effects": self.effects, "settings": self.settings}

    def _draw(self, ax=None):
        """Forest plot of the burglary effects (percent per activity) with the verdicts."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.45 * len(self.decisions) + 1))
        d = self.decisions.iloc[::-1]
        y = np.arange(len(d))
        pct = lambda v: 100 * (np.exp(v) - 1)  # noqa: E731
        ax.errorbar(
            pct(d["estimate"]), y,
            xerr=[pct(d["estimate"]) - pct(d["ci_low"]), pct(d["ci_high"]) - pct(d["estimate"])],
            fmt="o", color="black", capsize=3,
        )  # fmt: skip
        ax.axvline(0, color="grey", lw=0.8)
        ax.axvline(-100 * self.rule.delta, color="firebrick", lw=0.8, ls="--")
        ax.set_yticks(
            y, [f"{a} — {v}" for a, v in zip(d["activity_type"], d["verdict"], strict=True)]
        )
        ax.set_xlabel("Ændring i indbrud pr. aktivitet (%)")
        return ax


def _costs(acts: pd.DataFrame) -> pd.Series:
    """Total cost per type; a missing cost is the type's mean known cost (stated in docs)."""
    mean = acts.groupby("activity_type")["cost_dkk"].transform("mean")
    return acts["cost_dkk"].fillna(mean).groupby(acts["activity_type"]).sum(min_count=1)


def _prevented(design: pd.DataFrame, types: list[str], b: np.ndarray) -> np.ndarray:
    """Burglaries prevented, ``sum y_kt (exp(-b_j x_kt) - 1)`` over exposed cells, per ``b``."""
    y = design["burglaries"].to_numpy(float)
    out = np.full((len(types), b.shape[1]), np.nan)
    for j, t in enumerate(types):  # one matrix product per type, not per cell
        x = design[_col(t)].to_numpy(float)
        m = x > 0
        if m.any():
            out[j] = y[m] @ np.expm1(-np.outer(x[m], np.nan_to_num(b[j])))
            out[j, np.isnan(b[j])] = np.nan
    return out


def _comparable_series(estimates: pd.DataFrame, outcomes) -> pd.DataFrame:
    """The survey estimates of each outcome on the years comparable with its first year."""
    return first_series(estimates, outcomes, series_breaks())[0]


def evaluate_activities(
    ws,
    *,
    rule: DecisionRule | None = None,
    window_quarters: int = 4,
    nabohjaelp_cap: int = 3,
    leads: int = 1,
    start_year: int | None = None,
    survey_estimates: pd.DataFrame | None = None,
    survey_outcomes: tuple[str, ...] = ("fear_burglary",),
) -> ActivityEvaluation:
    """Effect of each activity type on burglary (and Nabohjælp), with a verdict per type.

    ``ws`` is a :class:`~botrygt_eval.io.workspace.Workspace` (``load_workspace`` or the
    faster :func:`~botrygt_eval.activities.load_activity_workspace`). ``window_quarters``:
    how long an activity is taken to work (its start quarter and the following ones);
    ``leads``: quarters before a start kept out of the comparison and reported as a
    pre-trend check (0 = none);
    ``nabohjaelp_cap``: at most this many activities count for Nabohjælp sign-ups;
    ``start_year``: first year of the burglary panel (default three years before the first
    activity). ``survey_estimates`` (kommune-year estimates from
    :func:`botrygt_eval.survey.pipeline.survey_estimates`) adds, per type, the change in
    each of ``survey_outcomes`` (points), on the years comparable with the outcome's first
    year (the item bank's record of breaks); worry about burglary (``fear_burglary``) joins
    the rule for the types that aim at tryghed. Design and rule:
    :mod:`botrygt_eval.activities.effects`, :mod:`botrygt_eval.activities.rule`,
    docs/ACTIVITIES.md.
    """
    rule = rule or DecisionRule()
    if window_quarters < 1 or nabohjaelp_cap < 1 or leads < 0:
        raise ConfigError(
            f"window_quarters={window_quarters}, nabohjaelp_cap={nabohjaelp_cap}, leads={leads}: "
            "the first two must be at least 1 and leads at least 0"
        )
    acts = ws.activities
    if acts is None or len(acts) == 0:
        raise InputFileError(
            "the activity log is empty; put registers/activities.csv in the workspace "
            "(docs/DATA_FORMATS.md) before evaluating activities"
        )
    acts = acts.loc[acts["kommune_kode"].notna() & acts["start_date"].notna()].copy()
    acts["kommune_kode"] = acts["kommune_kode"].astype("int64")
    types = sorted(acts["activity_type"].dropna().unique().tolist())
    panel = panel_from_workspace(ws)
    first = int(pd.to_datetime(acts["start_date"]).dt.year.min())
    start = start_year if start_year is not None else first - 3
    design = burglary_design(panel, acts, types, window_quarters, start, leads)
    burg = fit_burglary(design, types)
    if len(ws.nabohjaelp):
        nd = nabohjaelp_design(ws.nabohjaelp, ws.households, panel, acts, types, nabohjaelp_cap)
        nh = fit_nabohjaelp(nd, types)
    else:
        nh = pd.DataFrame(
            {"activity_type": types, "estimate": np.nan, "se": np.nan, "df": np.nan}
        ).assign(outcome="nabohjaelp_share_pp", n=0)
    counts = acts.groupby("activity_type").agg(
        n_activities=("activity_id", "size"), n_kommuner=("kommune_kode", "nunique")
    )
    table = (
        burg.set_index("activity_type")[
            ["estimate", "se", "df", "lead_estimate", "lead_se", "lead_df"]
        ]
        .join(counts)
        .join(nh.set_index("activity_type")[["estimate", "se", "df"]].add_prefix("nh_"))
        .reset_index()
    )
    survey_rows = []
    if survey_estimates is not None and len(survey_estimates):
        comparable = _comparable_series(survey_estimates, survey_outcomes)
        for var in survey_outcomes:
            sd = survey_design(comparable, var, panel, acts, types)
            fit = fit_survey(sd, types, var)
            survey_rows.append(fit)
            by_type = fit.set_index("activity_type")
            for col in ("estimate", "se", "df"):  # worry joins the rule (tryghed types)
                table[f"{var}_{col}"] = table["activity_type"].map(by_type[col])
    table = decide(table, rule)
    table["outcome"] = "burglary_log_rate"
    table["effect_pct"] = 100 * np.expm1(table["estimate"])
    # costs of the activities that started inside the estimation window (their effect is
    # counted there; the last window_quarters - 1 quarters of the data are cut short)
    a_year = pd.to_datetime(acts["start_date"]).dt.year
    a_absq = 4 * a_year + pd.to_datetime(acts["start_date"]).dt.quarter - 1
    last_q = int((4 * design["year"] + design["quarter"] - 1).max())
    inside = (a_year >= start) & (a_absq <= last_q)
    cost = _costs(acts.loc[inside]).reindex(table["activity_type"]).to_numpy()
    b = table[["estimate", "ci_low", "ci_high"]].to_numpy()
    prevented = _prevented(design, types, b)  # rows follow ``types`` == table order
    table["total_cost_dkk"] = cost
    table["prevented_burglaries"] = prevented[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(prevented > 0, cost[:, None] / prevented, np.inf)
    per[np.isnan(prevented) | np.isnan(cost)[:, None]] = np.nan
    # the most favourable bound (ci_low) prevents most; a bound with no reduction -> inf
    table["cost_per_prevented_burglary"] = per[:, 0]
    table["cost_per_prevented_low"] = per[:, 1]
    table["cost_per_prevented_high"] = per[:, 2]
    table = table.rename(
        columns={
            "nh_estimate": "nabohjaelp_estimate",
            "nh_se": "nabohjaelp_se",
            "nh_ci_low": "nabohjaelp_ci_low",
            "nh_ci_high": "nabohjaelp_ci_high",
            "lead_estimate": "pretrend_estimate",
            "lead_se": "pretrend_se",
        }
    )
    extra = [c for c in table.columns if c.startswith(tuple(f"{v}_" for v in survey_outcomes))]
    decisions = table[DECISION_COLUMNS + extra].reset_index(drop=True)
    m = int(burg["estimate"].notna().sum())
    lead = burg[["activity_type", "lead_estimate", "lead_se", "lead_df", "n"]].rename(
        columns={"lead_estimate": "estimate", "lead_se": "se", "lead_df": "df"}
    )
    lead = lead.assign(outcome="burglary_log_rate_pre_start").dropna(subset=["estimate"])
    effects = pd.concat(
        [
            burg.drop(columns=["lead_estimate", "lead_se", "lead_df"]),
            lead,
            nh.drop(columns=["lead_estimate", "lead_se", "lead_df"], errors="ignore"),
            *survey_rows,
        ],
        ignore_index=True,
    )
    z = rule.crit(m, effects["df"])
    effects["ci_low"] = effects["estimate"] - z * effects["se"]
    effects["ci_high"] = effects["estimate"] + z * effects["se"]
    effects["mde"] = rule.mde(effects["se"], m, effects["df"])
    effects = effects[
        ["activity_type", "outcome", "estimate", "se", "df", "ci_low", "ci_high", "n", "mde",
         "se_cr1"]
    ]  # fmt: skip
    settings = {
        "window_quarters": window_quarters,
        "leads": leads,
        "nabohjaelp_cap": nabohjaelp_cap,
        "start_year": start,
        "n_obs_burglary": len(design),
        "n_kommuner": int(design["kommune_kode"].nunique()),
        "partnership_control": "event-time dummies 0..7, 8+ (quarters since first treated)",
        "se": "CR2 (Bell-McCaffrey) clustered by kommune; t intervals with Bell-McCaffrey df",
        "rule": asdict(rule),
    }
    return ActivityEvaluation(decisions=decisions, effects=effects, rule=rule, settings=settings)
