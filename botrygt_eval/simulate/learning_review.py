"""A synthetic project-leader response file that reproduces the review's published figures.

Each base group (a multiple-choice question, or one item) gets a base ``n`` that the
GRIM check finds consistent with all its published percentages (the one closest to
23, where most numbers fit), so some items have item nonresponse. Within the base,
each published category gets the smallest count that prints as the published
integer; the other answers go to the item's remaining codes. Multiple-choice options
are spread so that nobody selects more than the question allows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval import SIMULATED_MARKER
from botrygt_eval.errors import ConfigError
from botrygt_eval.learning_review.consistency import group_bases, row_components
from botrygt_eval.learning_review.grim import Rounding, min_total, split_totals
from botrygt_eval.learning_review.spec import ReviewSpec, load_spec
from botrygt_eval.simulate.responses import _hex_ids

PREFERRED_BASE = 23
DONT_KNOW = 98


def choose_bases(
    spec: ReviewSpec,
    n_respondents: int,
    *,
    preferred: int = PREFERRED_BASE,
    n_min: int = 10,
    rounding: Rounding = "half_up",
) -> dict[str, int]:
    """Base per base group: the consistent base closest to ``preferred`` (ties: the larger)."""
    bases = group_bases(spec.rows, n_min=n_min, n_max=n_respondents, rounding=rounding)
    out = {}
    for group, ok in bases.items():
        if not ok:
            raise ConfigError(
                f"no base between {n_min} and {n_respondents} fits every published number of "
                f"{group!r}; raise n_respondents (see `botrygt-eval figures grim`)"
            )
        out[group] = min(ok, key=lambda n: (abs(n - preferred), -n))
    return out


def _multiple_choice(
    rng: np.random.Generator, counts: list[int], n: int, max_choices: int | None
) -> np.ndarray:
    """(n, options) 0/1 selections with the given column totals, at most ``max_choices`` per row."""
    if max_choices is not None and sum(counts) > max_choices * n:
        raise ConfigError(
            f"{sum(counts)} selections cannot be spread over {n} respondents "
            f"with at most {max_choices} each"
        )
    chosen = np.zeros((n, len(counts)), dtype=np.int8)
    for j in np.argsort(counts, kind="stable")[::-1]:  # most chosen option first
        load = chosen.sum(axis=1) + rng.random(n)  # fewest selections so far, random ties
        chosen[np.argsort(load, kind="stable")[: counts[j]], j] = 1
    return chosen


def _single_choice(
    rng: np.random.Generator,
    rows: pd.DataFrame,
    components: pd.Series,
    n: int,
    codes: tuple[int, ...],
    rounding: Rounding,
) -> np.ndarray:
    """``n`` answer codes whose published categories print as published."""
    answers: list[int] = []
    counted: set[int] = set()
    for idx, row in rows.iterrows():
        comp = int(components[idx])
        splits = split_totals(int(row["published_pct"]), n, comp, rounding)
        if not splits:
            raise ConfigError(f"{row['published_pct']} % cannot be printed from {n} answers")
        parts = splits[min(splits)][0]
        if comp == 1 and len(row["codes"]) > 1:  # one rounded count, spread over the codes
            cut = np.sort(rng.integers(0, parts[0] + 1, size=len(row["codes"]) - 1))
            parts = tuple(np.diff(np.concatenate([[0], cut, [parts[0]]])))
        for code, k in zip(row["codes"], parts, strict=True):
            answers += [int(code)] * int(k)
        counted |= set(row["codes"])
    rest = [c for c in codes if c not in counted] or [DONT_KNOW]
    if len(answers) > n:
        raise ConfigError(
            f"the published categories of {rows['column'].iloc[0]!r} need {len(answers)} > {n} answers"
        )
    # the other answers lean towards the codes next to the counted ones (3 rather than 5)
    dist = np.array([min(abs(c - k) for k in counted) if counted else 1 for c in rest])
    weights = 0.4 ** (dist - dist.min())
    answers += list(rng.choice(rest, size=n - len(answers), p=weights / weights.sum()))
    return rng.permutation(np.asarray(answers, dtype=np.int64))


def simulate_projektleder_responses(
    seed: int,
    *,
    n_respondents: int = 29,
    year: int = 2025,
    spec: ReviewSpec | None = None,
    rounding: Rounding = "half_up",
) -> pd.DataFrame:
    """One row per (simulated) project leader: ``resp_id, year``, one column per item, ``simulated``.

    Item-level percentages round to exactly the published values (rule per row from
    ``figures.yaml``); empty cells are item nonresponse. Same seed, same frame.
    """
    spec = spec if spec is not None else load_spec(year)
    rng = np.random.default_rng(seed)
    inst = spec.instrument
    bases = choose_bases(spec, n_respondents, rounding=rounding)
    data = {item.id: np.full(n_respondents, np.nan) for item in inst.items}
    rows = spec.rows
    comps = row_components(rows)
    for group, sub in rows.groupby("base_group", sort=False):
        n = bases[group]
        who = np.sort(rng.choice(n_respondents, size=n, replace=False))
        fig = spec.figure(sub["figure"].iloc[0])
        if fig.base == "shared":
            counts = [min_total(int(p), n, 1, rounding) for p in sub["published_pct"]]
            chosen = _multiple_choice(rng, counts, n, fig.max_choices)
            for j, col in enumerate(sub["column"]):
                data[col][who] = np.where(chosen[:, j] == 1, 1, 2)
            for col in set(fig.columns) - set(sub["column"]):  # unpublished options
                data[col][who] = rng.choice([1, 2], size=n)
        else:
            col = sub["column"].iloc[0]
            codes = inst.item(col).substantive_codes
            data[col][who] = _single_choice(rng, sub, comps, n, codes, rounding)
    frame = pd.DataFrame(
        {"resp_id": _hex_ids(rng, n_respondents), "year": year}
        | {k: pd.array(np.where(np.isnan(v), pd.NA, v), dtype="Int64") for k, v in data.items()}
    )
    frame[SIMULATED_MARKER] = 1
    return frame


def write_projektleder_responses(path: str | Path, seed: int, **kwargs) -> Path:
    """Write :func:`simulate_projektleder_responses` as UTF-8 CSV (e.g. ``survey/projektleder_2025.csv``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    simulate_projektleder_responses(seed, **kwargs).to_csv(
        path, index=False, encoding="utf-8", lineterminator="\n"
    )
    return path
