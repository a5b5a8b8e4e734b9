"""SurveyDesign: validation once, errors naming the problem, lonely-PSU remedies by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.errors import ConfigError, DesignError
from botrygt_eval.survey.design import Adjustment, SurveyDesign
from botrygt_eval.survey.estimators import svymean, svytotal
from botrygt_eval.survey.variance import linearization_vcov, stratified_vcov


def frame(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": np.arange(n, dtype=float),
            "w": np.full(n, 2.0),
            "s": np.repeat(["a", "b", "c"], n // 3),
            "c": np.arange(n) // 2,
            "N": np.repeat([40.0, 50.0, 60.0], n // 3),
        }
    )


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_bad_weights_are_counted(bad):
    d = frame()
    d.loc[[1, 4], "w"] = bad
    with pytest.raises(DesignError, match=r"^2 of 12 rows have a zero, negative or missing"):
        SurveyDesign.from_frame(d, weights="w")


def test_unknown_columns_are_named():
    with pytest.raises(ConfigError, match="no weight column 'wt'"):
        SurveyDesign.from_frame(frame(), weights="wt")
    with pytest.raises(ConfigError, match="no stratum column 'st'"):
        SurveyDesign.from_frame(frame(), weights="w", strata="st")


def test_missing_stratum_is_refused():
    d = frame()
    d.loc[3, "s"] = None
    with pytest.raises(DesignError, match="1 row\\(s\\) have no stratum"):
        SurveyDesign.from_frame(d, weights="w", strata="s")


def test_clusters_must_nest_in_strata():
    d = frame()
    d["c"] = np.arange(12) % 4  # PSU 0 appears in strata a, b and c
    with pytest.raises(DesignError, match="not nested in strata.*nest=True"):
        SurveyDesign.from_frame(d, weights="w", strata="s", clusters="c")
    des = SurveyDesign.from_frame(d, weights="w", strata="s", clusters="c", nest=True)
    assert des.n_psu == 12 and des.n_strata == 3


def test_fpc_must_be_constant_within_stratum_and_at_least_n_h():
    d = frame()
    d.loc[0, "N"] = 41.0
    with pytest.raises(DesignError, match="varies within stratum 'a'"):
        SurveyDesign.from_frame(d, weights="w", strata="s", fpc="N")
    d = frame()
    d["N"] = 3.0  # 4 sampled units per stratum
    with pytest.raises(DesignError, match="at least the number of sampled PSUs"):
        SurveyDesign.from_frame(d, weights="w", strata="s", fpc="N")


def test_fpc_as_fraction_equals_population_size():
    d = frame()
    d["f"] = 4 / d["N"]
    a = SurveyDesign.from_frame(d, weights="w", strata="s", fpc="N")
    b = SurveyDesign.from_frame(d, weights="w", strata="s", fpc="f")
    np.testing.assert_allclose(a.fpc, b.fpc)
    assert svymean(a, "y").se.iloc[0] == pytest.approx(svymean(b, "y").se.iloc[0], rel=1e-12)


def lonely() -> pd.DataFrame:
    """Stratum 'a' has one PSU (two rows), strata 'b' and 'c' have two each."""
    return pd.DataFrame(
        {
            "y": [1.0, 3.0, 2.0, 5.0, 4.0, 7.0, 6.0, 9.0],
            "w": [2.0, 2.0, 3.0, 3.0, 1.0, 1.0, 2.0, 2.0],
            "s": ["a", "a", "b", "b", "c", "c", "c", "c"],
            "c": [1, 1, 2, 3, 4, 4, 5, 5],
            "N": [10.0, 10.0, 8.0, 8.0, 5.0, 5.0, 5.0, 5.0],
        }
    )


def test_lonely_psu_fails_by_default_naming_the_stratum():
    with pytest.raises(DesignError, match=r"single PSU \('a'\).*lonely_psu="):
        SurveyDesign.from_frame(lonely(), weights="w", strata="s", clusters="c")


def _by_hand(lonely_rule: str, fpc: bool) -> float:
    """Variance of the total of y, written out stratum by stratum (R's onestrat)."""
    d = lonely()
    t = (d["w"] * d["y"]).groupby([d["s"], d["c"]]).sum()
    v = 0.0
    for s, ts in t.groupby(level=0):
        n = len(ts)
        f = 1 - n / d.loc[d["s"] == s, "N"].iloc[0] if fpc else 1.0
        if n > 1:
            v += f * n / (n - 1) * float(((ts - ts.mean()) ** 2).sum())
        elif lonely_rule == "adjust":
            v += f * float((ts**2).sum())
    return v


@pytest.mark.parametrize("rule", ["adjust", "certainty", "remove"])
@pytest.mark.parametrize("fpc", [True, False])
def test_lonely_psu_remedies(rule, fpc):
    des = SurveyDesign.from_frame(
        lonely(), weights="w", strata="s", clusters="c", fpc="N" if fpc else None, lonely_psu=rule
    )
    assert des.lonely_psu == rule
    se = svytotal(des, "y").se.iloc[0]
    assert se**2 == pytest.approx(_by_hand(rule, fpc), rel=1e-12)


def test_certainty_stratum_is_not_lonely():
    d = lonely()
    d.loc[d["s"] == "a", "N"] = 1.0  # the only PSU of the population stratum: no variance
    des = SurveyDesign.from_frame(d, weights="w", strata="s", clusters="c", fpc="N")
    assert des.lonely_strata.size == 0
    assert svytotal(des, "y").se.iloc[0] ** 2 == pytest.approx(
        _by_hand("certainty", True), rel=1e-12
    )


def test_with_weights_and_subset_domain_keep_the_design_frozen():
    des = SurveyDesign.from_frame(frame(), weights="w", strata="s", fpc="N")
    X = np.ones((12, 1))
    new = des.with_weights(np.full(12, 3.0), Adjustment(kind="linear", X=X))
    assert des.adjustments == () and len(new.adjustments) == 1
    assert new.adjustments[0].details["weights_after"][0] == 3.0  # recorded for the variance
    dom = new.subset_domain(new.data["s"] == "a")
    assert dom.n == 12 and (dom.weights[4:] == 0).all() and dom.adjustments is new.adjustments
    with pytest.raises(DesignError, match="5 new weights for a design of 12 rows"):
        des.with_weights(np.ones(5), Adjustment(kind="trim", X=None))
    with pytest.raises(DesignError, match="X has 3 rows"):
        des.with_weights(np.ones(12), Adjustment(kind="rake", X=np.ones((3, 1))))
    with pytest.raises(ConfigError, match="kind='bogus'"):
        Adjustment(kind="bogus", X=None)  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="negative or missing"):
        des.with_weights(-np.ones(12), Adjustment(kind="trim", X=None))


def test_calibration_chain_equals_sequential_regressions():
    """Two recorded steps: residualise on X1 (weights R1, W1), then on X2 (R2, W2)."""
    rng = np.random.default_rng(3)
    n = 60
    d = pd.DataFrame(
        {
            "w": rng.uniform(1, 3, n),
            "s": np.repeat([0, 1, 2], 20),
            "c": np.arange(n) // 4,
        }
    )
    des = SurveyDesign.from_frame(d, weights="w", strata="s", clusters="c")
    X1 = np.column_stack([np.ones(n), rng.integers(0, 2, n)])
    X2 = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 3, n) == 1])
    W1, W2 = rng.uniform(1, 3, n), rng.uniform(1, 3, n)
    R1, R2 = np.ones(n), rng.uniform(0.5, 2, n)
    des1 = des.with_weights(W1, Adjustment("rake", X1, {"regression_weights": R1}))
    des2 = des1.with_weights(W2, Adjustment("linear", X2, {"regression_weights": R2}))
    x = rng.normal(size=(n, 2))

    def wls_resid(v, X, r):
        beta = np.linalg.lstsq(X * np.sqrt(r)[:, None], v * np.sqrt(r)[:, None], rcond=None)[0]
        return v - X @ beta

    step1 = W1[:, None] * wls_resid(x / W1[:, None], X1, R1)
    step2 = W2[:, None] * wls_resid(step1 / W2[:, None], X2.astype(float), R2)
    np.testing.assert_allclose(
        linearization_vcov(x, des2), stratified_vcov(step2, des2), rtol=1e-10
    )
