"""The ``botrygt-eval`` command line (Typer).

Each group of commands lives in its own module and is registered here.
Errors the user can fix (``BotrygtError``) print one clear message and exit 2,
without a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from botrygt_eval import __version__
from botrygt_eval.errors import BotrygtError

app = typer.Typer(
    name="botrygt-eval",
    help=("Evaluation toolkit for Bo trygt partnerships.\n\nExample: botrygt-eval demo --out out/"),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"botrygt-eval {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Evaluation toolkit for Bo trygt partnerships."""


# Command modules register themselves on ``app`` when imported (one line each).
from botrygt_eval.cli import activities as _activities  # noqa: E402,F401
from botrygt_eval.cli import demo as _demo  # noqa: E402,F401
from botrygt_eval.cli import did as _did  # noqa: E402,F401
from botrygt_eval.cli import did_panel as _did_panel  # noqa: E402,F401
from botrygt_eval.cli import did_synth as _did_synth  # noqa: E402,F401
from botrygt_eval.cli import estimate as _estimate  # noqa: E402,F401
from botrygt_eval.cli import fetch as _fetch  # noqa: E402,F401
from botrygt_eval.cli import fieldwork as _fieldwork  # noqa: E402,F401
from botrygt_eval.cli import figures as _figures  # noqa: E402,F401
from botrygt_eval.cli import instrument as _instrument  # noqa: E402,F401
from botrygt_eval.cli import media as _media  # noqa: E402,F401
from botrygt_eval.cli import monitoring_map as _monitoring_map  # noqa: E402,F401
from botrygt_eval.cli import report as _report  # noqa: E402,F401
from botrygt_eval.cli import responses as _responses  # noqa: E402,F401
from botrygt_eval.cli import sample as _sample  # noqa: E402,F401
from botrygt_eval.cli import simulate as _simulate  # noqa: E402,F401
from botrygt_eval.cli import weight as _weight  # noqa: E402,F401


def main() -> None:
    """Entry point: run the app, turning user errors into one-line messages (exit 2)."""
    from botrygt_eval.privacy.logs import install_log_guard
    from botrygt_eval.privacy.patterns import redact_cpr

    install_log_guard()  # no CPR number in any log line (docs/DATA_PROTECTION.md)
    try:
        out = _out_folder(sys.argv[1:])
        if out is None:
            app()  # standalone mode: usage errors and exit codes are handled by Typer
        else:  # caches and temporary files (matplotlib, Jupyter) stay under --out
            from botrygt_eval.privacy.sandbox import report_sandbox

            with report_sandbox(out):
                app()
    except BotrygtError as exc:
        err_console.print(f"[bold red]error:[/] {redact_cpr(str(exc))}", highlight=False)
        sys.exit(2)


def _out_folder(argv: list[str]) -> str | None:
    """The command's ``--out`` folder, if it has one (``--out DIR`` or ``--out=DIR``)."""
    for i, arg in enumerate(argv):
        if arg == "--out" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--out="):
            return arg.split("=", 1)[1]
    return None
