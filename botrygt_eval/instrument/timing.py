"""Estimated completion time, computed from the bank's texts.

A respondent reads at about 3 words a second (silent reading of plain Danish is
3-4 words/s; we take the slow end), needs about 2 seconds to decide and click per
question, and skims the information and closing pages at 5 words a second.
Only questions a typical respondent is asked count: routed items are weighted
by ``routed_share`` (the share of respondents expected to see them; 0.15 is an
upper bound on the share burgled or attempted in 12 months).
"""

from __future__ import annotations

import re

from botrygt_eval.errors import InstrumentError
from botrygt_eval.instrument.bank import LANGUAGES, Instrument, Item

READ_WORDS_PER_SECOND = 3.0
SKIM_WORDS_PER_SECOND = 5.0
ANSWER_SECONDS = 2.0
MAX_MINUTES = 10.0


def _words(text: str | None) -> int:
    return len(re.findall(r"\w+", text or ""))


def item_seconds(inst: Instrument, item: Item, lang: str = "da") -> float:
    """Reading the question, hint and answer labels, then answering."""
    words = _words(item.text[lang]) + _words((item.hint or {}).get(lang))
    words += sum(_words(c.label[lang]) for c in inst.all_choices(item.id))
    return words / READ_WORDS_PER_SECOND + ANSWER_SECONDS


def estimated_seconds(inst: Instrument, lang: str = "da", routed_share: float = 0.15) -> float:
    """Expected seconds to complete the questionnaire in ``lang``."""
    total = 0.0
    for group in inst.groups:
        total += (
            _words(group.title[lang]) + _words((group.intro or {}).get(lang))
        ) / READ_WORDS_PER_SECOND
        for item in group.items:
            share = routed_share if item.relevant is not None else 1.0
            total += share * item_seconds(inst, item, lang)
    for page in inst.pages.values():
        words = _words(page["title"][lang]) + sum(
            _words(p[lang])
            + _words((p.get("heading") or {}).get(lang))
            + sum(_words(b[lang]) for b in p.get("list") or ())
            for p in page["paragraphs"]
        )
        total += words / SKIM_WORDS_PER_SECOND
    return total


def estimated_minutes(inst: Instrument, lang: str = "da") -> int:
    """Whole minutes, rounded up, as told to the respondent."""
    return int(-(-estimated_seconds(inst, lang) // 60))


def check_duration(inst: Instrument) -> None:
    """Refuse a questionnaire estimated over ``MAX_MINUTES`` in any language."""
    for lang in LANGUAGES:
        minutes = estimated_minutes(inst, lang)
        if minutes > MAX_MINUTES:
            raise InstrumentError(
                f"the {inst.year} questionnaire takes about {minutes} minutes in {lang}; "
                f"the target is at most {MAX_MINUTES:.0f}: shorten or drop items"
            )
