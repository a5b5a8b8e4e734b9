"""Write every artefact of one year's questionnaire to a folder."""

from __future__ import annotations

from pathlib import Path

from botrygt_eval.instrument.bank import LANGUAGES, as_instrument
from botrygt_eval.instrument.codebook import write_codebook, write_response_layout
from botrygt_eval.instrument.html import write_html
from botrygt_eval.instrument.pages import controller_texts
from botrygt_eval.instrument.schema import schema_description
from botrygt_eval.instrument.timing import check_duration
from botrygt_eval.instrument.xlsform import write_xlsform


def build_instrument(
    year: int,
    out_dir: str | Path,
    *,
    kommune: int | str | None = None,
    root: str | Path | None = None,
) -> list[Path]:
    """XLSForm, HTML (da, en), codebook (CSV, HTML), response layout and schema rules.

    ``kommune`` names the data controller on the information page; without it the
    page names "your municipality" generically.
    """
    inst = as_instrument(year, root)
    check_duration(inst)  # before writing anything
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    controller, contact = controller_texts(kommune)
    paths = [
        write_xlsform(
            inst,
            out / f"{inst.name}_{inst.year}_xlsform.xlsx",
            controller=controller,
            contact=contact,
        )
    ]
    paths += [
        write_html(inst, out, lang, controller=controller, contact=contact) for lang in LANGUAGES
    ]
    paths += list(write_codebook(inst, out))
    paths.append(write_response_layout(inst, out))
    rules = out / f"response_schema_{inst.year}.csv"
    schema_description(inst).to_csv(rules, index=False, encoding="utf-8", lineterminator="\n")
    paths.append(rules)
    return paths
