"""GRIM-style consistency checks for rounded percentages.

A report prints ``p`` % of ``n`` respondents. With an integer count ``k`` the printed
number is ``round(100 k / n)``, so for a given ``n`` only some integers ``p`` are possible
(Brown & Heathers' GRIM test, applied to percentages). Two rules for a combined answer
category ("helt enig eller overvejende enig") are supported:

- ``count``: the combined count is rounded once, ``round(100 (k1 + k2) / n)``;
- ``sum_rounded``: the categories are rounded one by one and the rounded numbers added,
  ``round(100 k1 / n) + round(100 k2 / n)``, as hand-made charts often do.

Rounding is exact (integer arithmetic): ``half_up`` rounds x.5 up, as printed reports and
spreadsheets do; ``half_even`` is banker's rounding (Python's ``round``, numpy).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from botrygt_eval.errors import ConfigError, check_option

Rounding = Literal["half_up", "half_even"]
Rule = Literal["count", "sum_rounded"]
ROUNDINGS: tuple[str, ...] = ("half_up", "half_even")
RULES: tuple[str, ...] = ("count", "sum_rounded")
MAX_COMPONENTS = 4


def round_pct(k, n, rounding: Rounding = "half_up") -> np.ndarray:
    """``100 k / n`` rounded to an integer, exactly (``k``, ``n`` integers, broadcast)."""
    check_option("rounding", rounding, ROUNDINGS)
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    if np.any(n <= 0):
        raise ConfigError("a base n must be a positive number of respondents")
    q, r = np.divmod(100 * k, n)
    up = 2 * r > n
    tie = 2 * r == n
    if rounding == "half_up":
        return q + (up | tie)
    return q + (up | (tie & (q % 2 == 1)))


def split_totals(pct: int, n: int, components: int = 1, rounding: Rounding = "half_up") -> dict:
    """Every way to print ``pct`` from base ``n``: ``{total count: [component counts, ...]}``.

    ``components`` is the number of answer categories added by the ``sum_rounded`` rule
    (1 = the category is counted and rounded once). Splits are enumerated with numpy
    over all ``(n + 1) ** components`` count vectors.
    """
    if not 1 <= components <= MAX_COMPONENTS:
        raise ConfigError(
            f"components={components}: a combined category may add 1 to {MAX_COMPONENTS} answer categories"
        )
    shares = round_pct(np.arange(n + 1), n, rounding)
    grid = np.indices((n + 1,) * components).reshape(components, -1)
    totals = grid.sum(axis=0)
    printed = shares[grid].sum(axis=0)
    ok = (printed == pct) & (totals <= n)
    out: dict[int, list[tuple[int, ...]]] = {}
    for col in np.flatnonzero(ok):  # only the (few) matching vectors
        out.setdefault(int(totals[col]), []).append(tuple(int(v) for v in grid[:, col]))
    return dict(sorted(out.items()))


def possible(pct: int, n: int, components: int = 1, rounding: Rounding = "half_up") -> bool:
    """Can ``pct`` % be printed from ``n`` answers (``components`` rounded categories added)?"""
    if components == 1:
        return bool(np.any(round_pct(np.arange(n + 1), n, rounding) == pct))
    return bool(split_totals(pct, n, components, rounding))


def min_total(pct: int, n: int, components: int = 1, rounding: Rounding = "half_up") -> int | None:
    """Smallest number of respondents in the category that prints as ``pct`` (None: impossible)."""
    totals = split_totals(pct, n, components, rounding)
    return min(totals) if totals else None


def consistent_bases(
    pcts,
    components=None,
    *,
    n_min: int = 10,
    n_max: int = 40,
    rounding: Rounding = "half_up",
    joint: bool = False,
) -> list[int]:
    """Bases ``n`` in ``[n_min, n_max]`` from which every percentage in ``pcts`` can be printed.

    ``joint=True`` when the percentages are categories of one single-choice question:
    their respondents must then also fit into ``n`` together (sum of counts <= n).
    """
    pcts = [int(p) for p in pcts]
    components = [1] * len(pcts) if components is None else [int(c) for c in components]
    if len(components) != len(pcts):
        raise ConfigError("give one number of components per percentage")
    if n_min < 1 or n_max < n_min:
        raise ConfigError(f"the range of bases {n_min}..{n_max} is empty; use 1 <= n_min <= n_max")
    out = []
    for n in range(n_min, n_max + 1):
        mins = [min_total(p, n, c, rounding) for p, c in zip(pcts, components, strict=True)]
        if any(m is None for m in mins):
            continue
        if joint and sum(mins) > n:
            continue
        out.append(n)
    return out


def format_bases(bases) -> str:
    """``[19, 20, 21, 22, 26]`` as ``"19–22, 26"`` (empty: ``"ingen"``)."""
    bases = sorted(int(b) for b in bases)
    if not bases:
        return "ingen"
    runs, start, prev = [], bases[0], bases[0]
    for b in bases[1:] + [None]:
        if b is not None and b == prev + 1:
            prev = b
            continue
        runs.append(str(start) if start == prev else f"{start}–{prev}")
        if b is not None:
            start = prev = b
    return ", ".join(runs)
