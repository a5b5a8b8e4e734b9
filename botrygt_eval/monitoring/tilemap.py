"""A tile map of the 98 kommuner for reports that have no boundary file.

Each kommune is one square tile placed roughly where it lies (``reference/tilemap.csv``:
Jutland west, Funen in the middle, Zealand east with the Copenhagen area spread out so
its small kommuner stay readable, Bornholm detached in a box). Every tile has the same
size, so a small dense kommune counts as much as a large rural one: the map shows
*which* kommuner, not how much land. No boundary data and no online tiles are needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError
from botrygt_eval.reference import kommuner

#: kommune drawn in a box of its own (it lies far east of the rest)
DETACHED = (400,)

_WORDS = {
    "da": {"missing": "Ingen data", "suppressed": "Ikke vist (for få tilfælde)",
           "highlight": "Fremhævet"},
    "en": {"missing": "No data", "suppressed": "Not shown (too few cases)",
           "highlight": "Highlighted"},
}  # fmt: skip


def words(lang: str) -> dict[str, str]:
    """The tile map's legend words in ``lang`` ('da' or 'en')."""
    if lang not in _WORDS:
        raise ConfigError(f"lang must be one of {', '.join(map(repr, _WORDS))} (got {lang!r})")
    return _WORDS[lang]


@lru_cache(maxsize=1)
def _tiles() -> pd.DataFrame:
    ref = resources.files("botrygt_eval.reference").joinpath("tilemap.csv")
    with ref.open(encoding="utf-8") as fh:
        tiles = pd.read_csv(fh, dtype={"kommune_kode": "int64", "row": "int64", "col": "int64"})
    return tiles.merge(kommuner(), on="kommune_kode", how="left", validate="one_to_one")


def tile_positions() -> pd.DataFrame:
    """``kommune_kode, row, col, abbrev`` plus the kommune table's columns (row 0 is north)."""
    return _tiles().copy()


def _codes(values: Iterable | None) -> set[int]:
    return set() if values is None else {int(v) for v in values}


def _text_colour(rgba: np.ndarray) -> np.ndarray:
    """Black on light tiles, white on dark ones (relative luminance)."""
    lum = 0.2126 * rgba[:, 0] + 0.7152 * rgba[:, 1] + 0.0722 * rgba[:, 2]
    return np.where(lum > 0.5, "black", "white")


def _squares(x: np.ndarray, y: np.ndarray, size: float = 0.92) -> np.ndarray:
    """``(n, 4, 2)`` corners of squares centred on ``(x, y)``."""
    h = size / 2
    dx = np.array([-h, h, h, -h])
    dy = np.array([-h, -h, h, h])
    return np.stack([x[:, None] + dx, y[:, None] + dy], axis=-1)


def tile_map(
    values: pd.Series,
    *,
    title: str,
    label: str,
    cmap: str = "viridis",
    suppressed: Iterable | None = None,
    highlight: Iterable | None = None,
    center: float | None = None,
    highlight_label: str | None = None,
    lang: str = "da",
):
    """Colour each kommune's tile by ``values`` (a Series indexed by ``kommune_kode``).

    Kommuner without a finite value, or listed in ``suppressed``, are grey hatched (their
    value is never drawn); ``highlight`` kommuner get a thick outline, named
    ``highlight_label`` in the legend. ``center`` makes the colour scale diverge around
    that value (e.g. 0 for a change). Returns a matplotlib
    ``Figure`` with a colour bar and the kommune abbreviations on the tiles.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize, TwoSlopeNorm
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    w = words(lang)
    if not isinstance(values, pd.Series):
        raise ConfigError("tile_map needs a pandas Series of values indexed by kommune_kode")
    tiles = _tiles()
    vals = pd.to_numeric(values, errors="coerce")
    vals.index = [int(k) for k in vals.index]
    unknown = sorted(set(vals.index) - set(tiles["kommune_kode"]))
    if unknown:
        raise ConfigError(f"values for unknown kommune codes {unknown}: index by kommune_kode")
    hidden = _codes(suppressed)
    v = tiles["kommune_kode"].map(vals).to_numpy(dtype=float)
    is_hidden = tiles["kommune_kode"].isin(hidden).to_numpy()
    shown = np.isfinite(v) & ~is_hidden
    x = tiles["col"].to_numpy(dtype=float)
    y = -tiles["row"].to_numpy(dtype=float)

    fig = Figure(figsize=(8.2, 6.4), layout="constrained")
    ax = fig.add_subplot()
    if shown.any():
        lo, hi = float(np.min(v[shown])), float(np.max(v[shown]))
    else:
        lo, hi = 0.0, 1.0
    if center is not None:
        span = max(abs(lo - center), abs(hi - center)) or 1.0
        norm = TwoSlopeNorm(vcenter=center, vmin=center - span, vmax=center + span)
    else:
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
    coloured = PolyCollection(_squares(x[shown], y[shown]), array=v[shown], cmap=cmap, norm=norm,
                              edgecolors="white", linewidths=0.8)  # fmt: skip
    coloured.set_gid("values")
    ax.add_collection(coloured)
    blank = PolyCollection(_squares(x[~shown], y[~shown]), facecolors="0.88", edgecolors="0.6",
                           linewidths=0.6, hatch="///")  # fmt: skip
    blank.set_gid("no_value")
    ax.add_collection(blank)

    rgba = np.ones((len(tiles), 4))
    rgba[shown] = coloured.to_rgba(v[shown])
    ink = np.where(shown, _text_colour(rgba), "0.25")
    for xi, yi, text, c in zip(x, y, tiles["abbrev"], ink, strict=True):
        ax.text(xi, yi, text, ha="center", va="center", fontsize=6.5, color=c,
                weight="bold")  # fmt: skip

    marked = tiles["kommune_kode"].isin(_codes(highlight)).to_numpy()
    if marked.any():
        ring = PolyCollection(_squares(x[marked], y[marked], 0.98), facecolors="none",
                              edgecolors="black", linewidths=2.2)  # fmt: skip
        ring.set_gid("highlight")
        ax.add_collection(ring)
    detached = tiles["kommune_kode"].isin(DETACHED).to_numpy()
    for xi, yi in zip(x[detached], y[detached], strict=True):
        ax.add_patch(Rectangle((xi - 0.62, yi - 0.62), 1.24, 1.24, fill=False, lw=0.8,
                               ls="--", edgecolor="0.4"))  # fmt: skip

    ax.set_xlim(x.min() - 0.8, x.max() + 0.8)
    ax.set_ylim(y.min() - 0.8, y.max() + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    bar = fig.colorbar(coloured, ax=ax, label=label, shrink=0.6, pad=0.01)
    if lang == "da":
        from matplotlib.ticker import FuncFormatter

        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}".replace(".", ",")))
    handles = []
    if (~np.isfinite(v) & ~is_hidden).any():
        handles.append(Patch(facecolor="0.88", edgecolor="0.6", hatch="///", label=w["missing"]))
    if is_hidden.any():
        handles.append(Patch(facecolor="0.88", edgecolor="0.6", hatch="///",
                             label=w["suppressed"]))  # fmt: skip
    if marked.any():
        handles.append(Patch(facecolor="none", edgecolor="black", lw=2.2,
                             label=highlight_label or w["highlight"]))  # fmt: skip
    if handles:
        ax.legend(handles=handles, loc="upper right", frameon=False, fontsize=8)
    return fig
