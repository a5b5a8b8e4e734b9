"""Synthetic DiD, SC and DiD reproduce the published California Proposition 99 estimates.

Data and numbers: tests/reference/did/ (copied unchanged from ../shared/reference/did/;
see its README, section "California Proposition 99").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from botrygt_eval.did.synth.fit import (
    did_estimate,
    estimate_matrix,
    sc_estimate,
    synth_did,
    synthdid_estimate,
)

REF = Path(__file__).parents[1] / "reference" / "did"

# Published estimates, README.md of tests/reference/did, table under "California
# Proposition 99": "synthetic DiD ... -15.603828", "synthetic control ... -19.619663",
# "plain DiD ... -27.349111" (synthdid 0.0.9 defaults; AER 2021 Table 1).
PUBLISHED = {"sdid": -15.603828, "sc": -19.619663, "did": -27.349111}
TOL = 1e-4


@pytest.fixture(scope="module")
def prop99() -> pd.DataFrame:
    return pd.read_csv(REF / "california_prop99.csv", sep=";")  # semicolon-separated (README)


def _matrices(df: pd.DataFrame) -> tuple[np.ndarray, int, int]:
    """R ``panel.matrices``: controls first (sorted by name), then California; years in order."""
    Y = df.pivot(index="State", columns="Year", values="PacksPerCapita")
    W = df.pivot(index="State", columns="Year", values="treated")
    treated = W.any(axis=1)
    Y = pd.concat([Y[~treated], Y[treated]])
    t0 = int(np.argmax(W.any(axis=0).to_numpy()))
    return Y.to_numpy(float), int((~treated).sum()), t0


def test_setup_matches_readme(prop99):
    Y, n0, t0 = _matrices(prop99)
    assert Y.shape == (39, 31) and n0 == 38 and t0 == 19  # README: N0 = 38, T0 = 19


@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_panel_route_reproduces_published(prop99, method):
    res = synth_did(prop99, unit="State", time="Year", outcome="PacksPerCapita",
                    treat="treated", method=method, se="none")  # fmt: skip
    assert res.estimate == pytest.approx(PUBLISHED[method], abs=TOL)
    assert res.cohorts[0].cohort == 1989
    assert res.unit_weights.sum() == pytest.approx(1.0)


def test_matrix_route_reproduces_published(prop99):
    Y, n0, t0 = _matrices(prop99)
    assert synthdid_estimate(Y, n0, t0) == pytest.approx(PUBLISHED["sdid"], abs=TOL)
    assert sc_estimate(Y, n0, t0) == pytest.approx(PUBLISHED["sc"], abs=TOL)
    assert did_estimate(Y, n0, t0) == pytest.approx(PUBLISHED["did"], abs=TOL)


def test_weights_have_the_package_structure(prop99):
    Y, n0, t0 = _matrices(prop99)
    sd = estimate_matrix(Y, n0, t0, "sdid")
    for w in (sd.omega, sd.lambda_):
        assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
    # sparsification leaves some donors at exactly zero (the second Frank-Wolfe run may
    # bring others back, so not all small weights vanish)
    assert (sd.omega == 0).sum() >= 5
    # the time weights concentrate on the last pre-periods (paper, Figure 1)
    assert sd.lambda_[-3:].sum() > 0.9
    sc = estimate_matrix(Y, n0, t0, "sc")
    assert (sc.lambda_ == 0).all()
    # noise level: sd of first differences of the controls' pre-period outcomes
    assert sd.tuning.noise_level == pytest.approx(np.std(np.diff(Y[:n0, :t0], axis=1), ddof=1))
    assert sd.tuning.zeta_omega == pytest.approx((1 * 12) ** 0.25 * sd.tuning.noise_level)


@pytest.mark.parametrize("method", ["sdid", "sc"])
def test_numpy_oracle_loop_reproduces_published(prop99, method, monkeypatch):
    """The pure-numpy Frank-Wolfe loop (the oracle of the compiled kernel that the tests
    above run by default) reproduces the published estimates too."""
    import botrygt_eval.did.synth.fw_numba as synth_fw_numba

    monkeypatch.setattr(synth_fw_numba, "available", lambda: False)
    Y, n0, t0 = _matrices(prop99)
    assert estimate_matrix(Y, n0, t0, method).estimate == pytest.approx(PUBLISHED[method], abs=TOL)
