"""The evaluation's headline: agreement, pre-trend direction, breakdown, verdict."""

from __future__ import annotations

import types

import pandas as pd
import pytest

from botrygt_eval.did.headline import headline, intervals_agree


def effects(rows):
    return pd.DataFrame(
        [
            dict(outcome="log_rate", estimator=n, estimate=e, ci_low=lo, ci_high=hi, n_units=98)
            for n, e, lo, hi in rows
        ]  # fmt: skip
    )


def es(pvalue, leads):
    table = pd.DataFrame({"event_time": [-3, -2, -1, 0], "estimate": [*leads, 0.0, -0.1]})
    return types.SimpleNamespace(pretrend={"stat": 9.0, "df": 2, "p_value": pvalue}, table=table,
                                 reference=-1)  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "agree"),
    [
        ([("a", -0.1, -0.2, -0.05), ("b", -0.05, -0.08, 0.01)], True),
        ([("a", -0.1, -0.2, -0.09), ("b", -0.05, -0.08, 0.01)], False),  # no common point
        ([("a", -0.1, -0.2, 0.05), ("b", 0.02, -0.08, 0.1)], False),  # signs differ
    ],
)
def test_intervals_agree(rows, agree):
    assert intervals_agree(effects(rows)) is agree


def test_robust_only_when_every_check_passes():
    rows = [("TWFE", -0.1, -0.15, -0.05), ("CS", -0.12, -0.2, -0.04)]
    h = headline(effects(rows), es(0.4, [0.01, -0.01]), breakdown=1.3)
    assert h.verdict == "robust" and h.reasons == () and h.pretrend_direction == "none"
    assert list(h.to_frame()["excludes_zero"]) == [True, True]
    h = headline(effects(rows), es(0.001, [0.2, 0.1]), breakdown=0.1)
    assert h.verdict == "uncertain" and h.reasons == ("pretrend", "fragile")
    assert h.pretrend_direction == "falling_faster"  # higher before: falling faster already
    h = headline(effects([*rows, ("PPML", 0.03, -0.4, 0.5)]), es(0.01, [-0.2, -0.1]), 2.0)
    assert h.reasons == ("disagree", "pretrend") and h.pretrend_direction == "falling_slower"
    assert h.to_dict()["verdict"] == "uncertain" and "chi2(2)" in h.summary()
