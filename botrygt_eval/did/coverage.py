"""Coverage study: do Callaway-Sant'Anna 95 % intervals cover the truth, and how biased is TWFE?

Simulates many staggered-adoption panels shaped like the Bo trygt data (98
kommuner x 64 quarters, partnerships starting in waves, effects that build up
and differ by cohort, common shocks), estimates the simple and event-time
aggregates with :func:`att_gt` / :func:`aggregate` and a naive two-way fixed
effects regression, and reports how often the intervals cover the true values.

Run: ``python -m botrygt_eval.did.coverage --sims 500 --seed 1`` (about a minute).
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from botrygt_eval.did.aggregate import aggregate
from botrygt_eval.did.att_gt import att_gt


@dataclass(frozen=True)
class Design:
    """The simulated panels: sizes, adoption waves and effect shape."""

    n_units: int = 98
    n_periods: int = 64
    n_treated: int = 40
    first_wave: int = 36
    last_wave: int = 58
    effect: float = -0.10  # long-run log effect of the earliest cohort
    buildup: int = 12  # quarters to reach the full effect
    heterogeneity: float = 0.5  # later cohorts' effects shrink by up to this share
    noise: float = 0.15


def simulate_panel(design: Design, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """One panel ``unit, time, cohort, y, treat`` and the true ATT(g,t) per row."""
    d = design
    rng = np.random.default_rng(seed)
    n, T = d.n_units, d.n_periods
    g = np.zeros(n)
    g[: d.n_treated] = rng.integers(d.first_wave, d.last_wave + 1, d.n_treated)
    t = np.arange(1, T + 1)
    G, TT = np.meshgrid(g, t, indexing="ij")
    share = (G - d.first_wave) / max(d.last_wave - d.first_wave, 1)
    size = d.effect * (1 - d.heterogeneity * share)
    ramp = np.clip((TT - G + 1) / d.buildup, 0, 1)
    truth = np.where((G > 0) & (TT >= G), size * ramp, 0.0)
    unit_fe = rng.normal(0, 0.5, n)[:, None]
    time_fe = (-0.01 * t + np.cumsum(rng.normal(0, 0.03, T)))[None, :]
    y = unit_fe + time_fe + truth + rng.normal(0, d.noise, (n, T))
    df = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), T),
            "time": TT.ravel(),
            "cohort": G.ravel(),
            "y": y.ravel(),
            "treat": ((G > 0) & (TT >= G)).ravel().astype(float),
        }
    )
    return df, truth.ravel()


def twfe_estimate(df: pd.DataFrame) -> float:
    """Static TWFE coefficient on ``treat`` (balanced panel: two-way demeaning)."""
    n, T = df["unit"].nunique(), df["time"].nunique()
    Y = df["y"].to_numpy().reshape(n, T)
    D = df["treat"].to_numpy().reshape(n, T)

    def dm(a):
        return a - a.mean(1, keepdims=True) - a.mean(0, keepdims=True) + a.mean()

    Yd, Dd = dm(Y), dm(D)
    return float((Dd * Yd).sum() / (Dd * Dd).sum())


def coverage_study(n_sims: int = 500, seed: int = 1, design: Design | None = None) -> pd.DataFrame:
    """One row per simulated panel: estimates, SEs, truths and coverage flags."""
    design = design or Design()
    rows = []
    for s in range(n_sims):
        df, truth = simulate_panel(design, seed * 100_003 + s)
        post = df["treat"].to_numpy() == 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y",
                       control="notyet", method="reg")  # fmt: skip
            simple = aggregate(r, "simple")
            dyn = aggregate(r, "dynamic", min_e=0, max_e=7).by.set_index("egt")
        # truths of the aggregates: the same cohort-size weighting over the true ATT(g,t)
        tab = r.table.copy()
        ev = df.assign(truth=truth).groupby(["cohort", "time"])["truth"].first()
        tab["truth"] = ev.reindex(pd.MultiIndex.from_arrays([tab["group"], tab["time"]])).to_numpy()
        sizes = df[df["time"] == 1].groupby("cohort").size()
        tab["w"] = sizes.reindex(tab["group"]).to_numpy()
        p = tab[tab["group"] <= tab["time"]]
        true_simple = np.average(p["truth"], weights=p["w"])
        row = {
            "sim": s,
            "simple": simple.overall_att,
            "simple_se": simple.overall_se,
            "simple_truth": true_simple,
            "twfe": twfe_estimate(df),
            "truth_mean_treated": truth[post].mean(),
        }
        for e in (0, 3, 7):
            q = tab[tab["time"] - tab["group"] == e]
            row[f"e{e}"] = dyn.loc[e, "att"]
            row[f"e{e}_se"] = dyn.loc[e, "se"]
            row[f"e{e}_truth"] = np.average(q["truth"], weights=q["w"])
        rows.append(row)
    out = pd.DataFrame(rows)
    for k in ("simple", "e0", "e3", "e7"):
        out[f"{k}_covered"] = (out[k] - out[f"{k}_truth"]).abs() <= 1.959964 * out[f"{k}_se"]
    return out


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    """Coverage of 95 % intervals and bias per quantity; TWFE bias vs the simple ATT truth."""
    rows = []
    for k in ("simple", "e0", "e3", "e7"):
        rows.append(
            {
                "quantity": f"CS {k}",
                "coverage": res[f"{k}_covered"].mean(),
                "bias": (res[k] - res[f"{k}_truth"]).mean(),
                "sd": res[k].std(),
                "mean_se": res[f"{k}_se"].mean(),
            }
        )
    rows.append(
        {
            "quantity": "naive TWFE",
            "coverage": np.nan,
            "bias": (res["twfe"] - res["simple_truth"]).mean(),
            "sd": res["twfe"].std(),
            "mean_se": np.nan,
        }
    )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None, help="CSV of the per-simulation results")
    a = ap.parse_args()
    res = coverage_study(a.sims, a.seed)
    if a.out:
        res.to_csv(a.out, index=False)
    print(summarise(res).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
