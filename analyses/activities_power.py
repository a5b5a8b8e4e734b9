"""Power and error rates of the activity decision rule over repeated synthetic Denmarks.

Usage (about 3 s per replication on an idle core; resumable):

    .venv/bin/python analyses/activities_power.py --sims 1000 \
        --draws analyses/results/activities_power_draws.csv \
        --out analyses/results/activities_power.csv
    .venv/bin/python analyses/activities_power.py --sims 200 --korps-effect 0.85 --draws /tmp/d.csv

Replication ``i`` is the synthetic Denmark of seed ``--seed + i``. The draws (one row per
replication and type: estimate, CR2 SE, Bell-McCaffrey df, MDE, verdict) are appended to
``--draws`` every ``--chunk`` replications, and a rerun continues after the last seed
there, so a long run can be stopped and resumed; ``--sims 0`` only summarises the draws.

Outputs: per activity type (``--out``) its true log effect per activity, the mean
estimate, its Monte Carlo SD against the mean SE (is the SE right?), the mean MDE and the
share of replications with each verdict; and (``--errors``, default next to ``--out``
with suffix ``_errors.csv``) the two pooled error rates with Clopper-Pearson intervals:
null types called "repeat" (the rule's bound with Bonferroni: alpha / (2 m) per type) and
beneficial types called "drop" (the issue's bound: 5 %).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botrygt_eval.simulate import SimulationConfig  # noqa: E402
from botrygt_eval.simulate.activity_power import (  # noqa: E402
    error_rates,
    simulate_verdicts,
    verdict_rates,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sims", type=int, default=200, help="replications to add")
    ap.add_argument("--seed", type=int, default=1000, help="seed of replication 0")
    ap.add_argument("--chunk", type=int, default=20, help="replications per checkpoint")
    ap.add_argument("--korps-effect", type=float, default=None,
                    help="rate ratio per Bo trygt-korps visit (default: the simulator's 0.95)")  # fmt: skip
    ap.add_argument("--draws", type=Path, default=None, help="CSV of the draws (appended)")
    ap.add_argument("--out", type=Path, default=None, help="CSV of the per-type rates")
    ap.add_argument("--errors", type=Path, default=None, help="CSV of the pooled error rates")
    args = ap.parse_args()
    cfg = SimulationConfig()
    if args.korps_effect is not None:
        effects = {**cfg.activity_burglary_effects, "bo_trygt_korps": math.log(args.korps_effect)}
        cfg = dataclasses.replace(cfg, activity_burglary_effects=effects)
    old = pd.read_csv(args.draws) if args.draws and args.draws.exists() else None
    done = 0 if old is None else int(old["sim"].max()) + 1
    frames = [] if old is None else [old]
    target = done + args.sims
    while done < target:
        n = min(args.chunk, target - done)
        d = simulate_verdicts(n, seed=args.seed + done, config=cfg)
        d["sim"] += done
        frames.append(d)
        done += n
        if args.draws:
            args.draws.parent.mkdir(parents=True, exist_ok=True)
            d.to_csv(args.draws, mode="a", header=not args.draws.exists(), index=False)
        print(f"{done} replications", file=sys.stderr, flush=True)
    draws = pd.concat(frames, ignore_index=True)
    rates = verdict_rates(draws, cfg)
    errors = error_rates(draws, cfg)
    fmt = lambda v: f"{v:.4f}"  # noqa: E731
    print(rates.to_string(index=False, float_format=fmt))
    print(errors.to_string(index=False, float_format=fmt))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        rates.to_csv(args.out, index=False)
        errors_path = args.errors or args.out.with_name(args.out.stem + "_errors.csv")
        errors.to_csv(errors_path, index=False)


if __name__ == "__main__":
    main()
