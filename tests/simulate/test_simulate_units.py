"""Simulator pieces on small configurations: determinism, config checks, ids, counts, effects."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

import numpy as np
import pytest

from botrygt_eval.errors import ConfigError
from botrygt_eval.simulate import SimulationConfig, simulate_workspace
from botrygt_eval.simulate._random import person_number, pseudonyms, stream
from botrygt_eval.simulate.burglary import base_rates, simulate_burglaries
from botrygt_eval.simulate.partnerships import partnership_effects, select_partnerships
from botrygt_eval.simulate.population import simulate_population

#: a small Denmark: 400,000 people, small samples (the layout is the full one)
SMALL = SimulationConfig(
    population_total=400_000, households_total=190_000, survey_min_n=20, survey_fraction=0.001
)


def _digests(root) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = simulate_workspace(tmp_path / "a", seed=11, config=SMALL)
    simulate_workspace(tmp_path / "b", seed=11, config=SMALL)
    simulate_workspace(tmp_path / "c", seed=12, config=SMALL)
    da, db, dc = (_digests(tmp_path / x) for x in "abc")
    # incl. survey/projektleder_2025.csv, media/*.csv (2), lokal/*.csv (3)
    assert len(a) == len(da) == 43
    assert da == db
    differ = {k for k in da if da[k] != dc[k]}
    assert {"statbank/STRAF11.csv", "survey/responses_2025.csv", "truth.json"} <= differ
    assert "survey/projektleder_2025.csv" in differ
    assert {"media/articles.csv", "media/hand_coded.csv"} <= differ
    assert {"lokal/indbrud.csv", "lokal/husstande.csv", "lokal/nabohjaelp_celler.csv"} <= differ
    assert "survey/frame_2026.parquet" in differ


def test_components_have_their_own_streams(tmp_path):
    """Changing the survey leaves the burglary counts and registers untouched."""
    simulate_workspace(tmp_path / "a", seed=5, config=SMALL)
    other = dataclasses.replace(SMALL, survey_min_n=25, fear_effect=-0.05)
    simulate_workspace(tmp_path / "b", seed=5, config=other)
    da, db = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    for name in ("statbank/STRAF11.csv", "statbank/FOLK1A.csv", "registers/partnerships.csv"):
        assert da[name] == db[name]
    assert da["survey/sample_2025.csv"] != db["survey/sample_2025.csv"]


def test_truth_records_the_config(tmp_path):
    cfg = dataclasses.replace(SMALL, partnership_effect=math.log(0.8), n_partnerships=10)
    simulate_workspace(tmp_path, seed=3, config=cfg)
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert truth["effects"]["partnership_burglary_rate_ratio"] == pytest.approx(0.8)
    assert len(truth["partnerships"]) == 10
    assert sum(v is not None for v in truth["cohort_by_kommune"].values()) == 10
    assert truth["recording_break"] == {"from": "2018K1", "factor": 1.08}
    assert truth["effects"]["activity_burglary_log_rate_ratio"]["bo_trygt_korps"] == pytest.approx(
        math.log(0.95)
    )
    assert truth["effects"]["activity_burglary_log_rate_ratio"]["borgermoede"] == 0


@pytest.mark.parametrize(
    "change",
    [
        {"survey_start_year": 2030},
        {"n_partnerships": 120},
        {"survey_fraction": 1.5},
        {"national_totals": {2010: 1.0}},
        {"activity_burglary_effects": {"yoga": 0.1}},
        {"first_signing_year": 2030},
        {"activity_burglary_effects": {"reaktionsplan": -0.1}},
    ],
)
def test_invalid_config_is_refused(change):
    with pytest.raises(ConfigError):
        SimulationConfig(**change)


def test_pseudonyms_unique_hex_and_keyed():
    numbers = person_number(2025, np.repeat([101, 825], 50_000), np.tile(np.arange(50_000), 2))
    ids = pseudonyms(numbers, seed=1)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 16 for i in ids[:100]) and set("".join(ids[:100])) <= set(
        "0123456789abcdef"
    )
    assert not np.array_equal(ids, pseudonyms(numbers, seed=2))
    assert np.array_equal(ids, pseudonyms(numbers, seed=1))


def test_streams_are_independent_of_order():
    a = stream(1, "x").random(3)
    stream(1, "y").random(10)
    assert np.array_equal(a, stream(1, "x").random(3))
    assert not np.array_equal(a, stream(1, "y").random(3))


def _burglary_setup(cfg, seed=4):
    pop = simulate_population(cfg, seed)
    rates = base_rates(pop, cfg, seed)
    return pop, rates


def test_counts_are_overdispersed_around_the_mean():
    cfg = SimulationConfig()
    pop, rates = _burglary_setup(cfg)
    zero = np.zeros((len(pop.codes), cfg.n_quarters))
    draws = [simulate_burglaries(pop, rates, zero, cfg, seed) for seed in range(30)]
    mu = draws[0].expected
    assert all(np.array_equal(d.expected, mu) for d in draws[1:])  # same mean, new noise
    y = np.stack([d.counts for d in draws])
    # mean recovered; variance = mu + mu^2 / size (negative binomial), not mu (Poisson)
    big = mu > 50
    assert y.mean(axis=0)[big].sum() / mu[big].sum() == pytest.approx(1, abs=0.01)
    ratio = y.var(axis=0, ddof=1)[big] / (mu[big] + mu[big] ** 2 / cfg.nb_size)
    assert 0.85 < ratio.mean() < 1.15
    assert (y.var(axis=0, ddof=1)[big] / mu[big]).mean() > 1.5


def test_partnership_effect_builds_up_over_four_quarters():
    cfg = SimulationConfig()
    pop, rates = _burglary_setup(cfg)
    part = select_partnerships(pop, rates, cfg, 4)
    eff = partnership_effects(part, cfg)
    k = int(np.flatnonzero(part.first_treated >= 0)[0])
    f = part.first_treated[k]
    assert np.all(eff[k, :f] == 0)
    expected = cfg.partnership_effect * np.array([0.25, 0.5, 0.75, 1.0, 1.0])
    assert np.allclose(eff[k, f : f + 5], expected[: cfg.n_quarters - f])
    never = part.first_treated < 0
    assert np.all(eff[never] == 0) and never.sum() == 98 - cfg.n_partnerships


def test_partnership_effect_recovered_from_counts():
    """A known-truth check: log(observed / counterfactual mean) on fully treated cells."""
    cfg = dataclasses.replace(SimulationConfig(), partnership_effect=math.log(0.8))
    pop, rates = _burglary_setup(cfg)
    part = select_partnerships(pop, rates, cfg, 4)
    eff = partnership_effects(part, cfg)
    est = []
    for seed in range(10):
        b = simulate_burglaries(pop, rates, eff, cfg, seed)
        full = eff == cfg.partnership_effect
        est.append(np.log(b.counts[full].sum() / b.counterfactual[full].sum()))
    assert np.mean(est) == pytest.approx(math.log(0.8), abs=0.02)


def test_selection_on_trend_only_when_asked():
    cfg = SimulationConfig()
    pop, rates = _burglary_setup(cfg)
    gaps = {}
    for coef in (0.0, 3.0):
        changed = dataclasses.replace(cfg, selection_coef_trend=coef, selection_coef_rate=0.0)
        part = [select_partnerships(pop, rates, changed, seed) for seed in range(20)]
        gaps[coef] = np.mean(
            [
                rates.beta[p.first_treated >= 0].mean() - rates.beta[p.first_treated < 0].mean()
                for p in part
            ]
        )
    assert abs(gaps[0.0]) < 0.5 * cfg.trend_sd
    assert gaps[3.0] > cfg.trend_sd


def test_config_is_hashable_and_replaceable():
    cfg = dataclasses.replace(SimulationConfig(), n_partnerships=5)
    assert cfg.n_partnerships == 5 and hash(cfg) == hash(dataclasses.replace(cfg))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_partnerships = 6  # type: ignore[misc]
