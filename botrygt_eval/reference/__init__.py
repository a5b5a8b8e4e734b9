"""The 98 Danish municipalities (kommuner) with region and police district.

StatBank writes a municipality either as its code (``101``) or its name
(``"Lyngby-Taarbæk"``); :func:`to_kommune_kode` accepts both.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import pandas as pd

from botrygt_eval.errors import UnknownMunicipalityError

#: StatBank code for Christiansø, which is not a municipality.
CHRISTIANSOE_CODE = 411


@lru_cache(maxsize=1)
def _kommuner() -> pd.DataFrame:
    with resources.files(__package__).joinpath("kommuner.csv").open(encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype={"kommune_kode": "int64", "region_kode": "int64"})
    return df


def kommuner() -> pd.DataFrame:
    """Return a copy of the municipality table.

    Columns: ``kommune_kode, kommune, region_kode, region, politikreds``.
    """
    return _kommuner().copy()


def _normalise(name: str) -> str:
    text = unicodedata.normalize("NFC", str(name)).strip().casefold()
    for suffix in (" kommune", " municipality"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return " ".join(text.replace("–", "-").split())


@lru_cache(maxsize=1)
def _name_index() -> dict[str, int]:
    df = _kommuner()
    index = {_normalise(n): int(c) for n, c in zip(df["kommune"], df["kommune_kode"], strict=True)}
    # Spellings seen in StatBank exports and elsewhere.
    aliases = {
        "copenhagen": 101,
        "aabenraa": 580,
        "aarhus": 751,
        "aalborg": 851,
        "brønderslev-dronninglund": 810,
        "nordfyn": 480,
    }
    for alias, code in aliases.items():
        if code in set(df["kommune_kode"]):
            index.setdefault(alias, code)
    return index


@lru_cache(maxsize=1)
def _by_code() -> dict[int, dict[str, str]]:
    """Each municipality's row by code (reports look names up hundreds of times)."""
    return {int(r["kommune_kode"]): r for r in _kommuner().astype({"kommune_kode": int})
            .to_dict("records")}  # fmt: skip


def kommune_codes() -> list[int]:
    """All 98 municipality codes, ascending."""
    return sorted(_by_code())


def is_kommune_code(code: object) -> bool:
    try:
        return int(code) in _by_code()
    except (TypeError, ValueError):
        return False


def to_kommune_kode(value: object) -> int:
    """Map a code (``101``, ``"0101"``), a name (``"København"``) or both (``"101 København"``).

    Raises :class:`UnknownMunicipalityError` naming the value when it is neither.
    """
    text = str(value).strip()
    code_and_name = _CODE_AND_NAME.match(text)
    if code_and_name:  # StatBank's CodeAndValue form: "101 København"
        return _code_and_name(code_and_name.group(1), code_and_name.group(2))
    if text.isdigit():
        code = int(text)
        if is_kommune_code(code):
            return code
        raise UnknownMunicipalityError(
            f"{text!r} is not one of the 98 municipality codes (e.g. 101 København); "
            "check the OMRÅDE column or map the code with botrygt_eval.reference.kommuner()"
        )
    code = _name_index().get(_normalise(text))
    if code is None:
        raise UnknownMunicipalityError(
            f"{text!r} is not the name of a Danish municipality; "
            "use the names or codes in botrygt_eval.reference.kommuner()"
        )
    return code


_CODE_AND_NAME = re.compile(r"^(\d{1,4})\s+(\D.*)$")


def _code_and_name(code_text: str, name: str) -> int:
    """``101 København``: the code, after checking that the name is that municipality's."""
    code = to_kommune_kode(code_text)
    named = _name_index().get(_normalise(name))
    if named is not None and named != code:
        raise UnknownMunicipalityError(
            f"'{code_text} {name}': code {code_text} is not {name!r} (that is {named}); "
            "correct the code or the name (see botrygt_eval.reference.kommuner())"
        )
    return code


def kommune_name(code: object) -> str:
    """The Danish name of a municipality code."""
    return str(_by_code()[to_kommune_kode(code)]["kommune"])


def politikreds_of(code: object) -> str:
    """The police district whose area contains the municipality."""
    return str(_by_code()[to_kommune_kode(code)]["politikreds"])
