"""The demo chain: simulate a Denmark, load it back through the validated loaders, run every stage.

Each stage reads what the previous stages wrote (one direction, as in DESIGN.md) and
writes into its own sub-folder of ``out``. Everything is made from simulated data and
says so: tables carry a ``data_source`` column, text outputs a banner.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from botrygt_eval import SIMULATED_BANNER, __version__

console = Console()


@dataclass
class DemoContext:
    """What the stages share: the output root, the seed, and what earlier stages produced."""

    out: Path
    seed: int
    produced: dict[str, object] = field(default_factory=dict)
    outputs: list[tuple[str, Path]] = field(default_factory=list)

    def folder(self, name: str) -> Path:
        path = self.out / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def table(self, frame: pd.DataFrame, path: Path, label: str) -> Path:
        """Write an aggregate table, marked as simulated."""
        frame = frame.copy()
        frame.insert(0, "data_source", SIMULATED_BANNER)
        frame.to_csv(path, index=False)
        self.outputs.append((label, path))
        return path


Stage = Callable[[DemoContext], None]


def _simulate(ctx: DemoContext) -> None:
    from botrygt_eval.simulate import simulate_workspace

    root = ctx.out / "workspace"
    simulate_workspace(root, seed=ctx.seed)
    ctx.produced["workspace"] = root
    ctx.outputs.append(("simulated workspace (inputs, SIMULEREDE DATA)", root))


def _load(ctx: DemoContext) -> None:
    from botrygt_eval.io.workspace import load_workspace, summarise_workspace

    folder = ctx.folder("loaded")
    ws = load_workspace(ctx.produced["workspace"], quarantine_dir=folder / "quarantine")
    ctx.produced["ws"] = ws
    summary = summarise_workspace(ws)
    ctx.table(summary, folder / "workspace_summary.csv", "validated workspace summary")
    lines = [f"# {SIMULATED_BANNER}", "", "Load log (rows loaded / quarantined):", ""]
    lines += [f"- {m}" for m in ws.messages()]
    (folder / "load_log.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ctx.outputs.append(("load log", folder / "load_log.md"))


def _instrument(ctx: DemoContext) -> None:
    from botrygt_eval.instrument.build import build_instrument

    folder = ctx.folder("instrument")
    build_instrument(2025, folder)
    ctx.outputs.append(("questionnaire 2025: XLSForm, HTML da/en, codebook, schema", folder))


STAGES: list[tuple[str, Stage]] = [
    ("Simulating a synthetic Denmark", _simulate),
    ("Loading it back through the validated loaders", _load),
    ("Building the 2025 citizen questionnaire", _instrument),
]


def run_demo(out: Path, seed: int = 2018) -> DemoContext:
    """Run every stage into ``out`` and print where the outputs are."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(out=out, seed=seed)
    console.rule(f"[bold]botrygt-eval {__version__} demo[/] — {SIMULATED_BANNER}")
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("demo", total=len(STAGES))
        for label, stage in STAGES:
            progress.update(task, description=label)
            stage(ctx)
            progress.advance(task)
    manifest = {
        "data_source": SIMULATED_BANNER,
        "version": __version__,
        "seed": seed,
        "outputs": [{"what": what, "path": str(p.relative_to(out))} for what, p in ctx.outputs],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    table = Table(title=f"Outputs in {out}/ ({SIMULATED_BANNER})")
    table.add_column("what")
    table.add_column("where")
    for what, path in ctx.outputs:
        table.add_row(what, str(path))
    console.print(table)
    return ctx
