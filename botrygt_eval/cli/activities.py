"""``botrygt-eval activities``: the decision table per activity type and the partnership KPIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from botrygt_eval.cli import app
from botrygt_eval.cli.options import DataOption


@app.command(
    "activities",
    epilog="Example: botrygt-eval activities --data data/sim --json out/activities.json",
)
def activities_cmd(
    data: DataOption("Workspace folder (docs/DATA_FORMATS.md)."),
    json_path: Annotated[Path, typer.Option("--json", help="File to write the results to.")],
    delta: Annotated[
        float, typer.Option("--delta", help="Smallest burglary reduction worth the cost (share).")
    ] = 0.05,
    window: Annotated[
        int,
        typer.Option("--window", help="Quarters an activity is taken to work (from its start)."),
    ] = 4,
) -> None:
    """Which activity types to repeat, change or drop, and each partnership's KPIs."""
    from botrygt_eval.activities import DecisionRule, evaluate_activities, load_activity_workspace
    from botrygt_eval.kpi.targets import partnership_kpis
    from botrygt_eval.media.kpi import add_media_kpis
    from botrygt_eval.media.pipeline import analyse_media, has_media
    from botrygt_eval.privacy.guard import guarded_write_text
    from botrygt_eval.results import json_safe

    quarantine = json_path.parent / "quarantine"
    ws = load_activity_workspace(data, quarantine_dir=quarantine)
    for report in ws.reports:  # every file's load log: loaded, quarantined (where), set aside
        if report.n_quarantined or not report.adds_up or report.lines == 0:
            typer.echo(report.message(), err=True)
    ev = evaluate_activities(ws, rule=DecisionRule(delta=delta), window_quarters=window)
    kpis = partnership_kpis(ws)
    if has_media(data):  # constructive-media share and mentions per partnership
        kpis = add_media_kpis(kpis, analyse_media(data).coded)
    doc = ev.to_dict()
    out = {"decisions": doc["decisions"], "effects": doc["effects"], "kpis": json_safe(kpis),
           "settings": doc["settings"]}  # fmt: skip
    json_path.parent.mkdir(parents=True, exist_ok=True)
    guarded_write_text(json_path, json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    counts = ev.decisions["verdict"].value_counts().to_dict()
    summary = ", ".join(f"{v}: {n}" for v, n in counts.items())
    typer.echo(
        f"{len(ev.decisions)} activity types ({summary}); {len(kpis)} partnerships -> {json_path}"
    )
