"""The demo chain: simulate a Denmark, load it back through the validated loaders, run every stage.

Each stage reads what the previous stages wrote (one direction, as in DESIGN.md) and
writes into its own sub-folder of ``out``. Everything is made from simulated data and
says so: tables carry a ``data_source`` column, text outputs a banner.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from botrygt_eval import SIMULATED_BANNER, __version__
from botrygt_eval.activities import evaluate_activities
from botrygt_eval.did.compare import burglary_effects, burglary_panel, survey_effects
from botrygt_eval.instrument.build import build_instrument
from botrygt_eval.io.workspace import load_workspace, summarise_workspace
from botrygt_eval.kpi.targets import partnership_kpis
from botrygt_eval.media.kpi import add_media_kpis
from botrygt_eval.media.pipeline import analyse_media, has_media
from botrygt_eval.media.plots import media_series_figure
from botrygt_eval.monitoring import local_monitoring
from botrygt_eval.monitoring.png import write_map_pngs
from botrygt_eval.options import DEFAULT_SEED
from botrygt_eval.plots.style import mark_simulated
from botrygt_eval.privacy.guard import (
    check_tree,
    guarded_to_csv,
    guarded_write_text,
    install_log_guard,
)
from botrygt_eval.privacy.sandbox import report_sandbox
from botrygt_eval.reports.render import render_report
from botrygt_eval.sampling.draw import draw_sample
from botrygt_eval.simulate import simulate_workspace
from botrygt_eval.simulate.learning_review import write_projektleder_responses
from botrygt_eval.survey.pipeline import survey_estimates

console = Console()


@dataclass
class DemoContext:
    """What the stages share: the output root, the seed, and what earlier stages produced."""

    out: Path
    seed: int
    produced: dict[str, object] = field(default_factory=dict)
    outputs: list[tuple[str, Path]] = field(default_factory=list)

    def folder(self, name: str) -> Path:
        path = self.out / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def table(self, frame: pd.DataFrame, path: Path, label: str) -> Path:
        """Write an aggregate table, marked as simulated (never with a CPR number)."""

        frame = frame.copy()
        frame.insert(0, "data_source", SIMULATED_BANNER)
        guarded_to_csv(frame, path, index=False)
        self.outputs.append((label, path))
        return path


Stage = Callable[[DemoContext], None]


def _simulate(ctx: DemoContext) -> None:

    root = ctx.out / "workspace"
    if (root / "truth.json").exists():  # an earlier simulated workspace: start afresh
        shutil.rmtree(root)
    simulate_workspace(root, seed=ctx.seed)
    ctx.produced["workspace"] = root
    ctx.outputs.append(("simulated workspace (inputs, SIMULEREDE DATA)", root))


def _load(ctx: DemoContext) -> None:

    folder = ctx.folder("loaded")
    try:
        ws = load_workspace(ctx.produced["workspace"], quarantine_dir=folder / "quarantine")
    finally:  # quarantined lines must not carry CPR numbers, even when a later file fails
        check_tree(folder / "quarantine")
    ctx.produced["ws"] = ws
    summary = summarise_workspace(ws)
    ctx.table(summary, folder / "workspace_summary.csv", "validated workspace summary")
    lines = [f"# {SIMULATED_BANNER}", "", "Load log (rows loaded / quarantined):", ""]
    lines += [f"- {m}" for m in ws.messages()]
    guarded_write_text(folder / "load_log.md", "\n".join(lines) + "\n")
    ctx.outputs.append(("load log", folder / "load_log.md"))


def _instrument(ctx: DemoContext) -> None:

    folder = ctx.folder("instrument")
    build_instrument(2025, folder)
    ctx.outputs.append(("questionnaire 2025: XLSForm, HTML da/en, codebook, schema", folder))


#: where the demo keeps person-level rows (the sample), apart from the shareable outputs
MICRODATA = "mikrodata"
MICRODATA_README = """PERSONOPLYSNINGER / PERSONAL DATA

Denne mappe indeholder mikrodata: én række pr. person (pseudonymiseret id, kommune, køn,
alder). Pseudonymiserede data er stadig personoplysninger (GDPR art. 4, nr. 5). Mappen må
ikke deles, sendes, vedhæftes eller lægges i en mappe, der deles; slet den, når den ikke
længere bruges. Rapporter og tabeller til deling ligger uden for denne mappe.

This folder holds microdata: one row per person (pseudonymised id, kommune, sex, age).
Pseudonymised data are still personal data (GDPR art. 4(5)). Do not share, send or attach
this folder or put it in a shared folder; delete it when no longer needed. Reports and
tables meant for sharing are outside this folder. See docs/DATA_PROTECTION.md.
"""


def microdata_folder(ctx: DemoContext, name: str) -> Path:
    """``out/mikrodata/<name>/``, with the README saying it is personal data not to share."""
    folder = ctx.folder(f"{MICRODATA}/{name}")
    readme = ctx.out / MICRODATA / "README.txt"
    if not readme.exists():
        readme.write_text(MICRODATA_README, encoding="utf-8")
    return folder


def _sample(ctx: DemoContext) -> None:

    folder = ctx.folder("sampling")  # the allocation report: aggregates, shareable
    micro = microdata_folder(ctx, "sampling")  # the sample: one row per person
    frame = pd.read_parquet(ctx.produced["workspace"] / "survey" / "frame_2026.parquet")
    result = draw_sample(
        frame, year=2026, method="moe", target_moe=0.05, expected_response=0.4,
        min_per_stratum=300, seed=ctx.seed,
    )  # fmt: skip
    guarded_to_csv(result.sample, micro / "sample_2026.csv", index=False)
    ctx.outputs.append(("2026 sample to send (pseudonymised ids; MIKRODATA, do not share)",
                        micro / "sample_2026.csv"))  # fmt: skip
    ctx.table(
        result.allocation,
        folder / "allocation_2026.csv",
        "2026 allocation report (MOE per kommune)",
    )


def _survey(ctx: DemoContext) -> None:

    folder = ctx.folder("survey")
    estimates, diagnostics = survey_estimates(ctx.produced["ws"])
    ctx.produced["survey_estimates"] = estimates
    ctx.table(estimates, folder / "survey_estimates.csv",
              "weighted survey estimates by kommune and year (SE, CI, n; small cells suppressed)")  # fmt: skip
    ctx.table(diagnostics, folder / "weighting_diagnostics.csv", "weighting diagnostics per year")
    national = estimates[estimates["kommune_kode"].isna()]
    _plot_trend(national, folder / "national_trends.png")
    ctx.outputs.append(("national survey trends (chart)", folder / "national_trends.png"))


def _plot_trend(national: pd.DataFrame, path: Path) -> None:
    import matplotlib.pyplot as plt

    from botrygt_eval.plots.survey import plot_survey_trends

    fig = plot_survey_trends(national, title="Borgerundersøgelsen, hele landet (vægtet)")
    mark_simulated(fig)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _did(ctx: DemoContext) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = ctx.folder("did")
    ws = ctx.produced["ws"]
    panel = burglary_panel(ws)
    table, es, dynamic = burglary_effects(panel)
    table = pd.concat([table, survey_effects(ctx.produced["survey_estimates"], ws.partnerships)])
    truth = json.loads((ctx.produced["workspace"] / "truth.json").read_text(encoding="utf-8"))
    effects = truth["effects"]
    # what a DiD of partners against others estimates: the partnership effect plus the
    # effects of the activities partnership kommuner hold (see docs/SIMULATION.md)
    burglary_att = truth["burglary_att"]["overall_total"]
    table["true_effect"] = table["outcome"].map({
        "log_rate": burglary_att,
        "burglaries": burglary_att,
        "fear_burglary": effects["partnership_fear_share_change"],
        "nabohjaelper": effects["partnership_nabohjaelp_share_change"],
    })  # fmt: skip
    ctx.table(table, folder / "partnership_effects.csv",
              "partnership effects: TWFE, Callaway-Sant'Anna, PPML, survey DiD (with truth)")  # fmt: skip
    for name, result, title in (
        ("event_study_twfe.png", es, "Indbrud pr. 1.000 husstande: event study (TWFE)"),
        ("event_study_cs.png", dynamic, "Indbrud pr. 1.000 husstande: Callaway-Sant'Anna"),
    ):
        fig = result.plot(title=title)
        mark_simulated(fig)
        fig.savefig(folder / name, dpi=120, bbox_inches="tight")
        plt.close(fig)
        ctx.outputs.append((f"{title} (chart)", folder / name))


def _learning_review(ctx: DemoContext) -> None:
    from botrygt_eval.learning_review.pipeline import reproduce_learning_review

    responses = ctx.produced["workspace"] / "survey" / "projektleder_2025.csv"
    if not responses.exists():  # older workspaces lack the project-leader survey
        write_projektleder_responses(responses, ctx.seed)
    folder = ctx.folder("learning_review")
    reproduce_learning_review(responses, folder, simulated=True)
    ctx.outputs.append(("learning review figures, recomputed vs published", folder))


def _activities(ctx: DemoContext) -> None:

    folder = ctx.folder("activities")
    ws = ctx.produced["ws"]
    evaluation = evaluate_activities(ws, survey_estimates=ctx.produced.get("survey_estimates"))
    kpis = partnership_kpis(ws, survey_estimates=ctx.produced.get("survey_estimates"))
    if "media" in ctx.produced:  # constructive-media share and mentions per partnership
        kpis = add_media_kpis(kpis, ctx.produced["media"].coded)
    ctx.produced["activity_evaluation"] = evaluation
    ctx.produced["partnership_kpis"] = kpis
    ctx.table(evaluation.decisions, folder / "decisions.csv",
              "activity types: repeat / change / drop / insufficient evidence")  # fmt: skip
    ctx.table(
        kpis,
        folder / "kpis.csv",
        "partnership KPIs: burglary (net of similar kommuner), fear and Nabohjælp targets",
    )


def _media(ctx: DemoContext) -> None:
    """Code the synthetic article corpus: constructive share per year, kappa (docs/MEDIA.md)."""

    if not has_media(ctx.produced["workspace"]):
        return
    folder = ctx.folder("media")
    res = analyse_media(ctx.produced["workspace"], quarantine_dir=folder / "quarantine")
    ctx.produced["media"] = res
    ctx.table(res.series, folder / "media_series.csv",
              "constructive share of burglary articles per year (national, per kommune)")  # fmt: skip
    if res.agreement is not None:
        (folder / "media_kappa.json").write_text(
            json.dumps({"data_source": SIMULATED_BANNER, **res.agreement}, indent=2,
                       ensure_ascii=False) + "\n",
            encoding="utf-8",
        )  # fmt: skip
        ctx.outputs.append(("media coder vs hand-coded sample: Cohen's kappa",
                            folder / "media_kappa.json"))  # fmt: skip
    national = res.series[res.series["scope"] == "national"]
    fig = media_series_figure(national)
    mark_simulated(fig)
    fig.savefig(folder / "media_series.png", dpi=120, bbox_inches="tight")
    ctx.outputs.append(("constructive media coverage chart", folder / "media_series.png"))


def _report_kommune(ctx: DemoContext) -> int:
    """The kommune of the demo's municipality report: a partnership kommune with local
    (geocoded) data when there is one, so the report shows its maps; else Aalborg (851)."""
    from botrygt_eval.reports.local import has_local_data

    partners = [int(k) for k in ctx.produced["ws"].partnerships["kommune_kode"]]
    local = [k for k in partners if has_local_data(ctx.produced["workspace"], k)]
    if local:
        return local[0]
    return 851 if 851 in partners or not partners else partners[0]


def _local_monitoring(ctx: DemoContext) -> None:
    """The report kommune's grid tables and maps (suppressed; docs/MONITORING.md)."""
    from botrygt_eval.reports.local import has_local_data

    kommune = _report_kommune(ctx)
    if not has_local_data(ctx.produced["workspace"], kommune):
        return
    folder = ctx.folder(f"lokal/{kommune}")
    res = local_monitoring(ctx.produced["workspace"], kommune, seed=ctx.seed)
    ctx.table(res.cells, folder / "celler.csv",
              f"kommune {kommune}: burglary and Nabohjælp per 1 km cell, small cells hidden")  # fmt: skip
    write_map_pngs(res, folder, simulated=True)
    ctx.outputs.append((f"kommune {kommune}: burglary, gap and near-repeat maps", folder))


def _reports(ctx: DemoContext) -> None:
    """Render the national, one kommune, the activities and the learning-review reports."""

    folder = ctx.folder("reports")
    kommune = _report_kommune(ctx)
    cached = dict(survey_csv=ctx.out / "survey" / "survey_estimates.csv",
                  effects_csv=ctx.out / "did" / "partnership_effects.csv")  # fmt: skip
    for kind, k in (("national", None), ("kommune", kommune), ("activities", None),
                    ("learning-review", None)):  # fmt: skip
        r = render_report(
            kind, ctx.produced["workspace"], folder, kommune=k, seed=ctx.seed, **cached
        )
        ctx.outputs.append((f"report {r.folder.name}: HTML, notebook, figures, tables", r.html))


STAGES: list[tuple[str, Stage]] = [
    ("Simulating a synthetic Denmark", _simulate),
    ("Loading it back through the validated loaders", _load),
    ("Building the 2025 citizen questionnaire", _instrument),
    ("Drawing the 2026 sample", _sample),
    ("Weighting the surveys 2017-2025 and estimating", _survey),
    ("Estimating the partnership effects (DiD)", _did),
    ("Reproducing the learning review's figures", _learning_review),
    ("Coding the media coverage of burglary", _media),
    ("Evaluating activities and partnership targets", _activities),
    ("Mapping local burglaries and Nabohjælp (one kommune)", _local_monitoring),
    ("Rendering the reports (national, kommune, activities, learning review)", _reports),
]


def run_demo(out: Path, seed: int = DEFAULT_SEED) -> DemoContext:
    """Run every stage into ``out`` and print where the outputs are."""
    out = Path(out).resolve()  # stages may report absolute paths; the manifest relates them to out
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(out=out, seed=seed)

    install_log_guard()
    console.rule(f"[bold]botrygt-eval {__version__} demo[/] — {SIMULATED_BANNER}")
    # matplotlib's and the report kernels' caches in a working folder under out, removed
    # at the end: nothing is written outside out (docs/DATA_PROTECTION.md)
    with (
        report_sandbox(out),
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task("demo", total=len(STAGES))
        for label, stage in STAGES:
            progress.update(task, description=label)
            stage(ctx)
            progress.advance(task)
    manifest = {
        "data_source": SIMULATED_BANNER,
        "version": __version__,
        "seed": seed,
        "outputs": [{"what": what, "path": str(p.relative_to(out))} for what, p in ctx.outputs],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")

    for child in sorted(out.iterdir()):  # the backstop over every output (not the inputs)
        if child.is_dir() and child.name != "workspace" and not child.name.startswith("."):
            check_tree(child)
    table = Table(title=f"Outputs in {out}/ ({SIMULATED_BANNER})")
    table.add_column("what")
    table.add_column("where")
    for what, path in ctx.outputs:
        table.add_row(what, str(path))
    console.print(table)
    return ctx
