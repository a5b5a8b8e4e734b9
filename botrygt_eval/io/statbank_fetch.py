"""Download StatBank tables from the API (``/v1/tableinfo``, ``/v1/data``) as raw files.

For each table: ask ``tableinfo`` for its variables and ``updated`` date, choose the
selections the loaders need (every area, offence 1320, both sexes, the CIVILSTAND
total, every household variable, periods from ``--from``), POST ``/v1/data`` in
BULK format, write the response bytes unchanged to ``<TABLE>.csv`` and a sidecar
``<TABLE>.json`` (URL, request body, time fetched, sha256, ``updated``). Parsing is
left to :mod:`botrygt_eval.io.statbank`, the only parser of StatBank files.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd

from botrygt_eval.errors import ConfigError, StatBankFetchError
from botrygt_eval.io.statbank import (
    _SPECS,
    API_DATA_URL,
    BURGLARY_LABELS,
    api_url,
    is_total,
)

API_TABLEINFO_URL = "https://api.statbank.dk/v1/tableinfo"
TABLES = tuple(_SPECS)
_PERIOD = re.compile(r"^(\d{4})(?:[KQ]([1-4]))?$", re.I)
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class FetchedTable:
    """One downloaded table: the raw file, its sidecar, its size and hash."""

    table: str
    path: Path
    sidecar: Path
    sha256: str
    n_bytes: int
    updated: str | None


def _period_key(text: str) -> tuple[int, int] | None:
    match = _PERIOD.match(str(text).strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 1)


def choose_variables(table: str, info: dict, from_period: str | None) -> list[dict]:
    """The ``variables`` of the data request: a selection for every variable (BULK needs it)."""
    start = None
    if from_period is not None:
        start = _period_key(from_period)
        if start is None:
            raise ConfigError(f"--from {from_period!r} is not a period like 2007K1, 2007Q1 or 2007")
    chosen = []
    for var in info.get("variables", []):
        code = str(var["id"])
        values = var.get("values", [])
        ids = pd.Series([str(v["id"]) for v in values], dtype=object)
        texts = pd.Series([str(v.get("text", "")) for v in values], dtype=object)
        upper = code.upper()
        if var.get("time") or upper == "TID":
            keys = [_period_key(v) for v in ids]
            pick = [
                v for v, k in zip(ids, keys, strict=True) if start is None or (k and k >= start)
            ]
            if not pick:
                raise StatBankFetchError(
                    f"{table}: no period from {from_period} on in the table (it has "
                    f"{ids.iloc[0] if len(ids) else '?'}..{ids.iloc[-1] if len(ids) else '?'}); "
                    "choose an earlier --from"
                )
            chosen.append({"code": code, "values": pick})
        elif upper in ("OVERTRÆD", "OVERTRAED"):
            hit = (
                ids.eq("1320")
                | texts.str.match(r"^1320\b")
                | texts.str.casefold().isin(BURGLARY_LABELS)
            )
            if not hit.any():
                raise StatBankFetchError(
                    f"{table}: tableinfo lists no offence 1320 (burglary of dwellings) in "
                    f"{code}; check the table on statistikbanken.dk"
                )
            chosen.append({"code": code, "values": [ids[hit].iloc[0]]})
        elif upper in ("KØN", "KON", "KOEN"):
            total = is_total(ids) | is_total(texts)
            chosen.append({"code": code, "values": list(ids[~total])})
        elif upper == "CIVILSTAND":
            total = is_total(ids) | is_total(texts)
            chosen.append({"code": code, "values": list(ids[total].iloc[:1]) or ["*"]})
        else:
            chosen.append({"code": code, "values": ["*"]})
    return chosen


def _request(
    client: httpx.Client,
    url: str,
    body: dict,
    *,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
    sink: Callable[[httpx.Response], None] | None = None,
    hint: str = "",
) -> httpx.Response:
    """POST with retries (connection errors, timeouts, 429/5xx) and exponential backoff."""
    last = ""
    for attempt in range(retries + 1):
        try:
            with client.stream("POST", url, json=body) as response:
                if response.status_code in _RETRY_STATUS and attempt < retries:
                    last = f"HTTP {response.status_code}"
                else:
                    if response.status_code >= 400:
                        response.read()
                        raise StatBankFetchError(_api_error(url, body, response))
                    if sink is not None:
                        sink(response)
                    else:
                        response.read()
                    return response
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            last = f"cannot connect ({_short(exc)})"
            if attempt >= 1:  # no network: say so fast rather than retry for minutes
                break
        except httpx.TimeoutException as exc:
            last = f"timed out ({_short(exc)})"
        except httpx.TransportError as exc:
            last = f"connection failed ({_short(exc)})"
        if attempt < retries:
            sleep(backoff * 2**attempt)
    raise StatBankFetchError(
        f"cannot reach the StatBank API at {url} for table {body.get('table')}: {last}, "
        f"after {attempt + 1} attempt(s); check the network connection (and any proxy)"
        f"{hint}"
    )


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:120]


def _api_error(url: str, body: dict, response: httpx.Response) -> str:
    try:
        detail = response.json().get("message") or response.text
    except (ValueError, AttributeError):
        detail = response.text
    return (
        f"the StatBank API refused the request for {body.get('table')} "
        f"(HTTP {response.status_code} from {url}): {str(detail).strip()[:300]}; "
        "check the table name and --from"
    )


def fetch_statbank(
    tables: Sequence[str],
    out: str | Path,
    *,
    from_period: str | None = None,
    lang: str = "da",
    timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 1.0,
    client: httpx.Client | None = None,
    progress: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> list[FetchedTable]:
    """Download each table in BULK format into ``out`` with a provenance sidecar."""
    names = [t.upper() for t in tables]
    unknown = [t for t in names if t not in TABLES]
    if unknown:
        raise ConfigError(
            f"unknown StatBank table(s) {', '.join(unknown)}; choose from {', '.join(TABLES)}"
        )
    if lang not in ("da", "en"):
        raise ConfigError(f"--lang {lang!r}: choose da or en")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    own = client is None
    client = client or httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": "botrygt-eval (StatBank fetch)"},
        follow_redirects=True,
    )
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        disable=not progress,
        transient=False,
    )
    done: list[FetchedTable] = []
    try:
        with bar:
            for table in names:
                task = bar.add_task(f"{table}: tableinfo", total=None)
                done.append(
                    _fetch_one(
                        client, table, out, from_period, lang, retries, backoff, sleep, bar, task
                    )
                )
    finally:
        if own:
            client.close()
    return done


def _fetch_one(client, table, out, from_period, lang, retries, backoff, sleep, bar, task):
    hint = f", or download {api_url(table)} by hand and save it as {out / (table + '.csv')}"
    info_body = {"table": table, "format": "JSON", "lang": lang}
    info_resp = _request(
        client,
        API_TABLEINFO_URL,
        info_body,
        retries=retries,
        backoff=backoff,
        sleep=sleep,
        hint=hint,
    )
    try:
        info = info_resp.json()
    except ValueError:
        raise StatBankFetchError(
            f"{table}: the StatBank API's tableinfo answer is not JSON; try again later"
        ) from None
    body = {
        "table": table,
        "format": "BULK",
        "lang": lang,
        "valuePresentation": "Code",
        "variables": choose_variables(table, info, from_period),
    }
    target = out / f"{table}.csv"
    partial = out / f".{table}.csv.part"
    digest = hashlib.sha256()
    size = 0

    def sink(response: httpx.Response) -> None:
        nonlocal size
        length = response.headers.get("content-length")
        bar.update(task, description=f"{table}: data", total=int(length) if length else None)
        with partial.open("wb") as fh:
            for chunk in response.iter_bytes():
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                bar.update(task, completed=size)

    try:
        _request(
            client,
            API_DATA_URL,
            body,
            retries=retries,
            backoff=backoff,
            sleep=sleep,
            sink=sink,
            hint=hint,
        )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    sidecar = out / f"{table}.json"
    record = {
        "table": table,
        "file": target.name,
        "url": API_DATA_URL,
        "method": "POST",
        "request": body,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sha256": digest.hexdigest(),
        "bytes": size,
        "updated": info.get("updated"),
        "tableinfo_url": API_TABLEINFO_URL,
        "tableinfo_request": info_body,
    }
    sidecar.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    bar.update(task, description=f"{table}: done")
    return FetchedTable(table, target, sidecar, record["sha256"], size, info.get("updated"))
