"""One look for every chart the package saves: the simulated-data banner, and a layout that
keeps everything inside the figure.

Report charts are saved without ``bbox_inches="tight"``, which measures every artist of
the figure once more before drawing it. Instead each chart has a layout engine
(constrained layout where the chart asks for it, else tight layout) that fits titles,
labels, legends and colorbars inside its canvas, and the banner is drawn inside the
figure, in a band the layout leaves free at the top.
"""

from __future__ import annotations

from botrygt_eval import SIMULATED_BANNER

#: height of the band kept free for the banner (10 pt bold text, 3 pt padding, margin)
BANNER_POINTS = 22.0


def mark_simulated(fig) -> None:
    """Stamp SIMULEREDE DATA / SIMULATED DATA at the top of a chart made from simulated data
    (white on red, centred), inside the figure: the charts' layout is moved down to leave
    the banner's band free, so the chart needs no tight bounding box to keep it."""
    band = BANNER_POINTS / 72 / fig.get_figheight()
    fig.text(0.5, 1 - band / 2, SIMULATED_BANNER, ha="center", va="center", fontsize=10,
             color="white", weight="bold",
             bbox=dict(facecolor="firebrick", edgecolor="none", pad=3))  # fmt: skip
    fit_inside(fig, top=band)


def fit_inside(fig, top: float = 0.0) -> None:
    """Lay ``fig`` out inside its canvas, leaving the fraction ``top`` of its height free.

    A figure with constrained or tight layout keeps its engine (its ``rect`` is lowered at
    the top); a figure without one (or laid out once by ``tight_layout()``) gets tight
    layout, which also places colorbars made without an engine (constrained layout cannot).
    A figure that cannot switch has its subplots moved down.
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):  # rect: left, bottom, width, height
        left, bottom, width, height = engine.get()["rect"]
        engine.set(rect=(left, bottom, width, min(bottom + height, 1 - top) - bottom))
        return
    if isinstance(engine, TightLayoutEngine):  # rect: left, bottom, right, top
        left, bottom, right, upper = engine.get()["rect"]
        engine.set(rect=(left, bottom, right, min(upper, 1 - top)))
        return
    try:
        fig.set_layout_engine("tight", rect=(0, 0, 1, 1 - top))
    except RuntimeError:  # colorbars laid out for another engine: keep it, move the axes
        if top:
            fig.subplots_adjust(top=min(fig.subplotpars.top, 1 - top))
