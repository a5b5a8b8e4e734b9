"""Render the questionnaire as an XLSForm (survey, choices, settings), byte-reproducibly."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from botrygt_eval.instrument.bank import LANGUAGE_NAMES, LANGUAGES, Instrument
from botrygt_eval.instrument.pages import page_paragraphs
from botrygt_eval.instrument.routing import xlsform_relevant
from botrygt_eval.instrument.timing import estimated_minutes

_LABEL = {lang: f"label::{LANGUAGE_NAMES[lang]} ({lang})" for lang in LANGUAGES}
_HINT = {lang: f"hint::{LANGUAGE_NAMES[lang]} ({lang})" for lang in LANGUAGES}
_REQ_MSG = {lang: f"required_message::{LANGUAGE_NAMES[lang]} ({lang})" for lang in LANGUAGES}
_REQUIRED_TEXT = {
    "da": "Vælg et svar. Du kan også vælge «Ved ikke» eller «Ønsker ikke at svare».",
    "en": "Please choose an answer. You may also choose «Don't know» or «Prefer not to answer».",
}
SURVEY_COLUMNS = [
    "type",
    "name",
    *_LABEL.values(),
    *_HINT.values(),
    "required",
    *_REQ_MSG.values(),
    "relevant",
    "appearance",
    "calculation",
]
#: the field that links an answer to the sample (pre-filled from the survey link)
RESP_ID_FIELD = "resp_id"
#: the calculate field that stamps the survey year on every submission
YEAR_FIELD = "year"
CHOICE_COLUMNS = ["list_name", "name", *_LABEL.values()]
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _texts(key: dict[str, str], values: dict[str, str] | None) -> dict[str, str]:
    return {key[lang]: (values or {}).get(lang, "") for lang in LANGUAGES}


def survey_rows(
    inst: Instrument, controller: dict[str, str], contact: dict[str, str]
) -> list[dict]:
    """The ``survey`` sheet: privacy note, one group per item group, closing note."""
    rows: list[dict] = []

    def note(name: str, page: str) -> None:
        paras = {
            lang: page_paragraphs(
                inst,
                page,
                lang,
                controller=controller[lang],
                contact=contact[lang],
                minutes=estimated_minutes(inst, lang),
            )
            for lang in LANGUAGES
        }
        title = {lang: inst.pages[page]["title"][lang] for lang in LANGUAGES}
        text = {
            lang: f"**{title[lang]}**\n\n"
            + "\n\n".join(
                (f"**{h}**: " if h else "") + body + "".join(f"\n- {b}" for b in bullets)
                for h, body, bullets in paras[lang]
            )
            for lang in LANGUAGES
        }
        rows.append({"type": "note", "name": name, **_texts(_LABEL, text)})

    rows.extend(link_rows(inst))
    note("privacy_page", "privacy")
    for group in inst.groups:
        rows.append(
            {
                "type": "begin group",
                "name": f"grp_{group.name}",
                **_texts(_LABEL, group.title),
                "appearance": "field-list",
            }
        )
        if group.intro:
            rows.append(
                {"type": "note", "name": f"intro_{group.name}", **_texts(_LABEL, group.intro)}
            )
        for item in group.items:
            row = {
                "type": f"select_one {item.list_name}",
                "name": item.id,
                **_texts(_LABEL, item.text),
                **_texts(_HINT, item.hint),
                "relevant": xlsform_relevant(item.relevant),
            }
            if item.required:
                row.update({"required": "yes", **_texts(_REQ_MSG, _REQUIRED_TEXT)})
            rows.append(row)
        rows.append({"type": "end group", "name": f"grp_{group.name}"})
    note("closing_page", "closing")
    return rows


def link_rows(inst: Instrument) -> list[dict]:
    """Fields that link a submission to the sample: ``resp_id`` and ``year``.

    ``resp_id`` is a hidden text field filled from the personal survey link
    (ODK/Enketo: ``?d[/data/resp_id]=<id>``; KoboToolbox uses the same Enketo
    parameter with the form's root name), so e-Boks can send each sampled person a
    link that carries their pseudonymous id. It must be 16 hex characters. ``year``
    is a calculate field holding the survey year. Both sit outside the item groups,
    so exports name them ``resp_id`` and ``year`` without a group prefix.
    """
    return [
        {
            "type": "hidden",
            "name": RESP_ID_FIELD,
            **_texts(_LABEL, {"da": "Respondent-id (udfyldes af linket)", "en": "Respondent id"}),
        },
        {"type": "calculate", "name": YEAR_FIELD, "calculation": str(inst.year)},
    ]


def choice_rows(inst: Instrument) -> list[dict]:
    """The ``choices`` sheet: each list once, substantive answers then 98/99."""
    rows, done = [], set()
    for item in inst.items:
        if item.list_name in done:
            continue
        done.add(item.list_name)
        for choice in inst.all_choices(item.id):
            rows.append(
                {
                    "list_name": item.list_name,
                    "name": str(choice.code),
                    **_texts(_LABEL, choice.label),
                }
            )
    return rows


def _sheet(
    wb: Workbook, title: str, columns: list[str], rows: list[dict], first: bool = False
) -> None:
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(columns)
    for row in rows:
        ws.append([row.get(c, "") or None for c in columns])


def _reproducible(data: bytes, stamp: datetime) -> bytes:
    """Fix zip entry times and the core-properties dates so equal input gives equal bytes."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    rb"\g<1>" + iso.encode(),
                    payload,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, payload)
    return out.getvalue()


def write_xlsform(
    inst: Instrument, path: str | Path, *, controller: dict[str, str], contact: dict[str, str]
) -> Path:
    """Write the XLSForm of ``inst`` to ``path`` (same input, same bytes)."""
    wb = Workbook()
    _sheet(wb, "survey", SURVEY_COLUMNS, survey_rows(inst, controller, contact), first=True)
    _sheet(wb, "choices", CHOICE_COLUMNS, choice_rows(inst))
    settings = {
        "form_title": inst.title["da"],
        "form_id": f"{inst.name}_{inst.year}",
        "version": inst.version.replace(".", ""),
        "default_language": f"{LANGUAGE_NAMES['da']} (da)",
    }
    _sheet(wb, "settings", list(settings), [settings])
    stamp = datetime(inst.year, 1, 1)
    wb.properties.creator = "botrygt_eval"
    wb.properties.created = stamp
    buf = io.BytesIO()
    wb.save(buf)
    path = Path(path)
    path.write_bytes(_reproducible(buf.getvalue(), stamp))
    return path
