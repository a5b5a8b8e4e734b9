"""``botrygt-eval fetch statbank``: download StatBank tables as raw files with a sidecar."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from botrygt_eval.cli import app
from botrygt_eval.cli.options import LangOption, OutOption

fetch_app = typer.Typer(
    help="Download input data from its source, unchanged, with a provenance sidecar.",
    no_args_is_help=True,
    epilog="Example: botrygt-eval fetch statbank STRAF11 FOLK1A --from 2007K1 --out ws/statbank",
)
app.add_typer(fetch_app, name="fetch")


@fetch_app.command(
    "statbank",
    epilog=(
        "Example: botrygt-eval fetch statbank STRAF11 STRAF10 FOLK1A FAM55N "
        "--from 2007K1 --out WORKSPACE/statbank"
    ),
)
def statbank_cmd(
    tables: Annotated[
        list[str], typer.Argument(help="Tables to fetch: STRAF11, STRAF10, FOLK1A, FAM55N.")
    ],
    out: OutOption("Folder for <TABLE>.csv and <TABLE>.json."),
    from_period: Annotated[
        str | None,
        typer.Option("--from", help="First period, e.g. 2007K1 (years for annual tables)."),
    ] = None,
    lang: LangOption("Language of the labels: da or en.") = "da",
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the API per request.")
    ] = 60.0,
    retries: Annotated[
        int, typer.Option("--retries", help="Retries after a failed request (with backoff).")
    ] = 3,
) -> None:
    """Fetch tables from the StatBank API (BULK format) and check that each one loads."""
    from botrygt_eval.io import statbank
    from botrygt_eval.io.statbank_fetch import fetch_statbank

    console = Console()
    fetched = fetch_statbank(
        tables, out, from_period=from_period, lang=lang, timeout=timeout, retries=retries
    )
    loaders = {
        "STRAF11": statbank.load_straf11,
        "STRAF10": statbank.load_straf10,
        "FOLK1A": statbank.load_folk1a,
        "FAM55N": statbank.load_households,
    }
    for item in fetched:
        result = loaders[item.table](item.path)
        console.print(
            f"{item.table}: {item.n_bytes:,} bytes -> {item.path} (sha256 {item.sha256[:12]}…, "
            f"updated {item.updated}); {result.message()}",
            highlight=False,
        )
        for note in result.notes:
            console.print(f"  {note}", highlight=False)
