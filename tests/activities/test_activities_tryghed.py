"""Activities that aim at tryghed are judged on worry about burglary too (hand-made tables).

Each case is a decision table built so that one branch of the rule must decide; the
critical values are recomputed here from scipy, not taken from the rule.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from botrygt_eval.activities.reasons import activity_reasons
from botrygt_eval.activities.rule import DecisionRule, decide

RULE = DecisionRule()
#: 8 types, 40 activities in 10 kommuner each; burglary estimate 0 with a tiny SE (a
#: powered null) unless a case changes it
BASE = dict(n_activities=40, n_kommuner=10, estimate=0.0, se=0.002, nh_estimate=np.nan,
            nh_se=np.nan)  # fmt: skip
TYPES = ["bo_trygt_korps", "tryghedsvandring", "borgermoede", "kampagne", "lokalt_arrangement",
         "mobil_politistation", "reaktionsplan", "data_gis"]  # fmt: skip


def table(**cases) -> pd.DataFrame:
    rows = []
    for t in TYPES:
        rows.append({"activity_type": t, **BASE, "fear_burglary_estimate": np.nan,
                     "fear_burglary_se": np.nan, **cases.get(t, {})})  # fmt: skip
    return pd.DataFrame(rows)


def verdicts(d: pd.DataFrame) -> dict:
    return dict(zip(d["activity_type"], zip(d["verdict_code"], d["verdict_branch"], strict=True),
                    strict=True))  # fmt: skip


def test_a_burglary_null_never_drops_a_tryghed_activity_without_worry_evidence():
    v = verdicts(decide(table(), RULE))
    assert v["bo_trygt_korps"] == ("drop", "drop_null")  # aims at burglary only
    for t in ("tryghedsvandring", "borgermoede", "kampagne", "lokalt_arrangement"):
        assert v[t] == ("insufficient", "no_fear_measure"), t


def test_worry_decides_for_tryghed_types():
    d = decide(table(
        tryghedsvandring={"fear_burglary_estimate": -3.0, "fear_burglary_se": 0.5},
        borgermoede={"fear_burglary_estimate": 3.0, "fear_burglary_se": 0.5},
        kampagne={"fear_burglary_estimate": 0.0, "fear_burglary_se": 0.05},
        lokalt_arrangement={"fear_burglary_estimate": 0.0, "fear_burglary_se": 3.0},
        mobil_politistation={"estimate": -0.2, "se": 0.02, "fear_burglary_estimate": 3.0,
                             "fear_burglary_se": 0.5},
        bo_trygt_korps={"fear_burglary_estimate": -3.0, "fear_burglary_se": 0.5},
    ), RULE)  # fmt: skip
    v = verdicts(d)
    assert v["tryghedsvandring"] == ("repeat", "repeat_tryghed")
    assert v["borgermoede"] == ("drop", "drop_fear")
    assert v["kampagne"] == ("drop", "drop_null")  # worry ruled out with power too
    assert v["lokalt_arrangement"] == ("insufficient", "no_fear_measure")  # worry unpowered
    assert v["mobil_politistation"] == ("change", "change_mixed_fear")
    assert v["bo_trygt_korps"] == ("drop", "drop_null")  # not a tryghed type: worry ignored


def test_worry_tests_join_the_bonferroni_family():
    d = decide(table(tryghedsvandring={"fear_burglary_estimate": -3.0, "fear_burglary_se": 0.5},
                     bo_trygt_korps={"fear_burglary_estimate": -3.0, "fear_burglary_se": 0.5}),
               RULE)  # fmt: skip
    m = len(TYPES) + 1  # eight burglary estimates, one worry estimate of a tryghed type
    z = stats.norm.ppf(1 - 0.05 / (2 * m))
    r = d.set_index("activity_type").loc["tryghedsvandring"]
    assert r["fear_burglary_ci_high"] == pytest.approx(-3.0 + z * 0.5, rel=1e-12)
    assert r["ci_high"] == pytest.approx(0.0 + z * 0.002, rel=1e-12)
    mde = (z + stats.norm.ppf(0.8)) * 0.5
    assert r["fear_burglary_mde"] == pytest.approx(mde, rel=1e-12)


def _numbers(text: str, lang: str) -> list[float]:
    if lang == "da":
        text = text.replace(".", "").replace(",", ".").replace("−", "-")
    return [float(x) for x in re.findall(r"[-+]?\d+(?:\.\d+)?", text)]


@pytest.mark.parametrize("lang", ["da", "en"])
def test_reasons_carry_the_tables_numbers(lang):
    d = decide(table(
        tryghedsvandring={"fear_burglary_estimate": -3.0, "fear_burglary_se": 0.5},
        reaktionsplan={"estimate": -0.2, "se": 0.02, "nh_estimate": 1.5, "nh_se": 0.2},
    ), RULE)  # fmt: skip
    reasons = dict(zip(d["activity_type"], activity_reasons(d, RULE, lang), strict=True))
    r = d.set_index("activity_type")
    nums = _numbers(reasons["tryghedsvandring"], lang)
    f = r.loc["tryghedsvandring"]
    for x in (-3.0, f["fear_burglary_ci_low"], f["fear_burglary_ci_high"]):
        assert any(abs(n - round(x, 2)) < 1e-9 for n in nums), (x, reasons["tryghedsvandring"])
    k = r.loc["reaktionsplan"]
    nums = _numbers(reasons["reaktionsplan"], lang)
    for x in (k["estimate"], k["ci_low"], k["ci_high"]):
        assert any(abs(n - round(100 * np.expm1(x), 1)) < 1e-9 for n in nums)
    assert 1.5 in nums
    if lang == "da":
        assert reasons["tryghedsvandring"].endswith("gentag.")
        assert "ingen måling af bekymring" in reasons["borgermoede"]
        assert list(d["reasons"]) == list(reasons.values())
    else:
        assert reasons["tryghedsvandring"].endswith("repeat.")
        assert not re.search("[æøå]", " ".join(reasons.values()).replace("Nabohjælp", ""))
