"""What a report was made from: the sha256 of files and of every file of a workspace.

The report runner keys its resume decision on these hashes and writes them into
``provenance.json``; the input cache (:mod:`botrygt_eval.reports.inputs`) stamps its
folder with them, so an unchanged workspace is not prepared twice.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256(path: Path) -> str:
    """The file's sha256 (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_hashes(data_dir: str | Path) -> list[dict]:
    """sha256 and size of every file of the workspace (sorted by relative path)."""
    root = Path(data_dir)
    files = sorted(p for p in root.rglob("*") if p.is_file() and "quarantine" not in p.parts)
    return [{"fil": str(p.relative_to(root)), "sha256": sha256(p), "bytes": p.stat().st_size}
            for p in files]  # fmt: skip
