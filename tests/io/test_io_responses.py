"""Survey loaders: responses in CSV, XLSX and SPSS; the sample; margins."""

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyreadstat
import pytest

from botrygt_eval.errors import InputFileError
from botrygt_eval.io.responses import load_margins, load_responses, load_sample

FIX = Path(__file__).parents[1] / "fixtures" / "survey"
ITEMS = ["vict_burglary", "worry_burglary", "safe_home_dark", "prev_nabohjaelp", "household_size"]


def _reasons(res):
    return dict(zip(res.quarantined["source_row"], res.quarantined["reason"], strict=True))


def _as_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """What SPSS and Excel hold: floats with NaN for empty cells."""
    out = frame.copy()
    for col in ITEMS + ["year"]:
        out[col] = out[col].astype("float64")
    return out


def test_csv_gives_integer_codes_with_missing_for_empty_cells():
    res = load_responses(FIX / "responses_2025.csv")
    data = res.data
    assert list(data.columns) == ["resp_id", "year", *ITEMS]
    assert all(str(data[c].dtype) == "Int64" for c in ITEMS)
    assert data["worry_burglary"].tolist() == [3, 1, 98, 4]
    assert pd.isna(data["safe_home_dark"].iloc[2]) and pd.isna(data["prev_nabohjaelp"].iloc[3])
    assert res.n_quarantined == 0


def test_csv_xlsx_and_sav_give_the_same_frame(tmp_path):
    csv = load_responses(FIX / "responses_2025.csv").data
    floats = _as_floats(csv)
    xlsx_path = tmp_path / "responses_2025.xlsx"
    floats.to_excel(xlsx_path, index=False, engine="openpyxl")
    sav_path = tmp_path / "responses_2025.sav"
    pyreadstat.write_sav(floats, str(sav_path))
    xlsx = load_responses(xlsx_path)
    sav = load_responses(sav_path)
    pd.testing.assert_frame_equal(xlsx.data, csv)
    pd.testing.assert_frame_equal(sav.data, csv)
    assert any("SPSS" in n for n in sav.notes) and any("Excel" in n for n in xlsx.notes)


def test_sav_non_integer_codes_are_quarantined_with_the_case_number(tmp_path):
    frame = _as_floats(load_responses(FIX / "responses_2025.csv").data)
    frame.loc[1, "worry_burglary"] = 2.5
    path = tmp_path / "responses_2025.sav"
    pyreadstat.write_sav(frame, str(path))
    res = load_responses(path)
    assert _reasons(res) == {2: "worry_burglary 2.5 is not a whole answer code"}
    assert len(res.data) == 3


def test_broken_csv_rows(tmp_path):
    res = load_responses(FIX / "responses_broken_2025.csv", quarantine_dir=tmp_path)
    r = _reasons(res)
    assert r[2] == r[3] == "duplicated key (resp_id)"
    assert r[4] == "resp_id: resp_id is not 16 hex characters (value 'xyz')"
    assert r[5] == "year 2024 in the file for 2025"
    assert r[6] == "worry_burglary '1.5' is not a whole answer code"
    assert r[7] == "worry_burglary 'ja' is not a numeric answer code"
    assert r[8].startswith("worry_burglary: worry_burglary is not a non-negative answer code")
    assert len(res.data) == 0
    assert (tmp_path / "responses_broken_2025.quarantine.csv").is_file()


def test_text_column_and_missing_id_are_file_errors(tmp_path):
    path = tmp_path / "responses_2025.csv"
    path.write_text("resp_id,year,worry_burglary\n0a1b2c3d4e5f6071,2025,Nogle gange\n")
    with pytest.raises(InputFileError, match=r"worry_burglary hold text, not numeric answer codes"):
        load_responses(path)
    path.write_text("id,year,worry_burglary\n0a1b2c3d4e5f6071,2025,1\n")
    with pytest.raises(InputFileError, match=r"required column\(s\) resp_id missing"):
        load_responses(path)
    (tmp_path / "r.json").write_text("{}")
    with pytest.raises(InputFileError, match="unsupported file type '.json'"):
        load_responses(tmp_path / "r.json")


def test_numeric_looking_ids_keep_their_leading_zeros(tmp_path):
    path = tmp_path / "responses_2025.csv"
    path.write_text("resp_id,year,q\n0123456789012345,2025,1\n")
    assert load_responses(path).data["resp_id"].tolist() == ["0123456789012345"]


def test_a_pluggable_schema_per_year_replaces_the_default(tmp_path):
    def strict(year: int) -> pa.DataFrameSchema:
        assert year == 2025
        return pa.DataFrameSchema(
            {
                "resp_id": pa.Column(str),
                "year": pa.Column("int64"),
                **{c: pa.Column("Int64", nullable=True) for c in ITEMS[:-1]},
                "household_size": pa.Column(
                    "Int64",
                    pa.Check.isin([1, 2, 3, 98, 99], error="code not in codebook"),
                    nullable=True,
                ),
            },
            strict=True,
        )

    res = load_responses(FIX / "responses_2025.csv", schema=strict)
    assert _reasons(res) == {3: "household_size: code not in codebook (value 4)"}
    # A schema object works as well, and a column the schema requires must be there.
    need = pa.DataFrameSchema({"resp_id": pa.Column(str), "trust_police": pa.Column("Int64")})
    with pytest.raises(InputFileError, match=r"required column\(s\) trust_police are missing"):
        load_responses(FIX / "responses_2025.csv", schema=need)


def test_sample_good_and_broken():
    good = load_sample(FIX / "sample_2025.csv")
    assert good.n_quarantined == 0 and len(good.data) == 5
    assert good.data["design_weight"].tolist() == [250, 250, 10, 10, 10]
    r = _reasons(load_sample(FIX / "sample_broken_2025.csv"))
    assert r[3] == "age_band does not match age"
    assert r[4] == "design_weight is not 1/incl_prob"
    assert r[5] == "sex 'x' is not male/female"
    assert r[6] == r[7] == "duplicated key (resp_id)"
    assert 2 not in r


def test_margins():
    res = load_margins(FIX / "margins_2025.csv")
    sums = res.data.groupby("variable")["total"].sum()
    assert np.allclose(sums.to_numpy(), 525300)
    assert res.data["level"].tolist()[:2] == ["101", "492"]


def test_margins_duplicated_and_negative(tmp_path):
    path = tmp_path / "margins_2025.csv"
    path.write_text("variable,level,total\nsex,male,5\nsex,male,6\nsex,female,-1\n")
    r = _reasons(load_margins(path))
    assert r[2] == r[3] == "duplicated key (variable, level)"
    assert r[4] == "total: margin total is negative (value -1.0)"


def test_the_item_bank_schema_plugs_in(tmp_path):
    """The questionnaire's generated per-year schema (year -> schema) works as ``schema=``."""
    from botrygt_eval.instrument.schema import response_schema
    from botrygt_eval.simulate.responses import synthetic_responses

    frame = synthetic_responses(2025, n=300, seed=3)
    frame.loc[4, "worry_burglary"] = 7  # not in the codebook
    path = tmp_path / "responses_2025.csv"
    frame.to_csv(path, index=False)
    res = load_responses(path, schema=response_schema)
    assert len(res.data) == 299
    assert res.quarantined["source_row"].tolist() == [6]
    assert "not in the 2025 codebook for worry_burglary" in res.quarantined["reason"].iloc[0]


def test_spss_user_missing_codes_98_99_are_kept_as_codes(tmp_path):
    """Platforms flag 98/99 as user-missing in SPSS; they are answers, not empty cells."""
    frame = _as_floats(load_responses(FIX / "responses_2025.csv").data)
    path = tmp_path / "responses_2025.sav"
    pyreadstat.write_sav(
        frame, str(path), missing_ranges={"worry_burglary": [98, 99], "vict_burglary": [98, 99]}
    )
    data = load_responses(path).data
    assert data["worry_burglary"].tolist()[2] == 98
    assert data["vict_burglary"].tolist()[3] == 99


def test_trailing_separators_do_not_make_an_item(tmp_path):
    path = tmp_path / "responses_2025.csv"
    path.write_text("resp_id,year,q1,\n0a1b2c3d4e5f6071,2025,1,\n")
    res = load_responses(path)
    assert list(res.data.columns) == ["resp_id", "year", "q1"]
    assert "ignored 1 empty column without a heading" in res.notes
