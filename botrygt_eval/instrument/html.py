"""Render the printable, accessible HTML questionnaire (one file per language)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from botrygt_eval.errors import check_option
from botrygt_eval.instrument.bank import LANGUAGE_NAMES, LANGUAGES, Instrument
from botrygt_eval.instrument.pages import page_paragraphs
from botrygt_eval.instrument.routing import routing_instruction
from botrygt_eval.instrument.timing import check_duration, estimated_minutes


def template_environment(*, keep_trailing_newline: bool) -> Environment:
    """The Jinja environment for the templates in ``data/instrument`` (escaped, strict)."""
    return Environment(
        loader=PackageLoader("botrygt_eval", "data/instrument"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
    )


_ENV = template_environment(keep_trailing_newline=True)
_FOOTER = {
    "da": "{title}. Version {version}. Spørgeskemaet er lavet med botrygt_eval.",
    "en": "{title}. Version {version}. Questionnaire generated with botrygt_eval.",
}
_OTHER_LABEL = {"da": "Read in English", "en": "Læs på dansk"}


def html_filename(inst: Instrument, lang: str) -> str:
    return f"questionnaire_{inst.year}_{lang}.html"


def _questions(inst: Instrument, lang: str) -> list[dict]:
    groups = []
    for group in inst.groups:
        questions = []
        for item in group.items:
            routing = routing_instruction(inst, item, lang)
            describedby = " ".join(
                f"{kind}-{item.id}"
                for kind, present in (("routing", routing), ("hint", item.hint))
                if present
            )
            choices = [
                {"code": c.code, "label": c.label[lang], "special": False, "first_special": False}
                for c in item.choices
            ]
            choices += [
                {"code": c.code, "label": c.label[lang], "special": True, "first_special": i == 0}
                for i, c in enumerate(inst.special)
            ]
            questions.append(
                {
                    "id": item.id,
                    "number": inst.number(item.id),
                    "text": item.text[lang],
                    "hint": (item.hint or {}).get(lang),
                    "routing": routing,
                    "describedby": describedby,
                    "choices": choices,
                    "required": item.required,
                }
            )
        groups.append(
            {
                "name": group.name,
                "title": group.title[lang],
                "intro": (group.intro or {}).get(lang),
                "questions": questions,
            }
        )
    return groups


def render_html(
    inst: Instrument, lang: str, *, controller: dict[str, str], contact: dict[str, str]
) -> str:
    """The questionnaire in ``lang`` as one self-contained HTML page."""
    check_option("lang", lang, LANGUAGES)
    check_duration(inst)
    minutes = estimated_minutes(inst, lang)
    other = LANGUAGES[1 - LANGUAGES.index(lang)]
    kw = {"controller": controller[lang], "contact": contact[lang], "minutes": minutes}
    return _ENV.get_template("questionnaire.html.j2").render(
        inst=inst,
        lang=lang,
        other_lang=other,
        other_href=html_filename(inst, other),
        other_label=_OTHER_LABEL[lang],
        language_name=LANGUAGE_NAMES[lang],
        privacy=page_paragraphs(inst, "privacy", lang, **kw),
        closing=page_paragraphs(inst, "closing", lang, **kw),
        groups=_questions(inst, lang),
        footer=_FOOTER[lang].format(title=inst.title[lang], version=inst.version),
    )


def write_html(inst: Instrument, out_dir: str | Path, lang: str, **texts) -> Path:
    path = Path(out_dir) / html_filename(inst, lang)
    path.write_text(render_html(inst, lang, **texts), encoding="utf-8")
    return path
