"""Recompute every published percentage of the learning review from a response file.

The base ``n`` of a percentage is the number of respondents who answered the item
(any code, "Ved ikke" included; an empty cell is a skipped or unanswered item). A
row's rule comes from ``figures.yaml``: ``count`` rounds the counted respondents once,
``sum_rounded`` adds the rounded percentages of the answer codes (as the review did
for "meget højt eller højt"). A recomputed value matches when it rounds to the
published integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from botrygt_eval.errors import InputFileError, check_option
from botrygt_eval.instrument.schema import response_schema
from botrygt_eval.io.quarantine import LoadResult
from botrygt_eval.io.responses import load_responses
from botrygt_eval.io.simulated import marked_simulated
from botrygt_eval.learning_review.consistency import RULE_CHOICES, RuleChoice, row_components
from botrygt_eval.learning_review.grim import ROUNDINGS, Rounding, round_pct
from botrygt_eval.learning_review.spec import YEAR, ReviewSpec, load_instrument_pl, load_spec
from botrygt_eval.results import ResultMixin

FIGURES_CSV_COLUMNS = [
    "figure",
    "item",
    "category",
    "published_pct",
    "recomputed_pct",
    "n",
    "matches",
]


def load_projektleder_responses(
    path: str | Path, quarantine_dir: str | Path | None = None, *, root: str | Path | None = None
) -> LoadResult:
    """A project-leader response file checked against its year's questionnaire."""
    return load_responses(
        path,
        schema=lambda year: response_schema(load_instrument_pl(year, root)),
        quarantine_dir=quarantine_dir,
    )


def _wilson(k: np.ndarray, n: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    z = norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


@dataclass(frozen=True)
class ReviewFigures(ResultMixin):
    """Recomputed percentages of the review next to the published ones."""

    table: pd.DataFrame
    spec: ReviewSpec
    simulated: bool
    rounding: str
    rule: str

    @property
    def mismatches(self) -> pd.DataFrame:
        """Rows whose recomputed value does not print as the published one."""
        return self.table[self.table["matches"].eq(False).fillna(False).astype(bool)]

    @property
    def compared(self) -> bool:
        """False for a new round of the survey without published numbers."""
        return bool(self.table["published_pct"].notna().any())

    @property
    def ok(self) -> bool:
        return self.mismatches.empty

    def figures_csv(self) -> pd.DataFrame:
        """The ``figures.csv`` table (see :data:`FIGURES_CSV_COLUMNS`)."""
        out = self.table[FIGURES_CSV_COLUMNS].copy()
        out["recomputed_pct"] = out["recomputed_pct"].round(2)
        return out

    def to_frame(self) -> pd.DataFrame:
        """Tidy: estimate (percent of the base), se, Wilson 95 % ci_low/ci_high, n, and the comparison."""
        cols = ["figure", "item", "category", "estimate", "se", "ci_low", "ci_high", "n"]
        return self.table[cols + ["published_pct", "recomputed_pct", "matches"]].copy()

    def summary(self) -> str:
        head = "SIMULEREDE DATA. " if self.simulated else ""
        bad = self.mismatches
        if not self.compared:
            return f"{head}{len(self.table)} procenter beregnet (ingen publicerede tal at sammenligne med)."
        lines = [
            f"{head}{len(self.table)} procenter genberegnet; {len(self.table) - len(bad)} "
            f"svarer til de publicerede, {len(bad)} gør ikke."
        ]
        for r in bad.itertuples():
            lines.append(
                f"  {r.figure} / {r.item} / {r.category}: publiceret {r.published_pct} %, "
                f"genberegnet {r.recomputed_pct:.1f} % (n = {r.n})".replace(".", ",")
            )
        return "\n".join(lines)

    def _payload(self) -> dict:
        return {"simulated": self.simulated, "rounding": self.rounding, "rule": self.rule,
                "figures": self.to_frame()}  # fmt: skip

    def _draw(self, figure: str | None = None, *, lang: str = "da"):
        """One chart in the review's manner (default: the first figure)."""
        from botrygt_eval.learning_review.charts import figure_chart

        figure = self.table["figure"].iloc[0] if figure is None else figure
        return figure_chart(self, figure, lang=lang)


def recompute(
    responses: pd.DataFrame,
    spec: ReviewSpec | None = None,
    *,
    simulated: bool | None = None,
    rounding: Rounding = "half_up",
    rule: RuleChoice = "spec",
) -> ReviewFigures:
    """Every published percentage recomputed from ``responses`` (one row per respondent).

    ``simulated=None`` detects the simulator's marker column (:func:`botrygt_eval.io.simulated.marked_simulated`).
    """
    check_option("rounding", rounding, ROUNDINGS)
    check_option("rule", rule, RULE_CHOICES)
    spec = spec if spec is not None else load_spec(YEAR)
    rows = spec.rows.copy()
    missing = sorted(set(rows["column"]) - set(responses.columns))
    if missing:
        raise InputFileError(
            f"the response file has no column(s) {', '.join(missing)}; it must have one column per "
            "item of the project-leader questionnaire (see its response layout)"
        )
    values = {c: pd.to_numeric(responses[c], errors="coerce") for c in rows["column"].unique()}
    n = np.array([int(values[c].notna().sum()) for c in rows["column"]])
    per_code = [
        [int((values[c] == code).sum()) for code in codes]
        for c, codes in zip(rows["column"], rows["codes"], strict=True)
    ]
    k = np.array([sum(parts) for parts in per_code])
    comps = row_components(rows, rule)
    safe_n = np.maximum(n, 1)
    exact = np.where(n > 0, 100 * k / safe_n, np.nan)
    summed = np.array(
        [
            float(round_pct(np.array(parts), m, rounding).sum()) if m > 0 else np.nan
            for parts, m in zip(per_code, safe_n, strict=True)
        ]
    )
    use_sum = (comps > 1).to_numpy()
    rows["n"] = n
    rows["k"] = k
    rows["recomputed_pct"] = np.where(use_sum, summed, exact)
    printed = np.where(use_sum, summed, round_pct(k, safe_n, rounding))
    same = pd.Series(printed, index=rows.index).eq(rows["published_pct"])  # NA: not published
    rows["matches"] = same.astype("boolean") & pd.array(n > 0, dtype="boolean")
    p = np.where(n > 0, k / safe_n, np.nan)
    lo, hi = _wilson(k, safe_n)
    rows["estimate"] = 100 * p
    rows["se"] = 100 * np.sqrt(p * (1 - p) / safe_n)
    rows["ci_low"] = np.where(n > 0, 100 * lo, np.nan)
    rows["ci_high"] = np.where(n > 0, 100 * hi, np.nan)
    if simulated is None:
        simulated = marked_simulated(responses)
    return ReviewFigures(rows, spec, bool(simulated), rounding, rule)
