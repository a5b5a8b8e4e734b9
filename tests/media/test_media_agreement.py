"""Cohen's kappa against textbook values and statsmodels; the coder against planted codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.errors import ConfigError
from botrygt_eval.media import code_articles
from botrygt_eval.media.agreement import (
    agreement_report,
    cohens_kappa,
    confusion_table,
    kappa_from_table,
)
from botrygt_eval.simulate.media import HARD, simulate_media


def test_kappa_textbook_two_by_two():
    # 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15 -> p_o .70, p_e .50, kappa .40
    r = kappa_from_table([[20, 5], [10, 15]])
    assert r.kappa == pytest.approx(0.40, abs=1e-12)
    assert r.observed_agreement == pytest.approx(0.70) and r.expected_agreement == pytest.approx(
        0.5
    )


def test_kappa_fleiss_levin_paik_diagnoses():
    # Fleiss, Levin & Paik (2003) Table 18.1: two psychiatrists, 100 patients, 3 diagnoses;
    # p_o = .89, p_e = .66, kappa = .23 / .34 = .676
    r = kappa_from_table([[75, 1, 4], [5, 4, 1], [0, 0, 10]])
    assert r.kappa == pytest.approx(23 / 34, abs=1e-12)
    assert r.n == 100


@pytest.mark.parametrize(
    "table", [[[20, 5], [10, 15]], [[22, 2, 2], [5, 7, 14], [0, 2, 36]], [[40, 1], [3, 6]]]
)
def test_kappa_se_matches_statsmodels(table):
    from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

    ours = kappa_from_table(table)
    ref = sm_kappa(np.asarray(table))
    assert ours.kappa == pytest.approx(ref.kappa, rel=1e-12)
    assert ours.se == pytest.approx(ref.std_kappa, rel=1e-10)
    assert ours.ci_low == pytest.approx(ref.kappa - 1.959963984540054 * ref.std_kappa, rel=1e-9)


def test_kappa_from_codes_equals_kappa_from_table():
    a = ["ja"] * 20 + ["ja"] * 5 + ["nej"] * 10 + ["nej"] * 15
    b = ["ja"] * 20 + ["nej"] * 5 + ["ja"] * 10 + ["nej"] * 15
    assert confusion_table(a, b).to_numpy().tolist() == [[20, 5], [10, 15]]
    assert cohens_kappa(a, b).kappa == pytest.approx(0.4)
    assert cohens_kappa(a, a).kappa == pytest.approx(1.0)


def test_kappa_bad_input():
    with pytest.raises(ConfigError, match="length"):
        cohens_kappa([1, 0], [1])
    with pytest.raises(ConfigError, match="empty"):
        kappa_from_table([[0, 0], [0, 0]])
    with pytest.raises(ConfigError, match="square"):
        kappa_from_table([[1, 2, 3], [1, 2, 3]])
    assert np.isnan(cohens_kappa([1, 1], [1, 1]).kappa)  # one category only: undefined


@pytest.fixture(scope="module")
def corpus():
    return simulate_media(2018)


def test_coder_agrees_with_planted_codes_except_on_hard_cases(corpus):
    """Outside the hard templates, the coder reproduces every planted code."""
    hand = code_articles(corpus.hand_coded)
    wrong = (hand["is_burglary"] != hand["hand_burglary"].astype(bool)) | (
        hand["is_constructive"] != hand["hand_constructive"].astype(bool)
    )
    hard_ids = set(corpus.truth["hard_cases"]["in_hand_coded_sample"])
    assert set(hand.loc[wrong, "article_id"]) == hard_ids
    # and each hard kind disagrees exactly as designed
    planted_disagreements = (
        sum((v[2] != v[4]) + (v[3] != v[5]) for v in HARD.values()) * 2
    )  # two of each kind in the sample
    disagreements = int(
        (hand["is_burglary"] != hand["hand_burglary"].astype(bool)).sum()
        + (hand["is_constructive"] != hand["hand_constructive"].astype(bool)).sum()
    )
    assert disagreements == planted_disagreements


def test_coder_kappa_on_synthetic_hand_coded_sample(corpus):
    report = agreement_report(code_articles(corpus.hand_coded))
    for what in ("burglary", "constructive"):
        k = report[what]["kappa"]
        assert 0.8 <= k < 1, (what, k)
        assert report[what]["ci_low"] < k < report[what]["ci_high"]
    t = report["constructive"]["table"]
    assert t["hand_no_coder_yes"] == 4 and t["hand_yes_coder_no"] == 2  # fp_114, fp_council; fn
    assert report["n_articles"] == 200 + 2 * len(HARD)


def test_whole_corpus_shares_close_to_planted(corpus):
    """Coder shares per year differ from the planted ones only by the few hard cases."""
    coded = code_articles(corpus.articles)
    year = pd.to_datetime(coded["date"]).dt.year
    share = coded[coded["is_burglary"]].groupby(year)["is_constructive"].mean()
    planted = pd.Series(corpus.truth["planted_share_by_year"]).astype(float)
    planted.index = planted.index.astype(int)
    assert (share - planted).abs().max() < 0.06
