"""Allocation, rounding, stratified selection and the ``sample`` CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from typer.testing import CliRunner

from botrygt_eval.cli import app
from botrygt_eval.errors import ConfigError, InputFileError
from botrygt_eval.sampling.draw import (
    allocate,
    draw_sample,
    largest_remainder,
    moe,
    respondents_for_moe,
    select_stratified,
)

POP = pd.Series([100_000, 20_000, 5_000, 900], index=pd.Index([101, 147, 151, 153]), name="N")


def small_frame(seed: int = 0, n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    kk = rng.choice([101, 147, 151, 153], n, p=[0.6, 0.25, 0.1, 0.05])
    age = rng.integers(18, 95, n)
    return pd.DataFrame(
        {
            "resp_id": [f"{i:016x}" for i in range(n)],
            "kommune_kode": kk,
            "sex": rng.choice(["male", "female"], n),
            "age": age,
            "age_band": pd.cut(
                age, [17, 29, 44, 59, 74, 200], labels=["18-29", "30-44", "45-59", "60-74", "75+"]
            ).astype(str),
        }
    )


# ---------------------------------------------------------------- allocation rules


def test_proportional_is_exact_when_shares_are_integers():
    n = allocate(POP, method="proportional", n_total=12_590)
    assert n.tolist() == [10_000, 2_000, 500, 90]


def test_equal_and_power_rules():
    assert allocate(POP, method="equal", n_total=400).tolist() == [100] * 4
    n = allocate(POP, method="power", n_total=10_000, power=0.5)
    x = 10_000 * np.sqrt(POP) / np.sqrt(POP).sum()
    assert n.sum() == 10_000
    assert np.all(np.abs(n - x) < 1)
    # q = 1 is proportional, q = 0 is equal
    assert (
        allocate(POP, method="power", n_total=1259, power=1.0).tolist()
        == allocate(POP, method="proportional", n_total=1259).tolist()
    )
    assert allocate(POP, method="power", n_total=400, power=0.0).tolist() == [100] * 4


def test_neyman_with_given_sds():
    sd = pd.Series([0.1, 0.4, 0.4, 0.2], index=POP.index)
    n = allocate(POP, method="neyman", n_total=5_000, sd=sd)
    x = 5_000 * POP * sd / (POP * sd).sum()
    assert n.sum() == 5_000 and np.all(np.abs(n - x) < 1)


def test_moe_allocation_reaches_target_with_fpc():
    n = allocate(POP, method="moe", target_moe=0.04, expected_response=0.4)
    m = n * 0.4
    z = norm.ppf(0.975)
    achieved = z * np.sqrt(0.2 * 0.8 / m * (1 - m / POP))
    assert np.all(achieved <= 0.04 + 1e-12)
    # one fewer invitation misses the target (it is the minimum)
    m1 = (n - 1) * 0.4
    assert np.all(z * np.sqrt(0.2 * 0.8 / m1 * (1 - m1 / POP)) > 0.04)
    # closed form without fpc: n0 = z^2 p q / e^2
    big = respondents_for_moe(np.array([1e15]), 0.04)
    assert big[0] == pytest.approx(z**2 * 0.16 / 0.04**2, rel=1e-9)
    assert moe(big, 1e15)[0] == pytest.approx(0.04, rel=1e-9)


def test_caps_and_minimum():
    n = allocate(POP, method="equal", n_total=4_000)
    assert n.loc[153] == 900 and n.sum() == 4_000
    n = allocate(POP, method="proportional", n_total=2_000, min_per_stratum=300)
    assert n.min() >= 300 and n.sum() == 2_000
    with pytest.raises(ConfigError, match="min_per_stratum"):
        allocate(POP, method="proportional", n_total=500, min_per_stratum=300)
    with pytest.raises(ConfigError, match="larger than the frame"):
        allocate(POP, method="proportional", n_total=10**7)
    with pytest.raises(ConfigError, match="needs n_total"):
        allocate(POP, method="proportional")
    with pytest.raises(ConfigError, match="target_moe"):
        allocate(POP, method="moe")
    with pytest.raises(ConfigError, match="not a valid choice"):
        allocate(POP, method="optimal")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=30),
    st.integers(0, 5000),
)
def test_largest_remainder_keeps_total_and_caps(raw, extra):
    x = np.asarray(raw)
    cap = np.ceil(x).astype(np.int64) + 3
    total = int(min(np.floor(x.sum() + 1e-9) + 0, cap.sum()))
    x = x * (total / x.sum()) if x.sum() > 0 else np.zeros_like(x)
    if x.sum() == 0:
        total = 0
    n = largest_remainder(x, total, cap)
    assert n.sum() == total
    assert np.all(n <= cap) and np.all(n >= 0)
    assert np.all(np.abs(n - x) < 1 + 1e-9)


# ---------------------------------------------------------------- selection


def _full_sort_reference(strata, n_h, seed):
    """The plain definition: per stratum, the n_h rows with the smallest U(0,1) key."""
    codes, uniques = pd.factorize(pd.Series(strata), sort=True)
    u = np.random.default_rng(seed).random(len(codes))
    df = pd.DataFrame({"c": codes, "u": u})
    df["rank"] = df.groupby("c")["u"].rank(method="first")
    want = pd.Series(n_h).reindex(uniques).to_numpy()
    return (df["rank"] <= want[codes]).to_numpy()


def test_selection_equals_full_sort_definition():
    f = small_frame(1)
    n_h = pd.Series({101: 50, 147: 400, 151: 2000, 153: 1000})  # 153 fully enumerated
    got = select_stratified(f["kommune_kode"].to_numpy(), n_h, seed=7)
    ref = _full_sort_reference(f["kommune_kode"].to_numpy(), n_h, seed=7)
    assert np.array_equal(got, ref)
    counts = f.loc[got].groupby("kommune_kode").size()
    assert counts.to_dict() == n_h.to_dict()


def test_selection_is_seeded_and_uniform():
    strata = np.repeat([1, 2], [50, 10])
    n_h = pd.Series({1: 5, 2: 3})
    a = select_stratified(strata, n_h, seed=3)
    assert np.array_equal(a, select_stratified(strata, n_h, seed=3))
    assert not np.array_equal(a, select_stratified(strata, n_h, seed=4))
    hits = np.zeros(60)
    reps = 4000
    for s in range(reps):  # a loop over simulation replicates, not rows
        hits += select_stratified(strata, n_h, seed=s)
    freq = hits / reps
    pi = np.where(strata == 1, 5 / 50, 3 / 10)
    se = np.sqrt(pi * (1 - pi) / reps)
    assert np.all(np.abs(freq - pi) < 5 * se)


def test_draw_sample_columns_and_weights():
    f = small_frame(2)
    r = draw_sample(f, year=2026, method="proportional", n_total=1000, seed=1)
    s = r.sample
    assert list(s.columns) == [
        "resp_id",
        "year",
        "kommune_kode",
        "sex",
        "age",
        "age_band",
        "incl_prob",
        "design_weight",
        "stratum_population",
    ]
    assert len(s) == 1000 and s["resp_id"].is_unique
    N = f.groupby("kommune_kode").size()
    # design weights sum to N_h in every stratum
    assert np.allclose(s.groupby("kommune_kode")["design_weight"].sum(), N.loc[N.index], rtol=1e-12)
    assert np.allclose(s["design_weight"] * s["incl_prob"], 1.0)
    rep = r.to_frame()
    assert rep["n_invited"].sum() == 1000
    assert list(rep.columns) == [
        "kommune_kode",
        "N_h",
        "n_invited",
        "incl_prob",
        "expected_respondents",
        "expected_moe",
    ]
    assert "invited" in r.summary()


def test_draw_sample_refuses_bad_frame():
    with pytest.raises(InputFileError, match="age_band"):
        draw_sample(small_frame().drop(columns="age_band"), year=2026, n_total=10)


def test_sample_cli_writes_sample_and_report(tmp_path):
    frame = tmp_path / "frame_2026.csv"
    small_frame(3).to_csv(frame, index=False)
    out, rep = tmp_path / "sample_2026.csv", tmp_path / "alloc.csv"
    args = ["sample", "--frame", str(frame), "--out", str(out), "--report", str(rep)]
    res = CliRunner().invoke(app, [*args, "--target-moe", "0.1", "--expected-response", "0.5"])
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out, dtype={"resp_id": str})
    a = pd.read_csv(rep)
    assert (s["year"] == 2026).all()
    assert len(s) == a["n_invited"].sum()
    assert (a["expected_moe"] <= 0.1).all()
    again = tmp_path / "again.csv"
    res = CliRunner().invoke(
        app,
        [
            "sample",
            "--frame",
            str(frame),
            "--out",
            str(again),
            "--target-moe",
            "0.1",
            "--expected-response",
            "0.5",
        ],
    )
    assert out.read_bytes() == again.read_bytes()  # same seed, byte-identical


def test_sample_cli_help_has_example():
    res = CliRunner().invoke(app, ["sample", "--help"])
    assert res.exit_code == 0 and "Example: botrygt-eval sample" in res.output


def test_sample_cli_neyman_with_sd_file(tmp_path):
    frame = tmp_path / "frame_2026.csv"
    small_frame(4).to_csv(frame, index=False)
    sd = tmp_path / "sd.csv"
    pd.DataFrame({"kommune_kode": [101, 147, 151, 153], "sd": [0.1, 0.5, 0.5, 0.5]}).to_csv(
        sd, index=False
    )
    rep = tmp_path / "alloc.csv"
    res = CliRunner().invoke(
        app,
        [
            "sample",
            "--frame",
            str(frame),
            "--out",
            str(tmp_path / "s.csv"),
            "--allocation",
            "neyman",
            "--n-total",
            "1000",
            "--sd-file",
            str(sd),
            "--report",
            str(rep),
        ],
    )
    assert res.exit_code == 0, res.output
    a = pd.read_csv(rep).set_index("kommune_kode")
    x = a["N_h"] * pd.Series([0.1, 0.5, 0.5, 0.5], index=a.index)
    assert a["n_invited"].sum() == 1000
    assert np.all(np.abs(a["n_invited"] - 1000 * x / x.sum()) < 1)
