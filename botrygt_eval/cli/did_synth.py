"""``botrygt-eval did synth``: synthetic DiD, synthetic control or DiD for one municipality."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from botrygt_eval.cli.did import did_app
from botrygt_eval.cli.options import (
    Choice,
    DataOption,
    JsonOption,
    OutcomeOption,
    SeedOption,
    SynthMethod,
    SynthSE,
    TimeOption,
    TreatOption,
    UnitOption,
    value,
)
from botrygt_eval.cli.sample import read_table
from botrygt_eval.errors import InputFileError
from botrygt_eval.options import DEFAULT_SEED


@did_app.command(
    "synth",
    epilog=(
        "Example: botrygt-eval did synth --data panel.csv --unit kommune_kode --time period "
        "--treat treated --outcome rate --method sdid --placebo 200 --seed 1 --json synth.json"
    ),
)
def synth_cmd(
    data: DataOption("Long panel file (.csv or .parquet)."),
    unit: UnitOption,
    time: TimeOption("Period column (sortable)."),
    treat: TreatOption("0/1 column: 1 for a treated unit in a treated period."),
    outcome: OutcomeOption,
    json_out: JsonOption,
    method: Choice(SynthMethod, "--method", "sdid, sc or did.") = "sdid",
    placebo: Annotated[
        int | None,
        typer.Option(
            "--placebo",
            help="Placebo (or bootstrap) replications (default: every donor once "
            "with one treated unit, else 200).",
        ),
    ] = None,
    seed: SeedOption("Seed for placebo/bootstrap draws.") = DEFAULT_SEED,
    inference: Choice(SynthSE, "--inference", "placebo, jackknife, bootstrap or none.") = "placebo",
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
    import pandas as pd

    from botrygt_eval.did.synth.fit import synth_did
    from botrygt_eval.privacy.guard import guarded_write_text

    df = read_table(data)
    tgt = target
    if target is not None and unit in df.columns and pd.api.types.is_numeric_dtype(df[unit]):
        try:
            tgt = pd.to_numeric(target)
        except ValueError as exc:
            raise InputFileError(
                f"--target {target!r} is not a value of the numeric {unit!r}"
            ) from exc
    res = synth_did(df, unit=unit, time=time, outcome=outcome, treat=treat, method=value(method),
                    se=value(inference), replications=placebo, seed=seed, target=tgt)  # fmt: skip
    Console().print(res.summary(), highlight=False)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    guarded_write_text(json_out, json.dumps(res.to_dict(), indent=2, ensure_ascii=False))
    typer.echo(f"wrote {json_out}")
