"""Bad input to att_gt: a clear error or a named warning, never a silent wrong number."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did import aggregate, att_gt
from botrygt_eval.errors import (
    BotrygtError,
    ConfigError,
    DidDataError,
    DroppedUnitsWarning,
    SmallCohortWarning,
)
from tests.did.did_cs_sim import cs_panel

KW = dict(unit="unit", time="time", cohort="cohort", outcome="y", method="reg")


@pytest.fixture(scope="module")
def df():
    return cs_panel(n_units=300, seed=11)


def test_units_treated_in_every_period_are_dropped_with_warning(df):
    bad = df.copy()
    bad.loc[bad["unit"] <= 5, "cohort"] = 1  # treated from the first period on
    with pytest.warns(DroppedUnitsWarning, match="5 unit"):
        r = att_gt(bad, **KW)
    ref = att_gt(bad[bad["unit"] > 5], **KW)
    pd.testing.assert_frame_equal(r.table, ref.table)
    assert 1 not in set(r.table["group"])


def test_single_unit_cohort_is_estimated_with_warning(df):
    one = df.copy()
    one.loc[one["unit"] == 1, "cohort"] = 2
    one = one[(one["cohort"] != 2) | (one["unit"] == 1)]
    with pytest.warns(SmallCohortWarning, match="2 \\(1 unit\\)"):
        r = att_gt(one, **KW)
    cell = r.table.query("group == 2 and time == 2").iloc[0]
    y = one.pivot(index="unit", columns="time", values="y")
    dy = y[2] - y[1]
    never = one.query("cohort == 0")["unit"].unique()
    assert cell["att"] == pytest.approx(dy.loc[1] - dy.loc[never].mean(), abs=1e-12)
    assert np.isfinite(cell["se"])


def test_cohort_changing_within_unit_is_an_error(df):
    bad = df.copy()
    row = (bad["unit"] == 3) & (bad["time"] == 4)
    bad.loc[row, "cohort"] = 4 if bad.loc[row, "cohort"].iloc[0] != 4 else 3
    with pytest.raises(DidDataError, match="changes within 1 unit"):
        att_gt(bad, **KW)


def test_missing_outcomes_drop_the_unit_with_warning(df):
    bad = df.copy()
    bad.loc[(bad["unit"] == 7) & (bad["time"] == 2), "y"] = np.nan
    with pytest.warns(DroppedUnitsWarning) as rec:
        r = att_gt(bad, **KW)
    msgs = " ".join(str(w.message) for w in rec)
    assert "1 row(s) with missing values" in msgs and "balance the panel" in msgs
    ref = att_gt(df[df["unit"] != 7], **KW)
    pd.testing.assert_frame_equal(r.table, ref.table)
    assert r.data.n_units == df["unit"].nunique() - 1


def test_no_never_treated_with_control_never_points_to_notyet(df):
    treated = df[df["cohort"] > 0]
    with pytest.raises(DidDataError, match="control='notyet'"):
        att_gt(treated, **KW)
    with pytest.warns(DroppedUnitsWarning, match="serves only as a control"):
        r = att_gt(treated, control="notyet", **KW)
    assert set(r.table["group"]) == {3, 4}  # the last cohort (5) is only a control
    assert r.table["time"].max() == 4


def test_duplicate_unit_period_rows_are_an_error(df):
    bad = pd.concat([df, df.iloc[[10]]])
    with pytest.raises(DidDataError, match="1 duplicate unit-time"):
        att_gt(bad, **KW)


def test_unknown_options_and_columns(df):
    with pytest.raises(ConfigError, match="'never', 'notyet'"):
        att_gt(df, **{**KW, "control": "nevertreated"})
    with pytest.raises(ConfigError):
        att_gt(df, **{**KW, "method": "ols"})
    with pytest.raises(DidDataError, match="not in the data"):
        att_gt(df, **{**KW, "outcome": "lemp"})
    with pytest.raises(DidDataError, match="negative"):
        att_gt(df.assign(w=-1.0), weights="w", **KW)
    r = att_gt(df, **KW)
    with pytest.raises(ConfigError):
        aggregate(r, "event")
    assert issubclass(DidDataError, BotrygtError)


def test_unbalanced_panel_is_balanced_with_warning(df):
    bad = df.drop(index=df.index[(df["unit"] == 9) & (df["time"] == 6)])
    with pytest.warns(DroppedUnitsWarning, match="not observed in all 6 periods"):
        r = att_gt(bad, **KW)
    assert r.data.n_units == df["unit"].nunique() - 1
