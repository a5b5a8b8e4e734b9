"""The estimates table the CLI writes, and declaring weights calibrated elsewhere.

``estimate_table`` gives one row per variable x domain with
``variable, domain, estimate, se, ci_low, ci_high, n, deff, suppressed`` (plus the
domain columns); cells with fewer than ``min_cell`` respondents are flagged and, by
default, their numbers blanked (aggregates leaving the machine must not reveal them).
``declare_calibration`` is R's ``recalibrate``-like step: the weights were calibrated to
``margins`` elsewhere, so the variance re-derives X from the margins' variables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from botrygt_eval.errors import ConfigError, DesignError
from botrygt_eval.options import DEFAULT_ALPHA
from botrygt_eval.results import json_safe
from botrygt_eval.survey.design import Adjustment, SurveyDesign
from botrygt_eval.survey.estimators._common import MIN_CELL, RESULT_COLUMNS, CIMethod, as_list
from botrygt_eval.survey.estimators.means import svymean
from botrygt_eval.survey.margins import encode, parse_margins

NUMBER_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "deff"]


def estimate_table(
    design,
    variables: str | list[str],
    by: str | list[str] | None = None,
    *,
    min_cell: int = MIN_CELL,
    ci: CIMethod = "auto",
    alpha: float = DEFAULT_ALPHA,
    blank_suppressed: bool = True,
) -> pd.DataFrame:
    """Means / proportions with SEs for every variable x domain (the ``estimate`` CLI table)."""
    if min_cell < 0:
        raise ConfigError(f"min_cell={min_cell}; give 0 (no suppression) or a positive count")
    t = svymean(design, as_list(variables), by, ci=ci, alpha=alpha, min_cell=min_cell).to_frame()
    if blank_suppressed:
        t.loc[t["suppressed"], NUMBER_COLUMNS] = np.nan
    extra = [c for c in t.columns if c not in RESULT_COLUMNS + ["suppressed", "df"]]
    return t[RESULT_COLUMNS + ["suppressed"] + extra]


def table_records(table: pd.DataFrame) -> list[dict]:
    """JSON-ready records: the contract's keys plus ``suppressed``; NaN becomes null."""
    t = table[RESULT_COLUMNS + ["suppressed"]].astype(
        {"n": "int64", "suppressed": bool} | dict.fromkeys(NUMBER_COLUMNS, float)
    )
    for c in ("variable", "domain"):
        t[c] = [None if v is None else str(v) for v in t[c]]
    out = json_safe(t)
    return out


def domain_values(domains: pd.Series, column: str) -> pd.Series:
    """The value of ``column`` in each domain label of an estimate table read back from a
    file (``estimate --json``): ``kommune_kode=101`` or ``region=1,kommune_kode=101`` give
    ``"101"``; a bare label (``101``, ``Aarhus``) is the value itself. In memory the table
    carries the domain's own columns (:func:`estimate_table`), so only a file needs this:
    it is the inverse of the labels the estimators give their domains."""

    def value(label: str) -> str:
        parts = dict(p.partition("=")[::2] for p in label.split(",") if "=" in p)
        return parts.get(column, label if "=" not in label else "").strip()

    return domains.astype(str).map(value)


def declare_calibration(
    design: SurveyDesign, margins: pd.DataFrame, *, design_weight: str
) -> SurveyDesign:
    """Record that ``design.weights`` were calibrated to ``margins`` from ``design_weight``.

    X = intercept + dummies of the margin variables (sparse); the residuals come from a
    regression weighted by the design weights (R's ``calibrate`` GREG residuals). Raises
    ``MarginsError`` when the data and the margins do not match level by level.
    """

    if design_weight not in design.data.columns:
        raise ConfigError(
            f"no design-weight column {design_weight!r} in the data; --calibrated-on needs the "
            "weights before calibration (e.g. design_weight from the sample file)"
        )
    d = pd.to_numeric(design.data[design_weight], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(d).all() or (d <= 0).any():
        raise DesignError(
            f"{int((~np.isfinite(d) | (d <= 0)).sum()):,} rows have a zero, negative or missing "
            f"design weight in {design_weight!r}; fix them before estimating"
        )
    m = parse_margins(margins)
    codes = encode(design.data, m)
    n = design.n
    blocks = [sp.csr_matrix(np.ones((n, 1)))]
    names = ["(Intercept)"]
    for v in m.variables:
        k = len(m.levels[v])
        c = codes[v]
        keep = c > 0  # treatment contrasts: drop the first level
        blocks.append(
            sp.csr_matrix(
                (np.ones(int(keep.sum())), (np.flatnonzero(keep), c[keep] - 1)), (n, k - 1)
            )
        )
        names += [f"{v}={lev}" for lev in m.levels[v][1:]]
    X = sp.hstack(blocks, format="csr")
    w = np.asarray(design.weights, dtype=float)
    details = {
        "method": "declared",
        "margins": m.to_frame(),
        "columns": names,
        "weights_after": w,
        "regression_weights": d,
    }
    return design.with_weights(w, Adjustment(kind="linear", X=X, details=details))
