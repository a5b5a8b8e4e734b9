"""Run the papermill report templates: executed notebook, HTML without code, provenance.

:func:`render_report` executes one template of ``notebooks/`` (national, kommune,
activities, learning-review) on a registered kernel and writes, into its own folder,
the executed ``.ipynb``, an ``.html`` without code cells (with a SIMULEREDE DATA banner,
SIMULATED DATA in English, when the data are simulated), ``figurer/*.png``, ``tabeller/*.csv`` and
``provenance.json`` (package version, sha256 of every workspace file, parameters,
seed). A report whose parameters, inputs and template are unchanged is skipped
(resumable). :func:`render_kommuner` renders many municipalities in parallel and
reports failures per kommune without stopping the others. ``lang`` is ``"da"`` (default,
what municipalities read) or ``"en"``; the text is in :mod:`botrygt_eval.text.catalogue`.

Kernels run in :func:`botrygt_eval.privacy.sandbox.report_sandbox`: over IPC, with
IPython's history off, every cache and connection file in a hidden working folder under
``out`` that is removed at the end, so nothing is written outside the output folder.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import signal
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from botrygt_eval import __version__
from botrygt_eval.errors import BotrygtError, ReportError, check_option
from botrygt_eval.io.simulated import workspace_is_simulated
from botrygt_eval.options import DEFAULT_SEED, ReportKind, choices
from botrygt_eval.privacy.guard import check_tree, guarded_write_text
from botrygt_eval.privacy.sandbox import active_sandbox, report_sandbox, start_kernel
from botrygt_eval.reference import kommune_name, to_kommune_kode
from botrygt_eval.reports.engine import KernelSession, execute_template
from botrygt_eval.reports.inputs import prepare_inputs
from botrygt_eval.reports.provenance import input_hashes, sha256
from botrygt_eval.results import ResultMixin
from botrygt_eval.text.catalogue import LANGS, t

KINDS: tuple[str, ...] = choices(ReportKind)
KERNEL_NAME = "botrygt-eval"
TEMPLATES = Path(__file__).resolve().parents[2] / "notebooks"
_TEMPLATE_FILES = {
    "national": "national.ipynb",
    "kommune": "kommune.ipynb",
    "activities": "activities.ipynb",
    "learning-review": "learning_review.ipynb",
}


@dataclass(frozen=True)
class ReportResult(ResultMixin):
    """One rendered report: where its files are and whether it was skipped (unchanged)."""

    kind: str
    folder: Path
    html: Path
    notebook: Path
    skipped: bool
    seconds: float = 0.0

    frame_columns = ("kind", "html", "skipped")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([dataclasses.asdict(self)])

    def summary(self) -> str:
        how = "unchanged, skipped" if self.skipped else f"rendered in {self.seconds:.1f} s"
        return f"{self.kind} report {self.html} ({how})"


def kernel_name() -> str:
    """``botrygt-eval`` if that kernel is registered (``make venv`` does it), else ``python3``."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL_NAME if KERNEL_NAME in KernelSpecManager().find_kernel_specs() else "python3"


def template_path(kind: str) -> Path:
    check_option("kind", kind, KINDS)
    path = TEMPLATES / _TEMPLATE_FILES[kind]
    if not path.exists():
        raise ReportError(f"report template {path} is missing: run from a checkout of botrygt_eval")
    return path


def report_stem(kind: str, kommune: int | None = None) -> str:
    """Folder and file name of a report: ``national``, ``kommune_851``, ``learning_review``."""
    return f"kommune_{kommune}" if kind == "kommune" else kind.replace("-", "_")


def _key(parameters: dict, inputs: list[dict], template: Path) -> str:
    blob = json.dumps({"p": parameters, "i": inputs, "t": sha256(template), "v": __version__},
                      sort_keys=True, default=str)  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()


def render_report(
    kind: ReportKind,
    data: str | Path,
    out: str | Path,
    *,
    kommune: int | None = None,
    year: int = 2025,
    seed: int = DEFAULT_SEED,
    cache: str | Path | None = None,
    lang: str = "da",
    min_cell: int = 10,
    hashes: list[dict] | None = None,
    force: bool = False,
    survey_csv: str | Path | None = None,
    effects_csv: str | Path | None = None,
    kernel=None,
) -> ReportResult:
    """Execute one template into ``out/<stem>/`` and export HTML without code cells.

    ``cache`` is a folder prepared by :func:`botrygt_eval.reports.inputs.prepare_inputs`
    (made in ``out/_inputs`` when not given, from ``survey_csv``/``effects_csv`` when those
    already-computed tables exist, e.g. the demo's). Skips the run when the folder's
    ``provenance.json`` has the same key (parameters, input hashes, template, version)
    and the HTML exists, unless ``force``. ``kernel``: a running
    :class:`~botrygt_eval.reports.engine.KernelSession` to reuse (batches); its namespace is
    reset first. By default each report starts its own kernel.
    """

    with report_sandbox(Path(out).resolve()) as sandbox:
        return _render_report(
            kind, data, out, kommune=kommune, year=year, seed=seed, cache=cache, lang=lang,
            min_cell=min_cell, hashes=hashes, force=force, survey_csv=survey_csv,
            effects_csv=effects_csv, kernel=kernel, sandbox=sandbox,
        )  # fmt: skip


def _render_report(kind, data, out, *, kommune, year, seed, cache, lang, min_cell, hashes, force,
                   survey_csv, effects_csv, kernel, sandbox: Path) -> ReportResult:  # fmt: skip
    import time

    from papermill import PapermillExecutionError

    check_option("kind", kind, KINDS)
    check_option("lang", lang, LANGS)
    data, out = Path(data).resolve(), Path(out).resolve()
    if not data.is_dir():
        raise ReportError(
            f"data folder {data} does not exist: pass the workspace folder with --data"
        )
    if kind == "kommune":
        if kommune is None:
            raise ReportError("the kommune report needs --kommune CODE (e.g. 851) or --all")
        kommune = int(to_kommune_kode(kommune))
    template = template_path(kind)
    folder = out / report_stem(kind, kommune)
    stem = report_stem(kind, kommune)
    if cache is None:
        cache = out / "_inputs"
        prepare_inputs(data, cache, survey_csv=survey_csv, effects_csv=effects_csv,
                       min_cell=min_cell)  # fmt: skip
    cache = Path(cache).resolve()
    hashes = input_hashes(data) if hashes is None else hashes
    parameters = {"data_dir": str(data), "cache_dir": str(cache), "out_dir": str(folder),
                  "year": int(year), "kommune": kommune, "seed": int(seed), "lang": lang,
                  "min_cell": int(min_cell), "simulated": workspace_is_simulated(data)}  # fmt: skip
    key = _key({k: v for k, v in parameters.items() if k not in ("out_dir", "cache_dir")},
               hashes, template)  # fmt: skip
    html, nb = folder / f"{stem}.html", folder / f"{stem}.ipynb"
    prov_path = folder / "provenance.json"
    if not force and _unchanged(html, prov_path, key):
        return ReportResult(kind, folder, html, nb, skipped=True)
    # render into a hidden sibling folder; the report's folder is replaced only after a
    # successful render, so a failure never deletes the last good report or mixes figures
    work = out / f".{stem}.rendering"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    run_parameters = {**parameters, "out_dir": str(work)}
    t0 = time.perf_counter()
    own_kernel = kernel is None
    try:
        if own_kernel:
            kernel = KernelSession(start_kernel(kernel_name(), sandbox, cwd=work))
        execute_template(template, work / nb.name, run_parameters, kernel, kernel_name(), work)
    except PapermillExecutionError as exc:
        raise ReportError(f"{stem}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue} "
                          f"(the executed notebook with the error is {work / nb.name}; the "
                          "last good report, if any, is unchanged)") from None  # fmt: skip
    finally:
        if own_kernel and kernel is not None:
            kernel.shutdown()  # also removes its connection file and sockets
        check_tree(work)  # the backstop: the notebook papermill wrote (also a failed one)
    export_html(work / nb.name, work / html.name, title=_title(kind, kommune, lang),
                simulated=parameters["simulated"], lang=lang)  # fmt: skip
    provenance = {"key": key, "report": kind, "package_version": __version__,
                  "template": template.name, "template_sha256": sha256(template),
                  "parameters": {k: v for k, v in parameters.items() if k != "cache_dir"},
                  "inputs": hashes, "html_sha256": sha256(work / html.name)}  # fmt: skip
    (work / prov_path.name).write_text(
        json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    _swap_in(work, folder)
    return ReportResult(kind, folder, html, nb, skipped=False, seconds=time.perf_counter() - t0)


def _unchanged(html: Path, prov_path: Path, key: str) -> bool:
    """The report exists, was made from the same key, and its HTML is the one recorded
    (a truncated or edited HTML is rendered again, never skipped)."""
    if not (html.exists() and prov_path.exists()):
        return False
    try:
        prov = json.loads(prov_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return False
    return prov.get("key") == key and prov.get("html_sha256") == sha256(html)


def _swap_in(work: Path, folder: Path) -> None:
    """Replace ``folder`` by the freshly rendered ``work`` folder (two renames)."""
    old = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(work, folder)
    shutil.rmtree(old, ignore_errors=True)


def _title(kind: str, kommune: int | None, lang: str = "da") -> str:
    title = t(f"title.{kind}", lang)
    if kind == "kommune" and kommune is not None:
        return f"{title}: {kommune_name(kommune)}"
    return title


BANNER_HTML = (
    '<div class="botrygt-sim-banner" style="position:sticky;top:0;z-index:1000;'
    "background:#b22222;color:#fff;font:bold 16px sans-serif;text-align:center;"
    'padding:6px;letter-spacing:1px">{text}</div>'
    "<style>@media print{{.botrygt-sim-banner{{position:fixed;width:100%}}}}</style>"
)


@functools.cache
def _html_exporter(lang: str):
    """One HTML exporter per language and process: its Jinja templates are compiled once
    (~0.25 s), not for each report of a batch."""
    from nbconvert import HTMLExporter

    return HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True, language_code=lang)  # fmt: skip


def export_html(notebook: Path, html: Path, *, title: str, simulated: bool,
                lang: str = "da") -> Path:  # fmt: skip
    """HTML of an executed notebook without code cells or prompts; banner when simulated."""
    import nbformat

    node = nbformat.read(notebook, as_version=4)
    node.metadata["title"] = title
    body, _ = _html_exporter(lang).from_notebook_node(node)
    if simulated:
        banner = BANNER_HTML.format(text=t("common.banner", lang))
        head, sep, rest = body.partition("<body")
        tag_end = rest.index(">") + 1
        body = head + sep + rest[:tag_end] + banner + rest[tag_end:]

    guarded_write_text(html, body)
    return html


# --------------------------------------------------------------------------- batches
@dataclass(frozen=True)
class BatchOutcome:
    """One report of a batch: ``ok``, ``skipped`` or ``failed`` (with the error). ``kind``
    is ``kommune`` (``kommune`` its code) or ``national`` (``kommune`` None)."""

    kommune: int | None
    status: str
    error: str = ""
    seconds: float = 0.0
    kind: str = "kommune"


_WORKER_KERNEL = None  # one kernel and client per batch worker process, reused across its reports


def _worker_kernel():
    """The worker's kernel session, started on first use and restarted if the kernel died."""
    global _WORKER_KERNEL
    if _WORKER_KERNEL is None or not _WORKER_KERNEL.is_alive():
        import atexit

        root = active_sandbox()
        if root is None:  # pragma: no cover - render_kommuner always starts workers in one
            raise ReportError("a batch worker must run inside the report sandbox")
        if _WORKER_KERNEL is not None:  # died: close its client, remove its files
            atexit.unregister(_WORKER_KERNEL.shutdown)
            _WORKER_KERNEL.shutdown()
        _WORKER_KERNEL = KernelSession(start_kernel(kernel_name(), root))
        atexit.register(_WORKER_KERNEL.shutdown)
    return _WORKER_KERNEL


def _die_with_parent() -> None:
    """Batch workers end with the process that started them, and take their kernel along.

    On Linux the kernel is asked (``PR_SET_PDEATHSIG``) to send the worker SIGTERM when its
    parent dies, even by SIGKILL; the handler shuts the worker's kernel down and exits. (A
    kernel also watches its own parent, the worker, and exits when it is gone.)
    """
    import signal
    import sys

    def stop(signum, frame):  # noqa: ARG001 - the signal handler's signature
        if _WORKER_KERNEL is not None:
            _WORKER_KERNEL.shutdown()
        os._exit(1)

    signal.signal(signal.SIGTERM, stop)
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            stop(signal.SIGTERM, None)


def _one(kwargs: dict) -> BatchOutcome:
    kind = kwargs.pop("kind", "kommune")
    k = kwargs.get("kommune")
    try:
        r = render_report(kind, kernel=_worker_kernel(), **kwargs)
    except BotrygtError as exc:
        return BatchOutcome(k, "failed", str(exc), kind=kind)
    except Exception as exc:  # a batch reports every kommune's failure and goes on
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return BatchOutcome(k, "failed", last, kind=kind)
    return BatchOutcome(k, "skipped" if r.skipped else "ok", seconds=r.seconds, kind=kind)


def render_kommuner(
    data: str | Path,
    out: str | Path,
    kommuner: list[int],
    *,
    year: int = 2025,
    seed: int = DEFAULT_SEED,
    cache: str | Path | None = None,
    jobs: int | None = None,
    force: bool = False,
    survey_csv: str | Path | None = None,
    lang: str = "da",
    on_done: Callable[[BatchOutcome], None] | None = None,
    national: bool = False,
) -> list[BatchOutcome]:
    """Render the kommune report for each of ``kommuner`` in ``jobs`` parallel processes.

    The workspace is loaded and hashed once. A kommune that fails is recorded with its
    error; the others go on. ``on_done`` is called as each finishes (progress bars).
    ``national``: render the national report in the same batch, first (its outcome comes
    first): it is the longest report and runs on one kernel, so the other workers render
    kommune reports meanwhile instead of waiting for it.
    """

    check_option("lang", lang, LANGS)
    out = Path(out).resolve()
    # the workers inherit the sandbox: their kernels' files live in out's working folder,
    # which is removed when the batch ends, also when it is interrupted or fails
    with report_sandbox(out):
        return _render_batch(data, out, kommuner, year=year, seed=seed, cache=cache, jobs=jobs,
                             force=force, survey_csv=survey_csv, lang=lang, on_done=on_done,
                             national=national)  # fmt: skip


def _render_batch(data, out, kommuner, *, year, seed, cache, jobs, force, survey_csv, lang,
                  on_done, national) -> list[BatchOutcome]:  # fmt: skip
    import multiprocessing

    data = Path(data).resolve()
    if not data.is_dir():
        raise ReportError(
            f"data folder {data} does not exist: pass the workspace folder with --data"
        )
    if cache is None:
        cache = out / "_inputs"
        prepare_inputs(data, cache, survey_csv=survey_csv)
    hashes = input_hashes(data)
    common = dict(data=data, out=out, year=year, seed=seed, cache=cache, hashes=hashes, force=force,
                  lang=lang)  # fmt: skip
    tasks = [{**common, "kind": "national"}] if national else []
    tasks += [{**common, "kommune": int(k)} for k in kommuner]
    jobs = jobs or min(len(tasks), os.cpu_count() or 1)
    outcomes = []
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=ctx,
                               initializer=_worker_init)  # fmt: skip
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        futures = [pool.submit(_one, task) for task in tasks]
        for fut in as_completed(futures):
            o = fut.result()
            outcomes.append(o)
            if on_done is not None:
                on_done(o)
    finally:
        # interrupted (Ctrl-C, SIGTERM) or done: drop the waiting kommuner, let the reports
        # under way finish, and let each worker shut its kernel down (removing its files)
        pool.shutdown(wait=True, cancel_futures=True)
        signal.signal(signal.SIGTERM, previous)
    return sorted(outcomes, key=lambda o: (o.kind != "national", o.kommune or 0))


def _worker_init() -> None:
    """A batch worker: out of the terminal's process group, and ended with its parent."""
    _detach_worker()
    _die_with_parent()


def _detach_worker() -> None:
    """A batch worker leaves the terminal's process group: Ctrl-C reaches only the parent,
    which then stops the batch in order (a worker interrupted mid-report would leave its
    kernel running)."""
    os.setsid()


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)  # run the batch's clean-up, as on Ctrl-C
