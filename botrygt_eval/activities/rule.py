"""The decision rule: evidence on an activity type -> repeat, change, drop or insufficient.

With ``b`` the log burglary rate ratio per activity (negative = fewer burglaries),
``[lo, hi]`` its confidence interval ``b +/- t_{1-a/2, df} SE`` (CR2 standard error and
Bell-McCaffrey degrees of freedom ``df`` per type; normal when ``df`` is not given),
``d = -log(1 - delta)`` the smallest reduction worth the cost on the log scale and
``MDE = (t_{1-a/2, df} + t_{power, df}) * SE``, in this order:

1. too little data (fewer than ``min_kommuner`` kommuner or ``min_activities``
   activities, or no estimate) -> insufficient. ``min_kommuner`` is at least 2: with one
   exposed kommune its residuals are orthogonal to its own exposure, so no cluster-robust
   SE sees that kommune's variation (the CR2 SE is too small and the Bell-McCaffrey df
   large). With two or three kommuner the Bell-McCaffrey df are about 1-2 and the
   interval is very wide, so the rule says insufficient even below the default 5;
2. ``hi < 0`` (credibly fewer burglaries) -> repeat, unless an intermediate outcome
   moved credibly the wrong way (mixed evidence) -> change;
3. ``lo > 0`` (credibly more burglaries) -> drop;
4. an intermediate outcome (Nabohjælp sign-ups) moved credibly the right way, without a
   burglary effect -> change;
5. ``lo > -d`` (the interval rules out a reduction as large as ``delta``) and
   ``MDE <= d`` (the data could have shown one) -> drop;
6. otherwise -> insufficient: a null that is not powered is never read as "no effect".

Activity types that aim at tryghed (``tryghed_types``: campaigns, safety walks, citizen
meetings, local events, the mobile police station) are also judged on worry about
burglary (the change in the share worried, points per activity, from the citizen survey;
``fear_burglary_estimate, _se, _df``): credibly less worry -> repeat (change when burglary
rose), credibly more -> drop, and a burglary null drops such a type only when the survey
also rules out a fall in worry of ``fear_delta`` with power; without that evidence, or
without a survey, it is insufficient, never "drop" on burglary alone. The worry tests join
the Bonferroni family (``m`` = burglary estimates + worry estimates of tryghed types).

The intermediate outcome is judged at ``intermediate_alpha`` (Bonferroni-adjusted over the
types when ``adjust="bonferroni"``). ``adjust="bonferroni"`` (default) widens every interval to ``1 - alpha / m`` for the
``m`` types judged, so the chance that any null type is called "repeat" (or any
beneficial type "drop") is at most ``alpha / 2``; the MDE uses the same critical value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.activities.reasons import activity_reasons
from botrygt_eval.errors import ConfigError, check_option

Adjust = Literal["bonferroni", "none"]
ADJUSTS = ("bonferroni", "none")
VERDICT_DA = {
    "repeat": "gentag",
    "change": "ændr",
    "drop": "drop",
    "insufficient": "utilstrækkelig evidens",
}


@dataclass(frozen=True)
class DecisionRule:
    """Thresholds of the rule (module docstring); every field is recorded on the result."""

    delta: float = 0.05
    alpha: float = 0.05
    power: float = 0.80
    adjust: Adjust = "bonferroni"
    min_kommuner: int = 5
    min_activities: int = 10
    intermediate_alpha: float = 0.05
    fear_delta: float = 0.02
    tryghed_types: tuple[str, ...] = (
        "kampagne", "tryghedsvandring", "borgermoede", "lokalt_arrangement", "mobil_politistation",
    )  # fmt: skip

    def __post_init__(self) -> None:
        check_option("adjust", self.adjust, ADJUSTS)
        if not 0 < self.fear_delta < 1:
            raise ConfigError(
                f"fear_delta={self.fear_delta}: give the smallest worthwhile fall in the share "
                "worried about burglary as a share in (0, 1), e.g. 0.02 (2 points)"
            )
        if not 0 < self.delta < 1:
            raise ConfigError(
                f"delta={self.delta}: give the smallest worthwhile reduction as a share in (0, 1), e.g. 0.05"
            )
        if self.min_kommuner < 2:
            raise ConfigError(
                f"min_kommuner={self.min_kommuner}: a type active in one kommune cannot be judged "
                "(no cluster-robust standard error, CR1 or CR2, sees that kommune's own "
                "variation: the interval comes out far too narrow); use at least 2 (default 5)"
            )
        for name in ("alpha", "power", "intermediate_alpha"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be a probability in (0, 1)")

    @property
    def log_delta(self) -> float:
        """``d = -log(1 - delta)``: the smallest worthwhile reduction on the log scale."""
        return float(-np.log1p(-self.delta))

    def z(self, m: int) -> float:
        """Two-sided normal critical value for ``m`` simultaneous intervals."""
        return float(stats.norm.ppf(1 - self._level(m) / 2))

    def _level(self, m: int) -> float:
        return self.alpha / max(m, 1) if self.adjust == "bonferroni" else self.alpha

    def crit(self, m: int, df=None) -> np.ndarray:
        """Two-sided t critical value ``t_{1 - a/2, df}`` for ``m`` simultaneous intervals
        (``a = alpha / m`` with Bonferroni); a missing or infinite ``df`` gives the normal
        value."""
        return _t_ppf(1 - self._level(m) / 2, df)

    def mde(self, se: np.ndarray, m: int, df=None) -> np.ndarray:
        """Minimum detectable effect: ``(t_{crit, df} + t_{power, df}) * SE`` (normal
        quantiles without ``df``)."""
        return (self.crit(m, df) + _t_ppf(self.power, df)) * np.asarray(se, dtype=float)


def _t_ppf(q: float, df) -> np.ndarray:
    """t quantile per ``df``; the normal quantile where ``df`` is missing or infinite."""
    if df is None:
        return np.asarray(stats.norm.ppf(q))
    df = np.asarray(df, dtype=float)
    finite = np.isfinite(df) & (df > 0)
    return np.where(finite, stats.t.ppf(q, np.where(finite, df, 1.0)), stats.norm.ppf(q))


#: the branch of the rule that decided -> the verdict (branch names are reason ids)
BRANCH_VERDICT = {
    "few": "insufficient", "change_mixed": "change", "change_mixed_fear": "change",
    "repeat": "repeat", "repeat_tryghed": "repeat", "drop_harm": "drop", "drop_fear": "drop",
    "change_intermediate": "change", "drop_null": "drop", "no_fear_measure": "insufficient",
    "insufficient": "insufficient",
}  # fmt: skip


def decide(table: pd.DataFrame, rule: DecisionRule) -> pd.DataFrame:
    """Add ``ci_low, ci_high, mde, verdict_code, verdict, verdict_branch, reasons`` (and the
    worry interval ``fear_burglary_ci_low, _ci_high, _mde``) to one row per type.

    ``table`` has ``activity_type, n_activities, n_kommuner, estimate, se`` (burglary) and
    ``nh_estimate, nh_se`` (Nabohjælp share, points; NaN when not available), optionally
    ``fear_burglary_estimate, fear_burglary_se`` (share worried about burglary, points), ``lead_estimate,
    lead_se`` (the pre-start quarter; a clear deviation adds a caution) and the degrees of
    freedom ``df, nh_df, fear_burglary_df, lead_df`` of the t intervals (normal where absent).
    """
    t = table.copy()
    for c in ("fear_burglary_estimate", "fear_burglary_se", "lead_estimate", "lead_se"):
        if c not in t.columns:
            t[c] = np.nan
    for c in ("df", "nh_df", "fear_burglary_df", "lead_df"):
        if c not in t.columns:
            t[c] = np.inf
    tryg = t["activity_type"].isin(rule.tryghed_types).to_numpy()
    has_fear = tryg & t["fear_burglary_estimate"].notna().to_numpy()
    m = int(t["estimate"].notna().sum() + has_fear.sum())
    z = rule.crit(m, t["df"])
    t["ci_low"] = t["estimate"] - z * t["se"]
    t["ci_high"] = t["estimate"] + z * t["se"]
    t["mde"] = rule.mde(t["se"], m, t["df"])
    zf = rule.crit(m, t["fear_burglary_df"])
    t["fear_burglary_ci_low"] = t["fear_burglary_estimate"] - zf * t["fear_burglary_se"]
    t["fear_burglary_ci_high"] = t["fear_burglary_estimate"] + zf * t["fear_burglary_se"]
    t["fear_burglary_mde"] = rule.mde(t["fear_burglary_se"], m, t["fear_burglary_df"])
    mi = max(int(t["nh_estimate"].notna().sum()), 1)
    ai = rule.intermediate_alpha / (mi if rule.adjust == "bonferroni" else 1)
    zi = _t_ppf(1 - ai / 2, t["nh_df"])
    t["nh_ci_low"] = t["nh_estimate"] - zi * t["nh_se"]
    t["nh_ci_high"] = t["nh_estimate"] + zi * t["nh_se"]
    nh_up = (t["nh_estimate"] - zi * t["nh_se"] > 0).to_numpy()
    nh_down = (t["nh_estimate"] + zi * t["nh_se"] < 0).to_numpy()
    d, fd = rule.log_delta, 100 * rule.fear_delta
    few = (
        (t["n_kommuner"] < rule.min_kommuner)
        | (t["n_activities"] < rule.min_activities)
        | t["estimate"].isna()
    ).to_numpy()
    good = (t["ci_high"] < 0).to_numpy()
    bad = (t["ci_low"] > 0).to_numpy()
    null = ((t["ci_low"] > -d) & (t["mde"] <= d)).to_numpy()
    calmer = has_fear & (t["fear_burglary_ci_high"] < 0).to_numpy()
    worse = has_fear & (t["fear_burglary_ci_low"] > 0).to_numpy()
    fear_null = (
        has_fear & ((t["fear_burglary_ci_low"] > -fd) & (t["fear_burglary_mde"] <= fd)).to_numpy()
    )
    branches = [
        (few, "few"), (good & nh_down, "change_mixed"), (good & worse, "change_mixed_fear"),
        (calmer & bad, "change_mixed_fear"), (good, "repeat"), (calmer, "repeat_tryghed"),
        (bad, "drop_harm"), (worse, "drop_fear"), (nh_up, "change_intermediate"),
        (null & (~tryg | fear_null), "drop_null"), (null & tryg, "no_fear_measure"),
    ]  # fmt: skip
    t["verdict_branch"] = np.select([c for c, _ in branches], [b for _, b in branches],
                                    default="insufficient")  # fmt: skip
    t["verdict_code"] = t["verdict_branch"].map(BRANCH_VERDICT)
    t["verdict"] = t["verdict_code"].map(VERDICT_DA)
    zl = rule.crit(m, t["lead_df"])
    t["pretrend_flag"] = (np.abs(t["lead_estimate"]) > zl * t["lead_se"]).to_numpy()
    t["reasons"] = activity_reasons(t, rule, "da")
    return t
