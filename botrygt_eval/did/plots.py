"""Charts for difference-in-differences results (matplotlib, Danish labels).

Engineer CS owns this module (group-time and aggregate charts); Engineer P
appends :func:`plot_event_study` for TWFE/PPML event studies.
"""

from __future__ import annotations

import numpy as np


def plot_event_study(
    result,
    ax=None,
    *,
    title: str | None = None,
    ylabel: str = "Effekt i forhold til perioden før start",
    xlabel: str = "Perioder i forhold til partnerskabets start",
    rate_ratio: bool = False,
):
    """Event-study coefficients with pointwise confidence intervals.

    ``result`` is an :class:`~botrygt_eval.did.twfe.EventStudyResult` (TWFE or PPML).
    Leads are grey, lags coloured; the reference period sits at 0 without an
    interval; binned endpoints are drawn hollow. ``rate_ratio=True`` plots
    ``exp(coefficient)`` (for PPML), with 1 as the no-effect line.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    t = result.to_frame()
    e = t["event_time"].to_numpy()
    est, lo, hi = (t[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
    if rate_ratio:
        est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
    null = 1.0 if rate_ratio else 0.0
    pre = e < 0
    for mask, color, label in ((pre, "0.45", "Før start"), (~pre, "C0", "Efter start")):
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
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Rate-forhold" if rate_ratio and ylabel.startswith("Effekt") else ylabel)
    ax.set_title(title or f"Event study: {result.outcome} ({result.model})")
    ax.legend(frameon=False, fontsize=8)
    return ax
