"""Corruption suite: every physical line of a broken input is loaded, quarantined or set aside.

Each input table (StatBank, registers, survey, local monitoring, media) is taken
from ``tests/fixtures/corruption/`` (slices of a simulated workspace, see
``make_fixtures.py``) and broken one way at a time. For every case:

* the load log adds up: loaded + quarantined + set aside == physical data lines,
  and ``LoadResult.lines`` counts those lines independently of the three parts;
* the broken line(s) end where they should, with a true reason and their real
  1-based line number;
* every line the corruption did not touch loads with exactly the values it has
  in the clean file (or stays quarantined / set aside for the same reason).

A hypothesis test applies random mutations to random lines with the same checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botrygt_eval.io import monitoring, registers, responses, statbank
from botrygt_eval.io.media import load_articles

FIX = Path(__file__).parents[1] / "fixtures" / "corruption"


@dataclasses.dataclass(frozen=True)
class Spec:
    """One input table: its clean fixture, the file name the loader expects, the loader."""

    fixture: str
    name: str
    loader: Callable
    #: 0-based field of a count column (thousands separators) and its name in ``.data``
    count_field: int | None = None
    count_column: str | None = None
    #: reason given to both copies of a duplicated line (None: both load)
    duplicate: str | None = "duplicated key"


def _responses(path, quarantine_dir=None):
    return responses.load_responses(path, schema=responses.ITEM_BANK, quarantine_dir=quarantine_dir)


SPECS = {
    "STRAF11": Spec("statbank__STRAF11.csv", "STRAF11.csv", statbank.load_straf11, 3, "burglaries"),
    "STRAF10": Spec("statbank__STRAF10.csv", "STRAF10.csv", statbank.load_straf10, 3, "burglaries"),
    "FOLK1A": Spec("statbank__FOLK1A.csv", "FOLK1A.csv", statbank.load_folk1a, 5, "population"),
    "FAM55N": Spec("statbank__FAM55N.csv", "FAM55N.csv", statbank.load_households, 2, "households"),
    "partnerships": Spec(
        "registers__partnerships.csv",
        "partnerships.csv",
        registers.load_partnerships,
        5,
        "nabohjaelp_target",
        duplicate="overlaps another partnership",
    ),
    "activities": Spec(
        "registers__activities.csv", "activities.csv", registers.load_activities, 5, "reach"
    ),
    "nabohjaelp": Spec(
        "registers__nabohjaelp.csv", "nabohjaelp.csv", registers.load_nabohjaelp, 2, "members"
    ),
    "sample": Spec(
        "survey__sample_2025.csv",
        "sample_2025.csv",
        responses.load_sample,
        8,
        "stratum_population",
    ),
    "responses": Spec("survey__responses_2025.csv", "responses_2025.csv", _responses),
    "margins": Spec(
        "survey__margins_2025.csv", "margins_2025.csv", responses.load_margins, 2, "total"
    ),
    "geo_burglaries": Spec(
        "lokal__indbrud.csv", "indbrud.csv", monitoring.load_geo_burglaries, duplicate=None
    ),
    "cell_households": Spec(
        "lokal__husstande.csv", "husstande.csv", monitoring.load_cell_households, 2, "households"
    ),
    "cell_nabohjaelp": Spec(
        "lokal__nabohjaelp_celler.csv",
        "nabohjaelp_celler.csv",
        monitoring.load_cell_nabohjaelp,
        2,
        "nabohjaelpere",
    ),
    "articles": Spec("media__articles.csv", "articles.csv", load_articles),
}


@dataclasses.dataclass
class Clean:
    """A fixture split into lines, and what its clean load did with each line."""

    bom: bool
    lines: list[str]  # index 0 is the header; line number = index + 1
    sep: str
    result: object
    outcome: dict[int, tuple[str, str]]
    row_of: dict[int, int]


def _read(spec: Spec) -> tuple[bool, list[str]]:
    raw = (FIX / spec.fixture).read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw[3 if bom else 0 :].decode("utf-8")
    return bom, text.split("\n")[:-1]


def _write(path: Path, lines: list[str], bom: bool, end: str = "\n", final: bool = True) -> None:
    text = end.join(lines) + (end if final else "")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogateescape"))


def _outcome(result, n_lines: int) -> tuple[dict[int, tuple[str, str]], dict[int, int]]:
    """Each physical data line -> (loaded|quarantined|set aside, reason), and line -> data row."""
    quarantined = dict(
        zip(result.quarantined["source_row"], result.quarantined["reason"], strict=True)
    )
    dropped = result.dropped
    aside = (
        {} if dropped is None else dict(zip(dropped["source_row"], dropped["reason"], strict=True))
    )
    assert len(quarantined) == result.n_quarantined, "one quarantine row per physical line"
    assert len(aside) == result.n_dropped, "one set-aside row per physical line"
    assert not set(quarantined) & set(aside)
    numbers = set(range(2, n_lines + 1))
    assert set(quarantined) | set(aside) <= numbers, "quarantine rows carry real line numbers"
    loaded = sorted(numbers - set(quarantined) - set(aside))
    assert len(loaded) == len(result.data)
    assert result.lines == n_lines - 1
    assert len(result.data) + result.n_quarantined + result.n_dropped == result.lines
    assert result.adds_up
    out = {n: ("loaded", "") for n in loaded}
    out |= {n: ("quarantined", r) for n, r in quarantined.items()}
    out |= {n: ("set aside", r) for n, r in aside.items()}
    return out, {n: i for i, n in enumerate(loaded)}


_CLEAN: dict[str, Clean] = {}


def clean(key: str, tmp_path_factory) -> Clean:
    if key not in _CLEAN:
        spec = SPECS[key]
        bom, lines = _read(spec)
        path = tmp_path_factory.mktemp("clean") / spec.name
        _write(path, lines, bom)
        result = spec.loader(path)
        outcome, row_of = _outcome(result, len(lines))
        sep = ";" if lines[0].count(";") > lines[0].count(",") else ","
        _CLEAN[key] = Clean(bom, lines, sep, result, outcome, row_of)
    return _CLEAN[key]


@dataclasses.dataclass
class Case:
    """A broken file: its lines, where each clean line went, and what the broken ones must do."""

    lines: list[str]
    moved: dict[int, int]  # clean line number -> line number in the broken file (untouched)
    expect: dict[int, tuple[str, str]]  # broken line number -> (outcome, reason substring)
    bom: bool | None = None
    end: str = "\n"
    final: bool = True
    values: dict[int, dict] = dataclasses.field(default_factory=dict)  # line -> column values


def _fields(line: str, sep: str) -> list[str]:
    return line.split(sep)


def _untouched(lines: list[str], skip: set[int], shift_after: int | None = None, by: int = 0):
    moved = {}
    for n in range(2, len(lines) + 1):
        if n in skip:
            continue
        moved[n] = n + by if shift_after is not None and n > shift_after else n
    return moved


# --- the kinds of corruption: (clean, target line number, spec) -> Case --------------------------


def stray_quote_opened(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    lines[t - 1] = '"' + lines[t - 1]
    return Case(lines, _untouched(lines, {t}), {t: ("quarantined", "unbalanced quote")})


def quote_pair_across_lines(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    lines[t - 1] = '"' + lines[t - 1]
    lines[t + 2] = lines[t + 2] + '"'
    expect = {t: ("quarantined", "unbalanced quote"), t + 3: ("quarantined", "unbalanced quote")}
    return Case(lines, _untouched(lines, {t, t + 3}), expect)


def unclosed_quote_at_eof(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    last = len(lines)
    fields = _fields(lines[-1], c.sep)
    fields[1] = '"' + fields[1]
    lines[-1] = c.sep.join(fields)
    return Case(lines, _untouched(lines, {last}), {last: ("quarantined", "quote")})


def quoted_text_after_quote(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    fields = _fields(lines[t - 1], c.sep)
    fields[1] = '"x"' + fields[1]
    lines[t - 1] = c.sep.join(fields)
    return Case(lines, _untouched(lines, {t}), {t: ("quarantined", "malformed quoting")})


def every_field_quoted(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    lines[t - 1] = c.sep.join(f'"{f}"' for f in _fields(lines[t - 1], c.sep))
    return Case(lines, _untouched(lines, set()), {})


def too_few_fields(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    lines[t - 1] = c.sep.join(_fields(lines[t - 1], c.sep)[:-1])
    return Case(lines, _untouched(lines, {t}), {t: ("quarantined", "too few fields")})


def too_many_fields(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    lines[t - 1] = lines[t - 1] + c.sep + "x"
    return Case(lines, _untouched(lines, {t}), {t: ("quarantined", "too many fields")})


def trailing_separator(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    lines[t - 1] = lines[t - 1] + c.sep
    return Case(lines, _untouched(lines, set()), {})


def repeated_header(c: Clean, t: int, spec: Spec) -> Case:
    lines = [*c.lines[:t], c.lines[0], *c.lines[t:]]
    moved = _untouched(c.lines, set(), shift_after=t, by=1)
    return Case(lines, moved, {t + 1: ("quarantined", "repeated header")})


def nul_byte(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    lines[t - 1] = lines[t - 1][:3] + "\x00" + lines[t - 1][3:]
    return Case(lines, _untouched(lines, {t}), {t: ("quarantined", "NUL byte")})


def truncated_last_line(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    last = len(lines)
    first_sep = lines[-1].index(c.sep)
    lines[-1] = lines[-1][: first_sep + 2]
    case = Case(lines, _untouched(lines, {last}), {last: ("quarantined", "truncated last line")})
    return dataclasses.replace(case, final=False)


def blank_lines(c: Clean, t: int, spec: Spec) -> Case:
    width = c.lines[0].count(c.sep)
    lines = [*c.lines[:t], "", "   ", c.sep * width, *c.lines[t:]]
    moved = _untouched(c.lines, set(), shift_after=t, by=3)
    expect = {n: ("set aside", "blank line") for n in (t + 1, t + 2, t + 3)}
    return Case(lines, moved, expect)


def crlf_mix_and_padding(c: Clean, t: int, spec: Spec) -> Case:
    lines = [line + "\r" if i % 2 else line for i, line in enumerate(c.lines)]
    lines[t - 1] = c.sep.join(f" {f}  " for f in _fields(c.lines[t - 1], c.sep))
    return Case(lines, _untouched(lines, set()), {})


def lone_cr_line_ends(c: Clean, t: int, spec: Spec) -> Case:
    return Case(list(c.lines), _untouched(c.lines, set()), {}, end="\r")


def bom_in_the_middle(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    lines[t - 1] = "\ufeff" + lines[t - 1]
    return Case(lines, _untouched(lines, set()), {})


def wrong_encoding_in_one_line(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    # 'ø' as Windows-1252 (0xf8) in a UTF-8 file (declared by its BOM)
    lines[t - 1] = lines[t - 1].replace(c.sep, "\udcf8" + c.sep, 1)
    return Case(lines, _untouched(lines, {t}), {t: ("quarantined", "byte 0xf8")}, bom=True)


def duplicated_line(c: Clean, t: int, spec: Spec) -> Case:
    lines = [*c.lines, c.lines[t - 1]]
    copy = len(lines)
    if spec.duplicate is None:
        return Case(lines, _untouched(c.lines, set()), {copy: ("loaded", "")})
    expect = {t: ("quarantined", spec.duplicate), copy: ("quarantined", spec.duplicate)}
    return Case(lines, _untouched(c.lines, {t}), expect)


def thousands_separator(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    fields = _fields(lines[t - 1], c.sep)
    fields[spec.count_field] = "12.345"
    lines[t - 1] = c.sep.join(fields)
    values = {t: {spec.count_column: 12345}}
    return Case(lines, _untouched(lines, {t}), {t: ("loaded", "")}, values=values)


def grouped_millions(c: Clean, t: int, spec: Spec) -> Case:
    lines = list(c.lines)
    fields = _fields(lines[t - 1], c.sep)
    fields[spec.count_field] = "1.234.567"
    lines[t - 1] = c.sep.join(fields)
    values = {t: {spec.count_column: 1234567}}
    return Case(lines, _untouched(lines, {t}), {t: ("loaded", "")}, values=values)


KINDS: dict[str, Callable[[Clean, int, Spec], Case]] = {
    f.__name__: f
    for f in (
        stray_quote_opened,
        quote_pair_across_lines,
        unclosed_quote_at_eof,
        quoted_text_after_quote,
        every_field_quoted,
        too_few_fields,
        too_many_fields,
        trailing_separator,
        repeated_header,
        nul_byte,
        truncated_last_line,
        blank_lines,
        crlf_mix_and_padding,
        lone_cr_line_ends,
        bom_in_the_middle,
        wrong_encoding_in_one_line,
        duplicated_line,
        thousands_separator,
        grouped_millions,
    )
}
COUNT_KINDS = {"thousands_separator", "grouped_millions"}


def _applies(key: str, kind: str) -> bool:
    return kind not in COUNT_KINDS or SPECS[key].count_field is not None


CASES = [(k, kind) for k in SPECS for kind in KINDS if _applies(k, kind)]


def _target(c: Clean) -> int:
    """The third loaded line that is followed by three more lines."""
    loaded = [n for n, (what, _) in sorted(c.outcome.items()) if what == "loaded"]
    return next(n for n in loaded[2:] if n + 3 < len(c.lines))


def check(case: Case, c: Clean, spec: Spec, folder: Path):
    path = folder / spec.name
    bom = c.bom if case.bom is None else case.bom
    _write(path, case.lines, bom, case.end, case.final)
    result = spec.loader(path, quarantine_dir=folder / "q")
    outcome, row_of = _outcome(result, len(case.lines))
    for line, (what, why) in case.expect.items():
        got, reason = outcome[line]
        assert got == what, f"line {line}: {got} ({reason}), expected {what} ({why})"
        assert why in reason, f"line {line}: reason {reason!r} should say {why!r}"
    before, after = [], []
    for old, new in case.moved.items():
        was, why = c.outcome[old]
        now, reason = outcome[new]
        assert now == was, f"untouched line {old} (now {new}) was {was}, is {now} ({reason})"
        if was == "loaded":
            before.append(c.row_of[old])
            after.append(row_of[new])
        else:
            assert reason == why
    pd.testing.assert_frame_equal(
        c.result.data.iloc[before].reset_index(drop=True),
        result.data.iloc[after].reset_index(drop=True),
    )
    for line, values in case.values.items():
        row = result.data.iloc[row_of[line]]
        for col, value in values.items():
            assert row[col] == value, f"line {line}: {col} = {row[col]!r}, expected {value!r}"
    if result.n_quarantined:  # the quarantine file holds one row per physical line
        written = pd.read_csv(folder / "q" / f"{path.stem}.quarantine.csv")
        assert sorted(written["source_row"]) == sorted(result.quarantined["source_row"])
    return result


@pytest.mark.parametrize(("key", "kind"), CASES, ids=[f"{k}-{kind}" for k, kind in CASES])
def test_corruption_is_accounted_for_line_by_line(key, kind, tmp_path, tmp_path_factory):
    c = clean(key, tmp_path_factory)
    spec = SPECS[key]
    case = KINDS[kind](c, _target(c), spec)
    check(case, c, spec, tmp_path)


def test_every_table_has_at_least_15_kinds():
    for key in SPECS:
        assert sum(_applies(key, kind) for kind in KINDS) >= 15, key


@pytest.mark.parametrize("key", list(SPECS))
def test_header_only_file_loads_nothing_and_says_so(key, tmp_path, tmp_path_factory):
    c = clean(key, tmp_path_factory)
    spec = SPECS[key]
    path = tmp_path / spec.name
    _write(path, c.lines[:1], c.bom)
    result = spec.loader(path)
    assert len(result.data) == 0 and result.lines == 0
    assert "only the header" in result.message()


# --- random mutations (hypothesis) ----------------------------------------------------------

MUTATIONS = [
    k
    for k in KINDS
    if k
    not in ("duplicated_line", "lone_cr_line_ends", "truncated_last_line", "unclosed_quote_at_eof")
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key=st.sampled_from(list(SPECS)),
    kind=st.sampled_from(MUTATIONS),
    offset=st.integers(min_value=0, max_value=20),
)
def test_random_mutation_of_a_random_line(key, kind, offset, tmp_path_factory):
    if not _applies(key, kind):
        return
    c = clean(key, tmp_path_factory)
    spec = SPECS[key]
    loaded = [n for n, (what, _) in sorted(c.outcome.items()) if what == "loaded"]
    candidates = [n for n in loaded if n + 3 < len(c.lines)]
    target = candidates[offset % len(candidates)]
    check(KINDS[kind](c, target, spec), c, spec, tmp_path_factory.mktemp("m"))
