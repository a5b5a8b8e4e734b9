"""Partnerships (selected on the burglary rate level), their activities, and true effects.

Selection: Gumbel top-k on ``score = b_rate * z(alpha) + b_size * z(log population)
+ b_trend * z(beta)``, alpha being the kommune's log burglary rate level and beta its
trend (b_trend = 0 by default, so parallel trends hold), i.e. sequential sampling
without replacement with probability proportional to ``exp(score)``; the first drawn
sign first. The first treated quarter
is the quarter after the signing quarter; the burglary effect builds up linearly
over ``buildup_quarters`` quarters from it and stays after ``end_date`` (absorbing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from botrygt_eval.io.registers import ACTIVITY_COLUMNS  # the register's layout
from botrygt_eval.simulate._random import stream
from botrygt_eval.simulate.burglary import BaseRates
from botrygt_eval.simulate.config import SimulationConfig
from botrygt_eval.simulate.population import Population

#: share of the partnerships signed in each year (2018 = only its fourth quarter)
SIGNING_YEAR_WEIGHTS = {
    2018: 0.16,
    2019: 0.24,
    2020: 0.20,
    2021: 0.16,
    2022: 0.12,
    2023: 0.08,
    2024: 0.04,
}
PARTNER_ACTIVITY_MIX = {
    "kampagne": 0.18,
    "tryghedsvandring": 0.12,
    "borgermoede": 0.10,
    "nabohjaelp_rekruttering": 0.12,
    "bo_trygt_korps": 0.14,
    "data_gis": 0.05,
    "lokalt_arrangement": 0.10,
    "mobil_politistation": 0.05,
    "erhvervssamarbejde": 0.04,
    "andet": 0.03,
}
OTHER_ACTIVITY_MIX = {
    "kampagne": 0.30,
    "borgermoede": 0.25,
    "nabohjaelp_rekruttering": 0.20,
    "tryghedsvandring": 0.10,
    "lokalt_arrangement": 0.10,
    "andet": 0.05,
}
#: a burglary wave: at least this many burglaries in a quarter and this times the expected count
WAVE_MIN, WAVE_RATIO = 10, 1.3
#: activity type -> (duration in days: min, max; median reach or 0 = none; median cost DKK)
ACTIVITY_PROFILE = {
    "kampagne": (30, 90, 12_000, 60_000),
    "tryghedsvandring": (0, 0, 40, 8_000),
    "borgermoede": (0, 0, 60, 10_000),
    "nabohjaelp_rekruttering": (30, 60, 300, 25_000),
    "bo_trygt_korps": (7, 28, 250, 40_000),
    "reaktionsplan": (14, 42, 500, 30_000),
    "data_gis": (90, 365, 0, 80_000),
    "lokalt_arrangement": (0, 1, 150, 15_000),
    "mobil_politistation": (0, 6, 200, 20_000),
    "erhvervssamarbejde": (60, 240, 30, 30_000),
    "andet": (0, 30, 100, 15_000),
}


@dataclass(frozen=True)
class Partnerships:
    """The register, the first treated quarter per kommune (-1 never) and selection inputs."""

    register: pd.DataFrame
    first_treated: np.ndarray  # (K,) quarter index, -1 = never
    score: np.ndarray  # (K,) selection score
    pre_rate: np.ndarray  # (K,) relative pre-period rate


def _quarter_index(dates: pd.Series, config: SimulationConfig) -> np.ndarray:
    return ((dates.dt.year - config.start_year) * 4 + (dates.dt.month - 1) // 3).to_numpy()


def _signing_counts(config: SimulationConfig) -> dict[int, int]:
    years = range(config.first_signing_year, config.last_signing_year + 1)
    w = np.array([SIGNING_YEAR_WEIGHTS.get(y, 0.04) for y in years], dtype=float)
    raw = w / w.sum() * config.n_partnerships
    n = np.floor(raw).astype(int)
    n[np.argsort(-(raw - n), kind="stable")[: config.n_partnerships - n.sum()]] += 1
    return dict(zip(years, n.tolist(), strict=True))


def select_partnerships(
    pop: Population, rates: BaseRates, config: SimulationConfig, seed: int
) -> Partnerships:
    """Draw which kommuner sign, when, with which targets and end dates."""
    rng = stream(seed, "partnerships")
    k = len(pop.codes)
    pre_rate = rates.pre_rate(config, config.recording_break_year)

    def z(x: np.ndarray) -> np.ndarray:
        """Standardised score; a constant (e.g. no trend heterogeneity) scores 0, not NaN."""
        sd = x.std()
        return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)

    size_year = min(config.recording_break_year - 1, config.end_year) - config.start_year
    # on the level (alpha, independent of the trend), so parallel trends hold; a trend term
    # only when asked for (selection_coef_trend), to study what breaks when they do not
    score = (
        config.selection_coef_rate * z(rates.alpha)
        + config.selection_coef_size * z(np.log(pop.totals[:, size_year]))
        + config.selection_coef_trend * z(rates.beta)
    )
    keys = score + rng.gumbel(size=k)
    chosen = np.argsort(-keys, kind="stable")[: config.n_partnerships]
    # signing dates: year by the staggered weights, quarter at random, never a quarter's first day
    counts = _signing_counts(config)
    years = np.repeat(list(counts), list(counts.values()))
    first_q = np.where(years == 2018, 4, 1)
    quarter = first_q + np.floor(rng.random(len(years)) * (5 - first_q)).astype(int)
    qstart = pd.to_datetime(pd.DataFrame({"year": years, "month": 3 * quarter - 2, "day": 1}))
    qlen = (qstart + pd.DateOffset(months=3) - qstart).dt.days.to_numpy()
    signed = qstart + pd.to_timedelta(1 + np.floor(rng.random(len(years)) * (qlen - 1)), unit="D")
    order = np.argsort(signed.to_numpy(), kind="stable")
    signed = signed.iloc[order].reset_index(drop=True)
    codes = pop.codes[chosen]
    n = len(codes)
    # a few partnerships ended after three years; the rest are open
    can_end = (signed.dt.year <= config.end_year - 4).to_numpy()
    ends = can_end & (rng.random(n) < 0.25)
    end_date = (signed + pd.DateOffset(years=3) - pd.Timedelta(days=1)).where(ends)
    hh = pop.households[
        chosen, min(config.recording_break_year, config.end_year) - config.start_year
    ]
    fear_target = rng.integers(10, 19, size=n).astype(float)
    fear_target[rng.random(n) < 0.2] = np.nan
    register = pd.DataFrame(
        {
            "kommune_kode": codes,
            "signed_date": signed.dt.date,
            "end_date": end_date.dt.date,
            "baseline_year": signed.dt.year.to_numpy() - 1,
            "burglary_target_pct": -5.0 * rng.integers(4, 9, size=n),
            "nabohjaelp_target": (np.round(hh * rng.uniform(0.10, 0.16, size=n), -1)).astype(
                np.int64
            ),
            "fear_target_pct": fear_target,
        }
    ).sort_values("kommune_kode", kind="stable", ignore_index=True)
    first_treated = np.full(k, -1)
    idx = np.searchsorted(pop.codes, register["kommune_kode"].to_numpy())
    first_treated[idx] = _quarter_index(pd.to_datetime(register["signed_date"]), config) + 1
    return Partnerships(register, first_treated, score, pre_rate)


def partnership_effects(part: Partnerships, config: SimulationConfig) -> np.ndarray:
    """Log effect on burglary (K, Q): linear build-up over the first quarters, then constant."""
    t = np.arange(config.n_quarters)[None, :]
    f = part.first_treated[:, None]
    ramp = np.clip((t - f + 1) / config.buildup_quarters, 0, 1)
    return np.where(f >= 0, config.partnership_effect * ramp, 0.0)


def _draw_types(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(mix))
    p = np.array(list(mix.values()), dtype=float)
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def simulate_activities(
    pop: Population, part: Partnerships, config: SimulationConfig, seed: int
) -> pd.DataFrame:
    """The activity log: several per year in partnership kommuner after signing, a few elsewhere."""
    rng = stream(seed, "activities")
    start_year = max(config.first_signing_year, config.start_year)
    last = pd.Timestamp(config.end_year, 12, 31)
    # partnership kommune-years (from the signing date on)
    reg = part.register
    signed = pd.to_datetime(reg["signed_date"])
    span = config.end_year - signed.dt.year.to_numpy() + 1
    p_code = np.repeat(reg["kommune_kode"].to_numpy(), span)
    p_year = np.concatenate([np.arange(y, config.end_year + 1) for y in signed.dt.year])
    p_from = np.repeat(signed.to_numpy(), span)
    p_from = np.maximum(
        p_from, pd.to_datetime(pd.DataFrame({"year": p_year, "month": 1, "day": 1})).to_numpy()
    )
    # other kommuner: about a third hold a few activities a year
    others = np.setdiff1d(pop.codes, reg["kommune_kode"].to_numpy())
    active = others[rng.random(len(others)) < 0.33]
    o_years = np.arange(start_year, config.end_year + 1)
    o_code = np.repeat(active, len(o_years))
    o_year = np.tile(o_years, len(active))
    o_from = pd.to_datetime(pd.DataFrame({"year": o_year, "month": 1, "day": 1})).to_numpy()
    frames = []
    for codes, yrs, froms, rate, mix in (
        (p_code, p_year, p_from, config.activities_per_year, PARTNER_ACTIVITY_MIX),
        (o_code, o_year, o_from, 0.8, OTHER_ACTIVITY_MIX),
    ):
        year_end = pd.to_datetime(pd.DataFrame({"year": yrs, "month": 12, "day": 31})).to_numpy()
        share = (year_end - froms) / np.timedelta64(365, "D")
        n = rng.poisson(rate * np.clip(share, 0, 1))
        code = np.repeat(codes, n)
        lo = np.repeat(froms, n)
        width = np.repeat((year_end - froms) / np.timedelta64(1, "D"), n)
        start = lo + (np.floor(rng.random(len(code)) * (width + 1))).astype("timedelta64[D]")
        frames.append(
            pd.DataFrame(
                {
                    "kommune_kode": code,
                    "start_date": start,
                    "activity_type": _draw_types(rng, mix, len(code)),
                }
            )
        )
    return _finish(_details(pd.concat(frames, ignore_index=True), rng, last))


def _details(acts: pd.DataFrame, rng: np.random.Generator, last: pd.Timestamp) -> pd.DataFrame:
    """End date, reach and cost by activity type (some left empty, as in a real log)."""
    prof = pd.DataFrame(ACTIVITY_PROFILE, index=["dmin", "dmax", "reach", "cost"]).T
    p = prof.loc[acts["activity_type"]].reset_index(drop=True)
    m = len(acts)
    days = p["dmin"].to_numpy() + np.floor(
        rng.random(m) * (p["dmax"] - p["dmin"] + 1).to_numpy()
    ).astype(int)
    end = (acts["start_date"] + pd.to_timedelta(days, unit="D")).clip(upper=last)
    reach = np.round(p["reach"].to_numpy() * np.exp(rng.normal(0, 0.5, m)))
    reach[(p["reach"].to_numpy() == 0) | (rng.random(m) < 0.08)] = np.nan
    cost = np.round(p["cost"].to_numpy() * np.exp(rng.normal(0, 0.4, m)), -2)
    cost[rng.random(m) < 0.1] = np.nan
    return acts.assign(end_date=end, reach=pd.array(reach, dtype="Int64"), cost_dkk=cost)


def _finish(acts: pd.DataFrame) -> pd.DataFrame:
    """Sorted by kommune and start, numbered ``A00001`` ... in that order."""
    acts = acts.drop(columns=["activity_id"], errors="ignore").sort_values(
        ["kommune_kode", "start_date", "activity_type"], kind="stable", ignore_index=True
    )
    acts.insert(0, "activity_id", [f"A{i:05d}" for i in range(1, len(acts) + 1)])
    return acts[ACTIVITY_COLUMNS]


def add_wave_responses(
    acts: pd.DataFrame,
    pop: Population,
    part: Partnerships,
    counts: np.ndarray,
    expected: np.ndarray,
    config: SimulationConfig,
    seed: int,
) -> pd.DataFrame:
    """Reaktionsplaner: a partnership kommune responds to a burglary wave the next quarter.

    A wave is a quarter from the signing quarter on with at least ``WAVE_MIN`` burglaries and
    ``WAVE_RATIO`` times the expected count. The plan has no effect on burglary, so a
    before/after comparison shows only regression to the mean.
    """
    rng = stream(seed, "activities-waves")
    t = np.arange(config.n_quarters)[None, :]
    signed_q = np.where(part.first_treated >= 0, part.first_treated - 1, config.n_quarters)
    wave = (
        (t >= signed_q[:, None])
        & (t + 1 < config.n_quarters)
        & (counts >= WAVE_MIN)
        & (counts >= WAVE_RATIO * expected)
    )
    k, q = np.nonzero(wave)
    nxt = q + 1
    qstart = pd.to_datetime(
        pd.DataFrame({"year": config.start_year + nxt // 4, "month": 3 * (nxt % 4) + 1, "day": 1})
    )
    start = qstart + pd.to_timedelta(rng.integers(7, 31, size=len(k)), unit="D")
    new = pd.DataFrame(
        {"kommune_kode": pop.codes[k], "start_date": start, "activity_type": "reaktionsplan"}
    )
    new = _details(new, rng, pd.Timestamp(config.end_year, 12, 31))
    return _finish(pd.concat([acts, new], ignore_index=True))


def activity_effects(acts: pd.DataFrame, pop: Population, config: SimulationConfig) -> np.ndarray:
    """Log effect on burglary (K, Q) of the activities: each lasts from its start quarter on."""
    out = np.zeros((len(pop.codes), config.n_quarters))
    eff = acts["activity_type"].map(config.activity_burglary_effects).fillna(0.0).to_numpy()
    keep = eff != 0
    if not keep.any():
        return out
    k = np.searchsorted(pop.codes, acts["kommune_kode"].to_numpy()[keep])
    q0 = _quarter_index(acts["start_date"][keep], config)
    lag = np.arange(config.activity_effect_quarters)
    rows = np.repeat(k, len(lag))
    cols = (q0[:, None] + lag[None, :]).ravel()
    vals = np.repeat(eff[keep], len(lag))
    inside = cols < config.n_quarters
    np.add.at(out, (rows[inside], cols[inside]), vals[inside])
    return out
