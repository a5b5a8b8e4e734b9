"""Pseudonymising a frame of real people: HMAC-SHA256 pseudonyms, the distribution list, the key.

The pseudonym is checked against its definition computed independently with
``hmac.new`` (first 8 bytes of HMAC-SHA256(key, context + 10-digit CPR), as hex).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.errors import InputFileError, PersonalDataError
from botrygt_eval.io.schemas import RESP_ID_PATTERN
from botrygt_eval.privacy.guard import DISTRIBUTION_DIR, scan_tree
from botrygt_eval.privacy.pseudonym import KEY_ENV, load_key, pseudonymise_cpr
from botrygt_eval.sampling.draw import draw_sample

KEY = bytes(range(32))
KEY_HEX = KEY.hex()


def cpr_numbers(n: int, seed: int = 0) -> np.ndarray:
    """n distinct valid CPR numbers DDMMYY-XXXX (days 01-28, so every month is valid)."""
    rng = np.random.default_rng(seed)
    day, month, yy = rng.integers(1, 29, n), rng.integers(1, 13, n), rng.integers(0, 100, n)
    serial = rng.choice(10_000, n, replace=False)
    return np.char.add(
        np.char.add(np.char.zfill(day.astype(str), 2), np.char.zfill(month.astype(str), 2)),
        np.char.add(
            np.char.zfill(yy.astype(str), 2), np.char.add("-", np.char.zfill(serial.astype(str), 4))
        ),
    )


def cpr_frame(n: int = 4_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 95, n)
    return pd.DataFrame({
        "cpr": cpr_numbers(n, seed),
        "kommune_kode": rng.choice([101, 147, 151], n, p=[0.6, 0.3, 0.1]),
        "sex": rng.choice(["male", "female"], n),
        "age": age,
        "age_band": pd.cut(age, [17, 29, 44, 59, 74, 200],
                           labels=["18-29", "30-44", "45-59", "60-74", "75+"]).astype(str),
    })  # fmt: skip


def reference_pseudonym(cpr: str, key: bytes) -> str:
    digits = cpr.replace("-", "")
    mac = hmac.new(key, b"botrygt-eval/resp_id/v1:" + digits.encode(), hashlib.sha256)
    return mac.hexdigest()[:16]


def test_pseudonym_is_truncated_hmac_sha256_of_the_cpr_digits():
    cpr = pd.Series(["0101901234", "3112991234", "2902001111"])
    got = pseudonymise_cpr(cpr, KEY)
    assert list(got) == [reference_pseudonym(c, KEY) for c in cpr]
    assert all(re.fullmatch(RESP_ID_PATTERN, g) for g in got)
    # another key gives unrelated pseudonyms
    other = pseudonymise_cpr(cpr, bytes(32))
    assert not set(got) & set(other)


def test_same_person_same_pseudonym_across_years_and_spellings():
    frame = cpr_frame()
    s25 = draw_sample(frame, year=2025, n_total=1_500, seed=1, pseudonym_key=KEY)
    # next year: CPR written without hyphen, read as int (leading zero lost), other seed
    frame26 = frame.assign(cpr=frame["cpr"].str.replace("-", "").astype(np.int64))
    s26 = draw_sample(frame26, year=2026, n_total=1_500, seed=2, pseudonym_key=KEY)
    d25, d26 = s25.distribution, s26.distribution
    both = d25.merge(d26, on="cpr", suffixes=("_25", "_26"))
    assert len(both) > 300  # a panel: people drawn in both years
    assert (both["resp_id_25"] == both["resp_id_26"]).all()
    assert (d25["resp_id"] == [reference_pseudonym(c, KEY) for c in d25["cpr"]]).all()
    # the sample has no CPR column and no CPR-shaped value; the distribution list has them
    assert "cpr" not in s25.sample.columns
    assert list(s25.sample["resp_id"]) == list(d25["resp_id"])
    assert s25.sample["resp_id"].is_unique


def test_frame_without_cpr_is_unchanged_and_needs_no_key():
    frame = cpr_frame().drop(columns="cpr")
    frame.insert(0, "resp_id", [f"{i:016x}" for i in range(len(frame))])
    a = draw_sample(frame, year=2026, n_total=500, seed=3)
    assert a.distribution is None and a.sample["resp_id"].str.fullmatch("0{4}[0-9a-f]{12}").all()


def test_cpr_frame_without_key_bad_or_duplicate_cpr_is_refused():
    frame = cpr_frame(500)
    with pytest.raises(PersonalDataError, match="token_hex"):
        draw_sample(frame, year=2026, n_total=50, seed=1)
    bad = frame.copy()
    bad.loc[7, "cpr"] = "320190-1234"  # day 32
    with pytest.raises(InputFileError, match=r"row\(s\) 8\b") as exc:
        draw_sample(bad, year=2026, n_total=50, seed=1, pseudonym_key=KEY)
    assert "320190" not in str(exc.value)  # the message never repeats the value
    dup = frame.copy()
    dup.loc[9, "cpr"] = dup.loc[3, "cpr"].replace("-", "")
    with pytest.raises(InputFileError, match="share a CPR"):
        draw_sample(dup, year=2026, n_total=50, seed=1, pseudonym_key=KEY)


@pytest.fixture
def key_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("secret") / "pseudonym.key"
    path.write_text(KEY_HEX + "\n")
    path.chmod(0o600)
    return path


def test_load_key_from_file_or_environment(key_file):
    assert load_key(key_file) == KEY
    assert load_key(environ={KEY_ENV: KEY_HEX}) == KEY
    with pytest.raises(PersonalDataError, match=r"secrets\.token_hex\(32\)"):
        load_key(environ={})
    with pytest.raises(PersonalDataError, match="at least 32"):
        load_key(environ={KEY_ENV: "ab" * 16})
    with pytest.raises(PersonalDataError, match="not hexadecimal"):
        load_key(environ={KEY_ENV: "my secret password that is long enough to pass"})


def test_load_key_refuses_unsafe_places(key_file, tmp_path):
    with pytest.raises(PersonalDataError, match="inside the output folder"):
        load_key(key_file, forbidden=[key_file.parent])
    in_repo = tmp_path / "repo" / "keys" / "k.key"
    in_repo.parent.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    in_repo.write_text(KEY_HEX)
    in_repo.chmod(0o600)
    with pytest.raises(PersonalDataError, match="git repository"):
        load_key(in_repo)
    key_file.chmod(0o644)
    with pytest.raises(PersonalDataError, match="chmod 600"):
        load_key(key_file)


def test_sample_cli_writes_distribution_list_apart_and_no_cpr_elsewhere(tmp_path, key_file):
    frame = tmp_path / "in" / "frame_2026.csv"
    frame.parent.mkdir()
    cpr_frame().to_csv(frame, index=False)
    out = tmp_path / "out" / "sample_2026.csv"
    args = ["sample", "--frame", str(frame), "--out", str(out), "--allocation", "proportional",
            "--n-total", "800", "--report", str(tmp_path / "out" / "alloc.csv")]  # fmt: skip
    res = CliRunner().invoke(app, [*args, "--key-file", str(key_file)])
    assert res.exit_code == 0, res.output
    assert "FORTROLIGT" in res.output and "never share" in res.output
    dist = tmp_path / "out" / DISTRIBUTION_DIR / "udsendelsesliste_2026_FORTROLIG.csv"
    assert dist.stat().st_mode & 0o077 == 0  # only the user can read the CPR numbers
    d = pd.read_csv(dist, dtype=str)
    assert list(d.columns) == ["cpr", "resp_id", "year"] and len(d) == 800
    s = pd.read_csv(out, dtype={"resp_id": str})
    assert list(s["resp_id"]) == list(d["resp_id"])
    assert scan_tree(tmp_path / "out") == []  # CPR only inside the distribution folder
    assert len(scan_tree(tmp_path / "in")) == 1  # (the scan does find them in the frame)
    # the key from the environment gives the same pseudonyms
    again = tmp_path / "out2" / "sample_2026.csv"
    env = {KEY_ENV: KEY_HEX}
    res = CliRunner().invoke(app, ["sample", "--frame", str(frame), "--out", str(again),
                                   "--allocation", "proportional", "--n-total", "800"], env=env)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert again.read_bytes() == out.read_bytes()


def test_sample_cli_refuses_key_in_output_folder_and_missing_key(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    frame = tmp_path / "frame_2026.csv"
    cpr_frame(300).to_csv(frame, index=False)
    out = tmp_path / "out" / "sample_2026.csv"
    out.parent.mkdir()
    key = out.parent / "k.key"
    key.write_text(KEY_HEX)
    os.chmod(key, 0o600)
    base = ["sample", "--frame", str(frame), "--out", str(out), "--allocation", "equal",
            "--n-total", "30"]  # fmt: skip
    res = CliRunner().invoke(app, [*base, "--key-file", str(key)])
    assert isinstance(res.exception, PersonalDataError)
    assert "inside the output folder" in str(res.exception)
    res = CliRunner().invoke(app, base)
    assert isinstance(res.exception, PersonalDataError) and "token_hex" in str(res.exception)
    assert not out.exists()


def test_output_in_the_home_folder_still_allows_a_key_beneath_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    key = tmp_path / ".botrygt" / "pseudonym.key"
    key.parent.mkdir()
    key.write_text(KEY_HEX)
    key.chmod(0o600)
    assert load_key(key, forbidden=[tmp_path]) == KEY  # --out ~/sample.csv
    beside = tmp_path / "k.key"
    beside.write_text(KEY_HEX)
    beside.chmod(0o600)
    with pytest.raises(PersonalDataError, match="inside the output folder"):
        load_key(beside, forbidden=[tmp_path])
