"""The CPR guard: no CPR-shaped value is written anywhere but the distribution list.

Every writer of the package that can carry data from the inputs (quarantine files,
report tables, CSV/JSON outputs, the sample) goes through :func:`guarded_to_csv`,
:func:`guarded_write_text` or :func:`guarded_write_json`, which check first and
raise :class:`PersonalDataError` naming the output, the column and the row (never
the value). :func:`scan_tree` checks a whole output folder after a run (the
backstop for writers outside this package, e.g. papermill's notebook), and
:func:`install_log_guard` redacts CPR-shaped values from every log record.
The only writer allowed to write CPR numbers is :func:`write_distribution_list`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from botrygt_eval.errors import PersonalDataError
from botrygt_eval.privacy.cpr import CPR_RE, contains_cpr, frame_cpr_hits, redact_cpr  # noqa: F401
from botrygt_eval.privacy.logs import install_log_guard  # noqa: F401 (re-exported)
from botrygt_eval.privacy.patterns import search_cpr

#: the folder of the distribution list, the only output holding CPR numbers
DISTRIBUTION_DIR = "FORTROLIGT_udsendelsesliste_cpr"
#: text files a scan reads (binary files such as parquet and png are not scanned)
TEXT_SUFFIXES = (".csv", ".json", ".md", ".txt", ".html", ".ipynb", ".log", ".tsv", ".xml",
                 ".yaml", ".yml", ".toml", ".sps", ".do", ".tex")  # fmt: skip
_FIX = (
    "a CPR number must never leave the distribution list: remove the column or value from the "
    "input (pseudonymise with `botrygt-eval sample --key-file`), then run again"
)


def _describe(hits: dict) -> str:
    parts = []
    for column, rows in list(hits.items())[:5]:
        first = ", ".join(str(int(r) + 1) for r in rows[:3])
        parts.append(f"column {column!r}: {len(rows):,} value(s), row(s) {first}")
    return "; ".join(parts)


def check_no_cpr(obj, where: str | Path) -> None:
    """Raise :class:`PersonalDataError` if ``obj`` (frame, series, text, JSON-able) holds a CPR."""
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        hits = frame_cpr_hits(obj)
        if hits:
            raise PersonalDataError(
                f"refusing to write {where}: it would contain CPR-shaped values "
                f"({_describe(hits)}); {_FIX}"
            )
        return
    if isinstance(obj, bytes):
        obj = obj.decode("utf-8", errors="replace")
    if not isinstance(obj, str):
        obj = json.dumps(obj, default=str, ensure_ascii=False)
    found = search_cpr(obj)
    if found is not None:
        line = obj.count("\n", 0, found.start()) + 1
        raise PersonalDataError(
            f"refusing to write {where}: line {line:,} would contain a CPR-shaped value; {_FIX}"
        )


def _in_distribution_dir(path: Path) -> bool:
    return DISTRIBUTION_DIR in Path(path).parts


def guarded_to_csv(frame: pd.DataFrame, path: str | Path, **kwargs) -> None:
    """``frame.to_csv(path, **kwargs)`` after checking that no value is CPR-shaped."""
    check_no_cpr(frame, path)
    frame.to_csv(path, **kwargs)


def guarded_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """``Path(path).write_text(text)`` after checking that no value is CPR-shaped."""
    check_no_cpr(text, path)
    Path(path).write_text(text, encoding=encoding)


def guarded_write_json(path: str | Path, obj, *, indent: int | None = 2, **kwargs) -> None:
    """Write ``obj`` as JSON (UTF-8, trailing newline) after checking it for CPR numbers."""
    kwargs.setdefault("ensure_ascii", False)
    guarded_write_text(path, json.dumps(obj, indent=indent, **kwargs) + "\n")


def write_distribution_list(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the distribution list (CPR + pseudonym): only inside a ``FORTROLIGT_...`` folder,
    readable by this user only (file 0600, new folder 0700)."""
    path = Path(path)
    if not _in_distribution_dir(path):
        raise PersonalDataError(
            f"the distribution list {path} must be written inside a folder named "
            f"{DISTRIBUTION_DIR}/ so that nobody shares it by mistake"
        )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # only this user reads it
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=False)
    return path


def scan_tree(root: str | Path, *, max_bytes: int = 200_000_000) -> list[tuple[Path, int]]:
    """Every text file under ``root`` (outside the distribution list) holding a CPR, with the line.

    Reads each text file once and searches it with one compiled regex.
    """
    found = []
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file() or _in_distribution_dir(path.relative_to(root)):
            continue
        if path.suffix.lower() not in TEXT_SUFFIXES or path.stat().st_size > max_bytes:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        hit = search_cpr(text)
        if hit is not None:
            found.append((path, text.count("\n", 0, hit.start()) + 1))
    return found


def check_tree(root: str | Path, *, remove: bool = True) -> None:
    """Raise :class:`PersonalDataError` naming the files under ``root`` that hold a CPR.

    The backstop for files written by code outside the guarded writers (papermill's
    notebook, loaders' quarantine files): with ``remove`` (default) those files are
    deleted before raising, so no CPR number stays in the outputs.
    """
    if not Path(root).exists():
        return
    found = scan_tree(root)
    if found:
        listed = "; ".join(f"{p} line {line:,}" for p, line in found[:10])
        if remove:
            for path, _ in found:
                path.unlink(missing_ok=True)
        what = "were deleted" if remove else "must be deleted"
        raise PersonalDataError(
            f"{len(found)} output file(s) contained CPR-shaped values and {what}: {listed}; {_FIX}"
        )
