"""The annual citizen survey: stratified samples, nonresponse and answers with a latent structure.

Per year and kommune (stratum) a simple random sample of ``max(survey_min_n,
survey_fraction * N_h)`` adults is drawn from the simulated population; response
depends on age and sex. Respondents' answers follow one latent model: housing
drives victimisation (at the kommune's burglary rate that year), victims worry
more, women and the young worry more, partnerships lower fear by ``fear_effect``
(percentage points) and raise prevention and awareness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from botrygt_eval.simulate._random import person_number, pseudonyms, stream
from botrygt_eval.simulate.burglary import NORDSJAELLAND
from botrygt_eval.simulate.config import SimulationConfig
from botrygt_eval.simulate.population import AGE_BAND_LABELS, Population, age_band

ADULT_AGES = np.arange(18, 106)
#: log-odds added to fear of burglary for a victim of burglary or attempt
VICTIM_FEAR = 1.0
HOUSING_VICTIM = np.array([1.3, 1.0, 0.6, 1.1])  # detached, terraced, flat, farm


def _expit(x):
    return 1 / (1 + np.exp(-x))


@dataclass(frozen=True)
class KommuneYear:
    """Kommune x survey-year quantities shared by the survey and the registers (K, S)."""

    treated: np.ndarray  # bool: partnership in force by the survey (fielded in Q4)
    victim_rate: np.ndarray  # probability a household is burgled or attacked
    nabohjaelp_share: np.ndarray  # share of households in Nabohjælp
    activity: dict[str, np.ndarray]  # activity type -> number held in the kommune that year
    fear_intercept: float  # log-odds intercept, calibrated on the first survey year
    fear_shift: np.ndarray  # (S,) national change in points from the first year, calibrated
    fear_offset: (
        np.ndarray
    )  # (K, S) kommune part of the fear log-odds (burglary level, random effect)
    fear_share: np.ndarray  # (K, S) true population share worried


def housing_probs(urban: np.ndarray) -> np.ndarray:
    """P(detached, terraced, flat, farm/other) per kommune (K, 4)."""
    detached = 0.62 - 0.45 * urban
    flat = 0.10 + 0.60 * urban
    farm = np.clip(0.14 - 0.15 * urban, 0.02, None)
    p = np.column_stack([detached, np.full_like(urban, 0.14), flat, farm])
    return p / p.sum(axis=1, keepdims=True)


def fear_linear(female, age, offset) -> np.ndarray:
    """Fear log-odds without the year's intercept: women and the young worry more."""
    return 0.35 * female - 0.012 * (age - 45) + offset


def fear_probability(log_odds, shift) -> np.ndarray:
    """P(fear): the person's log-odds, moved by the year's national shift and effects (points)."""
    return np.clip(_expit(log_odds) + shift, 0.0, 1.0)


def kommune_years(
    pop: Population,
    counts: np.ndarray,
    counterfactual: np.ndarray,
    first_treated: np.ndarray,
    acts: pd.DataFrame,
    config: SimulationConfig,
    seed: int,
) -> KommuneYear:
    """Victimisation, Nabohjælp, exposure to activities, and the calibrated fear model.

    Victimisation follows the drawn counts (``counts``); the kommune's level in the fear
    model follows the expected rate without partnership and activity effects
    (``counterfactual``), so the partnership's effect on fear is ``fear_effect`` plus
    only the small channel through fewer victims.
    """
    rng = stream(seed, "survey-kommune")
    k = len(pop.codes)
    years = np.asarray(config.survey_years)
    yi = years - config.start_year
    annual = counts.reshape(k, -1, 4).sum(axis=2)[:, yi]
    brk = np.where(years >= config.recording_break_year, config.recording_break, 1.0)
    burgled = annual / pop.households[:, yi] / brk  # recorded rate, before the recording change
    victim_rate = np.clip(burgled * 1.15 * 1.7, 0, 0.3)  # burglary or attempt; not all reported
    first_year = np.where(first_treated >= 0, config.start_year + first_treated // 4, 10_000)
    treated = first_year[:, None] <= years[None, :]
    # activities held per kommune and year
    a_k = np.searchsorted(pop.codes, acts["kommune_kode"].to_numpy())
    a_y = acts["start_date"].dt.year.to_numpy() - config.survey_start_year
    inside = (a_y >= 0) & (a_y < len(years))
    activity = {}
    for kind in acts["activity_type"].unique():
        m = inside & (acts["activity_type"].to_numpy() == kind)
        grid = np.zeros((k, len(years)))
        np.add.at(grid, (a_k[m], a_y[m]), 1)
        activity[kind] = grid
    recruit = np.cumsum(activity.get("nabohjaelp_rekruttering", np.zeros((k, len(years)))), axis=1)
    nabo = (
        0.035
        + 0.0075 * (years - 2017)[None, :]
        + 0.02 * np.isin(pop.codes, NORDSJAELLAND)[:, None]
        + rng.normal(0, 0.01, size=(k, 1))
        + config.nabohjaelp_effect * treated
        + config.nabohjaelp_recruitment_effect * np.minimum(recruit, 3)
    )
    nabo = np.clip(nabo, 0.005, 0.5)
    # fear: calibrate the national intercept per year on the adult population
    kommune_re = rng.normal(0, 0.1, size=k)
    ambient = counterfactual.reshape(k, -1, 4).sum(axis=2)[:, yi] / pop.households[:, yi]
    lograte = np.log(ambient)
    offset = 0.35 * (lograte - lograte.mean(axis=0, keepdims=True)) + kommune_re[:, None]
    n_years = len(years)
    target = np.linspace(config.fear_start, config.fear_end, n_years)
    pop_adult = pop.counts[:, yi][:, :, :, 18:].astype(float)  # (K, S, 2, A)
    female = np.array([0.0, 1.0])[None, None, :, None]
    age = ADULT_AGES[None, None, None, :].astype(float)
    lin = fear_linear(female, age, offset[:, :, None, None])
    pv = victim_rate[:, :, None, None]

    weight = pop_adult / pop_adult.sum(axis=(0, 2, 3), keepdims=True)

    def share(intercept: float, shift: np.ndarray) -> np.ndarray:
        moved = shift[None, :, None, None] + config.fear_effect * treated[:, :, None, None]
        return (1 - pv) * fear_probability(intercept + lin, moved) + pv * fear_probability(
            intercept + lin + VICTIM_FEAR, moved
        )

    # the first year fixes the log-odds intercept; later years move every kommune by the same
    # number of points, so trends are parallel on the scale the outcome is reported on
    lo, hi = -8.0, 4.0
    no_shift = np.zeros(n_years)
    for _ in range(60):  # bisection
        mid = (lo + hi) / 2
        first = (share(mid, no_shift) * weight).sum(axis=(0, 2, 3))[0]
        lo, hi = (mid, hi) if first < target[0] else (lo, mid)
    intercept = (lo + hi) / 2
    shift = np.zeros(n_years)
    for _ in range(20):  # fixed point; only clipping at 0 or 1 makes it take more than one step
        shift = shift + target - (share(intercept, shift) * weight).sum(axis=(0, 2, 3))
    fear_share = (share(intercept, shift) * pop_adult).sum(axis=(2, 3)) / pop_adult.sum(axis=(2, 3))
    return KommuneYear(treated, victim_rate, nabo, activity, intercept, shift, offset, fear_share)


def _categorical(rng: np.random.Generator, probs: np.ndarray, codes) -> np.ndarray:
    """One draw per row of ``probs`` (n, c), returned as ``codes``."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return np.asarray(codes, dtype=float)[(u > cum).sum(axis=1)]


def _yes_no(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    return np.where(rng.random(len(p)) < p, 1.0, 2.0)


def _specials(rng, values, p98=0.015, p99=0.005, p_skip=0.005) -> np.ndarray:
    u = rng.random(len(values))
    out = np.where(u < p98, 98.0, values)
    out = np.where((u >= p98) & (u < p98 + p99), 99.0, out)
    return np.where(u >= 1 - p_skip, np.nan, out)


def draw_sample(pop: Population, year: int, config: SimulationConfig, seed: int) -> pd.DataFrame:
    """The drawn sample of ``year`` with design columns and the response indicator."""
    rng = stream(seed, f"survey-sample-{year}")
    yi = year - config.start_year
    cells = pop.counts[:, yi, :, 18:].reshape(len(pop.codes), -1)  # (K, 2*A) sex-major
    big_n = cells.sum(axis=1)
    n = np.minimum(big_n, np.maximum(config.survey_min_n, np.rint(config.survey_fraction * big_n)))
    n = n.astype(np.int64)
    parts = [np.sort(rng.choice(big_n[k], size=n[k], replace=False)) for k in range(len(n))]
    index = np.concatenate(parts)
    kk = np.repeat(np.arange(len(n)), n)
    # position in the kommune's sex-age cells: search the running total over all kommuner
    offset = np.concatenate([[0], np.cumsum(big_n)[:-1]])
    cell_global = np.searchsorted(np.cumsum(cells.ravel()), index + offset[kk], side="right")
    cell = cell_global - kk * cells.shape[1]
    sex = cell // len(ADULT_AGES)
    age = ADULT_AGES[cell % len(ADULT_AGES)]
    codes = pop.codes[kk]
    logit = (
        config.response_intercept
        + config.response_age_per_decade * (np.minimum(age, 80) - 50) / 10
        + config.response_female * sex
        - 0.02 * (year - config.survey_start_year)
        + stream(seed, f"survey-response-re-{year}").normal(0, 0.1, size=len(n))[kk]
    )
    responded = (rng.random(len(index)) < _expit(logit)).astype(np.int64)
    incl = n[kk] / big_n[kk]
    frame = pd.DataFrame(
        {
            "resp_id": pseudonyms(person_number(year, codes, index), seed),
            "year": year,
            "kommune_kode": codes,
            "sex": np.where(sex == 1, "female", "male"),
            "age": age,
            "age_band": age_band(age),
            "incl_prob": incl,
            "design_weight": 1 / incl,
            "stratum_population": big_n[kk],
            "responded": responded,
        }
    )
    return frame.sort_values(["kommune_kode", "resp_id"], kind="stable", ignore_index=True)


def answer(
    sample: pd.DataFrame,
    pop: Population,
    ky: KommuneYear,
    config: SimulationConfig,
    seed: int,
) -> pd.DataFrame:
    """The platform export of one year: respondents only, item codes of that year's questionnaire."""
    year = int(sample["year"].iloc[0])
    rng = stream(seed, f"survey-answers-{year}")
    resp = sample[sample["responded"] == 1].reset_index(drop=True)
    m = len(resp)
    s = year - config.survey_start_year
    k = np.searchsorted(pop.codes, resp["kommune_kode"].to_numpy())
    age = resp["age"].to_numpy().astype(float)
    female = (resp["sex"] == "female").to_numpy().astype(float)
    band = np.searchsorted(np.asarray(AGE_BAND_LABELS), resp["age_band"].to_numpy())
    urban = pop.kommuner["urban"].to_numpy()[k]
    treated = ky.treated[k, s].astype(float)
    act = {name: grid[k, s] > 0 for name, grid in ky.activity.items()}
    exposed = lambda name: act.get(name, np.zeros(m, dtype=bool)).astype(float)  # noqa: E731
    out: dict[str, np.ndarray] = {}
    # household
    housing = _categorical(rng, housing_probs(urban), [1, 2, 3, 4])
    h = housing.astype(int) - 1
    tenure_p = np.array([[0.9, 0.07, 0.03], [0.55, 0.3, 0.15], [0.2, 0.5, 0.3], [0.9, 0.07, 0.03]])
    tenure = _categorical(rng, tenure_p[h], [1, 2, 3])
    p_child = np.array([0.2, 0.65, 0.4, 0.04, 0.01])[band]
    children = rng.random(m) < p_child
    size_p = np.where(
        children[:, None],
        np.array([0.0, 0.1, 0.35, 0.55])[None, :],
        np.array(
            [
                [0.5, 0.4, 0.07, 0.03],
                [0.35, 0.5, 0.1, 0.05],
                [0.35, 0.5, 0.1, 0.05],
                [0.4, 0.58, 0.02, 0.0],
                [0.55, 0.45, 0.0, 0.0],
            ]
        )[band],
    )
    hh_size = _categorical(rng, size_p, [1, 2, 3, 4])
    # victimisation at the kommune's rate, by type of home
    # relative risk by type of home, scaled so the kommune's average is its victim rate
    mult = HOUSING_VICTIM[h] / (housing_probs(urban) @ HOUSING_VICTIM)
    p_victim = np.clip(ky.victim_rate[k, s] * mult, 0, 0.5)
    victim = rng.random(m) < p_victim
    burgled = victim & (rng.random(m) < 0.6)  # the rest were attempts
    attempt = (victim & ~burgled) | (rng.random(m) < 0.3 * p_victim)
    out["vict_burglary"] = _specials(rng, np.where(burgled, 1.0, 2.0), 0.004, 0.002, 0.0)
    out["vict_attempt"] = _specials(rng, np.where(attempt, 1.0, 2.0), 0.004, 0.002, 0.0)
    asked = (out["vict_burglary"] == 1) | (out["vict_attempt"] == 1)
    p_report = np.where(burgled, 0.85, 0.4)
    out["vict_reported"] = np.where(
        asked, _specials(rng, _yes_no(rng, p_report), 0.02, 0.005, 0.0), np.nan
    )
    # fear (the latent outcome) and tryghed
    log_odds = ky.fear_intercept + fear_linear(female, age, ky.fear_offset[k, s])
    p_fear = fear_probability(
        log_odds + VICTIM_FEAR * victim, ky.fear_shift[s] + config.fear_effect * treated
    )
    fear = rng.random(m) < p_fear
    if year == 2024:
        worry = np.where(
            fear,
            _categorical(rng, np.tile([0.3, 0.7], (m, 1)), [1, 2]),
            _categorical(rng, np.tile([0.35, 0.4, 0.25], (m, 1)), [3, 4, 5]),
        )
    else:
        worry = np.where(
            fear,
            _categorical(rng, np.tile([0.25, 0.75], (m, 1)), [1, 2]),
            _categorical(rng, np.tile([0.55, 0.45], (m, 1)), [3, 4]),
        )
    out["worry_burglary"] = _specials(rng, worry)
    like_p = np.where(fear[:, None], [0.15, 0.45, 0.35, 0.05], [0.02, 0.13, 0.6, 0.25])
    out["likelihood_burglary"] = _specials(rng, _categorical(rng, like_p, [1, 2, 3, 4]), 0.05)
    for item, p_unsafe in (
        ("safe_home_dark", 0.04 + 0.12 * fear + 0.02 * female),
        ("safe_area_dark", 0.08 + 0.15 * fear + 0.08 * female + 0.08 * urban),
    ):
        unsafe = rng.random(m) < p_unsafe
        codes = np.where(
            unsafe,
            np.where(rng.random(m) < 0.8, 3.0, 4.0),
            np.where(rng.random(m) < 0.55, 1.0, 2.0),
        )
        out[item] = _specials(rng, codes)
    # prevention: the five pieces of advice
    eff = config.prevention_effects
    out["prev_nabohjaelp"] = _specials(rng, _yes_no(rng, ky.nabohjaelp_share[k, s]))
    out["prev_light_hedge"] = _specials(
        rng,
        _yes_no(rng, 0.45 + 0.015 * s + 0.1 * (h == 0) + eff.get("prev_light_hedge", 0) * treated),
    )
    out["prev_secure_home"] = _specials(
        rng,
        _yes_no(rng, 0.55 + 0.015 * s + 0.15 * victim + eff.get("prev_secure_home", 0) * treated),
    )
    bought = rng.random(m) < np.clip(0.8 - 0.007 * (age - 18), 0.1, 1)
    out["prev_safe_payment"] = _specials(rng, np.where(bought, _yes_no(rng, np.full(m, 0.7)), 3.0))
    out["prev_call_114"] = _specials(
        rng, _yes_no(rng, 0.72 + 0.01 * s + eff.get("prev_call_114", 0) * treated)
    )
    # awareness and participation
    launched = max(0, year - 2017)
    out["aware_botrygt"] = _specials(
        rng, _yes_no(rng, 0.04 + 0.03 * launched + config.awareness_effect * treated)
    )
    out["aware_campaign"] = _specials(rng, _yes_no(rng, 0.12 + 0.15 * exposed("kampagne")))
    out["attend_tryghedsvandring"] = _specials(
        rng, _yes_no(rng, 0.01 + 0.02 * exposed("tryghedsvandring"))
    )
    out["attend_borgermoede"] = _specials(rng, _yes_no(rng, 0.008 + 0.015 * exposed("borgermoede")))
    korps = _specials(rng, _yes_no(rng, 0.005 + 0.04 * exposed("bo_trygt_korps")))
    if year != 2024:
        out["korps_visit"] = korps
    trust_p = np.where(fear[:, None], [0.12, 0.45, 0.3, 0.13], [0.2, 0.5, 0.22, 0.08])
    out["trust_police"] = _specials(rng, _categorical(rng, trust_p, [1, 2, 3, 4]), 0.06)
    out["trust_kommune"] = _specials(
        rng, _categorical(rng, np.tile([0.08, 0.45, 0.35, 0.12], (m, 1)), [1, 2, 3, 4]), 0.08
    )
    out["housing_type"] = _specials(rng, housing, 0.003, 0.002)
    out["tenure"] = _specials(rng, tenure, 0.005, 0.005)
    out["household_size"] = _specials(rng, hh_size, 0.002, 0.003)
    out["household_children"] = _specials(rng, np.where(children, 1.0, 2.0), 0.002, 0.003)
    frame = pd.DataFrame({"resp_id": resp["resp_id"], "year": year})
    for name in ITEMS_2025:
        if name in out:
            frame[name] = pd.array(out[name], dtype="Float64").astype("Int64")
    return frame.sort_values("resp_id", kind="stable", ignore_index=True)


#: item columns in questionnaire order (2024 has no korps_visit)
ITEMS_2025 = (
    "vict_burglary",
    "vict_attempt",
    "vict_reported",
    "worry_burglary",
    "likelihood_burglary",
    "safe_home_dark",
    "safe_area_dark",
    "prev_nabohjaelp",
    "prev_light_hedge",
    "prev_secure_home",
    "prev_safe_payment",
    "prev_call_114",
    "aware_botrygt",
    "aware_campaign",
    "attend_tryghedsvandring",
    "attend_borgermoede",
    "korps_visit",
    "trust_police",
    "trust_kommune",
    "housing_type",
    "tenure",
    "household_size",
    "household_children",
)
