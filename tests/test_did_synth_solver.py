"""The one-problem Frank-Wolfe loop takes the batched loop's steps (the batched loop is the oracle).

The batched loop is itself checked against synthdid's published Prop 99 estimates
(test_did_synth_reference.py); the fast path must give the same weights, including
with padded (invalid) columns, an intercept-free ridge and either stopping regime.
"""

from __future__ import annotations

import numpy as np
import pytest

from botrygt_eval.did.synth_weights import frank_wolfe


@pytest.mark.parametrize("seed", range(8))
def test_single_problem_path_matches_batched_loop(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 40)), int(rng.integers(3, 60))
    A = rng.normal(size=(2, n, k)) * rng.choice([0.01, 1.0, 100.0])
    b = rng.normal(size=(2, n)) * A.std()
    x0 = rng.dirichlet(np.ones(k), size=2)
    cv = None
    if seed % 2:
        cv = rng.random((2, k)) > 0.3
        cv[:, 0] = True
        x0 = np.where(cv, x0, 0.0)
        x0 /= x0.sum(axis=1, keepdims=True)
    kw = dict(zeta=np.array([0.0, 0.3]) * A.std(), n_rows=np.array([n, n - 1]),
              min_decrease=np.array([1e-5, 1e-9]) * A.std(), max_iter=3000, col_valid=cv)  # fmt: skip
    fast = frank_wolfe(A, b, x0, single=True, **kw)
    oracle = frank_wolfe(A, b, x0, single=False, **kw)
    np.testing.assert_allclose(fast, oracle, rtol=0, atol=1e-12)
    assert np.allclose(fast.sum(axis=1), 1.0) and (fast >= 0).all()
    if cv is not None:
        assert (fast[~cv] == 0).all()


def test_single_problem_path_full_step_to_a_vertex():
    # the target is a column: Frank-Wolfe takes step 1 onto that vertex and stays
    rng = np.random.default_rng(1)
    A = rng.normal(size=(1, 6, 4))
    b = A[:, :, 2].copy()
    x0 = np.full((1, 4), 0.25)
    kw = dict(zeta=np.zeros(1), n_rows=np.array([6]), min_decrease=np.array([1e-12]),
              max_iter=50)  # fmt: skip
    fast = frank_wolfe(A, b, x0, single=True, **kw)
    np.testing.assert_allclose(fast, frank_wolfe(A, b, x0, single=False, **kw), atol=1e-12)
    assert fast[0, 2] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_padding_and_trimming_do_not_change_weights(seed):
    """Two shapes solved in one padded batch (padding cut away as problems finish) give the
    weights each batch gets on its own, unpadded."""
    from botrygt_eval.did.synth_weights import WeightProblem, solve_weights

    rng = np.random.default_rng(seed)
    probs = []
    for kind in range(2):
        n, k1 = int(rng.integers(5, 30)), int(rng.integers(4, 40))
        cv = rng.random((6, k1 - 1)) > 0.2 if seed % 2 else None
        if cv is not None:
            cv[:, 0] = True
        probs.append(WeightProblem(
            rng.normal(size=(6, n, k1)), rng.dirichlet(np.ones(k1 - 1), size=6), zeta=0.1 * kind,
            intercept=bool(kind), min_decrease=np.array([1e-2, 1e-6])[kind], col_valid=cv,
        ))  # fmt: skip
    together = solve_weights(probs, max_iter=2000)
    for p, w in zip(probs, together, strict=True):
        np.testing.assert_allclose(w, solve_weights([p], max_iter=2000)[0], atol=1e-12)
