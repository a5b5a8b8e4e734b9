"""The synthetic article corpus: clearly synthetic, deterministic, the planted rising share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.simulate.media import constructive_probability, simulate_media


@pytest.fixture(scope="module")
def corpus():
    return simulate_media(7)


def test_clearly_synthetic(corpus):
    a = corpus.articles
    assert a["outlet"].str.startswith("Syntetisk ").all()
    assert a["text"].str.startswith("SYNTETISK ARTIKEL.").all()
    assert 500 <= len(a) <= 2000 and a["article_id"].is_unique


def test_deterministic_per_seed(corpus):
    again = simulate_media(7)
    pd.testing.assert_frame_equal(corpus.articles, again.articles)
    pd.testing.assert_frame_equal(corpus.hand_coded, again.hand_coded)
    assert corpus.truth == again.truth
    assert not simulate_media(8).articles["headline"].equals(corpus.articles["headline"])


def test_probability_curve_passes_the_review_figures():
    p = constructive_probability(np.array([2017, 2024]))
    assert p[0] == pytest.approx(0.046) and p[1] == pytest.approx(0.50)
    assert np.all(np.diff(constructive_probability(np.arange(2017, 2026))) > 0)


def test_planted_share_rises_from_about_5_to_about_50_percent():
    shares = pd.DataFrame([simulate_media(s).truth["planted_share_by_year"] for s in range(4)])
    mean = shares.mean()
    assert mean["2017"] < 0.10
    assert 0.42 < mean["2024"] < 0.60  # 0.50 plus the small boost in partnership kommuner


def test_partner_boost_raises_local_share():
    partners = pd.DataFrame({"kommune_kode": [101, 751, 851], "signed_date": ["2018-05-01"] * 3})
    base = simulate_media(3, partners=partners, partner_boost=0.0, per_year=400)
    boosted = simulate_media(3, partners=partners, partner_boost=3.0, per_year=400)

    # planted codes are stored for the hand-coded sample only: recognise constructive
    # articles by their templates' headlines instead (independent of the coder)
    from botrygt_eval.simulate.media import CONSTRUCTIVE

    heads = {h for h, _ in CONSTRUCTIVE}

    def local_constructive(c):
        a = c.articles
        local = a["kommune"].isin([101, 751, 851]) & (a["date"] >= "2019-01-01")
        return a.loc[local, "headline"].isin(heads).mean()

    assert local_constructive(boosted) > local_constructive(base) + 0.1
    assert boosted.articles["kommune"].isin([101, 751, 851]).mean() > 0.05  # more coverage


def test_hand_coded_sample(corpus):
    h = corpus.hand_coded
    assert set(h["hand_burglary"].unique()) <= {0, 1}
    assert set(h["article_id"]) <= set(corpus.articles["article_id"])
    assert set(corpus.truth["hard_cases"]["in_hand_coded_sample"]) <= set(h["article_id"])
