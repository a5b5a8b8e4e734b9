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

    def __post_init__(self) -> None:
        check_option("adjust", self.adjust, ADJUSTS)
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


_PRETREND = (
    " Bemærk: indbruddene afveg allerede kvartalet før aktiviteterne startede (de sættes "
    "måske i gang som reaktion på indbrud); kvartalet holdes uden for sammenligningen."
)


def _fmt_pct(log_ratio: float) -> str:
    return f"{100 * (np.exp(log_ratio) - 1):+.1f} %".replace(".", ",").replace("-", "−")


def decide(table: pd.DataFrame, rule: DecisionRule) -> pd.DataFrame:
    """Add ``ci_low, ci_high, mde, verdict_code, verdict, reasons`` to one row per type.

    ``table`` has ``activity_type, n_activities, n_kommuner, estimate, se`` (burglary) and
    ``nh_estimate, nh_se`` (Nabohjælp share, points; NaN when not available), optionally
    ``lead_estimate, lead_se`` (the pre-start quarter; a clear deviation adds a caution)
    and the degrees of freedom ``df, nh_df, lead_df`` of the t intervals (normal where
    absent).
    """
    t = table.copy()
    for c in ("df", "nh_df", "lead_df"):
        if c not in t.columns:
            t[c] = np.inf
    m = int(t["estimate"].notna().sum())
    z = rule.crit(m, t["df"])
    t["ci_low"] = t["estimate"] - z * t["se"]
    t["ci_high"] = t["estimate"] + z * t["se"]
    t["mde"] = rule.mde(t["se"], m, t["df"])
    mi = max(int(t["nh_estimate"].notna().sum()), 1)
    ai = rule.intermediate_alpha / (mi if rule.adjust == "bonferroni" else 1)
    zi = _t_ppf(1 - ai / 2, t["nh_df"])
    nh_up = (t["nh_estimate"] - zi * t["nh_se"] > 0).to_numpy()
    nh_down = (t["nh_estimate"] + zi * t["nh_se"] < 0).to_numpy()
    d = rule.log_delta
    few = (
        (t["n_kommuner"] < rule.min_kommuner)
        | (t["n_activities"] < rule.min_activities)
        | t["estimate"].isna()
    ).to_numpy()
    good = (t["ci_high"] < 0).to_numpy()
    bad = (t["ci_low"] > 0).to_numpy()
    null = ((t["ci_low"] > -d) & (t["mde"] <= d)).to_numpy()
    conds = [few, good & nh_down, good, bad, nh_up, null]
    codes = ["insufficient", "change", "repeat", "drop", "change", "drop"]
    t["verdict_code"] = np.select(conds, codes, default="insufficient")
    t["verdict"] = t["verdict_code"].map(VERDICT_DA)
    if "lead_estimate" not in t.columns:
        t["lead_estimate"], t["lead_se"] = np.nan, np.nan
    zl = rule.crit(m, t["lead_df"])
    t["pretrend_flag"] = (np.abs(t["lead_estimate"]) > zl * t["lead_se"]).to_numpy()
    t["reasons"] = [
        _reason(r, rule, d) + (_PRETREND if r.pretrend_flag else "")
        for r in t.itertuples(index=False)
    ]
    return t


def _reason(r, rule: DecisionRule, d: float) -> str:
    """One plain Danish explanation of the verdict."""
    if (
        r.n_kommuner < rule.min_kommuner
        or r.n_activities < rule.min_activities
        or np.isnan(r.estimate)
    ):
        return (
            f"For lidt data: {r.n_activities} aktiviteter i {r.n_kommuner} kommuner "
            f"(mindst {rule.min_activities} aktiviteter i {rule.min_kommuner} kommuner kræves) — "
            "effekten kan ikke vurderes."
        )
    est = f"Anslået effekt på indbrud: {_fmt_pct(r.estimate)} pr. aktivitet"
    level = f"{100 * (1 - rule.alpha):.0f} %-interval"
    if rule.adjust == "bonferroni":
        level = f"samtidigt {level}"
    ci = f"({level} {_fmt_pct(r.ci_low)} til {_fmt_pct(r.ci_high)})"
    mde = f"mindste påviselige effekt {100 * (1 - np.exp(-r.mde)):.1f} %".replace(".", ",")
    worth = f"{100 * rule.delta:.0f} %"
    nh = ""
    if not np.isnan(r.nh_estimate):
        pp = f"{r.nh_estimate:+.2f}".replace(".", ",").replace("-", "−")
        nh = f" Nabohjælp: {pp} procentpoint pr. aktivitet."
    code = r.verdict_code
    if code == "repeat":
        return f"{est} {ci}: færre indbrud, og intervallet udelukker nul.{nh} Gentag."
    if code == "change" and r.ci_high < 0:
        return f"{est} {ci}: færre indbrud, men Nabohjælp faldt.{nh} Blandet evidens — justér."
    if code == "drop" and r.ci_low > 0:
        return f"{est} {ci}: flere indbrud, og intervallet udelukker nul. Stop aktiviteten."
    if code == "change":
        return (
            f"{est} {ci}: ingen påvist effekt på indbrud, men flere tilmeldt Nabohjælp.{nh} "
            "Virker på mellemmålet — justér, så det når indbrud."
        )
    if code == "drop":
        return (
            f"{est} {ci}: intervallet udelukker en reduktion på {worth} eller mere, og data "
            f"havde styrke til at se den ({mde}). Stop eller erstat aktiviteten."
        )
    return (
        f"{est} {ci}: hverken en effekt eller fravær af en effekt på {worth} kan påvises "
        f"({mde}).{nh} Mere data eller et forsøg kræves, før der besluttes."
    )
