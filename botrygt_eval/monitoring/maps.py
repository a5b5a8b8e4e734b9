"""Maps of a kommune's grid cells and the near-repeat table, drawn offline with matplotlib.

The cells are squares in ETRS89 / UTM 32N metres (EPSG:25832) at their own size (1 km
and 100 m cells may be mixed; small ones are drawn on top). Suppressed cells (too few
burglaries to publish: the points are personal data) are left out of the drawing
altogether, not merely greyed, so no hidden value is ever in the figure. No background
tiles are fetched: the optional kommune outline comes from the user's GeoJSON file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError
from botrygt_eval.monitoring.boundary import read_boundary

_WORDS = {
    "da": {
        "rate_shrunk": "Indbrud pr. 1.000 husstande pr. år (udglattet)",
        "rate_per_1000": "Indbrud pr. 1.000 husstande pr. år",
        "coverage_per_100": "Nabohjælpere pr. 100 husstande",
        "gap_index": "Sandsynlighed for mange indbrud og få nabohjælpere",
        "gi_z": "Gi*-værdi (z)",
        "households": "Husstande",
        "burglaries": "Indbrud",
        "hotspot": "Hotspot (Getis-Ord Gi*)",
        "hidden": "Celler med for få indbrud er skjult",
        "hidden_n": "Celler med færre end {n} indbrud er skjult",
        "merged": "Store felter: 100 m-celler med få indbrud lagt sammen til 1 km",
        "boundary": "Kommunegrænse",
        "north": "N",
        "burglary_axis": "Indbrud →",
        "coverage_axis": "Nabohjælp →",
        "gap_title": "Indbrud og Nabohjælp",
        "gap_corner": "Mange indbrud,\nfå nabohjælpere",
        "distance": "Afstand mellem to indbrud",
        "time": "Tid mellem de to indbrud",
        "ratio": "Observeret / forventet antal par",
        "near_title": "Nærgentagelse: sker indbrud tæt på hinanden i tid og sted?",
        "significant": "* = flere par end ved tilfældighed (p < {a})",
        "no_cells": "Ingen celler kan vises",
    },
    "en": {
        "rate_shrunk": "Burglaries per 1,000 households a year (smoothed)",
        "rate_per_1000": "Burglaries per 1,000 households a year",
        "coverage_per_100": "Neighbourhood Watch members per 100 households",
        "gap_index": "Probability of many burglaries and few watch members",
        "gi_z": "Gi* value (z)",
        "households": "Households",
        "burglaries": "Burglaries",
        "hotspot": "Hotspot (Getis-Ord Gi*)",
        "hidden": "Cells with too few burglaries are hidden",
        "hidden_n": "Cells with fewer than {n} burglaries are hidden",
        "merged": "Large squares: 100 m cells with few burglaries pooled into 1 km",
        "boundary": "Municipal boundary",
        "north": "N",
        "burglary_axis": "Burglary →",
        "coverage_axis": "Neighbourhood Watch →",
        "gap_title": "Burglary and Neighbourhood Watch",
        "gap_corner": "Many burglaries,\nfew members",
        "distance": "Distance between two burglaries",
        "time": "Time between the two burglaries",
        "ratio": "Observed / expected number of pairs",
        "near_title": "Near repeats: do burglaries cluster in time and space?",
        "significant": "* = more pairs than by chance (p < {a})",
        "no_cells": "No cells can be shown",
    },
}

#: 3 x 3 bivariate palette (Stevens): rows burglary tercile low->high, columns coverage
#: tercile low->high. High burglary with low coverage (the gap) is the strong magenta.
BIVARIATE = np.array([
    ["#e8e8e8", "#ace4e4", "#5ac8c8"],
    ["#dfb0d6", "#a5add3", "#5698b9"],
    ["#be64ac", "#8c62aa", "#3b4994"],
])  # fmt: skip


def words(lang: str) -> dict[str, str]:
    """The maps' labels in ``lang`` ('da' or 'en')."""
    if lang not in _WORDS:
        raise ConfigError(f"lang must be one of {', '.join(map(repr, _WORDS))} (got {lang!r})")
    return _WORDS[lang]


def decimal_comma(axis, lang: str) -> None:
    """Tick labels with a decimal comma in Danish (``2,5``)."""
    if lang == "da":
        from matplotlib.ticker import FuncFormatter

        axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}".replace(".", ",")))


def _check_cells(cells: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in ["east", "north", "size_m", "suppressed", *columns]
               if c not in cells.columns]  # fmt: skip
    if missing:
        raise ConfigError(f"the cell table lacks {', '.join(missing)}; pass the .cells of "
                          "botrygt_eval.monitoring.local_monitoring(...)")  # fmt: skip


def _published(cells: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Cells that are not suppressed and have finite values, big cells first (drawn below)."""
    hidden = cells["suppressed"].fillna(True).astype(bool)
    ok = ~hidden
    for c in columns:
        ok &= np.isfinite(pd.to_numeric(cells[c], errors="coerce"))
    return cells[ok].sort_values("size_m", ascending=False, kind="stable")


def squares(cells: pd.DataFrame) -> np.ndarray:
    """``(n, 4, 2)`` corners of each cell (centre ``east, north``, side ``size_m``)."""
    e = cells["east"].to_numpy(dtype=float)[:, None]
    n = cells["north"].to_numpy(dtype=float)[:, None]
    h = cells["size_m"].to_numpy(dtype=float)[:, None] / 2
    xs = np.hstack([e - h, e + h, e + h, e - h])
    ys = np.hstack([n - h, n - h, n + h, n + h])
    return np.stack([xs, ys], axis=-1)


def _nice_length(width_m: float) -> float:
    """A 1-2-5 length in metres near a fifth of the map width."""
    target = max(width_m / 5, 1.0)
    base = 10 ** np.floor(np.log10(target))
    return float(max(m * base for m in (1, 2, 5) if m * base <= target))


def _scale_bar_and_north(ax, lang: str) -> None:
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for k in range(2):  # two halves, black and white
        ax.add_patch(Rectangle((bx + k * length / 2, by), length / 2, h, facecolor="k" if k == 0
                               else "white", edgecolor="k", lw=0.8, zorder=5))  # fmt: skip
    km = length / 1000
    text = f"{km:g} km".replace(".", ",") if lang == "da" else f"{km:g} km"
    ax.text(bx, by + 1.8 * h, "0", ha="center", va="bottom", fontsize=8, zorder=5)
    ax.text(bx + length, by + 1.8 * h, text, ha="center", va="bottom", fontsize=8, zorder=5)
    ax.annotate(words(lang)["north"], xy=(0.95, 0.97), xytext=(0.95, 0.86),
                xycoords="axes fraction", ha="center", va="center", fontsize=11, weight="bold",
                arrowprops=dict(arrowstyle="-|>", color="k", lw=1.5), zorder=5)  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def _frame(ax, cells: pd.DataFrame, rings: list[np.ndarray]) -> None:
    """Set the extent from all cells (hidden ones too: where people live is not a count)."""
    pts = [squares(cells).reshape(-1, 2)] if len(cells) else []
    pts += rings
    if not pts:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        return
    xy = np.concatenate(pts)
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    pad = 0.06 * max(x1 - x0, y1 - y0, 1000.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - 2 * pad, y1 + pad)  # room for the scale bar


def _base(cells: pd.DataFrame, boundary, title: str, figsize=(7.5, 7.0), key: bool = False):
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    rings = read_boundary(boundary) if boundary is not None else []
    fig = Figure(figsize=figsize, layout="constrained")
    if key:  # a second, narrow panel for the bivariate colour key
        grid = fig.add_gridspec(1, 2, width_ratios=[4.5, 1])
        ax = fig.add_subplot(grid[0])
        fig.add_subplot(grid[1])
    else:
        ax = fig.add_subplot()
    _frame(ax, cells, rings)
    if rings:
        line = LineCollection(rings, colors="0.2", linewidths=1.2, zorder=4)
        line.set_gid("boundary")
        ax.add_collection(line)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_color("0.7")
    ax.set_title(title)
    return fig, ax, bool(rings)


def _is_hot(cells: pd.DataFrame) -> np.ndarray:
    hot = cells["hotspot"]
    if hot.dtype == object:
        hot = hot.astype(str).str.lower().isin(["true", "hot", "1"])
    return hot.fillna(False).astype(bool).to_numpy()


def _legend(ax, lang: str, hotspots: bool, boundary: bool, threshold: int | None,
            mixed: bool = False) -> None:  # fmt: skip
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    w = words(lang)
    handles = []
    if hotspots:
        handles.append(Patch(facecolor="none", edgecolor="black", lw=1.8, label=w["hotspot"]))
    if boundary:
        handles.append(Line2D([], [], color="0.2", lw=1.2, label=w["boundary"]))
    hidden = w["hidden_n"].format(n=threshold) if threshold else w["hidden"]
    handles.append(Patch(facecolor="white", edgecolor="0.7", label=hidden))
    if mixed:
        handles.append(Patch(facecolor="0.85", edgecolor="0.85", label=w["merged"]))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01),
              ncols=2 if mixed else 3, fontsize=8, frameon=False)  # fmt: skip


def cell_map(
    cells: pd.DataFrame,
    value: str,
    *,
    title: str,
    label: str | None = None,
    lang: str = "da",
    boundary: str | Path | dict | None = None,
    cmap: str = "YlOrRd",
    vmin: float | None = None,
    vmax: float | None = None,
    threshold: int | None = None,
):
    """Grid cells coloured by ``cells[value]``; suppressed cells are not drawn at all.

    Hotspot cells (``hotspot`` column) get a black outline; ``boundary`` is a GeoJSON file
    (or parsed object) with the kommune outline. ``threshold`` only words the note on
    hidden cells. Returns a matplotlib ``Figure`` with a colour bar, scale bar and north arrow.
    """
    from matplotlib.collections import PolyCollection

    w = words(lang)
    _check_cells(cells, [value])
    fig, ax, has_boundary = _base(cells, boundary, title)
    shown = _published(cells, [value])
    vals = shown[value].to_numpy(dtype=float)
    coll = PolyCollection(squares(shown), array=vals, cmap=cmap, edgecolors="face",
                          linewidths=0.2, zorder=2)  # fmt: skip
    if len(vals):
        lo = float(np.min(vals)) if vmin is None else vmin
        hi = float(np.max(vals)) if vmax is None else vmax
        if vmin is None and lo >= 0:
            lo = 0.0  # counts and rates: start the scale at zero
        if hi - lo <= 1e-9 * max(abs(hi), 1.0):  # (almost) one value: a readable scale
            hi = lo + max(abs(lo), 1.0)
        coll.set_clim(lo, hi)
    coll.set_gid("cells")
    ax.add_collection(coll)
    hot = _draw_hotspots(ax, shown)
    if not len(shown):
        ax.text(0.5, 0.5, w["no_cells"], transform=ax.transAxes, ha="center", color="0.4")
    bar = fig.colorbar(coll, ax=ax, label=label or w.get(value, value), shrink=0.7, pad=0.02)
    decimal_comma(bar.ax.yaxis, lang)
    _legend(ax, lang, bool(len(hot)), has_boundary, threshold, shown["size_m"].nunique() > 1)
    _scale_bar_and_north(ax, lang)
    return fig


def _draw_hotspots(ax, shown: pd.DataFrame) -> pd.DataFrame:
    """Outline the shown hotspot cells in black (gid "hotspots"); returns those cells."""
    from matplotlib.collections import PolyCollection

    hot = shown[_is_hot(shown)] if "hotspot" in shown else shown.iloc[:0]
    if len(hot):
        ring = PolyCollection(squares(hot), facecolors="none", edgecolors="black",
                              linewidths=1.8, zorder=3)  # fmt: skip
        ring.set_gid("hotspots")
        ax.add_collection(ring)
    return hot


def _terciles(x: np.ndarray) -> np.ndarray:
    """Class 0, 1, 2 by the terciles of ``x`` (ties go to the lower class)."""
    cuts = np.quantile(x, [1 / 3, 2 / 3]) if len(x) else np.array([0.0, 0.0])
    return np.searchsorted(cuts, x, side="left").clip(0, 2)


def gap_map(
    cells: pd.DataFrame,
    *,
    title: str | None = None,
    kind: str = "index",
    lang: str = "da",
    boundary: str | Path | dict | None = None,
    threshold: int | None = None,
):
    """Where burglary is high and Nabohjælp coverage low.

    ``kind="index"``: the gap index (posterior probability that a cell's burglary rate is
    above the median cell and its coverage below the median), on a fixed 0-1 scale.
    ``kind="bivariate"``: 3 x 3 classes of smoothed burglary rate x coverage (terciles of
    the shown cells), with the high-burglary, low-coverage corner in strong magenta.
    """
    w = words(lang)
    if kind == "index":
        return cell_map(cells, "gap_index", title=title or w["gap_title"], lang=lang,
                        boundary=boundary, cmap="PuRd", vmin=0.0, vmax=1.0,
                        threshold=threshold)  # fmt: skip
    if kind != "bivariate":
        raise ConfigError(f"kind must be 'index' or 'bivariate' (got {kind!r})")
    from matplotlib.collections import PolyCollection

    _check_cells(cells, ["rate_shrunk", "coverage_per_100"])
    fig, ax, has_boundary = _base(cells, boundary, title or w["gap_title"], figsize=(8.6, 7.0),
                                  key=True)  # fmt: skip
    shown = _published(cells, ["rate_shrunk", "coverage_per_100"])
    b = _terciles(shown["rate_shrunk"].to_numpy(dtype=float))
    c = _terciles(shown["coverage_per_100"].to_numpy(dtype=float))
    coll = PolyCollection(squares(shown), facecolors=BIVARIATE[b, c], edgecolors="face",
                          linewidths=0.2, zorder=2)  # fmt: skip
    coll.set_gid("cells")
    ax.add_collection(coll)
    hot = _draw_hotspots(ax, shown)
    key = fig.axes[1]
    key.imshow(np.array([[_rgb(c) for c in row] for row in BIVARIATE]), origin="lower")
    key.set_xticks([])
    key.set_yticks([])
    key.set_xlabel(w["coverage_axis"], fontsize=8)
    key.set_ylabel(w["burglary_axis"], fontsize=8)
    key.annotate(w["gap_corner"], xy=(0, 2), xytext=(0.5, 3.3), fontsize=7, ha="center",
                 arrowprops=dict(arrowstyle="->", lw=0.8))  # fmt: skip
    _legend(ax, lang, bool(len(hot)), has_boundary, threshold, shown["size_m"].nunique() > 1)
    _scale_bar_and_north(ax, lang)
    return fig


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(hex_colour)


def _ordered(values: pd.Series) -> list:
    """Band labels from near to far: categorical order, else by the first number in the label
    (``"100-200 m"``) with ``"> 800 m"`` last; table order if a label has no number."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [c for c in values.cat.categories if c in set(values)]
    labels = list(pd.unique(values))
    first = pd.Series(labels, dtype=str).str.extract(r"(\d+(?:[.,]\d+)?)")[0]
    if first.isna().any():
        return labels
    start = first.str.replace(",", ".").astype(float).to_numpy()
    beyond = pd.Series(labels, dtype=str).str.strip().str.startswith((">", "≥", "over"))
    key = np.where(beyond.to_numpy(), np.inf, start)
    return [labels[i] for i in np.argsort(key, kind="stable")]


def near_repeat_figure(table: pd.DataFrame, *, lang: str = "da", alpha: float = 0.05,
                       title: str | None = None):  # fmt: skip
    """Heatmap of observed/expected burglary pairs by distance band x time band (Knox).

    Above 1 (red): more pairs close in space and time than if the dates were shuffled;
    cells with ``p_value < alpha`` are starred. Returns a matplotlib ``Figure``.
    """
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure

    w = words(lang)
    need = ["distance_band", "time_band", "ratio", "p_value"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ConfigError(f"the near-repeat table lacks {', '.join(missing)}; pass the "
                          ".near_repeat of botrygt_eval.monitoring.local_monitoring(...)")  # fmt: skip
    d_order, t_order = _ordered(table["distance_band"]), _ordered(table["time_band"])
    ratio = table.pivot(index="distance_band", columns="time_band", values="ratio")
    ratio = ratio.reindex(index=d_order, columns=t_order)
    pval = table.pivot(index="distance_band", columns="time_band", values="p_value")
    pval = pval.reindex(index=d_order, columns=t_order)
    r = ratio.to_numpy(dtype=float)
    fig = Figure(figsize=(1.3 * len(t_order) + 3.0, 0.7 * len(d_order) + 2.2),
                 layout="constrained")  # fmt: skip
    ax = fig.add_subplot()
    finite = r[np.isfinite(r)]
    span = max(float(np.max(np.abs(finite - 1))) if len(finite) else 0.5, 0.25)
    norm = TwoSlopeNorm(vcenter=1.0, vmin=max(1 - span, 0.0), vmax=1 + span)
    img = ax.imshow(np.ma.masked_invalid(r), cmap="RdBu_r", norm=norm, aspect="auto")
    # the test is one-sided (an excess); a ratio that prints as 1,00 gets no star
    sig = (pval.to_numpy(dtype=float) < alpha) & (np.round(r, 2) > 1)
    for (i, j), v in np.ndenumerate(r):
        if not np.isfinite(v):
            continue
        text = f"{v:.2f}" + ("*" if sig[i, j] else "")
        text = text.replace(".", ",") if lang == "da" else text
        ink = "white" if abs(v - 1) > 0.6 * span else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=9, color=ink,
                weight="bold" if sig[i, j] else "normal")  # fmt: skip
    t_labels = [str(t) for t in t_order]
    if lang == "en":  # the Knox table labels its time bands in Danish ("0-7 dage")
        t_labels = [x.replace("dage", "days") for x in t_labels]
    ax.set_xticks(range(len(t_order)), t_labels, fontsize=8)
    ax.set_yticks(range(len(d_order)), [str(d) for d in d_order], fontsize=8)
    ax.set_xlabel(w["time"])
    ax.set_ylabel(w["distance"])
    ax.set_title(title or w["near_title"], fontsize=10)
    decimal_comma(fig.colorbar(img, ax=ax, label=w["ratio"], shrink=0.85).ax.yaxis, lang)
    a = f"{alpha:g}".replace(".", ",") if lang == "da" else f"{alpha:g}"
    fig.text(0.01, 0.0, w["significant"].format(a=a), fontsize=8, color="0.3", va="bottom")
    return fig
