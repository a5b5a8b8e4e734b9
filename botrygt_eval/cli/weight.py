"""``botrygt-eval weight``: calibrate survey weights to population margins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from botrygt_eval.cli import app
from botrygt_eval.cli.options import (
    Choice,
    DesignWeightOption,
    LonelyPsuOption,
    OutOption,
    ResponsesOption,
    StrataOption,
    WeightMethod,
)
from botrygt_eval.cli.options import value as choice_value
from botrygt_eval.cli.sample import read_margins_file, read_table, write_table
from botrygt_eval.errors import ConfigError


def parse_bounds(text: str | None) -> tuple[float, float] | None:
    """``"0.5,2"`` -> (0.5, 2.0)."""
    if text is None:
        return None
    try:
        lo, up = (float(x) for x in text.split(","))
    except ValueError as exc:
        raise ConfigError(f"--bounds {text!r}: give two numbers L,U such as 0.5,2") from exc
    return lo, up


def parse_trim(text: str | None) -> tuple[float | None, str]:
    """``"40"`` (absolute), ``"5xmedian"`` or ``"3xmean"`` -> (value, relative_to)."""
    if text is None:
        return None, "absolute"
    t = text.strip().lower().replace(" ", "")
    for rel in ("median", "mean"):
        if t.endswith("x" + rel):
            t, relative_to = t[: -len(rel) - 1], rel
            break
    else:
        relative_to = "absolute"
    try:
        return float(t), relative_to
    except ValueError as exc:
        raise ConfigError(
            f"--trim-upper {text!r}: give a weight (40) or a multiple of the median or mean "
            "weight (5xmedian, 3xmean)"
        ) from exc


def _print_diagnostics(result, console: Console) -> None:
    ws = result.weight_stats()
    t = Table(title="Vægte: før (designvægte) og efter")
    for c in ("statistik", "før", "efter"):
        t.add_column(c, justify="right")
    for r in ws.to_dict("records"):
        t.add_row(str(r["statistic"]), f"{r['before']:,.4g}", f"{r['after']:,.4g}")
    console.print(t)
    mt = result.margins_table()
    t = Table(title="Marginaler: mål og opnået")
    for c in ("variabel", "niveau", "mål", "før", "efter", "std. forskel før", "efter"):
        t.add_column(c, justify="right")
    for r in mt.to_dict("records"):
        t.add_row(
            str(r["variable"]),
            str(r["level"]),
            f"{r['target']:,.0f}",
            f"{r['total_before']:,.0f}",
            f"{r['total_after']:,.0f}",
            f"{r['std_diff_before']:+.3f}",
            f"{r['std_diff_after']:+.3f}",
        )
    console.print(t)


@app.command(
    "weight",
    epilog=(
        "Example: botrygt-eval weight --responses survey/respondents_2025.csv "
        "--margins survey/margins_2025.csv --design-weight design_weight "
        "--strata kommune_kode --method raking --trim-upper 5xmedian --out weighted_2025.csv"
    ),
)
def weight_cmd(
    responses: ResponsesOption("Respondents with design weights (.csv/.parquet)."),
    margins: Annotated[Path, typer.Option("--margins", help="Margins CSV: variable,level,total.")],
    design_weight: DesignWeightOption("Design-weight column."),
    out: OutOption("Output: the input rows plus 'weight'."),
    strata: StrataOption("Stratum column (kept in the design).") = None,
    method: Choice(WeightMethod, "--method", "raking, linear or logit.") = "raking",
    bounds: Annotated[
        str | None, typer.Option("--bounds", help="Bounds L,U on g = weight / design weight.")
    ] = None,
    trim_upper: Annotated[
        str | None,
        typer.Option("--trim-upper", help="Cap on weights: 40, 5xmedian or 3xmean."),
    ] = None,
    sample: Annotated[
        Path | None,
        typer.Option(
            "--sample",
            help="Sample file to join on resp_id (adds design weights and register variables).",
        ),
    ] = None,
    diagnostics: Annotated[
        Path | None, typer.Option("--diagnostics", help="Write the diagnostics (CSV).")
    ] = None,
    nonresponse: Annotated[
        str,
        typer.Option(
            "--nonresponse",
            help="none, classes or propensity (needs --sample with 'responded').",
        ),
    ] = "none",
    nonresponse_vars: Annotated[
        str | None,
        typer.Option("--nonresponse-vars", help="Register variables, e.g. kommune_kode,age_band."),
    ] = None,
    lonely_psu: LonelyPsuOption(
        "Stratum with one respondent: fail, adjust, certainty, remove."
    ) = "fail",
) -> None:
    """Calibrate design weights to population margins (raking, GREG or bounded logit), then trim."""
    import numpy as np

    from botrygt_eval.survey.weighting import (
        join_sample,
        respondents_only,
        weight_responses,
    )

    method = choice_value(method)
    data = read_table(responses)
    sample_frame = None
    if sample is not None and "responded" in data.columns:
        raise ConfigError(
            f"{responses} already has 'responded' (a merged sample); give it alone, without "
            "--sample, or give the imported responses file with --sample"
        )
    if sample is not None:
        sample_frame = read_table(sample)
        data = join_sample(data, sample_frame, sample_name=str(sample))
    respondents, responded = respondents_only(data)  # a merged sample: non-respondents stay out
    if sample_frame is None and not responded.all():
        sample_frame = data  # the whole drawn sample, for --nonresponse
    value, relative_to = parse_trim(trim_upper)
    result = weight_responses(
        respondents,
        read_margins_file(margins),
        design_weight=design_weight,
        strata=strata,
        method=method,  # type: ignore[arg-type]
        bounds=parse_bounds(bounds),
        trim_upper=value,
        trim_relative_to=relative_to,  # type: ignore[arg-type]
        lonely_psu=lonely_psu,
        nonresponse=nonresponse,  # type: ignore[arg-type]
        sample=sample_frame,
        nonresponse_vars=None if nonresponse_vars is None else nonresponse_vars.split(","),
    )
    frame = data.copy()
    frame["weight"] = np.nan  # non-respondents get no weight
    frame.loc[responded, "weight"] = result.weights.to_numpy()
    write_table(frame, out)
    if diagnostics is not None:
        write_table(result.diagnostics, diagnostics)
    console = Console()
    _print_diagnostics(result, console)
    console.print(result.summary())
    if not responded.all():
        console.print(
            f"{int((~responded).sum()):,} non-respondents (responded = 0) were not weighted; "
            "their weight is empty"
        )
    console.print(f"Weights written to {out} ({len(frame):,} rows)")


__all__ = ["weight_cmd", "parse_bounds", "parse_trim"]
