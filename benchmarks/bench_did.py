"""Callaway-Sant'Anna on a staggered panel of 50,000 units x 20 periods.

Last case: the cluster jackknife (``se="jackknife"``) on a Denmark-size quarterly panel
(98 kommuner x 64 quarters, 25 partnerships in quarterly cohorts); no peer library has
a jackknife for CS, so the reference is the loop a user would write by hand (98 refits
of ``att_gt`` + ``aggregate`` through the public API).

Two larger cases (200,000 and 1,000,000 units x 20 periods, analytic SEs, no
covariates) check that the package scales: 1M x 20 is 20 million input rows. Their
notes give our peak memory, measured in a fresh subprocess (tracemalloc over the call,
the input frame excluded, and the process's peak RSS). csdid is not run at 1M units
(see the table's reason); diff-diff runs once after its warm-up there.

ATT(g,t) plus the four aggregations (simple, group, dynamic, calendar), with
analytic SEs and with a 999-draw multiplier bootstrap, without covariates and
with one covariate (doubly robust). Peers: csdid (the Python port of R did) and
diff-diff (``CallawaySantAnna``; it has no calendar aggregation, so it runs
three). Peers' printed summaries are silenced, not skipped. Every case is the best
of 5 runs after a warm-up, except csdid's bootstrap cases: one run after the warm-up
(csdid takes minutes there).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from harness import Case

from botrygt_eval.did import aggregate, att_gt

TYPES = ("simple", "group", "dynamic", "calendar")


def _panel(n: int = 50_000, n_periods: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(np.r_[0, np.arange(5, n_periods + 1)], size=n)
    x = rng.normal(size=n)
    t = np.arange(1, n_periods + 1)
    G, T = np.meshgrid(g, t, indexing="ij")
    y = (rng.normal(size=n)[:, None] + 0.1 * T + 0.2 * x[:, None] * T
         + np.where((G > 0) & (T >= G), 1.0, 0.0) + rng.normal(size=(n, n_periods)))  # fmt: skip
    return pd.DataFrame({"unit": np.repeat(np.arange(1, n + 1), n_periods), "time": T.ravel(),
                         "cohort": G.ravel(), "y": y.ravel(), "x": np.repeat(x, n_periods)})  # fmt: skip


def _ours(covariates, bootstrap):
    def run(df):
        r = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y",
                   covariates=covariates, method="dr")  # fmt: skip
        return [
            aggregate(
                r, t, se="bootstrap" if bootstrap else "analytic", replications=bootstrap, seed=1
            )
            for t in TYPES
        ]

    return run


def _csdid(covariates, bootstrap):
    def run(df):
        from csdid.att_gt import ATTgt

        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = ATTgt(yname="y", tname="time", idname="unit", gname="cohort", data=df,
                      xformla="y ~ x" if covariates else None, biters=bootstrap or 1000)  # fmt: skip
            m.fit(est_method="dr", bstrap=bootstrap is not None)
            return [m.aggte(typec=t, bstrap=bootstrap is not None) for t in TYPES]

    return run


def _diffdiff(covariates, bootstrap):
    def run(df):
        import diff_diff as dd

        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = dd.CallawaySantAnna(estimation_method="dr", n_bootstrap=bootstrap or 0, seed=1)
            r = est.fit(df, outcome="y", unit="unit", time="time", first_treat="cohort",
                        covariates=covariates)  # fmt: skip
            return [r.aggregate(t) for t in ("simple", "group", "event_study")]

    return run


def _case(name, covariates, bootstrap, note):
    # csdid needs minutes per bootstrap run here: one timed run (after a warm-up) there
    return Case(
        name=name,
        setup=_panel,
        ours=_ours(covariates, bootstrap),
        peers={
            "csdid": _csdid(covariates, bootstrap),
            "diff-diff": _diffdiff(covariates, bootstrap),
        },
        repeat=5,
        repeat_for={} if bootstrap is None else {"csdid": 1},
        note=note,
    )


_MEMORY_SCRIPT = """
import resource, sys, tracemalloc
from bench_did import _ours, _panel
df = _panel(int(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
_ours(None, None)(df)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak / 2**20, before / 2**10, after / 2**10)
"""


def _peak_memory(n_units: int) -> str:
    """Our peak memory for att_gt + 4 aggregations, in a fresh single-threaded process."""
    here = str(Path(__file__).resolve().parent)
    path = os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(n_units)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    call, before, after = (float(x) for x in out[-3:])
    return (
        f"no covariates, analytic SEs; ours: peak memory of the call {call:,.0f} MiB "
        f"(tracemalloc, input frame excluded); process peak RSS {after:,.0f} MiB "
        f"({before:,.0f} MiB before the call: Python, the libraries and making the input)"
    )


_CSDID_1M = (
    "not run at 1M units: csdid keeps dense n x cells influence functions "
    "(1M x 304 doubles = 2.4 GB per copy, several copies) and takes minutes"
)


def _large_case(n_units: int) -> Case:
    label = f"{n_units // 1000}k" if n_units < 1_000_000 else f"{n_units // 1_000_000}M"
    return Case(
        name=f"CS att_gt + 4 aggregations, {label} units x 20, analytic",
        setup=lambda: _panel(n_units),
        ours=_ours(None, None),
        peers={"csdid": _csdid(None, None), "diff-diff": _diffdiff(None, None)},
        repeat=3,
        repeat_for={"csdid": 1, "diff-diff": 1},
        skip={"csdid": _CSDID_1M} if n_units >= 1_000_000 else {},
        note=lambda: _peak_memory(n_units),
    )


def _denmark():
    rng = np.random.default_rng(3)
    n, q = 98, 64
    g = np.zeros(n, int)
    g[rng.choice(n, 25, replace=False)] = rng.integers(36, 62, 25)
    t = np.arange(1, q + 1)
    G, T = np.meshgrid(g, t, indexing="ij")
    y = (
        rng.normal(size=n)[:, None]
        - 0.01 * T
        - 0.1 * ((G > 0) & (T >= G))
        + rng.normal(scale=0.2, size=(n, q))
    )
    return pd.DataFrame({"unit": np.repeat(np.arange(n), q), "time": T.ravel(),
                         "cohort": G.ravel(), "y": y.ravel()})  # fmt: skip


_DK = dict(unit="unit", time="time", cohort="cohort", outcome="y", control="notyet")


def _jackknife(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = att_gt(df, **_DK)
        return [aggregate(r, t, se="jackknife") for t in ("simple", "dynamic")]


def _jackknife_by_hand(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = []
        for u in np.unique(df["unit"]):
            r = att_gt(df[df["unit"] != u], **_DK)
            out.append([aggregate(r, t).overall_att for t in ("simple", "dynamic")])
        return out


CASES = [
    _case(
        "CS att_gt + 4 aggregations, 50k x 20, analytic",
        None,
        None,
        "no covariates; target < 0.1 s",
    ),  # fmt: skip
    _case(
        "CS att_gt + 4 aggregations, 50k x 20, bootstrap 999",
        None,
        999,
        "no covariates; target < 0.3 s; csdid: one run after the warm-up",
    ),  # fmt: skip
    _case(
        "CS att_gt + 4 aggregations, 50k x 20, DR + covariate, analytic",
        ["x"],
        None,
        "doubly robust with one covariate",
    ),  # fmt: skip
    _case(
        "CS att_gt + 4 aggregations, 50k x 20, DR + covariate, bootstrap 999",
        ["x"],
        999,
        "doubly robust with one covariate; csdid: one run after the warm-up",
    ),  # fmt: skip
    _large_case(200_000),
    _large_case(1_000_000),
    Case(
        name="CS simple + dynamic, cluster jackknife SEs, 98 kommuner x 64 quarters",
        setup=_denmark,
        ours=_jackknife,
        peers={"refit loop by hand (98 x att_gt)": _jackknife_by_hand},
        repeat=5,
        repeat_for={"refit loop by hand (98 x att_gt)": 1},
        note="not-yet-treated controls, DR; no peer library has a CS jackknife",
    ),
]
