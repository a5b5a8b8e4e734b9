"""Local monitoring end to end on the simulator's geocoded data: planted truth recovered."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.errors import InputFileError
from botrygt_eval.io.monitoring import load_geo_burglaries
from botrygt_eval.monitoring import CELL_COLUMNS, local_monitoring
from botrygt_eval.reference.grid import parse_cell_ids
from botrygt_eval.simulate.geo import GEO_KOMMUNER, _box, simulate_geo

CODES = np.array([101, 259, 265, 461, 621, 751])
HOUSEHOLDS = np.array([340_000, 28_000, 40_000, 100_000, 45_000, 170_000])
PER_QUARTER = np.array([575, 40, 45, 200, 60, 260])
LABELS = np.array([f"{y}K{q}" for y in range(2022, 2026) for q in range(1, 5)])


def _write(folder, seed):
    counts = np.repeat(PER_QUARTER[:, None], len(LABELS), axis=1)
    return simulate_geo(folder, seed, CODES, HOUSEHOLDS, counts, LABELS, [259, 621])


@pytest.fixture(scope="module")
def geo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("geo")
    paths, truth = _write(folder, 2018)
    return folder, paths, truth


@pytest.fixture(scope="module")
def kbh(geo):
    return local_monitoring(geo[0], 101, n_permutations=39)


def _chebyshev_km(a, b) -> np.ndarray:
    pa, pb = parse_cell_ids(a), parse_cell_ids(b)
    dr = abs(pa["north0"].to_numpy()[:, None] - pb["north0"].to_numpy()[None, :]) // 1000
    dc = abs(pa["east0"].to_numpy()[:, None] - pb["east0"].to_numpy()[None, :]) // 1000
    return np.maximum(dr, dc)


def test_simulated_points_match_the_counts_and_lie_in_the_kommune_box(geo):
    folder, _, truth = geo
    assert truth["kommuner"] == [101, 259, 265, 621]  # two partnership kommuner, no overlap
    ev = load_geo_burglaries(folder / "lokal/indbrud.csv")
    assert ev.n_quarantined == 0
    per = ev.data.groupby("kommune_kode").size()
    for code in truth["kommuner"]:
        k = int(np.flatnonzero(CODES == code)[0])
        assert per[code] == PER_QUARTER[k] * 8  # the last eight quarters, all geocoded
        pts = ev.data[ev.data["kommune_kode"] == code]
        e0, e1, n0, n1 = _box(code)
        margin = 400  # near repeats are displaced by N(0, 60 m)
        assert pts["east"].between(e0 - margin, e1 + margin).all()
        assert pts["north"].between(n0 - margin, n1 + margin).all()
    assert set(GEO_KOMMUNER) >= set(truth["kommuner"])


def test_simulator_is_byte_identical_per_seed(geo, tmp_path):
    folder, paths, _ = geo
    again, _ = _write(tmp_path, 2018)
    for a, b in zip(paths, again, strict=True):
        assert a.read_bytes() == b.read_bytes()
    other, _ = _write(tmp_path / "other", 2019)
    assert other[0].read_bytes() != paths[0].read_bytes()


def test_result_shape_and_disclosure(kbh, geo):
    assert list(kbh.cells.columns[: len(CELL_COLUMNS)]) == CELL_COLUMNS
    shown = kbh.cells[~kbh.cells["suppressed"]]
    assert (shown["burglaries"] >= 5).all()
    assert kbh.cells.loc[kbh.cells["suppressed"], "burglaries"].isna().all()
    hidden = kbh.overview["burglaries_in_hidden_cells"]
    assert hidden == 0 or hidden >= 5
    assert kbh.overview["burglaries"] == 575 * 8
    # only cell centres leave the function, never an event's coordinates
    assert ((shown["east"] - 500) % 1000 == 0).all() and ((shown["north"] - 500) % 1000 == 0).all()


def test_planted_hotspots_are_recovered(kbh, geo):
    planted = geo[2]["by_kommune"]["101"]["hotspot_cells"]
    found = kbh.cells.loc[kbh.cells["hotspot"], "cell_id"].tolist()
    assert len(planted) == 8  # two 2 x 2 km blocks
    # every planted block has a persistent hotspot
    blocks = _chebyshev_km(planted, planted) <= 1
    for i in range(len(planted)):
        block = [p for p, near in zip(planted, blocks[i], strict=True) if near]
        assert set(block) & set(found), f"block around {planted[i]} not found"
    # no hotspot far from a planted block (Gi* smears into direct neighbours only)
    assert (_chebyshev_km(found, planted).min(axis=1) <= 1).all()
    # whole-window Gi*: the planted cells are significant after BH
    cells = kbh.cells.set_index("cell_id")
    assert (cells.loc[planted, "gi_q"] < 0.05).mean() >= 0.75


def test_planted_gap_cells_have_a_high_gap_index(kbh, geo):
    planted = geo[2]["by_kommune"]["101"]["hotspot_cells"]
    cells = kbh.cells.set_index("cell_id")
    assert (cells.loc[planted, "gap_index"] > 0.9).all()
    others = cells.drop(index=planted)
    assert others.loc[~others["suppressed"], "gap_index"].median() < 0.3


def test_shrunk_rates_and_intervals_are_ordered(kbh):
    shown = kbh.cells[~kbh.cells["suppressed"]]
    assert (shown["rate_low"] <= shown["rate_shrunk"]).all()
    assert (shown["rate_shrunk"] <= shown["rate_high"]).all()
    mean = kbh.overview["rate_per_1000"]
    # shrinkage pulls towards the kommune rate: never past it
    raw, eb = shown["rate_per_1000"], shown["rate_shrunk"]
    assert ((eb - mean) * (raw - mean) >= -1e-9).all()
    assert (abs(eb - mean) <= abs(raw - mean) + 1e-9).all()


def test_near_repeats_are_found(kbh):
    first = kbh.near_repeat.iloc[0]
    assert first["distance_band"] == "0-100 m" and first["time_band"] == "0-7 dage"
    assert first["ratio"] > 2 and first["p_value"] <= 0.05


def test_100m_cells_merge_into_km_pools(geo):
    res = local_monitoring(geo[0], 101, cell="100m", n_permutations=9)
    shown = res.cells[~res.cells["suppressed"]]
    assert (shown["burglaries"] >= 5).all()
    assert set(shown["size_m"]) == {100, 1000}  # 100 m cells and pooled 1 km remainders
    assert shown.loc[shown["size_m"] == 1000, "merged"].all()


def test_small_kommune_is_mostly_hidden_not_leaked(geo):
    res = local_monitoring(geo[0], 259, n_permutations=9)
    shown = res.cells[~res.cells["suppressed"]]
    assert (shown["burglaries"] >= 5).all()
    assert res.overview["cells_hidden"] > res.overview["cells_published"]


def test_cli_writes_suppressed_tables(geo, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["map", "--data", str(geo[0]), "--kommune", "København", "--out", str(out),
         "--permutations", "9"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cells = pd.read_csv(out / "celler.csv")
    assert (cells.loc[~cells["suppressed"], "burglaries"] >= 5).all()
    summary = json.loads((out / "opsummering.json").read_text(encoding="utf-8"))
    assert summary["kommune_kode"] == 101 and summary["near_repeat"]
    assert str(geo[0]) not in (out / "opsummering.json").read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == [
        "celler.csv",
        "naergentagelse.csv",
        "opsummering.json",
    ]


def test_loader_quarantines_bad_points_and_converts_wgs84(tmp_path):
    path = tmp_path / "indbrud.csv"
    path.write_text(
        "kommune_kode,date,east,north,lat,lon\n"
        "101,2025-01-03,724404,6175762,,\n"
        "101,2025-01-04,,,55.6757,12.5691\n"
        "101,2025-01-05,6175762,724404,,\n"  # swapped
        "101,2025-01-06,,,12.5691,55.6757\n"  # swapped lat/lon
        "101,,724404,6175762,,\n"  # no date
        "101,2025-01-07,,,,\n",  # no coordinates
        encoding="utf-8",
    )
    res = load_geo_burglaries(path, quarantine_dir=tmp_path / "q")
    assert len(res.data) == 2
    np.testing.assert_allclose(res.data["east"], [724404, 724404.5], atol=1)
    assert res.n_quarantined == 4
    reasons = " ".join(res.quarantined["reason"])
    assert "swapped" in reasons and "date" in reasons and "no coordinates" in reasons
    assert (tmp_path / "q" / "indbrud.quarantine.csv").exists()


def test_missing_lokal_folder_says_what_to_do(tmp_path):
    with pytest.raises(InputFileError, match="lokal"):
        local_monitoring(tmp_path, 101)


def test_hand_made_kommune_counts_and_rates(tmp_path):
    """Six 1 km cells; burglaries placed by hand, one in a cell without households."""
    lokal = tmp_path / "lokal"
    lokal.mkdir()
    cells = [f"1km_6175_{e}" for e in range(720, 726)]
    hh = [1000, 2000, 500, 800, 1200, 0]
    (lokal / "husstande.csv").write_text(
        "kommune_kode,cell_id,households\n"
        + "".join(f"101,{c},{h}\n" for c, h in zip(cells, hh, strict=True)),
        encoding="utf-8",
    )
    (lokal / "nabohjaelp_celler.csv").write_text(
        "kommune_kode,cell_id,nabohjaelpere\n101,1km_6175_720,100\n101,1km_6175_721,50\n",
        encoding="utf-8",
    )
    per_cell = [10, 6, 0, 7, 5, 6]  # burglaries in 2025 (one year), the last in no-household cell
    rows = [
        f"101,2025-{1 + (i % 12):02d}-15,{720_000 + 1000 * k + 100 + 37 * i % 800},{6_175_500}\n"
        for k, n in enumerate(per_cell)
        for i in range(n)
    ]
    (lokal / "indbrud.csv").write_text(
        "kommune_kode,date,east,north\n" + "".join(rows), encoding="utf-8"
    )
    res = local_monitoring(tmp_path, 101, periods=4, n_permutations=9)
    got = res.cells.set_index("cell_id")
    assert res.overview["years"] == 1.0
    assert got.loc["1km_6175_720", "burglaries"] == 10
    assert got.loc["1km_6175_720", "rate_per_1000"] == pytest.approx(10.0)  # 10 / 1000 hh
    assert got.loc["1km_6175_721", "rate_per_1000"] == pytest.approx(3.0)
    assert got.loc["1km_6175_720", "coverage_per_100"] == pytest.approx(10.0)
    assert got.loc["1km_6175_721", "coverage_per_100"] == pytest.approx(2.5)
    assert got.loc["1km_6175_722", "suppressed"]  # 0 burglaries: below 5, hidden
    no_hh = got.loc["1km_6175_725"]
    assert no_hh["burglaries"] == 6 and np.isnan(no_hh["rate_shrunk"])
    assert np.isnan(no_hh["rate_per_1000"]) and np.isnan(no_hh["gap_index"])


def test_areas_count_points_by_their_coordinates_and_hide_small_areas(geo, tmp_path):
    """User areas: west/east halves of København by 100 m cell, plus one single cell as a
    tiny area; counts are checked against the raw points sorted by coordinate."""
    from botrygt_eval.monitoring import area_monitoring, load_area_lookup

    folder = geo[0]
    hh = pd.read_csv(folder / "lokal" / "husstande.csv")
    hh = hh[hh["kommune_kode"] == 101]
    east0 = parse_cell_ids(hh["cell_id"])["east0"].to_numpy()
    split = np.median(east0)
    area = np.where(east0 < split, "vest", "øst").astype(object)
    tiny = hh["cell_id"].iloc[0]
    area[0] = "lille"
    path = tmp_path / "areas.csv"
    pd.DataFrame({"cell_id": hh["cell_id"], "area": area}).to_csv(path, index=False)
    got = area_monitoring(folder, 101, load_area_lookup(path), threshold=5).set_index("area")

    pts = pd.read_csv(folder / "lokal" / "indbrud.csv", parse_dates=["date"])
    pts = pts[pts["kommune_kode"] == 101]
    quarter = pts["date"].dt.to_period("Q")
    pts = pts[quarter.isin(sorted(quarter.unique())[-8:])]
    e0 = (pts["east"] // 100 * 100).to_numpy()
    n0 = (pts["north"] // 100 * 100).to_numpy()
    tiny_e, tiny_n = parse_cell_ids(pd.Series([tiny]))[["east0", "north0"]].iloc[0]
    in_tiny = (e0 == tiny_e) & (n0 == tiny_n)
    in_ids = set(hh["cell_id"])
    ids = [f"100m_{n // 100}_{e // 100}" for e, n in zip(e0, n0, strict=True)]
    outside = ~np.isin(ids, list(in_ids))
    west = (e0 < split) & ~in_tiny & ~outside
    east = (e0 >= split) & ~in_tiny & ~outside
    assert got.loc["vest", "burglaries"] == west.sum() and not got.loc["vest", "suppressed"]
    assert got.loc["øst", "burglaries"] == east.sum()
    years = 2.0
    west_cells = east0 < split
    west_cells[0] = False  # the tiny area's cell
    hh_west = hh.loc[west_cells, "households"].sum()
    assert got.loc["vest", "rate_per_1000"] == pytest.approx(1000 * west.sum() / hh_west / years)
    # disclosure: nothing published below 5, hidden total 0 or at least 5
    shown = ~got["suppressed"]
    assert (got.loc[shown, "burglaries"] >= 5).all()
    hidden_total = len(pts) - got.loc[shown, "burglaries"].sum()
    assert hidden_total == 0 or hidden_total >= 5
    assert in_tiny.sum() < 5  # one 100 m cell: the tiny area must be hidden
    assert got.loc["lille", "suppressed"] and np.isnan(got.loc["lille", "burglaries"])
    # the CLI writes the same table
    out = tmp_path / "cli"
    res = CliRunner().invoke(app, ["map", "--data", str(folder), "--kommune", "101", "--out",
                                   str(out), "--permutations", "9", "--areas", str(path)])  # fmt: skip
    assert res.exit_code == 0, res.output
    cli = pd.read_csv(out / "omraader.csv").set_index("area")
    assert cli.loc["vest", "burglaries"] == west.sum()


def test_area_lookup_errors(tmp_path):
    from botrygt_eval.monitoring import load_area_lookup

    bad = tmp_path / "bad.csv"
    bad.write_text("cell_id,area\n1km_6175_724,2100\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="100 m cell ids"):
        load_area_lookup(bad)
    two = tmp_path / "two.csv"
    two.write_text("cell_id,area\n100m_61757_7244,2100\n100m_61757_7244,2200\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="more than one area"):
        load_area_lookup(two)
    with pytest.raises(InputFileError, match="no such area lookup"):
        load_area_lookup(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('100m_61757_7244,8000\n"100m_61757_7245,8000\n100m_61757_7246,8000\n', "line 3"),
        ("100m_61757_7244,8000\n100m_61757_7245,\n", "line 3: an empty cell_id or area"),
        ("100m_61757_7244,8000,extra\n", "line 2"),
    ],
)
def test_area_lookup_refuses_a_broken_line_by_number(tmp_path, body, problem):
    """A stray quote, an empty area or an extra field is named by its line, never dropped."""
    from botrygt_eval.errors import InputFileError
    from botrygt_eval.monitoring.local import load_area_lookup

    path = tmp_path / "omraader.csv"
    path.write_text("cell_id,area\n" + body, encoding="utf-8")
    with pytest.raises(InputFileError, match=problem):
        load_area_lookup(path)
