"""Report charts are saved drawing the figure once (reports.output.save_png), and the PNG
is the one ``savefig`` writes: same layout, same pixels, same bytes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from botrygt_eval.plots.style import fit_inside, mark_simulated  # noqa: E402
from botrygt_eval.reports.output import FIGURE_DPI, save_png  # noqa: E402


def _chart(kind: str):
    """One chart of each kind the reports save, drawn the same way every call."""
    if kind == "no_pyplot":  # media chart: a Figure made without pyplot, twin axes
        fig = Figure(figsize=(7.5, 4.2), layout="constrained")
        ax = fig.add_subplot()
        ax.twinx().bar([2020, 2021, 2022], [5, 9, 7], color="0.85")
    elif kind == "colorbar":
        fig, ax = plt.subplots(figsize=(6, 5))
        fig.colorbar(ax.imshow(np.arange(12.0).reshape(3, 4)), ax=ax)
    elif kind == "subplots":
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
        bx.fill_between([0, 1, 2], [0, 1, 0], [1, 2, 1], alpha=0.2)
    else:
        fig, ax = plt.subplots(figsize=(8, 4.2), layout=None if kind == "none" else kind)
    ax.plot([2017, 2020, 2025], [21.5, 19.2, 24.0], marker="o", label="Bekymret for indbrud")
    ax.set_title("Borgerundersøgelsen: Frederiksberg")
    ax.set_xlabel("År")
    ax.set_ylabel("Andel af voksne (%), 95 %-konfidensinterval")
    ax.legend(loc="best")
    fig.supxlabel("Spørgsmålet er ændret fra 2025", fontsize="x-small", x=0.01, ha="left")
    return fig


KINDS = ["constrained", "tight", "none", "colorbar", "subplots", "no_pyplot"]


@pytest.mark.parametrize("simulated", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_save_png_writes_the_bytes_savefig_writes(kind, simulated, tmp_path):
    paths = []
    for how in ("savefig", "save_png"):
        fig = _chart(kind)
        mark_simulated(fig) if simulated else fit_inside(fig)
        path = tmp_path / f"{how}.png"
        meta = {"Description": "Figur"}
        if how == "savefig":
            fig.savefig(path, dpi=FIGURE_DPI, metadata=meta)
        else:
            save_png(fig, path, dpi=FIGURE_DPI, metadata=meta)
        plt.close("all")
        paths.append(path)
    a, b = (np.asarray(Image.open(p)) for p in paths)
    assert a.shape == b.shape
    assert (a == b).all(), f"{kind}: {(a != b).any(axis=-1).sum()} pixels differ"
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert Image.open(paths[1]).info["Description"] == "Figur"


def test_save_png_draws_once_where_savefig_draws_twice(tmp_path):
    counts = {}
    for how in ("savefig", "save_png"):
        fig = _chart("constrained")
        mark_simulated(fig)
        draws = []
        fig.canvas.mpl_connect("draw_event", lambda event, d=draws: d.append(event))
        if how == "savefig":
            fig.savefig(tmp_path / "a.png", dpi=FIGURE_DPI)
        else:
            save_png(fig, tmp_path / "b.png", dpi=FIGURE_DPI)
        counts[how] = len(draws)
        plt.close("all")
    assert counts == {"savefig": 2, "save_png": 1}


def test_save_png_leaves_the_figure_with_its_layout_engine(tmp_path):
    fig = _chart("constrained")
    engine = fig.get_layout_engine()
    save_png(fig, tmp_path / "a.png", dpi=FIGURE_DPI)
    assert fig.get_layout_engine() is engine
    plt.close("all")
