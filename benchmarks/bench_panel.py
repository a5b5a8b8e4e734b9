"""Panel DiD: TWFE, event study and PPML on 98 kommuner x 64 quarters, and RI.

TWFE and the event study remove the unit and period effects by an exact two-way
projection (``did/_fe.py``) and compute the CR1 covariance by hand; linearmodels PanelOLS
(their previous implementation, now the tests' oracle) and pyfixest are the peers. The
event study's default CR2 + Bell-McCaffrey df and PPML's CR2 have no peer library (pyfixest
has CRV1/CRV3 only); their targets are in the notes (issue 20). PPML is IRLS whose
weighted two-way-FE least squares step is solved exactly on the same projection.
Randomization inference has no peer: refitting TWFE 10,000 times with pyfixest would take
minutes; ours is one within transform and a gather.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from harness import Case

from botrygt_eval.did.diagnostics import randomization_inference
from botrygt_eval.did.poisson import ppml
from botrygt_eval.did.twfe import event_study, twfe


def _panel(n_units: int = 98, n_periods: int = 64, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(1, n_units + 1), n_periods)
    time = np.tile(np.arange(1, n_periods + 1), n_units)
    starts = np.array([0, 36, 40, 44, 48, 52, 56, 60])
    g = rng.choice(starts, size=n_units)[unit - 1]
    treat = ((g > 0) & (time >= g)).astype(int)
    households = np.round(np.exp(rng.normal(10, 0.8, n_units)))[unit - 1]
    mu = np.exp(np.log(households / 1000) + rng.normal(1, 0.3, n_units)[unit - 1]
                - 0.01 * time - 0.2 * treat)  # fmt: skip
    y = rng.poisson(mu)
    return pd.DataFrame({
        "unit": unit, "time": time, "cohort": g, "treat": treat, "burglaries": y,
        "households": households, "log_households": np.log(households),
        "log_rate": np.log((y + 0.5) / households * 1000), "politikreds": (unit - 1) % 12,
        "evt": np.where(g > 0, np.clip(time - g, -8, 8), -1),
    })  # fmt: skip


def _pf():
    import pyfixest as pf

    return pf


def _lm_twfe(df):
    from linearmodels.panel import PanelOLS

    p = df.set_index(["unit", "time"])
    return PanelOLS(p["log_rate"], p[["treat"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True
    )


def _pf_feols(df):
    return _pf().feols("log_rate ~ treat | unit + time", data=df, vcov={"CRV1": "unit"}).se()


def _pf_es(df):
    return _pf().feols("log_rate ~ i(evt, ref=-1) | unit + time", data=df,
                       vcov={"CRV1": "unit"}).se()  # fmt: skip


def _pf_fepois(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _pf().fepois("burglaries ~ treat | unit + time", data=df, offset="log_households",
                            vcov={"CRV1": "unit"}).se()  # fmt: skip


_ES = dict(unit="unit", time="time", cohort="cohort", outcome="log_rate", leads=8, lags=8)
_PPML = dict(unit="unit", time="time", treat="treat", outcome="burglaries", offset="households")

CASES = [
    Case(
        name="TWFE 98x64, clustered SE",
        setup=_panel,
        ours=lambda d: twfe(d, unit="unit", time="time", treat="treat", outcome="log_rate"),
        peers={"linearmodels PanelOLS": _lm_twfe, "pyfixest feols": _pf_feols},
        note="CR1 (G/(G-1)); exact two-way projection; same numbers as pyfixest and PanelOLS; "
        "target: at least as fast as pyfixest",
    ),
    Case(
        name="Event study 98x64, leads/lags +-8 binned, CR1",
        setup=_panel,
        ours=lambda d: event_study(d, **_ES, se="cr1"),
        peers={"pyfixest feols i()": _pf_es},
        note="target: at least as fast as pyfixest",
    ),
    Case(
        name="Event study 98x64, leads/lags +-8 binned, CR2 + Bell-McCaffrey df (default)",
        setup=_panel,
        ours=lambda d: event_study(d, **_ES),
        note="target < 50 ms (240 ms before issue 20); no peer has CR2 with BM df",
    ),
    Case(
        name="PPML 98x64, offset log(households)",
        setup=_panel,
        ours=lambda d: ppml(
            d, unit="unit", time="time", treat="treat", outcome="burglaries", offset="households"
        ),  # fmt: skip
        peers={"pyfixest fepois": _pf_fepois},
        note="ours = IRLS with an exact two-way-FE WLS step; same numbers as pyfixest",
    ),
    Case(
        name="PPML 98x64, offset log(households), CR2 + Bell-McCaffrey df",
        setup=_panel,
        ours=lambda d: ppml(d, **_PPML, se="cr2"),
        note="target: 2x faster than before issue 20 (125 ms); no peer has CR2 for PPML",
    ),
    Case(
        name="Randomization inference, 10,000 permutations, 98x64",
        setup=_panel,
        ours=lambda d: randomization_inference(
            d, unit="unit", time="time", cohort="cohort", outcome="log_rate", n_perm=10_000, seed=1
        ),  # fmt: skip
        repeat=3,
        note="target < 30 s; no peer (a refit per permutation takes minutes)",
    ),
]
