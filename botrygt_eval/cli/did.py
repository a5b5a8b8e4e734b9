"""``botrygt-eval did ...``: difference-in-differences commands.

Minimal version created by Engineer P (panel/TWFE) so that ``did twfe`` can be
registered; Engineer CS owns this module and adds ``att-gt``.
"""

from __future__ import annotations

import typer

from botrygt_eval.cli import app

did_app = typer.Typer(
    help="Difference-in-differences: TWFE, event studies, Callaway-Sant'Anna.\n\n"
    "Example: botrygt-eval did twfe --data panel.csv --unit kommune_kode --time period "
    "--treat treated --outcome log_rate --json twfe.json",
    no_args_is_help=True,
)
app.add_typer(did_app, name="did")
