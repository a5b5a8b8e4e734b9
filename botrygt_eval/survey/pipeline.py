"""The citizen survey from workspace to estimates: join, derive outcomes, weight, estimate.

One year at a time: the platform's responses are joined to the drawn sample (register
variables and design weights), the item bank of that year derives the outcomes, the
design weights are calibrated to the year's population margins, and design-based means
with calibration-aware SEs are formed nationally and by municipality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from botrygt_eval.errors import InputFileError
from botrygt_eval.instrument import available_years, derive_outcomes, load_instrument
from botrygt_eval.survey.empty_cells import fix_empty_cells
from botrygt_eval.survey.estimators.table import estimate_table
from botrygt_eval.survey.weighting import WeightingResult, join_sample, weight_responses

#: Outcomes the evaluation reports (derived by the item bank; see docs/DATA_FORMATS.md).
OUTCOMES = ("fear_burglary", "unsafe_home", "nabohjaelper", "prevention_index", "victim_burglary")


def instrument_year_for(year: int) -> int:
    """The item-bank version a survey year was fielded with: the latest version not after it.

    Years before the first recorded version use the first version (the bank records
    the questionnaire from its first version on).
    """
    years = sorted(available_years())
    earlier = [y for y in years if y <= year]
    return earlier[-1] if earlier else years[0]


@dataclass(frozen=True)
class WeightedYear:
    """One survey year: the weighting result (design, diagnostics) and the respondents.

    ``notes``: margin cells without respondents that were dropped or collapsed
    (:mod:`botrygt_eval.survey.empty_cells`), one dict each.
    """

    year: int
    weighting: WeightingResult
    notes: tuple[dict, ...] = ()

    @property
    def design(self):
        return self.weighting.design


def weight_year(ws, year: int, *, method: str = "raking", trim_upper: float | None = None):
    """Join, derive outcomes and calibrate one year of the workspace's survey."""
    responses = ws.responses.loc[ws.responses["year"] == year]
    sample = ws.samples.loc[ws.samples["year"] == year]
    if responses.empty or sample.empty or year not in ws.margins:
        raise InputFileError(
            f"survey year {year} needs responses_{year}, sample_{year} and margins_{year} "
            f"in {ws.root / 'survey'}"
        )
    responses = responses.dropna(axis=1, how="all")
    joined = join_sample(responses, sample, sample_name=f"sample_{year}.csv")
    inst = load_instrument(instrument_year_for(year))
    joined = derive_outcomes(joined, inst)
    margins, notes = fix_empty_cells(ws.margins[year], joined)
    result = weight_responses(
        joined,
        margins,
        design_weight="design_weight",
        strata="kommune_kode",
        fpc="stratum_population",
        method=method,
        trim_upper=trim_upper,
    )
    return WeightedYear(year=year, weighting=result, notes=tuple(dict(n, year=year) for n in notes))


def _empty_cell_row(note: dict) -> pd.DataFrame:
    """A diagnostics row saying which margin cell had no respondents and what was done."""
    if note["action"] == "dropped":
        text = (
            f"{note['variable']}={note['level']}: no respondents in {note['year']}; left "
            f"out of that year's estimates, other margins scaled by {note['scale']:.4f}"
        )
    else:
        text = (
            f"{note['variable']}={note['level']}: no respondents in {note['year']}; "
            f"collapsed into {note['variable']}={note['into']}"
        )
    return pd.DataFrame({"statistic": ["empty_cell"], "before": [float("nan")],
                         "after": [float("nan")], "year": [note["year"]], "note": [text],
                         "variable": [note["variable"]], "level": [str(note["level"])],
                         "action": [note["action"]], "into": [note.get("into")]})  # fmt: skip


def survey_estimates(
    ws,
    *,
    outcomes: tuple[str, ...] = OUTCOMES,
    years: list[int] | None = None,
    min_cell: int = 10,
    progress=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """National and municipality estimates per year, and the weighting diagnostics.

    Returns ``(estimates, diagnostics)``: ``estimates`` has ``year, kommune_kode``
    (missing for the national row), ``variable, estimate, se, ci_low, ci_high, n, deff,
    suppressed``; cells under ``min_cell`` respondents are blanked and flagged.
    ``diagnostics`` has the weight statistics per year and, as ``statistic ==
    "empty_cell"`` rows with a ``note``, every margin cell dropped or collapsed because
    no one responded in it (such a kommune has no rows that year).
    """
    years = sorted(ws.responses["year"].unique()) if years is None else years
    tables, diags = [], []
    for year in years:
        wy = weight_year(ws, int(year))
        present = [o for o in outcomes if o in wy.design.data.columns]
        national = estimate_table(wy.design, present, min_cell=min_cell)
        national["kommune_kode"] = pd.NA
        local = estimate_table(wy.design, present, by="kommune_kode", min_cell=min_cell)
        local["kommune_kode"] = local["kommune_kode"].astype("Int64")  # the domain's own value
        t = pd.concat([national.astype({"kommune_kode": "Int64"}), local], ignore_index=True)
        t.insert(0, "year", int(year))
        tables.append(t.drop(columns=["domain"]))
        d = wy.weighting.weight_stats().assign(year=int(year))
        diags.append(d)
        diags += [_empty_cell_row(n) for n in wy.notes]
        if progress is not None:
            progress()
    est = pd.concat(tables, ignore_index=True)
    cols = [
        "year",
        "kommune_kode",
        "variable",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "n",
        "deff",
        "suppressed",
    ]
    return est[cols], pd.concat(diags, ignore_index=True)


def survey_gaps(estimates: pd.DataFrame, diagnostics: pd.DataFrame | None = None) -> pd.DataFrame:
    """What the survey series lacks, for the reports to say: ``year, kind, variable, level,
    into``, one row per gap.

    ``kind`` is ``missing_year`` (a year between the first and the last survey year with
    no estimates at all), ``dropped`` (a kommune, or another margin level, without
    respondents that year, left out of that year's weighting) or ``collapsed`` (a margin
    cell without respondents joined to ``into``). Without ``diagnostics`` (estimates
    given as a file) only missing years are known.
    """
    years = sorted({int(y) for y in estimates["year"].dropna()})
    missing = sorted(set(range(years[0], years[-1] + 1)) - set(years)) if years else []
    rows = [dict(year=y, kind="missing_year", variable=None, level=None, into=None)
            for y in missing]  # fmt: skip
    if diagnostics is not None and "action" in diagnostics.columns:
        cells = diagnostics.loc[diagnostics["statistic"] == "empty_cell"]
        rows += [dict(year=int(r.year), kind=r.action, variable=r.variable, level=r.level,
                      into=r.into) for r in cells.itertuples(index=False)]  # fmt: skip
    return pd.DataFrame(rows, columns=["year", "kind", "variable", "level", "into"])


def estimates_for_reports(ws, *, given: str | Path | None = None, min_cell: int = 10):
    """The survey estimates the reports read: the table in ``given`` when that file exists
    (e.g. the demo's ``out/survey/survey_estimates.csv``), else :func:`survey_estimates`
    of the workspace. The ``data_source`` column of a given table is dropped (the reports
    stamp their own). Returns ``(estimates, gaps)``; ``gaps`` is :func:`survey_gaps`."""
    if given is not None and Path(given).exists():
        est, diagnostics = pd.read_csv(given), None
    else:
        est, diagnostics = survey_estimates(ws, min_cell=min_cell)
    return est.drop(columns=["data_source"], errors="ignore"), survey_gaps(est, diagnostics)
