"""Reproduce the review's figures from a response file: table, charts, time series."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from botrygt_eval.learning_review.charts import write_charts
from botrygt_eval.learning_review.consistency import RuleChoice
from botrygt_eval.learning_review.figures import (
    ReviewFigures,
    load_projektleder_responses,
    recompute,
)
from botrygt_eval.learning_review.grim import Rounding
from botrygt_eval.learning_review.spec import YEAR, load_spec
from botrygt_eval.learning_review.timeseries import write_time_series


@dataclass(frozen=True)
class ReproducedReview:
    """What :func:`reproduce_learning_review` did: the recomputed figures and the files."""

    figures: ReviewFigures
    paths: tuple[Path, ...]
    n_respondents: int
    n_quarantined: int


def reproduce_learning_review(
    responses: str | Path,
    out_dir: str | Path,
    *,
    simulated: bool | None = None,
    published: str | Path | None = None,
    year: int = YEAR,
    rounding: Rounding = "half_up",
    rule: RuleChoice = "spec",
    lang: str = "da",
    compare: bool = True,
) -> ReproducedReview:
    """Recompute every published percentage from ``responses`` and write ``out_dir``.

    Writes ``figures.csv`` (figure, item, category, published_pct, recomputed_pct, n,
    matches), one PNG and SVG per chart, and ``tidsserier.png/.svg``. Rows that fail the
    questionnaire's schema go to ``out_dir/quarantine``. ``simulated=None`` detects the
    simulator's marker column; simulated output says SIMULEREDE DATA on every chart.
    ``compare=False`` for a new round of the survey: charts and percentages, nothing to match.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    loaded = load_projektleder_responses(responses, quarantine_dir=out / "quarantine")
    spec = load_spec(year, published=published if compare else False)
    result = recompute(loaded.data, spec, simulated=simulated, rounding=rounding, rule=rule)
    table = out / "figures.csv"
    result.figures_csv().to_csv(table, index=False, encoding="utf-8", lineterminator="\n")
    paths = [table, *write_charts(result, out, lang=lang)]
    paths += write_time_series(out, lang=lang)
    return ReproducedReview(result, tuple(paths), len(loaded.data), len(loaded.quarantined))
