"""Sentences and interval texts of the reports, with numbers written the reader's way.

An interval reads ``12,3 % (95 %-KI 10,1 til 14,5 %)`` in Danish; the kommune's own
effect is said in one sentence, "kan ikke skelnes fra ingen effekt" when its interval
holds 0; the comparison kommuner are named with their weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.reference import kommune_name
from botrygt_eval.text.catalogue import num, percent, t


def fmt_interval(est: float, lo: float, hi: float, digits: int = 1, unit: str = "",
                 lang: str = "da") -> str:  # fmt: skip
    """``12,3 % (95 %-KI 10,1 til 14,5 %)`` (da) or ``12.3% (95% CI 10.1 to 14.5%)`` (en).

    'undertrykt'/'suppressed' when the estimate is missing.
    """
    if not np.isfinite(est):
        return t("common.suppressed", lang)
    if lang == "en":
        unit = unit.lstrip()  # "12.3%", not "12.3 %"

    def f(x: float) -> str:
        return num(x, lang, digits)

    return t("common.interval", lang, est=f"{f(est)}{unit}", lo=f(lo), hi=f"{f(hi)}{unit}")


def interval_text(est, lo, hi, *, digits: int = 1, unit: str = "", lang: str = "da",
                  missing: str = "") -> str:  # fmt: skip
    """:func:`fmt_interval`, or ``missing`` where there is no estimate (not 'suppressed')."""
    return fmt_interval(est, lo, hi, digits, unit, lang) if pd.notna(est) else missing


def pct(x: float, digits: int = 1, lang: str = "da") -> str:
    """A number for the text: ``1.234,5`` (da) or ``1,234.5`` (en); missing as ``–``."""
    return num(x, lang, digits)


def own_effect_sentence(synth: pd.DataFrame, name: str, lang: str = "da") -> str:
    """One sentence on the kommune's own estimate (synthetic DiD), in words."""
    r = synth.iloc[0]
    args = dict(name=name, est=num(abs(r["effekt_pct"]), lang), lo=num(r["ki_fra_pct"], lang),
                hi=num(r["ki_til_pct"], lang),
                direction=t("word.lower" if r["effekt_pct"] < 0 else "word.higher", lang))  # fmt: skip
    if r["ki_fra_pct"] <= 0 <= r["ki_til_pct"]:
        return t("kommune.own_effect_null", lang, **args)
    key = "kommune.own_effect_lower" if r["effekt_pct"] < 0 else "kommune.own_effect_higher"
    return t(key, lang, **args)


def comparison_kommuner(res, k: int = 5, lang: str = "da") -> str:
    """The ``k`` kommuner with most weight in the synthetic comparison, with their weights."""
    w = res.weights_frame().sort_values("weight", ascending=False).head(k)
    return ", ".join(f"{n} ({percent(100 * v, lang, 0)})" for n, v in zip(w["kommune"], w["weight"],
                                                                          strict=True))  # fmt: skip


def survey_gap_lines(gaps: pd.DataFrame | None, kommune_kode: int | None = None,
                     lang: str = "da") -> list[str]:  # fmt: skip
    """Sentences on what the survey series lacks (:func:`~botrygt_eval.survey.pipeline.survey_gaps`):
    missing years, and kommuner without respondents in a year (all of them nationally, the
    report's own kommune in its report); collapsed margin cells are counted per year."""
    if gaps is None or gaps.empty:
        return []
    lines = []
    missing = sorted(gaps.loc[gaps["kind"] == "missing_year", "year"].astype(int))
    if missing:
        lines.append(t("survey.gap_missing_years", lang, years=", ".join(map(str, missing))))
    dropped = gaps.loc[(gaps["kind"] == "dropped") & (gaps["variable"] == "kommune_kode")]
    if kommune_kode is not None:
        dropped = dropped.loc[pd.to_numeric(dropped["level"]) == int(kommune_kode)]
    for year, rows in dropped.groupby("year"):
        names = ", ".join(kommune_name(int(float(k))) for k in rows["level"])
        lines.append(t("survey.gap_no_respondents", lang, year=int(year), names=names))
    if kommune_kode is None:
        collapsed = gaps.loc[gaps["kind"] == "collapsed"].groupby("year").size()
        for year, n in collapsed.items():
            lines.append(t("survey.gap_collapsed", lang, year=int(year), n=int(n)))
    return lines
