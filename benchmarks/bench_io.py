"""Data layer: loading full-size StatBank and survey files with validation and quarantine.

There is no peer library that reads StatBank exports; the peers are the floor
(``pandas.read_csv`` alone, no checks) and the obvious hand-written loader
(read, map names and labels with ``Series.apply`` row by row, validate with the
same pandera schema). Ours parses each distinct value once and maps back.
"""

from __future__ import annotations

import re
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from harness import Case

from botrygt_eval.io import schemas
from botrygt_eval.io.responses import load_responses
from botrygt_eval.io.statbank import load_folk1a
from botrygt_eval.reference import kommuner, to_kommune_kode


@cache
def _tmp() -> Path:
    """One scratch folder per run, made when a case first needs it (not at import)."""
    return Path(tempfile.mkdtemp(prefix="bench_io_"))


def _folk1a() -> Path:
    path = _tmp() / "FOLK1A.csv"
    if not path.exists():
        names = kommuner()["kommune"].tolist()
        grid = pd.MultiIndex.from_product(
            [names, ["Mænd", "Kvinder"], [f"{a} år" for a in range(106)], ["I alt"],
             [f"{y}K1" for y in range(2010, 2026)]],
            names=["OMRÅDE", "KØN", "ALDER", "CIVILSTAND", "TID"],
        ).to_frame(index=False)  # fmt: skip
        grid["INDHOLD"] = np.random.default_rng(0).integers(0, 900, len(grid))
        grid.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    return path


def _naive_folk1a(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str)
    tid = raw["TID"].apply(lambda s: re.match(r"(\d{4})K(\d)", s).groups())
    tidy = pd.DataFrame(
        {
            "kommune_kode": raw["OMRÅDE"].apply(to_kommune_kode),
            "year": tid.str[0].astype(int),
            "quarter": tid.str[1].astype(int),
            "sex": raw["KØN"].apply(lambda s: "male" if s == "Mænd" else "female"),
            "age": raw["ALDER"].apply(lambda s: int(s.split()[0])),
            "population": pd.to_numeric(raw["INDHOLD"]).astype("Int64"),
        }
    )
    return schemas.POPULATION.validate(tidy, lazy=True)


def _responses() -> Path:
    path = _tmp() / "responses_2025.csv"
    if not path.exists():
        rng = np.random.default_rng(1)
        n = 200_000
        raw = rng.integers(0, 256, size=(n, 8), dtype=np.uint8)
        frame = pd.DataFrame({"resp_id": [bytes(r).hex() for r in raw], "year": 2025})
        for i in range(23):
            codes = rng.integers(1, 5, n).astype(float)
            codes[rng.random(n) < 0.1] = np.nan
            frame[f"item_{i:02d}"] = pd.array(codes).astype("Int64")
        frame.to_csv(path, index=False)
    return path


CASES = [
    Case(
        name="FOLK1A: 98 kommuner x 2 sexes x 106 ages x 16 years (332,416 rows)",
        setup=_folk1a,
        ours=load_folk1a,
        peers={
            "pandas.read_csv (parse only, no checks)": lambda p: pd.read_csv(
                p, sep=";", encoding="utf-8-sig"
            ),
            "read_csv + row-wise apply + pandera": _naive_folk1a,
        },
        repeat=3,
        note="ours: decode check, totals set aside, codes/names mapped per distinct value, "
        "quarantine, pandera validation",
    ),
    Case(
        name="Survey responses: 200,000 rows x 23 items (CSV)",
        setup=_responses,
        ours=load_responses,
        peers={"pandas.read_csv (parse only, no checks)": pd.read_csv},
        repeat=3,
        note="ours: integer-code coercion per item, unique 16-hex ids, year check, quarantine",
    ),
]
