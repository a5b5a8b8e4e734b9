"""``botrygt-eval figures learning-review|grim``: the learning review's figures from data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from botrygt_eval.cli import app
from botrygt_eval.cli.options import (
    LangOption,
    MinNOption,
    OutOption,
    PublishedOption,
    ResponsesOption,
    RoundingOption,
)

figures_app = typer.Typer(
    help="Figures of the learning review (Læringsopsamlingen), reproduced from project-leader data.",
    no_args_is_help=True,
    epilog="Example: botrygt-eval figures learning-review --responses survey/projektleder_2025.csv --out out/figures",
)
app.add_typer(figures_app, name="figures")
console = Console()


def _option(value: str) -> str:
    """CLI spelling (half-up, sum-rounded) to the Python one (half_up, sum_rounded)."""
    return value.strip().lower().replace("-", "_")


@figures_app.command(
    "learning-review",
    epilog="Example: botrygt-eval figures learning-review --responses survey/projektleder_2025.csv --out out/figures",
)
def learning_review_cmd(
    responses: ResponsesOption("Project-leader response file (.csv, .xlsx, .sav)."),
    out: OutOption("Folder for figures.csv and the charts."),
    simulated: Annotated[
        bool | None,
        typer.Option(
            "--simulated/--real",
            help="Say SIMULEREDE DATA on the charts (default: if the file has the simulator's "
            "'simulated' column).",
        ),
    ] = None,
    published: PublishedOption = None,
    rounding: RoundingOption("half-up (as printed reports) or half-even.") = "half-up",
    lang: LangOption("Chart language: da or en.") = "da",
    compare: Annotated[
        bool,
        typer.Option(
            "--compare/--no-compare",
            help="Compare with the published numbers (--no-compare for a new survey round).",
        ),
    ] = True,
) -> None:
    """Recompute every published percentage, draw every chart, write figures.csv.

    Exits with an error naming every item whose recomputed value does not round to
    the published one (the files are written first, so the charts can be inspected).
    """
    from botrygt_eval.errors import FigureMismatchError, check_option
    from botrygt_eval.learning_review.pipeline import reproduce_learning_review

    check_option("lang", lang, ("da", "en"))
    run = reproduce_learning_review(
        responses,
        out,
        simulated=simulated,
        published=published,
        rounding=_option(rounding),
        lang=lang,
        compare=compare,
    )
    result = run.figures
    if run.n_quarantined:
        console.print(
            f"[yellow]{run.n_quarantined} række(r) sat i karantæne (se {out / 'quarantine'})[/]"
        )
    typer.echo(result.summary())
    typer.echo(f"{len(run.paths)} filer skrevet til {out}")
    bad = result.mismatches
    if len(bad):
        named = "; ".join(
            f"{r.column} ({r.figure}: {r.item} / {r.category}): published {r.published_pct} %, "
            f"recomputed {r.recomputed_pct:.1f} % of n = {r.n}"
            for r in bad.itertuples()
        )
        raise FigureMismatchError(
            f"{len(bad)} of {len(result.table)} percentages do not reproduce the published ones: "
            f"{named}. Check these items in the response file (codes, missing rows) or the "
            "codes counted in figures.yaml"
        )


@figures_app.command(
    "grim",
    epilog="Example: botrygt-eval figures grim --n 23   |   botrygt-eval figures grim --pct 95 --n 23",
)
def grim_cmd(
    n: Annotated[
        int | None, typer.Option("--n", help="Base to test every published number against.")
    ] = None,
    pct: Annotated[
        int | None, typer.Option("--pct", help="Check one percentage against --n only.")
    ] = None,
    components: Annotated[
        int, typer.Option("--components", help="With --pct: rounded categories added (1 = none).")
    ] = 1,
    min_n: MinNOption("Smallest base considered.") = 10,
    max_n: Annotated[int, typer.Option("--max-n", help="Largest base considered.")] = 40,
    rule: Annotated[
        str,
        typer.Option(
            "--rule",
            help="spec (per row from figures.yaml), count (combined categories rounded once) "
            "or sum-rounded (rounded categories added).",
        ),
    ] = "spec",
    rounding: RoundingOption("half-up or half-even.") = "half-up",
    published: PublishedOption = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write the row table to this CSV.")
    ] = None,
) -> None:
    """GRIM check: which published percentages are impossible from a base of n answers.

    Exits 1 when an impossible combination is found.
    """
    from botrygt_eval.errors import ConfigError
    from botrygt_eval.learning_review.consistency import grim_report
    from botrygt_eval.learning_review.grim import consistent_bases, format_bases, possible
    from botrygt_eval.learning_review.spec import load_spec

    if pct is not None:
        if n is None:
            raise ConfigError("--pct needs --n: the number of answers to check it against")
        ok = possible(pct, n, components, _option(rounding))
        bases = consistent_bases(
            [pct], [components], n_min=min_n, n_max=max_n, rounding=_option(rounding)
        )
        verdict = "muligt" if ok else "UMULIGT"
        typer.echo(
            f"{pct} % af {n} svar: {verdict} (mulige baser {min_n}–{max_n}: {format_bases(bases)})"
        )
        raise typer.Exit(0 if ok else 1)
    report = grim_report(
        load_spec(published=published),
        n=n,
        n_min=min_n,
        n_max=max_n,
        rule=_option(rule),
        rounding=_option(rounding),
    )
    typer.echo(report.summary())
    if csv is not None:
        report.to_frame().to_csv(csv, index=False, encoding="utf-8", lineterminator="\n")
    if not report.ok:
        raise typer.Exit(1)
