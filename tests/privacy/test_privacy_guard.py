"""The CPR guard: no CPR-shaped value is written anywhere but the distribution list.

Unit checks of the detector (valid dates only; pseudonyms, decimals and long numbers
never match), the guarded writers and the log guard; then CPR numbers planted in every
input of a small simulated workspace (StatBank, registers, sample, responses, margins):
preparing the report inputs, weighting and estimating must fail with the guard's
message, and no file under the output folder nor any log line may hold a CPR number.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botrygt_eval.errors import BotrygtError, InputFileError, PersonalDataError
from botrygt_eval.io.quarantine import validate_rows
from botrygt_eval.io.schemas import SURVEY_SAMPLE
from botrygt_eval.privacy.cpr import contains_cpr, cpr_mask, redact_cpr
from botrygt_eval.privacy.guard import (
    check_no_cpr,
    check_tree,
    guarded_to_csv,
    guarded_write_json,
    install_log_guard,
    scan_tree,
    write_distribution_list,
)
from botrygt_eval.privacy.patterns import CPR_RE, search_cpr
from botrygt_eval.reports.inputs import prepare_inputs
from botrygt_eval.simulate import simulate_workspace
from botrygt_eval.simulate.config import SimulationConfig

ROOT = Path(__file__).resolve().parents[2]
SMALL = SimulationConfig(
    population_total=400_000, households_total=190_000, survey_min_n=40, survey_fraction=0.001
)


# ------------------------------------------------------------------------- the detector
@pytest.mark.parametrize(
    "text",
    ["010190-1234", "0101901234", "Ring 311299-1234.", "cpr:2902001234", "x,3004851234,y",
     "cpr_0101901234", "\t150677-0001\n"],
)  # fmt: skip
def test_detects_cpr_shaped_values(text):
    assert contains_cpr(text)
    assert not contains_cpr(redact_cpr(text))


@pytest.mark.parametrize(
    "text",
    ["3202901234", "0013901234", "3102901234", "3104901234", "0.0101901234", "12345678901",
     "010190-12345", "fd0101901234ab", "2025-01-01", "1234567890123", "01019-01234"],
)  # fmt: skip
def test_ignores_values_that_are_not_cpr_shaped(text):
    assert not contains_cpr(text)


_CPR_ALPHABET = "0123456789-._ aZ\n"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_CPR_ALPHABET, max_size=60), st.sampled_from(
    ["", "010190-1234", "3112991234", "2902001234", "3202901234", "0113901234"]))  # fmt: skip
def test_the_prescan_finds_what_the_full_pattern_finds(text, planted):
    """search_cpr skips the full pattern when its cheap pre-scan finds nothing: it must give
    the full pattern's first match on any text (digits, separators, planted values)."""
    for candidate in (text, text[: len(text) // 2] + planted + text[len(text) // 2 :]):
        want, got = CPR_RE.search(candidate), search_cpr(candidate)
        assert (want is None) == (got is None)
        assert want is None or want.span() == got.span()


def test_pseudonyms_and_floats_never_look_like_cpr():
    rng = np.random.default_rng(1)
    ids = pd.Series([f"{x:016x}" for x in rng.integers(0, 2**63, 200_000)])
    digits_only = pd.Series([f"{x:016d}"[:16] for x in rng.integers(10**15, 10**16, 1000)])
    floats = pd.Series(rng.random(100_000))
    assert not cpr_mask(ids).any() and not cpr_mask(digits_only).any()
    assert not cpr_mask(floats).any() and not contains_cpr(floats.to_csv())


def test_integer_and_categorical_columns_are_checked():
    # a CPR column read from CSV without hyphens becomes int64 and loses a leading zero
    assert cpr_mask(pd.Series([101901234, 7, 3112991234, 5_900_000])).tolist() == [
        True, False, True, False]  # fmt: skip
    cat = pd.Series(["a", "b 010190-1234", "a"], dtype="category")
    assert cpr_mask(cat).tolist() == [False, True, False]


def test_guarded_writers_refuse_and_write_nothing(tmp_path):
    frame = pd.DataFrame({"kommune_kode": [101, 147], "note": ["ok", "ring 010190-1234"]})
    with pytest.raises(PersonalDataError, match=r"column 'note': 1 value\(s\), row\(s\) 2") as e:
        guarded_to_csv(frame, tmp_path / "t.csv", index=False)
    assert "010190" not in str(e.value)  # the message never repeats the value
    assert not (tmp_path / "t.csv").exists()
    with pytest.raises(PersonalDataError, match="line 5"):  # indent=2: "b" is on line 5
        guarded_write_json(tmp_path / "t.json", {"a": [1], "b": "0101901234"})
    assert not (tmp_path / "t.json").exists()
    with pytest.raises(PersonalDataError, match="column names"):
        check_no_cpr(pd.DataFrame({"0101901234": [1]}), "x.csv")
    guarded_to_csv(frame.iloc[:1], tmp_path / "ok.csv", index=False)
    assert (tmp_path / "ok.csv").exists()


def test_distribution_list_only_in_its_folder(tmp_path):
    frame = pd.DataFrame({"cpr": ["0101901234"], "resp_id": ["0123456789abcdef"]})
    with pytest.raises(PersonalDataError, match="FORTROLIGT_udsendelsesliste_cpr"):
        write_distribution_list(frame, tmp_path / "list.csv")
    path = write_distribution_list(frame, tmp_path / "FORTROLIGT_udsendelsesliste_cpr" / "l.csv")
    assert path.exists() and scan_tree(tmp_path) == []  # the scan skips that folder


def test_check_tree_deletes_and_refuses(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.csv").write_text("x\n1\n0101901234\n")
    (tmp_path / "b.md").write_text("fine\n")
    with pytest.raises(PersonalDataError, match=r"a\.csv line 3"):
        check_tree(tmp_path)
    assert not (tmp_path / "sub" / "a.csv").exists() and (tmp_path / "b.md").exists()


def test_log_guard_redacts_every_record(caplog):
    install_log_guard()
    with caplog.at_level(logging.WARNING):
        logging.getLogger("botrygt_eval.test").warning("row %s: bad value %r", 3, "010190-1234")
        logging.getLogger("other.lib").warning("0101901234")
    assert "[CPR fjernet]" in caplog.text
    assert not contains_cpr(caplog.text)


def test_quarantine_writer_refuses_cpr(tmp_path):
    bad = pd.DataFrame({"resp_id": ["010190-1234"], "year": [2025], "kommune_kode": [101],
                        "sex": ["male"], "age": [40], "age_band": ["30-44"], "incl_prob": [0.01],
                        "design_weight": [100.0], "stratum_population": [5000], "responded": [1],
                        "source_row": [2]})  # fmt: skip
    with pytest.raises(PersonalDataError, match="quarantine"):
        validate_rows(bad, SURVEY_SAMPLE, source="sample_2025.csv", quarantine_dir=tmp_path)
    assert scan_tree(tmp_path) == []


# ---------------------------------------------------------- planted in every input
def _append(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    bom = "\ufeff" if path.read_bytes().startswith(b"\xef\xbb\xbf") else ""
    path.write_text(bom + text.rstrip("\n") + "\n" + line + "\n", encoding="utf-8")


def _add_cpr_column(path: Path) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    n = len(frame)
    frame["cpr"] = [f"{1 + i % 28:02d}{1 + i % 12:02d}{i % 100:02d}-{i % 10_000:04d}"
                    for i in range(n)]  # fmt: skip
    frame.to_csv(path, index=False)


#: where a CPR number is planted, and what the run must do: stop with the guard's message
#: (the line would reach a quarantine file), stop because the file is unusable, or go on
#: because the value is never read (an extra column the loader does not select)
PLANTS = {
    "statbank": (lambda ws: _append(ws / "statbank" / "STRAF11.csv",
                                    "København;1320 Indbrud i beboelser;010190-1234;7"),
                 PersonalDataError),
    "statbank_value": (lambda ws: _append(ws / "statbank" / "FOLK1A.csv",
                                          "København;Mænd;0 år;I alt;2010K1;0101901234"),
                       PersonalDataError),
    "registers": (lambda ws: _append(ws / "registers" / "activities.csv",
                                     "A99999,101,tryghedsvandring,2022-05-08,2022-05-08,"
                                     "150677-0001,"), PersonalDataError),
    "registers_nabohjaelp": (lambda ws: _append(ws / "registers" / "nabohjaelp.csv",
                                                "101,2019,311299-4321"), PersonalDataError),
    "margins": (lambda ws: _append(ws / "survey" / "margins_2025.csv",
                                   "kommune_kode,0101901234,ukendt"), PersonalDataError),
    "sample": (lambda ws: _add_cpr_column(ws / "survey" / "sample_2025.csv"), None),
    "responses": (lambda ws: _add_cpr_column(ws / "survey" / "responses_2025.csv"),
                  InputFileError),
}  # fmt: skip


@pytest.fixture(scope="module")
def clean_workspace(tmp_path_factory):
    clean = tmp_path_factory.mktemp("planted") / "clean"
    simulate_workspace(clean, seed=5, config=SMALL)
    return clean


@pytest.mark.parametrize("where", list(PLANTS))
def test_planted_cpr_numbers_reach_no_output(where, clean_workspace, tmp_path, caplog):
    plant, expected = PLANTS[where]
    ws = tmp_path / "ws"
    shutil.copytree(clean_workspace, ws)
    plant(ws)
    install_log_guard()
    out = tmp_path / "out"
    with caplog.at_level(logging.DEBUG):
        try:
            prepare_inputs(ws, out / "_inputs")
            error = None
        except BotrygtError as exc:
            error = exc
    if expected is None:
        assert error is None
    else:
        assert isinstance(error, expected), repr(error)
    if expected is PersonalDataError:  # the guard's own message never repeats the value
        assert "CPR" in str(error) and "pseudonymise" in str(error)
        assert not contains_cpr(str(error))
    # (a loader's message may quote a bad value; the CLI prints it redacted, see below)
    assert scan_tree(out) == []  # nothing written holds a CPR number
    assert not contains_cpr(caplog.text)


def test_planted_cpr_in_sample_and_responses_is_refused_by_weight_and_estimate(
    clean_workspace, tmp_path
):
    survey = tmp_path / "survey"
    shutil.copytree(clean_workspace / "survey", survey)
    for name in ("sample_2025.csv", "responses_2025.csv"):
        _add_cpr_column(survey / name)
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    margins = survey / "margins_2025.csv"
    weight = [sys.executable, "-m", "botrygt_eval.cli", "weight", "--responses",
              str(survey / "sample_2025.csv"), "--margins", str(margins),
              "--design-weight", "design_weight", "--out", str(out / "w.csv")]  # fmt: skip
    res = subprocess.run(weight, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "refusing to write" in res.stderr and "column 'cpr'" in res.stderr
    assert not contains_cpr(res.stderr + res.stdout)
    estimate = [sys.executable, "-m", "botrygt_eval.cli", "estimate", "--responses",
                str(survey / "responses_2025.csv"), "--weight", "year", "--vars", "worry_burglary",
                "--by", "cpr", "--json", str(out / "e.json")]  # fmt: skip
    res = subprocess.run(estimate, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stderr[-2000:]
    assert not contains_cpr(res.stderr + res.stdout)
    assert scan_tree(out) == []


def test_clean_workspace_passes_the_guard(clean_workspace, tmp_path):
    clean = clean_workspace
    paths = prepare_inputs(clean, tmp_path / "_inputs")
    assert all(Path(p).exists() for p in paths.values())
    assert scan_tree(tmp_path) == []
    assert scan_tree(clean) == []  # the simulator's inputs hold no CPR-shaped value either
