"""Synthetic geocoded burglaries, Nabohjælp members and households for a few kommuner.

Written to ``<workspace>/lokal/`` (docs/DATA_FORMATS.md) for the local monitoring
(botrygt_eval.monitoring). Each kommune is a hand-made box around its centre (no
boundaries are downloaded); households sit in towns (Gaussian densities) on 100 m
cells. The kommune's own simulated burglaries of the last eight quarters (the counts
in STRAF11) are spread over cells in proportion to households x a 1 km risk field,
three and a half times higher in planted 2 x 2 km hotspot blocks, where Nabohjælp
coverage is also low (the "gap"); 15 % of burglaries are near repeats of an earlier
one (within about 100 m and 14 days). Everything planted is recorded in truth.json.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.reference.grid import cell_ids, parse_cell_ids, wgs84_to_utm32
from botrygt_eval.simulate._random import stream
from botrygt_eval.simulate.writers import write_csv

#: kommune: (latitude, longitude of the centre, half-width east km, half-height north km)
GEO_KOMMUNER: dict[int, tuple[float, float, float, float]] = {
    101: (55.676, 12.568, 6.0, 6.0),  # København
    147: (55.679, 12.532, 1.5, 1.5),  # Frederiksberg
    157: (55.750, 12.550, 3.0, 3.0),  # Gentofte
    167: (55.640, 12.475, 3.0, 3.0),  # Hvidovre
    259: (55.458, 12.182, 9.0, 8.0),  # Køge
    265: (55.642, 12.080, 10.0, 8.0),  # Roskilde
    330: (55.403, 11.354, 14.0, 12.0),  # Slagelse
    370: (55.230, 11.760, 14.0, 12.0),  # Næstved
    461: (55.396, 10.388, 12.0, 10.0),  # Odense
    561: (55.476, 8.459, 12.0, 10.0),  # Esbjerg
    615: (55.861, 9.850, 12.0, 10.0),  # Horsens
    621: (55.490, 9.472, 12.0, 10.0),  # Kolding
    630: (55.709, 9.536, 14.0, 10.0),  # Vejle
    751: (56.157, 10.211, 12.0, 10.0),  # Aarhus
    791: (56.453, 9.402, 18.0, 15.0),  # Viborg
    851: (57.048, 9.919, 15.0, 12.0),  # Aalborg
}
N_QUARTERS = 8  # the last two simulated years
HOTSPOT_RATE_RATIO = 3.5
HOTSPOT_COVERAGE_RATIO = 0.4
NEAR_REPEAT_SHARE = 0.15
NEAR_REPEAT_SD_M = 60.0
NEAR_REPEAT_MAX_DAYS = 14
BASE_COVERAGE = 0.10


def _box(code: int) -> tuple[float, float, float, float]:
    """(east min, east max, north min, north max) of a kommune's box in UTM32 metres."""

    lat, lon, half_e, half_n = GEO_KOMMUNER[code]
    ce, cn = (float(v) for v in wgs84_to_utm32(lat, lon))
    return ce - half_e * 1000, ce + half_e * 1000, cn - half_n * 1000, cn + half_n * 1000


def _overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def choose_kommuner(partnership_codes, n_partners: int = 2, n_total: int = 4) -> list[int]:
    """København, up to ``n_partners`` partnership kommuner, others up to ``n_total``.

    Kommuner whose boxes would overlap one already chosen are skipped, so no grid cell
    belongs to two kommuner.
    """
    partners = sorted({int(c) for c in partnership_codes} & set(GEO_KOMMUNER) - {101})
    others = [c for c in sorted(GEO_KOMMUNER) if c not in partners and c != 101]
    chosen = [101]
    for pool, limit in ((partners, 1 + n_partners), (others, n_total)):
        for code in pool:
            if len(chosen) >= limit:
                break
            if not any(_overlaps(_box(code), _box(c)) for c in chosen):
                chosen.append(code)
    return sorted(chosen)


def _cells(code: int, households: int, rng: np.random.Generator) -> pd.DataFrame:
    """100 m cells of the kommune's box with households from a town-density surface."""
    e_min, _, n_min, _ = _box(code)
    _, _, half_e, half_n = GEO_KOMMUNER[code]
    ce, cn = e_min + half_e * 1000, n_min + half_n * 1000
    e0 = np.floor((ce - half_e * 1000) / 100) * 100
    n0 = np.floor((cn - half_n * 1000) / 100) * 100
    ne, nn = int(2 * half_e * 10), int(2 * half_n * 10)
    east = e0 + 50 + 100 * np.tile(np.arange(ne), nn)
    north = n0 + 50 + 100 * np.repeat(np.arange(nn), ne)
    towns_e = np.concatenate([[ce], rng.uniform(ce - half_e * 800, ce + half_e * 800, 3)])
    towns_n = np.concatenate([[cn], rng.uniform(cn - half_n * 800, cn + half_n * 800, 3)])
    sd = np.concatenate([[0.3 * min(half_e, half_n) * 1000], np.full(3, 700.0)])
    weight = np.array([1.0, 0.35, 0.25, 0.2])
    d2 = (east[:, None] - towns_e[None, :]) ** 2 + (north[:, None] - towns_n[None, :]) ** 2
    density = (weight * np.exp(-d2 / (2 * sd**2))).sum(axis=1) + 0.003
    density *= rng.gamma(2.0, 0.5, len(density)) * (rng.random(len(density)) > 0.15)
    hh = rng.multinomial(households, density / density.sum())
    return pd.DataFrame({"east": east, "north": north, "households": hh})


def _hotspot_blocks(km_codes, km_households, n_blocks: int, rng) -> np.ndarray:
    """Indices of ``n_blocks`` non-overlapping 2 x 2 km blocks of 1 km cells (a hotspot is
    a neighbourhood, not one square), anchored on cells among the quarter with most
    households; block cells without households are left out."""

    corner = parse_cell_ids(km_codes)
    row = (corner["north0"] // 1000).to_numpy()
    col = (corner["east0"] // 1000).to_numpy()
    index = {(int(r), int(c)): i for i, (r, c) in enumerate(zip(row, col, strict=True))}
    big = np.flatnonzero(km_households >= np.quantile(km_households, 0.75))
    chosen: list[int] = []
    for anchor in rng.permutation(big):
        r, c = int(row[anchor]), int(col[anchor])
        block = [index[k] for k in ((r, c), (r, c + 1), (r + 1, c), (r + 1, c + 1)) if k in index]
        near = {(r + dr, c + dc) for dr in range(-1, 3) for dc in range(-1, 3)}
        if any((int(row[i]), int(col[i])) in near for i in chosen):
            continue  # keep blocks apart (not even touching)
        chosen += block
        n_blocks -= 1
        if n_blocks == 0:
            break
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _kommune(
    code: int, households: int, quarter_counts: np.ndarray, quarter_starts, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:

    rng = stream(seed, f"geo-{code}")
    cells = _cells(code, households, rng)
    cells = cells.loc[cells["households"] > 0].reset_index(drop=True)
    cells["cell_id"] = cell_ids(cells["east"], cells["north"], "100m")
    km = cell_ids(cells["east"], cells["north"], "1km")
    km_codes, km_index = np.unique(km, return_inverse=True)
    km_households = np.bincount(km_index, weights=cells["households"])
    hot = _hotspot_blocks(km_codes, km_households, 2 if code == 101 else 1, rng)
    km_risk = np.exp(rng.normal(0, 0.25, len(km_codes)))
    km_risk[hot] *= HOTSPOT_RATE_RATIO
    weight = cells["households"].to_numpy() * km_risk[km_index]
    # Nabohjælp: logit-normal coverage per 1 km cell, lower in the hotspots
    km_cov = BASE_COVERAGE * np.exp(rng.normal(0, 0.4, len(km_codes)))
    km_cov[hot] *= HOTSPOT_COVERAGE_RATIO
    members = rng.binomial(cells["households"].to_numpy(), np.clip(km_cov[km_index], 0, 0.9))
    events = []
    for q, (count, start) in enumerate(zip(quarter_counts, quarter_starts, strict=True)):
        end = start + pd.offsets.QuarterEnd(0)
        n_days = (end - start).days + 1
        n_rep = rng.binomial(int(count), NEAR_REPEAT_SHARE)
        n_first = int(count) - n_rep
        if n_first <= 0:
            continue
        where = rng.choice(len(cells), size=n_first, p=weight / weight.sum())
        e = cells["east"].to_numpy()[where] + rng.uniform(-50, 50, n_first)
        n = cells["north"].to_numpy()[where] + rng.uniform(-50, 50, n_first)
        day = rng.integers(0, n_days, n_first)
        parent = rng.integers(0, n_first, n_rep)
        e = np.concatenate([e, e[parent] + rng.normal(0, NEAR_REPEAT_SD_M, n_rep)])
        n = np.concatenate([n, n[parent] + rng.normal(0, NEAR_REPEAT_SD_M, n_rep)])
        lag = rng.integers(1, NEAR_REPEAT_MAX_DAYS + 1, n_rep)
        day = np.concatenate([day, np.minimum(day[parent] + lag, n_days - 1)])
        events.append(
            pd.DataFrame(
                {
                    "date": start + pd.to_timedelta(day, unit="D"),
                    "east": np.rint(e).astype(np.int64),
                    "north": np.rint(n).astype(np.int64),
                    "quarter": q,
                }
            )
        )
    ev = pd.concat(events, ignore_index=True).assign(kommune_kode=code)
    cells = cells.assign(kommune_kode=code, members=members)
    truth = {
        "kommune_kode": code,
        "hotspot_cells": [str(c) for c in km_codes[hot]],
        "households": int(cells["households"].sum()),
        "burglaries": int(len(ev)),
        "nabohjaelp_members": int(members.sum()),
    }
    return ev, cells, truth


def simulate_geo(
    out: Path,
    seed: int,
    codes: np.ndarray,
    households_last_year: np.ndarray,
    burglary_counts: np.ndarray,
    quarter_labels: np.ndarray,
    partnership_codes,
) -> tuple[list[Path], dict]:
    """Write ``lokal/indbrud.csv``, ``husstande.csv``, ``nabohjaelp_celler.csv``; return the
    paths and the truth.json ``monitoring`` entry.

    ``burglary_counts`` is the (kommuner x quarters) matrix behind STRAF11; the last
    ``N_QUARTERS`` quarters are geocoded, so the points add up to the published counts.
    """
    chosen = choose_kommuner(partnership_codes)
    labels = [str(s) for s in quarter_labels[-N_QUARTERS:]]
    starts = [pd.Timestamp(f"{s[:4]}-{3 * (int(s[-1]) - 1) + 1:02d}-01") for s in labels]
    events, cells, truths = [], [], []
    for code in chosen:
        k = int(np.searchsorted(codes, code))
        ev, ce, tr = _kommune(
            code, int(households_last_year[k]), burglary_counts[k, -N_QUARTERS:], starts, seed
        )
        events.append(ev)
        cells.append(ce)
        truths.append(tr)
    ev = pd.concat(events, ignore_index=True)
    ev = ev.sort_values(["kommune_kode", "date", "east", "north"], kind="stable")
    ce = pd.concat(cells, ignore_index=True).sort_values(["kommune_kode", "cell_id"])
    paths = [
        write_csv(out / "lokal/indbrud.csv", ev[["kommune_kode", "date", "east", "north"]]),
        write_csv(out / "lokal/husstande.csv", ce[["kommune_kode", "cell_id", "households"]]),
        write_csv(
            out / "lokal/nabohjaelp_celler.csv",
            ce.loc[ce["members"] > 0, ["kommune_kode", "cell_id", "members"]].rename(
                columns={"members": "nabohjaelpere"}
            ),
        ),
    ]
    truth = {
        "description": "synthetic geocoded burglaries (ETRS89/UTM32N) of the last "
        f"{N_QUARTERS} quarters ({labels[0]}-{labels[-1]}) for a few kommuner, equal to their "
        "STRAF11 counts; households and Nabohjælp members per 100 m DST grid cell",
        "kommuner": chosen,
        "quarters": labels,
        "hotspot_rate_ratio": HOTSPOT_RATE_RATIO,
        "hotspot_coverage_ratio": HOTSPOT_COVERAGE_RATIO,
        "hotspot_rule": "planted hotspots are 2 x 2 km blocks of 1 km cells (two in København, "
        "one elsewhere; not touching), anchored on a cell among the quarter with most "
        "households; their burglary risk per household is multiplied by hotspot_rate_ratio "
        "and their Nabohjælp coverage by hotspot_coverage_ratio (so they are also gap cells); "
        "other 1 km cells vary by exp(N(0, 0.25)) in risk",
        "near_repeat": {
            "share": NEAR_REPEAT_SHARE,
            "distance_sd_m": NEAR_REPEAT_SD_M,
            "max_days": NEAR_REPEAT_MAX_DAYS,
            "rule": "a near repeat copies an earlier burglary of the same quarter, displaced "
            "by N(0, distance_sd_m) in each direction and 1..max_days days later (capped at "
            "the quarter's end)",
        },
        "hotspot_cells": [c for t in truths for c in t["hotspot_cells"]],
        "by_kommune": {str(t["kommune_kode"]): t for t in truths},
    }
    return paths, truth
