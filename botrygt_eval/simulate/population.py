"""Population by kommune, sex and single year of age, and households.

Sizes are log-normal around anchors (København, Aarhus, Aalborg, Odense, the small
islands), growing slowly (cities faster); the age pyramid is a Gompertz survival
curve with the Danish birth-cohort bumps, younger in cities and older on the land.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from botrygt_eval.reference import kommuner
from botrygt_eval.simulate._random import stream
from botrygt_eval.simulate.config import SimulationConfig

AGES = np.arange(106)
#: population in the first quarter of the last simulated year, for named kommuner
ANCHORS = {
    101: 655_000,  # København
    751: 362_000,  # Aarhus
    851: 222_000,  # Aalborg
    461: 207_000,  # Odense
    147: 104_000,  # Frederiksberg
    825: 1_780,  # Læsø
    563: 3_500,  # Fanø
    741: 3_650,  # Samsø
    492: 5_900,  # Ærø
    400: 39_000,  # Bornholm
}
#: the national total the anchors belong to
DEFAULT_TOTAL = 5_950_000
CITIES = (101, 147, 751, 851, 461)
AGE_BAND_EDGES = (18, 30, 45, 60, 75)
AGE_BAND_LABELS = ("18-29", "30-44", "45-59", "60-74", "75+")


def age_band(age: np.ndarray) -> np.ndarray:
    """The survey's age band of each age (18+)."""
    idx = np.searchsorted(np.asarray(AGE_BAND_EDGES), np.asarray(age), side="right") - 1
    return np.asarray(AGE_BAND_LABELS, dtype=object)[np.clip(idx, 0, 4)]


@dataclass(frozen=True)
class Population:
    """Kommune attributes and counts ``pop[k, year, sex, age]`` (sex 0 male, 1 female)."""

    kommuner: pd.DataFrame  # kommune_kode, kommune, region_kode, region, politikreds, urban
    years: list[int]
    counts: np.ndarray  # (K, Y, 2, 106) int64
    households: np.ndarray  # (K, Y) int64

    @property
    def codes(self) -> np.ndarray:
        return self.kommuner["kommune_kode"].to_numpy()

    @property
    def totals(self) -> np.ndarray:
        """Total population per kommune and year, (K, Y)."""
        return self.counts.sum(axis=(2, 3))

    def adults(self) -> np.ndarray:
        """Adults 18+ per kommune and year, (K, Y)."""
        return self.counts[:, :, :, 18:].sum(axis=(2, 3))


def _age_shape(urban: np.ndarray) -> np.ndarray:
    """Relative number of people at each age, per kommune (K, 106)."""
    a = AGES.astype(float)
    b, c = 1e-5, 0.11
    survival = np.exp(-(b / c) * (np.exp(c * a) - 1))
    cohorts = (
        1
        + 0.12 * np.exp(-(((a - 57) / 7) ** 2))
        - 0.08 * np.exp(-(((a - 40) / 6) ** 2))
        + 0.10 * np.exp(-(((a - 78) / 4) ** 2))
    )
    u = urban[:, None]
    young_adults = 1 + 0.9 * u * np.exp(-(((a - 27) / 6) ** 2))
    older = 1 + 0.3 * (1 - u) * np.exp(-(((a - 66) / 10) ** 2))
    shape = survival * cohorts * young_adults * older
    return shape / shape.sum(axis=1, keepdims=True)


def female_share(age: np.ndarray) -> np.ndarray:
    """Share of women at each age: slightly below half, rising in old age."""
    return 0.488 + 0.2 / (1 + np.exp(-(np.asarray(age, dtype=float) - 82) / 6))


def simulate_population(config: SimulationConfig, seed: int) -> Population:
    """Population counts for every kommune, year (first quarter), sex and age; households."""
    rng = stream(seed, "population")
    ref = kommuner().sort_values("kommune_kode").reset_index(drop=True)
    codes = ref["kommune_kode"].to_numpy()
    k = len(codes)
    log_size = rng.normal(np.log(42_000), 0.55, size=k)
    anchored = np.isin(codes, list(ANCHORS))
    others = ~anchored
    scale = config.population_total / DEFAULT_TOTAL  # anchors shrink with a smaller Denmark
    log_size[anchored] = np.log([ANCHORS[c] * scale for c in codes[anchored]])
    # keep the unanchored kommuner between the islands and the big cities
    log_size[others] = np.clip(log_size[others], np.log(8_000), np.log(120_000))
    remaining = config.population_total - sum(ANCHORS.values()) * scale
    size = np.exp(log_size)
    size[others] *= remaining / size[others].sum()
    urban = 1 / (1 + np.exp(-(np.log(size) - np.log(70_000)) / 0.6))
    urban[np.isin(codes, CITIES)] = np.maximum(urban[np.isin(codes, CITIES)], 0.9)
    # growth per year: cities faster, small kommuner shrink a little
    growth = 0.002 + 0.006 * (urban - 0.5) + rng.normal(0, 0.003, size=k)
    years = config.years
    back = np.asarray(years, dtype=float) - years[-1]
    totals = size[:, None] * np.exp(growth[:, None] * back[None, :])  # (K, Y)
    shape = _age_shape(urban)  # (K, A)
    fem = female_share(AGES)
    by_sex = np.stack([1 - fem, fem])  # (2, A)
    expected = totals[:, :, None, None] * shape[:, None, None, :] * by_sex[None, None, :, :]
    noise = np.exp(rng.normal(0, 0.03, size=expected.shape))
    counts = np.rint(expected * noise).astype(np.int64)
    # households: smaller in cities, shrinking slowly over time
    size_hh = (2.3 - 0.5 * urban)[:, None] * np.exp(-0.003 * back[None, :])
    hh = counts.sum(axis=(2, 3)) / size_hh
    hh *= config.households_total / hh[:, -1].sum()
    households = np.rint(hh).astype(np.int64)
    frame = ref.assign(urban=urban)
    return Population(kommuner=frame, years=years, counts=counts, households=households)
