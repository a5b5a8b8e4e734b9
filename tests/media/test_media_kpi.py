"""Media columns of the partnership KPI table: known counts, pooling, suppression, no data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.media.kpi import MEDIA_COLUMNS, add_media_kpis


def kpis():
    return pd.DataFrame(
        {"kommune_kode": [851, 101], "signed_date": ["2019-06-01", "2020-01-01"],
         "latest_year": [2024, 2024]}
    )  # fmt: skip


def articles(rows):
    """rows: (kommune, year, n burglary, n constructive, n Bo trygt mentions)."""
    out = []
    for kommune, year, n_b, n_c, n_m in rows:
        for i in range(max(n_b, n_m)):
            out.append(
                {"kommune_kode": kommune, "date": f"{year}-03-01", "is_burglary": i < n_b,
                 "is_constructive": i < n_c, "mentions_bo_trygt": i < n_m}
            )  # fmt: skip
    df = pd.DataFrame(out)
    df["kommune_kode"] = df["kommune_kode"].astype("Int64")
    return df


def test_known_counts_and_pooled_shares():
    coded = articles(
        [(851, 2017, 6, 0, 0), (851, 2018, 6, 1, 0),  # before: 1 of 12
         (851, 2019, 5, 2, 1), (851, 2024, 7, 5, 3),  # since: 7 of 12
         (101, 2024, 3, 3, 0), (None, 2024, 50, 50, 50)]  # national outlet: not counted
    )  # fmt: skip
    out = add_media_kpis(kpis(), coded).set_index("kommune_kode")
    assert out.loc[851, "media_burglary_articles"] == 7
    assert out.loc[851, "media_bo_trygt_mentions"] == 3
    assert out.loc[851, "media_constructive_before"] == pytest.approx(1 / 12)
    assert out.loc[851, "media_constructive_since"] == pytest.approx(7 / 12)
    assert out.loc[851, "media_constructive_since_n"] == 12
    lo, hi = out.loc[851, ["media_constructive_since_ci_low", "media_constructive_since_ci_high"]]
    assert lo < 7 / 12 < hi
    assert np.isnan(out.loc[101, "media_constructive_since"])  # 3 articles: suppressed
    assert out.loc[101, "media_constructive_since_n"] == 3
    assert out.loc[101, "media_constructive_before_n"] == 0


def test_without_media_data_columns_are_empty():
    out = add_media_kpis(kpis(), None)
    assert out[MEDIA_COLUMNS].isna().all().all()
    assert list(out.columns[:3]) == ["kommune_kode", "signed_date", "latest_year"]
