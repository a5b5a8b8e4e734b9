"""responses merge: one row per sampled person, responded from the responses, strays reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.errors import InputFileError
from botrygt_eval.instrument import load_instrument
from botrygt_eval.io.merge import merge_responses
from botrygt_eval.simulate.responses import synthetic_responses
from botrygt_eval.simulate.writers import write_csv


def _sample(ids, responded):
    n = len(ids)
    return pd.DataFrame(
        {
            "resp_id": ids,
            "year": 2025,
            "kommune_kode": [101] * n,
            "sex": ["male", "female"] * (n // 2) + ["male"] * (n % 2),
            "age": [40] * n,
            "age_band": ["30-44"] * n,
            "incl_prob": [0.01] * n,
            "design_weight": [100.0] * n,
            "stratum_population": [10_000] * n,
            "responded": responded,
        }
    )


@pytest.fixture()
def frames():
    resp = synthetic_responses(2025, 5, seed=3)
    ids = list(resp["resp_id"][:4]) + [f"{k:016x}" for k in range(4)]
    sample = _sample(ids, [1] * 8)  # the sample file claims everybody answered
    return sample, resp


def test_merge_sets_responded_and_reports_strays(frames):
    sample, resp = frames
    result = merge_responses(sample, resp)
    m = result.merged
    assert len(m) == 8 and m["resp_id"].tolist() == sample["resp_id"].tolist()
    assert m["responded"].tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    assert result.n_changed_responded == 4
    assert result.not_in_sample["resp_id"].tolist() == [resp.loc[4, "resp_id"]]
    item = load_instrument(2025).items[0].id
    assert m.loc[:3, item].tolist() == resp.loc[:3, item].tolist()
    assert m.loc[4:, item].isna().all()
    assert "response rate 50.0%" in result.summary()
    assert list(m.columns[:10]) == list(sample.columns)  # design columns first, unchanged order


def test_merge_refuses_other_year(frames):
    sample, resp = frames
    with pytest.raises(InputFileError, match="same year"):
        merge_responses(sample.assign(year=2024), resp)


def test_cli_merge_writes_merged_and_quarantine(frames, tmp_path):
    sample, resp = frames
    write_csv(tmp_path / "sample_2025.csv", sample)
    write_csv(tmp_path / "responses_2025.csv", resp)
    out = tmp_path / "out" / "merged_2025.csv"
    res = CliRunner().invoke(
        app,
        [
            "responses", "merge", "--sample", str(tmp_path / "sample_2025.csv"),
            "--responses", str(tmp_path / "responses_2025.csv"), "--out", str(out),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    merged = pd.read_csv(out, dtype={"resp_id": str})
    assert merged["responded"].sum() == 4
    stray = pd.read_csv(tmp_path / "out" / "quarantine" / "merged_2025.not_in_sample.csv")
    assert len(stray) == 1 and stray.loc[0, "source_row"] == 6


# ------------------------------------------------------------------ weight on a merged sample
def _weight(tmp_path, data_path, m_path, out, *extra):
    return CliRunner().invoke(
        app,
        [
            "weight", "--responses", str(data_path), "--margins", str(m_path),
            "--design-weight", "design_weight", "--out", str(out), *extra,
        ],
    )  # fmt: skip


def test_weight_on_merged_sample_weights_respondents_only(tmp_path):
    """Weighting the whole merged sample equals weighting its respondents alone."""
    from tests.survey.test_weighting_design import respondents_and_margins, sample_frame

    s = sample_frame(7)  # the same draw respondents_and_margins() uses
    _, m = respondents_and_margins()
    whole, resp, mp = tmp_path / "merged.csv", tmp_path / "resp.csv", tmp_path / "m.csv"
    s.to_csv(whole, index=False)
    s.loc[s["responded"] == 1].to_csv(resp, index=False)
    m.to_csv(mp, index=False)
    r1 = _weight(tmp_path, whole, mp, tmp_path / "w_whole.csv")
    r2 = _weight(tmp_path, resp, mp, tmp_path / "w_resp.csv")
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    assert "non-respondents (responded = 0) were not weighted" in r1.output
    w_whole = pd.read_csv(tmp_path / "w_whole.csv", dtype={"resp_id": str})
    w_resp = pd.read_csv(tmp_path / "w_resp.csv", dtype={"resp_id": str})
    assert len(w_whole) == len(s)  # every input row written
    assert w_whole.loc[s["responded"] == 0, "weight"].isna().all()
    got = w_whole.dropna(subset=["weight"]).set_index("resp_id")["weight"]
    pd.testing.assert_series_equal(got, w_resp.set_index("resp_id")["weight"])
    # calibrated totals come from the respondents only: they hit the kommune margins
    tot = w_whole.groupby("kommune_kode")["weight"].sum()
    target = m.loc[m["variable"] == "kommune_kode"].set_index("level")["total"]
    np.testing.assert_allclose(tot.to_numpy(), target.loc[tot.index.astype(str)].to_numpy())


def test_weight_responses_refuses_non_respondents():
    from botrygt_eval.errors import ConfigError
    from botrygt_eval.survey.weighting import weight_responses
    from tests.survey.test_weighting_design import respondents_and_margins, sample_frame

    _, m = respondents_and_margins()
    with pytest.raises(ConfigError, match="non-respondents"):
        weight_responses(sample_frame(7), m, design_weight="design_weight")
