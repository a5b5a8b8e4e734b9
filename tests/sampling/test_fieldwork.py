"""fieldwork: response rates by cell, MOE per kommune against the target, reminders, page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.sampling.fieldwork import fieldwork_status, write_fieldwork

Z = 1.959963984540054  # qnorm(0.975)


def _sample() -> pd.DataFrame:
    """Kommune 101: 400 sampled of N=10,000; kommune 147: 60 sampled of N=2,000."""
    rows = []
    for k, n, N in ((101, 400, 10_000), (147, 60, 2_000)):
        for i in range(n):
            rows.append(
                {
                    "resp_id": f"{k:04x}{i:012x}",
                    "year": 2026,
                    "kommune_kode": k,
                    "sex": "male" if i % 2 else "female",
                    "age": 40,
                    "age_band": "30-44"
                    if i % 4 < 2
                    else ("75+" if k == 147 and i < 8 else "45-59"),
                    "incl_prob": n / N,
                    "design_weight": N / n,
                    "stratum_population": N,
                    "responded": 0,
                }
            )
    frame = pd.DataFrame(rows)
    frame["age"] = frame["age_band"].map({"30-44": 35, "45-59": 50, "75+": 80})
    return frame


def test_rates_moe_and_reminders_against_closed_form():
    s = _sample()
    # 101: every second female answers (100 of 400); 147: 10 of 60, all aged 30-44
    ans = s.loc[
        ((s["kommune_kode"] == 101) & (s["sex"] == "female") & (s.index % 4 == 0))
        | ((s["kommune_kode"] == 147) & (s.index < 400 + 20) & (s["age_band"] == "30-44"))
    ]
    st = fieldwork_status(s, ans["resp_id"], target_moe=0.05, min_cell=10)
    k = st.kommuner.set_index("kommune_kode")
    m101 = int(k.loc[101, "n_responded"])
    assert m101 == len(ans.loc[ans["kommune_kode"] == 101])
    expected = Z * np.sqrt(0.2 * 0.8 / m101 * (1 - m101 / 10_000))
    assert k.loc[101, "moe_now"] == pytest.approx(expected, rel=1e-12)
    # needed respondents for ±5 points at N: n0 / (1 + n0/N), n0 = z² p(1-p) / 0.05²
    n0 = Z**2 * 0.16 / 0.05**2
    assert k.loc[101, "respondents_needed"] == np.ceil(n0 / (1 + n0 / 10_000))
    assert k.loc[101, "shortfall"] == k.loc[101, "respondents_needed"] - m101
    assert not k.loc[101, "meets_target"]
    assert k.loc[147, "rate_needed_among_rest"] > 1  # 60 invited cannot give ±5 points
    c = st.cells
    # cells in a kommune short of the target: below the kommune's rate first
    male101 = c.loc[(c["kommune_kode"] == 101) & (c["sex"] == "male")]
    assert (male101["reminder_priority"] == 1).all()
    # the 75+ cell of 147 has 8 sampled (< 10): no counts or rate shown
    small = c.loc[(c["kommune_kode"] == 147) & (c["age_band"] == "75+")]
    assert small["suppressed"].all() and small["response_rate"].isna().all()
    assert small["n_sampled"].isna().all()


def test_meeting_target_needs_no_reminder():
    s = _sample()
    st = fieldwork_status(s, s.loc[s["kommune_kode"] == 101, "resp_id"], target_moe=0.05)
    k = st.kommuner.set_index("kommune_kode")
    assert k.loc[101, "meets_target"] and k.loc[101, "shortfall"] == 0
    assert st.cells.loc[st.cells["kommune_kode"] == 101, "reminder_priority"].isna().all()


def test_page_banner_only_when_simulated(tmp_path):
    s = _sample()
    st = fieldwork_status(s, s["resp_id"][::3])
    real = write_fieldwork(st, tmp_path / "a", year=2026, simulated=False)
    sim = write_fieldwork(st, tmp_path / "b", year=2026, simulated=True)
    assert "SIMULEREDE DATA" not in real["html"].read_text(encoding="utf-8")
    page = sim["html"].read_text(encoding="utf-8")
    assert "SIMULEREDE DATA" in page and "data:image/png;base64," in page
    assert real["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_fieldwork(tmp_path):
    s = _sample()
    (tmp_path / "survey").mkdir()
    s.to_csv(tmp_path / "survey" / "sample_2026.csv", index=False)
    s.loc[::2, ["resp_id"]].assign(year=2026).to_csv(tmp_path / "resp.csv", index=False)
    (tmp_path / "README.md").write_text("SIMULEREDE DATA / SIMULATED DATA\n", encoding="utf-8")
    res = CliRunner().invoke(
        app,
        [
            "fieldwork", "--sample", str(tmp_path / "survey" / "sample_2026.csv"),
            "--responses", str(tmp_path / "resp.csv"), "--out", str(tmp_path / "fw"),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "230 of 460 sampled have answered" in res.output
    assert "SIMULEREDE DATA" in (tmp_path / "fw" / "fieldwork.html").read_text(encoding="utf-8")
    kom = pd.read_csv(tmp_path / "fw" / "fieldwork_kommuner.csv")
    assert kom["n_responded"].sum() == 230
