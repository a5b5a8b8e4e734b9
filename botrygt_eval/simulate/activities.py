"""An in-memory synthetic Denmark for the activity evaluation (tests, power studies).

The same draws as :func:`botrygt_eval.simulate.simulate_workspace` for the tables the
activity evaluation reads (burglaries, households, partnerships, activities, Nabohjælp),
without writing files or simulating the survey, so a replication takes well under a
second. StatBank confidentiality gaps are not applied (every cell observed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.io.workspace import _EMPTY_COLUMNS, Workspace
from botrygt_eval.simulate.burglary import base_rates, quarter_years, simulate_burglaries
from botrygt_eval.simulate.config import SimulationConfig
from botrygt_eval.simulate.partnerships import (
    activity_effects,
    partnership_effects,
    select_partnerships,
    simulate_activities,
)
from botrygt_eval.simulate.population import simulate_population

try:  # reaktionsplaner drawn after burglary waves (newer simulator)
    from botrygt_eval.simulate.partnerships import add_wave_responses
except ImportError:  # pragma: no cover - older simulator without wave responses
    add_wave_responses = None
from botrygt_eval.simulate.survey import kommune_years


def simulated_activity_workspace(seed: int, config: SimulationConfig | None = None) -> Workspace:
    """A :class:`Workspace` with the register and StatBank tables of one simulated Denmark."""
    config = config or SimulationConfig()
    pop = simulate_population(config, seed)
    rates = base_rates(pop, config, seed)
    part = select_partnerships(pop, rates, config, seed)
    acts = simulate_activities(pop, part, config, seed)
    effects = partnership_effects(part, config) + activity_effects(acts, pop, config)
    burg = simulate_burglaries(pop, rates, effects, config, seed)
    if add_wave_responses is not None:
        acts = add_wave_responses(acts, pop, part, burg.counts, burg.expected, config, seed)
    ky = kommune_years(
        pop, burg.counts, burg.counterfactual, part.first_treated, acts, config, seed
    )
    year, quarter = quarter_years(config)
    k, q = burg.counts.shape
    quarterly = pd.DataFrame(
        {
            "kommune_kode": np.repeat(pop.codes, q),
            "year": np.tile(year, k),
            "quarter": np.tile(quarter, k),
            "offence_code": 1320,
            "burglaries": burg.counts.reshape(-1),
        }
    )
    years = np.asarray(config.years)
    households = pd.DataFrame(
        {
            "kommune_kode": np.repeat(pop.codes, len(years)),
            "year": np.tile(years, len(pop.codes)),
            "households": pop.households.reshape(-1),
        }
    )
    sy = np.asarray(config.survey_years)
    nabo = pd.DataFrame(
        {
            "kommune_kode": np.repeat(pop.codes, len(sy)),
            "year": np.tile(sy, len(pop.codes)),
            "members": np.rint(pop.households[:, sy - config.start_year] * ky.nabohjaelp_share)
            .astype(np.int64)
            .reshape(-1),
        }
    )
    register = part.register.copy()
    for col in ("signed_date", "end_date"):
        register[col] = pd.to_datetime(register[col])
    empty = {n: pd.DataFrame(columns=_EMPTY_COLUMNS[n]) for n in _EMPTY_COLUMNS}
    return Workspace(
        root=Path("<simulated in memory>"),
        burglaries_quarterly=quarterly,
        burglaries_annual=empty["burglaries_annual"],
        population=empty["population"],
        households=households,
        partnerships=register,
        activities=acts,
        nabohjaelp=nabo,
        samples=empty["samples"],
        responses=empty["responses"],
        margins={},
    )
