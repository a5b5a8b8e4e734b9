"""The ``report`` commands: help with examples, user errors, and the --all batch's exit code."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.reports.render import BatchOutcome, render_kommuner

runner = CliRunner()


def test_every_report_command_has_an_example():
    for cmd in ("national", "kommune", "activities", "learning-review"):
        res = runner.invoke(app, ["report", cmd, "--help"], terminal_width=200)
        assert res.exit_code == 0, res.output
        assert "Example: botrygt-eval report" in res.output, cmd


def _cli(*args) -> tuple[int, str]:
    """Exit code and stderr with rich's line wrapping undone."""
    proc = subprocess.run([sys.executable, "-m", "botrygt_eval.cli", *args],
                          capture_output=True, text=True)  # fmt: skip
    return proc.returncode, " ".join(proc.stderr.split())


def test_missing_data_folder_is_a_user_error(tmp_path):
    code, err = _cli("report", "national", "--data", str(tmp_path / "nope"), "--out", str(tmp_path))
    assert code == 2
    assert "does not exist" in err and "Traceback" not in err


def test_kommune_needs_a_code_or_all(tmp_path):
    code, err = _cli("report", "kommune", "--data", str(tmp_path), "--out", str(tmp_path))
    assert code == 2 and "--kommune CODE or --all" in err


def test_all_reports_each_failure_and_exits_non_zero(tmp_path, monkeypatch):
    import botrygt_eval.reports.render as reports

    def fake(data, out, kommuner, **kwargs):
        outs = [BatchOutcome(k, "ok") for k in kommuner[:-1]]
        outs.append(BatchOutcome(kommuner[-1], "failed", "boom in cell 3"))
        for o in outs:
            kwargs["on_done"](o)
        return outs

    monkeypatch.setattr(reports, "render_kommuner", fake)
    res = runner.invoke(app, ["report", "kommune", "--all", "--data", str(tmp_path), "--out",
                              str(tmp_path)], terminal_width=200)  # fmt: skip
    assert res.exit_code == 1
    assert "failed 1" in res.output and "boom in cell 3" in res.output


def test_a_failing_kommune_does_not_stop_the_batch(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    outcomes = render_kommuner(tmp_path, tmp_path / "out", [9999, 9998], cache=cache, jobs=2)
    assert [o.kommune for o in outcomes] == [9998, 9999]
    for o in outcomes:
        assert o.status == "failed" and str(o.kommune) in o.error, o


def test_lang_flows_from_every_report_command_to_the_renderer(tmp_path, monkeypatch):
    import botrygt_eval.reports.render as reports

    seen = []

    class Done:
        kind, html, skipped, seconds = "x", tmp_path / "x.html", True, 0.0

    monkeypatch.setattr(reports, "render_report", lambda *a, **kw: seen.append(kw["lang"]) or Done)
    common = ["--data", str(tmp_path), "--out", str(tmp_path)]
    for cmd in (["national"], ["activities"], ["learning-review"], ["kommune", "--kommune", "851"]):
        res = runner.invoke(app, ["report", *cmd, "--lang", "en", *common], terminal_width=200)
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", "national", *common], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert seen == ["en", "en", "en", "en", "da"]


def test_an_unknown_language_is_a_user_error(tmp_path):
    code, err = _cli("report", "national", "--lang", "fr", "--data", str(tmp_path), "--out",
                     str(tmp_path))  # fmt: skip
    assert code == 2 and "lang='fr'" in err and "'da', 'en'" in err
    code, err = _cli("report", "kommune", "--all", "--lang", "de", "--data", str(tmp_path),
                     "--out", str(tmp_path))  # fmt: skip
    assert code == 2 and "lang='de'" in err
