"""``botrygt-eval did synth``: synthetic DiD, synthetic control or DiD for one municipality."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from botrygt_eval.cli.did import did_app
from botrygt_eval.cli.sample import read_table
from botrygt_eval.did.synth import INFERENCES, METHODS, synth_did
from botrygt_eval.errors import InputFileError, check_option
from botrygt_eval.privacy.guard import guarded_write_text


@did_app.command(
    "synth",
    epilog=(
        "Example: botrygt-eval did synth --data panel.csv --unit kommune_kode --time period "
        "--treat treated --outcome rate --method sdid --placebo 200 --seed 1 --json synth.json"
    ),
)
def synth_cmd(
    data: Annotated[Path, typer.Option("--data", help="Long panel file (.csv or .parquet).")],
    unit: Annotated[str, typer.Option("--unit", help="Unit column, e.g. kommune_kode.")],
    time: Annotated[str, typer.Option("--time", help="Period column (sortable).")],
    treat: Annotated[
        str, typer.Option("--treat", help="0/1 column: 1 for a treated unit in a treated period.")
    ],
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome column.")],
    json_out: Annotated[Path, typer.Option("--json", help="JSON file to write.")],
    method: Annotated[str, typer.Option("--method", help="sdid, sc or did.")] = "sdid",
    placebo: Annotated[
        int | None,
        typer.Option(
            "--placebo",
            help="Placebo (or bootstrap) replications (default: every donor once "
            "with one treated unit, else 200).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for placebo/bootstrap draws.")] = 0,
    inference: Annotated[
        str, typer.Option("--inference", help="placebo, jackknife, bootstrap or none.")
    ] = "placebo",
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="Analyse only this treated unit (e.g. a kommune code); "
            "other treated units are left out.",
        ),
    ] = None,
) -> None:
    """Synthetic DiD (Arkhangelsky et al. 2021), synthetic control or DiD, with placebo SEs."""
    check_option("--method", method, METHODS)
    check_option("--inference", inference, INFERENCES)
    df = read_table(data)
    tgt = target
    if target is not None and unit in df.columns and pd.api.types.is_numeric_dtype(df[unit]):
        try:
            tgt = pd.to_numeric(target)
        except ValueError as exc:
            raise InputFileError(
                f"--target {target!r} is not a value of the numeric {unit!r}"
            ) from exc
    res = synth_did(df, unit=unit, time=time, outcome=outcome, treat=treat, method=method,
                    inference=inference, replications=placebo, seed=seed, target=tgt)  # fmt: skip
    Console().print(res.summary(), highlight=False)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    guarded_write_text(json_out, json.dumps(res.to_dict(), indent=2, ensure_ascii=False))
    typer.echo(f"wrote {json_out}")
