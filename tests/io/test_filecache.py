"""io.filecache.parse_once: a file is parsed once per version, and again when it changes."""

from __future__ import annotations

import os

import pandas as pd

from botrygt_eval.io.filecache import parse_once


def _counting():
    calls = []

    def parse(path):
        calls.append(path)
        return path.read_text(encoding="utf-8")

    return parse, calls


def test_parsed_once_while_the_file_is_unchanged(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n", encoding="utf-8")
    parse, calls = _counting()
    assert parse_once(path, parse) == parse_once(tmp_path / "." / "a.csv", parse) == "x\n1\n"
    assert len(calls) == 1


def test_parsed_again_when_the_content_size_or_time_changes(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n", encoding="utf-8")
    parse, calls = _counting()
    parse_once(path, parse)
    path.write_text("x\n12\n", encoding="utf-8")  # new size
    assert parse_once(path, parse) == "x\n12\n"
    path.write_text("x\n13\n", encoding="utf-8")  # same size: the modification time tells
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert parse_once(path, parse) == "x\n13\n"
    assert len(calls) == 3


def test_each_parser_has_its_own_entry(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n", encoding="utf-8")
    first, calls1 = _counting()
    second, calls2 = _counting()
    parse_once(path, first)
    parse_once(path, second)
    assert len(calls1) == len(calls2) == 1


def test_read_inputs_hands_out_copies(tmp_path):
    from botrygt_eval.reports.inputs import read_inputs

    pd.DataFrame({"kommune_kode": [101, 147], "n": [1, 2]}).to_csv(tmp_path / "t.csv", index=False)
    first = read_inputs(tmp_path)["t"]
    first.loc[0, "n"] = 99
    first["new"] = 1
    again = read_inputs(tmp_path)["t"]
    assert again["n"].tolist() == [1, 2] and "new" not in again
