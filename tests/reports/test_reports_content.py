"""Report tables on small hand-made frames whose answers are worked out by hand."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.activities.reasons import activity_reasons
from botrygt_eval.panel.balance import balanced
from botrygt_eval.reports.output import show_table
from botrygt_eval.reports.sentences import fmt_interval
from botrygt_eval.reports.tables import (
    activity_summary,
    activity_totals,
    burglary_trends,
    count_targets,
    kommune_burglary,
    publishable,
    similar_kommuner,
    survey_table,
    targets_table,
)


def _estimates() -> pd.DataFrame:
    return pd.DataFrame({
        "year": [2025] * 4,
        "kommune_kode": [pd.NA, 101, 147, 153],
        "variable": ["fear_burglary"] * 4,
        "estimate": [0.2, 0.3, 0.4, 0.5],
        "se": [0.01, 0.05, 0.1, 0.1],
        "ci_low": [0.18, 0.2, 0.2, 0.3],
        "ci_high": [0.22, 0.4, 0.6, 0.7],
        "n": [1000, 50, 9, 12],
        "deff": [1.1, 1.0, 1.0, 1.0],
        "suppressed": [False, False, False, True],
    }).astype({"kommune_kode": "Int64"})  # fmt: skip


def test_publishable_blanks_cells_under_the_threshold_and_flagged_ones():
    out = publishable(_estimates(), min_cell=10)
    assert out["suppressed"].tolist() == [False, False, True, True]
    assert out.loc[out["suppressed"], ["estimate", "se", "ci_low", "ci_high"]].isna().all().all()
    assert out.loc[~out["suppressed"], "estimate"].tolist() == [0.2, 0.3]
    assert out["n"].tolist() == [1000, 50, 9, 12]  # n stays: the reader sees why


def test_survey_table_in_percent_for_the_nation_and_a_kommune():
    nat = survey_table(_estimates(), 2025, None)
    assert nat.loc[0, ["estimate", "ci_low", "ci_high"]].tolist() == [20.0, 18.0, 22.0]
    k = survey_table(_estimates(), 2025, 147)
    assert k.loc[0, "suppressed"] and np.isnan(k.loc[0, "estimate"])


def _panel() -> pd.DataFrame:
    # two kommuner in Københavns Politi (101, 147), one elsewhere (851); 101 in a partnership
    rows = []
    for year in (2020, 2021):
        for k, hh, b in ((101, 1000, 10 + year - 2020), (147, 500, 2), (851, 2000, 8)):
            rows.append(dict(kommune_kode=k, year=year, households=hh, burglaries=b,
                             ever_treated=int(k == 101)))  # fmt: skip
    p = pd.DataFrame(rows)
    p["rate"] = 1000 * p["burglaries"] / p["households"]
    return p


def test_burglary_trends_pool_counts_over_households():
    t = burglary_trends(_panel()).set_index(["year", "gruppe"])
    assert t.loc[(2020, "Partnerskabskommuner"), "rate"] == pytest.approx(10.0)
    # others: (2 + 8) / (500 + 2000) * 1000 = 4, not the mean of the two rates (4 + 4 = 8/2)
    assert t.loc[(2020, "Øvrige kommuner"), "rate"] == pytest.approx(4.0)
    assert t.loc[(2021, "Partnerskabskommuner"), "rate"] == pytest.approx(11.0)


def test_kommune_burglary_compares_with_district_similar_and_nation():
    t = kommune_burglary(_panel(), 101)
    r = t[t["year"].eq(2020)].set_index("enhed")["rate"]
    assert r["København"] == pytest.approx(10.0)
    assert r["Københavns Politi (øvrige kommuner)"] == pytest.approx(4.0)  # 147 only
    assert r["Hele landet"] == pytest.approx(1000 * 20 / 3500)
    assert similar_kommuner(_panel(), 101, k=1) == [147]  # |log 500 - log 1000| < |log 2000 - ...|


def test_targets_table_words_and_counts():
    kpis = pd.DataFrame({"kommune_kode": [101, 147, 151], "ended": [False, True, False],
                         "judged_year": [2025, 2022, 2025],
                         "burglary_target_status_code": ["met", "too_early", ""],
                         "fear_target_status_code": ["", "not_met", "met"],
                         "nabohjaelp_target_status_code": ["met", "not_met", ""],
                         "net_change_pct": [-12.0, np.nan, 3.0],
                         "net_change_ci_low": [-20.0, np.nan, -5.0],
                         "net_change_ci_high": [-4.0, np.nan, 11.0],
                         "fear_share_pct": [np.nan, 20.0, 10.0],
                         "fear_ci_low": [np.nan, 15.0, 8.0],
                         "fear_ci_high": [np.nan, 25.0, 12.0]})  # fmt: skip
    d = targets_table(kpis, "da")
    assert list(d["status"]) == ["aktiv", "afsluttet 2022", "aktiv"]
    assert list(d["burglary_target_status_text"]) == ["nået", "for tidligt at sige", ""]
    assert list(targets_table(kpis, "en")["fear_target_status_text"]) == ["", "not met", "met"]
    assert count_targets(kpis) == {"met": 1, "not_met": 0, "too_early": 1, "n": 2}
    assert list(d["net_change"]) == ["-12,0 % (95 %-KI -20,0 til -4,0 %)", "",
                                     "3,0 % (95 %-KI -5,0 til 11,0 %)"]  # fmt: skip
    assert d["fear_share"].iloc[0] == "" and d["fear_share"].iloc[2].startswith("10,0 %")


def test_activity_sums_keep_unknown_reach_and_cost_missing():
    acts = pd.DataFrame({
        "activity_id": ["a", "b", "c", "d"], "kommune_kode": [101, 101, 147, 147],
        "activity_type": ["kampagne", "kampagne", "kampagne", "data_gis"],
        "start_date": ["2021-01-01", "2021-05-01", "2022-01-01", "2022-02-01"],
        "end_date": [None] * 4, "reach": [100, np.nan, 300, np.nan],
        "cost_dkk": [1000, 500, np.nan, np.nan],
    })  # fmt: skip
    s = activity_summary(acts).set_index(["activity_type", "year"])
    assert s.loc[("kampagne", 2021), ["antal", "reach", "n_reach", "cost_dkk"]].tolist() == [
        2,
        100,
        1,
        1500,
    ]
    assert np.isnan(s.loc[("data_gis", 2022), "reach"])  # none reported: missing, not 0
    t = activity_totals(acts).set_index("activity_type")
    # cost per person reached only over activities with both: a (1000 / 100)
    assert t.loc["kampagne", "kr_pr_naaet"] == pytest.approx(10.0)
    assert np.isnan(t.loc["data_gis", "kr_pr_naaet"])
    assert len(activity_summary(acts, 147)) == 2


def test_balanced_drops_kommuner_with_a_missing_period():
    p = _panel().assign(log_rate=1.0, observed=1)
    p.loc[(p["kommune_kode"] == 851) & (p["year"] == 2021), "log_rate"] = np.nan
    b, dropped = balanced(p)
    assert dropped == [851] and set(b["kommune_kode"]) == {101, 147}


def test_interval_text_in_danish_format():
    assert fmt_interval(12.34, 10.1, 14.56, unit=" %") == "12,3 % (95 %-KI 10,1 til 14,6 %)"
    assert fmt_interval(np.nan, np.nan, np.nan).startswith("undertrykt")


@pytest.mark.parametrize("name", ["national", "kommune", "activities", "learning_review"])
def test_template_text_and_notebook_are_in_step(name):
    """The reviewable .py and the executed .ipynb hold the same cells (jupytext pair)."""
    import jupytext

    from botrygt_eval.reports.render import TEMPLATES

    py = jupytext.read(TEMPLATES / f"{name}.py")
    ipynb = jupytext.read(TEMPLATES / f"{name}.ipynb")
    assert [c.source for c in py.cells] == [c.source for c in ipynb.cells]
    assert "parameters" in py.cells[0].metadata.get("tags", [])


def _numbers(text: str, lang: str) -> list[float]:
    """Every number of a reason, read the way its language writes them."""
    if lang == "da":
        text = text.replace(".", "").replace(",", ".").replace("−", "-")
    return [float(x) for x in re.findall(r"[-+]?\d+(?:\.\d+)?", text)]


def test_english_activity_reasons_carry_the_rules_own_numbers_and_cautions():
    """The English reason of each verdict has the numbers of the rule's Danish reason.

    Both are written from the decision table by botrygt_eval.activities.reasons (the
    report only delegates); the table is built so that every burglary branch and the
    pre-trend caution occur. The numbers themselves are checked against the table in
    tests/activities/test_activities_tryghed.py.
    """
    from botrygt_eval.activities.rule import DecisionRule, decide

    table = pd.DataFrame({
        "activity_type": ["kampagne", "borgermoede", "bo_trygt_korps", "andet", "data_gis",
                          "reaktionsplan", "tryghedsvandring"],
        "n_activities": [40, 40, 40, 40, 40, 40, 3],
        "n_kommuner": [10, 10, 10, 10, 10, 10, 2],
        "estimate": [-0.10, 0.08, 0.0, 0.0, -0.10, 0.01, -0.2],
        "se": [0.02, 0.02, 0.005, 0.08, 0.02, 0.05, 0.1],
        "nh_estimate": [0.5, np.nan, np.nan, 0.0, -2.0, 3.0, np.nan],
        "nh_se": [0.1, np.nan, np.nan, 0.5, 0.1, 0.2, np.nan],
        "lead_estimate": [0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0],
        "lead_se": [0.05] * 7,
    })  # fmt: skip
    rule = DecisionRule()
    d = decide(table, rule)
    assert set(d["verdict_code"]) == {"repeat", "drop", "insufficient", "change"}
    en = activity_reasons(d, rule, "en")
    assert activity_reasons(d, rule, "da") == list(d["reasons"])
    for da_text, en_text in zip(d["reasons"], en, strict=True):
        assert not re.search("[æøå]", en_text.replace("Nabohjælp", "")), en_text
        assert _numbers(en_text, "en") == pytest.approx(_numbers(da_text, "da")), (da_text, en_text)
        assert ("Bemærk" in da_text) == ("Note:" in en_text)
    verdict_words = {"repeat": "Repeat.", "drop": "Stop", "insufficient": "More data"}
    for code, word in verdict_words.items():
        assert any(word in r for r, c in zip(en, d["verdict_code"], strict=True) if c == code)


def _shown(monkeypatch, frame, columns, **kw) -> str:
    """The HTML ``show_table`` displays."""
    import IPython.display

    seen = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: seen.append(obj.data))
    show_table(frame, columns, **kw)
    return seen[0]


def test_show_table_formats_numbers_per_language_and_keeps_codes_plain(monkeypatch):
    frame = pd.DataFrame({"aktivitet": ["Kampagne", "Andet"], "year": [2024, 2025],
                          "cost_dkk": [1234567.5, np.nan]}, index=[0, 0])  # fmt: skip
    headers = {"aktivitet": "Activity", "year": "Year", "cost_dkk": "Cost (DKK)"}
    en = _shown(monkeypatch, frame, headers, lang="en")  # non-unique index (concatenated frames)
    da = _shown(monkeypatch, frame, headers)
    assert ">1,234,567.5<" in en and ">1.234.567,5<" in da
    assert ">2024<" in en and ">2024<" in da  # years without a thousands separator
    assert ">–<" in en  # missing cost
    assert "text-align: left" in en  # the label column reads left-aligned


def test_simulated_data_stay_simulated_without_their_documents(tmp_path):
    """The simulator's marker in the data decides too: deleting README.md and truth.json
    does not make a simulated workspace pass as real."""
    from botrygt_eval.io.simulated import workspace_is_simulated as is_simulated

    survey = tmp_path / "survey"
    survey.mkdir()
    (survey / "projektleder_2025.csv").write_text("resp_id,year,styrket,simulated\na,2025,1,1\n")
    assert is_simulated(tmp_path)
    (survey / "projektleder_2025.csv").write_text("resp_id,year,styrket\na,2025,1\n")
    assert not is_simulated(tmp_path)
    (tmp_path / "truth.json").write_text("{}")
    assert is_simulated(tmp_path)


def test_own_effect_sentence_says_when_it_cannot_be_told_from_no_effect():
    from botrygt_eval.reports.sentences import own_effect_sentence

    null = pd.DataFrame({"effekt_pct": [-11.2], "ki_fra_pct": [-30.1], "ki_til_pct": [12.9]})
    text = own_effect_sentence(null, "København", "da")
    assert "11,2 % lavere" in text and "kan ikke skelnes fra ingen effekt" in text
    fall = pd.DataFrame({"effekt_pct": [-20.0], "ki_fra_pct": [-30.0], "ki_til_pct": [-8.0]})
    assert "**20,0 % lavere**" in own_effect_sentence(fall, "Aarhus", "da")
    assert "cannot be told apart" in own_effect_sentence(null, "København", "en")


def test_synth_chart_years_are_burglaries_per_1000_households_a_year():
    """Back from the quarterly log rate to counts: the yearly sum equals the register's
    burglaries per 1,000 households; a year with three quarters is left out."""
    import types

    from botrygt_eval.reports.tables import synth_in_years

    q = pd.DataFrame({"kommune_kode": 101, "period": range(11), "year": [2020] * 4 + [2021] * 4 + [2022] * 3,
                      "burglaries": [3, 0, 5, 2, 7, 1, 0, 4, 2, 2, 2], "households": 2000})  # fmt: skip
    q["log_rate"] = np.log((q["burglaries"] + 0.5) / q["households"] * 1000)
    traj = pd.DataFrame({"time": q["period"], "treated": q["log_rate"],
                         "synthetic": q["log_rate"] + np.log(2), "post": (q["year"] >= 2021).astype(int)})  # fmt: skip
    res = types.SimpleNamespace(trajectories=lambda: traj)
    y = synth_in_years(res, q, 101)
    assert list(y["year"]) == [2020, 2021]
    assert y["kommune"].tolist() == pytest.approx([10 / 2000 * 1000, 12 / 2000 * 1000])
    assert list(y["post"]) == [0, 1]
    assert y["sammenligning"].iloc[0] == pytest.approx(2 * (10 + 2) / 2000 * 1000 - 4 * 0.25)


def test_every_saved_figure_carries_its_own_alt_text(tmp_path, monkeypatch):
    """The PNG keeps a description from the chart's title and axes, and the report's <img>
    uses it as alt text."""
    import IPython.display
    import matplotlib.pyplot as plt

    from botrygt_eval.reports.output import ReportOutput, show_figure

    fig, ax = plt.subplots()
    ax.plot([2019, 2020], [1, 2])
    ax.set_title("Indbrud i Aarhus")
    ax.set_xlabel("År")
    ax.set_ylabel("Indbrud pr. 1.000 husstande")
    path = ReportOutput(tmp_path, simulated=False).figure(fig, "x")
    plt.close(fig)
    seen = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: seen.append(obj.data))
    show_figure(path)
    assert 'alt="Indbrud i Aarhus; x: År; y: Indbrud pr. 1.000 husstande"' in seen[0]


def test_tile_map_key_names_every_code():
    from botrygt_eval.monitoring.tilemap import tile_positions
    from botrygt_eval.reports.local import tile_key

    key = tile_key("da")
    tiles = tile_positions()
    assert key.startswith("<details>") and key.count("<b>") == 98
    assert "<b>KBH</b> København" in key and "<b>AAR</b> Aarhus" in key
    assert set(tiles["abbrev"]) <= set(re.findall(r"<b>(\w+)</b>", key))


def test_survey_gap_lines_read_the_prepared_csv_back():
    """The gaps survive the CSV round trip of the report cache (levels come back as floats
    when a missing-year row leaves them empty)."""
    import io

    from botrygt_eval.reports.sentences import survey_gap_lines

    csv = "year,kind,variable,level,into\n2021,missing_year,,,\n2023,dropped,kommune_kode,147,\n"
    gaps = pd.read_csv(io.StringIO(csv))
    assert survey_gap_lines(gaps, 147) == [
        "Borgerundersøgelsen mangler for 2021: året står som et hul i figurerne, og ingen linje "
        "er trukket hen over det.",
        "I 2023 svarede ingen i Frederiksberg: kommunen er udeladt af vægtningen og skønnene det "
        "år, og de øvrige kommuner er vægtet som sædvanligt.",
    ]
    assert len(survey_gap_lines(gaps, 101)) == 1
    assert "Frederiksberg" in survey_gap_lines(gaps, None, "en")[1]


def test_the_packages_warnings_reach_the_reader_once_in_words(monkeypatch):
    """A small cohort is said in the report's language with the message, once however many
    times it is raised; a warning from elsewhere still goes to Python's own display."""
    import warnings

    import IPython.display

    from botrygt_eval.errors import SmallCohortWarning
    from botrygt_eval.reports import output

    seen, python = [], []
    monkeypatch.setattr(IPython.display, "display", lambda obj: seen.append(obj.data))
    monkeypatch.setattr(output, "_PYTHON_SHOWWARNING", lambda *a, **k: python.append(a[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        output.show_warnings_to_the_reader("da")
        for _ in range(3):
            warnings.warn("small cohort(s): 2021 (2 units)", SmallCohortWarning, stacklevel=1)
        warnings.warn("overflow", RuntimeWarning, stacklevel=1)
    assert len(seen) == 1 and seen[0].startswith("**Bemærk om beregningen:** nogle grupper")
    assert "small cohort" not in seen[0]  # the package's messages are English
    english = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: english.append(obj.data))
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        output.show_warnings_to_the_reader("en")
        warnings.warn("small cohort(s): 2021 (2 units)", SmallCohortWarning, stacklevel=1)
    assert english[0].startswith("**Note on the computation:**")
    assert "(small cohort(s): 2021 (2 units))" in english[0]
    assert python == [RuntimeWarning]
