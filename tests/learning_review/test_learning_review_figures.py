"""Every published percentage of the learning review reproduced from the synthetic file."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from botrygt_eval.errors import InputFileError, InstrumentError
from botrygt_eval.instrument import build_instrument
from botrygt_eval.io.simulated import marked_simulated as is_simulated
from botrygt_eval.learning_review.consistency import group_bases
from botrygt_eval.learning_review.figures import (
    load_projektleder_responses,
    recompute,
)
from botrygt_eval.learning_review.grim import round_pct
from botrygt_eval.learning_review.spec import default_root, load_spec, reference_path
from botrygt_eval.simulate.learning_review import (
    choose_bases,
    simulate_projektleder_responses,
    write_projektleder_responses,
)

REF = Path(__file__).parents[1] / "reference" / "laeringsopsamling"
PUBLISHED = pd.read_csv(REF / "published_figures.csv")
SEED = 2025


@pytest.fixture(scope="module")
def spec():
    return load_spec(published=REF / "published_figures.csv")


@pytest.fixture(scope="module")
def responses(spec):
    return simulate_projektleder_responses(SEED, spec=spec)


@pytest.fixture(scope="module")
def result(responses, spec):
    return recompute(responses, spec)


@pytest.mark.parametrize(
    "row",
    list(PUBLISHED.itertuples(index=False)),
    ids=lambda r: f"{r.figure}-{r.item[:30]}-{r.category[:12]}",
)
def test_published_row_is_reproduced(row, result):
    got = result.table[
        (result.table["figure"] == row.figure)
        & (result.table["item"] == row.item)
        & (result.table["category"] == row.category)
    ]
    assert len(got) == 1
    got = got.iloc[0]
    assert got["published_pct"] == row.published_pct
    if got["combine"] == "sum_rounded":  # the review's sum of separately rounded shares
        assert got["recomputed_pct"] == row.published_pct
    else:  # the exact share rounds (half up, exact arithmetic) to the printed integer
        assert round_pct(got["k"], got["n"]) == row.published_pct
        assert got["recomputed_pct"] == pytest.approx(100 * got["k"] / got["n"])
    assert got["matches"]


def test_recompute_counts_independently(responses, result):
    # recount straight from the frame with pandas, outside the module
    for r in result.table.itertuples():
        col = responses[r.column]
        assert r.n == col.notna().sum()
        assert r.k == col.isin(list(r.codes)).sum()


def test_wilson_intervals_match_statsmodels(result):
    t = result.table
    lo, hi = proportion_confint(t["k"], t["n"], alpha=0.05, method="wilson")
    np.testing.assert_allclose(t["ci_low"], 100 * lo, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(t["ci_high"], 100 * hi, rtol=1e-10, atol=1e-10)
    frame = result.to_frame()
    assert {"estimate", "se", "ci_low", "ci_high", "n"} <= set(frame.columns)


@pytest.mark.parametrize("seed", range(8))
def test_every_seed_reproduces_every_row(seed, spec):
    res = recompute(simulate_projektleder_responses(seed, spec=spec), spec)
    assert res.ok, res.summary()


def test_bases_are_consistent_with_the_grim_check(responses, spec):
    ok = group_bases(spec.rows, n_min=10, n_max=len(responses))
    chosen = choose_bases(spec, len(responses))
    for group, sub in spec.rows.groupby("base_group"):
        bases = {int(responses[c].notna().sum()) for c in sub["column"]}
        assert bases == {chosen[group]}
        assert chosen[group] in ok[group]
    # item nonresponse exists: not every item has every respondent
    assert len({int(responses[c].notna().sum()) for c in spec.rows["column"]}) > 1


def test_multiple_choice_respects_the_limit_and_shared_base(responses, spec):
    for fig in spec.figures:
        if fig.base != "shared":
            continue
        block = responses[list(fig.columns)]
        answered = block.notna()
        assert (answered.all(axis=1) | ~answered.any(axis=1)).all()  # all options or none
        if fig.max_choices:
            assert (block.eq(1).sum(axis=1) <= fig.max_choices).all()


def test_simulator_is_deterministic_and_marked(spec, responses):
    again = simulate_projektleder_responses(SEED, spec=spec)
    pd.testing.assert_frame_equal(responses, again)
    other = simulate_projektleder_responses(SEED + 1, spec=spec)
    assert not responses.equals(other)
    assert responses["resp_id"].is_unique
    assert responses["resp_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert 23 <= len(responses) <= 30
    assert is_simulated(responses)
    assert not is_simulated(responses.drop(columns="simulated"))


def test_written_file_passes_the_questionnaire_schema(tmp_path, spec):
    path = write_projektleder_responses(tmp_path / "survey" / "projektleder_2025.csv", SEED)
    loaded = load_projektleder_responses(path, quarantine_dir=tmp_path / "q")
    assert len(loaded.quarantined) == 0
    assert recompute(loaded.data, spec).ok


def test_a_bad_code_is_quarantined(tmp_path):
    path = write_projektleder_responses(tmp_path / "projektleder_2025.csv", SEED)
    frame = pd.read_csv(path, dtype=str)
    frame.loc[0, "styrket"] = "7"  # not a code of the item
    frame.to_csv(path, index=False)
    loaded = load_projektleder_responses(path, quarantine_dir=tmp_path / "q")
    assert len(loaded.quarantined) == 1
    assert "styrket" in loaded.quarantined["reason"].iloc[0]


def test_tampered_answers_are_named(responses, spec):
    tampered = responses.copy()
    hit = tampered.index[tampered["engagement_politi"].isin([1, 2])][:2]
    tampered.loc[hit, "engagement_politi"] = 5
    res = recompute(tampered, spec)
    assert list(res.mismatches["column"]) == ["engagement_politi"]
    assert "Kolleger i politiet" in res.summary()


def test_the_combination_rule_matters(spec):
    # 2 x "meget højt" + 5 x "højt" of 23: 9 % + 22 % = 31 % as printed; counted once: 30 %
    codes = [1] * 2 + [2] * 5 + [3] * 7 + [4] * 9
    frame = pd.DataFrame({c: pd.array([pd.NA] * 23, dtype="Int64") for c in spec.rows["column"]})
    frame["prioriteret"] = pd.array(codes, dtype="Int64")
    row = lambda res: res.table.set_index("category").loc["Meget højt eller højt"]  # noqa: E731
    assert row(recompute(frame, spec))["recomputed_pct"] == 31
    assert row(recompute(frame, spec))["matches"]
    counted = row(recompute(frame, spec, rule="count"))
    assert counted["recomputed_pct"] == pytest.approx(100 * 7 / 23)
    assert not counted["matches"]


def test_missing_item_column_is_refused(responses, spec):
    with pytest.raises(InputFileError, match="engagement_politi"):
        recompute(responses.drop(columns="engagement_politi"), spec)


def test_spec_maps_every_published_row_once(spec):
    assert len(spec.rows) == len(PUBLISHED)
    extra = pd.concat(
        [PUBLISHED, PUBLISHED.iloc[[0]].assign(category="Slet ikke")], ignore_index=True
    )
    with pytest.raises(InstrumentError, match="does not map"):
        load_spec(published=extra)


def test_packaged_reference_is_the_shared_one():
    for name in ("published_figures.csv", "time_series.csv", "README.md"):
        assert filecmp.cmp(reference_path(name), REF / name, shallow=False)


def test_instrument_builds_with_the_citizen_renderers(tmp_path):
    paths = build_instrument(2025, tmp_path, root=default_root())
    names = {p.name for p in paths}
    assert "projektlederundersoegelse_2025_xlsform.xlsx" in names
    html = (tmp_path / next(n for n in names if n.endswith("_da.html"))).read_text(encoding="utf-8")
    assert "Hvilke typer ændringer oplever du især?" in html


def test_spec_refuses_a_mapped_row_that_is_not_published():
    with pytest.raises(InstrumentError, match="not published"):
        load_spec(published=PUBLISHED.iloc[1:])
    with pytest.raises(InstrumentError, match="more than once"):
        load_spec(published=pd.concat([PUBLISHED, PUBLISHED.iloc[[0]]]))


def test_chart_bars_are_sorted_by_share_with_values_and_footer(result):
    import matplotlib.pyplot as plt

    fig = result.plot("aktiviteter")
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_width() < 100]  # the shares, not the 100 % track
    widths = [b.get_width() for b in sorted(bars, key=lambda b: b.get_y())]
    assert widths == sorted(widths)  # largest on top (highest y)
    sub = result.table[result.table["figure"] == "aktiviteter"]
    texts = {t.get_text() for t in ax.texts}
    assert {f"{p} %" for p in sub["published_pct"]} <= texts
    assert "SIMULEREDE DATA" in {t.get_text() for t in fig.texts}
    plt.close(fig)
