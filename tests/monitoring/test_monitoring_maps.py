"""Maps for local monitoring and the national tile map (issue #11).

The tile map's layout is checked against facts independent of it: the official kommune
list (every kommune once), a hand-listed set of kommune pairs that share a border
(they should be neighbouring tiles) and the region and police-district membership of
``kommuner.csv`` (each should be one connected patch). The maps are checked on what is
drawn: the artists' data, never just "no exception".
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from botrygt_eval.errors import ConfigError, InputFileError
from botrygt_eval.monitoring.boundary import read_boundary
from botrygt_eval.monitoring.maps import (
    BIVARIATE,
    cell_map,
    gap_map,
    near_repeat_figure,
)
from botrygt_eval.monitoring.tilemap import tile_map, tile_positions
from botrygt_eval.reference import kommune_codes
from botrygt_eval.reference.grid import utm32_to_wgs84

#: pairs of kommuner that share a land border or a bridge (from a map of Denmark)
BORDERS = [
    (101, 147), (101, 185), (185, 155), (101, 157), (157, 173), (173, 230), (230, 223),
    (223, 210), (210, 217), (270, 260), (270, 219), (219, 201), (201, 190), (190, 151),
    (151, 163), (163, 159), (159, 157), (167, 101), (153, 167), (161, 153), (165, 161),
    (169, 165), (183, 187), (253, 183), (269, 253), (259, 269), (265, 169), (350, 265),
    (316, 306), (326, 316), (330, 340), (340, 329), (370, 390), (360, 376), (336, 259),
    (320, 336), (461, 480), (461, 440), (450, 440), (479, 430), (420, 410), (851, 810),
    (810, 860), (860, 813), (849, 787), (851, 840), (840, 846), (820, 840), (730, 846),
    (730, 707), (707, 706), (751, 706), (751, 710), (710, 730), (751, 746), (751, 727),
    (746, 615), (740, 746), (740, 791), (791, 779), (779, 671), (671, 661), (661, 665),
    (661, 657), (657, 760), (657, 756), (756, 530), (760, 573), (573, 561), (561, 575),
    (575, 621), (621, 607), (621, 630), (630, 766), (766, 615), (621, 510), (510, 580),
    (580, 540), (580, 550), (530, 630), (607, 410), (217, 270), (175, 101),
]  # fmt: skip


# --------------------------------------------------------------------------- tile map data
def test_every_kommune_has_exactly_one_tile_and_no_tile_is_shared():
    t = tile_positions()
    assert sorted(t["kommune_kode"]) == kommune_codes()
    assert not t.duplicated(["row", "col"]).any()
    assert t["abbrev"].is_unique and t["abbrev"].str.len().eq(3).all()
    assert t["kommune"].notna().all()  # every code is in the kommune table


def _chebyshev(t: pd.DataFrame, a: int, b: int) -> int:
    pos = t.set_index("kommune_kode")[["row", "col"]]
    return int((pos.loc[a] - pos.loc[b]).abs().max())


def test_kommuner_sharing_a_border_are_mostly_neighbouring_tiles():
    t = tile_positions()
    dist = np.array([_chebyshev(t, a, b) for a, b in BORDERS])
    assert (dist <= 1).mean() >= 0.9, [p for p, d in zip(BORDERS, dist, strict=True) if d > 1]
    assert dist.max() <= 2


@pytest.mark.parametrize("column", ["region", "politikreds"])
def test_each_region_and_police_district_is_one_patch(column):
    t = tile_positions()
    for name, g in t.groupby(column):
        r, c = g["row"].to_numpy(), g["col"].to_numpy()
        touching = np.maximum(abs(r[:, None] - r[None]), abs(c[:, None] - c[None])) <= 1
        n, _ = connected_components(csr_matrix(touching))
        assert n == 1, f"{name} falls apart in {n} pieces"


def test_tiles_keep_west_east_and_north_south_order_of_the_country():
    t = tile_positions().set_index("abbrev")
    jutland, funen, zealand = ["ESB", "AAR", "AAL"], ["ODE"], ["KBH", "ROS", "NÆS"]
    assert t.loc[jutland, "col"].max() < t.loc[funen, "col"].min()
    assert t.loc[funen, "col"].max() < t.loc[zealand, "col"].min()
    assert t.loc["HJØ", "row"] < t.loc["AAL", "row"] < t.loc["AAR", "row"] < t.loc["SØN", "row"]
    assert t.loc["BOR", "col"] == t["col"].max()  # Bornholm furthest east


# --------------------------------------------------------------------------- tile map figure
def _collection(fig, gid):
    found = [c for ax in fig.axes for c in ax.collections if c.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def _centres(collection) -> np.ndarray:
    return np.array([p.vertices[:4].mean(axis=0) for p in collection.get_paths()])


def test_tile_map_hides_missing_and_suppressed_values_and_labels_every_tile():
    t = tile_positions()
    values = pd.Series(np.arange(len(t), dtype=float), index=t["kommune_kode"])
    values[101] = np.nan
    fig = tile_map(values, title="t", label="x", suppressed=[400, 851], highlight=[751],
                   highlight_label="Bo trygt-partnerskab")  # fmt: skip
    drawn = _collection(fig, "values")
    assert len(drawn.get_array()) == 95
    shown = t[~t["kommune_kode"].isin([101, 400, 851])]
    assert set(np.asarray(drawn.get_array())) == set(values[shown["kommune_kode"]])
    centres = {tuple(np.round(c, 6)) for c in _centres(drawn)}
    for code in (101, 400, 851):
        row = t.set_index("kommune_kode").loc[code]
        assert (float(row["col"]), float(-row["row"])) not in centres
    assert len(_collection(fig, "no_value").get_paths()) == 3
    assert len(_collection(fig, "highlight").get_paths()) == 1
    texts = {x.get_text() for x in fig.axes[0].texts}
    assert set(t["abbrev"]) <= texts
    legend = {x.get_text() for x in fig.axes[0].get_legend().get_texts()}
    assert legend == {"Ingen data", "Ikke vist (for få tilfælde)", "Bo trygt-partnerskab"}


def test_tile_map_centres_a_diverging_scale_and_refuses_unknown_codes():
    t = tile_positions()
    values = pd.Series(np.linspace(-5, 20, len(t)), index=t["kommune_kode"])
    fig = tile_map(values, title="t", label="x", cmap="RdBu_r", center=0.0)
    norm = _collection(fig, "values").norm
    assert norm.vmin == -20 and norm.vmax == 20 and norm(0.0) == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="unknown kommune"):
        tile_map(pd.Series([1.0], index=[999]), title="t", label="x")
    with pytest.raises(ConfigError, match="lang"):
        tile_map(values, title="t", label="x", lang="de")


# --------------------------------------------------------------------------- cell maps
def fake_cells(seed: int = 0) -> pd.DataFrame:
    """A 6 x 6 km patch of 1 km cells plus four 100 m cells, with the columns of
    local_monitoring(...).cells; cells with 1-4 burglaries are flagged suppressed."""
    rng = np.random.default_rng(seed)
    row, col = np.divmod(np.arange(36), 6)
    east = 720_500.0 + 1000 * col
    north = 6_170_500.0 + 1000 * row
    sub_e = 720_050.0 + 100 * np.arange(4)
    sub_n = np.full(4, 6_176_550.0)
    hh = rng.integers(50, 600, 40)
    burg = rng.poisson(4, 40)
    nab = rng.binomial(hh, 0.1)
    cells = pd.DataFrame({
        "cell_id": [f"c{i}" for i in range(40)],
        "east": np.r_[east, sub_e], "north": np.r_[north, sub_n],
        "size_m": np.r_[np.full(36, 1000), np.full(4, 100)],
        "households": hh, "burglaries": burg, "nabohjaelpere": nab,
        "rate_per_1000": 1000 * burg / hh, "rate_shrunk": 1000 * (burg + 2) / (hh + 400),
        "rate_low": np.nan, "rate_high": np.nan, "coverage_per_100": 100 * nab / hh,
        "gap_index": rng.uniform(0, 1, 40), "gi_z": rng.normal(0, 1, 40),
        "gi_q": rng.uniform(0, 1, 40),
    })  # fmt: skip
    cells["hotspot"] = cells["gi_z"].gt(1.0)
    cells["suppressed"] = cells["burglaries"].between(1, 4)
    cells.loc[cells["suppressed"], ["burglaries", "rate_per_1000", "rate_shrunk",
                                    "gap_index"]] = np.nan  # fmt: skip
    return cells


def test_cell_map_draws_only_published_cells_with_their_values_and_hotspots():
    cells = fake_cells()
    assert cells["suppressed"].sum() >= 5 and cells["hotspot"].sum() >= 3
    fig = cell_map(cells, "rate_shrunk", title="Indbrud", threshold=5)
    drawn = _collection(fig, "cells")
    published = cells[~cells["suppressed"]]
    assert len(drawn.get_paths()) == len(published)
    # each drawn square sits on a published cell centre with that cell's value and size
    by_centre = published.set_index(["east", "north"])
    for path, value in zip(drawn.get_paths(), drawn.get_array(), strict=True):
        v = path.vertices[:4]
        cell = by_centre.loc[tuple(v.mean(axis=0))]
        assert value == pytest.approx(cell["rate_shrunk"])
        assert np.ptp(v[:, 0]) == pytest.approx(cell["size_m"])
    hidden = cells.loc[cells["suppressed"], ["east", "north"]].to_numpy()
    centres = _centres(drawn)
    assert not (np.abs(centres[:, None, :] - hidden[None]).sum(axis=-1) < 1e-6).any()
    hot = _collection(fig, "hotspots")
    expected_hot = published[published["hotspot"]][["east", "north"]].to_numpy()
    assert sorted(map(tuple, _centres(hot))) == sorted(map(tuple, expected_hot))
    # big cells are drawn first so the 100 m cells lie on top
    sizes = np.ptp(np.array([p.vertices[:4, 0] for p in drawn.get_paths()]), axis=1)
    assert (np.diff(sizes) <= 0).all()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Celler med færre end 5 indbrud er skjult" in legend


def test_cell_map_has_a_scale_bar_of_a_round_length_and_a_north_arrow():
    fig = cell_map(fake_cells(), "rate_shrunk", title="t")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "N" in texts
    km = [t for t in texts if t.endswith(" km")]
    assert km and float(km[0].split()[0].replace(",", ".")) in (0.5, 1, 2, 5, 10, 20)
    bar = [p for p in ax.patches if p.get_facecolor()[:3] == (0.0, 0.0, 0.0)]
    assert bar and bar[0].get_width() * 2 == pytest.approx(1000 * float(km[0].split()[0]))


def test_cell_map_needs_the_cell_columns():
    with pytest.raises(ConfigError, match="lacks"):
        cell_map(fake_cells().drop(columns="size_m"), "rate_shrunk", title="t")


def test_gap_index_map_uses_a_fixed_probability_scale():
    fig = gap_map(fake_cells(), kind="index")
    drawn = _collection(fig, "cells")
    assert drawn.get_clim() == (0.0, 1.0)
    assert len(drawn.get_paths()) == int((~fake_cells()["suppressed"]).sum())


def test_bivariate_gap_map_puts_high_burglary_low_coverage_in_the_gap_colour():
    cells = fake_cells()
    cells["suppressed"] = False
    cells["rate_shrunk"] = np.arange(40, dtype=float)
    cells["coverage_per_100"] = 40 - np.arange(40, dtype=float)  # falls as burglary rises
    fig = gap_map(cells, kind="bivariate")
    drawn = _collection(fig, "cells")
    colours = drawn.get_facecolors()
    by_centre = cells.set_index(["east", "north"])
    from matplotlib.colors import to_rgba

    top = by_centre["rate_shrunk"].nlargest(5)
    low = by_centre["rate_shrunk"].nsmallest(5)
    for path, colour in zip(drawn.get_paths(), colours, strict=True):
        key = tuple(path.vertices[:4].mean(axis=0))
        if key in top.index:  # highest burglary, lowest coverage
            assert tuple(colour) == pytest.approx(to_rgba(BIVARIATE[2, 0]))
        if key in low.index:  # lowest burglary, highest coverage
            assert tuple(colour) == pytest.approx(to_rgba(BIVARIATE[0, 2]))
    with pytest.raises(ConfigError, match="kind"):
        gap_map(cells, kind="pie")


# --------------------------------------------------------------------------- boundary
SQUARE_UTM = [[[720000, 6170000], [726000, 6170000], [726000, 6176000], [720000, 6176000],
               [720000, 6170000]]]  # fmt: skip


def test_boundary_in_utm_metres_is_drawn_as_given(tmp_path):
    path = tmp_path / "graense.geojson"
    hole = [[722000, 6172000], [723000, 6172000], [723000, 6173000], [722000, 6172000]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {
            "type": "MultiPolygon", "coordinates": [[SQUARE_UTM[0], hole]]}}]}))  # fmt: skip
    rings = read_boundary(path)
    assert len(rings) == 2 and rings[0].shape == (5, 2)
    np.testing.assert_array_equal(rings[0], np.asarray(SQUARE_UTM[0], dtype=float))
    fig = cell_map(fake_cells(), "rate_shrunk", title="t", boundary=path)
    segments = _collection(fig, "boundary").get_segments()
    np.testing.assert_allclose(segments[0], rings[0])
    x0, x1 = fig.axes[0].get_xlim()
    assert x0 < 720000 and x1 > 726000


def test_boundary_in_wgs84_is_projected_to_utm32():
    lat, lon = utm32_to_wgs84(np.array([720000.0, 726000.0]), np.array([6170000.0, 6176000.0]))
    ring = [[lon[0], lat[0]], [lon[1], lat[0]], [lon[1], lat[1]], [lon[0], lat[1]],
            [lon[0], lat[0]]]  # fmt: skip
    rings = read_boundary({"type": "Polygon", "coordinates": [ring]})
    # the first corner goes back to where it came from (to well under a metre)
    np.testing.assert_allclose(rings[0][0], [720000.0, 6170000.0], atol=0.01)
    assert rings[0][:, 0].min() > 700_000 and rings[0][:, 1].max() < 6_200_000


def test_boundary_files_that_are_not_polygons_or_not_in_denmark_are_refused(tmp_path):
    bad = tmp_path / "punkt.geojson"
    bad.write_text(json.dumps({"type": "Point", "coordinates": [10.0, 56.0]}))
    with pytest.raises(InputFileError, match="Polygon"):
        read_boundary(bad)
    with pytest.raises(InputFileError, match="EPSG:25832"):
        read_boundary({"type": "Polygon", "coordinates": [[[1e7, 1e7], [1e7 + 1, 1e7],
                                                            [1e7, 1e7]]]})  # fmt: skip
    with pytest.raises(InputFileError, match="does not exist"):
        read_boundary(tmp_path / "mangler.geojson")


# --------------------------------------------------------------------------- near repeat
def test_near_repeat_heatmap_keeps_band_order_and_stars_only_significant_excess():
    d = ["0-100 m", "100-200 m", "> 200 m"]
    t = ["0-7 dage", "7-14 dage", "> 14 dage"]
    table = pd.DataFrame({
        "distance_band": np.repeat(d, 3), "time_band": np.tile(t, 3),
        "observed": 1, "expected": 1.0,
        "ratio": [2.5, 1.2, 1.0, 1.1, 0.6, 1.0, 1.0, 1.0, 0.9],
        "p_value": [0.01, 0.30, 0.5, 0.5, 0.01, 0.5, 0.5, 0.5, 0.5],
    })  # fmt: skip
    fig = near_repeat_figure(table.sample(frac=1, random_state=1).reset_index(drop=True)
                             .assign(distance_band=lambda x: pd.Categorical(
                                 x["distance_band"], categories=d, ordered=True)))  # fmt: skip
    ax = fig.axes[0]
    image = ax.get_images()[0].get_array()
    np.testing.assert_allclose(image, np.array(table["ratio"]).reshape(3, 3))
    assert [x.get_text() for x in ax.get_yticklabels()] == d
    starred = [x.get_text() for x in ax.texts if x.get_text().endswith("*")]
    assert starred == ["2,50*"]  # 0,60 has p 0.01 but is a deficit: the test is one-sided
    with pytest.raises(ConfigError, match="near-repeat"):
        near_repeat_figure(table.drop(columns="p_value"))


# --------------------------------------------------------------------------- report helpers
def test_hotspot_table_lists_only_published_hotspots_highest_rate_first():
    from botrygt_eval.reports.local import hotspot_table, probability_text

    cells = fake_cells()
    cells.loc[cells.index[:3], ["hotspot", "suppressed"]] = True  # hidden hotspots: never listed
    table = hotspot_table(cells)
    expected = cells[cells["hotspot"] & ~cells["suppressed"]]
    assert sorted(table["cell_id"]) == sorted(expected["cell_id"])
    assert not set(table["cell_id"]) & set(cells.loc[cells["suppressed"], "cell_id"])
    assert table["rate_shrunk"].is_monotonic_decreasing
    got = table.set_index("cell_id")
    want = expected.set_index("cell_id").loc[got.index]
    assert list(got["gap_text"]) == probability_text(100 * want["gap_index"])
    assert (got["burglaries"].astype(float) == want["burglaries"]).all()
    assert list(table["nr"]) == list(range(1, len(table) + 1))
    assert table["placering"].str.contains("kommunens midte").all()


def test_places_and_probabilities_in_words():
    from botrygt_eval.reports.local import place, probability_text

    centre = (500_000.0, 6_200_000.0)
    got = place([503_000, 500_000, 497_900, 500_400], [6_203_000, 6_195_000, 6_200_000,
                6_200_300], centre)  # fmt: skip
    assert got == ["4 km nordøst for kommunens midte", "5 km syd for kommunens midte",
                   "2 km vest for kommunens midte", "ved kommunens midte"]  # fmt: skip
    assert place([503_000], [6_203_000], centre, "en") == [
        "4 km north-east of the municipality's centre"
    ]
    assert probability_text([99.96, 0.2, 42.4, np.nan]) == ["over 99 %", "under 1 %", "42 %", "–"]


def test_rate_change_by_kommune_against_a_hand_computed_panel():
    from botrygt_eval.reports.local import rate_change_by_kommune

    panel = pd.DataFrame({
        "kommune_kode": [101, 101, 101, 825, 825, 825],
        "year": [2018, 2020, 2026, 2018, 2020, 2026],
        "burglaries": [400, 300, 999, 3, 12, 1],
        "households": [20_000, 25_000, 25_000, 1_000, 1_000, 1_000],
    })  # fmt: skip
    out = rate_change_by_kommune(panel, year=2025, min_n=10)  # 2026 is after the report year
    assert (out.attrs["first"], out.attrs["last"]) == (2018, 2020)
    # 101: 20 -> 12 per 1,000 households = -40 %; 825: 3 -> 12 = +300 % but from 3 burglaries
    assert out.loc[101, "change_pct"] == pytest.approx(-40.0)
    assert out.loc[825, "change_pct"] == pytest.approx(300.0)
    assert not out.loc[101, "too_few"] and out.loc[825, "too_few"]
    # the nation pools counts: (300 + 12) / 26,000 against (400 + 3) / 21,000
    assert out.attrs["national"] == pytest.approx(100 * ((312 / 26_000) / (403 / 21_000) - 1))
    later = rate_change_by_kommune(panel, year=2025, first_year=2020)
    assert (later.attrs["first"], later.attrs["last"]) == (2020, 2020)
    assert later["change_pct"].eq(0).all()


def test_local_data_is_found_only_for_kommuner_in_the_lokal_files(tmp_path):
    from botrygt_eval.reports.local import has_local_data

    assert not has_local_data(tmp_path, 101)
    lokal = tmp_path / "lokal"
    lokal.mkdir()
    (lokal / "indbrud.csv").write_text("kommune_kode,date,east,north\n101,2025-01-02,1,2\n")
    (lokal / "husstande.csv").write_text("kommune_kode,cell_id,households\n101,1km_1_2,5\n")
    assert not has_local_data(tmp_path, 101)  # Nabohjælp file missing
    (lokal / "nabohjaelp_celler.csv").write_text("kommune_kode,cell_id,nabohjaelpere\n")
    assert has_local_data(tmp_path, 101)
    assert not has_local_data(tmp_path, 751)


# --------------------------------------------------------------------------- CLI --png
def test_map_cli_writes_the_pngs_with_a_boundary(tmp_path):
    from typer.testing import CliRunner

    from botrygt_eval.cli import app
    from botrygt_eval.simulate.geo import GEO_KOMMUNER, simulate_geo

    codes = np.array(sorted(GEO_KOMMUNER))  # the simulator picks its kommuner among these
    labels = np.array([f"{y}K{q}" for y in (2024, 2025) for q in range(1, 5)])
    simulate_geo(tmp_path / "ws", 7, codes, np.full(len(codes), 20_000),
                 np.full((len(codes), 8), 30), labels, [259])  # fmt: skip
    boundary = tmp_path / "koege.geojson"
    boundary.write_text(json.dumps({"type": "Polygon", "coordinates": [[
        [690000, 6140000], [700000, 6140000], [700000, 6150000], [690000, 6140000]]]}))  # fmt: skip
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["map", "--data", str(tmp_path / "ws"), "--kommune", "259",
                                      "--out", str(out), "--permutations", "9", "--png",
                                      "--boundary", str(boundary)])  # fmt: skip
    assert result.exit_code == 0, result.output
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["kort_indbrud.png", "kort_nabohjaelp.png", "naergentagelse.png"]
    for name in pngs:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_text_has_both_languages_with_the_same_placeholders():
    import string

    from botrygt_eval.text.catalogue import TEXT, t

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key, entry in TEXT.items():
        assert set(entry) == {"da", "en"}, key
        assert fields(entry["da"]) == fields(entry["en"]), key
    assert "Lokal overvågning" == t("local.h")
    assert "5 burglaries" in t("local.intro", "en", size="1 km", n_q=8, first="2024K1",
                               last="2025K4", threshold=5)  # fmt: skip
