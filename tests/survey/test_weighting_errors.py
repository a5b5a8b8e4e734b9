"""Every bad input named in issue 5 gets a clear error naming the problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.errors import (
    BotrygtError,
    ConfigError,
    ConvergenceError,
    DesignError,
    MarginsError,
)
from botrygt_eval.survey.calibrate import (
    calibrate_weights,
    calibration_matrix,
    poststratify_weights,
    rake_cells,
    rake_weights,
)
from botrygt_eval.survey.margins import encode, parse_margins
from botrygt_eval.survey.trim import trim_weights


def data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kommune_kode": [101, 101, 147, 147, 151, 151],
            "sex": ["male", "female", "male", "female", "male", "female"],
        }
    )


def margins(**change) -> pd.DataFrame:
    rows = [
        ("kommune_kode", "101", 500.0),
        ("kommune_kode", "147", 300.0),
        ("kommune_kode", "151", 200.0),
        ("sex", "male", 490.0),
        ("sex", "female", 510.0),
    ]
    m = pd.DataFrame(rows, columns=["variable", "level", "total"])
    for (v, lev), t in change.get("totals", {}).items():
        m.loc[(m["variable"] == v) & (m["level"] == lev), "total"] = t
    return m


W = np.ones(6)


def test_all_errors_are_botrygt_errors():
    for cls in (MarginsError, ConvergenceError, DesignError, ConfigError):
        assert issubclass(cls, BotrygtError)


def test_inconsistent_margin_totals_name_both_sums():
    m = pd.concat(
        [
            margins(),
            pd.DataFrame(
                [("age_band", "18-29", 4_000_000.0), ("age_band", "30+", 812_330.0)],
                columns=["variable", "level", "total"],
            ),
        ]
    )
    with pytest.raises(MarginsError) as exc:
        parse_margins(m)
    msg = str(exc.value)
    assert "'age_band' sum to 4,812,330" in msg
    assert "'kommune_kode' sums to 1,000" in msg
    assert "same population" in msg


def test_level_in_data_missing_from_margins():
    m = margins()
    m = m[~((m["variable"] == "kommune_kode") & (m["level"] == "151"))]
    m.loc[m["level"] == "101", "total"] = 700.0
    with pytest.raises(MarginsError, match=r"'kommune_kode' has level\(s\) \['151'\] in the data"):
        rake_weights(data(), W, m)


def test_level_in_margins_missing_from_data():
    m = pd.concat(
        [
            margins(totals={("sex", "male"): 400.0}),
            pd.DataFrame([("sex", "other", 90.0)], columns=["variable", "level", "total"]),
        ]
    )
    with pytest.raises(MarginsError, match=r"'sex' level\(s\) \['other'\].*empty cell"):
        rake_weights(data(), W, m)


def test_missing_values_and_missing_column():
    d = data().astype({"sex": object})
    d.loc[0, "sex"] = None
    with pytest.raises(MarginsError, match="1 rows have no value of 'sex'"):
        rake_weights(d, W, margins())
    with pytest.raises(MarginsError, match="no column 'sex'"):
        rake_weights(data().drop(columns="sex"), W, margins())


def test_levels_match_by_string_form():
    d = data().assign(kommune_kode=lambda x: x["kommune_kode"].astype(float))
    codes = encode(d, parse_margins(margins()))
    assert codes["kommune_kode"].tolist() == [0, 0, 1, 1, 2, 2]
    m = margins().assign(level=lambda x: x["level"].where(x["variable"] == "sex", None))
    m.loc[m["variable"] == "kommune_kode", "level"] = [101, 147, 151]  # ints in the frame
    assert rake_weights(data(), W, m).converged


def test_bad_margins_frames():
    with pytest.raises(MarginsError, match="lack the column"):
        parse_margins(margins().drop(columns="total"))
    with pytest.raises(MarginsError, match="more than once"):
        parse_margins(pd.concat([margins(), margins().iloc[[0]]]))
    with pytest.raises(MarginsError, match="finite numbers >= 0"):
        parse_margins(margins(totals={("sex", "male"): -1.0}))
    with pytest.raises(MarginsError, match=r"no margins for \['age_band'\]"):
        parse_margins(margins(), ["age_band"])


def test_zero_negative_or_missing_weights():
    for bad in (0.0, -2.0, np.nan):
        w = W.copy()
        w[2] = bad
        with pytest.raises(DesignError, match="1 input weights are zero, negative or missing"):
            rake_weights(data(), w, margins())


def test_raking_nonconvergence_names_the_margin():
    # structural zero: kommune 101 only has men, but its total exceeds all men
    d = pd.DataFrame({"k": ["a", "a", "b", "b"], "s": ["m", "m", "m", "f"]})
    m = pd.DataFrame(
        [("k", "a", 600.0), ("k", "b", 400.0), ("s", "m", 300.0), ("s", "f", 700.0)],
        columns=["variable", "level", "total"],
    )
    with pytest.raises(
        ConvergenceError, match=r"raking did not converge in 50 sweeps: margin '(k|s)'"
    ):
        rake_weights(d, np.ones(4), m, maxit=50)
    with pytest.raises(ConfigError, match="not a valid choice"):
        rake_cells(np.ones(2), [np.array([0, 1])], [np.ones(2)], stop="fast")  # type: ignore[arg-type]


def test_logit_bounds_errors():
    d = data()
    X, t, names = calibration_matrix(
        d, margins(totals={("sex", "male"): 100.0, ("sex", "female"): 900.0})
    )
    with pytest.raises(ConvergenceError, match="logit calibration did not converge") as exc:
        calibrate_weights(
            X, np.full(6, 1000 / 6), t, calfun="logit", bounds=(0.8, 1.2), names=names, maxit=50
        )
    named = str(exc.value).split("the total of '")[1].split("'")[0]
    assert named in names and "widen the bounds" in str(exc.value)
    with pytest.raises(ConfigError, match="finite bounds"):
        calibrate_weights(X, W, t, calfun="logit")
    with pytest.raises(ConfigError, match="L < 1 < U"):
        calibrate_weights(X, W, t, calfun="logit", bounds=(1.5, 3))
    with pytest.raises(ConfigError, match="not a valid choice"):
        calibrate_weights(X, W, t, calfun="cubic")  # type: ignore[arg-type]


def test_poststratify_takes_one_variable():
    with pytest.raises(ConfigError, match="one variable"):
        poststratify_weights(data(), W, margins())


def test_trim_bounds_that_cannot_hold_the_total():
    with pytest.raises(ConfigError, match="leave no room for the total"):
        trim_weights(np.array([1.0, 2, 3, 10]), upper=3)
    with pytest.raises(ConfigError, match="lower must be < upper"):
        trim_weights(np.array([1.0, 2]), upper=1, lower=2)


def test_level_with_respondents_but_zero_total():
    with pytest.raises(MarginsError, match=r"'sex' level\(s\) \['male'\] have respondents but"):
        rake_weights(data(), W, margins(totals={("sex", "male"): 0.0, ("sex", "female"): 1000.0}))
