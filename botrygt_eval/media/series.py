"""Yearly series of burglary coverage: mentions and the share of constructive articles.

The share is ``constructive / burglary articles`` per year, nationally (all articles) and per
kommune (articles whose kommune is known), with a Wilson score interval and the number of
articles it rests on. Years with fewer than ``min_n`` burglary articles are suppressed
(share and interval blank, counts kept): a share of 1 in 3 is noise, not a trend.
``n_bo_trygt`` counts the articles that mention Bo trygt (the review's media-mention series).
The interval treats the year's articles as independent draws from a stable editorial
process; it does not cover coding error (see the agreement with a hand-coded sample).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.errors import ConfigError, InputFileError

NATIONAL = "national"
COLUMNS = [
    "scope", "kommune_kode", "year", "n_articles", "n_bo_trygt", "n_burglary", "n_constructive",
    "share", "ci_low", "ci_high", "suppressed",
]  # fmt: skip


def wilson_interval(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes in ``n`` trials (NaN where ``n`` is 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    bad = n <= 0
    return np.where(bad, np.nan, centre - half), np.where(bad, np.nan, centre + half)


def _check(coded: pd.DataFrame) -> None:
    need = ["date", "is_burglary", "is_constructive"]
    missing = [c for c in need if c not in coded.columns]
    if missing:
        raise InputFileError(
            f"coded articles lack {', '.join(missing)}; run media.code_articles on articles "
            "loaded with media.load_articles first"
        )


def _count(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = frame.groupby(keys, sort=True)
    return pd.DataFrame(
        {
            "n_articles": g.size(),
            "n_bo_trygt": g["bo_trygt"].sum(),
            "n_burglary": g["is_burglary"].sum(),
            "n_constructive": g["constructive"].sum(),
        }
    ).reset_index()


def media_series(
    coded: pd.DataFrame,
    *,
    kommune: int | None = None,
    per_kommune: bool = True,
    min_n: int = 10,
    level: float = 0.95,
) -> pd.DataFrame:
    """Tidy series: one row per scope (``national`` or ``kommune``) and year.

    ``kommune`` keeps only the national rows and that kommune's; ``per_kommune=False``
    gives the national series only. Columns: ``scope, kommune_kode, year, n_articles,
    n_bo_trygt, n_burglary, n_constructive, share, ci_low, ci_high, suppressed``.
    """
    _check(coded)
    if min_n < 1:
        raise ConfigError(f"min_n must be at least 1 (got {min_n})")
    frame = pd.DataFrame(
        {
            "year": pd.to_datetime(coded["date"]).dt.year.to_numpy(),
            "is_burglary": coded["is_burglary"].to_numpy(dtype=bool),
            "constructive": (coded["is_constructive"] & coded["is_burglary"]).to_numpy(dtype=bool),
            "bo_trygt": (
                coded["mentions_bo_trygt"].to_numpy(dtype=bool)
                if "mentions_bo_trygt" in coded.columns
                else np.zeros(len(coded), dtype=bool)
            ),
            "kommune_kode": (
                coded["kommune_kode"].astype("Int64").to_numpy()
                if "kommune_kode" in coded.columns
                else pd.array([pd.NA] * len(coded), dtype="Int64")
            ),
        }
    )
    parts = [_count(frame, ["year"]).assign(scope=NATIONAL, kommune_kode=-1)]
    if per_kommune:
        local = frame[frame["kommune_kode"].notna()]
        if kommune is not None:
            local = local[local["kommune_kode"] == int(kommune)]
        local = local.astype({"kommune_kode": "int64"})
        parts.append(_count(local, ["kommune_kode", "year"]).assign(scope="kommune"))
    parts = [p for p in parts if len(p)]
    if not parts:
        empty = pd.DataFrame(columns=COLUMNS)
        empty.attrs["min_n"] = int(min_n)
        return empty
    out = pd.concat(parts, ignore_index=True)
    out["kommune_kode"] = out["kommune_kode"].astype("Int64").mask(out["scope"] == NATIONAL)
    n = out["n_burglary"].to_numpy(dtype=float)
    k = out["n_constructive"].to_numpy(dtype=float)
    lo, hi = wilson_interval(k, n, level)
    suppressed = n < min_n
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = np.where(suppressed, np.nan, k / n)
    out["ci_low"] = np.where(suppressed, np.nan, lo)
    out["ci_high"] = np.where(suppressed, np.nan, hi)
    out["suppressed"] = suppressed
    for col in ("n_articles", "n_bo_trygt", "n_burglary", "n_constructive"):
        out[col] = out[col].astype("int64")
    order = out["scope"].ne(NATIONAL)
    out = out.assign(_o=order).sort_values(["_o", "kommune_kode", "year"], kind="stable")
    out = out[COLUMNS].reset_index(drop=True)
    out.attrs["min_n"] = int(min_n)
    return out


def pooled_periods(rows: pd.DataFrame, min_n: int = 10, level: float = 0.95) -> pd.DataFrame:
    """Consecutive years pooled, from the latest back, until each period holds at least
    ``min_n`` burglary articles, so a small kommune still gets a share with its interval.

    ``rows``: one scope's yearly counts (``year, n_burglary, n_constructive``, as from
    :func:`media_series`). Returns ``first_year, last_year, n_burglary, n_constructive,
    share, ci_low, ci_high`` (Wilson), newest period first; earlier years that cannot
    reach ``min_n`` join the oldest period; empty when all years together fall short.
    """
    d = rows.sort_values("year", ascending=False)
    years, n, k = (
        d["year"].to_numpy(int),
        d["n_burglary"].to_numpy(int),
        d["n_constructive"].to_numpy(int),
    )
    cols = ["first_year", "last_year", "n_burglary", "n_constructive", "share", "ci_low", "ci_high"]
    if n.sum() < min_n:
        return pd.DataFrame(columns=cols)
    group = np.zeros(len(years), int)
    g, total = 0, 0
    for i, count in enumerate(n):  # a handful of years: one pass
        group[i] = g
        total += count
        if total >= min_n:
            g, total = g + 1, 0
    if total and g:  # a short tail of early years joins the oldest full period
        group[group == g] = g - 1
    out = pd.DataFrame({"g": group, "year": years, "n": n, "k": k}).groupby("g").agg(
        first_year=("year", "min"), last_year=("year", "max"), n_burglary=("n", "sum"),
        n_constructive=("k", "sum"))  # fmt: skip
    lo, hi = wilson_interval(out["n_constructive"], out["n_burglary"], level)
    out["share"] = out["n_constructive"] / out["n_burglary"]
    out["ci_low"], out["ci_high"] = lo, hi
    return out.reset_index(drop=True)[cols]
