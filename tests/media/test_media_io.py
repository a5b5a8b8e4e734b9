"""The article-export loader: encodings, kommune names, quarantined rows, hand codes."""

from __future__ import annotations

import pytest

from botrygt_eval.errors import InputFileError
from botrygt_eval.io.media import load_articles

GOOD = (
    "date,outlet,kommune,headline,text\n"
    '2020-06-24 14:05:43,Syntetisk Dagblad,Furesø,Sådan forebygger du indbrud,"Tænd lys, lås døren."\n'
    "24.6.2020,Syntetisk Radio,,Indbrud i nat,Tyve tog smykker\n"
)


def write(tmp_path, text, encoding="utf-8", name="articles.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_and_columns(tmp_path, encoding):
    r = load_articles(write(tmp_path, GOOD, encoding))
    d = r.data
    assert list(d.columns) == ["article_id", "date", "outlet", "kommune_kode", "headline", "text"]
    assert d["kommune_kode"].tolist()[0] == 190  # Furesø by name
    assert d["kommune_kode"].isna().tolist() == [False, True]  # national outlet: unknown
    assert d["date"].dt.strftime("%Y-%m-%d").tolist() == ["2020-06-24", "2020-06-24"]
    assert d["text"].iloc[0] == "Tænd lys, lås døren."  # quoted comma kept
    assert r.n_quarantined == 0


def test_danish_excel_semicolons_and_kommune_kode_column(tmp_path):
    text = "article_id;date;outlet;kommune_kode;headline;text\nA1;01-02-2021;X;851;Indbrud;Tekst\n"
    d = load_articles(write(tmp_path, text)).data
    assert d["article_id"].tolist() == ["A1"] and d["kommune_kode"].tolist() == [851]


def test_bad_rows_are_quarantined_with_reasons(tmp_path):
    text = GOOD + (
        "2020-13-01,X,851,Indbrud,\n"
        "2021-01-01,X,Atlantis,Indbrud,\n"
        "2021-01-01,X,101,,\n"
        ",X,101,Indbrud,\n"
    )
    r = load_articles(write(tmp_path, text), quarantine_dir=tmp_path / "q")
    assert len(r.data) == 2 and r.n_quarantined == 4
    reasons = " | ".join(r.quarantined["reason"])
    for part in ("not a date", "Atlantis", "nothing to code", "date is empty"):
        assert part in reasons
    assert (tmp_path / "q" / "articles.quarantine.csv").is_file()


def test_duplicate_ids_quarantined(tmp_path):
    text = "article_id,date,headline\nA,2020-01-01,Indbrud\nA,2020-01-02,Indbrud\nB,2020-01-03,x\n"
    r = load_articles(write(tmp_path, text))
    assert r.data["article_id"].tolist() == ["B"] and r.n_quarantined == 2


def test_missing_required_columns_and_binary(tmp_path):
    with pytest.raises(InputFileError, match="headline"):
        load_articles(write(tmp_path, "date,text\n2020-01-01,x\n"))
    with pytest.raises(InputFileError, match="Excel"):
        load_articles(write(tmp_path, "PK\x03\x04junk", "latin-1", "a.csv"))
    with pytest.raises(InputFileError, match="not found"):
        load_articles(tmp_path / "nope.csv")


def test_hand_coded_sample(tmp_path):
    text = (
        "article_id,date,headline,hand_burglary,hand_constructive\n"
        "A,2020-01-01,Indbrud,ja,nej\nB,2020-01-01,Indbrud,1,1\nC,2020-01-01,x,måske,0\n"
    )
    r = load_articles(write(tmp_path, text), hand_coded=True)
    assert r.data["hand_burglary"].tolist() == [True, True]
    assert r.data["hand_constructive"].tolist() == [False, True]
    assert "måske" in r.quarantined["reason"].item()
    with pytest.raises(InputFileError, match="hand_burglary"):
        load_articles(write(tmp_path, GOOD, name="b.csv"), hand_coded=True)
