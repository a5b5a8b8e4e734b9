"""``botrygt-eval did twfe``: TWFE DiD (and event study) with clustered SEs, to JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from botrygt_eval.cli.did import did_app
from botrygt_eval.cli.options import (
    Choice,
    ClusterOption,
    DataOption,
    JsonOption,
    OutcomeOption,
    RegressionSE,
    SeedOption,
    TimeOption,
    TreatOption,
    UnitOption,
    WeightsOption,
    WeightsType,
    value,
)
from botrygt_eval.cli.sample import read_table
from botrygt_eval.errors import InputFileError
from botrygt_eval.options import DEFAULT_SEED, DEFAULT_WILD_REPLICATIONS

if TYPE_CHECKING:
    import pandas as pd


def cohort_from_treat(df: pd.DataFrame, unit: str, time: str, treat: str) -> pd.Series:
    """First period with ``treat == 1`` per unit, 0 when never treated (aligned to rows)."""
    on = df.loc[df[treat] == 1]
    first = on.groupby(unit)[time].min()
    return df[unit].map(first).fillna(0).astype("int64")


@did_app.command(
    "twfe",
    epilog=(
        "Example: botrygt-eval did twfe --data panel.csv --unit kommune_kode --time period "
        "--treat treated --outcome log_rate --cluster politikreds --event-study --leads 8 "
        "--lags 12 --json twfe.json. Few clusters: add --se wild --bootstrap 9999 --seed 1"
    ),
)
def twfe_cmd(
    data: DataOption("Panel file (.csv or .parquet)."),
    unit: UnitOption,
    time: TimeOption("Period column (consecutive integers)."),
    treat: TreatOption("0/1 treatment column."),
    outcome: OutcomeOption,
    json_out: JsonOption,
    weights: WeightsOption = None,
    cluster: ClusterOption("Cluster column (default: the unit).") = None,
    with_event_study: Annotated[
        bool, typer.Option("--event-study", help="Also fit an event study (leads and lags).")
    ] = False,
    cohort: Annotated[
        str | None,
        typer.Option("--cohort", help="First-treated-period column (default: from --treat)."),
    ] = None,
    leads: Annotated[int | None, typer.Option("--leads", help="Leads (binned beyond).")] = None,
    lags: Annotated[int | None, typer.Option("--lags", help="Lags (binned beyond).")] = None,
    reference: Annotated[int, typer.Option("--reference", help="Reference event time.")] = -1,
    se: Choice(
        RegressionSE | None,
        "--se",
        "cr1 (fixest convention, normal interval), cr2 (small-sample CR2, t interval "
        "with Bell-McCaffrey df), jackknife (cluster jackknife, CR3, t(G-1) interval) or wild "
        "(restricted wild cluster bootstrap, interval by test inversion; the event study "
        "adds a sup-t band). Default: cr1 for the coefficient, the event study's own.",
    ) = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Wild bootstrap draws (with --se wild).")
    ] = DEFAULT_WILD_REPLICATIONS,
    weights_type: Choice(
        WeightsType, "--weights-type", "rademacher | webb (with --se wild)."
    ) = "rademacher",
    seed: SeedOption("Seed of the wild draws.") = DEFAULT_SEED,
) -> None:
    """Two-way fixed effects DiD with unit and period effects and clustered SEs."""
    from botrygt_eval.did.twfe import event_study, twfe
    from botrygt_eval.privacy.guard import guarded_write_text

    df = read_table(data)
    if treat not in df.columns:
        raise InputFileError(f"--treat column {treat!r} is not in {data}")
    se = value(se)
    se_kw = {} if se is None else {"se": se}
    if se == "wild":
        se_kw |= {"replications": bootstrap, "weights_type": value(weights_type), "seed": seed}
    res = twfe(df, unit=unit, time=time, treat=treat, outcome=outcome, weights=weights,
               cluster=cluster, **se_kw)  # fmt: skip
    out = res.to_dict()
    console = Console()
    console.print(res.summary(), highlight=False)
    if with_event_study:
        if cohort is None:
            df = df.assign(_cohort=cohort_from_treat(df, unit, time, treat))
            cohort = "_cohort"
        es = event_study(df, unit=unit, time=time, cohort=cohort, outcome=outcome, leads=leads,
                         lags=lags, reference=reference, weights=weights, cluster=cluster,
                         **se_kw)  # fmt: skip
        out["event_study"] = es.to_dict()
        console.print(es.summary(), highlight=False)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    guarded_write_text(json_out, json.dumps(out, indent=2, ensure_ascii=False))
    console.print(f"wrote {json_out}", highlight=False)
