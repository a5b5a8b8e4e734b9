"""One routing rule, three readings: XLSForm ``relevant``, a pandas mask, plain text."""

from __future__ import annotations

import pandas as pd

from botrygt_eval.instrument.bank import Instrument, Item, Routing

_JOIN = {
    "any": {"da": "eller", "en": "or", "x": "or"},
    "all": {"da": "og", "en": "and", "x": "and"},
}


def xlsform_relevant(routing: Routing | None) -> str:
    """``${a} = '1' or ${b} = '1'`` (select_one values are strings in XForms)."""
    if routing is None:
        return ""
    parts = []
    for cond in routing.conditions:
        alts = [f"${{{cond.item}}} = '{code}'" for code in cond.codes]
        parts.append(alts[0] if len(alts) == 1 else "(" + " or ".join(alts) + ")")
    return f" {_JOIN[routing.mode]['x']} ".join(parts)


def asked_mask(routing: Routing | None, frame: pd.DataFrame) -> pd.Series:
    """True for rows where routing says the item is asked."""
    if routing is None:
        return pd.Series(True, index=frame.index)
    masks = [
        pd.to_numeric(frame[c.item], errors="coerce").isin(c.codes) for c in routing.conditions
    ]
    out = masks[0]
    for m in masks[1:]:
        out = (out | m) if routing.mode == "any" else (out & m)
    return out


def routing_code_text(routing: Routing | None) -> str:
    """Compact, language-neutral text for codebooks: ``vict_burglary in {1} or ...``."""
    if routing is None:
        return ""
    parts = [f"{c.item} in {{{', '.join(map(str, c.codes))}}}" for c in routing.conditions]
    return f" {_JOIN[routing.mode]['x']} ".join(parts)


def routing_instruction(inst: Instrument, item: Item, lang: str) -> str:
    """A respondent-facing instruction, e.g. 'Besvares kun, hvis du svarede «Ja» til spørgsmål 1 eller 2.'"""
    routing = item.relevant
    if routing is None:
        return ""
    answers: dict[tuple[int, ...], list[int]] = {}
    labels: dict[tuple[int, ...], str] = {}
    for cond in routing.conditions:
        target = inst.item(cond.item)
        by_code = {c.code: c.label[lang] for c in inst.all_choices(cond.item)}
        key = cond.codes
        labels[key] = (" / " if lang == "en" else " eller ").join(
            f"«{by_code[c]}»" for c in cond.codes
        )
        answers.setdefault(key, []).append(inst.number(target.id))
    join = _JOIN[routing.mode][lang]
    pieces = []
    for key, numbers in answers.items():
        nums = f" {join} ".join(str(n) for n in numbers)
        if lang == "da":
            pieces.append(f"{labels[key]} til spørgsmål {nums}")
        else:
            pieces.append(f"{labels[key]} to question{'s' if len(numbers) > 1 else ''} {nums}")
    body = f" {join} ".join(pieces)
    if lang == "da":
        return f"Besvares kun, hvis du svarede {body}."
    return f"Answer only if you answered {body}."
