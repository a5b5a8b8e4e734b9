"""Whether data are simulated, read from the data themselves (one question, asked one way).

The simulator writes a ``simulated`` column (:data:`botrygt_eval.SIMULATED_MARKER`) with
1 in every row it made. :func:`marked_simulated` reads that column of a frame;
:func:`workspace_is_simulated` asks it of every data file of a workspace that carries the
column, and also honours the simulator's two documents (``truth.json``, a README saying
SIMULEREDE DATA). Deleting the documents does not make simulated data real.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from botrygt_eval import SIMULATED_MARKER


def marked_simulated(frame: pd.DataFrame) -> bool:
    """True when ``frame`` has the simulator's marker column with every value 1."""
    if SIMULATED_MARKER not in frame.columns:
        return False
    marker = pd.to_numeric(frame[SIMULATED_MARKER], errors="coerce")
    return bool(len(marker)) and bool((marker == 1).all())


def file_is_simulated(path: str | Path) -> bool:
    """A CSV file whose rows all carry the simulator's marker (only the column is read)."""
    if SIMULATED_MARKER not in pd.read_csv(path, nrows=0, dtype=str).columns:
        return False
    return marked_simulated(pd.read_csv(path, usecols=[SIMULATED_MARKER], dtype=str))


def workspace_is_simulated(data_dir: str | Path) -> bool:
    """A workspace is simulated when it carries ``truth.json``, its README says so, or a
    data file (``survey/*.csv``) carries the simulator's marker in every row."""
    root = Path(data_dir)
    readme = root / "README.md"
    if (root / "truth.json").exists():
        return True
    if readme.exists() and "SIMULEREDE DATA" in readme.read_text(encoding="utf-8"):
        return True
    return any(file_is_simulated(p) for p in sorted((root / "survey").glob("*.csv")))
