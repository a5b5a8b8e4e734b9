"""``botrygt-eval simulate``: write a synthetic Denmark evaluation workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from botrygt_eval.cli import app


@app.command(
    "simulate",
    epilog="Example: botrygt-eval simulate --out data/sim --seed 2018",
)
def simulate_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the workspace into.")],
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed gives identical files.")
    ] = 2018,
) -> None:
    """Write a synthetic Denmark (StatBank CSVs, survey responses, registers, truth.json)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from botrygt_eval.simulate import simulate_workspace

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("SIMULEREDE DATA: {task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starter", total=None)
        paths = simulate_workspace(
            out, seed=seed, progress=lambda label: progress.update(task, description=label)
        )
    typer.echo(f"SIMULEREDE DATA / SIMULATED DATA written to {out} ({len(paths)} files)")
