"""The report text catalogue (Danish and English) and numbers written per language.

Number formats are checked against hand-written strings (Danish: thousands dot, decimal
comma, "12,3 %"; English: thousands comma, decimal point, "12.3%"), not against the
code's own output.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest

from botrygt_eval.errors import ConfigError, ReportError
from botrygt_eval.reports.sentences import fmt_interval, pct
from botrygt_eval.text.catalogue import (
    LANGS,
    TEXT,
    cols,
    date,
    label,
    labels,
    num,
    percent,
    placeholders,
    t,
)

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: letters only Danish uses; an English text with one of them is (probably) untranslated
DANISH_LETTERS = re.compile("[æøåÆØÅ]")
#: Danish words that are names, not text to translate (kept in English text)
DANISH_NAMES = ("Nabohjælp", "Læringsreview", "Danmarks Statistik", "SIMULEREDE")


def test_every_message_has_both_languages_with_the_same_placeholders():
    assert LANGS == ("da", "en")
    for key, texts in TEXT.items():
        assert set(texts) == {"da", "en"}, key
        assert texts["da"].strip() and texts["en"].strip(), key
        assert placeholders(texts["da"]) == placeholders(texts["en"]), key


def test_english_texts_have_no_danish_words_left():
    for key, texts in TEXT.items():
        en = texts["en"]
        for name in DANISH_NAMES:
            en = en.replace(name, "")
        assert not DANISH_LETTERS.search(en), (key, texts["en"])


def test_ids_used_in_the_notebooks_are_in_the_catalogue():
    used = set()
    for path in NOTEBOOKS.glob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*f?["']([a-z_\-]+\.[\w\-.]+)["']""", path.read_text()))
    assert used, "the notebooks should take their text from the catalogue"
    assert not used - set(TEXT), sorted(used - set(TEXT))


@pytest.mark.parametrize(
    ("x", "digits", "da", "en"),
    [
        (1234.5, 1, "1.234,5", "1,234.5"),
        (1234567.891, 2, "1.234.567,89", "1,234,567.89"),
        (-0.25, 2, "-0,25", "-0.25"),
        (12.0, 0, "12", "12"),
        (999.96, 1, "1.000,0", "1,000.0"),
    ],
)
def test_numbers_per_language(x, digits, da, en):
    assert num(x, "da", digits) == da
    assert num(x, "en", digits) == en
    assert pct(x, digits, lang="en") == en


def test_missing_numbers_are_a_dash():
    for lang in LANGS:
        assert num(np.nan, lang) == "–"
        assert num(None, lang) == "–"
        assert percent(np.inf, lang) == "–"


def test_percent_and_dates_per_language():
    assert percent(12.345, "da") == "12,3 %"
    assert percent(12.345, "en") == "12.3%"
    assert date(dt.date(2019, 3, 5), "da") == "5. marts 2019"
    assert date("2019-03-05", "en") == "5 March 2019"


def test_interval_text_in_english():
    assert fmt_interval(12.34, 10.06, 14.5, unit=" %", lang="en") == "12.3% (95% CI 10.1 to 14.5%)"
    assert fmt_interval(12.34, 10.06, 14.5, unit=" %") == "12,3 % (95 %-KI 10,1 til 14,5 %)"
    assert fmt_interval(np.nan, 1, 2, lang="en") == "suppressed (too few responses)"


def test_labels_headers_and_verdicts():
    assert label("outcome", "fear_burglary", "en") == "Worried about burglary"
    assert label("activity", "ny_type", "en") == "ny_type"  # unknown code shows as itself
    assert labels("verdict", "en") == {
        "repeat": "repeat", "change": "change", "drop": "drop",
        "insufficient": "insufficient evidence",
    }  # fmt: skip
    assert labels("verdict", "da")["insufficient"] == "utilstrækkelig evidens"
    assert cols("en", "maal", "n") == {"maal": "Outcome", "n": "Responses"}
    assert cols("da", "maal", n="col.bekymrede_n") == {"maal": "Mål", "n": "Antal svar"}


def test_unknown_language_and_message_are_clear_errors():
    with pytest.raises(ConfigError, match="'da', 'en'"):
        t("title.national", "fr")
    with pytest.raises(ConfigError, match="lang='de'"):
        num(1.0, "de")
    with pytest.raises(ReportError, match="data/report_text.yaml"):
        t("no.such.message", "en")
    assert t("title.national", "en") == "Bo trygt: national evaluation"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("x.a:\n  da: Hej\n", "exactly 'da' and 'en'"),
        ("x.a:\n  da: Hej\n  en: Hi\n  de: Hallo\n", "exactly 'da' and 'en'"),
        ("x.a:\n  da: ''\n  en: Hi\n", "empty or non-text"),
        ("x.a:\n  da: '{n} svar'\n  en: '{m} responses'\n", "different placeholders"),
        ("- da: Hej\n", "must map message ids"),
    ],
)
def test_catalogue_loader_refuses_a_bad_entry_by_name(tmp_path, entry, problem):
    from botrygt_eval.text.catalogue import load_catalogue

    path = tmp_path / "text.yaml"
    path.write_text(entry, encoding="utf-8")
    with pytest.raises(ReportError, match=re.escape(problem)):
        load_catalogue(path)


def test_catalogue_is_read_from_the_data_file():
    from botrygt_eval.text.catalogue import CATALOGUE, load_catalogue

    assert CATALOGUE.suffix == ".yaml" and CATALOGUE.is_file()
    assert load_catalogue(CATALOGUE) == TEXT and len(TEXT) > 200


def test_babel_numbers_round_the_exact_value_and_read_the_locale():
    """Ties are judged on the binary value, as Python's format does: 2.45 is stored as
    2.4500000000000001776 (up), 0.125 exactly (half to even, down); the thousands
    separator and minus are CLDR's for da_DK and en_GB."""
    from botrygt_eval.text.formats import LOCALES

    assert LOCALES == {"da": "da_DK", "en": "en_GB"}
    assert num(2.45, "da") == "2,5" and num(0.125, "en", 2) == "0.12"
    assert num(-1415, "da", 0) == "-1.415" and num(-1415, "en", 0) == "-1,415"
    assert date(dt.datetime(2024, 12, 31, 23, 59), "da") == "31. december 2024"
