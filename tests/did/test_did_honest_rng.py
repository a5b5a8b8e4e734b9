"""R's random numbers re-implemented in numpy, against R's own draws (tests/reference/r_rng)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.did.honest._flci import qfoldednormal
from botrygt_eval.did.honest._rrng import rmvnorm, rnorm, runif

REF = Path(__file__).parents[1] / "reference" / "r_rng"
DRAWS = pd.read_csv(REF / "r_rng_draws.csv", float_precision="round_trip")


def want(what):
    return DRAWS.loc[DRAWS["what"] == what].sort_values("index")["value"].to_numpy()


def test_uniforms_are_bit_identical():
    np.testing.assert_array_equal(runif(10, 0), want("runif_seed0"))


def test_normals_by_inversion():
    np.testing.assert_allclose(rnorm(10, 0), want("rnorm_seed0"), rtol=1e-14)
    np.testing.assert_allclose(rnorm(10, 7), want("rnorm_seed7"), rtol=1e-14)


def test_rmvnorm_eigen():
    S = np.array([[2, 0.5, 0.1], [0.5, 1, -0.3], [0.1, -0.3, 0.7]])
    got = rmvnorm(4, S, 0)
    for j in range(3):
        np.testing.assert_allclose(got[:, j], want(f"rmvnorm_seed0_col{j + 1}"), rtol=1e-13)


def test_folded_normal_quantile():
    q = pd.read_csv(REF / "r_rng_quantiles.csv", float_precision="round_trip")
    for r in q.itertuples():
        assert abs(qfoldednormal(r.p, r.mu, 0) - r.value) < 1e-14
