"""The pandera schema of a year's response file, generated from the item bank.

Every check is row-level (element-wise, or a frame check returning one boolean
per row) so that :func:`botrygt_eval.io.quarantine.validate_rows` moves a bad
row to quarantine with a reason that names the item and the code, instead of
rejecting the file. Only a missing item column fails the whole file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from botrygt_eval.instrument.bank import Instrument, Item, as_instrument
from botrygt_eval.instrument.routing import asked_mask, routing_code_text

RESP_ID_PATTERN = r"^[0-9a-fA-F]{16}$"


def _codes_text(codes) -> str:
    return ", ".join(map(str, codes))


def _routing_check(item: Item) -> pa.Check:
    rule = routing_code_text(item.relevant)

    def answered_only_if_asked(frame: pd.DataFrame) -> pd.Series:
        answered = pd.to_numeric(frame[item.id], errors="coerce").notna()
        return ~answered | asked_mask(item.relevant, frame)

    return pa.Check(
        answered_only_if_asked,
        name=f"routing_{item.id}",
        error=(
            f"{item.id} is answered although routing says it is not asked (asked only if {rule}); "
            f"leave {item.id} empty or correct the filter question"
        ),
    )


def _required_check(item: Item, inst: Instrument) -> pa.Check:
    specials = " or ".join(f"{c.code} ({c.label['da']})" for c in inst.special)

    def present_if_asked(frame: pd.DataFrame) -> pd.Series:
        missing = pd.to_numeric(frame[item.id], errors="coerce").isna()
        return ~(missing & asked_mask(item.relevant, frame))

    return pa.Check(
        present_if_asked,
        name=f"required_{item.id}",
        error=(
            f"{item.id} is required but empty; the platform must record an answer, "
            f"using {specials} when the respondent gave none"
        ),
    )


def response_schema(
    year: int | Instrument,
    root: str | Path | None = None,
    *,
    instrument_year: int | None = None,
) -> pa.DataFrameSchema:
    """Schema of ``responses_YYYY``: ``resp_id``, ``year`` and one column per item.

    The items come from ``year``'s questionnaire, or from ``instrument_year``'s when
    a file was collected with another year's version (e.g. back-years of a
    simulated panel written in the 2025 layout): ``response_schema(2019, instrument_year=2025)``.
    """
    inst = as_instrument(year if instrument_year is None else instrument_year, root)
    file_year = inst.year if isinstance(year, Instrument) else int(year)
    columns = {
        "resp_id": pa.Column(
            str,
            pa.Check.str_matches(RESP_ID_PATTERN, error="resp_id must be 16 hex characters"),
            nullable=False,
            title="Respondent id",
        ),
        "year": pa.Column(
            int,
            pa.Check.isin(
                [file_year], error=f"year must be {file_year} in the {file_year} response file"
            ),
            coerce=True,
            title="Survey year",
        ),
    }
    for item in inst.items:
        allowed = inst.allowed_codes(item.id)
        columns[item.id] = pa.Column(
            "Int64",
            pa.Check.isin(
                list(allowed),
                error=f"code is not in the {inst.year} codebook for {item.id} (allowed: {_codes_text(allowed)})",
            ),
            nullable=True,
            coerce=True,
            title=item.text["en"],
            description=f"codes {_codes_text(allowed)}; asked if {routing_code_text(item.relevant) or 'all'}",
        )
    checks = [_routing_check(i) for i in inst.items if i.relevant is not None]
    checks += [_required_check(i, inst) for i in inst.items if i.required]
    return pa.DataFrameSchema(
        columns,
        checks=checks,
        strict=False,
        unique=["resp_id"],
        report_duplicates="exclude_first",
        name=f"responses_{file_year}",
        title=inst.title["en"],
    )


def schema_description(year: int | Instrument, root: str | Path | None = None) -> pd.DataFrame:
    """A readable table of the schema's rules (for the build's output folder)."""
    inst = as_instrument(year, root)
    rows = [
        {"column": "resp_id", "rule": "required, unique, 16 hex characters"},
        {"column": "year", "rule": f"required, equals {inst.year}"},
    ]
    for item in inst.items:
        rule = f"codes {_codes_text(inst.allowed_codes(item.id))} or empty"
        if item.relevant is not None:
            rule += f"; must be empty unless {routing_code_text(item.relevant)}"
        if item.required:
            rule += "; must not be empty when asked"
        rows.append({"column": item.id, "rule": rule})
    return pd.DataFrame(rows)
