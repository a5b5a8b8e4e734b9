"""The learning review (Læringsopsamlingen): its figures reproduced from project-leader data.

Typical use::

    from botrygt_eval.learning_review import (
        simulate_projektleder_responses, reproduce_learning_review, grim_report, load_spec,
    )
    frame = simulate_projektleder_responses(seed=1)          # SIMULEREDE DATA
    run = reproduce_learning_review("survey/projektleder_2025.csv", "out/figures")
    print(run.figures.summary())
    print(grim_report(load_spec(), n=23).summary())          # impossible combinations
"""

from botrygt_eval.learning_review.consistency import GrimReport, grim_report
from botrygt_eval.learning_review.figures import (
    ReviewFigures,
    load_projektleder_responses,
    recompute,
)
from botrygt_eval.learning_review.grim import consistent_bases, possible, round_pct
from botrygt_eval.learning_review.pipeline import ReproducedReview, reproduce_learning_review
from botrygt_eval.learning_review.spec import ReviewSpec, load_instrument_pl, load_spec
from botrygt_eval.learning_review.timeseries import load_time_series, time_series_chart

__all__ = [
    "GrimReport",
    "ReproducedReview",
    "ReviewFigures",
    "ReviewSpec",
    "consistent_bases",
    "grim_report",
    "load_instrument_pl",
    "load_projektleder_responses",
    "load_spec",
    "load_time_series",
    "possible",
    "recompute",
    "reproduce_learning_review",
    "round_pct",
    "time_series_chart",
]
