"""``botrygt-eval demo``: the whole chain on the embedded synthetic Denmark."""

from __future__ import annotations

from pathlib import Path

import typer

from botrygt_eval.cli import app


@app.command("demo", epilog="Example: botrygt-eval demo --out out/ --seed 2018")
def demo_cmd(
    out: Path = typer.Option(Path("out"), "--out", help="Output folder (created)."),
    seed: int = typer.Option(2018, "--seed", help="Random seed for the simulation."),
) -> None:
    """Simulate a Denmark, load it back through the validated loaders, and run every stage."""
    from botrygt_eval.demo import run_demo

    run_demo(out, seed=seed)
