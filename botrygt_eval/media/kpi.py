"""Media KPIs per partnership, added to :func:`botrygt_eval.kpi.targets.partnership_kpis`' table.

For each partnership: burglary articles about its kommune in the latest year
(``media_burglary_articles``) and articles mentioning Bo trygt (``media_bo_trygt_mentions``);
the share of constructive burglary articles pooled over the years before the signing year
and over the signing year to the latest year (``media_constructive_before``/``_since``), each
with its number of articles, a Wilson interval, and blank when it rests on fewer than
``min_n`` articles. All media columns are empty when there is no article export.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.media.series import wilson_interval

MEDIA_COLUMNS = [
    "media_burglary_articles", "media_bo_trygt_mentions",
    "media_constructive_before", "media_constructive_before_n",
    "media_constructive_since", "media_constructive_since_n",
    "media_constructive_since_ci_low", "media_constructive_since_ci_high",
]  # fmt: skip


def add_media_kpis(
    kpis: pd.DataFrame,
    coded: pd.DataFrame | None,
    *,
    min_n: int = 10,
    level: float = 0.95,
) -> pd.DataFrame:
    """``kpis`` (one row per partnership) with the media columns (NaN without media data)."""
    out = kpis.copy()
    if coded is None or len(coded) == 0 or "kommune_kode" not in coded.columns:
        for col in MEDIA_COLUMNS:
            out[col] = np.nan
        return out
    local = coded[coded["kommune_kode"].notna()]
    art = pd.DataFrame(
        {
            "kommune_kode": local["kommune_kode"].astype("int64").to_numpy(),
            "year": pd.to_datetime(local["date"]).dt.year.to_numpy(),
            "b": local["is_burglary"].to_numpy(dtype=bool),
            "c": (local["is_burglary"] & local["is_constructive"]).to_numpy(dtype=bool),
            "m": local.get("mentions_bo_trygt", pd.Series(False, index=local.index))
            .to_numpy(dtype=bool),
        }
    )  # fmt: skip
    rows = out[["kommune_kode", "signed_date", "latest_year"]].copy()
    rows["row"] = np.arange(len(rows))
    rows["signed_year"] = pd.to_datetime(rows["signed_date"]).dt.year
    pairs = rows.merge(art, on="kommune_kode", how="left")
    in_latest = pairs["year"] == pairs["latest_year"]
    before = pairs["year"] < pairs["signed_year"]
    since = (pairs["year"] >= pairs["signed_year"]) & (pairs["year"] <= pairs["latest_year"])

    def total(col: str, mask: pd.Series) -> np.ndarray:
        values = pairs[col].fillna(False).astype(bool) & mask
        return values.groupby(pairs["row"]).sum().reindex(rows["row"]).to_numpy(dtype=float)

    out["media_burglary_articles"] = total("b", in_latest)
    out["media_bo_trygt_mentions"] = total("m", in_latest)
    for name, mask in (("before", before), ("since", since)):
        n, k = total("b", mask), total("c", mask)
        keep = n >= min_n
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"media_constructive_{name}"] = np.where(keep, k / n, np.nan)
        out[f"media_constructive_{name}_n"] = n
        if name == "since":
            lo, hi = wilson_interval(k, n, level)
            out["media_constructive_since_ci_low"] = np.where(keep, lo, np.nan)
            out["media_constructive_since_ci_high"] = np.where(keep, hi, np.nan)
    return out
