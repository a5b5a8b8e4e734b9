"""``botrygt-eval simulate``: write a synthetic Denmark evaluation workspace."""

from __future__ import annotations

import typer

from botrygt_eval.cli import app
from botrygt_eval.cli.options import OutOption, SeedOption
from botrygt_eval.options import DEFAULT_SEED


@app.command(
    "simulate",
    epilog="Example: botrygt-eval simulate --out data/sim --seed 2018",
)
def simulate_cmd(
    out: OutOption("Folder to write the workspace into."),
    seed: SeedOption("Random seed; the same seed gives identical files.") = DEFAULT_SEED,
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
