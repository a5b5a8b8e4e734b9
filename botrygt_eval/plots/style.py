"""One look for every chart the package saves: the simulated-data banner."""

from __future__ import annotations

from botrygt_eval import SIMULATED_BANNER


def mark_simulated(fig) -> None:
    """Stamp SIMULEREDE DATA / SIMULATED DATA above a chart made from simulated data
    (white on red, centred over the figure; saved with ``bbox_inches="tight"`` it stays in)."""
    fig.text(0.5, 1.0, SIMULATED_BANNER, ha="center", va="bottom", fontsize=10, color="white",
             weight="bold", bbox=dict(facecolor="firebrick", edgecolor="none", pad=3))  # fmt: skip
