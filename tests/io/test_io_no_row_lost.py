"""Property: every input row ends up loaded, quarantined or explicitly set aside — exactly once."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botrygt_eval.io.registers import load_nabohjaelp
from botrygt_eval.io.responses import load_responses
from botrygt_eval.io.statbank import load_folk1a, load_straf11

AREAS = st.sampled_from(
    [
        "København",
        "101",
        "Aarhus",
        "751 Aarhus",
        "Ærø",
        "Hele landet",
        "All Denmark",
        "Region Hovedstaden",
        "084",
        "Christiansø",
        "411",
        "Narnia",
        "999",
        "",
    ]
)
OFFENCES = st.sampled_from(
    [
        "1320 Indbrud i beboelser",
        "1320",
        "Indbrud i beboelser",
        "1310 Indbrud i forretninger",
        "Vold",
    ]
)
PERIODS = st.sampled_from(["2024K1", "2024K2", "2024Q3", "2024", "2024X1", "K1", "1800K1"])
VALUES = st.sampled_from(["5", "0", "..", "", "-2", "1,5", "12,0", "abc", "1 234"])
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check_partition(res, n_rows: int) -> None:
    rows = list(res.quarantined["source_row"])
    if res.dropped is not None:
        rows += list(res.dropped["source_row"])
    assert len(res.data) + res.n_quarantined + res.n_dropped == n_rows
    # Quarantined and set-aside rows are distinct lines of the file (2..n_rows+1).
    assert len(set(rows)) == len(rows)
    assert set(rows) <= set(range(2, n_rows + 2))


@SETTINGS
@given(st.lists(st.tuples(AREAS, OFFENCES, PERIODS, VALUES), min_size=1, max_size=60))
def test_straf11_no_row_is_lost(tmp_path_factory, rows):
    path = Path(tmp_path_factory.mktemp("p")) / "STRAF11.csv"
    lines = ["OMRÅDE;OVERTRÆD;TID;INDHOLD"] + [";".join(r) for r in rows]
    # A file where nothing is offence 1320 is refused as a whole; keep one such row.
    lines.append("København;1320;2023K4;1")
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    res = load_straf11(path)
    _check_partition(res, len(lines) - 1)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            AREAS,
            st.sampled_from(["Mænd", "Kvinder", "I alt", "Men", "x"]),
            st.sampled_from(["0 år", "42 år", "105 years", "I alt", "Total", "0-4 år"]),
            st.sampled_from(["I alt", "Total"]),
            PERIODS,
            VALUES,
        ),
        min_size=1,
        max_size=60,
    )
)
def test_folk1a_no_row_is_lost(tmp_path_factory, rows):
    path = Path(tmp_path_factory.mktemp("p")) / "FOLK1A.csv"
    lines = ["OMRÅDE;KØN;ALDER;CIVILSTAND;TID;INDHOLD"] + [";".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="cp1252", errors="strict")
    _check_partition(load_folk1a(path), len(rows))


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["101", "Aarhus", "0", "Narnia", ""]),
            st.sampled_from(["2023", "2024", "24x", ""]),
            VALUES,
        ),
        min_size=1,
        max_size=40,
    )
)
def test_nabohjaelp_no_row_is_lost(tmp_path_factory, rows):
    path = Path(tmp_path_factory.mktemp("p")) / "nabohjaelp.csv"
    body = [",".join(r) for r in rows if any(r)]  # an all-empty line is a blank line
    path.write_text("kommune_kode,year,members\n" + "\n".join(body) + "\n")
    res = load_nabohjaelp(path)
    assert len(res.data) + res.n_quarantined == len(body)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["0a1b2c3d4e5f6071", "1b2c3d4e5f607182", "xyz", "ABCDEF0123456789"]),
            st.sampled_from(["2025", "2024", ""]),
            st.sampled_from(["1", "2", "98", "", "1.5", "-1", "1,5"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_responses_no_row_is_lost(tmp_path_factory, rows):
    path = Path(tmp_path_factory.mktemp("p")) / "responses_2025.csv"
    body = [",".join(r) for r in rows]
    path.write_text("resp_id,year,worry_burglary\n" + "\n".join(body) + "\n")
    res = load_responses(path)
    assert len(res.data) + res.n_quarantined == len(rows)
    assert res.data["resp_id"].is_unique
