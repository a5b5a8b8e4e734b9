"""One plain-language reason per activity type for its verdict, in Danish or English.

Written from the decision table's columns (verdict code, intervals, MDE, Nabohjælp, worry
about burglary, the pre-trend flag) with the rule's thresholds and the report-text
catalogue, so both languages say the same thing with the same numbers. The verdict is
never recomputed here: :mod:`botrygt_eval.activities.rule` decides, this module explains.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.text.catalogue import check_lang, num, percent, t


def signed_pct(log_ratio: float, lang: str) -> str:
    """``+12,3 %`` / ``−4,0 %`` (da, with a minus sign) or ``+12.3%`` (en): a log rate ratio
    as a signed percent change."""
    x = 100 * np.expm1(log_ratio)
    text = f"{num(abs(x), lang)} %" if lang == "da" else f"{num(abs(x), lang)}%"
    return ("−" if lang == "da" else "-") + text if x < 0 else "+" + text


def signed_points(x: float, lang: str, digits: int = 2) -> str:
    """Signed percentage points (``+0,50`` / ``−2,00``)."""
    text = num(abs(x), lang, digits)
    return ("−" if lang == "da" else "-") + text if x < 0 else "+" + text


def activity_reasons(decisions: pd.DataFrame, rule, lang: str = "da") -> list[str]:
    """The reason of each row's verdict (one row per activity type, about ten)."""
    check_lang(lang)
    nh_col = "nabohjaelp_estimate" if "nabohjaelp_estimate" in decisions else "nh_estimate"
    level = t("reason.simultaneous", lang, level=percent(100 * (1 - rule.alpha), lang, 0))
    if lang == "en":
        level = level.replace(" %", "%")
    worth = percent(100 * rule.delta, lang, 0)
    out = []
    for r in decisions.itertuples(index=False):
        if r.verdict_code == "insufficient" and _few(r, rule):
            out.append(t("reason.few", lang, n=r.n_activities, k=r.n_kommuner,
                         min_n=rule.min_activities, min_k=rule.min_kommuner))  # fmt: skip
            continue
        head = t("reason.estimate", lang, est=signed_pct(r.estimate, lang), level=level,
                 lo=signed_pct(r.ci_low, lang), hi=signed_pct(r.ci_high, lang))  # fmt: skip
        nh_est = float(getattr(r, nh_col, np.nan))
        nh = (" " + t("reason.nabohjaelp", lang, pp=signed_points(nh_est, lang))
              if np.isfinite(nh_est) else "")  # fmt: skip
        fear_est = float(getattr(r, "fear_burglary_estimate", np.nan))
        fear = ""
        if np.isfinite(fear_est):
            fear = " " + t("reason.fear", lang, pp=signed_points(fear_est, lang), level=level,
                           lo=signed_points(r.fear_burglary_ci_low, lang),
                           hi=signed_points(r.fear_burglary_ci_high, lang))  # fmt: skip
        mde = percent(100 * (1 - np.exp(-r.mde)), lang)
        key = _key(r)
        params = dict(nh=nh, fear=fear, worth=worth, mde=mde)
        if key == "reason.no_fear_measure":
            why = ("reason.why_no_survey" if not np.isfinite(fear_est)
                   else "reason.why_fear_unpowered")  # fmt: skip
            params["why"] = t(why, lang, fear_worth=num(100 * rule.fear_delta, lang, 1),
                              fear_mde=num(getattr(r, "fear_burglary_mde", np.nan), lang, 1))  # fmt: skip
        text = f"{head}: {t(key, lang, **params)}"
        if key in ("reason.repeat", "reason.drop_harm", "reason.drop_null") and fear:
            text += fear
        if bool(getattr(r, "pretrend_flag", False)):
            text += " " + t("reason.pretrend", lang)
        out.append(text)
    return out


def _few(r, rule) -> bool:
    return bool(r.n_kommuner < rule.min_kommuner or r.n_activities < rule.min_activities
                or not np.isfinite(r.estimate))  # fmt: skip


def _key(r) -> str:
    """The catalogue id explaining the row's verdict (``rule.decide`` stores which branch
    decided in ``verdict_branch``)."""
    return f"reason.{r.verdict_branch}"
