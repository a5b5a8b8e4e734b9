"""Charts for difference-in-differences results (matplotlib, Danish labels).

Engineer CS owns this module (group-time and aggregate charts); Engineer P
appends :func:`plot_event_study` for TWFE/PPML event studies.
"""

from __future__ import annotations

import numpy as np

from botrygt_eval.text.catalogue import percent
from botrygt_eval.text.catalogue import t as text


def plot_event_study(
    result,
    ax=None,
    *,
    title: str | None = None,
    ylabel: str | None = None,
    xlabel: str | None = None,
    rate_ratio: bool = False,
    percent: bool = False,
    lang: str = "da",
):
    """Event-study coefficients with pointwise confidence intervals.

    ``result`` is an :class:`~botrygt_eval.did.twfe.EventStudyResult` (TWFE or PPML).
    Leads are grey, lags coloured; the reference period sits at 0 without an
    interval; binned endpoints are drawn hollow. ``rate_ratio=True`` plots
    ``exp(coefficient)`` (for PPML), with 1 as the no-effect line; ``percent=True`` plots
    ``100 (exp(coefficient) - 1)``, the change in % of a log outcome. Event times are whole
    periods on the x-axis. Default labels are in ``lang`` (``"da"`` or ``"en"``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    t = result.to_frame()
    e = t["event_time"].to_numpy()
    est, lo, hi = (t[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
    if rate_ratio:
        est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
    elif percent:
        est, lo, hi = (100 * np.expm1(v) for v in (est, lo, hi))
    null = 1.0 if rate_ratio else 0.0
    pre = e < 0
    before, after = text("fig.es_before", lang), text("fig.es_after", lang)
    for mask, color, label in ((pre, "0.45", before), (~pre, "C0", after)):
        ok = mask & np.isfinite(lo)
        ax.errorbar(e[ok], est[ok], yerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="none",
                    ecolor=color, elinewidth=1.2, capsize=2)  # fmt: skip
        filled = mask & ~t["binned"].to_numpy()
        ax.plot(e[filled], est[filled], "o", color=color, label=label)
        hollow = mask & t["binned"].to_numpy()
        if hollow.any():
            ax.plot(e[hollow], est[hollow], "o", mfc="white", color=color)
    ax.axhline(null, color="black", lw=0.8)
    ax.axvline(-0.5, color="0.6", lw=0.8, ls=":")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel or text("fig.es_xlabel", lang))
    if ylabel is None:
        key = (
            "fig.rate_ratio" if rate_ratio else "fig.es_ylabel_pct" if percent else "fig.es_ylabel"
        )
        ylabel = text(key, lang)
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"Event study: {result.outcome} ({result.model})")
    ax.legend(frameon=False, fontsize=8)
    return ax


# --------------------------------------------------------------------------------------
# Callaway-Sant'Anna (Engineer CS): group-time and aggregated effects, in the style of
# R did's ggdid().


def plot_att_gt(result, *, title: str | None = None, ylabel: str = "Effekt (ATT)"):
    """One panel per cohort: ATT(g,t) by period with pointwise intervals.

    ``result`` is an :class:`~botrygt_eval.did.att_gt.ATTgtResult`. Periods before the
    cohort's start are grey (pre-trend checks), from the start on coloured.
    Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    f = result.to_frame()
    groups = sorted(f["group"].unique())
    fig, axes = plt.subplots(
        len(groups), 1, figsize=(7, 1.9 * len(groups) + 0.6), sharex=True, squeeze=False
    )
    for ax, g in zip(axes[:, 0], groups, strict=True):
        s = f[f["group"] == g]
        for mask, color, label in (
            (~s["post"], "0.45", "Før start"),
            (s["post"], "C0", "Efter start"),
        ):
            p = s[mask.to_numpy(bool)]
            ok = p["se"].notna().to_numpy()
            x, est = p["time"].to_numpy(float), p["estimate"].to_numpy(float)
            lo, hi = p["ci_low"].to_numpy(float), p["ci_high"].to_numpy(float)
            if ok.any():
                ax.errorbar(x[ok], est[ok], yerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="o",
                            color=color, ecolor=color, capsize=2, label=label)  # fmt: skip
            if (~ok).any():
                ax.plot(x[~ok], est[~ok], "o", mfc="white", color=color)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(f"Kohorte {g:g}", fontsize=9, loc="left")
        ax.set_ylabel(ylabel, fontsize=8)
    axes[0, 0].legend(frameon=False, fontsize=8)
    axes[-1, 0].set_xlabel("Periode")
    fig.suptitle(title or f"Gruppe-tid-effekter: {result.settings['outcome']}")
    fig.tight_layout()
    return fig


def plot_aggregate(agg, ax=None, *, title: str | None = None, ylabel: str = "Effekt (ATT)"):
    """Aggregated effects by event time, cohort or period, with the result's band.

    ``agg`` is an :class:`~botrygt_eval.did.aggregate.AggregateResult`; its band is
    simultaneous (bootstrap sup-t or Bonferroni) or pointwise, as ``agg.simultaneous`` says. For ``simple`` a single bar.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    f = agg.to_frame()
    band = "simultant" if agg.simultaneous else "punktvis"
    if agg.by.empty:
        r = f.iloc[0]
        ax.errorbar([0], [r["estimate"]], yerr=[[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]],
                    fmt="o", capsize=4)  # fmt: skip
        ax.set_xticks([0], ["Samlet"])
    else:
        b = f.iloc[1:].reset_index(drop=True)
        x = b["egt"].to_numpy(float)
        pre = x < 0 if agg.type == "dynamic" else np.zeros(len(x), bool)
        for mask, color, label in ((pre, "0.45", "Før start"), (~pre, "C0", "Efter start")):
            if mask.any():
                est = b["estimate"].to_numpy(float)[mask]
                lo, hi = b["ci_low"].to_numpy(float)[mask], b["ci_high"].to_numpy(float)[mask]
                ax.errorbar(x[mask], est, yerr=[est - lo, hi - est], fmt="o", color=color,
                            capsize=2, label=label)  # fmt: skip
        if agg.type == "dynamic":
            ax.axvline(-0.5, color="0.6", lw=0.8, ls=":")
        xlabel = {
            "dynamic": "Perioder i forhold til partnerskabets start",
            "group": "Kohorte (første behandlede periode)",
            "calendar": "Periode",
        }[agg.type]
        ax.set_xlabel(xlabel)
        level = percent(100 * (1 - agg.alpha), "da", 0)
        ax.legend(frameon=False, fontsize=8, title=f"{level} {band} interval")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"Samlet effekt {agg.overall_att:.3f} (SE {agg.overall_se:.3f})")
    return ax
