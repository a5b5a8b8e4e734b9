"""The command line: every command's --help shows an example; user errors exit 2 without a traceback."""

import subprocess
import sys

import pytest
import typer.main

from botrygt_eval.cli import app


def _commands(group, prefix=()):
    yield prefix, group
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            yield from _commands(sub, (*prefix, name))


ALL = list(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "root")
def test_help_shows_an_example(path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.output and "botrygt-eval" in result.output


def test_contract_commands_exist():
    names = {" ".join(p) for p, _ in ALL}
    assert {"demo", "simulate"} <= names


def test_user_error_is_one_line_without_traceback(tmp_path):
    code = (
        "import sys; from botrygt_eval.cli import app, main\n"
        "from botrygt_eval.errors import InputFileError\n"
        "@app.command('boom')\n"
        "def boom():\n"
        "    raise InputFileError('x.csv: bad file; fix it')\n"
        "sys.argv = ['botrygt-eval', 'boom']\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "x.csv: bad file; fix it" in proc.stderr
    assert "Traceback" not in proc.stderr
