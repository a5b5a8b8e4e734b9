"""``botrygt-eval responses import|merge``: platform exports to the response layout, then the sample."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from botrygt_eval.cli import app
from botrygt_eval.cli.options import (
    InstrumentYearOption,
    OutOption,
    ResponsesOption,
    SampleFileOption,
    YearOption,
)

responses_app = typer.Typer(
    help="Survey responses: import a platform export, link it to the drawn sample.",
    no_args_is_help=True,
    epilog=(
        "Example: botrygt-eval responses import --from odk export.csv --year 2025 "
        "--out survey/responses_2025.csv"
    ),
)
app.add_typer(responses_app, name="responses")


@responses_app.command(
    "import",
    epilog=(
        "Example: botrygt-eval responses import --from surveyxact dataset.csv --year 2025 "
        "--out survey/responses_2025.csv"
    ),
)
def import_cmd(
    file: Annotated[
        Path, typer.Argument(help="The platform's export (.csv, .xlsx, .xml, .sav, .dta).")
    ],
    platform: Annotated[str, typer.Option("--from", help="odk, kobo, surveyxact, spss or stata.")],
    year: YearOption("Survey year of the responses."),
    out: OutOption("Output: responses_YYYY.csv."),
    instrument: InstrumentYearOption(
        "Questionnaire year the form was built from (default --year)."
    ) = None,
    ignore_columns: Annotated[
        str | None,
        typer.Option("--ignore-columns", help="Export columns to leave out, e.g. deviceinfo,lang."),
    ] = None,
) -> None:
    """Map a platform export onto the year's response layout (codes via the codebook)."""
    from botrygt_eval.io.platforms import import_responses, write_responses
    from botrygt_eval.privacy.guard import guarded_to_csv

    result = import_responses(
        file,
        platform,
        year,
        instrument_year=instrument,
        ignore_columns=tuple(c.strip() for c in (ignore_columns or "").split(",") if c.strip()),
        quarantine_dir=out.parent / "quarantine",
    )
    write_responses(result, out)
    if len(result.superseded):
        path = out.parent / "quarantine" / f"{out.stem}.superseded.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        guarded_to_csv(result.superseded, path, index=False)
    console = Console()
    console.print(result.summary(), highlight=False)
    console.print(f"Responses written to {out} ({len(result.data):,} rows)")


@responses_app.command(
    "merge",
    epilog=(
        "Example: botrygt-eval responses merge --sample survey/sample_2025.csv "
        "--responses survey/responses_2025.csv --out survey/merged_2025.csv"
    ),
)
def merge_cmd(
    sample: SampleFileOption,
    responses: ResponsesOption("Imported responses, responses_YYYY.csv."),
    out: OutOption("Output: one row per sampled person."),
    instrument: InstrumentYearOption(
        "Questionnaire year of the responses (default: their year)."
    ) = None,
) -> None:
    """Link responses to the sample by resp_id; set 'responded'; report what did not link."""
    from botrygt_eval.instrument.schema import response_schema
    from botrygt_eval.io.merge import merge_responses
    from botrygt_eval.io.responses import load_responses, load_sample
    from botrygt_eval.io.writers import write_csv
    from botrygt_eval.privacy.guard import guarded_to_csv

    qdir = out.parent / "quarantine"
    s = load_sample(sample, quarantine_dir=qdir)
    r = load_responses(
        responses,
        schema=lambda y: response_schema(y, instrument_year=instrument),
        quarantine_dir=qdir,
    )
    data = r.data
    if responses.suffix.lower() == ".csv":  # line numbers for the not-in-sample report
        import pandas as pd

        ids = pd.read_csv(responses, usecols=["resp_id"], dtype=str, keep_default_na=False)
        line = pd.Series(range(2, len(ids) + 2), index=ids["resp_id"].str.strip().str.lower())
        line = line[~line.index.duplicated()]
        data = data.assign(source_row=data["resp_id"].map(line).to_numpy())
    result = merge_responses(s.data, data)
    write_csv(out, result.merged)
    console = Console()
    for loaded in (s, r):
        console.print(loaded.message(), highlight=False)
    console.print(result.summary(), highlight=False)
    if len(result.not_in_sample):
        path = qdir / f"{out.stem}.not_in_sample.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        guarded_to_csv(result.not_in_sample, path, index=False)
        console.print(f"Responses not in the sample: {path}")
    console.print(f"Merged sample written to {out} ({len(result.merged):,} rows)")


__all__ = ["import_cmd", "merge_cmd"]
