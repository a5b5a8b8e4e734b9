"""CLI start-up: `botrygt-eval --help` and an argument error, in a fresh process each time.

Every command imports its own stack inside the command (issue 20), so help and argument
errors load no numpy, pandas or matplotlib. No peer: the time is ours alone, against the
0.5 s target; before issue 20 it was 3-6 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness import Case

EXE = str(Path(sys.executable).with_name("botrygt-eval"))


def _run(args: list[str]):
    return lambda _: subprocess.run([EXE, *args], capture_output=True, check=False)


CASES = [
    Case("CLI start-up: botrygt-eval --help (fresh process)", lambda: None, _run(["--help"]),
         note="target < 0.5 s"),
    Case("CLI start-up: argument error (did twfe --se nonsense)", lambda: None,
         _run(["did", "twfe", "--se", "nonsense"]), note="target < 0.5 s; exits 2 with the allowed values"),
]  # fmt: skip
