"""``botrygt-eval simulate``: write a synthetic Denmark evaluation workspace."""

from __future__ import annotations

from pathlib import Path

import typer

from botrygt_eval.cli import app


@app.command(
    "simulate",
    epilog="Example: botrygt-eval simulate --out data/sim --seed 2018",
)
def simulate_cmd(
    out: Path = typer.Option(..., "--out", help="Folder to write the workspace into."),
    seed: int = typer.Option(2018, "--seed", help="Random seed; the same seed gives identical files."),
) -> None:
    """Write a synthetic Denmark (StatBank CSVs, survey responses, registers, truth.json)."""
    from botrygt_eval.simulate import simulate_workspace

    paths = simulate_workspace(out, seed=seed)
    typer.echo(f"SIMULEREDE DATA / SIMULATED DATA written to {out} ({len(paths)} files)")
