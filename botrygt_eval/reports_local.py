"""Local monitoring, media coverage and the national tile map in the reports (issue #11).

The report templates call one function per section: :func:`show_local_monitoring` (kommune
report, only when the workspace has local data for the kommune), :func:`show_media_series`
(when the workspace has an article export) and :func:`show_tile_map` (national report).
Each saves its figures and aggregate tables through the report's ``ReportOutput`` and
displays them with plain-language text. Only published aggregates are shown: cells under
the disclosure threshold are hidden, never drawn.

The display text is in :data:`TEXT`, one id per message with Danish and English, in the
same shape as :mod:`botrygt_eval.report_text`'s catalogue so the two can be merged.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.errors import ReportError

TEXT: dict[str, dict[str, str]] = {
    "local.h": {"da": "Lokal overvågning", "en": "Local monitoring"},
    "local.intro": {
        "da": "Kortene viser anmeldte indbrud i boliger i kommunen på Danmarks Statistiks "
              "kvadratnet ({size}), for de seneste {n_q} kvartaler ({first}–{last}). "
              "Indbrudsraten er udglattet: i kvadrater med få husstande trækkes tallet mod "
              "kommunens gennemsnit, så et enkelt indbrud ikke får et lille område til at se "
              "farligt ud. **Kvadrater med færre end {threshold} indbrud er skjult** (hvide), "
              "fordi et indbrud på en adresse er en personoplysning; derfor har kortet huller.",
        "en": "The maps show reported residential burglaries in the municipality on the "
              "Statistics Denmark square grid ({size}), for the last {n_q} quarters "
              "({first}–{last}). The burglary rate is smoothed: in squares with few households "
              "it is pulled towards the municipal average, so one burglary does not make a small "
              "area look dangerous. **Squares with fewer than {threshold} burglaries are "
              "hidden** (white), because a burglary at an address is personal data; hence the "
              "gaps in the map.",
    },
    "local.counts": {
        "da": "- {burglaries} indbrud i {households} husstande: {rate} indbrud pr. 1.000 "
              "husstande pr. år.\n- {shown} af {cells} kvadrater vises; {hidden} er skjulte "
              "(de rummer {hidden_burglaries} af indbruddene).\n- {n_hot} kvadrater er hotspots.",
        "en": "- {burglaries} burglaries in {households} households: {rate} burglaries per "
              "1,000 households a year.\n- {shown} of {cells} squares are shown; {hidden} are "
              "hidden (they hold {hidden_burglaries} of the burglaries).\n- {n_hot} squares "
              "are hotspots.",
    },
    "local.rate_title": {"da": "Indbrud pr. 1.000 husstande pr. år (udglattet), {navn}",
                         "en": "Burglaries per 1,000 households a year (smoothed), {navn}"},
    "local.hotspot_note": {
        "da": "Sort kant: **hotspot**, et område hvor indbrudsraten sammen med nabokvadraterne "
              "er markant højere end i resten af kommunen i flere af de seneste kvartaler "
              "(Getis-Ord Gi*, justeret for, at mange kvadrater testes på én gang).",
        "en": "Black outline: **hotspot**, an area where the burglary rate, together with the "
              "neighbouring squares, is markedly above the rest of the municipality in several "
              "of the last quarters (Getis-Ord Gi*, adjusted for testing many squares at once).",
    },
    "local.gap_title": {"da": "Mange indbrud, få nabohjælpere: {navn}",
                        "en": "Many burglaries, few Neighbourhood Watch members: {navn}"},
    "local.gap_text": {
        "da": "Kortet viser for hvert kvadrat sandsynligheden for, at det både har flere indbrud "
              "og færre nabohjælpere pr. husstand end det typiske kvadrat i kommunen. Mørke "
              "kvadrater er oplagte steder at rekruttere til Nabohjælp.",
        "en": "For each square, the map shows the probability that it has both more burglaries "
              "and fewer Neighbourhood Watch members per household than the typical square in "
              "the municipality. Dark squares are obvious places to recruit members.",
    },
    "local.h_hot": {"da": "Hotspots", "en": "Hotspots"},
    "local.no_hot": {"da": "Ingen viste kvadrater er hotspots i perioden.",
                     "en": "No shown square is a hotspot in the period."},
    "local.h_near": {"da": "Nærgentagelse", "en": "Near repeats"},
    "local.near_text": {
        "da": "Efter et indbrud er naboerne ofte i øget risiko i de følgende uger. Figuren tæller "
              "par af indbrud efter afstand og tid mellem dem og sammenligner med det antal, man "
              "ville forvente, hvis tidspunkterne var tilfældige. Over 1 (rød) betyder flere par "
              "end ventet; * markerer, at forskellen næppe er tilfældig. Mange par tæt på "
              "hinanden i tid og sted taler for at advare naboerne hurtigt efter et indbrud.",
        "en": "After a burglary, the neighbours are often at higher risk for some weeks. The "
              "figure counts pairs of burglaries by the distance and time between them and "
              "compares with the number expected if the dates were random. Above 1 (red) means "
              "more pairs than expected; * marks a difference unlikely to be chance. Many pairs "
              "close in time and space argue for warning the neighbours soon after a burglary.",
    },
    "local.none": {"da": "Kommunen har ingen lokale data (geokodede indbrud) i arbejdsmappen.",
                   "en": "The workspace holds no local data (geocoded burglaries) for this "
                         "municipality."},
    "media.h": {"da": "Mediedækning af indbrud", "en": "Media coverage of burglary"},
    "media.text": {
        "da": "Andelen af artikler om indbrud, der er konstruktive (giver råd, fortæller om "
              "forebyggelse, Nabohjælp eller Bo trygt), år for år med 95 %-interval, for hele "
              "landet og kommunen. Artiklerne er kodet automatisk med en ordliste. År med færre "
              "end {min_n} artikler om indbrud vises ikke som andel.",
        "en": "The share of burglary articles that are constructive (give advice, report on "
              "prevention, Neighbourhood Watch or Bo trygt), year by year with a 95% interval, "
              "for the country and the municipality. Articles are coded automatically with a "
              "phrase list. Years with fewer than {min_n} burglary articles show no share.",
    },
    "tile.h": {"da": "Indbrud i hver kommune", "en": "Burglary in each municipality"},
    "tile.title": {"da": "Ændring i indbrud pr. 1.000 husstande, {first}–{last}",
                   "en": "Change in burglaries per 1,000 households, {first}–{last}"},
    "tile.label": {"da": "Ændring (%); hvid = hele landet ({national})",
                   "en": "Change (%); white = Denmark ({national})"},
    "tile.partner": {"da": "Bo trygt-partnerskab", "en": "Bo trygt partnership"},
    "tile.text": {
        "da": "Hver firkant er en kommune, placeret omtrent hvor den ligger (alle lige store, "
              "så også små kommuner kan ses). Farven er ændringen i anmeldte indbrud pr. "
              "husstand fra {first} (året før det første partnerskab) til {last}, målt mod hele "
              "landet, hvor ændringen var {national}: hvid er som landet, blå et større fald, "
              "rød et mindre fald eller en stigning. Sort kant: kommunen har et Bo "
              "trygt-partnerskab. Kortet viser udviklingen, ikke partnerskabets effekt (den "
              "står i afsnittet om effekter). Skraverede kommuner havde færre end {min_n} "
              "indbrud i et af årene, for få til at sige noget om en ændring.",
        "en": "Each square is a municipality, placed roughly where it lies (all the same size, "
              "so small municipalities show too). The colour is the change in reported "
              "burglaries per household from {first} (the year before the first partnership) "
              "to {last}, against the whole country, where it was {national}: white is like the "
              "country, blue a larger fall, red a smaller fall or a rise. Black outline: the "
              "municipality has a Bo trygt partnership. The map shows the trend, not the "
              "partnership's effect (see the section on effects). Hatched municipalities had "
              "fewer than {min_n} burglaries in one of the years, too few to say anything "
              "about a change.",
    },
    "col.cell_id": {"da": "Kvadrat", "en": "Square"},
    "col.households": {"da": "Husstande", "en": "Households"},
    "col.burglaries": {"da": "Indbrud", "en": "Burglaries"},
    "col.rate_shrunk": {"da": "Indbrud pr. 1.000 husstande pr. år (udglattet)",
                        "en": "Burglaries per 1,000 households a year (smoothed)"},
    "col.rate_low": {"da": "90 %-interval fra", "en": "90% interval from"},
    "col.rate_high": {"da": "90 %-interval til", "en": "90% interval to"},
    "col.coverage_per_100": {"da": "Nabohjælpere pr. 100 husstande",
                             "en": "Watch members per 100 households"},
    "col.gap_pct": {"da": "Sandsynlighed (%): mange indbrud, få nabohjælpere",
                    "en": "Probability (%): many burglaries, few members"},
}  # fmt: skip

HOTSPOT_COLUMNS = ("cell_id", "households", "burglaries", "rate_shrunk", "rate_low",
                   "rate_high", "coverage_per_100", "gap_pct")  # fmt: skip


def t(key: str, lang: str = "da", **fmt) -> str:
    """The text of ``key`` in ``lang`` with its ``{placeholders}`` filled."""
    if lang not in ("da", "en"):
        raise ReportError(f"lang must be 'da' or 'en' (got {lang!r})")
    if key not in TEXT:
        raise ReportError(f"no report text {key!r} in botrygt_eval/reports_local.py TEXT")
    text = TEXT[key][lang]
    return text.format(**fmt) if fmt else text


def _num(x: float, lang: str, digits: int = 0) -> str:
    text = f"{float(x):,.{digits}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "da" else text


# --------------------------------------------------------------------------- local monitoring
def has_local_data(data_dir: str | Path, kommune: int) -> bool:
    """Whether ``<data_dir>/lokal/`` holds geocoded burglaries and households for ``kommune``."""
    folder = Path(data_dir) / "lokal"
    need = [folder / f for f in ("indbrud.csv", "husstande.csv", "nabohjaelp_celler.csv")]
    if not all(p.is_file() for p in need):
        return False
    for path in need[:2]:
        codes = pd.read_csv(path, usecols=["kommune_kode"], sep=None, engine="python")
        if not pd.to_numeric(codes["kommune_kode"], errors="coerce").eq(kommune).any():
            return False
    return True


def hotspot_table(cells: pd.DataFrame) -> pd.DataFrame:
    """The published hotspot cells, highest smoothed rate first (hidden cells never listed)."""
    hot = cells[cells["hotspot"].astype(bool) & ~cells["suppressed"].astype(bool)]
    hot = hot.assign(gap_pct=100 * hot["gap_index"],
                     households=hot["households"].round().astype("Int64"),
                     burglaries=hot["burglaries"].round().astype("Int64"))  # fmt: skip
    out = hot[list(HOTSPOT_COLUMNS)].sort_values("rate_shrunk", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def show_local_monitoring(out, data_dir: str | Path, kommune: int, *, seed: int,
                          lang: str = "da", threshold: int = 5, cell: str = "1km",
                          boundary: str | Path | None = None):  # fmt: skip
    """The kommune report's local monitoring section (nothing when there is no local data).

    Runs :func:`botrygt_eval.monitoring.local_monitoring` on the workspace, then shows the
    smoothed burglary map with hotspots, the gap map, the hotspot table and the near-repeat
    figure; saves each under ``lokal_*``. Returns the result (or ``None``).
    """
    from botrygt_eval.monitoring import local_monitoring
    from botrygt_eval.monitoring.maps import cell_map, gap_map, near_repeat_figure
    from botrygt_eval.reference import kommune_name
    from botrygt_eval.reports_content import say, show_figure, show_table

    if not has_local_data(data_dir, kommune):
        return None
    res = local_monitoring(data_dir, kommune, cell=cell, threshold=threshold, seed=seed)
    s, cells, navn = res.summary, res.cells, kommune_name(kommune)
    say(f"## {t('local.h', lang)}")
    size = "1 km × 1 km" if cell == "1km" else "100 m × 100 m"
    say(t("local.intro", lang, size=size, n_q=len(s["quarters"]), first=s["quarters"][0],
          last=s["quarters"][-1], threshold=threshold))  # fmt: skip
    shown = ~cells["suppressed"].astype(bool)
    say(t("local.counts", lang, burglaries=_num(s["burglaries"], lang),
          households=_num(s["households"], lang), rate=_num(s["rate_per_1000"], lang, 1),
          shown=int(shown.sum()), cells=len(cells), hidden=int((~shown).sum()),
          hidden_burglaries=_num(s["burglaries_in_hidden_cells"], lang),
          n_hot=len(s["hotspots"])))  # fmt: skip
    kw = dict(lang=lang, boundary=boundary, threshold=threshold)
    fig = cell_map(cells, "rate_shrunk", title=t("local.rate_title", lang, navn=navn), **kw)
    show_figure(out.figure(fig, "lokal_indbrud"), t("local.rate_title", lang, navn=navn))
    say(t("local.hotspot_note", lang))
    fig = gap_map(cells, title=t("local.gap_title", lang, navn=navn), **kw)
    show_figure(out.figure(fig, "lokal_nabohjaelp"), t("local.gap_title", lang, navn=navn))
    say(t("local.gap_text", lang))
    published = cells.loc[shown, [c for c in cells.columns if c != "merged"]]
    out.table(published, "lokal_celler")
    say(f"### {t('local.h_hot', lang)}")
    hot = out.table(hotspot_table(cells), "lokal_hotspots")
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
    from botrygt_eval.media.pipeline import ARTICLES, analyse_media, has_media

    if not has_media(data_dir):
        return None
    folder = Path(cache_dir) / "media"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = {"articles": _sha256(Path(data_dir) / ARTICLES), "min_n": min_n}
    path, stamp_path = folder / "series.csv", folder / "series.json"
    if path.exists() and stamp_path.exists():
        if json.loads(stamp_path.read_text(encoding="utf-8")) == stamp:
            return pd.read_csv(path, dtype={"kommune_kode": "Int64"})
    series = analyse_media(data_dir, min_n=min_n).series
    tmp = folder / f"series.{os.getpid()}.tmp"  # batch workers may race: write, then rename
    series.to_csv(tmp, index=False)
    os.replace(tmp, path)
    stamp_path.write_text(json.dumps(stamp) + "\n", encoding="utf-8")
    return pd.read_csv(path, dtype={"kommune_kode": "Int64"})


def show_media_series(out, data_dir: str | Path, cache_dir: str | Path, kommune: int | None,
                      lang: str = "da", min_n: int = 10):  # fmt: skip
    """The constructive-coverage chart (nation and ``kommune``), when there is media data."""
    from botrygt_eval.media.plots import media_series_figure
    from botrygt_eval.reports_content import say, show_figure

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
    return series


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
    from botrygt_eval.monitoring.tilemap import tile_map
    from botrygt_eval.reports_content import say, show_figure

    signed = pd.to_datetime(partnerships["signed_date"]).dt.year
    base = int(signed.min()) - 1 if len(signed) else None
    change = rate_change_by_kommune(panel_year, year, min_n, first_year=base)
    first, last, nat = change.attrs["first"], change.attrs["last"], change.attrs["national"]
    national = f"{_num(nat, lang, 1)} %" if lang == "da" else f"{_num(nat, lang, 1)}%"
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
    return change
