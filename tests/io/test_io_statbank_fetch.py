"""``fetch statbank`` on recorded API answers (respx): raw file unchanged, sidecar, retries,
and one clean message when there is no network."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest
import respx
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.errors import ConfigError, StatBankFetchError
from botrygt_eval.io import statbank
from botrygt_eval.io.statbank_fetch import (
    API_DATA_URL,
    API_TABLEINFO_URL,
    choose_variables,
    fetch_statbank,
)

FIX = Path(__file__).parents[1] / "fixtures" / "statbank_real"
TABLES = ["STRAF11", "STRAF10", "FOLK1A", "FAM55N"]
LOADERS = {
    "STRAF11": statbank.load_straf11,
    "STRAF10": statbank.load_straf10,
    "FOLK1A": statbank.load_folk1a,
    "FAM55N": statbank.load_households,
}


def _info(table):
    return json.loads((FIX / "api" / f"tableinfo_{table}.json").read_text(encoding="utf-8"))


def _bulk(table):
    return (FIX / f"{table}_BULK_Code_da.csv").read_bytes()


def _recorded(router, seen=None):
    def tableinfo(request):
        body = json.loads(request.content)
        return httpx.Response(200, json=_info(body["table"]))

    def data(request):
        body = json.loads(request.content)
        if seen is not None:
            seen[body["table"]] = body
        return httpx.Response(200, content=_bulk(body["table"]))

    router.post(API_TABLEINFO_URL).mock(side_effect=tableinfo)
    router.post(API_DATA_URL).mock(side_effect=data)


def test_fetch_writes_the_raw_answer_and_a_sidecar_that_loads_like_the_fixture(tmp_path):
    seen = {}
    with respx.mock(assert_all_called=True) as router:
        _recorded(router, seen)
        got = fetch_statbank(TABLES, tmp_path, from_period="2007K1", progress=False)
    assert [g.table for g in got] == TABLES
    for item in got:
        raw = item.path.read_bytes()
        assert item.path == tmp_path / f"{item.table}.csv"
        assert raw == _bulk(item.table)  # unchanged
        side = json.loads(item.sidecar.read_text(encoding="utf-8"))
        assert side["sha256"] == hashlib.sha256(raw).hexdigest() == item.sha256
        assert side["updated"] == "2025-02-11T08:00:00"
        assert side["url"] == API_DATA_URL and side["request"] == seen[item.table]
        assert side["fetched_at"].endswith("+00:00") and side["bytes"] == len(raw)
        keys = [c for c in ("kommune_kode", "year", "quarter", "sex", "age")]
        ref = LOADERS[item.table](FIX / f"{item.table}_CSV_Code_da.csv").data
        new = LOADERS[item.table](item.path).data
        keys = [k for k in keys if k in ref.columns]
        pd.testing.assert_frame_equal(
            new.sort_values(keys).reset_index(drop=True),
            ref.sort_values(keys).reset_index(drop=True),
        )


def test_the_request_selects_what_the_loaders_need():
    def pick(table):
        chosen = choose_variables(table, _info(table), "2007K1")
        return {v["code"]: v["values"] for v in chosen}

    straf11 = pick("STRAF11")
    assert straf11 == {"OMRÅDE": ["*"], "OVERTRÆD": ["1320"], "Tid": ["2024K1", "2024K2"]}
    assert pick("STRAF10")["Tid"] == ["2023", "2024"]  # 2006 left out by --from 2007K1
    folk = pick("FOLK1A")
    assert folk["KØN"] == ["1", "2"] and folk["CIVILSTAND"] == ["TOT"] and folk["ALDER"] == ["*"]
    assert pick("FAM55N") == {
        "OMRÅDE": ["*"],
        "HUSTYP": ["*"],
        "HUSSTØR": ["*"],
        "ANTBORNH": ["*"],
        "Tid": ["2024"],
    }
    with pytest.raises(ConfigError, match="--from '2007X1' is not a period"):
        choose_variables("STRAF11", _info("STRAF11"), "2007X1")
    with pytest.raises(StatBankFetchError, match="no period from 2030K1 on"):
        choose_variables("STRAF11", _info("STRAF11"), "2030K1")


def test_server_errors_are_retried_with_backoff(tmp_path):
    sleeps = []
    with respx.mock() as router:
        router.post(API_TABLEINFO_URL).mock(
            side_effect=[httpx.Response(503), httpx.Response(200, json=_info("STRAF11"))]
        )
        router.post(API_DATA_URL).mock(
            side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, content=_bulk("STRAF11"))]
        )
        got = fetch_statbank(["STRAF11"], tmp_path, progress=False, sleep=sleeps.append)
    assert sleeps == [1.0, 1.0]
    assert got[0].path.read_bytes() == _bulk("STRAF11")


def test_api_refusal_gives_dst_message_and_leaves_no_partial_file(tmp_path):
    with respx.mock() as router:
        router.post(API_TABLEINFO_URL).mock(return_value=httpx.Response(200, json=_info("FAM55N")))
        router.post(API_DATA_URL).mock(
            return_value=httpx.Response(
                400, json={"errorTypeCode": "EXTRACT-NOTALLOWED", "message": "Udtræk for stort"}
            )
        )
        with pytest.raises(
            StatBankFetchError, match=r"refused the request for FAM55N \(HTTP 400.*Udtræk for stort"
        ):
            fetch_statbank(["FAM55N"], tmp_path, progress=False, sleep=lambda s: None)
    assert list(tmp_path.iterdir()) == []


def test_no_network_is_one_clean_message_after_few_attempts(tmp_path):
    sleeps = []
    with respx.mock() as router:
        router.post(API_TABLEINFO_URL).mock(
            side_effect=httpx.ConnectError("Name or service not known")
        )
        with pytest.raises(StatBankFetchError) as info:
            fetch_statbank(["STRAF11"], tmp_path, progress=False, sleep=sleeps.append, retries=5)
    message = str(info.value)
    assert message.startswith(
        "cannot reach the StatBank API at https://api.statbank.dk/v1/tableinfo"
    )
    assert "Name or service not known" in message and "after 2 attempt(s)" in message
    assert statbank.api_url("STRAF11") in message and "STRAF11.csv" in message
    assert len(sleeps) == 1


def test_unknown_table_is_refused_before_any_call(tmp_path):
    with pytest.raises(ConfigError, match="unknown StatBank table.*BEF5.*STRAF11, STRAF10"):
        fetch_statbank(["BEF5"], tmp_path, progress=False)


def test_cli_fetch_with_recorded_answers_reports_what_loaded(tmp_path):
    with respx.mock() as router:
        _recorded(router)
        result = CliRunner().invoke(
            app,
            ["fetch", "statbank", "STRAF11", "FAM55N", "--from", "2007K1", "--out", str(tmp_path)],
            env={"COLUMNS": "200"},
        )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "STRAF11.csv").is_file() and (tmp_path / "FAM55N.json").is_file()
    assert "STRAF11" in result.output and "rows loaded" in result.output
    assert "filled 3 absent cells" in result.output and "summed households over" in result.output


def test_cli_real_call_without_network_fails_fast_and_clean(tmp_path):
    """A real request to a host that cannot resolve (RFC 2606 '.invalid'): no traceback, exit 2."""
    code = (
        "import sys\n"
        "import botrygt_eval.io.statbank_fetch as f\n"
        "f.API_TABLEINFO_URL = 'https://api.statbank.invalid/v1/tableinfo'\n"
        "from botrygt_eval.cli import main\n"
        f"sys.argv = ['botrygt-eval', 'fetch', 'statbank', 'STRAF11', '--out', {str(tmp_path)!r},"
        " '--timeout', '5']\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach the StatBank API" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "STRAF11.csv").exists()


def test_fetched_folder_loads_with_the_workspace_loader(tmp_path):
    from botrygt_eval.io.workspace import load_workspace

    with respx.mock() as router:
        _recorded(router)
        fetch_statbank(TABLES, tmp_path / "statbank", from_period="2007K1", progress=False)
    ws = load_workspace(tmp_path)
    assert ws.burglaries_quarterly.query("kommune_kode == 825 and quarter == 1")[
        "burglaries"
    ].tolist() == [0]  # Læsø's zero quarter, left out by BULK, is 0
    assert ws.households.set_index("kommune_kode")["households"][101] == 345678
    assert len(ws.population) == 12 and set(ws.burglaries_annual["kommune_kode"]) == {
        101,
        492,
        563,
        825,
    }
