"""``botrygt-eval report``: render the papermill reports (national, kommune, activities, review)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from botrygt_eval.cli import app
from botrygt_eval.options import DEFAULT_SEED

report_app = typer.Typer(
    help="Render parameterised reports (executed notebook, HTML without code, figures, tables).",
    no_args_is_help=True,
    epilog="Example: botrygt-eval report national --data out/workspace --out out/reports",
)
app.add_typer(report_app, name="report")
console = Console(stderr=True)

DATA = typer.Option(..., "--data", help="Workspace folder (docs/DATA_FORMATS.md).")
OUT = typer.Option(..., "--out", help="Output folder; each report gets its own sub-folder.")
YEAR = typer.Option(2025, "--year", help="Report year (survey year, latest register year).")
SEED = typer.Option(DEFAULT_SEED, "--seed", help="Seed for the random steps (permutation test).")
FORCE = typer.Option(False, "--force", help="Render even when inputs and parameters are unchanged.")
SURVEY = typer.Option(None, "--survey-estimates",
                      help="Already-computed survey_estimates.csv (e.g. the demo's) to reuse.")  # fmt: skip
EFFECTS = typer.Option(None, "--effects",
                       help="Already-computed partnership_effects.csv to reuse (national).")  # fmt: skip
LANG = typer.Option("da", "--lang",
                    help="Report language: da (default, for municipalities) or en.")  # fmt: skip


def _done(result) -> None:
    what = "unchanged, skipped" if result.skipped else f"rendered in {result.seconds:.1f} s"
    console.print(f"{result.kind}: {result.html} ({what})")


def check_inputs(kind: str, data: Path, year: int, **files: Path | None) -> None:
    """Refuse what would render a wrong or half-empty report: a missing workspace or
    input file, or a report year the workspace's survey does not have."""
    from botrygt_eval.errors import ReportError

    if not Path(data).is_dir():
        raise ReportError(
            f"{data}: the workspace folder does not exist (--data); see docs/DATA_FORMATS.md"
        )
    for option, path in files.items():
        if path is not None and not Path(path).is_file():
            raise ReportError(
                f"{path}: file not found (--{option.replace('_', '-')}); check the path, or "
                "leave the option out to compute it from the workspace"
            )
    if kind not in ("national", "kommune"):
        return
    survey = Path(data) / "survey"
    years = sorted({int(p.stem.split("_")[1]) for p in survey.glob("responses_*.*")
                    if p.stem.split("_")[1].isdigit()})  # fmt: skip
    if years and year not in years:
        suggest = max((y for y in years if y <= year), default=years[0])
        raise ReportError(
            f"--year {year}: the workspace has no survey for {year} ({survey}/responses_{year}); "
            f"it has {years[0]}–{years[-1]}: use --year {suggest}"
        )


def _single(kind, data, out, year, seed, force, survey=None, effects=None, lang="da") -> None:
    from botrygt_eval.reports.render import render_report

    check_inputs(kind, data, year, survey_estimates=survey, effects=effects)

    _done(render_report(kind, data, out, year=year, seed=seed, force=force, survey_csv=survey,
                        effects_csv=effects, lang=lang))  # fmt: skip


@report_app.command(
    "national",
    epilog="Example: botrygt-eval report national --data out/workspace --out reports/\n\n"
    "In English: botrygt-eval report national --lang en --data out/workspace --out reports_en/",
)
def national_cmd(data: Path = DATA, out: Path = OUT, year: int = YEAR, seed: int = SEED,
                 force: bool = FORCE, survey: Path = SURVEY, effects: Path = EFFECTS,
                 lang: str = LANG) -> None:  # fmt: skip
    """The national evaluation: burglary, DiD effects, survey, robustness, targets."""
    _single("national", data, out, year, seed, force, survey, effects, lang)


def _workspace_report(kind: str, doc: str):
    """Register ``report <kind>`` for a report made from the workspace alone (no reused inputs)."""

    def command(data: Path = DATA, out: Path = OUT, year: int = YEAR, seed: int = SEED,
                force: bool = FORCE, lang: str = LANG) -> None:  # fmt: skip
        _single(kind, data, out, year, seed, force, lang=lang)

    command.__doc__ = doc
    command.__name__ = f"{kind.replace('-', '_')}_cmd"
    epilog = f"Example: botrygt-eval report {kind} --data out/workspace --out reports/"
    return report_app.command(kind, epilog=epilog)(command)


activities_cmd = _workspace_report(
    "activities", "The activities review: what was done, and whether to repeat, change or drop it."
)
learning_review_cmd = _workspace_report(
    "learning-review", "The learning review's figures recomputed from the project-leader survey."
)


@report_app.command(
    "kommune",
    epilog="Example: botrygt-eval report kommune --kommune 851 --data out/workspace --out reports/\n\n"
    "All 98: botrygt-eval report kommune --all --jobs 2 --data out/workspace --out reports/",
)
def kommune_cmd(
    kommune: str = typer.Option(None, "--kommune", help="Kommune code or name (e.g. 851)."),
    all_: bool = typer.Option(False, "--all", help="Every kommune, in parallel (resumable)."),
    jobs: int = typer.Option(0, "--jobs", help="Parallel processes for --all (0 = CPU count)."),
    data: Path = DATA,
    out: Path = OUT,
    year: int = YEAR,
    seed: int = SEED,
    force: bool = FORCE,
    survey: Path = SURVEY,
    lang: str = LANG,
) -> None:
    """A municipality's report; --all renders all 98, exit code 1 if any failed."""
    from botrygt_eval.errors import ReportError
    from botrygt_eval.reference import kommuner, to_kommune_kode
    from botrygt_eval.reports.render import render_kommuner, render_report
    from botrygt_eval.text.catalogue import check_lang

    if all_ == (kommune is not None):
        raise ReportError("give either --kommune CODE or --all")
    check_lang(lang)
    check_inputs("kommune", data, year, survey_estimates=survey)
    if not all_:
        code = int(to_kommune_kode(kommune))
        _done(render_report("kommune", data, out, kommune=code, year=year, seed=seed, force=force,
                            survey_csv=survey, lang=lang))  # fmt: skip
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    codes = [int(k) for k in kommuner()["kommune_kode"]]
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("Kommunerapporter", total=len(codes))
        outcomes = render_kommuner(data, out, codes, year=year, seed=seed, jobs=jobs or None,
                                   force=force, survey_csv=survey, lang=lang,
                                   on_done=lambda o: progress.advance(task))  # fmt: skip
    failed = [o for o in outcomes if o.status == "failed"]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed")}
    console.print(f"rendered {counts['ok']}, unchanged {counts['skipped']}, failed {counts['failed']}"
                  f" (reports in {out})")  # fmt: skip
    for o in failed:
        console.print(f"[red]kommune {o.kommune} failed:[/] {o.error}", highlight=False)
    if failed:
        raise typer.Exit(1)
