"""GRIM check: exact rounding against Fraction arithmetic, brute force, the published figures."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.errors import ConfigError
from botrygt_eval.learning_review.consistency import grim_report
from botrygt_eval.learning_review.grim import (
    consistent_bases,
    format_bases,
    min_total,
    possible,
    round_pct,
    split_totals,
)
from botrygt_eval.learning_review.spec import load_spec

REF = Path(__file__).parents[1] / "reference" / "laeringsopsamling"


def _half_up(k: int, n: int) -> int:
    return math.floor(Fraction(100 * k, n) + Fraction(1, 2))


def _half_even(k: int, n: int) -> int:
    return round(Fraction(100 * k, n))  # Python rounds a Fraction half to even, exactly


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return pd.read_csv(REF / "published_figures.csv")


@pytest.fixture(scope="module")
def spec(published):
    return load_spec(published=published)


def test_round_pct_is_exact_for_every_k_and_n():
    ks, ns = zip(*[(k, n) for n in range(1, 121) for k in range(n + 1)], strict=True)
    up = round_pct(list(ks), list(ns), "half_up")
    even = round_pct(list(ks), list(ns), "half_even")
    assert up.tolist() == [_half_up(k, n) for k, n in zip(ks, ns, strict=True)]
    assert even.tolist() == [_half_even(k, n) for k, n in zip(ks, ns, strict=True)]
    # the rules differ exactly at ties: 1/8 = 12.5 %, 1/40 = 2.5 %
    assert round_pct(1, 8, "half_up") == 13 and round_pct(1, 8, "half_even") == 12
    assert round_pct(1, 40, "half_up") == 3 and round_pct(1, 40, "half_even") == 2


@given(st.integers(1, 80), st.integers(0, 100), st.sampled_from(["half_up", "half_even"]))
def test_possible_equals_brute_force(n, pct, rounding):
    ref = _half_up if rounding == "half_up" else _half_even
    assert possible(pct, n, 1, rounding) == any(ref(k, n) == pct for k in range(n + 1))


@given(st.integers(5, 30), st.integers(0, 100), st.integers(2, 3))
def test_sum_of_rounded_splits_equal_brute_force(n, pct, m):
    got = split_totals(pct, n, m)
    want: dict[int, list[tuple[int, ...]]] = {}
    for parts in itertools.product(range(n + 1), repeat=m):
        if sum(parts) <= n and sum(_half_up(a, n) for a in parts) == pct:
            want.setdefault(sum(parts), []).append(parts)
    assert {t: sorted(v) for t, v in got.items()} == {t: sorted(v) for t, v in want.items()}


def test_readme_examples():
    # README: 12/23 = 52 %, 14/23 = 61 %; 95 % and 73 % cannot come from 23 answers
    assert round_pct(12, 23) == 52 and round_pct(14, 23) == 61
    assert not possible(95, 23) and not possible(73, 23)
    assert possible(95, 22) and possible(73, 22)
    assert min_total(95, 22) == 21


def test_two_categories_of_one_question_must_fit_together():
    # 31 % and 30 % of one question differ by one respondent, i.e. 100/n <= ~2 points:
    # impossible below n = 54 when each category is counted and rounded once
    assert consistent_bases([31, 30], n_min=10, n_max=60, joint=True)[0] == 54
    # ... but possible from 23 when 31 is the sum of two rounded categories (9 % + 22 %)
    assert 23 in consistent_bases([31, 30], [2, 1], n_min=10, n_max=40, joint=True)
    assert (2, 5) in split_totals(31, 23, 2)[7]
    # joint: 78 %, 22 % and 60 % cannot be categories of one question of 23 answers
    assert 23 not in consistent_bases([78, 22, 60], n_min=23, n_max=23, joint=True)


def test_bad_arguments_are_refused():
    with pytest.raises(ConfigError, match="rounding"):
        round_pct(1, 3, "up")
    with pytest.raises(ConfigError, match="positive"):
        round_pct(1, 0)
    with pytest.raises(ConfigError, match="components"):
        split_totals(50, 10, 7)
    with pytest.raises(ConfigError, match="empty"):
        consistent_bases([50], n_min=20, n_max=10)


def test_format_bases():
    assert format_bases([19, 20, 21, 22, 26, 37, 38]) == "19–22, 26, 37–38"
    assert format_bases([]) == "ingen"


def test_report_names_the_impossible_published_numbers(spec, published):
    report = grim_report(spec, n=23, rule="count")
    bad = set(report.impossible["item"])
    # every row the count rule finds impossible at 23 really is impossible (brute force)
    for row in published.itertuples():
        brute = any(_half_up(k, 23) == row.published_pct for k in range(24))
        assert (row.item in bad) == (not brute) or row.figure == "prioritering"
    assert "Kolleger i politiet" in bad and "Læringsseminarer" in bad
    # under the count rule the prioritering chart has no common base at all
    assert "prioritering" in set(report.inconsistent_groups["figure"])
    assert not report.ok


def test_sum_of_rounded_rule_fits_one_base_of_23(spec):
    report = grim_report(spec, n=23, rule="sum_rounded")
    assert report.ok, report.summary()


def test_report_flags_a_deliberately_impossible_combination(published):
    tampered = published.copy()
    row = tampered.index[tampered["figure"] == "aendringer"][0]
    # 1/23 = 4.3 % and 2/23 = 8.7 %: nothing rounds to 6 %, so a base of 23 is impossible
    tampered.loc[row, "published_pct"] = 6
    report = grim_report(load_spec(published=tampered), n=23, rule="sum_rounded")
    assert set(report.impossible["item"]) == {tampered.loc[row, "item"]}
    assert "aendringer" in report.summary()
    # a multiple-choice chart whose numbers need different bases has no common base
    tampered.loc[row, "published_pct"] = 95  # needs n in 19..22, the others need 23
    report = grim_report(load_spec(published=tampered))
    assert "aendringer" in set(report.inconsistent_groups["figure"])


def test_grim_command_exits_1_and_names_the_items():
    runner = CliRunner()
    res = runner.invoke(app, ["figures", "grim", "--n", "23", "--rule", "count"])
    assert res.exit_code == 1
    assert "Kolleger i politiet" in res.output and "Læringsseminarer" in res.output
    res = runner.invoke(app, ["figures", "grim", "--n", "23", "--rule", "sum-rounded"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["figures", "grim", "--pct", "95", "--n", "23"])
    assert res.exit_code == 1 and "UMULIGT" in res.output
    res = runner.invoke(app, ["figures", "grim", "--pct", "95", "--n", "22"])
    assert res.exit_code == 0 and "muligt" in res.output


def test_grim_command_writes_csv(tmp_path):
    out = tmp_path / "grim.csv"
    res = CliRunner().invoke(app, ["figures", "grim", "--n", "23", "--csv", str(out)])
    table = pd.read_csv(out)
    assert len(table) == len(pd.read_csv(REF / "published_figures.csv"))
    assert res.exit_code == (0 if table["possible_at_n"].all() else 1)


def test_chart_level_bases(spec):
    charts = grim_report(spec, rule="count").charts.set_index("figure")
    # each chart's common bases are exactly those where every number is possible (brute force)
    for fig, sub in spec.rows.groupby("figure"):
        if fig == "prioritering":  # two categories of one question: checked jointly above
            continue
        want = [
            n for n in range(10, 41)
            if all(any(_half_up(k, n) == p for k in range(n + 1)) for p in sub["published_pct"])
        ]  # fmt: skip
        assert charts.loc[fig, "bases"] == format_bases(want), fig
    # items of a grid need different bases: no common base for the engagement chart
    assert charts.loc["engagement", "n_bases"] == 0
