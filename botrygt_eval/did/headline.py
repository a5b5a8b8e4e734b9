"""The headline of an evaluation: every estimator's effect, and the evidence against it.

One number is not a result. :func:`headline` puts each estimator's effect on one outcome
side by side with its interval, says whether they agree, whether the pre-period test
rejects parallel trends (and in which direction the partnership kommuner were already
moving), and how large a violation of parallel trends the result survives (the breakdown
value of the sensitivity analysis). Its ``verdict`` is ``"robust"`` only when the
estimators agree, the pre-trends pass and the breakdown value is at least 1; a report
states the reasons first otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from botrygt_eval.did.twfe import EventStudyResult
from botrygt_eval.results import ResultMixin


@dataclass(frozen=True)
class Headline(ResultMixin):
    """The estimators side by side and the three checks (see the module text)."""

    table: pd.DataFrame  # estimator, estimate, ci_low, ci_high, n_units, excludes_zero
    agree: bool  # one common point in every interval and one sign of every estimate
    pretrend_stat: float
    pretrend_df: int
    pretrend_p_value: float
    pretrend_direction: str  # "falling_faster" | "falling_slower" | "none"
    breakdown: float  # largest Mbar whose robust interval still excludes 0 (0: none)
    alpha: float = 0.05
    reasons: tuple[str, ...] = field(default=())  # disagree | pretrend | fragile

    @property
    def pretrend_fails(self) -> bool:
        return bool(self.pretrend_p_value < self.alpha)

    @property
    def verdict(self) -> str:
        """``robust`` or ``uncertain`` (with :attr:`reasons`)."""
        return "uncertain" if self.reasons else "robust"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    frame_columns = ("estimator", "estimate", "ci_low", "ci_high", "n_units")

    def _payload(self) -> dict:
        return {
            "estimators": self.table.to_dict(orient="records"),
            "agree": self.agree,
            "pretrend": {"stat": self.pretrend_stat, "df": self.pretrend_df,
                         "p_value": self.pretrend_p_value, "direction": self.pretrend_direction},
            "breakdown": self.breakdown,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }  # fmt: skip

    def summary(self) -> str:
        lines = [
            f"Headline: {self.verdict}" + (f" ({', '.join(self.reasons)})" if self.reasons else "")
        ]
        lines.append(self.table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        lines.append(f"estimators agree: {self.agree}")
        lines.append(f"pre-trend test: chi2({self.pretrend_df}) = {self.pretrend_stat:.2f}, "
                     f"p = {self.pretrend_p_value:.3f} ({self.pretrend_direction})")  # fmt: skip
        lines.append(f"breakdown Mbar: {self.breakdown:.3g}")
        return "\n".join(lines)


def intervals_agree(table: pd.DataFrame) -> bool:
    """Whether every interval shares a common point and every estimate has one sign."""
    lo, hi = table["ci_low"].max(), table["ci_high"].min()
    signs = np.sign(table["estimate"].to_numpy(float))
    return bool(lo <= hi and (np.all(signs >= 0) or np.all(signs <= 0)))


def pretrend_direction(es: EventStudyResult, alpha: float = 0.05) -> str:
    """Which way the partnership kommuner were already moving before the start.

    The leads are log-rate differences against the period before the start (e = -1);
    positive leads mean the partnership kommuner stood higher earlier, so their burglary
    was already falling faster than the comparison's. ``none`` when the test passes.
    """
    if es.pretrend["p_value"] >= alpha:
        return "none"
    t = es.table
    leads = t.loc[(t["event_time"] < es.reference) & t["estimate"].notna(), "estimate"]
    return "falling_faster" if leads.mean() > 0 else "falling_slower"


def headline(
    effects: pd.DataFrame,
    es: EventStudyResult,
    breakdown: float,
    *,
    outcomes: tuple[str, ...] = ("log_rate", "burglaries"),
    alpha: float = 0.05,
) -> Headline:
    """Side by side: the rows of ``effects`` (the evaluation's table) for ``outcomes``
    (one effect on burglary, several estimators), with the checks of the module text.

    ``breakdown``: the breakdown value of a sensitivity analysis of ``es``
    (relative magnitudes: the post-start violation, in multiples of the largest
    pre-start one, up to which the robust interval still excludes 0).
    """
    rows = effects[effects["outcome"].isin(outcomes)]
    table = rows[["estimator", "estimate", "ci_low", "ci_high", "n_units"]].reset_index(drop=True)
    table["excludes_zero"] = (table["ci_low"] > 0) | (table["ci_high"] < 0)
    agree = intervals_agree(table)
    pre = es.pretrend
    h = dict(table=table, agree=agree, pretrend_stat=float(pre["stat"]),
             pretrend_df=int(pre["df"]), pretrend_p_value=float(pre["p_value"]),
             pretrend_direction=pretrend_direction(es, alpha), breakdown=float(breakdown),
             alpha=alpha)  # fmt: skip
    reasons = []
    if not agree:
        reasons.append("disagree")
    if h["pretrend_p_value"] < alpha:
        reasons.append("pretrend")
    if not h["breakdown"] >= 1:
        reasons.append("fragile")
    return Headline(**h, reasons=tuple(reasons))
