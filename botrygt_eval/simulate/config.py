"""Parameters of the synthetic Denmark, in one frozen dataclass.

Tests and coverage studies vary a copy (``dataclasses.replace(cfg, ...)``); the
defaults reproduce the calibration targets of ``shared/reference/denmark/README.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from botrygt_eval.errors import ConfigError

#: national reported burglaries of dwellings per year (README anchors; 2010-2017 interpolated)
DEFAULT_NATIONAL_TOTALS: dict[int, float] = {
    **{y: 40_000 + (29_000 - 40_000) * (y - 2010) / 8 for y in range(2010, 2018)},
    2018: 29_000,
    2019: 24_550,
    2020: 17_530,
    2021: 14_800,
    2022: 14_960,
    2023: 14_840,
    2024: 14_400,
    2025: 14_100,
}

#: log rate-ratio effect on burglary per activity, and how many quarters it lasts
DEFAULT_ACTIVITY_BURGLARY_EFFECTS: dict[str, float] = {
    "kampagne": 0.0,
    "tryghedsvandring": 0.0,
    "borgermoede": 0.0,
    "nabohjaelp_rekruttering": 0.0,
    "bo_trygt_korps": math.log(0.95),
    "reaktionsplan": 0.0,
    "data_gis": 0.0,
    "lokalt_arrangement": 0.0,
    "mobil_politistation": 0.0,
    "erhvervssamarbejde": 0.0,
    "andet": 0.0,
}


@dataclass(frozen=True)
class SimulationConfig:
    """Everything the simulator can be told; defaults give the calibrated Denmark."""

    start_year: int = 2010
    end_year: int = 2025
    survey_start_year: int = 2017
    # population (first quarter of end_year) and households
    population_total: float = 5_950_000
    households_total: float = 2_800_000
    # burglary
    national_totals: dict[int, float] = field(
        default_factory=lambda: dict(DEFAULT_NATIONAL_TOTALS), hash=False
    )
    seasonal: tuple[float, float, float, float] = (1.0, 0.8, 0.9, 1.3)
    recording_break_year: int = 2018
    recording_break: float = 1.08
    nb_size: float = 60.0
    kommune_sd: float = 0.25
    trend_sd: float = 0.015
    # partnerships
    n_partnerships: int = 25
    first_signing_year: int = 2018
    last_signing_year: int = 2024
    selection_coef_rate: float = 1.0
    selection_coef_size: float = 0.3
    selection_coef_trend: float = 0.0
    partnership_effect: float = math.log(0.9)
    buildup_quarters: int = 4
    # activities
    activity_burglary_effects: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_ACTIVITY_BURGLARY_EFFECTS), hash=False
    )
    activity_effect_quarters: int = 4
    activities_per_year: float = 6.0
    nabohjaelp_recruitment_effect: float = 0.01
    # survey
    survey_min_n: int = 300
    survey_fraction: float = 0.0075
    response_intercept: float = -0.45
    response_age_per_decade: float = 0.25
    response_female: float = 0.2
    fear_start: float = 0.25
    fear_end: float = 0.18
    fear_effect: float = -0.03
    nabohjaelp_effect: float = 0.04
    prevention_effects: dict[str, float] = field(
        default_factory=lambda: {"prev_light_hedge": 0.03, "prev_secure_home": 0.03}, hash=False
    )
    awareness_effect: float = 0.15
    write_frame: bool = True

    def __post_init__(self) -> None:
        if self.end_year < self.start_year or not (
            self.start_year <= self.survey_start_year <= self.end_year
        ):
            raise ConfigError(
                f"years {self.start_year}-{self.end_year} with survey from "
                f"{self.survey_start_year}: the survey must start inside the simulated years"
            )
        missing = [y for y in self.years if y not in self.national_totals]
        if missing:
            raise ConfigError(
                f"national_totals has no burglary total for {missing}; give one per simulated year"
            )
        if not 0 <= self.n_partnerships <= 98:
            raise ConfigError(f"n_partnerships={self.n_partnerships} must be between 0 and 98")
        if (
            not self.start_year
            <= self.first_signing_year
            <= self.last_signing_year
            < self.end_year + 1
        ):
            raise ConfigError(
                f"signing years {self.first_signing_year}-{self.last_signing_year} must lie in "
                f"{self.start_year}-{self.end_year}"
            )
        if self.survey_min_n < 2 or not 0 < self.survey_fraction < 1:
            raise ConfigError(
                "survey_min_n must be at least 2 and survey_fraction a share between 0 and 1"
            )
        if self.activity_burglary_effects.get("reaktionsplan", 0.0) != 0.0:
            raise ConfigError(
                "activity_burglary_effects['reaktionsplan'] must be 0: the simulator draws "
                "reaktionsplaner after the burglary waves that trigger them, so they cannot "
                "change the counts; give another activity type the effect"
            )
        unknown = set(self.activity_burglary_effects) - set(DEFAULT_ACTIVITY_BURGLARY_EFFECTS)
        if unknown:
            raise ConfigError(
                f"activity_burglary_effects has unknown types {sorted(unknown)}; use "
                + ", ".join(DEFAULT_ACTIVITY_BURGLARY_EFFECTS)
            )

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))

    @property
    def survey_years(self) -> list[int]:
        return list(range(self.survey_start_year, self.end_year + 1))

    @property
    def n_quarters(self) -> int:
        return 4 * len(self.years)
