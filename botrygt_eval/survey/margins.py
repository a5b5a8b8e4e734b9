"""Population margins (long ``variable,level,total``) and their match to the data.

Levels are compared by their string form, so ``kommune_kode`` 101 in the data
matches ``"101"`` in a margins file. Every inconsistency raises ``MarginsError``
naming the variable and level, because a silent mismatch gives wrong weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from botrygt_eval.errors import InputFileError, MarginsError

MARGIN_COLUMNS = ("variable", "level", "total")
#: relative tolerance for "the variables sum to the same population"
TOTAL_RTOL = 1e-8


def level_str(value: object) -> str:
    """String form of a data value or margin level (integral floats lose their ``.0``)."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value).strip()


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-6 else f"{x:,.6g}"


@dataclass(frozen=True)
class Margins:
    """Categorical population margins: for each variable its levels and totals."""

    variables: tuple[str, ...]
    levels: dict[str, tuple[str, ...]]
    totals: dict[str, np.ndarray]

    @property
    def population(self) -> float:
        """The common population size (every variable sums to it)."""
        return float(self.totals[self.variables[0]].sum())

    def to_frame(self) -> pd.DataFrame:
        """Back to the long ``variable, level, total`` form."""
        return pd.DataFrame(
            [
                (v, lev, float(t))
                for v in self.variables
                for lev, t in zip(self.levels[v], self.totals[v], strict=True)
            ],
            columns=list(MARGIN_COLUMNS),
        )

    def scaled(self, k: float) -> Margins:
        """The same margins for a population k times as large."""
        return Margins(self.variables, self.levels, {v: t * k for v, t in self.totals.items()})


def parse_margins(margins: pd.DataFrame, variables: list[str] | None = None) -> Margins:
    """Check a long margins frame and return :class:`Margins`.

    Refuses missing columns, duplicated levels, negative or missing totals, and
    variables whose totals differ (they must describe the same population).
    ``variables`` restricts (and orders) the variables used.
    """
    missing = [c for c in MARGIN_COLUMNS if c not in margins.columns]
    if missing:
        raise MarginsError(
            f"margins lack the column(s) {missing}; a margins file is long with the columns "
            "variable,level,total"
        )
    m = margins.loc[:, list(MARGIN_COLUMNS)].copy()
    if m["variable"].isna().any() or m["level"].isna().any():
        raise MarginsError(
            "margins have rows with an empty variable or level; every row needs "
            "variable, level and total"
        )
    m["variable"] = m["variable"].astype(str).str.strip()
    m["level"] = [level_str(v) for v in m["level"]]
    total = pd.to_numeric(m["total"], errors="coerce")
    bad = m.loc[total.isna() | ~np.isfinite(total) | (total < 0)]
    if len(bad):
        r = bad.iloc[0]
        raise MarginsError(
            f"margin total for {r['variable']}={r['level']!r} is {r['total']!r}; totals must be "
            "finite numbers >= 0"
        )
    m["total"] = total.astype(float)
    dup = m.duplicated(["variable", "level"], keep=False)
    if dup.any():
        r = m.loc[dup].iloc[0]
        raise MarginsError(
            f"margins list {r['variable']}={r['level']!r} more than once; give each level once"
        )
    present = list(dict.fromkeys(m["variable"]))
    if variables is None:
        variables = present
    absent = [v for v in variables if v not in present]
    if absent:
        raise MarginsError(
            f"no margins for {absent}; the margins file has {present}: add them or drop the "
            "variable from the calibration"
        )
    if not variables:
        raise MarginsError("the margins are empty; give at least one variable")
    levels, totals = {}, {}
    for v in variables:
        rows = m.loc[m["variable"] == v]
        levels[v] = tuple(rows["level"])
        totals[v] = rows["total"].to_numpy(dtype=float)
    sums = {v: totals[v].sum() for v in variables}
    first = variables[0]
    for v in variables[1:]:
        if abs(sums[v] - sums[first]) > TOTAL_RTOL * max(abs(sums[first]), 1.0):
            raise MarginsError(
                f"margins for {v!r} sum to {_fmt(sums[v])} but {first!r} sums to "
                f"{_fmt(sums[first])}: margins must describe the same population"
            )
    return Margins(tuple(variables), levels, totals)


def read_margins(path) -> pd.DataFrame:
    """Read a margins CSV with ``level`` as text (so ``101`` stays ``"101"``)."""
    try:
        return pd.read_csv(path, dtype={"variable": str, "level": str})
    except FileNotFoundError as exc:
        raise InputFileError(f"margins file {path} does not exist; check the path") from exc


def encode(data: pd.DataFrame, margins: Margins) -> dict[str, np.ndarray]:
    """Integer code per row for each margin variable (index into ``margins.levels[v]``).

    Raises ``MarginsError`` for a missing column, missing values, data levels absent
    from the margins and margin levels (with a positive total) with no rows.
    Integer columns use an O(n) lookup table; other columns go through ``pd.factorize``.
    """
    codes = {}
    for v in margins.variables:
        if v not in data.columns:
            raise MarginsError(
                f"the data have no column {v!r} for the margin {v!r}; the columns are "
                f"{list(data.columns)[:20]}"
            )
        col = data[v]
        fcodes, uniques = _factorize(col)
        if (fcodes < 0).any():
            raise MarginsError(
                f"{int((fcodes < 0).sum()):,} rows have no value of {v!r}; every row must "
                "fall in a margin level (impute or drop them before calibrating)"
            )
        index = {lev: i for i, lev in enumerate(margins.levels[v])}
        u_str = [level_str(u) for u in uniques]
        unknown = [u for u in u_str if u not in index]
        if unknown:
            raise MarginsError(
                f"{v!r} has level(s) {unknown[:10]} in the data but not in the margins; add "
                "them to the margins file or recode the data"
            )
        lookup = np.array([index[u] for u in u_str], dtype=np.int64)
        c = lookup[fcodes]
        seen = np.bincount(c, minlength=len(index)) > 0
        empty = [
            lev
            for lev, s, t in zip(margins.levels[v], seen, margins.totals[v], strict=True)
            if not s and t > 0
        ]
        if empty:
            raise MarginsError(
                f"{v!r} level(s) {empty[:10]} have population totals but no respondents (empty "
                "cell); collapse those levels with a neighbouring one in both the data and the "
                "margins"
            )
        zero = [
            lev
            for lev, s_, t in zip(margins.levels[v], seen, margins.totals[v], strict=True)
            if s_ and t == 0
        ]
        if zero:
            raise MarginsError(
                f"{v!r} level(s) {zero[:10]} have respondents but a population total of 0; "
                "fix the margins or drop those respondents"
            )
        codes[v] = c
    return codes


def _factorize(col: pd.Series) -> tuple[np.ndarray, list]:
    """Codes (-1 for missing) and unique values; fast path for integer columns."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        raw = col.cat.codes.to_numpy()
        k = len(col.cat.categories)
        used = np.flatnonzero(np.bincount(raw.astype(np.int64) + 1, minlength=k + 1)[1:])
        remap = np.full(k + 1, -1, dtype=np.int64)  # remap[-1] = -1 keeps missing missing
        remap[used] = np.arange(len(used))
        return remap[raw], list(col.cat.categories[used])
    arr = col.to_numpy()
    if arr.dtype.kind in "iu" and len(arr):
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo < 10_000_000:
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[arr - lo] = True
            values = np.flatnonzero(present)
            lookup = np.cumsum(present) - 1
            return lookup[arr - lo], list(values + lo)
    codes, uniques = pd.factorize(col, sort=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def dummy_matrix(codes: dict[str, np.ndarray], margins: Margins, *, full: bool) -> np.ndarray:
    """Model matrix of the margin variables.

    ``full=False``: intercept plus the dummies of every level but the first of each
    variable (full rank; R's ``~a + b`` treatment contrasts). ``full=True``: all
    dummies of every variable (rank-deficient when there are several variables).
    """
    n = len(next(iter(codes.values())))
    blocks = [] if full else [np.ones((n, 1))]
    for v in margins.variables:
        k = len(margins.levels[v])
        d = np.zeros((n, k))
        d[np.arange(n), codes[v]] = 1.0
        blocks.append(d if full else d[:, 1:])
    return np.hstack(blocks)


def dummy_targets(margins: Margins) -> tuple[np.ndarray, list[str]]:
    """Totals matching ``dummy_matrix(..., full=False)`` and their column names."""
    t = [margins.population]
    names = ["(Intercept)"]
    for v in margins.variables:
        t.extend(margins.totals[v][1:])
        names.extend(f"{v}={lev}" for lev in margins.levels[v][1:])
    return np.asarray(t, dtype=float), names
