"""Load a whole evaluation workspace (docs/DATA_FORMATS.md) through the validated loaders.

:func:`load_workspace` reads every file of the layout that exists and returns a
frozen :class:`Workspace` of tidy frames plus one :class:`LoadResult` per file, so
the run can say what was loaded, quarantined and set aside, and which files were
absent. :func:`summarise_workspace` gives aggregates only (no microdata) for the demo.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.errors import InputFileError
from botrygt_eval.io import registers, responses, statbank
from botrygt_eval.io.quarantine import LoadResult
from botrygt_eval.io.responses import SchemaArg

#: file in the workspace -> (Workspace field, loader)
_FIXED: dict[str, tuple[str, Callable[..., LoadResult]]] = {
    "statbank/STRAF11.csv": ("burglaries_quarterly", statbank.load_straf11),
    "statbank/STRAF10.csv": ("burglaries_annual", statbank.load_straf10),
    "statbank/FOLK1A.csv": ("population", statbank.load_folk1a),
    "statbank/FAM55N.csv": ("households", statbank.load_households),
    "registers/partnerships.csv": ("partnerships", registers.load_partnerships),
    "registers/activities.csv": ("activities", registers.load_activities),
    "registers/nabohjaelp.csv": ("nabohjaelp", registers.load_nabohjaelp),
}
_EMPTY_COLUMNS = {
    "burglaries_quarterly": ["kommune_kode", "year", "quarter", "offence_code", "burglaries"],
    "burglaries_annual": ["kommune_kode", "year", "offence_code", "burglaries"],
    "population": ["kommune_kode", "year", "quarter", "sex", "age", "population"],
    "households": ["kommune_kode", "year", "households"],
    "partnerships": registers.PARTNERSHIP_COLUMNS,
    "activities": registers.ACTIVITY_COLUMNS,
    "nabohjaelp": registers.NABOHJAELP_COLUMNS,
    "samples": responses.SAMPLE_COLUMNS,
    "responses": list(responses.ID_COLUMNS),
}
_YEAR = re.compile(r"_(\d{4})$")
_RESPONSE_SUFFIXES = (".csv", ".xlsx", ".sav")


@dataclass(frozen=True)
class Workspace:
    """Every tidy input table of one workspace, and how each file was loaded."""

    root: Path
    burglaries_quarterly: pd.DataFrame
    burglaries_annual: pd.DataFrame
    population: pd.DataFrame
    households: pd.DataFrame
    partnerships: pd.DataFrame
    activities: pd.DataFrame
    nabohjaelp: pd.DataFrame
    samples: pd.DataFrame
    responses: pd.DataFrame
    margins: dict[int, pd.DataFrame]
    reports: tuple[LoadResult, ...] = field(default_factory=tuple)
    absent: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_quarantined(self) -> int:
        return sum(r.n_quarantined for r in self.reports)

    def messages(self) -> list[str]:
        """One line per file (rows loaded, quarantined and where, notes), then absent files."""
        lines = []
        for report in self.reports:
            notes = [n for n in report.notes if not n.startswith("encoding: UTF-8")]
            extra = f" ({'; '.join(notes)})" if notes else ""
            lines.append(report.message() + extra)
        lines += [f"{name}: not present in {self.root}" for name in self.absent]
        return lines


def _year_of(path: Path) -> int:
    match = _YEAR.search(path.stem)
    if not match:
        raise InputFileError(
            f"{path}: cannot tell the survey year from the file name; name it like "
            f"{path.stem.split('_')[0]}_2025{path.suffix}"
        )
    return int(match.group(1))


def _concat(frames: list[pd.DataFrame], name: str) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame(columns=_EMPTY_COLUMNS[name])
    return pd.concat(frames, ignore_index=True, sort=False)


def load_fixed_files(
    root: Path, files: dict, quarantine_dir: str | Path | None = None
) -> tuple[dict[str, pd.DataFrame], list[LoadResult], list[str]]:
    """Load each ``relative path -> (table name, loader)`` present under ``root``.

    Returns the tables (an empty frame with the right columns for an absent file),
    the load results, and the relative paths that were absent.
    """
    if not root.is_dir():
        raise InputFileError(
            f"{root}: workspace folder not found; give the folder written by "
            "'botrygt-eval simulate --out DIR' or laid out as in docs/DATA_FORMATS.md"
        )
    tables: dict[str, pd.DataFrame] = {}
    reports: list[LoadResult] = []
    absent: list[str] = []
    for rel, (name, loader) in files.items():
        path = root / rel
        if path.is_file():
            result = loader(path, quarantine_dir=quarantine_dir)
            reports.append(result)
            tables[name] = result.data
        else:
            absent.append(rel)
            tables[name] = pd.DataFrame(columns=_EMPTY_COLUMNS[name])
    return tables, reports, absent


def load_workspace(
    root: str | Path,
    quarantine_dir: str | Path | None = None,
    response_schema: SchemaArg = responses.ITEM_BANK,
) -> Workspace:
    """Load every file of the workspace layout that exists under ``root``.

    ``response_schema`` (a schema or ``year -> schema``; by default the year's schema
    from the item bank, so answer codes outside the questionnaire's codes are
    quarantined) is passed to :func:`~botrygt_eval.io.responses.load_responses`. Raises
    :class:`InputFileError` when ``root`` is missing or holds none of the files.
    """
    root = Path(root)
    tables, reports, absent = load_fixed_files(root, _FIXED, quarantine_dir)
    survey = root / "survey"
    samples, answers, margins = [], [], {}
    for path in sorted(survey.glob("sample_*.csv")):
        result = responses.load_sample(path, quarantine_dir=quarantine_dir)
        reports.append(result)
        samples.append(result.data)
    by_year: dict[int, Path] = {}
    for path in sorted(survey.glob("responses_*")):
        if path.suffix.lower() not in _RESPONSE_SUFFIXES:
            continue
        year = _year_of(path)
        if year in by_year:
            raise InputFileError(
                f"{path}: a second response file for {year} (also {by_year[year].name}); "
                "keep one file per year in survey/"
            )
        by_year[year] = path
    for year in sorted(by_year):
        result = responses.load_responses(
            by_year[year], schema=response_schema, quarantine_dir=quarantine_dir
        )
        reports.append(result)
        answers.append(result.data)
    for path in sorted(survey.glob("margins_*.csv")):
        result = responses.load_margins(path, quarantine_dir=quarantine_dir)
        reports.append(result)
        margins[_year_of(path)] = result.data
    if not reports:
        raise InputFileError(
            f"{root}: none of the workspace files were found (e.g. statbank/STRAF11.csv, "
            "survey/responses_2025.csv); lay the folder out as in docs/DATA_FORMATS.md"
        )
    if not samples:
        absent.append("survey/sample_YYYY.csv")
    if not answers:
        absent.append("survey/responses_YYYY.csv")
    return Workspace(
        root=root,
        samples=_concat(samples, "samples"),
        responses=_concat(answers, "responses"),
        margins=margins,
        reports=tuple(reports),
        absent=tuple(absent),
        **tables,
    )


def _rows(topic: str, measure: str, values: pd.Series, group: str = "") -> pd.DataFrame:
    """Long rows ``topic, measure, group, year, value`` from a year-indexed series."""
    return pd.DataFrame(
        {
            "topic": topic,
            "measure": measure,
            "group": group,
            "year": pd.array(values.index, dtype="Int64"),
            "value": values.to_numpy(dtype=float),
        }
    )


def summarise_workspace(ws: Workspace) -> pd.DataFrame:
    """National aggregates per year, for the demo: no row refers to fewer than a whole kommune.

    Columns ``topic, measure, group, year, value``: national burglaries (quarterly
    sums and the annual table), population and households, partnerships signed,
    activities by type, Nabohjælp members, survey sample size, respondents and
    response rate, and rows quarantined per file.
    """
    parts: list[pd.DataFrame] = []
    bq = ws.burglaries_quarterly
    if len(bq):
        grouped = bq.groupby("year")["burglaries"]
        parts.append(_rows("burglaries", "national_total_from_quarters", grouped.sum()))
        parts.append(_rows("burglaries", "missing_cells", grouped.apply(lambda s: s.isna().sum())))
    if len(ws.burglaries_annual):
        totals = ws.burglaries_annual.groupby("year")["burglaries"].sum()
        parts.append(_rows("burglaries", "national_total_annual", totals))
    if len(ws.population):
        pop = ws.population
        first = pop[pop["quarter"] == pop.groupby("year")["quarter"].transform("min")]
        parts.append(
            _rows("population", "national_total", first.groupby("year")["population"].sum())
        )
        adults = first[first["age"] >= 18]
        parts.append(
            _rows("population", "adults_18plus", adults.groupby("year")["population"].sum())
        )
    if len(ws.households):
        parts.append(
            _rows("households", "national_total", ws.households.groupby("year")["households"].sum())
        )
    if len(ws.partnerships):
        signed = ws.partnerships["signed_date"].dt.year.value_counts().sort_index()
        parts.append(_rows("partnerships", "signed", signed))
        parts.append(
            _rows("partnerships", "total", pd.Series([len(ws.partnerships)], index=[pd.NA]))
        )
    if len(ws.activities):
        by_type = ws.activities.groupby("activity_type").size()
        for activity_type, n in by_type.items():
            parts.append(
                _rows("activities", "count", pd.Series([n], index=[pd.NA]), str(activity_type))
            )
    if len(ws.nabohjaelp):
        parts.append(
            _rows("nabohjaelp", "members_total", ws.nabohjaelp.groupby("year")["members"].sum())
        )
    if len(ws.samples):
        by_year = ws.samples.groupby("year")["responded"]
        parts.append(_rows("survey", "sampled", by_year.size()))
        parts.append(_rows("survey", "response_rate", by_year.mean()))
    if len(ws.responses):
        parts.append(_rows("survey", "respondents", ws.responses.groupby("year").size()))
    for report in ws.reports:
        if report.n_quarantined:
            name = Path(report.source).name
            parts.append(
                _rows("quarantine", "rows", pd.Series([report.n_quarantined], index=[pd.NA]), name)
            )
    if not parts:
        return pd.DataFrame(columns=["topic", "measure", "group", "year", "value"])
    out = pd.concat(parts, ignore_index=True)
    out["value"] = np.where(out["measure"] == "response_rate", out["value"].round(4), out["value"])
    return out
