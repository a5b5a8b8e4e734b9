"""``botrygt-eval estimate``: design-based means / proportions with SEs, overall or by domain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from botrygt_eval.cli import app
from botrygt_eval.cli.options import (
    DesignWeightOption,
    LonelyPsuOption,
    MinCellOption,
    ResponsesOption,
    StrataOption,
)
from botrygt_eval.cli.sample import read_margins_file, read_table
from botrygt_eval.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd


def _split(text: str | None) -> list[str]:
    return [] if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _with_outcomes(data: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:
    """Add derived outcomes (fear_burglary, ...) from the item bank when they are asked for."""
    missing = [v for v in wanted if v not in data.columns]
    if not missing or "year" not in data.columns:
        return data
    import pandas as pd

    from botrygt_eval.instrument.outcomes import derive_outcomes

    parts = [
        derive_outcomes(g, int(year)) for year, g in data.groupby("year", sort=False, dropna=True)
    ]
    if not parts:
        return data
    out = pd.concat(parts).loc[data.index]
    return out


@app.command(
    "estimate",
    epilog=(
        "Example: botrygt-eval estimate --responses weighted_2025.csv --weight weight "
        "--strata kommune_kode --fpc stratum_population --calibrated-on margins_2025.csv "
        "--design-weight design_weight --vars fear_burglary,nabohjaelper "
        "--by kommune_kode,year --json estimates.json"
    ),
)
def estimate_cmd(
    responses: ResponsesOption("Responses (.csv/.parquet)."),
    weight: Annotated[str, typer.Option("--weight", help="Analysis-weight column.")],
    variables: Annotated[
        str, typer.Option("--vars", help="Comma-separated variables (0/1 gives proportions).")
    ],
    json_out: Annotated[Path, typer.Option("--json", help="Output JSON file.")],
    strata: StrataOption("Stratum column.") = None,
    clusters: Annotated[str | None, typer.Option("--clusters", help="PSU column.")] = None,
    fpc: Annotated[
        str | None, typer.Option("--fpc", help="Stratum population size N_h (fpc).")
    ] = None,
    calibrated_on: Annotated[
        Path | None,
        typer.Option(
            "--calibrated-on",
            help="Margins CSV the weights were calibrated to (SEs then account for it).",
        ),
    ] = None,
    design_weight: DesignWeightOption(
        "Weights before calibration (with --calibrated-on).", optional=True
    ) = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Domain column(s), e.g. kommune_kode,year.")
    ] = None,
    min_cell: MinCellOption("Suppress cells with fewer respondents.") = 10,
    ci: Annotated[
        str, typer.Option("--ci", help="auto (logit for proportions), logit, wilson or wald.")
    ] = "auto",
    lonely_psu: LonelyPsuOption("Stratum with one PSU: fail, adjust, certainty, remove.") = "fail",
) -> None:
    """Estimate means and proportions with design-based SEs, CIs, deff and n per cell."""
    from botrygt_eval.privacy.guard import guarded_write_text
    from botrygt_eval.survey.design import SurveyDesign
    from botrygt_eval.survey.estimators.table import (
        declare_calibration,
        estimate_table,
        table_records,
    )

    wanted = _split(variables)
    if not wanted:
        raise ConfigError("--vars is empty; give one or more columns, e.g. --vars fear_burglary")
    if (calibrated_on is None) != (design_weight is None):
        raise ConfigError(
            "--calibrated-on and --design-weight go together: the margins the weights were "
            "calibrated to, and the weights before calibration"
        )
    data = _with_outcomes(read_table(responses), wanted)
    design = SurveyDesign.from_frame(
        data, weights=weight, strata=strata, clusters=clusters, fpc=fpc, lonely_psu=lonely_psu
    )
    if calibrated_on is not None:
        design = declare_calibration(
            design, read_margins_file(calibrated_on), design_weight=str(design_weight)
        )
    table = estimate_table(design, wanted, _split(by) or None, min_cell=min_cell, ci=ci)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    guarded_write_text(json_out, json.dumps(table_records(table), indent=1, ensure_ascii=False))
    n_sup = int(table["suppressed"].sum())
    Console(stderr=True).print(
        f"{len(table):,} estimater skrevet til {json_out}"
        + (f"; {n_sup:,} celler med under {min_cell} svar er undertrykt" if n_sup else "")
    )
