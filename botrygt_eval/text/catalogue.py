"""Display text of the reports in Danish and English, and numbers written per language.

One catalogue, :data:`TEXT`, maps a message id to its Danish and English text. It is
data, not code: ``data/report_text.yaml``, read and checked once by
:func:`load_catalogue`. :func:`t` looks a message up and fills its ``{placeholders}``. Danish is the default and the
language municipalities read; English is for evaluators and international readers.
Identifiers (column names of the CSV tables, activity verdict codes, file names) stay
as they are: only what a reader sees is translated.

Adding text to a report: add an id to ``data/report_text.yaml`` with both languages (the
loader refuses an id without both, or with different placeholders), then ``t("my.id", lang, n=...)`` in the notebook.
Numbers go through :func:`num`, :func:`percent` or :func:`date` first (Babel, in
:mod:`botrygt_eval.text.formats`), so they are written the reader's way ("1.234,5" in
Danish, "1,234.5" in English).

Message ids are grouped by prefix: ``common.`` (every report), ``col.<column>`` (table
headers, see :func:`cols`), ``outcome.``/``activity.``/``estimator.``/... (labels of
codes, see :func:`label`), ``fig.`` (chart labels) and one prefix per report
(``national.``, ``kommune.``, ``activities.``, ``review.``).
"""

from __future__ import annotations

import string
from pathlib import Path

from botrygt_eval.errors import ReportError
from botrygt_eval.text import yamlfile

# num, percent and date are re-exported: the templates import all their text from here
from botrygt_eval.text.formats import LANGS, check_lang, date, num, percent  # noqa: F401


# --------------------------------------------------------------------------- lookup
def t(key: str, lang: str = "da", **fmt) -> str:
    """The text of message ``key`` in ``lang``, with ``{placeholders}`` filled from ``fmt``."""
    check_lang(lang)
    try:
        text = TEXT[key][lang]
    except KeyError:
        raise ReportError(
            f"no report text {key!r}: add it to botrygt_eval/data/report_text.yaml "
            "with both 'da' and 'en'"
        ) from None
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    """Whether the catalogue has message ``key``."""
    return key in TEXT


def label(group: str, code: str, lang: str = "da") -> str:
    """The display label of a code (``label("outcome", "fear_burglary", "en")``).

    Falls back to the code itself when the catalogue has no label for it (a new
    activity type still shows, under its code).
    """
    key = f"{group}.{code}"
    return t(key, lang) if key in TEXT else str(code)


def labels(group: str, lang: str = "da") -> dict[str, str]:
    """Every ``code: label`` of a group (for ``Series.map``)."""
    check_lang(lang)
    prefix = f"{group}."
    return {k[len(prefix) :]: v[lang] for k, v in TEXT.items() if k.startswith(prefix)}


def cols(lang: str, *names: str, **special: str) -> dict[str, str]:
    """Table headers for ``show_table``: column name → the text of ``col.<name>``.

    ``special`` maps a column to another message id where a column needs a header
    of its own in one table (``cols(lang, "maal", n="col.n_activities")``).
    """
    return {name: t(special.get(name, f"col.{name}"), lang)
            for name in dict.fromkeys([*names, *special])}  # fmt: skip


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a text expects (for the catalogue's consistency test)."""
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


# --------------------------------------------------------------------------- catalogue
CATALOGUE = Path(__file__).resolve().parents[1] / "data" / "report_text.yaml"


def load_catalogue(path: Path = CATALOGUE) -> dict[str, dict[str, str]]:
    """Read the message catalogue and check it: every id has exactly ``da`` and ``en``,
    both texts, with the same ``{placeholders}``. A bad entry is refused by name."""
    with open(path, encoding="utf-8") as fh:
        text = yamlfile.safe_load(fh)
    if not isinstance(text, dict):
        raise ReportError(f"{path}: the report-text catalogue must map message ids to texts")
    for key, entry in text.items():
        if not isinstance(entry, dict) or set(entry) != set(LANGS):
            raise ReportError(f"{path}: message {key!r} must have exactly 'da' and 'en'")
        if not all(isinstance(v, str) and v for v in entry.values()):
            raise ReportError(f"{path}: message {key!r} has an empty or non-text translation")
        if placeholders(entry["da"]) != placeholders(entry["en"]):
            raise ReportError(
                f"{path}: message {key!r} has different placeholders in Danish "
                f"({sorted(placeholders(entry['da']))}) and English "
                f"({sorted(placeholders(entry['en']))})"
            )
    return text


TEXT: dict[str, dict[str, str]] = load_catalogue()
