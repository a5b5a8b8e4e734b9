"""``botrygt-eval media``: code an article export, write the yearly series and the kappa."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from botrygt_eval.cli import app
from botrygt_eval.cli.options import DataOption, KommuneOption, MinNOption, OutOption


@app.command(
    "media",
    epilog=(
        "Example: botrygt-eval media --data out/workspace --out out/media\n\n"
        "One kommune and your own hand-coded sample: botrygt-eval media --data ws --out m "
        "--kommune 851 --hand-coded my_sample.csv"
    ),
)
def media_cmd(
    data: DataOption("Workspace folder with media/articles.csv."),
    out: OutOption("Output folder (tables, JSON, figure)."),
    kommune: KommuneOption("Only this kommune's series (code or name).") = None,
    hand_coded: Annotated[
        Path | None,
        typer.Option(
            "--hand-coded",
            help="Hand-coded sample (articles + hand_burglary, hand_constructive); "
            "default media/hand_coded.csv when present.",
        ),
    ] = None,
    dictionary: Annotated[
        Path | None, typer.Option("--dictionary", help="Own phrase dictionary (YAML).")
    ] = None,
    min_n: MinNOption("Suppress shares resting on fewer burglary articles.") = 10,
) -> None:
    """Constructive media coverage of burglary: share per year, nationally and per kommune."""
    from botrygt_eval.media.pipeline import analyse_media
    from botrygt_eval.privacy.guard import guarded_to_csv, guarded_write_text
    from botrygt_eval.reference import to_kommune_kode

    code = None if kommune is None else to_kommune_kode(kommune)
    out.mkdir(parents=True, exist_ok=True)
    res = analyse_media(
        data, kommune=code, hand_coded=hand_coded, dictionary=dictionary, min_n=min_n,
        quarantine_dir=out / "quarantine",
    )  # fmt: skip
    guarded_to_csv(res.series, out / "media_series.csv", index=False)
    guarded_to_csv(res.rules, out / "media_rules.csv", index=False)
    guarded_write_text(
        out / "media_summary.json",
        json.dumps(res.to_dict(), indent=2, ensure_ascii=False) + "\n",
    )
    if res.agreement is not None:
        guarded_write_text(
            out / "media_kappa.json", json.dumps(res.agreement, indent=2, ensure_ascii=False) + "\n"
        )
    fig = res.plot(kommune=code)
    fig.savefig(out / "media_series.png", dpi=120)
    for line in res.messages:
        typer.echo(line)
    kappa = (
        f"; kappa (constructive) {res.agreement['constructive']['kappa']:.2f}"
        if res.agreement
        else ""
    )
    typer.echo(
        f"{len(res.coded)} articles, {int(res.coded['is_burglary'].sum())} about burglary, "
        f"{int(res.coded['is_constructive'].sum())} constructive{kappa} -> {out}"
    )
