"""The Danish constructive-media coder on crafted sentences (positive, negative, negations)."""

from __future__ import annotations

import pandas as pd
import pytest

from botrygt_eval.errors import ConfigError
from botrygt_eval.media import code_articles, load_dictionary, rule_counts, stem_texts
from botrygt_eval.media.coder import _compile, phrase_regex


def code(*headlines: str, text: str = "") -> pd.DataFrame:
    df = pd.DataFrame({"headline": list(headlines), "text": text})
    return code_articles(df)


def test_stemming_joins_inflections_and_marks_sentences():
    stemmed = stem_texts(pd.Series(["Indbruddene steg. Tænd LYSET!", "Hækken, hække"]))
    assert stemmed[0] == " indbrud steg | tænd lys | "
    assert stemmed[1] == " hæk hæk "
    assert stem_texts(pd.Series(["La\u030ase"]))[0] == " lås "  # decomposed å (NFC first)


def test_phrase_syntax_wildcards_and_gaps():
    import re

    gap = re.compile(phrase_regex("tænd ... lys"))
    assert gap.search(" tænd gern udendør lys ")  # up to three words between
    assert not gap.search(" tænd a b c d lys ")  # four is too many
    assert not gap.search(" tænd | lys ")  # never across a sentence end
    assert re.search(phrase_regex("*indbrud*"), " villaindbrudd ")
    assert not re.search(phrase_regex("indbrud"), " villaindbrud ")


@pytest.mark.parametrize(
    "headline",
    [
        "Indbrudstyven kom om natten",  # compound + inflection
        "Der var villaindbrud på vejen",  # prefix compound
        "Ubudne gæster brød ind i rækkehus",
        "Tyverier fra private boliger stiger",
    ],
)
def test_burglary_terms(headline):
    assert code(headline)["is_burglary"].item()


@pytest.mark.parametrize(
    "headline",
    [
        "Dataindbrud hos kommunen",  # exclusion: not a dwelling
        "Indbrud i bilen på p-pladsen",  # exclusion: car
        "Byrådet vedtog budgettet",  # 'råd' inside another word is not advice
        "Koncert i parken i aften",
    ],
)
def test_not_burglary(headline):
    assert not code(headline)["is_burglary"].item()


@pytest.mark.parametrize(
    ("sentence", "rule"),
    [
        ("Bliv nabohjælper og hjælp hinanden mod indbrud", "advice.1_nabohjaelp"),
        ("Tænd gerne lyset udenfor og trim hækken, så undgår du indbrud", "advice.2_lys_haek"),
        (
            "Husk at låse døren: de fleste indbrud sker gennem vinduer",
            "advice.3_svaert_at_bryde_ind",
        ),
        (
            "Brug sikre betalingsformer, når du køber brugt, efter indbrud",
            "advice.4_sikker_betaling",
        ),
        ("Ring 114 ved mistanke om indbrud", "advice.5_ring_114"),
        ("Politiet giver gode råd mod indbrud", "cta.gode_raad"),
        ("Sådan forebygger du indbrud i sommerferien", "cta.saadan"),
    ],
)
def test_constructive_sentences_fire_their_rule(sentence, rule):
    out = code(sentence)
    assert out["is_burglary"].item() and out["is_constructive"].item()
    assert rule in out["matched_rules"].item().split(";")


@pytest.mark.parametrize(
    "sentence",
    [
        "Indbrud i villa i nat: tyvene tog smykker",  # a plain incident report
        "Antallet af indbrud er steget med 12 procent",  # statistics alone
        "Politiet gav ingen gode råd efter indbruddet",  # negated call to action
        "Butikken holdt udsalg",  # not about burglary at all
    ],
)
def test_not_constructive(sentence):
    assert not code(sentence)["is_constructive"].item()


def test_negation_exception_glem_ikke():
    out = code("Glem ikke at låse døren, når du rejser: indbrud sker om dagen")
    assert out["is_constructive"].item()
    assert "advice.3_svaert_at_bryde_ind" in out["matched_rules"].item()


def test_one_negated_and_one_plain_occurrence_still_fires():
    out = code("Ingen gode råd i går om indbrud. I dag kom der gode råd")
    assert out["is_constructive"].item()


def test_advice_without_burglary_is_not_constructive():
    out = code("Tænd lyset i stuen og nyd julen")
    assert out["has_advice"].item() and not out["is_constructive"].item()


def test_text_column_counts_too_and_index_is_kept():
    df = pd.DataFrame(
        {"headline": ["Indbrud i nat", "Indbrud igen"], "text": ["", "Ring 114 hvis du ser noget"]},
        index=[10, 20],
    )
    out = code_articles(df)
    assert list(out.index) == [10, 20]
    assert out["is_constructive"].tolist() == [False, True]


def test_every_rule_has_a_source_and_rule_counts():
    d = load_dictionary()
    table = d.to_frame()
    assert table["source"].str.len().min() > 10
    assert {"burglary", "exclusions", "advice", "call_to_action", "mentions"} == set(
        table["category"]
    )
    assert table["rule"].str.startswith("advice.").sum() == 5  # the five pieces of advice
    counts = rule_counts(code("Indbrud: gode råd", "Koncert"), d)
    assert counts.set_index("rule").loc["cta.gode_raad", "n_burglary_articles"] == 1


def test_bad_dictionary_is_refused():
    with pytest.raises(ConfigError, match="source"):
        _compile({"burglary": [{"id": "x", "phrases": ["indbrud"]}]}, "test.yaml")
    with pytest.raises(ConfigError, match="not a word"):
        _compile({"burglary": [{"id": "x", "phrases": ["ind%"], "source": "s"}]}, "t.yaml")


def test_bo_trygt_mentions_are_counted_but_not_constructive():
    out = code(
        "Bo trygt holder årsmøde", "Bo trygt-korpset kommer efter indbrud", "Trygt at bo her"
    )
    assert out["mentions_bo_trygt"].tolist() == [True, True, False]
    assert out["is_constructive"].tolist() == [False, True, False]  # the korps offer is a call
