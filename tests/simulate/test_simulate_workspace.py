"""The full synthetic Denmark, written once through the CLI: formats, loading, calibration.

Calibration targets come from tests/reference/denmark/README.md (copied unchanged
from shared/reference) and from the simulator's brief (2010 ≈ 40,000 burglaries,
2024-2025 between 14,000 and 15,000, fear ≈ 25 % in 2017 and ≈ 18 % in 2025).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.instrument.bank import available_years
from botrygt_eval.instrument.schema import response_schema as instrument_schema
from botrygt_eval.io import schemas
from botrygt_eval.io.workspace import load_workspace

REFERENCE = Path(__file__).parents[1] / "reference" / "denmark" / "README.md"
SEED = 2018
#: one full run (~10 s of CPU) and loading it back (~6 s): over the 20-second mark
pytestmark = pytest.mark.slow


def _anchors() -> dict[int, int]:
    """National burglary levels stated in the reference README ('2018 ≈ 29,000; ...')."""
    text = REFERENCE.read_text(encoding="utf-8")
    line = text[text.index("## National burglary level") :]
    found = re.findall(r"(\d{4}) ≈ ([\d,]+)", line)
    return {int(y): int(v.replace(",", "")) for y, v in found}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "workspace"
    result = CliRunner().invoke(app, ["simulate", "--out", str(out), "--seed", str(SEED)])
    assert result.exit_code == 0, result.output
    assert "SIMULATED DATA" in result.output
    return out


@pytest.fixture(scope="module")
def truth(root) -> dict:
    return json.loads((root / "truth.json").read_text(encoding="utf-8"))


def _schema_for(root: Path):
    """The strict item-bank schema where the bank has the year, the default one otherwise."""
    bank = set(available_years())

    def schema(year: int):
        if year in bank:
            return instrument_schema(year)
        head = pd.read_csv(root / f"survey/responses_{year}.csv", nrows=0).columns
        return schemas.response_schema([c for c in head if c not in ("resp_id", "year")])

    return schema


@pytest.fixture(scope="module")
def ws(root, tmp_path_factory):
    quarantine = tmp_path_factory.mktemp("quarantine")
    return load_workspace(root, quarantine_dir=quarantine, response_schema=_schema_for(root))


@pytest.fixture(scope="module")
def survey(ws) -> pd.DataFrame:
    return ws.responses.merge(ws.samples, on=["resp_id", "year"], how="left", validate="1:1")


def test_layout_and_banner(root, truth):
    expected = [
        "README.md",
        "truth.json",
        "statbank/STRAF11.csv",
        "statbank/STRAF10.csv",
        "statbank/FOLK1A.csv",
        "statbank/FAM55N.csv",
        "registers/partnerships.csv",
        "registers/activities.csv",
        "registers/nabohjaelp.csv",
        "survey/frame_2026.parquet",
    ]
    for year in range(2017, 2026):
        expected += [f"survey/{kind}_{year}.csv" for kind in ("sample", "responses", "margins")]
    for rel in expected:
        assert (root / rel).is_file(), rel
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "SIMULEREDE DATA" in readme and "SIMULATED DATA" in readme and str(SEED) in readme
    assert truth["data_source"] == "SIMULEREDE DATA / SIMULATED DATA"
    assert truth["seed"] == SEED


def test_statbank_export_format(root):
    raw = (root / "statbank/STRAF11.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "OMRÅDE;OVERTRÆD;TID;INDHOLD"
    assert "\nHele landet;1320 Indbrud i beboelser;2010K1;" in text
    assert "\nRegion Hovedstaden;" in text and "\nChristiansø;" in text
    assert "\nLyngby-Taarbæk;1320 Indbrud i beboelser;2025K4;" in text
    assert ";..\n" in text  # a few confidential cells
    folk = (root / "statbank/FOLK1A.csv").read_text(encoding="utf-8-sig").splitlines()
    assert folk[0] == "OMRÅDE;KØN;ALDER;CIVILSTAND;TID;INDHOLD"
    assert any(line.startswith("Læsø;Kvinder;105 år;I alt;2025K1;") for line in folk)


def test_loads_with_nothing_quarantined(ws):
    assert ws.n_quarantined == 0, ws.messages()
    assert not ws.absent
    assert ws.burglaries_quarterly["burglaries"].isna().sum() == 3  # the '..' cells
    for report in ws.reports[:4]:  # StatBank: totals and Christiansø set aside explicitly
        assert len(report.dropped) > 0


def test_national_burglaries_match_the_anchors(ws, truth):
    anchors = _anchors()
    annual = ws.burglaries_annual.groupby("year")["burglaries"].sum()
    for year in range(2018, 2024):
        assert abs(annual[year] / anchors[year] - 1) <= 0.05, (year, annual[year])
    assert abs(annual[2010] / 40_000 - 1) <= 0.05
    for year in (2024, 2025):
        assert 14_000 * 0.95 <= annual[year] <= 15_000 * 1.05
    # falling from 2010 to 2017, each year within 5 % of the straight line 40,000 -> 29,000
    line = 40_000 + (anchors[2018] - 40_000) * (np.arange(2010, 2018) - 2010) / 8
    assert np.all(np.abs(annual.loc[2010:2017].to_numpy() / line - 1) <= 0.05)
    # the quarterly table adds up to the annual one where no cell is hidden
    quarterly = ws.burglaries_quarterly.groupby(["kommune_kode", "year"])["burglaries"].sum(
        min_count=4
    )
    both = ws.burglaries_annual.set_index(["kommune_kode", "year"])["burglaries"]
    joined = pd.concat([quarterly.rename("q"), both.rename("a")], axis=1).dropna()
    assert len(joined) == 98 * 16 - 3 or len(joined) >= 98 * 16 - 3
    assert (joined["q"] == joined["a"]).all()
    # truth.json's totals are on the full counts, which the annual table publishes
    for year, row in truth["national_burglaries"].items():
        assert row["simulated"] == annual[int(year)]


def test_fourth_quarter_peak(ws):
    q = ws.burglaries_quarterly.groupby(["year", "quarter"])["burglaries"].sum().unstack()
    ratio = q[4] / q.mean(axis=1)
    assert 1.2 <= ratio.mean() <= 1.4
    assert (ratio > 1.1).all()


def test_population_and_households(ws):
    pop = ws.population.groupby(["year", "kommune_kode"])["population"].sum()
    total = pop.groupby("year").sum()
    assert abs(total[2025] / 5_900_000 - 1) <= 0.03
    assert total[2010] < total[2017] < total[2025]
    last = pop.loc[2025]
    assert last.idxmax() == 101 and 600_000 <= last.max() <= 700_000  # København
    assert last.idxmin() == 825 and 1_500 <= last.min() <= 2_200  # Læsø
    assert 330_000 <= last.loc[751] <= 390_000  # Aarhus
    hh = ws.households.groupby("year")["households"].sum()
    assert abs(hh[2025] / 2_800_000 - 1) <= 0.05
    assert hh[2010] < hh[2025]
    # an age pyramid: fewer 90-year-olds than 40-year-olds, more old women than old men
    by_age = (
        ws.population[ws.population["year"] == 2025].groupby(["sex", "age"])["population"].sum()
    )
    assert by_age.loc["female"].loc[90] > by_age.loc["male"].loc[90]
    assert by_age.xs(90, level="age").sum() < 0.3 * by_age.xs(40, level="age").sum()


def test_partnerships_staggered(ws, truth):
    reg = ws.partnerships
    assert 20 <= len(reg) <= 30
    assert reg["kommune_kode"].is_unique
    assert reg["signed_date"].min() >= pd.Timestamp("2018-10-01")
    assert reg["signed_date"].max() <= pd.Timestamp("2024-12-31")
    assert reg["signed_date"].dt.year.nunique() >= 5
    assert reg["end_date"].isna().mean() > 0.5  # most open
    assert reg["burglary_target_pct"].between(-40, -20).all()
    first = {p["kommune_kode"]: p["first_treated_quarter"] for p in truth["partnerships"]}
    assert len(set(first.values())) >= 8
    # the timing rule: first treated quarter = the quarter after signing
    nxt = (reg["signed_date"].dt.to_period("Q") + 1).astype(str).str.replace("Q", "K")
    assert dict(zip(reg["kommune_kode"], nxt, strict=True)) == first


def test_selection_on_pre_2018_burglary_rate(ws):
    pre = ws.burglaries_quarterly[ws.burglaries_quarterly["year"] < 2018]
    counts = pre.groupby("kommune_kode")["burglaries"].sum()
    hh = ws.households[ws.households["year"] < 2018].groupby("kommune_kode")["households"].sum()
    rate = counts / hh
    partner = rate.index.isin(ws.partnerships["kommune_kode"])
    assert rate[partner].mean() / rate[~partner].mean() > 1.1


def test_activities(ws):
    acts = ws.activities
    assert set(acts["activity_type"]) <= set(schemas.ACTIVITY_TYPES)
    assert acts["activity_type"].nunique() >= 8
    partner = acts["kommune_kode"].isin(ws.partnerships["kommune_kode"])
    assert partner.mean() > 0.6 and (~partner).any()
    assert 0.8 <= acts["reach"].notna().mean() < 1 and 0.8 <= acts["cost_dkk"].notna().mean() < 1
    signed = ws.partnerships.set_index("kommune_kode")["signed_date"]
    own = acts[partner]
    assert (own["start_date"] > own["kommune_kode"].map(signed)).all()


def test_reaktionsplaner_follow_burglary_waves(ws):
    acts = ws.activities[ws.activities["activity_type"] == "reaktionsplan"]
    assert len(acts) >= 5
    assert acts["kommune_kode"].isin(ws.partnerships["kommune_kode"]).all()
    trigger = acts["start_date"].dt.to_period("Q") - 1
    counts = ws.burglaries_quarterly.assign(
        q=pd.PeriodIndex.from_fields(
            year=ws.burglaries_quarterly["year"],
            quarter=ws.burglaries_quarterly["quarter"],
            freq="Q",
        )
    ).set_index(["kommune_kode", "q"])["burglaries"]
    keys = pd.MultiIndex.from_arrays([acts["kommune_kode"], trigger])
    yearly = ws.burglaries_quarterly.groupby(["kommune_kode", "year"])["burglaries"].mean()
    d = pd.DataFrame(
        {
            "before": counts.reindex(keys).to_numpy(),
            "year_mean": yearly.reindex(
                pd.MultiIndex.from_arrays([acts["kommune_kode"], trigger.dt.year])
            ).to_numpy(),
        }
    ).dropna()
    assert len(d) >= len(acts) - 3
    assert (d["before"] >= 10).all()
    # waves stand out: the trigger quarter is above the kommune's mean in that year
    assert (d["before"] > d["year_mean"]).mean() > 0.8


def test_sample_design(ws, root):
    s = ws.samples
    invited = s.groupby("year").size()
    assert invited.between(40_000, 60_000).all()
    n_h = s.groupby(["year", "kommune_kode"]).size()
    first = s.groupby(["year", "kommune_kode"])[["incl_prob", "stratum_population"]].first()
    assert (n_h >= np.minimum(300, first["stratum_population"])).all()
    assert np.allclose(first["incl_prob"], n_h / first["stratum_population"], rtol=1e-9)
    margins = pd.read_csv(root / "survey/margins_2025.csv")
    for _, part in margins.groupby("variable"):
        assert part["total"].sum() == first.loc[2025, "stratum_population"].sum()
    adults = ws.population[(ws.population["year"] == 2025) & (ws.population["age"] >= 18)]
    assert adults["population"].sum() == margins.loc[margins["variable"] == "sex", "total"].sum()


def test_response_rates(ws):
    s = ws.samples
    rr = s.groupby("year")["responded"].mean()
    assert rr.between(0.35, 0.45).all(), rr
    by_band = s.groupby("age_band")["responded"].mean()
    assert by_band.is_monotonic_increasing
    by_sex = s.groupby("sex")["responded"].mean()
    assert by_sex["female"] > by_sex["male"]


def test_routing_and_special_codes(survey):
    asked = (survey["vict_burglary"] == 1) | (survey["vict_attempt"] == 1)
    assert survey.loc[~asked, "vict_reported"].isna().all()
    assert survey.loc[asked, "vict_reported"].notna().mean() > 0.95
    assert survey[["vict_burglary", "vict_attempt"]].notna().all().all()
    worry = survey["worry_burglary"]
    assert worry.isin([98, 99]).mean() > 0.005
    y24 = survey["year"] == 2024
    assert set(worry[y24].dropna()) <= {1, 2, 3, 4, 5, 98, 99} and (worry[y24] == 5).any()
    assert not (worry[~y24] == 5).any()
    assert survey.loc[y24, "korps_visit"].isna().all()


def _fear(survey: pd.DataFrame) -> pd.Series:
    worry = survey["worry_burglary"]
    ok = worry.notna() & ~worry.isin([98, 99])
    return worry.isin([1, 2]).astype(float).where(ok)


def test_fear_truth_and_survey_agree(survey, truth):
    national = {int(y): v for y, v in truth["fear_share_national"].items()}
    assert abs(national[2017] - 0.25) <= 0.02
    assert abs(national[2025] - 0.18) <= 0.02
    d = survey.assign(fear=_fear(survey)).dropna(subset=["fear"])
    weighted = d.groupby("year").apply(
        lambda g: np.average(g["fear"], weights=g["design_weight"]), include_groups=False
    )
    for year, share in weighted.items():
        # design weights only (no nonresponse adjustment): within 3 points of the truth
        assert abs(share - national[year]) <= 0.03, (year, share, national[year])
    assert d.groupby("sex")["fear"].mean()["female"] > d.groupby("sex")["fear"].mean()["male"]
    band = d.groupby("age_band")["fear"].mean()
    assert band["18-29"] > band["75+"]


def test_raking_removes_the_nonresponse_bias(survey, ws, truth):
    """Known truth for the weighting chain: design weights alone under-estimate fear (the old
    respond more and worry less); raking to the margins file recovers the true share."""
    from botrygt_eval.survey.calibrate import rake_weights

    design_err, raked_err = [], []
    for year, d in survey.groupby("year"):
        raked = rake_weights(d, d["design_weight"].to_numpy(), ws.margins[year]).weights
        fear = _fear(d).to_numpy()
        ok = ~np.isnan(fear)
        true = truth["fear_share_national"][str(year)]
        design_err.append(np.average(fear[ok], weights=d["design_weight"].to_numpy()[ok]) - true)
        raked_err.append(np.average(fear[ok], weights=raked[ok]) - true)
    assert np.mean(design_err) < -0.004
    assert abs(np.mean(raked_err)) < 0.004
    assert np.max(np.abs(raked_err)) < 0.015


def test_fear_effect_recovered_by_a_kommune_year_did(survey, ws, truth):
    """Two-way fixed effects on kommune-year means of fear (known truth: fear_effect)."""
    d = survey.assign(fear=_fear(survey)).dropna(subset=["fear"])
    cells = d.groupby(["kommune_kode", "year"])["fear"].agg(["mean", "size"]).reset_index()
    first = {p["kommune_kode"]: p["cohort_year"] for p in truth["partnerships"]}
    cohort = cells["kommune_kode"].map(first)
    cells["treated"] = (cohort.notna() & (cells["year"] >= cohort)).astype(float)
    x = pd.get_dummies(cells[["kommune_kode", "year"]].astype(str), drop_first=True, dtype=float)
    x.insert(0, "treated", cells["treated"])
    x.insert(0, "const", 1.0)
    w = np.sqrt(cells["size"].to_numpy(dtype=float))
    beta, *_ = np.linalg.lstsq(x.to_numpy() * w[:, None], cells["mean"].to_numpy() * w, rcond=None)
    assert beta[1] == pytest.approx(truth["effects"]["partnership_fear_share_change"], abs=0.012)


def test_truth_att_follows_the_build_up(truth):
    effect = truth["effects"]["partnership_burglary_log_rate_ratio"]
    by_event = truth["burglary_att"]["by_event_time"]
    own = [by_event[str(e)]["partnership_only"] for e in range(6)]
    assert own == pytest.approx([effect * w for w in (0.25, 0.5, 0.75, 1, 1, 1)], abs=1e-6)
    # the Bo trygt-korps visits add to the partnership effect, never the other way
    assert all(v["total"] <= v["partnership_only"] + 1e-12 for v in by_event.values())
    assert (
        truth["burglary_att"]["overall_total"] < truth["burglary_att"]["overall_partnership_only"]
    )


def test_victimisation_follows_burglary_rates(survey, ws):
    victim = ((survey["vict_burglary"] == 1) | (survey["vict_attempt"] == 1)).astype(float)
    by_year = victim.groupby(survey["year"]).mean()
    assert by_year[2017] > 1.5 * by_year[2023]
    d = survey.assign(victim=victim, fear=_fear(survey)).dropna(subset=["fear"])
    assert d.groupby("victim")["fear"].mean()[1.0] > d.groupby("victim")["fear"].mean()[0.0] + 0.1


def test_nabohjaelp_register_matches_survey(survey, ws):
    reg = ws.nabohjaelp.merge(ws.households, on=["kommune_kode", "year"])
    share = reg.groupby("year")["members"].sum() / reg.groupby("year")["households"].sum()
    member = (survey["prev_nabohjaelp"] == 1).astype(float)
    ok = survey["prev_nabohjaelp"].isin([1, 2])
    d = survey.assign(member=member)[ok]
    weighted = d.groupby("year").apply(
        lambda g: np.average(g["member"], weights=g["design_weight"]), include_groups=False
    )
    assert np.all(np.abs(weighted - share.loc[weighted.index]) <= 0.015)
    assert share.is_monotonic_increasing


def test_awareness_higher_in_partnership_kommuner(survey, ws):
    d = survey[survey["year"] == 2025]
    aware = (d["aware_botrygt"] == 1).astype(float)
    partner = d["kommune_kode"].isin(ws.partnerships["kommune_kode"])
    assert aware[partner].mean() > aware[~partner].mean() + 0.05


def test_frame_for_next_year(root, ws):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    frame = pq.read_table(root / "survey/frame_2026.parquet")
    assert frame.schema.metadata[b"data_source"] == b"SIMULEREDE DATA / SIMULATED DATA"
    assert frame.column_names == ["resp_id", "kommune_kode", "sex", "age", "age_band"]
    adults = ws.population[(ws.population["year"] == 2025) & (ws.population["age"] >= 18)]
    assert frame.num_rows == adults["population"].sum()
    assert pc.count_distinct(frame["resp_id"]).as_py() == frame.num_rows
    assert pc.all(pc.equal(pc.utf8_length(frame["resp_id"]), 16)).as_py()
    head = frame["resp_id"].slice(0, 200_000)
    assert pc.all(pc.match_substring_regex(head, r"^[0-9a-f]{16}$")).as_py()
    counts = (
        frame.group_by(["kommune_kode", "sex", "age"])
        .aggregate([([], "count_all")])
        .to_pandas()
        .set_index(["kommune_kode", "sex", "age"])["count_all"]
        .sort_index()
    )
    expected = adults.set_index(["kommune_kode", "sex", "age"])["population"]
    expected = expected[expected > 0].sort_index()
    assert counts.index.equals(expected.index)
    assert (counts.to_numpy() == expected.to_numpy()).all()
    pairs = frame.group_by(["age", "age_band"]).aggregate([]).to_pandas()
    bands = pd.cut(pairs["age"], [17, 29, 44, 59, 74, 200], labels=list(schemas.AGE_BANDS))
    assert pairs["age"].is_unique and (bands.astype(str) == pairs["age_band"]).all()


@pytest.mark.slow
def test_full_run_is_byte_identical(root, tmp_path):
    """The full workspace (incl. the 4.7 million-row parquet frame) again from the same seed."""
    from botrygt_eval.simulate import simulate_workspace

    simulate_workspace(tmp_path, seed=SEED)
    first = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (root / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
