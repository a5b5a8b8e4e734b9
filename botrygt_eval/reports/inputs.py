"""The aggregates every report reads, prepared once per workspace (the input cache).

:func:`prepare_inputs` runs the stages in order (load the workspace, the survey
estimates, the burglary panels, the partnership targets) and writes their outputs as
CSV files, so 98 municipality reports do not each re-run the survey weighting; the
folder is reused while the workspace's hashes are unchanged. :func:`read_inputs` gives
them back as frames. Nothing here estimates: each number comes from its stage.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from botrygt_eval.did.compare import burglary_panel
from botrygt_eval.errors import InputFileError
from botrygt_eval.io.filecache import parse_once
from botrygt_eval.io.workspace import load_workspace
from botrygt_eval.kpi.targets import partnership_kpis
from botrygt_eval.privacy.guard import check_tree, guarded_to_csv
from botrygt_eval.reference import kommune_name, to_kommune_kode
from botrygt_eval.reports.provenance import input_hashes, sha256
from botrygt_eval.survey.pipeline import estimates_for_reports

log = logging.getLogger(__name__)

#: The CSV files of the cache, by name (plus ``partnership_effects`` when given).
INPUTS = ("survey_estimates", "panel_quarter", "panel_year", "activities", "partnerships",
          "nabohjaelp", "partnership_kpis", "group_changes", "survey_gaps")  # fmt: skip


def prepare_inputs(
    data_dir: str | Path,
    cache_dir: str | Path,
    *,
    survey_csv: str | Path | None = None,
    effects_csv: str | Path | None = None,
    min_cell: int = 10,
) -> dict[str, Path]:
    """Load the workspace once and write the aggregates every report reads.

    Writes ``survey_estimates.csv`` (or copies ``survey_csv``), ``panel_quarter.csv``,
    ``panel_year.csv``, ``activities.csv``, ``partnerships.csv``, ``nabohjaelp.csv``,
    ``partnership_kpis.csv`` (targets judged net of similar kommuner, :mod:`botrygt_eval.kpi.targets`),
    ``group_changes.csv`` (:func:`group_changes`) and ``partnership_effects.csv`` (only when
    ``effects_csv`` is given; the national report estimates the effects itself otherwise).
    Returns the paths by name. Reuses the folder when ``inputs.json`` records the same
    workspace hashes and inputs.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    paths = {name: cache / f"{name}.csv" for name in INPUTS}
    given = {k: sha256(Path(v)) for k, v in (("survey", survey_csv), ("effects", effects_csv))
             if v is not None and Path(v).exists()}  # fmt: skip
    stamp = {"inputs": input_hashes(data_dir), "given": given, "min_cell": min_cell}
    stamp_path = cache / "inputs.json"
    if stamp_path.exists() and json.loads(stamp_path.read_text(encoding="utf-8")) == stamp:
        if "effects" in given:
            paths["partnership_effects"] = cache / "partnership_effects.csv"
        if all(p.exists() for p in paths.values()):
            return paths  # unchanged workspace: reuse (resumable batches)
    stamp_path.unlink(missing_ok=True)
    (cache / "partnership_effects.csv").unlink(missing_ok=True)
    try:
        ws = load_workspace(data_dir, quarantine_dir=cache / "quarantine")
    finally:  # quarantined lines must not carry CPR numbers, even when a later file fails
        check_tree(cache / "quarantine")
    est, gaps = estimates_for_reports(ws, given=survey_csv, min_cell=min_cell)
    guarded_to_csv(est, paths["survey_estimates"], index=False)
    guarded_to_csv(gaps, paths["survey_gaps"], index=False)
    guarded_to_csv(burglary_panel(ws, "quarter"), paths["panel_quarter"], index=False)
    guarded_to_csv(burglary_panel(ws, "year"), paths["panel_year"], index=False)
    guarded_to_csv(ws.activities, paths["activities"], index=False)
    guarded_to_csv(ws.partnerships, paths["partnerships"], index=False)
    guarded_to_csv(ws.nabohjaelp, paths["nabohjaelp"], index=False)
    if ws.partnerships is not None and len(ws.partnerships):
        kpis = partnership_kpis(ws, survey_estimates=est, min_cell=min_cell)
    else:
        kpis = pd.DataFrame(columns=["kommune_kode"])
    guarded_to_csv(kpis, paths["partnership_kpis"], index=False)
    changes = group_changes(ws)
    guarded_to_csv(changes, paths["group_changes"], index=False)
    for r in changes.itertuples(index=False):  # on the console, with the file to correct
        log.warning("%s line %s was quarantined (%s): %s is left out of the partnership "
                    "group in every report until the line is corrected", ws.root / r.file,
                    r.line, r.reason, r.kommune)  # fmt: skip
    if effects_csv is not None and Path(effects_csv).exists():
        paths["partnership_effects"] = cache / "partnership_effects.csv"
        guarded_to_csv(pd.read_csv(effects_csv), paths["partnership_effects"], index=False)
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return paths


def read_inputs(cache_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The prepared CSVs of :func:`prepare_inputs` as frames, keyed by name (copies: a
    batch worker parses each file once, :mod:`botrygt_eval.io.filecache`)."""
    return {p.stem: parse_once(p, _read_input).copy() for p in sorted(Path(cache_dir).glob("*.csv"))}


def _read_input(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, parse_dates=["signed_date"] if path.stem == "partnerships" else None)


def group_changes(ws) -> pd.DataFrame:
    """Quarantined lines of the partnership register: each one moves a kommune out of the
    partnership group, so the reports must say so (``file, line, kommune_kode, kommune,
    reason``)."""
    rows = []
    for r in ws.reports:
        if Path(r.source).name != "partnerships.csv" or not r.n_quarantined:
            continue
        for q in r.quarantined.itertuples(index=False):
            code = _code_of(getattr(q, "kommune_kode", None), str(getattr(q, "raw", "")))
            rows.append({"file": _relative(r.source, ws.root), "line": int(q.source_row),
                         "kommune_kode": code,
                         "kommune": kommune_name(code) if code else "?", "reason": q.reason})  # fmt: skip
    return pd.DataFrame(rows, columns=["file", "line", "kommune_kode", "kommune", "reason"])


def _relative(path, root) -> str:
    """A workspace file as ``registers/partnerships.csv`` (no machine paths in a report)."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _code_of(parsed, raw: str) -> int | None:
    """The kommune of a quarantined line: the parsed code, else the line's first field."""
    for candidate in (parsed, raw.replace(";", ",").split(",")[0].strip().strip('"')):
        try:
            return int(to_kommune_kode(candidate))
        except Exception:  # noqa: BLE001 - not a kommune: try the next, else unknown
            continue
    return None


def learning_review_file(data_dir: str | Path, year: int) -> Path:
    """The project-leader survey of ``year`` in the workspace, else the latest one there."""
    survey = Path(data_dir) / "survey"
    exact = survey / f"projektleder_{year}.csv"
    if exact.exists():
        return exact
    found = sorted(survey.glob("projektleder_*.csv"))
    if not found:
        raise InputFileError(f"no projektleder_YYYY.csv in {survey}: the learning-review report "
                             "needs the project-leader survey (docs/DATA_FORMATS.md)")  # fmt: skip
    return found[-1]
