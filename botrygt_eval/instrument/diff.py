"""Compare two years' questionnaires: added, removed, reworded, recoded items.

A change *breaks comparability* when it touches an item that feeds an outcome
used in trends or difference-in-differences (``used_in`` contains ``trend`` or
``did`` in either year) and it is not an English-only rewording (the Danish
text is the one fielded). Breaking changes mean the outcome's series has a
break between the two years: do not pool or difference across it without a
bridge (split-ballot) study.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from botrygt_eval.instrument.bank import Instrument, Item, as_instrument
from botrygt_eval.instrument.routing import routing_code_text
from botrygt_eval.results import ResultMixin

COMPARABILITY_USES = ("trend", "did")


@dataclass(frozen=True)
class Change:
    """One difference between the two versions of an item."""

    item: str
    change: str  # added | removed | reworded | recoded | routing | outcome
    detail: str
    old: str
    new: str
    outcomes: tuple[str, ...]
    breaks_comparability: bool
    recorded: bool  # listed in the newer year's changelog


@dataclass(frozen=True)
class InstrumentDiff(ResultMixin):
    """All changes from ``old_year`` to ``new_year``."""

    old_year: int
    new_year: int
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.breaks_comparability)

    @property
    def unrecorded(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.recorded)

    def to_frame(self) -> pd.DataFrame:
        cols = [
            "item",
            "change",
            "detail",
            "old",
            "new",
            "outcomes",
            "breaks_comparability",
            "recorded",
        ]
        rows = [{**asdict(c), "outcomes": ", ".join(c.outcomes)} for c in self.changes]
        return pd.DataFrame(rows, columns=cols)

    frame_columns = ("item", "change", "breaks_comparability")

    def _payload(self) -> dict:
        return {
            "old_year": self.old_year,
            "new_year": self.new_year,
            "changes": [{**asdict(c), "outcomes": list(c.outcomes)} for c in self.changes],
            "breaking_outcomes": sorted({o for c in self.breaking for o in c.outcomes}),
        }

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return path

    def summary(self) -> str:
        lines = [
            f"Questionnaire {self.old_year} -> {self.new_year}: {len(self.changes)} change(s), "
            f"{len(self.breaking)} breaking comparability"
        ]
        for c in self.changes:
            flag = " [BREAKS " + ", ".join(c.outcomes) + "]" if c.breaks_comparability else ""
            lines.append(f"  {c.change:9s} {c.item}: {c.detail}{flag}")
        return "\n".join(lines)


def _labels(inst: Instrument, item: Item, lang: str) -> dict[int, str]:
    return {c.code: c.label[lang] for c in inst.all_choices(item.id)}


def _trend_outcomes(inst: Instrument, item: Item) -> set[str]:
    return {
        m.outcome
        for m in item.measures
        if set(inst.outcomes[m.outcome].used_in) & set(COMPARABILITY_USES)
    }


def diff_instruments(
    old: int | Instrument, new: int | Instrument, root: str | Path | None = None
) -> InstrumentDiff:
    """Changes from ``old`` to ``new``, each flagged if it breaks a trend/DiD outcome."""
    a, b = as_instrument(old, root), as_instrument(new, root)
    recorded = {(r.item, r.change) for r in b.changelog}
    changes: list[Change] = []

    def add(
        item_id: str,
        kind: str,
        detail: str,
        outcomes: set[str],
        breaks: bool,
        before: str = "",
        after: str = "",
    ) -> None:
        changes.append(
            Change(
                item_id,
                kind,
                detail,
                before,
                after,
                tuple(sorted(outcomes)),
                breaks and bool(outcomes),
                (item_id, kind) in recorded,
            )
        )

    old_ids, new_ids = set(a.item_ids), set(b.item_ids)
    for item_id in b.item_ids:
        if item_id not in old_ids:
            add(item_id, "added", f"new in {b.year}", _trend_outcomes(b, b.item(item_id)), True)
    for item_id in a.item_ids:
        if item_id not in new_ids:
            add(
                item_id,
                "removed",
                f"not asked in {b.year}",
                _trend_outcomes(a, a.item(item_id)),
                True,
            )
    for item_id in b.item_ids:
        if item_id not in old_ids:
            continue
        x, y = a.item(item_id), b.item(item_id)
        outcomes = _trend_outcomes(a, x) | _trend_outcomes(b, y)
        langs = [lang for lang in ("da", "en") if x.text[lang] != y.text[lang]]
        if langs:
            lang = langs[0]
            add(
                item_id,
                "reworded",
                f"question text changed ({', '.join(langs)})",
                outcomes,
                "da" in langs,
                x.text[lang],
                y.text[lang],
            )
        la, lb = _labels(a, x, "da"), _labels(b, y, "da")
        if la != lb:
            if set(la) != set(lb):
                detail = f"answer codes {sorted(la)} -> {sorted(lb)}"
            else:
                changed = [k for k in la if la[k] != lb[k]]
                detail = "answer labels changed for code(s) " + ", ".join(map(str, changed))
            scale = (
                "; ".join(f"{k} = {v}" for k, v in la.items()),
                "; ".join(f"{k} = {v}" for k, v in lb.items()),
            )
            add(item_id, "recoded", detail, outcomes, True, *scale)
        if x.relevant != y.relevant or x.required != y.required:
            add(
                item_id,
                "routing",
                "routing or required flag changed",
                outcomes,
                True,
                f"{routing_code_text(x.relevant)} required={x.required}",
                f"{routing_code_text(y.relevant)} required={y.required}",
            )
        mx = {(m.outcome, m.positive) for m in x.measures}
        my = {(m.outcome, m.positive) for m in y.measures}
        if mx != my:
            add(
                item_id,
                "outcome",
                "derived-outcome definition changed",
                outcomes,
                True,
                str(sorted(mx)),
                str(sorted(my)),
            )
    return InstrumentDiff(a.year, b.year, tuple(changes))
