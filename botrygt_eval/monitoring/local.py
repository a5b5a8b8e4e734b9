"""The one high-level entry point: a kommune's suppressed cell table, hotspots and near-repeat."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.errors import ConfigError, InputFileError
from botrygt_eval.io._common import (
    SET_ASIDE,
    SOURCE_ROW,
    read_delimited,
    read_text,
    sniff_separator,
)
from botrygt_eval.io.monitoring import (
    keep_kommune,
    load_cell_households,
    load_cell_nabohjaelp,
    load_geo_burglaries,
)
from botrygt_eval.monitoring import shrinkage as eb
from botrygt_eval.monitoring.aggregate import add_rates, area_counts, cell_counts, quarter_labels
from botrygt_eval.monitoring.hotspots import (
    bh_adjust,
    gi_star,
    hot_periods,
    knox_table,
    persistent_hotspots,
    queen_neighbours,
)
from botrygt_eval.monitoring.maps import cell_map, words
from botrygt_eval.monitoring.suppression import published_ok, suppress_areas, suppress_cells
from botrygt_eval.options import DEFAULT_SEED
from botrygt_eval.reference import to_kommune_kode
from botrygt_eval.reference.grid import cell_metres, parent_ids, parse_cell_ids
from botrygt_eval.results import ResultMixin

#: columns of :attr:`LocalMonitoring.cells`, in order (docs/MONITORING.md)
CELL_COLUMNS = [
    "cell_id",
    "east",
    "north",
    "size_m",
    "households",
    "burglaries",
    "nabohjaelpere",
    "rate_per_1000",
    "rate_shrunk",
    "rate_low",
    "rate_high",
    "coverage_per_100",
    "gap_index",
    "gi_z",
    "gi_q",
    "hotspot",
    "suppressed",
]

CellSize = Literal["100m", "1km"]


@dataclass(frozen=True)
class LocalMonitoring(ResultMixin):
    """A kommune's monitoring result: only aggregates that passed disclosure control.

    ``cells``: one row per published (or hidden) grid cell, columns :data:`CELL_COLUMNS`
    (``east``/``north`` are the cell centre in ETRS89/UTM32N metres); hidden cells
    carry ``suppressed=True`` and no counts. ``near_repeat``: the Knox table per
    distance x time band. ``overview``: counts, settings and the hotspot list (the JSON
    of :meth:`to_dict` adds the Knox table).
    """

    kommune_kode: int
    cells: pd.DataFrame
    near_repeat: pd.DataFrame
    overview: dict = field(default_factory=dict)

    frame_columns = ("cell_id", "suppressed")

    def to_frame(self) -> pd.DataFrame:
        """The published (and hidden) cells, columns :data:`CELL_COLUMNS`."""
        return self.cells.copy()

    def _payload(self) -> dict:
        return {**self.overview, "near_repeat": self.near_repeat}

    def summary(self) -> str:
        s = self.overview
        return (
            f"Local monitoring, kommune {self.kommune_kode}: {s.get('burglaries')} burglaries; "
            f"{s.get('cells_published')} cells published, {s.get('cells_hidden')} hidden "
            f"(< {s.get('threshold')} burglaries), {len(s.get('hotspots', []))} persistent "
            "hotspots"
        )

    def _draw(self, *, lang: str = "da", boundary=None):
        """The shrunk burglary rate per published cell (a map)."""
        title = f"{words(lang)['burglaries']}: {self.kommune_kode}"
        return cell_map(self.cells, "rate_shrunk", title=title, lang=lang, boundary=boundary,
                        threshold=self.overview.get("threshold"))  # fmt: skip


@dataclass(frozen=True)
class _Priors:
    rate: eb.GammaPrior
    coverage: eb.BetaPrior
    median_rate: float  # per household over the window
    median_coverage: float


def _priors(cells: pd.DataFrame) -> _Priors:
    y, x, n = (cells[c].to_numpy(float) for c in ("burglaries", "nabohjaelpere", "households"))
    rate, _, _, gprior = eb.shrink_rates(y, n)
    bprior = eb.beta_prior(x, n)
    use = n > 0
    cov = eb.coverage_shrunk(x, n, bprior)
    return _Priors(gprior, bprior, float(np.median(rate[use])), float(np.median(cov[use])))


def _estimates(table: pd.DataFrame, priors: _Priors, years: float, level: float) -> pd.DataFrame:
    """Raw and shrunk rates, coverage and the gap index of each row, from its counts."""
    y, x, n = (table[c].to_numpy(float) for c in ("burglaries", "nabohjaelpere", "households"))
    mean, low, high, _ = eb.shrink_rates(y, n, priors.rate, level)
    p_high = eb.prob_rate_above(y, n, priors.median_rate, priors.rate)
    p_low = eb.prob_coverage_below(x, n, priors.median_coverage, priors.coverage)
    scale = np.where(n > 0, 1000 / years, np.nan)  # no households: no rate to shrink
    return add_rates(table, years).assign(
        rate_shrunk=mean * scale,
        rate_low=low * scale,
        rate_high=high * scale,
        gap_index=np.where(n > 0, p_high * p_low, np.nan),
    )


def _period_rates(by_period: pd.DataFrame, households: np.ndarray) -> np.ndarray:
    """Shrunk burglary rate per household of each cell in each period (own prior per period)."""
    out = np.empty(by_period.shape)
    for j, col in enumerate(by_period.columns):  # a handful of quarters, not rows
        out[:, j] = eb.shrink_rates(by_period[col].to_numpy(float), households)[0]
    return out


def _hotspots(cells, by_period, alpha, k, m) -> pd.DataFrame:
    """Gi* on the shrunk rates of cells with households: whole window and per quarter."""
    study = cells["households"].to_numpy(float) > 0
    z = np.full(len(cells), np.nan)
    q = np.full(len(cells), np.nan)
    hot = np.zeros(len(cells), dtype=bool)
    n_hot = np.zeros(len(cells), dtype=np.int64)
    if study.sum() >= 3:
        nb = queen_neighbours(cells.loc[study, "cell_id"])
        hh = cells.loc[study, "households"].to_numpy(float)
        z_all = gi_star(cells.loc[study, "rate_shrunk"].to_numpy(float), nb)
        z[study] = z_all
        q[study] = bh_adjust(stats.norm.sf(z_all))
        z_t = gi_star(_period_rates(by_period.loc[study], hh), nb)
        sig = hot_periods(z_t, alpha)
        m_used = min(m, sig.shape[1])
        hot[study] = persistent_hotspots(sig, min(k, m_used), m_used)
        n_hot[study] = sig[:, -m_used:].sum(axis=1)
    return cells.assign(gi_z=z, gi_q=q, hotspot=hot, hot_periods=n_hot)


def _publish(cells, priors, years, threshold, level) -> pd.DataFrame:
    """Disclosure control; pooled 1 km rows get their estimates recomputed from the pool."""
    counts = cells[["cell_id", "burglaries", "households", "nabohjaelpere"]]
    table = suppress_cells(counts, threshold)
    if not published_ok(table, threshold):  # the guarantee, checked on every run
        raise RuntimeError("disclosure control failed: a published cell is below the threshold")
    same = ~table["merged"].to_numpy()
    by_id = cells.set_index("cell_id")
    out = table.loc[same, ["cell_id", "merged", "suppressed"]].join(
        by_id.drop(columns=["hot_periods"]), on="cell_id"
    )
    pooled = table.loc[~same]
    if len(pooled):
        centre = parse_cell_ids(pooled["cell_id"])
        est = _estimates(pooled.fillna({"burglaries": 0}), priors, years, level)
        est = est.assign(
            east=centre["east"].to_numpy(),
            north=centre["north"].to_numpy(),
            size_m=centre["size_m"].to_numpy(),
            gi_z=np.nan,
            gi_q=np.nan,
            hotspot=False,
        )
        out = pd.concat([out, est], ignore_index=True)
    hidden = out["suppressed"].to_numpy()
    values = [c for c in CELL_COLUMNS if c not in ("cell_id", "east", "north", "size_m")]
    values.remove("suppressed")
    values.remove("hotspot")
    out.loc[hidden, values] = np.nan
    out["hotspot"] = out["hotspot"].fillna(False).astype(bool) & ~hidden
    out["suppressed"] = hidden
    out = out.sort_values(["size_m", "cell_id"], kind="stable").reset_index(drop=True)
    return out[[*CELL_COLUMNS, "merged"]]


def load_local_inputs(
    workspace_dir: str | Path, kommune_kode: int, quarantine_dir: str | Path | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """The kommune's burglary points, households and members from ``<workspace>/lokal/``."""

    folder = Path(workspace_dir) / "lokal"
    if not folder.is_dir():
        raise InputFileError(
            f"{folder}: no lokal/ folder; put indbrud.csv, husstande.csv and "
            "nabohjaelp_celler.csv there (docs/DATA_FORMATS.md, 'Local monitoring')"
        )
    loaded = [
        load_geo_burglaries(folder / "indbrud.csv", quarantine_dir),
        load_cell_households(folder / "husstande.csv", quarantine_dir),
        load_cell_nabohjaelp(folder / "nabohjaelp_celler.csv", quarantine_dir),
    ]
    frames = [keep_kommune(r, kommune_kode) for r in loaded]
    if frames[1].empty:
        raise InputFileError(
            f"{folder / 'husstande.csv'}: no households for kommune {kommune_kode}; "
            "the file must hold this kommune's cells"
        )
    return (*frames, [r.message() for r in loaded])


def _last_quarters(events: pd.DataFrame, code: int, periods: int):
    """The burglaries of the last ``periods`` quarters that have any, and those quarters."""

    if events.empty:
        raise InputFileError(f"no geocoded burglaries for kommune {code} in lokal/indbrud.csv")
    labels = quarter_labels(events["date"])
    quarters = sorted(set(labels))[-periods:]
    return events.loc[np.isin(labels, quarters)], quarters


def load_area_lookup(path: str | Path) -> pd.DataFrame:
    """A user's area lookup ``cell_id,area``: each DST 100 m cell in one postal code or parish."""

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such area lookup file (columns cell_id,area)")
    what = "area lookup cell_id,area"
    text, _ = read_text(path, what)
    frame, _, malformed = read_delimited(text, sniff_separator(text, ","), path, what)
    frame.columns = [c if c == SOURCE_ROW else c.strip().lower() for c in frame.columns]
    if not {"cell_id", "area"} <= set(frame.columns):
        raise InputFileError(f"{path}: an area lookup needs the columns cell_id and area")
    aside = malformed.get(SET_ASIDE, pd.Series(False, index=malformed.index))
    bad = malformed[~aside.astype("boolean").fillna(False).astype(bool)]  # blank lines: fine
    frame["cell_id"], frame["area"] = frame["cell_id"].str.strip(), frame["area"].str.strip()
    empty = frame["cell_id"].fillna("").eq("") | frame["area"].fillna("").eq("")
    if len(bad) or empty.any():  # a lookup decides which area a burglary counts in: no gaps
        line = (
            int(bad[SOURCE_ROW].iloc[0]) if len(bad) else int(frame.loc[empty, SOURCE_ROW].iloc[0])
        )
        why = str(bad["reason"].iloc[0]) if len(bad) else "an empty cell_id or area"
        raise InputFileError(
            f"{path}: line {line}: {why} ({len(bad) + int(empty.sum())} such line(s)); every "
            "line of an area lookup must be cell_id,area: correct those lines"
        )
    lookup = frame[["cell_id", "area"]]
    if lookup.empty or not (parse_cell_ids(lookup["cell_id"])["size_m"] == 100).all():
        raise InputFileError(f"{path}: cell_id must be DST 100 m cell ids like 100m_61757_7244")
    dup = lookup.groupby("cell_id")["area"].nunique()
    if (dup > 1).any():
        raise InputFileError(
            f"{path}: {int((dup > 1).sum())} cells are given more than one area, "
            f"e.g. {dup[dup > 1].index[0]}"
        )
    return lookup


def area_of_cells(cell_ids, lookup: pd.DataFrame) -> pd.Series:
    """The area (postal district, parish) of each grid cell, by a user's 100 m lookup.

    A 100 m cell gets its own area; a 1 km cell the area most of its looked-up 100 m
    cells lie in (alphabetically first on a tie). Cells the lookup does not cover get
    missing. Indexed like ``cell_ids``; one groupby, no loop over cells.
    """
    ids = pd.Series(np.asarray(cell_ids, dtype=object))
    if ids.empty:
        return pd.Series([], dtype=object)
    km = parent_ids(lookup["cell_id"], "1km")
    votes = pd.DataFrame({"parent": km, "area": lookup["area"].to_numpy()})
    counts = votes.value_counts().rename("n").reset_index()
    counts = counts.sort_values(["parent", "n", "area"], ascending=[True, False, True])
    by_km = counts.drop_duplicates("parent").set_index("parent")["area"]
    by_100m = pd.Series(lookup["area"].to_numpy(), index=lookup["cell_id"].to_numpy())
    return ids.map(by_100m).fillna(ids.map(by_km))


def area_monitoring(
    workspace_dir: str | Path,
    kommune: int | str,
    lookup: pd.DataFrame,
    threshold: int = 5,
    *,
    periods: int = 8,
    level: float = 0.9,
    quarantine_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Burglary and Nabohjælp per user area (postal code, parish) instead of grid cells.

    ``lookup`` (``cell_id, area``; :func:`load_area_lookup`) places each 100 m cell in an
    area; cells outside it count under "uden for områderne". Rates are shrunk towards the
    kommune rate as for cells (prior fitted over the areas), with the gap index; areas
    with fewer than ``threshold`` burglaries are hidden (and more against differencing).
    """

    code = int(to_kommune_kode(kommune))
    if threshold < 1 or periods < 1:
        raise ConfigError("threshold and periods must be at least 1")
    events, households, members, _ = load_local_inputs(workspace_dir, code, quarantine_dir)
    events, quarters = _last_quarters(events, code, periods)
    years = len(quarters) / 4
    cells, _ = cell_counts(events, households, members, "100m", quarters)
    areas = area_counts(cells, lookup, years)
    areas = _estimates(areas, _priors(areas), years, level)
    columns = ["area", "households", "burglaries", "nabohjaelpere", "rate_per_1000",
               "rate_shrunk", "rate_low", "rate_high", "coverage_per_100", "gap_index"]  # fmt: skip
    return suppress_areas(areas[columns], threshold)


def local_monitoring(
    workspace_dir: str | Path,
    kommune: int | str,
    cell: CellSize = "1km",
    threshold: int = 5,
    seed: int = DEFAULT_SEED,
    *,
    periods: int = 8,
    alpha: float = 0.05,
    persistent_k: int = 2,
    persistent_m: int = 4,
    level: float = 0.9,
    distance_edges: tuple[float, ...] = (0, 100, 200, 400, 800),
    time_edges: tuple[float, ...] = (0, 7, 14, 21, 28),
    n_permutations: int = 99,
    quarantine_dir: str | Path | None = None,
) -> LocalMonitoring:
    """A kommune's cell table (suppressed), persistent Gi* hotspots and Knox near-repeat table.

    Uses the last ``periods`` quarters with burglaries in ``<workspace>/lokal/``. Rates are
    per 1,000 households per year, shrunk by empirical Bayes towards the kommune rate
    (``rate_low``/``rate_high``: ``level`` posterior interval); ``gap_index`` is the posterior
    probability of above-median burglary and below-median Nabohjælp coverage; ``hotspot``:
    Gi* significant (BH q < ``alpha``) in at least ``persistent_k`` of the last
    ``persistent_m`` quarters. No published cell has fewer than ``threshold`` burglaries.
    """

    code = int(to_kommune_kode(kommune))
    cell_metres(cell)
    if threshold < 1 or periods < 1:
        raise ConfigError("threshold and periods must be at least 1")
    events, households, members, log = load_local_inputs(workspace_dir, code, quarantine_dir)
    events, quarters = _last_quarters(events, code, periods)
    years = len(quarters) / 4
    cells, by_period = cell_counts(events, households, members, cell, quarters)
    priors = _priors(cells)
    cells = _estimates(cells, priors, years, level)
    cells = _hotspots(cells, by_period, alpha, persistent_k, persistent_m)
    published = _publish(cells, priors, years, threshold, level)
    days = (events["date"] - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
    near = knox_table(
        events["east"], events["north"], days, distance_edges, time_edges, n_permutations, seed
    )
    shown = ~published["suppressed"]
    summary = {
        "kommune_kode": code,
        "cell": cell,
        "threshold": int(threshold),
        "quarters": quarters,
        "years": years,
        "burglaries": int(len(events)),
        "households": int(households["households"].sum()),
        "nabohjaelpere": int(members["nabohjaelpere"].sum()),
        "rate_per_1000": 1000 * len(events) / max(households["households"].sum(), 1) / years,
        "cells": int(len(cells)),
        "cells_published": int(shown.sum()),
        "cells_merged": int((published["merged"] & shown).sum()),
        "cells_hidden": int((~shown).sum()),
        "burglaries_in_hidden_cells": int(len(events) - published.loc[shown, "burglaries"].sum()),
        "hotspots": published.loc[published["hotspot"], "cell_id"].tolist(),
        "prior": {
            "rate_per_1000_mean": priors.rate.mean * 1000 / years,
            "gamma_shape": float(priors.rate.shape),
            "method": priors.rate.method,
            "coverage_mean_per_100": 100 * priors.coverage.mean,
        },
        "settings": {
            "alpha": alpha,
            "persistent": f"significant in >= {persistent_k} of the last {persistent_m} quarters",
            "interval_level": level,
            "near_repeat_permutations": n_permutations,
            "seed": seed,
        },
        "load_log": log,
    }
    return LocalMonitoring(code, published, near, summary)
