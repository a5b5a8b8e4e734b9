"""Write a kommune's monitoring maps as PNG files (for ``botrygt-eval map --png``)."""

from __future__ import annotations

from pathlib import Path

from botrygt_eval.monitoring.maps import cell_map, gap_map, near_repeat_figure, words
from botrygt_eval.plots.style import mark_simulated
from botrygt_eval.reference import kommune_name

#: file name -> what it shows
MAP_FILES = {
    "kort_indbrud.png": "smoothed burglary rate per cell, hotspots outlined",
    "kort_nabohjaelp.png": "gap index: many burglaries and few Nabohjælp members",
    "naergentagelse.png": "near-repeat observed/expected by distance x time band",
}


def _save(fig, path: Path, simulated: bool) -> Path:
    if simulated:
        mark_simulated(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def write_map_pngs(result, out: str | Path, *, lang: str = "da",
                   boundary: str | Path | None = None, simulated: bool = False) -> list[Path]:  # fmt: skip
    """Draw the maps of a :class:`~botrygt_eval.monitoring.LocalMonitoring` into ``out``.

    Suppressed cells are not drawn (see :mod:`botrygt_eval.monitoring.maps`); a chart from
    simulated data carries the SIMULEREDE DATA banner. Returns the written paths.
    """

    w = words(lang)
    out = Path(out)
    navn = kommune_name(result.kommune_kode)
    threshold = result.overview.get("threshold")
    kw = dict(lang=lang, boundary=boundary, threshold=threshold)
    figs = [
        cell_map(result.cells, "rate_shrunk", title=f"{w['burglaries']}: {navn}", **kw),
        gap_map(result.cells, title=f"{w['gap_title']}: {navn}", **kw),
        near_repeat_figure(result.near_repeat, lang=lang),
    ]
    return [_save(f, out / name, simulated) for f, name in zip(figs, MAP_FILES, strict=True)]
