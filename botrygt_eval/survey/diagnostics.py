"""Diagnostics of a set of weights: how much they cost in precision and how well they fit.

* :func:`weight_summary` — Kish design effect from weighting (1 + CV², CV with
  denominator n), effective n, CV, min/max/ratio.
* :func:`margin_table` — achieved vs target margins, before and after weighting, with
  standardised differences (p - P) / sqrt(P (1 - P)) of each level's share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.survey.margins import Margins, encode


def kish_deff(weights: np.ndarray) -> float:
    """Kish's design effect from unequal weighting: n sum(w²) / (sum w)² = 1 + CV²."""
    w = np.asarray(weights, dtype=float)
    return float(len(w) * np.sum(w**2) / np.sum(w) ** 2)


def effective_n(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)² / sum(w²)."""
    w = np.asarray(weights, dtype=float)
    return float(np.sum(w) ** 2 / np.sum(w**2))


def weight_summary(weights: np.ndarray) -> dict[str, float]:
    """Kish deff, effective n, CV (denominators n and n-1), range and total of the weights."""
    w = np.asarray(weights, dtype=float)
    n = len(w)
    mean = w.mean()
    return {
        "n": float(n),
        "sum_weights": float(w.sum()),
        "deff_kish": kish_deff(w),
        "n_eff": effective_n(w),
        "cv": float(np.sqrt(np.mean((w - mean) ** 2)) / mean),
        "cv2_denominator_n": float(np.mean((w - mean) ** 2) / mean**2),
        "cv2_denominator_n_minus_1": float(np.var(w, ddof=1) / mean**2) if n > 1 else np.nan,
        "min": float(w.min()),
        "max": float(w.max()),
        "max_min_ratio": float(w.max() / w.min()),
    }


def margin_table(
    data: pd.DataFrame,
    margins: Margins,
    weights_after: np.ndarray,
    weights_before: np.ndarray | None = None,
) -> pd.DataFrame:
    """Achieved vs target total and share per margin level, before and after weighting.

    Columns: ``variable, level, target, achieved_before, achieved_after, rel_error_after,
    share_target, share_before, share_after, std_diff_before, std_diff_after``.
    """
    codes = encode(data, margins)
    rows = []
    for v in margins.variables:
        k = len(margins.levels[v])
        target = margins.totals[v]
        after = np.bincount(codes[v], weights=weights_after, minlength=k)
        before = (
            np.bincount(codes[v], weights=weights_before, minlength=k)
            if weights_before is not None
            else np.full(k, np.nan)
        )
        p_t = target / target.sum()
        p_a = after / after.sum()
        p_b = before / before.sum()
        sd = np.sqrt(p_t * (1 - p_t))
        with np.errstate(divide="ignore", invalid="ignore"):
            rows.append(
                pd.DataFrame(
                    {
                        "variable": v,
                        "level": list(margins.levels[v]),
                        "target": target,
                        "achieved_before": before,
                        "achieved_after": after,
                        "rel_error_after": np.where(
                            target > 0, (after - target) / target, after - target
                        ),
                        "share_target": p_t,
                        "share_before": p_b,
                        "share_after": p_a,
                        "std_diff_before": np.where(sd > 0, (p_b - p_t) / sd, np.nan),
                        "std_diff_after": np.where(sd > 0, (p_a - p_t) / sd, np.nan),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)
