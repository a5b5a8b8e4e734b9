"""``botrygt-eval did ...``: difference-in-differences commands.

Defines the ``did`` command group (Engineer P's ``did twfe`` in ``cli/did_panel.py``
adds itself to ``did_app``) and ``did att-gt``: Callaway-Sant'Anna ATT(g,t) and
all four aggregations, written as JSON with the contract of DESIGN.md.
"""

from __future__ import annotations

import json
import warnings
from typing import Annotated

import typer
from rich.console import Console

from botrygt_eval.cli import app
from botrygt_eval.cli.options import (
    AggregateSE,
    BasePeriod,
    Choice,
    Control,
    DataOption,
    DidMethod,
    JsonOption,
    OutcomeOption,
    SeedOption,
    TimeOption,
    UnitOption,
    WeightsOption,
    value,
)
from botrygt_eval.cli.sample import read_table
from botrygt_eval.errors import EstimationError
from botrygt_eval.options import DEFAULT_SEED, AggType, choices

did_app = typer.Typer(
    help="Difference-in-differences: TWFE, event studies, Callaway-Sant'Anna.\n\n"
    "Example: botrygt-eval did twfe --data panel.csv --unit kommune_kode --time period "
    "--treat treated --outcome log_rate --json twfe.json",
    no_args_is_help=True,
)
app.add_typer(did_app, name="did")


def att_gt_json(res, aggregates: dict) -> dict:
    """The JSON document of ``did att-gt``: the results' own ``to_dict()`` put together."""
    doc = res.to_dict()
    return {
        "att_gt": doc.pop("att_gt"),
        "aggregates": {name: a.to_dict() for name, a in aggregates.items()},
        **doc,
    }


@did_app.command(
    "att-gt",
    epilog=(
        "Example: botrygt-eval did att-gt --data panel.csv --unit kommune_kode --time period "
        "--cohort cohort --outcome log_rate --control notyet --method dr --cluster politikreds "
        "--bootstrap 999 --seed 1 --json cs.json"
    ),
)
def att_gt_cmd(
    data: DataOption("Long panel or survey file (.csv/.parquet)."),
    unit: UnitOption,
    time: TimeOption("Period column (numeric)."),
    cohort: Annotated[str, typer.Option("--cohort", help="First treated period; 0 = never.")],
    outcome: OutcomeOption,
    json_out: JsonOption,
    covariates: Annotated[
        str | None, typer.Option("--covariates", help="Comma-separated covariate columns.")
    ] = None,
    control: Choice(Control, "--control", "never | notyet") = "never",
    method: Choice(DidMethod, "--method", "dr | ipw | reg | dr_imp | ipw_unnormalized") = "dr",
    weights: WeightsOption = None,
    cluster: Annotated[str | None, typer.Option("--cluster", help="Cluster column.")] = None,
    repeated_cross_section: Annotated[
        bool,
        typer.Option("--repeated-cross-section", help="Rows are independent cross-sections."),
    ] = False,
    allow_unbalanced: Annotated[
        bool,
        typer.Option("--allow-unbalanced", help="Keep units with gaps (default: balance)."),
    ] = False,
    base_period: Choice(BasePeriod, "--base-period", "varying | universal") = "varying",
    anticipation: Annotated[
        int, typer.Option("--anticipation", help="Periods of anticipation.")
    ] = 0,
    bootstrap: Annotated[
        int | None, typer.Option("--bootstrap", help="Multiplier-bootstrap draws (bands).")
    ] = None,
    seed: SeedOption("Seed for the bootstrap.") = DEFAULT_SEED,
    se: Choice(
        AggregateSE,
        "--se",
        "analytic (R did) | jackknife (leave-one-cluster-out, t(G-1); for few "
        "treated units per cohort) | bootstrap (with --bootstrap N draws; default 1000).",
    ) = "analytic",
    band: Annotated[
        bool,
        typer.Option(
            "--band",
            help="Simultaneous Bonferroni band for the by-rows (with analytic or jackknife SEs; "
            "the bootstrap's band is sup-t).",
        ),
    ] = False,
) -> None:
    """Callaway-Sant'Anna group-time ATTs with simple/group/dynamic/calendar aggregates."""
    from botrygt_eval.did import aggregate, att_gt
    from botrygt_eval.privacy.guard import guarded_write_text

    se = value(se)
    if bootstrap is not None:  # --bootstrap N is --se bootstrap with N draws
        if se not in ("analytic", "bootstrap"):
            raise EstimationError(f"choose --se {se} or --bootstrap, not both")
        se = "bootstrap"

    df = read_table(data)
    console = Console(stderr=True)
    covs = [c.strip() for c in covariates.split(",") if c.strip()] if covariates else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = att_gt(df, unit=unit, time=time, cohort=cohort, outcome=outcome, covariates=covs,
                     control=value(control), method=value(method), weights=weights,
                     cluster=cluster, panel=not repeated_cross_section,
                     base_period=value(base_period),
                     anticipation=anticipation, allow_unbalanced=allow_unbalanced)  # fmt: skip
        aggs = {
            t: aggregate(res, t, se=se, replications=bootstrap, seed=seed, band=band)
            for t in choices(AggType)
        }
    for w in caught:
        console.print(f"[yellow]warning:[/] {w.message}", highlight=False)
    doc = att_gt_json(res, aggs)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    guarded_write_text(json_out, json.dumps(doc, indent=2, ensure_ascii=False))
    console.print(aggs["simple"].summary(), highlight=False)
    console.print(f"wrote {json_out}", highlight=False)
