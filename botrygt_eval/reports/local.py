"""Local monitoring, media coverage and the national tile map in the reports (issue #11).

The report templates call one function per section: :func:`show_local_monitoring` (kommune
report, only when the workspace has local data for the kommune), :func:`show_media_series`
(when the workspace has an article export) and :func:`show_tile_map` (national report).
Each saves its figures and aggregate tables through the report's ``ReportOutput`` and
displays them with plain-language text. Only published aggregates are shown: cells under
the disclosure threshold are hidden, never drawn.

The display text is in :mod:`botrygt_eval.text.catalogue`'s catalogue (ids ``local.*``,
``media.*``, ``tile.*`` and the hotspot table's column headers).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.io.filecache import parse_once
from botrygt_eval.media.pipeline import ARTICLES, analyse_media, has_media
from botrygt_eval.media.plots import media_series_figure
from botrygt_eval.media.series import pooled_periods
from botrygt_eval.monitoring import local_monitoring
from botrygt_eval.monitoring.local import area_of_cells, load_area_lookup
from botrygt_eval.monitoring.maps import cell_map, gap_map, near_repeat_figure
from botrygt_eval.monitoring.tilemap import tile_map, tile_positions
from botrygt_eval.reference import kommune_name
from botrygt_eval.reports.output import say, show_figure, show_table
from botrygt_eval.reports.sentences import interval_text
from botrygt_eval.text.catalogue import cols, num, percent, t

HOTSPOT_COLUMNS = ("nr", "placering", "households", "burglaries", "rate_shrunk", "rate_low",
                   "rate_high", "coverage_per_100", "gap_text")  # fmt: skip
_COMPASS = ("east", "northeast", "north", "northwest", "west", "southwest", "south", "southeast")


# --------------------------------------------------------------------------- local monitoring
def has_local_data(data_dir: str | Path, kommune: int) -> bool:
    """Whether ``<data_dir>/lokal/`` holds geocoded burglaries and households for ``kommune``."""
    folder = Path(data_dir) / "lokal"
    need = [folder / f for f in ("indbrud.csv", "husstande.csv", "nabohjaelp_celler.csv")]
    if not all(p.is_file() for p in need):
        return False
    return all(kommune in parse_once(path, _kommune_codes) for path in need[:2])


def _kommune_codes(path: Path) -> frozenset:
    codes = pd.read_csv(path, usecols=["kommune_kode"], sep=None, engine="python")
    v = pd.to_numeric(codes["kommune_kode"], errors="coerce").dropna()
    return frozenset(v[v.eq(v.round())].astype(int))


def place(east, north, centre: tuple[float, float], lang: str = "da") -> list[str]:
    """Where a cell lies, in words a reader can find: distance and compass direction from
    the kommune's centre (``"3 km nordøst for midten"``)."""
    dx, dy = np.asarray(east, float) - centre[0], np.asarray(north, float) - centre[1]
    km = np.hypot(dx, dy) / 1000
    sector = (np.round(np.degrees(np.arctan2(dy, dx)) / 45).astype(int)) % 8
    return [t("local.place_centre", lang) if d < 1 else
            t("local.place", lang, km=num(d, lang, 0), direction=t(f"compass.{_COMPASS[k]}", lang))
            for d, k in zip(km, sector, strict=True)]  # fmt: skip


def probability_text(p, lang: str = "da") -> list[str]:
    """A probability in % for a reader: never "100,0 %" or "0,0 %" (a shrunk estimate is
    never certain), but "over 99 %" / "under 1 %"."""
    out = []
    for v in np.asarray(p, float):
        if np.isnan(v):
            out.append("–")
        elif v > 99:
            out.append(t("local.over_99", lang))
        elif v < 1:
            out.append(t("local.under_1", lang))
        else:
            out.append(percent(v, lang, 0))
    return out


def hotspot_table(cells: pd.DataFrame, lang: str = "da",
                  areas: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """The published hotspot cells, highest smoothed rate first (hidden cells never listed),
    numbered as on the map and placed in words from the kommune's centre; with an area
    lookup (``cell_id, area``, e.g. postal districts) the area's name comes first."""

    hot = cells[cells["hotspot"].astype(bool) & ~cells["suppressed"].astype(bool)]
    hot = hot.sort_values("rate_shrunk", ascending=False, kind="stable").reset_index(drop=True)
    w = cells["households"].fillna(0).to_numpy(float)
    centre = (np.average(cells["east"], weights=w), np.average(cells["north"], weights=w))
    hot = hot.assign(nr=np.arange(1, len(hot) + 1), placering=place(hot["east"], hot["north"],
                     centre, lang), gap_text=probability_text(100 * hot["gap_index"], lang),
                     households=hot["households"].round().astype("Int64"),
                     burglaries=hot["burglaries"].round().astype("Int64"))  # fmt: skip
    if areas is not None and len(hot):
        name = area_of_cells(hot["cell_id"], areas).to_numpy()
        hot["placering"] = [p if pd.isna(a) else f"{a} ({p})"
                            for a, p in zip(name, hot["placering"], strict=True)]  # fmt: skip
    return hot[[*HOTSPOT_COLUMNS, "cell_id", "east", "north"]]


def number_hotspots(ax, hot: pd.DataFrame) -> None:
    """Write each hotspot's number beside its square on the map."""
    for nr, e, n in zip(hot["nr"], hot["east"], hot["north"], strict=True):
        ax.annotate(str(nr), (e, n), xytext=(6, 6), textcoords="offset points", fontsize=9,
                    weight="bold", color="black",
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="black", lw=0.6))  # fmt: skip


def show_local_monitoring(out, data_dir: str | Path, kommune: int, *, seed: int,
                          lang: str = "da", threshold: int = 5, cell: str = "1km",
                          boundary: str | Path | None = None):  # fmt: skip
    """The kommune report's local monitoring section (nothing when there is no local data).

    Runs :func:`botrygt_eval.monitoring.local_monitoring` on the workspace, then shows the
    smoothed burglary map with hotspots, the gap map, the hotspot table and the near-repeat
    figure; saves each under ``lokal_*``. Returns the result (or ``None``).
    """

    if not has_local_data(data_dir, kommune):
        return None
    res = local_monitoring(data_dir, kommune, cell=cell, threshold=threshold, seed=seed)
    s, cells, navn = res.overview, res.cells, kommune_name(kommune)
    say(f"## {t('local.h', lang)}")
    size = "1 km × 1 km" if cell == "1km" else "100 m × 100 m"
    say(t("local.intro", lang, size=size, n_q=len(s["quarters"]), first=s["quarters"][0],
          last=s["quarters"][-1], threshold=threshold))  # fmt: skip
    shown = ~cells["suppressed"].astype(bool)
    say(t("local.counts", lang, burglaries=num(s["burglaries"], lang, 0),
          households=num(s["households"], lang, 0), rate=num(s["rate_per_1000"], lang, 1),
          shown=int(shown.sum()), cells=len(cells), hidden=int((~shown).sum()),
          hidden_burglaries=num(s["burglaries_in_hidden_cells"], lang, 0),
          n_hot=len(s["hotspots"])))  # fmt: skip
    kw = dict(lang=lang, boundary=boundary, threshold=threshold)
    fig = cell_map(cells, "rate_shrunk", title=t("local.rate_title", lang, navn=navn), **kw)
    lookup = Path(data_dir) / "lokal" / "omraader.csv"
    areas = load_area_lookup(lookup) if lookup.is_file() else None
    hot = hotspot_table(cells, lang, areas)
    number_hotspots(fig.axes[0], hot)
    show_figure(out.figure(fig, "lokal_indbrud"), t("local.rate_title", lang, navn=navn))
    say(t("local.hotspot_note", lang))
    fig = gap_map(cells, title=t("local.gap_title", lang, navn=navn), **kw)
    show_figure(out.figure(fig, "lokal_nabohjaelp"), t("local.gap_title", lang, navn=navn))
    say(t("local.gap_text", lang))
    published = cells.loc[shown, [c for c in cells.columns if c != "merged"]]
    out.table(published, "lokal_celler")
    say(f"### {t('local.h_hot', lang)}")
    out.table(hot, "lokal_hotspots")
    if len(hot):
        show_table(hot, {c: t(f"col.{c}", lang) for c in HOTSPOT_COLUMNS}, lang=lang)
    else:
        say(t("local.no_hot", lang))
    say(f"### {t('local.h_near', lang)}")
    fig = near_repeat_figure(res.near_repeat, lang=lang)
    show_figure(out.figure(fig, "lokal_naergentagelse"), t("local.h_near", lang))
    out.table(res.near_repeat, "lokal_naergentagelse")
    say(t("local.near_text", lang))
    return res


# --------------------------------------------------------------------------- media
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def media_series_cached(data_dir: str | Path, cache_dir: str | Path,
                        min_n: int = 10) -> pd.DataFrame | None:  # fmt: skip
    """The media series of every kommune (and the nation), coded once per article export.

    Kept in ``<cache_dir>/media/series.csv`` with the export's hash beside it, so a batch
    of 98 kommune reports codes the articles once. ``None`` when there is no export.
    """

    if not has_media(data_dir):
        return None
    folder = Path(cache_dir) / "media"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = {"articles": parse_once(Path(data_dir) / ARTICLES, _sha256), "min_n": min_n}
    path, stamp_path = folder / "series.csv", folder / "series.json"
    if path.exists() and stamp_path.exists():
        if json.loads(stamp_path.read_text(encoding="utf-8")) == stamp:
            return parse_once(path, _read_series).copy()
    series = analyse_media(data_dir, min_n=min_n).series
    tmp = folder / f"series.{os.getpid()}.tmp"  # batch workers may race: write, then rename
    series.to_csv(tmp, index=False)
    os.replace(tmp, path)
    stamp_path.write_text(json.dumps(stamp) + "\n", encoding="utf-8")
    return parse_once(path, _read_series).copy()


def _read_series(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"kommune_kode": "Int64"})


def show_media_series(out, data_dir: str | Path, cache_dir: str | Path, kommune: int | None,
                      lang: str = "da", min_n: int = 10):  # fmt: skip
    """The constructive-coverage chart (nation and ``kommune``), when there is media data."""

    series = media_series_cached(data_dir, cache_dir, min_n)
    if series is None:
        return None
    keep = series["scope"].eq("national")
    if kommune is not None:
        keep |= series["kommune_kode"].eq(kommune).fillna(False)
    series = series[keep].reset_index(drop=True)
    say(f"## {t('media.h', lang)}")
    fig = media_series_figure(series, lang=lang)
    show_figure(out.figure(fig, "medier_konstruktiv"), t("media.h", lang))
    out.table(series, "medier_konstruktiv")
    say(t("media.text", lang, min_n=min_n))
    if kommune is not None:
        _show_pooled_media(out, series[series["scope"].ne("national")], lang, min_n)
    return series


def _show_pooled_media(out, local: pd.DataFrame, lang: str, min_n: int) -> None:
    """The kommune's constructive share over pooled years (few articles a year)."""

    pooled = pooled_periods(local, min_n)
    if pooled.empty:
        say(t("media.kommune_too_few", lang, n=int(local["n_burglary"].sum()), min_n=min_n))
        return
    pooled["periode"] = [f"{a}–{b}" if a != b else str(a)
                         for a, b in zip(pooled["first_year"], pooled["last_year"], strict=True)]  # fmt: skip
    pooled["andel"] = [interval_text(100 * s, 100 * lo, 100 * hi, unit=" %", lang=lang)
                       for s, lo, hi in zip(pooled["share"], pooled["ci_low"], pooled["ci_high"],
                                            strict=True)]  # fmt: skip
    out.table(pooled, "medier_konstruktiv_samlet")
    say(t("media.kommune_pooled", lang, min_n=min_n))
    show_table(pooled, cols(lang, "periode", "n_burglary", "andel"), lang=lang)


# --------------------------------------------------------------------------- national tile map
def rate_change_by_kommune(panel_year: pd.DataFrame, year: int, min_n: int = 10,
                           first_year: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Each kommune's % change in burglaries per 1,000 households, ``first_year`` (default
    the panel's first) to ``year`` (or the last year before it with data).

    ``too_few`` flags kommuner with fewer than ``min_n`` burglaries in either year: their
    change is mostly noise and the tile map hides it. ``attrs["national"]`` is the change
    of the pooled national rate (all burglaries over all households).
    """
    d = panel_year[panel_year["year"].le(year)]
    first, last = int(d["year"].min()), int(d["year"].max())
    if first_year is not None:
        first = min(max(int(first_year), first), last)
    wide = d[d["year"].isin([first, last])].pivot_table(
        index="kommune_kode", columns="year", values=["burglaries", "households"], aggfunc="sum"
    )
    rate = 1000 * wide["burglaries"] / wide["households"]
    out = pd.DataFrame({
        "rate_first": rate[first], "rate_last": rate[last],
        "change_pct": 100 * (rate[last] / rate[first] - 1),
        "too_few": (wide["burglaries"].min(axis=1) < min_n).to_numpy(),
    })  # fmt: skip
    total = wide.sum()
    national = 100 * (total[("burglaries", last)] / total[("households", last)]
                      / (total[("burglaries", first)] / total[("households", first)]) - 1)  # fmt: skip
    out.attrs.update(first=first, last=last, national=float(national))
    out.index = out.index.astype(int)
    return out


def show_tile_map(out, panel_year: pd.DataFrame, partnerships: pd.DataFrame, year: int,
                  lang: str = "da", min_n: int = 10):  # fmt: skip
    """The national report's tile map of the change in burglary rate, partnerships outlined."""

    signed = pd.to_datetime(partnerships["signed_date"]).dt.year
    base = int(signed.min()) - 1 if len(signed) else None
    change = rate_change_by_kommune(panel_year, year, min_n, first_year=base)
    first, last, nat = change.attrs["first"], change.attrs["last"], change.attrs["national"]
    national = percent(nat, lang, 1)
    say(f"## {t('tile.h', lang)}")
    title = t("tile.title", lang, first=first, last=last)
    values = change["change_pct"].replace([np.inf, -np.inf], np.nan)
    fig = tile_map(values, title=title, label=t("tile.label", lang, national=national),
                   cmap="RdBu_r", center=nat, suppressed=change.index[change["too_few"]],
                   highlight=partnerships["kommune_kode"],
                   highlight_label=t("tile.partner", lang), lang=lang)  # fmt: skip
    show_figure(out.figure(fig, "kommuner_aendring"), title)
    out.table(change.reset_index(), "kommuner_aendring")
    say(t("tile.text", lang, first=first, last=last, min_n=min_n, national=national))
    say(tile_key(lang))
    return change


def tile_key(lang: str = "da") -> str:
    """The key of the tile map's three-letter codes, alphabetically by code, folded away
    under a summary line (HTML ``<details>``) so it does not push the text down."""

    tiles = tile_positions().sort_values("abbrev")
    items = " · ".join(f"<b>{a}</b> {kommune_name(int(k))}"
                       for a, k in zip(tiles["abbrev"], tiles["kommune_kode"], strict=True))  # fmt: skip
    return f"<details><summary>{t('tile.key', lang)}</summary><p>{items}</p></details>"
