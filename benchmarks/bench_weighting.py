"""Raking 1,000,000 rows to four margins: ours vs balance, weightipy and samplics.

Margins: 98 kommuner x 2 sexes x 6 age bands x 4 education levels (4,704 possible cells),
every implementation asked for a largest relative margin error below 1e-6. The data
are made in ``setup`` (not timed); the timed call goes from the frame and the input
weights to the raked weights, collapsing rows to cells included. kommune_kode is an
int column and the other three are pandas categoricals, for every implementation.
Peak memory (tracemalloc, one run each) and the achieved margin error are measured
when the case is run (not at import) and written in the note.
"""

from __future__ import annotations

import logging
import tracemalloc
import warnings

import numpy as np
import pandas as pd
from harness import Case

from botrygt_eval.reference import kommuner
from botrygt_eval.survey.calibrate import rake_weights

N_ROWS = 1_000_000
VARS = ["kommune_kode", "sex", "age_band", "education"]
TARGET_ERR = 1e-6


def setup(n: int = N_ROWS, seed: int = 11) -> dict:
    rng = np.random.default_rng(seed)
    codes = kommuner()["kommune_kode"].to_numpy()
    size = rng.pareto(1.1, len(codes)) + 1
    sex = np.array(["female", "male"])
    ages = np.array(["18-29", "30-44", "45-59", "60-74", "75+", "85+"])
    edu = np.array(["grundskole", "gymnasie", "erhverv", "videregaaende"])
    df = pd.DataFrame(
        {
            "kommune_kode": rng.choice(codes, n, p=size / size.sum()),
            "sex": pd.Categorical(rng.choice(sex, n, p=[0.56, 0.44]), categories=sex),
            "age_band": pd.Categorical(
                rng.choice(ages, n, p=[0.08, 0.12, 0.2, 0.3, 0.2, 0.1]), categories=ages
            ),
            "education": pd.Categorical(
                rng.choice(edu, n, p=[0.2, 0.15, 0.35, 0.3]), categories=edu
            ),
        }
    )
    weights = rng.uniform(20, 200, n)
    population = 4_800_000.0
    pop_k = size / size.sum() * 0.5 + 0.5 / len(codes)
    shares = {
        "kommune_kode": dict(zip(codes.tolist(), pop_k / pop_k.sum(), strict=True)),
        "sex": {"female": 0.505, "male": 0.495},
        "age_band": dict(zip(ages, [0.19, 0.24, 0.25, 0.2, 0.08, 0.04], strict=True)),
        "education": dict(zip(edu, [0.25, 0.1, 0.33, 0.32], strict=True)),
    }
    targets = {v: {k: population * s for k, s in d.items()} for v, d in shares.items()}
    margins = pd.DataFrame(
        [(v, str(k), t) for v, d in targets.items() for k, t in d.items()],
        columns=["variable", "level", "total"],
    )
    grids = np.meshgrid(*[np.arange(len(shares[v])) for v in VARS], indexing="ij")
    levels = [list(shares[v]) for v in VARS]
    probs = [np.array(list(shares[v].values())) for v in VARS]
    target_df = pd.DataFrame(
        {v: np.array(levels[j], dtype=object)[grids[j].ravel()] for j, v in enumerate(VARS)}
    )
    for v in VARS[1:]:
        target_df[v] = pd.Categorical(target_df[v], categories=df[v].cat.categories)
    target_df["kommune_kode"] = target_df["kommune_kode"].astype(np.int64)
    target_weights = population * np.prod([probs[j][grids[j].ravel()] for j in range(4)], axis=0)
    return {
        "df": df,
        "weights": weights,
        "margins": margins,
        "targets": targets,
        "shares": shares,
        "target_df": target_df,
        "target_weights": pd.Series(target_weights),
    }


def max_rel_error(data: dict, w: np.ndarray) -> float:
    err = 0.0
    for v, d in data["targets"].items():
        got = pd.Series(w).groupby(data["df"][v].to_numpy()).sum()
        for k, t in d.items():
            err = max(err, abs(got.get(k, 0.0) - t) / t)
    return err


def ours(data: dict) -> np.ndarray:
    return rake_weights(data["df"], data["weights"], data["margins"], tol=1e-8).weights


def balance_rake(data: dict) -> np.ndarray:
    """balance raking to a target frame whose margins are the targets.

    balance's ``target_margins`` turns proportions into a realised fake sample via
    fractions (it overflows on exact shares), so the target is given as the 4,704-cell
    product table instead: its weighted margins are exactly the targets.
    """
    from balance.weighting_methods.rake import rake

    logging.getLogger("balance").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = rake(
            data["df"],
            pd.Series(data["weights"]),
            data["target_df"],
            data["target_weights"],
            variables=VARS,
            transformations=None,
            na_action="drop",
            max_iteration=1000,
            convergence_rate=1e-10,
            rate_tolerance=1e-12,
            keep_sum_of_weights=False,
        )
    w = out["weight"].to_numpy(dtype=float)
    return w * (4_800_000.0 / w.sum())  # balance scales to the target total by itself


def samplics_rake(data: dict) -> np.ndarray:
    from samplics.weighting import SampleWeight

    df = data["df"]
    margins = {
        v: df[v].to_numpy() if v == "kommune_kode" else df[v].astype(str).to_numpy() for v in VARS
    }
    return SampleWeight().rake(
        data["weights"],
        margins,
        control=data["targets"],
        tol=1e-9,
        ctrl_tol=1e-8,
        max_iter=1000,
    )


def weightipy_rake(data: dict) -> np.ndarray:
    import weightipy as wp

    scheme = wp.scheme_from_dict(
        {v: {k: 100 * s for k, s in d.items()} for v, d in data["shares"].items()},
        rim_params={"convcrit": 1e-9, "max_iterations": 1000},
    )
    df = data["df"].copy()
    out = wp.weight_dataframe(df, scheme)
    w = out["weights"].to_numpy(dtype=float)
    return w * (4_800_000.0 / w.sum())


PEERS = {"balance": balance_rake, "weightipy": weightipy_rake, "samplics": samplics_rake}


def _measure() -> str:
    """Peak memory and achieved margin error, one run per implementation."""
    data = setup()
    parts = []
    for name, fn in {"botrygt_eval": ours, **PEERS}.items():
        try:
            tracemalloc.start()
            w = fn(data)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            parts.append(
                f"{name}: peak {peak / 2**20:.0f} MiB, max margin error "
                f"{max_rel_error(data, np.asarray(w)):.1e}"
            )
        except Exception as exc:  # a peer's failure is reported, not hidden
            tracemalloc.stop()
            parts.append(f"{name}: failed ({type(exc).__name__})")
    return "; ".join(parts) + (
        ". weightipy's weight_dataframe takes no input weights, so it rakes from unit "
        "weights (same margins, different starting point); balance is given the target as "
        "the 4,704-cell product table because its target_margins overflow on exact shares"
    )


CASES = [
    Case(
        name="rake 1M rows to 4 margins (98x2x6x4), error < 1e-6",
        setup=setup,
        ours=ours,
        peers=PEERS,
        repeat=2,
        note=_measure,
    )
]
