"""A small side-by-side timing harness.

A benchmark module ``benchmarks/bench_*.py`` defines ``CASES``: a list of
:class:`Case`. Each case times our implementation and each peer library on the
same prepared input, in the same run, and reports the best of ``repeat`` runs
(the machine is shared and noisy: the minimum is the least disturbed run).
A peer that is not installed or fails is reported as such, never silently left out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Case:
    name: str
    setup: Callable[[], object]
    ours: Callable[[object], object]
    peers: dict[str, Callable[[object], object]] = field(default_factory=dict)
    repeat: int = 5
    # a note, or a function that measures one (called only when the case is run)
    note: str | Callable[[], str] = ""
    # fewer runs for a slow implementation (by name, e.g. a peer taking minutes per run)
    repeat_for: dict[str, int] = field(default_factory=dict)
    # peers not run here, with the reason (e.g. minutes per run or memory beyond the machine)
    skip: dict[str, str] = field(default_factory=dict)


def time_call(fn: Callable[[object], object], data: object, repeat: int) -> float:
    """Best (minimum) wall time in seconds over ``repeat`` runs after one warm-up."""
    fn(data)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - start)
    return min(times)


def _note(case: Case) -> str:
    """The case's note; a measuring note runs here, so importing a module measures nothing."""
    if not callable(case.note):
        return case.note
    try:
        return case.note()
    except Exception as exc:  # a failed measurement is said in the note, not a lost case
        return f"note failed: {type(exc).__name__}: {exc}"[:200]


def run_case(case: Case) -> list[dict]:
    note = _note(case)
    try:
        data = case.setup()
        ours = time_call(case.ours, data, case.repeat)
    except Exception as exc:  # our failure is a result too, and must not lose the other cases
        status = f"FAILED: {type(exc).__name__}: {exc}"[:300]
        return [{"case": case.name, "implementation": "botrygt_eval", "seconds": float("nan"),
                 "ratio": float("nan"), "status": status, "note": note}]  # fmt: skip
    rows = []
    rows.append(
        {
            "case": case.name,
            "implementation": "botrygt_eval",
            "seconds": ours,
            "ratio": 1.0,
            "status": "ok",
            "note": note,
        }
    )
    for name, fn in case.peers.items():
        if name in case.skip:
            rows.append({"case": case.name, "implementation": name, "seconds": float("nan"),
                         "ratio": float("nan"), "status": f"skipped: {case.skip[name]}",
                         "note": ""})  # fmt: skip
            continue
        try:
            t = time_call(fn, data, case.repeat_for.get(name, case.repeat))
            rows.append(
                {
                    "case": case.name,
                    "implementation": name,
                    "seconds": t,
                    "ratio": t / ours,
                    "status": "ok",
                    "note": "",
                }
            )
        except Exception as exc:  # a peer's failure is a result, not a crash
            rows.append(
                {
                    "case": case.name,
                    "implementation": name,
                    "seconds": float("nan"),
                    "ratio": float("nan"),
                    "status": f"failed: {type(exc).__name__}: {exc}"[:120],
                    "note": "",
                }
            )
    return rows
