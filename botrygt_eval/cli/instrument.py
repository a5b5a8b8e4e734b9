"""``botrygt-eval instrument build|diff``: render the questionnaire, compare two years."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from botrygt_eval.cli import app
from botrygt_eval.cli.options import BankOption, KommuneOption, OutOption, YearOption

instrument_app = typer.Typer(
    help="The annual citizen questionnaire (borgerundersøgelsen): build artefacts, compare years.",
    no_args_is_help=True,
    epilog="Example: botrygt-eval instrument build --year 2025 --out out/instrument",
)
app.add_typer(instrument_app, name="instrument")


def _console() -> Console:
    """A console made per call, so it sees the terminal width of that call."""
    return Console()


@instrument_app.command(
    "build",
    epilog="Example: botrygt-eval instrument build --year 2025 --out out/instrument --kommune 751",
)
def build_cmd(
    year: YearOption("Questionnaire year (a folder in the item bank)."),
    out: OutOption("Folder to write the artefacts to."),
    kommune: KommuneOption(
        "Kommune code or name to name as data controller (default: generic)."
    ) = None,
    bank: BankOption("Item bank folder (default: survey_instruments/borgerundersoegelse).") = None,
) -> None:
    """Write XLSForm, HTML (da/en), codebook (CSV/HTML), response layout and schema rules."""
    from botrygt_eval.instrument import build_instrument, estimated_minutes, load_instrument

    paths = build_instrument(year, out, kommune=kommune, root=bank)
    inst = load_instrument(year, bank)
    table = Table(
        title=f"{inst.title['da']} ({len(inst.items)} spørgsmål, ca. {estimated_minutes(inst)} min.)"
    )
    table.add_column("file")
    for path in paths:
        table.add_row(str(path))
    _console().print(table)


@instrument_app.command(
    "diff",
    epilog="Example: botrygt-eval instrument diff 2024 2025 --json diff_2024_2025.json",
)
def diff_cmd(
    old: Annotated[int, typer.Argument(help="Earlier year.")],
    new: Annotated[int, typer.Argument(help="Later year.")],
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the changes as JSON.")
    ] = None,
    bank: BankOption("Item bank folder.") = None,
) -> None:
    """List added, removed, reworded and recoded items; flag breaks in trend/DiD outcomes."""
    from botrygt_eval.instrument import diff_instruments

    result = diff_instruments(old, new, root=bank)
    table = Table(title=f"Questionnaire {result.old_year} → {result.new_year}")
    for col in ("item", "change", "detail", "outcomes", "breaks comparability", "in changelog"):
        table.add_column(col, overflow="fold")
    for c in result.changes:
        table.add_row(
            c.item,
            c.change,
            c.detail,
            ", ".join(c.outcomes),
            "[bold red]YES[/]" if c.breaks_comparability else "no",
            "yes" if c.recorded else "[yellow]NO[/]",
        )
    _console().print(table)
    if result.breaking:
        broken = sorted({o for c in result.breaking for o in c.outcomes})
        _console().print(
            f"[bold red]Comparability broken[/] for: {', '.join(broken)}. "
            "Do not pool or difference these outcomes across the two years without a bridge study."
        )
    if result.unrecorded:
        _console().print(
            f"[yellow]{len(result.unrecorded)} change(s) are not in the {result.new_year} changelog[/]; "
            "record them in instrument.yaml."
        )
    if json_path is not None:
        result.to_json(json_path)
        _console().print(f"wrote {json_path}")
