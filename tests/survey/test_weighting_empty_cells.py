"""Margin cells without respondents: dropped (a kommune) or collapsed (other variables)."""

from __future__ import annotations

import pandas as pd
import pytest

from botrygt_eval.errors import MarginsError
from botrygt_eval.io.workspace import load_workspace
from botrygt_eval.simulate import SimulationConfig, simulate_workspace
from botrygt_eval.survey.empty_cells import fix_empty_cells
from botrygt_eval.survey.pipeline import survey_estimates

MARGINS = pd.DataFrame(
    {
        "variable": ["kommune_kode"] * 3 + ["sex"] * 2 + ["age_band"] * 4,
        "level": ["101", "147", "461", "male", "female", "18-29", "30-44", "45-64", "65+"],
        "total": [600.0, 300, 100, 490, 510, 200, 300, 300, 200],
    }
)


def data(kommuner=(101, 147, 461), ages=("18-29", "30-44", "45-64", "65+")):
    rows = [(k, s, a) for k in kommuner for s in ("male", "female") for a in ages]
    return pd.DataFrame(rows, columns=["kommune_kode", "sex", "age_band"])


def test_nothing_empty_changes_nothing():
    m, notes = fix_empty_cells(MARGINS, data())
    assert notes == [] and m.equals(MARGINS.assign(level=MARGINS["level"].astype(str)))


def test_an_empty_kommune_is_dropped_and_the_other_margins_scaled():
    m, notes = fix_empty_cells(MARGINS, data(kommuner=(101, 461)))
    tot = m.groupby("variable", sort=False)["total"].sum()
    assert tot["kommune_kode"] == pytest.approx(700) and tot["sex"] == pytest.approx(700)
    assert tot["age_band"] == pytest.approx(700)
    assert "147" not in set(m["level"])
    assert m.set_index("level").loc["male", "total"] == pytest.approx(490 * 0.7)
    assert notes == [dict(variable="kommune_kode", level="147", action="dropped", into="",
                          scale=pytest.approx(0.7))]  # fmt: skip


def test_an_empty_age_band_joins_its_nearest_neighbour():
    m, notes = fix_empty_cells(MARGINS, data(ages=("18-29", "30-44", "45-64")))
    ages = m[m["variable"] == "age_band"].set_index("level")["total"]
    assert ages.to_dict() == {"18-29": 200, "30-44": 300, "45-64": 500}
    assert notes[0]["action"] == "collapsed" and notes[0]["into"] == "45-64"
    m, notes = fix_empty_cells(MARGINS, data(ages=("18-29", "45-64", "65+")))
    assert notes[0]["into"] == "18-29"  # a tie goes to the preceding band


def test_no_respondent_in_any_level_is_refused():
    with pytest.raises(MarginsError, match="no respondent has any level of 'sex'"):
        fix_empty_cells(MARGINS, data().assign(sex="x"))


def test_a_kommune_without_respondents_in_one_year_leaves_the_rest(tmp_path):
    """Remove every 2022 response of one kommune: 2022 is still estimated, that kommune has
    no 2022 rows and a note says so; 2021 is exactly as before."""
    cfg = SimulationConfig(survey_start_year=2021, write_frame=False, survey_min_n=60,
                           survey_fraction=0.001)  # fmt: skip
    simulate_workspace(tmp_path, seed=4, config=cfg)
    ws = load_workspace(tmp_path)
    before, _ = survey_estimates(ws, outcomes=("fear_burglary",), years=[2021, 2022])
    sample = ws.samples
    gone = set(sample.loc[(sample["year"] == 2022) & (sample["kommune_kode"] == 147), "resp_id"])
    r = ws.responses
    ws.responses.drop(r.index[(r["year"] == 2022) & r["resp_id"].isin(gone)], inplace=True)
    after, diag = survey_estimates(ws, outcomes=("fear_burglary",), years=[2021, 2022])
    assert after[(after["year"] == 2022) & (after["kommune_kode"] == 147)].empty
    assert not after[(after["year"] == 2022) & (after["kommune_kode"] == 101)].empty
    note = diag.loc[diag["statistic"] == "empty_cell"]
    assert list(note["year"]) == [2022] and "kommune_kode=147" in note["note"].iloc[0]
    pd.testing.assert_frame_equal(before[before["year"] == 2021].reset_index(drop=True),
                                  after[after["year"] == 2021].reset_index(drop=True))  # fmt: skip
