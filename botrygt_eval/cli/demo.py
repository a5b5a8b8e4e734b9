"""``botrygt-eval demo``: the whole chain on the embedded synthetic Denmark."""

from __future__ import annotations

from pathlib import Path

from botrygt_eval.cli import app
from botrygt_eval.cli.options import OutOption, SeedOption
from botrygt_eval.options import DEFAULT_SEED


@app.command("demo", epilog="Example: botrygt-eval demo --out out/ --seed 2018")
def demo_cmd(
    out: OutOption("Output folder (created).") = Path("out"),
    seed: SeedOption("Random seed for the simulation.") = DEFAULT_SEED,
) -> None:
    """Simulate a Denmark, load it back through the validated loaders, and run every stage."""
    from botrygt_eval.demo import run_demo

    run_demo(out, seed=seed)
