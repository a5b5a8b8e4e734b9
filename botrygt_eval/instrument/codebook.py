"""Codebook (CSV, HTML) and the flat response-file layout for platforms without XLSForm."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from botrygt_eval.instrument.bank import Instrument
from botrygt_eval.instrument.html import template_environment
from botrygt_eval.instrument.routing import routing_code_text

_ENV = template_environment(keep_trailing_newline=False)


def _codes(choices, lang: str) -> str:
    return "; ".join(f"{c.code} = {c.label[lang]}" for c in choices)


def codebook_frame(inst: Instrument) -> pd.DataFrame:
    """One row per item: variable, labels, codes, routing, outcome, source."""
    rows = []
    for item in inst.items:
        choices = inst.all_choices(item.id)
        rows.append(
            {
                "number": inst.number(item.id),
                "variable": item.id,
                "group": item.group,
                "topic": item.topic,
                "label_da": item.text["da"],
                "label_en": item.text["en"],
                "codes_da": _codes(choices, "da"),
                "codes_en": _codes(choices, "en"),
                "routing": routing_code_text(item.relevant),
                "required": item.required,
                "construct": item.construct,
                "outcome": "; ".join(
                    f"{m.outcome} (1 if {' or '.join(map(str, m.positive))})" for m in item.measures
                ),
                "source": item.source,
            }
        )
    return pd.DataFrame(rows)


def response_layout(inst: Instrument) -> pd.DataFrame:
    """The flat response file, column by column (for SurveyXact and similar platforms)."""
    head = [
        {
            "position": 1,
            "column": "resp_id",
            "type": "string",
            "allowed_codes": "16 hex characters (pseudonymised id from the sample)",
            "empty_allowed": False,
            "asked_if": "",
            "description": "Respondent id",
        },
        {
            "position": 2,
            "column": "year",
            "type": "integer",
            "allowed_codes": str(inst.year),
            "empty_allowed": False,
            "asked_if": "",
            "description": "Survey year",
        },
    ]
    for k, item in enumerate(inst.items, start=3):
        head.append(
            {
                "position": k,
                "column": item.id,
                "type": "integer",
                "allowed_codes": ",".join(map(str, inst.allowed_codes(item.id))),
                "empty_allowed": not item.required or item.relevant is not None,
                "asked_if": routing_code_text(item.relevant),
                "description": item.text["en"],
            }
        )
    return pd.DataFrame(head)


def write_codebook(inst: Instrument, out_dir: str | Path) -> tuple[Path, Path]:
    """``codebook_YYYY.csv`` and ``codebook_YYYY.html``."""
    out_dir = Path(out_dir)
    frame = codebook_frame(inst)
    csv_path = out_dir / f"codebook_{inst.year}.csv"
    frame.to_csv(csv_path, index=False, encoding="utf-8", lineterminator="\n")
    outcomes = [
        {
            "name": o.name,
            "kind": o.kind,
            "label_da": o.label["da"],
            "label_en": o.label["en"],
            "used_in": ", ".join(o.used_in),
            "feeding_items": ", ".join(
                i.id for i in inst.items if any(m.outcome == o.name for m in i.measures)
            ),
        }
        for o in inst.outcomes.values()
    ]
    html = _ENV.get_template("codebook.html.j2").render(
        inst=inst,
        rows=frame.to_dict("records"),
        outcomes=outcomes,
        changelog=inst.changelog,
        special=inst.special,
    )
    html_path = out_dir / f"codebook_{inst.year}.html"
    html_path.write_text(html, encoding="utf-8")
    return csv_path, html_path


def write_response_layout(inst: Instrument, out_dir: str | Path) -> Path:
    path = Path(out_dir) / f"response_layout_{inst.year}.csv"
    response_layout(inst).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path
