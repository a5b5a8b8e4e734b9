"""The workspace loader and its aggregate summary, on workspaces written in the real formats."""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.errors import InputFileError
from botrygt_eval.io.workspace import load_workspace, summarise_workspace
from botrygt_eval.reference import kommuner

BOM = "\ufeff"
BANDS = np.array(["18-29", "30-44", "45-59", "60-74", "75+"])


def _statbank(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BOM + frame.to_csv(sep=";", index=False), encoding="utf-8")


def write_workspace(
    root: Path,
    codes: list[int],
    years: list[int],
    survey_years: list[int],
    n_sample: int,
    seed: int = 1,
) -> dict:
    """Write a workspace in the formats of docs/DATA_FORMATS.md; return the true aggregates."""
    rng = np.random.default_rng(seed)
    names = kommuner().set_index("kommune_kode").loc[codes, "kommune"].to_numpy()
    truth: dict = {}
    # STRAF11 with a national total row per quarter, names in OMRÅDE.
    grid = pd.MultiIndex.from_product(
        [names, years, [1, 2, 3, 4]], names=["area", "year", "q"]
    ).to_frame(index=False)
    grid["n"] = rng.poisson(30, len(grid))
    truth["burglaries"] = grid.groupby("year")["n"].sum()
    national = grid.groupby(["year", "q"], as_index=False)["n"].sum().assign(area="Hele landet")
    both = pd.concat([national, grid], ignore_index=True)
    _statbank(
        root / "statbank/STRAF11.csv",
        pd.DataFrame(
            {
                "OMRÅDE": both["area"],
                "OVERTRÆD": "1320 Indbrud i beboelser",
                "TID": both["year"].astype(str) + "K" + both["q"].astype(str),
                "INDHOLD": both["n"],
            }
        ),
    )
    annual = grid.groupby(["area", "year"], as_index=False)["n"].sum()
    _statbank(
        root / "statbank/STRAF10.csv",
        pd.DataFrame(
            {
                "OMRÅDE": annual["area"],
                "OVERTRÆD": "1320 Indbrud i beboelser",
                "TID": annual["year"].astype(str),
                "INDHOLD": annual["n"],
            }
        ),
    )
    # FOLK1A: single years of age 0-105, two sexes, first quarter; English codes.
    pop = pd.MultiIndex.from_product(
        [codes, ["Men", "Women"], range(106), years], names=["area", "sex", "age", "year"]
    ).to_frame(index=False)
    pop["n"] = rng.integers(0, 400, len(pop))
    truth["population"] = pop.groupby("year")["n"].sum()
    _statbank(
        root / "statbank/FOLK1A.csv",
        pd.DataFrame(
            {
                "REGION": pop["area"],
                "SEX": pop["sex"],
                "AGE": pop["age"].astype(str) + " years",
                "MARITAL STATUS": "Total",
                "TIME": pop["year"].astype(str) + "Q1",
                "INDHOLD": pop["n"],
            }
        ),
    )
    hh = pd.MultiIndex.from_product([codes, years], names=["area", "year"]).to_frame(index=False)
    hh["n"] = rng.integers(1000, 5000, len(hh))
    truth["households"] = hh.groupby("year")["n"].sum()
    _statbank(
        root / "statbank/FAM55N.csv",
        pd.DataFrame({"OMRÅDE": hh["area"], "TID": hh["year"].astype(str), "INDHOLD": hh["n"]}),
    )
    reg = root / "registers"
    reg.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "kommune_kode": [codes[0], codes[-1] if len(codes) > 1 else 147],
            "signed_date": ["2019-03-01", "2020-09-15"],
            "end_date": ["", "2023-09-14"],
            "baseline_year": [2018, 2019],
            "burglary_target_pct": [-25, -20],
            "nabohjaelp_target": [1000, 500],
            "fear_target_pct": [15, ""],
        }
    ).to_csv(reg / "partnerships.csv", index=False)
    pd.DataFrame(
        {
            "activity_id": ["A1", "A2", "A3"],
            "kommune_kode": [codes[i % len(codes)] for i in range(3)],
            "activity_type": ["kampagne", "kampagne", "tryghedsvandring"],
            "start_date": ["2019-10-01", "2020-10-01", "2021-04-01"],
            "end_date": ["2019-12-31", "", "2021-04-01"],
            "reach": [1000, "", 30],
            "cost_dkk": [5000, 2000, ""],
        }
    ).to_csv(reg / "activities.csv", index=False)
    nh = pd.MultiIndex.from_product([codes, years], names=["kommune_kode", "year"]).to_frame(
        index=False
    )
    nh["members"] = rng.integers(0, 900, len(nh))
    nh.to_csv(reg / "nabohjaelp.csv", index=False)
    truth["nabohjaelp"] = nh.groupby("year")["members"].sum()
    survey = root / "survey"
    survey.mkdir(parents=True, exist_ok=True)
    truth["respondents"], truth["sampled"] = {}, {}
    for i, year in enumerate(survey_years):
        ids = rng.choice(2**62, n_sample, replace=False)
        age = rng.integers(18, 95, n_sample)
        band = BANDS[np.searchsorted([29, 44, 59, 74], age, side="left")]
        incl = np.full(n_sample, 0.05)
        sample = pd.DataFrame(
            {
                "resp_id": [f"{x:016x}" for x in ids],
                "year": year,
                "kommune_kode": rng.choice(codes, n_sample),
                "sex": rng.choice(["male", "female"], n_sample),
                "age": age,
                "age_band": band,
                "incl_prob": incl,
                "design_weight": 1 / incl,
                "stratum_population": 20 * n_sample,
                "responded": (rng.random(n_sample) < 0.45).astype(int),
            }
        )
        sample.to_csv(survey / f"sample_{year}.csv", index=False)
        truth["sampled"][year] = n_sample
        resp = sample.loc[sample["responded"] == 1, ["resp_id", "year"]].reset_index(drop=True)
        truth["respondents"][year] = len(resp)
        items = ["worry_burglary", "safe_home_dark", "prev_nabohjaelp"] + (
            ["aware_botrygt"] if i > 0 else []  # the questionnaire changes between years
        )
        for item in items:  # codes of the item bank's scales (4-point, or yes/no)
            top = 5 if item in ("worry_burglary", "safe_home_dark") else 3
            codes_ = rng.integers(1, top, len(resp)).astype(float)
            codes_[rng.random(len(resp)) < 0.05] = np.nan
            resp[item] = pd.array(codes_).astype("Int64")
        resp.to_csv(survey / f"responses_{year}.csv", index=False)
        pd.DataFrame(
            {
                "variable": ["sex", "sex"],
                "level": ["male", "female"],
                "total": [1000.0, 1100.0],
            }
        ).to_csv(survey / f"margins_{year}.csv", index=False)
    return truth


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    truth = write_workspace(root, [101, 147, 751, 492], [2023, 2024], [2024, 2025], 400)
    return root, truth


def test_every_table_is_loaded_and_reported(small):
    root, truth = small
    ws = load_workspace(root)
    assert ws.absent == ()
    assert len(ws.burglaries_quarterly) == 4 * 2 * 4
    assert len(ws.burglaries_annual) == 4 * 2
    assert len(ws.population) == 4 * 2 * 106 * 2
    assert len(ws.households) == 8 and len(ws.nabohjaelp) == 8
    assert len(ws.partnerships) == 2 and len(ws.activities) == 3
    assert sorted(ws.samples["year"].unique()) == [2024, 2025]
    assert sorted(ws.margins) == [2024, 2025]
    # Items asked only in 2025 are missing (not zero) for 2024 respondents.
    aware = ws.responses.groupby("year")["aware_botrygt"].apply(lambda s: s.notna().sum())
    assert aware[2024] == 0 and aware[2025] > 0
    assert len(ws.responses) == sum(truth["respondents"].values())
    messages = ws.messages()
    assert len(messages) == len(ws.reports) == 7 + 3 * 2
    assert any(
        "STRAF11.csv" in m and "dropped 8 national/regional total rows" in m for m in messages
    )
    assert ws.n_quarantined == 0


def test_summary_is_national_aggregates_matching_the_truth(small):
    root, truth = small
    summary = summarise_workspace(load_workspace(root))
    assert list(summary.columns) == ["topic", "measure", "group", "year", "value"]

    def series(topic, measure):
        sel = summary[(summary["topic"] == topic) & (summary["measure"] == measure)]
        return sel.set_index("year")["value"]

    for year in (2023, 2024):
        assert (
            series("burglaries", "national_total_from_quarters")[year] == truth["burglaries"][year]
        )
        assert series("burglaries", "national_total_annual")[year] == truth["burglaries"][year]
        assert series("population", "national_total")[year] == truth["population"][year]
        assert series("households", "national_total")[year] == truth["households"][year]
        assert series("nabohjaelp", "members_total")[year] == truth["nabohjaelp"][year]
    for year in (2024, 2025):
        assert series("survey", "respondents")[year] == truth["respondents"][year]
        rate = truth["respondents"][year] / truth["sampled"][year]
        assert series("survey", "response_rate")[year] == pytest.approx(rate, abs=1e-4)
    acts = summary[summary["topic"] == "activities"].set_index("group")["value"]
    assert acts.to_dict() == {"kampagne": 2, "tryghedsvandring": 1}
    # Aggregates only: no identifiers, no municipality-level rows.
    assert not summary.astype(str).apply(lambda c: c.str.fullmatch(r"[0-9a-f]{16}")).any().any()
    assert "kommune_kode" not in summary.columns


def test_absent_files_are_listed_and_frames_are_empty_with_columns(tmp_path):
    write_workspace(tmp_path, [101, 147], [2024], [2025], 50)
    (tmp_path / "statbank/STRAF10.csv").unlink()
    (tmp_path / "registers/activities.csv").unlink()
    ws = load_workspace(tmp_path)
    assert set(ws.absent) == {"statbank/STRAF10.csv", "registers/activities.csv"}
    assert ws.burglaries_annual.empty and "burglaries" in ws.burglaries_annual.columns
    assert any(m.startswith("registers/activities.csv: not present") for m in ws.messages())
    assert "activities" not in set(summarise_workspace(ws)["topic"])


def test_bad_rows_go_to_the_quarantine_folder_and_into_the_summary(tmp_path):
    write_workspace(tmp_path, [101, 147], [2024], [2025], 50)
    path = tmp_path / "statbank/STRAF11.csv"
    path.write_text(path.read_text(encoding="utf-8") + "Narnia;1320;2024K1;5\n", encoding="utf-8")
    qdir = tmp_path / "quarantine"
    ws = load_workspace(tmp_path, quarantine_dir=qdir)
    assert ws.n_quarantined == 1
    assert (qdir / "STRAF11.quarantine.csv").is_file()
    assert any("1 quarantined" in m and str(qdir) in m for m in ws.messages())
    summary = summarise_workspace(ws)
    q = summary[summary["topic"] == "quarantine"]
    assert q[["group", "value"]].values.tolist() == [["STRAF11.csv", 1.0]]


def test_unusable_workspaces_raise(tmp_path):
    with pytest.raises(InputFileError, match="workspace folder not found"):
        load_workspace(tmp_path / "nope")
    with pytest.raises(InputFileError, match="none of the workspace files were found"):
        load_workspace(tmp_path)
    write_workspace(tmp_path, [101], [2024], [2025], 20)
    (tmp_path / "survey/responses_2025.xlsx").write_bytes(b"")
    with pytest.raises(InputFileError, match="a second response file for 2025"):
        load_workspace(tmp_path)


@pytest.mark.slow
def test_a_full_size_workspace_loads_in_seconds(tmp_path):
    """98 kommuner x 16 years, FOLK1A by single year of age, ~200k responses."""
    codes = kommuner()["kommune_kode"].tolist()
    write_workspace(tmp_path, codes, list(range(2010, 2026)), list(range(2017, 2026)), 50_000)
    start = time.perf_counter()
    ws = load_workspace(tmp_path)
    elapsed = time.perf_counter() - start
    assert len(ws.population) == 98 * 2 * 106 * 16
    assert 180_000 < len(ws.responses) < 225_000
    # Generous bound (a few seconds expected): catches row-by-row parsing, not jitter.
    assert elapsed < 30, f"load_workspace took {elapsed:.1f} s"
