"""`instrument diff` finds the recoded scale, the rewordings and the new item, and flags breaks."""

from __future__ import annotations

import json
import shutil

import yaml
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.instrument import diff_instruments
from botrygt_eval.instrument.bank import default_root


def _changes(result):
    return {(c.item, c.change): c for c in result.changes}


def test_diff_2024_2025_catches_the_recoded_worry_scale():
    result = diff_instruments(2024, 2025)
    changes = _changes(result)
    recoded = changes[("worry_burglary", "recoded")]
    assert recoded.breaks_comparability and recoded.outcomes == ("fear_burglary",)
    assert "5" in recoded.detail and "Meget ofte" in recoded.old and "Noget af tiden" in recoded.new
    assert changes[("korps_visit", "added")].breaks_comparability is False  # feeds no trend outcome
    assert changes[("prev_call_114", "reworded")].outcomes == ("prevention_index",)
    assert set(changes) == {
        ("worry_burglary", "recoded"),
        ("worry_burglary", "reworded"),
        ("prev_call_114", "reworded"),
        ("korps_visit", "added"),
    }
    assert {o for c in result.breaking for o in c.outcomes} == {"fear_burglary", "prevention_index"}
    assert result.unrecorded == ()


def test_identical_years_have_no_changes():
    assert diff_instruments(2025, 2025).changes == ()


def _bank_pair(tmp_path):
    for year in (2024, 2025):
        shutil.copytree(default_root() / str(year), tmp_path / str(year))
    return tmp_path


def _edit(path, fn):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_relabelled_codes_english_only_rewording_and_unrecorded_changes(tmp_path):
    root = _bank_pair(tmp_path)
    # same codes, new label for code 3 of the safe4 scale: recoded, breaks unsafe_home
    _edit(root / "2025" / "scales.yaml", lambda d: d["safe4"][2].update(da="Lidt utryg"))
    # English-only rewording of an outcome item: reported, not breaking (Danish is fielded)
    _edit(
        root / "2025" / "victimisation.yaml",
        lambda d: d["items"][0]["text"].update(en="In the last 12 months, was your home burgled?"),
    )
    # a removed trend item breaks its outcome
    _edit(root / "2025" / "prevention.yaml", lambda d: d["items"].pop(1))
    _edit(root / "2025" / "instrument.yaml", lambda d: None)
    result = diff_instruments(2024, 2025, root=root)
    changes = _changes(result)
    safe = changes[("safe_home_dark", "recoded")]
    assert safe.breaks_comparability and "code(s) 3" in safe.detail
    assert changes[("safe_area_dark", "recoded")].breaks_comparability is False  # no outcome
    en_only = changes[("vict_burglary", "reworded")]
    assert en_only.detail == "question text changed (en)" and not en_only.breaks_comparability
    removed = changes[("prev_light_hedge", "removed")]
    assert removed.breaks_comparability and removed.outcomes == ("prevention_index",)
    assert ("safe_home_dark", "recoded") in {(c.item, c.change) for c in result.unrecorded}


def test_cli_diff_prints_and_writes_json(tmp_path):
    out = tmp_path / "diff.json"
    res = CliRunner().invoke(
        app, ["instrument", "diff", "2024", "2025", "--json", str(out)], env={"COLUMNS": "160"}
    )
    assert res.exit_code == 0, res.output
    assert "worry_burglary" in res.output and "recoded" in res.output
    assert "Comparability broken" in res.output and "fear_burglary" in res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["breaking_outcomes"] == ["fear_burglary", "prevention_index"]
    assert {"item": "worry_burglary", "change": "recoded"}.items() <= data["changes"][2].items()
