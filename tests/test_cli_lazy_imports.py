"""The command line starts light: ``--help`` and an argument error import no data stack.

Each command imports pandas, numpy, scipy, matplotlib and the stage modules inside its
function (issue 20: ``--help`` and argument errors under 0.5 s). A top-level heavy import in
any command module, in ``botrygt_eval.options`` or in the privacy log guard fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "scipy", "matplotlib", "statsmodels", "linearmodels", "pyarrow")

# Run the CLI's own entry point in a fresh interpreter, then list the heavy modules loaded.
_WRAPPER = """
import sys
from botrygt_eval.cli import main
sys.argv = ["botrygt-eval", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
print("CODE=" + str(code), file=sys.stderr)
"""


def _run(*args: str) -> tuple[list[str], str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    res = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{_WRAPPER}", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    lines = res.stderr.splitlines()
    heavy = next(ln for ln in lines if ln.startswith("HEAVY=")).removeprefix("HEAVY=")
    code = next(ln for ln in lines if ln.startswith("CODE=")).removeprefix("CODE=")
    return [m for m in heavy.split(",") if m], code, res.stdout + res.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("did", "twfe", "--help"),
        ("did", "att-gt", "--help"),
        ("report", "national", "--help"),
        ("weight", "--help"),
    ],
)
def test_help_imports_no_data_stack(args):
    heavy, code, out = _run(*args)
    assert code == "0", out
    assert heavy == [], f"`botrygt-eval {' '.join(args)}` imported {heavy}"


def test_argument_error_imports_no_data_stack():
    heavy, code, out = _run("did", "twfe", "--se", "nonsense", "--data", "x.csv")
    assert code == "2" and "'cr1', 'cr2', 'jackknife', 'wild'" in out, out
    assert heavy == [], f"an argument error imported {heavy}"


def test_the_check_sees_a_heavy_import():
    """The wrapper does report a heavy module when one is loaded (the test can fail)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = _WRAPPER.replace(
        "from botrygt_eval.cli import main", "import numpy\nfrom botrygt_eval.cli import main"
    )
    res = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{code}", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert "HEAVY=numpy" in res.stderr
