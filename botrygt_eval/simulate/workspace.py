"""Write the whole synthetic workspace (docs/DATA_FORMATS.md) and its truth.json."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval import SIMULATED_BANNER
from botrygt_eval.options import DEFAULT_SEED
from botrygt_eval.simulate._random import person_number, pseudonyms, stream
from botrygt_eval.simulate.burglary import (
    Burglaries,
    base_rates,
    quarter_years,
    simulate_burglaries,
)
from botrygt_eval.simulate.config import SimulationConfig
from botrygt_eval.simulate.geo import simulate_geo
from botrygt_eval.simulate.learning_review import write_projektleder_responses
from botrygt_eval.simulate.media import simulate_media
from botrygt_eval.simulate.partnerships import (
    WAVE_MIN,
    WAVE_RATIO,
    Partnerships,
    activity_effects,
    add_wave_responses,
    partnership_effects,
    select_partnerships,
    simulate_activities,
)
from botrygt_eval.simulate.population import (
    AGE_BAND_LABELS,
    Population,
    age_band,
    simulate_population,
)
from botrygt_eval.simulate.survey import ITEMS_2025, KommuneYear, answer, draw_sample, kommune_years
from botrygt_eval.simulate.writers import area_rows, write_csv, write_statbank

Progress = Callable[[str], None]
#: Christiansø: about 90 inhabitants in 45 households, no burglaries to speak of
CHRISTIANSOE_PEOPLE, CHRISTIANSOE_HOUSEHOLDS = 90, 45
OFFENCE = "1320 Indbrud i beboelser"


def _period_labels(config: SimulationConfig) -> np.ndarray:
    year, quarter = quarter_years(config)
    return np.char.add(np.char.add(year.astype(str), "K"), quarter.astype(str))


def _long(labels: list[str], values: np.ndarray, inner: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Area-major long columns: ``values`` is (areas, *inner sizes)."""
    n_inner = int(np.prod([len(v) for v in inner]))
    cols = {"OMRÅDE": np.repeat(np.asarray(labels, dtype=object), n_inner)}
    reps = n_inner
    for v in inner:
        reps //= len(v)
        cols[len(cols)] = np.tile(
            np.repeat(np.asarray(v, dtype=object), reps), len(labels) * n_inner // (len(v) * reps)
        )
    cols["INDHOLD"] = values.reshape(-1)
    return cols


def _write_statbank_files(
    out: Path,
    pop: Population,
    burg: Burglaries,
    config: SimulationConfig,
    hidden: list[tuple[int, int]],
) -> list[Path]:
    labels, member, chr_in = area_rows(pop.kommuner)
    years = np.asarray(config.years)
    periods = _period_labels(config)
    paths = []
    # STRAF11: quarterly, with '..' in a few cells of tiny kommuner
    q = member @ burg.counts  # Christiansø: no burglaries
    cells = q.astype(np.int64).astype(object)
    area_of = {
        code: labels.index(name)
        for code, name in zip(pop.codes, pop.kommuner["kommune"], strict=True)
    }
    for k, t in hidden:
        cells[area_of[int(pop.codes[k])], t] = ".."
    cols = _long(labels, cells, [np.array([OFFENCE]), periods])
    paths.append(
        write_statbank(
            out / "statbank/STRAF11.csv",
            {
                "OMRÅDE": cols["OMRÅDE"],
                "OVERTRÆD": cols[1],
                "TID": cols[2],
                "INDHOLD": cols["INDHOLD"],
            },
        )
    )
    annual = (member @ burg.counts.reshape(len(pop.codes), -1, 4).sum(axis=2)).astype(np.int64)
    cols = _long(labels, annual, [np.array([OFFENCE]), years.astype(str)])
    paths.append(
        write_statbank(
            out / "statbank/STRAF10.csv",
            {
                "OMRÅDE": cols["OMRÅDE"],
                "OVERTRÆD": cols[1],
                "TID": cols[2],
                "INDHOLD": cols["INDHOLD"],
            },
        )
    )
    # FOLK1A: (areas, sex, age, year)
    counts = pop.counts.transpose(0, 2, 3, 1)  # (K, 2, A, Y)
    by_area = np.tensordot(member, counts, axes=(1, 0))
    shape = pop.counts[:, -1].sum(axis=0)  # national (2, A) in the last year
    chr_people = np.floor(CHRISTIANSOE_PEOPLE * shape / shape.sum() + 0.5).astype(np.int64)
    by_area = by_area + chr_in[:, None, None, None] * chr_people[None, :, :, None]
    ages = np.array([f"{a} år" for a in range(counts.shape[2])])
    cols = _long(
        labels,
        by_area.astype(np.int64),
        [
            np.array(["Mænd", "Kvinder"]),
            ages,
            np.array(["I alt"]),
            np.char.add(years.astype(str), "K1"),
        ],
    )
    paths.append(
        write_statbank(
            out / "statbank/FOLK1A.csv",
            {
                "OMRÅDE": cols["OMRÅDE"],
                "KØN": cols[1],
                "ALDER": cols[2],
                "CIVILSTAND": cols[3],
                "TID": cols[4],
                "INDHOLD": cols["INDHOLD"],
            },
        )
    )
    hh = member @ pop.households + chr_in[:, None] * CHRISTIANSOE_HOUSEHOLDS
    cols = _long(labels, hh.astype(np.int64), [years.astype(str)])
    paths.append(
        write_statbank(
            out / "statbank/FAM55N.csv",
            {"OMRÅDE": cols["OMRÅDE"], "TID": cols[1], "INDHOLD": cols["INDHOLD"]},
        )
    )
    return paths


def _margins(pop: Population, year: int, config: SimulationConfig) -> pd.DataFrame:
    adults = pop.counts[:, year - config.start_year, :, 18:]  # (K, 2, A)
    bands = age_band(np.arange(18, adults.shape[2] + 18))
    by_band = pd.Series(adults.sum(axis=(0, 1))).groupby(bands).sum()
    rows = [
        ("kommune_kode", str(c), int(n))
        for c, n in zip(pop.codes, adults.sum(axis=(1, 2)), strict=True)
    ]
    rows += [
        ("sex", s, int(n)) for s, n in zip(("male", "female"), adults.sum(axis=(0, 2)), strict=True)
    ]
    rows += [("age_band", b, int(by_band[b])) for b in AGE_BAND_LABELS]
    return pd.DataFrame(rows, columns=["variable", "level", "total"])


def _write_frame(pop: Population, seed: int, path: Path) -> Path:
    """The adults of the last simulated year as next year's frame (np.repeat, no row loop).

    Built as an Arrow table straight from numpy (no Python string objects) and written
    without timestamps, so the same seed gives the same bytes.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    adults = pop.counts[:, -1, :, 18:]  # (K, 2, A)
    k, _, n_age = adults.shape
    flat = adults.reshape(-1)
    per_kommune = adults.sum(axis=(1, 2))
    kk = np.repeat(np.arange(k), per_kommune)
    sex = np.repeat(np.tile(np.repeat(np.array([0, 1], dtype=np.int8), n_age), k), flat)
    age = np.repeat(np.tile(np.arange(18, 18 + n_age, dtype=np.int64), 2 * k), flat)
    starts = np.repeat(np.concatenate([[0], np.cumsum(per_kommune)[:-1]]), per_kommune)
    index = np.arange(len(kk)) - starts
    ids = pseudonyms(person_number(pop.years[-1] + 1, pop.codes[kk], index), seed, as_bytes=True)
    bands = age_band(np.arange(18, 18 + n_age))
    band_idx = np.searchsorted(np.asarray(AGE_BAND_LABELS), bands)[age - 18].astype(np.int8)

    def labels(indices: np.ndarray, names) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(indices), pa.array(list(names))).cast(
            pa.string()
        )

    table = pa.table(
        {
            "resp_id": pa.array(ids, type=pa.binary(16)).cast(pa.string()),
            "kommune_kode": pa.array(pop.codes[kk].astype(np.int64)),
            "sex": labels(sex, ("male", "female")),
            "age": pa.array(age),
            "age_band": labels(band_idx, AGE_BAND_LABELS),
        }
    )
    table = table.replace_schema_metadata({"data_source": SIMULATED_BANNER})
    # random ids do not compress: dictionary-encode and compress only the repetitive columns
    pq.write_table(
        table,
        path,
        compression="snappy",
        use_dictionary=["kommune_kode", "sex", "age", "age_band"],
    )
    return path


def _nabohjaelp(pop: Population, ky: KommuneYear, config: SimulationConfig) -> pd.DataFrame:
    years = np.asarray(config.survey_years)
    hh = pop.households[:, years - config.start_year]
    members = np.rint(hh * ky.nabohjaelp_share).astype(np.int64)
    return pd.DataFrame(
        {
            "kommune_kode": np.repeat(pop.codes, len(years)),
            "year": np.tile(years, len(pop.codes)),
            "members": members.reshape(-1),
        }
    )


def _hidden_cells(pop: Population, config: SimulationConfig, seed: int) -> list[tuple[int, int]]:
    """A few (kommune index, quarter) cells of the smallest kommuner published as '..'."""
    rng = stream(seed, "statbank-hidden")
    smallest = np.argsort(pop.totals[:, 0], kind="stable")[:3]
    ks = rng.choice(smallest, size=3)
    ts = rng.choice(config.n_quarters, size=3, replace=False)
    return sorted({(int(k), int(t)) for k, t in zip(ks, ts, strict=True)})


def _round(x, digits=6):
    return float(round(float(x), digits))


def _burglary_att(part: Partnerships, effects: np.ndarray, p_effects: np.ndarray) -> dict:
    """Mean true log effect on treated kommuner by event time: total and partnership only."""
    t = np.arange(effects.shape[1])[None, :]
    f = part.first_treated[:, None]
    event = np.where(f >= 0, t - f, -1)
    treated = event >= 0
    if not treated.any():
        return {"by_event_time": {}, "overall": None}
    e = event[treated]
    total = np.bincount(e, weights=effects[treated]) / np.bincount(e)
    own = np.bincount(e, weights=p_effects[treated]) / np.bincount(e)
    return {
        "definition": "mean over partnership kommuner of the true log rate ratio (expected / "
        "expected without effects) at each event time (0 = first treated quarter); total = "
        "partnership effect plus the effects of the activities held there",
        "overall_total": _round(effects[treated].mean()),
        "overall_partnership_only": _round(p_effects[treated].mean()),
        "by_event_time": {
            str(int(k)): {"total": _round(total[k]), "partnership_only": _round(own[k]),
                          "n_kommuner": int(n)}
            for k, n in enumerate(np.bincount(e)) if n
        },
    }  # fmt: skip


def _truth(seed, config, pop, part, burg, ky, acts, hidden, samples, att) -> dict:
    periods = _period_labels(config)
    k = len(pop.codes)
    year_q, _ = quarter_years(config)
    yi = year_q - config.start_year
    ny = len(config.years)

    def by_year(x):
        return np.bincount(np.tile(yi, k), weights=x.reshape(-1), minlength=ny)

    sim, exp_, cf = by_year(burg.counts), by_year(burg.expected), by_year(burg.counterfactual)
    ever = part.first_treated >= 0
    pre_q = year_q < config.recording_break_year
    pre_rate = (
        burg.counts[:, pre_q].sum(axis=1)
        / pop.households[:, : int(pre_q.sum() // 4)].sum(axis=1)
        * 4
    )
    cfg = dataclasses.asdict(config)
    cfg["national_totals"] = {str(y): v for y, v in config.national_totals.items()}
    partnerships = []
    reg = part.register
    for row in reg.itertuples(index=False):  # 25 rows
        i = int(np.searchsorted(pop.codes, row.kommune_kode))
        f = int(part.first_treated[i])
        partnerships.append(
            {
                "kommune_kode": int(row.kommune_kode),
                "signed_date": str(row.signed_date),
                "end_date": None if pd.isna(row.end_date) else str(row.end_date),
                "first_treated_quarter": str(periods[f]),
                "cohort_period": f + 1,
                "cohort_year": int(config.start_year + f // 4),
            }
        )
    years = config.survey_years
    return {
        "data_source": SIMULATED_BANNER,
        "seed": int(seed),
        "generator": "botrygt_eval.simulate",
        "config": cfg,
        "timing": {
            "first_treated_quarter": "the quarter after the quarter that contains signed_date "
            "(signing never falls on a quarter's first day, so panel timing 'next_period' agrees)",
            "period_numbering": f"cohort_period counts quarters from 1 = {config.start_year}K1",
            "burglary_buildup": f"log effect = effect * min((q - first_treated + 1) / "
            f"{config.buildup_quarters}, 1) in quarter q >= first_treated",
            "after_end_date": "absorbing: the effect stays after end_date",
            "survey": "survey fielded in Q4: a kommune counts as treated in survey year Y if its "
            "first treated quarter is in Y or earlier; survey effects are full from that year",
        },
        "effects": {
            "partnership_burglary_log_rate_ratio": config.partnership_effect,
            "partnership_burglary_rate_ratio": float(np.exp(config.partnership_effect)),
            "partnership_burglary_buildup_quarters": config.buildup_quarters,
            "partnership_fear_share_change": config.fear_effect,
            "partnership_nabohjaelp_share_change": config.nabohjaelp_effect,
            "partnership_prevention_share_change": dict(config.prevention_effects),
            "partnership_aware_botrygt_share_change": config.awareness_effect,
            "share_change_unit": "change in the probability of the outcome (a share of people, "
            "or of households for Nabohjælp): -0.03 = -3 percentage points; direct effect "
            "(fear also falls slightly through fewer victims, who worry more)",
            "activity_burglary_log_rate_ratio": dict(config.activity_burglary_effects),
            "activity_burglary_quarters": config.activity_effect_quarters,
            "activity_effect_rule": "an activity's log effect applies to its kommune in the quarter "
            "of start_date and the following quarters; effects of several activities add",
            "reaktionsplan_rule": "drawn in the quarter after a burglary wave (at least "
            f"{WAVE_MIN} burglaries and {WAVE_RATIO} times the expected count) in a partnership "
            "kommune from its signing quarter on; no effect, so before/after comparisons show "
            "regression to the mean",
            "nabohjaelp_rekruttering_share_change": config.nabohjaelp_recruitment_effect,
            "nabohjaelp_rekruttering_rule": "each recruitment activity raises the kommune's member "
            "share by this many points from its year on (at most three count)",
        },
        "burglary_att": att,
        "recording_break": {
            "from": f"{config.recording_break_year}K1",
            "factor": config.recording_break,
        },
        "selection": {
            "model": "Gumbel top-k (sequential sampling without replacement, probability "
            "proportional to exp(score)); score = coef_rate * z(alpha: the kommune's log "
            "burglary rate level) + coef_size * z(log population "
            f"{config.recording_break_year - 1}) + coef_trend * z(beta: its trend)",
            "coef_trend": config.selection_coef_trend,
            "coef_rate": config.selection_coef_rate,
            "coef_size": config.selection_coef_size,
            "pre_rate_ratio_partners_vs_others": _round(
                pre_rate[ever].mean() / pre_rate[~ever].mean()
            )
            if ever.any() and (~ever).any()
            else None,
        },
        "partnerships": partnerships,
        "cohort_by_kommune": {
            str(int(c)): (str(periods[f]) if f >= 0 else None)
            for c, f in zip(pop.codes, part.first_treated, strict=True)
        },
        "national_burglaries": {
            str(y): {
                "anchor": _round(config.national_totals[y], 1),
                "expected": _round(exp_[i], 1),
                "simulated": int(sim[i]),
                "counterfactual_expected": _round(cf[i], 1),
            }
            for i, y in enumerate(config.years)
        },
        "hidden_statbank_cells": [
            {
                "kommune_kode": int(pop.codes[kx]),
                "period": str(periods[t]),
                "true_count": int(burg.counts[kx, t]),
            }
            for kx, t in hidden
        ],
        "truth_uses_full_counts": "national totals and everything else here use the full simulated "
        "counts, including the cells published as '..'",
        "national_population": {
            str(y): int(v) for y, v in zip(config.years, pop.totals.sum(axis=0), strict=True)
        },
        "national_households": {
            str(y): int(v) for y, v in zip(config.years, pop.households.sum(axis=0), strict=True)
        },
        "fear_share_national": {
            str(y): _round(
                (ky.fear_share[:, i] * pop.adults()[:, y - config.start_year]).sum()
                / pop.adults()[:, y - config.start_year].sum()
            )
            for i, y in enumerate(years)
        },
        "fear_model": {
            "probability": "clip(expit(intercept + 0.35 female - 0.012 (age - 45) + 0.35 "
            "(log expected rate without effects - its national mean) + kommune effect + 1.0 "
            "victim) + shift[year] + fear_effect * treated, 0, 1)",
            "intercept": _round(ky.fear_intercept),
            "shift": {str(y): _round(ky.fear_shift[i]) for i, y in enumerate(years)},
        },
        "fear_definition": "population-weighted (adults 18+) true probability of fear_burglary "
        "(worry_burglary in {1, 2}), before item nonresponse",
        "fear_share_by_kommune": [
            {"kommune_kode": int(c), "year": int(y), "share": _round(ky.fear_share[j, i])}
            for j, c in enumerate(pop.codes)
            for i, y in enumerate(years)
        ],
        "survey": {
            str(y): {"invited": int(len(s)), "responded": int(s["responded"].sum())}
            for y, s in samples.items()
        },
        "activities": {
            "n": int(len(acts)),
            "by_type": {
                str(a): int(n) for a, n in acts["activity_type"].value_counts().sort_index().items()
            },
        },
    }


README = """# {banner}

Dette er en simuleret evalueringsmappe (syntetisk Danmark) skrevet af `botrygt-eval simulate`.
Ingen tal her beskriver virkelige kommuner, borgere eller partnerskaber.

This folder is a simulated evaluation workspace (a synthetic Denmark) written by
`botrygt-eval simulate --seed {seed}`. No number in it describes real municipalities,
citizens or partnerships. The layout and formats are those of docs/DATA_FORMATS.md.

- seed: {seed}
- statbank/: STRAF11 (quarterly burglaries of dwellings {y0}K1-{y1}K4), STRAF10 (annual),
  FOLK1A (population by sex and age, first quarter {y0}-{y1}), FAM55N (households) in
  StatBank's Danish export format, with national, regional and Christiansø rows
- registers/: partnerships.csv ({n_part} partnerships), activities.csv ({n_act} activities),
  nabohjaelp.csv
- survey/: sample_YYYY.csv, responses_YYYY.csv, margins_YYYY.csv for {s0}-{y1};
  {frame}
- media/: articles.csv (a synthetic Danish article corpus), hand_coded.csv (a hand-coded
  sample with planted codes; docs/MEDIA.md)
- truth.json: every true effect, the treatment timing rule, the cohorts and national totals

SIMULEREDE DATA / SIMULATED DATA
"""


def simulate_workspace(
    out: str | Path,
    seed: int = DEFAULT_SEED,
    config: SimulationConfig | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Write a synthetic Denmark to ``out`` in the workspace formats; return the files written."""
    config = config or SimulationConfig()
    out = Path(out)
    say = progress or (lambda _label: None)
    say("befolkning og husstande")
    pop = simulate_population(config, seed)
    rates = base_rates(pop, config, seed)
    say("partnerskaber og aktiviteter")
    part: Partnerships = select_partnerships(pop, rates, config, seed)
    acts = simulate_activities(pop, part, config, seed)
    p_effects = partnership_effects(part, config)
    effects = p_effects + activity_effects(acts, pop, config)
    say("indbrud")
    burg = simulate_burglaries(pop, rates, effects, config, seed)
    acts = add_wave_responses(acts, pop, part, burg.counts, burg.expected, config, seed)
    hidden = _hidden_cells(pop, config, seed)
    say("StatBank-filer")
    paths = _write_statbank_files(out, pop, burg, config, hidden)
    say("registre")
    ky = kommune_years(
        pop, burg.counts, burg.counterfactual, part.first_treated, acts, config, seed
    )
    paths.append(write_csv(out / "registers/partnerships.csv", part.register))
    paths.append(write_csv(out / "registers/activities.csv", acts))
    paths.append(write_csv(out / "registers/nabohjaelp.csv", _nabohjaelp(pop, ky, config)))
    samples = {}
    for year in config.survey_years:
        say(f"borgerundersøgelse {year}")
        sample = draw_sample(pop, year, config, seed)
        samples[year] = sample
        paths.append(write_csv(out / f"survey/sample_{year}.csv", sample))
        paths.append(
            write_csv(out / f"survey/responses_{year}.csv", answer(sample, pop, ky, config, seed))
        )
        paths.append(write_csv(out / f"survey/margins_{year}.csv", _margins(pop, year, config)))
    say("projektlederundersøgelse")
    paths.append(
        write_projektleder_responses(out / "survey/projektleder_2025.csv", seed)
    )  # the learning review's project-leader survey (docs/LEARNING_REVIEW.md)
    frame_note = "no sampling frame (write_frame=False)"
    if config.write_frame:
        say("stikprøveramme")
        frame_path = out / f"survey/frame_{config.end_year + 1}.parquet"
        paths.append(_write_frame(pop, seed, frame_path))
        frame_note = f"{frame_path.name}: the adult population as the frame for the next survey"
    say("lokale indbrud (kvadratnet)")
    geo_paths, geo_truth = simulate_geo(
        out, seed, pop.codes, pop.households[:, -1], burg.counts, _period_labels(config),
        part.register["kommune_kode"],
    )  # fmt: skip
    paths += geo_paths  # local monitoring (docs/MONITORING.md)
    att = _burglary_att(part, effects, p_effects)
    truth = _truth(seed, config, pop, part, burg, ky, acts, hidden, samples, att)
    truth["monitoring"] = geo_truth
    say("medieartikler")  # synthetic article corpus and hand-coded sample (docs/MEDIA.md)
    media = simulate_media(seed, partners=part.register)
    paths.append(write_csv(out / "media/articles.csv", media.articles))
    paths.append(write_csv(out / "media/hand_coded.csv", media.hand_coded))
    truth["media"] = media.truth
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths.append(truth_path)
    readme = out / "README.md"
    readme.write_text(
        README.format(
            banner=SIMULATED_BANNER,
            seed=seed,
            y0=config.start_year,
            y1=config.end_year,
            s0=config.survey_start_year,
            n_part=len(part.register),
            n_act=len(acts),
            frame=frame_note,
        ),
        encoding="utf-8",
    )
    paths.append(readme)
    return sorted(paths)


__all__ = ["simulate_workspace", "ITEMS_2025"]
