"""Charts for synthetic DiD / synthetic control results (matplotlib, Danish or English labels)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from botrygt_eval.text.catalogue import t as text


def plot_synth(result, axes=None, *, title: str | None = None, ylabel: str | None = None,
               lang: str = "da"):  # fmt: skip
    """Top: treated vs synthetic unit with the start marked; bottom: the gap with its band.

    The band is ``gap +/- z * se``: per period from the placebo gaps when placebo
    inference was used, else the SE of the average effect. One column per cohort.
    Returns the array of axes. Labels in ``lang`` (``"da"`` or ``"en"``).
    """
    import matplotlib.pyplot as plt

    traj = result.trajectories()
    cohorts = list(dict.fromkeys(traj["cohort"]))
    if axes is None:
        _, axes = plt.subplots(2, len(cohorts), figsize=(6.5 * len(cohorts), 6), sharex="col",
                               squeeze=False)  # fmt: skip
    axes = np.asarray(axes).reshape(2, -1)
    z = stats.norm.ppf(1 - result.alpha / 2)
    for j, g in enumerate(cohorts):
        t = traj[traj["cohort"] == g]
        x = np.arange(len(t))
        labels = t["time"].astype(str).to_list()
        start = int(np.argmax(t["post"].to_numpy() == 1))
        top, bottom = axes[0, j], axes[1, j]
        top.plot(x, t["treated"], color="C3", lw=1.8, label=text("fig.synth_treated", lang))
        top.plot(
            x, t["synthetic"], color="C0", lw=1.5, ls="--", label=text("fig.synth_synthetic", lang)
        )
        gap = t["gap"].to_numpy()
        half = z * t["gap_se"].to_numpy(float)
        bottom.fill_between(x, gap - half, gap + half, color="C0", alpha=0.2,
                            label=text("fig.synth_band", lang,
                                       level=f"{100 * (1 - result.alpha):.0f}"))  # fmt: skip
        bottom.plot(x, gap, color="C0", lw=1.5, label=text("fig.synth_gap", lang))
        bottom.axhline(0, color="black", lw=0.8)
        for ax in (top, bottom):
            ax.axvline(start - 0.5, color="0.5", lw=0.9, ls=":")
        top.annotate(text("fig.synth_start", lang), (start - 0.5, 1), xycoords=("data", "axes fraction"),
                     xytext=(3, -12), textcoords="offset points", fontsize=8, color="0.35")  # fmt: skip
        step = max(1, len(x) // 8)
        bottom.set_xticks(x[::step], labels[::step], rotation=45, ha="right", fontsize=8)
        top.set_ylabel(ylabel or result.outcome)
        bottom.set_ylabel(text("fig.synth_gap_axis", lang))
        top.set_title(title or f"{result.method_label}: {result.outcome}"
                      + (f" (start {g})" if len(cohorts) > 1 else ""))  # fmt: skip
        top.legend(frameon=False, fontsize=8)
        bottom.legend(frameon=False, fontsize=8)
    return axes
