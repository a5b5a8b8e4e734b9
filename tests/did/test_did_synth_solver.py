"""The one-problem Frank-Wolfe loop and the compiled (numba) kernel take the batched numpy
loop's steps (the batched numpy loop is the oracle).

The batched loop is itself checked against synthdid's published Prop 99 estimates
(test_did_synth_reference.py); the fast path must give the same weights, including
with padded (invalid) columns, an intercept-free ridge and either stopping regime.
"""

from __future__ import annotations

import numpy as np
import pytest

from botrygt_eval.did.synth.weights import frank_wolfe


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
    fast = frank_wolfe(A, b, x0, single=True, kernel="numpy", **kw)
    oracle = frank_wolfe(A, b, x0, single=False, kernel="numpy", **kw)
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
    fast = frank_wolfe(A, b, x0, single=True, kernel="numpy", **kw)
    oracle = frank_wolfe(A, b, x0, single=False, kernel="numpy", **kw)
    np.testing.assert_allclose(fast, oracle, atol=1e-12)
    assert fast[0, 2] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_padding_and_trimming_do_not_change_weights(seed):
    """Two shapes solved in one padded batch (padding cut away as problems finish) give the
    weights each batch gets on its own, unpadded."""
    from botrygt_eval.did.synth.weights import WeightProblem, solve_weights

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
    together = solve_weights(probs, max_iter=2000, kernel="numpy")
    for p, w in zip(probs, together, strict=True):
        alone = solve_weights([p], max_iter=2000, kernel="numpy")[0]
        np.testing.assert_allclose(w, alone, atol=1e-12)


# ---------------------------------------------------------------- compiled kernel (numba)
def _random_batch(seed: int, nb: int = 5):
    """A batch with mixed scales, padded columns, sparse starts and both stopping regimes."""
    rng = np.random.default_rng(100 + seed)
    n, k = int(rng.integers(5, 45)), int(rng.integers(3, 100))
    A = rng.normal(size=(nb, n, k)) * rng.choice([0.01, 1.0, 100.0]) + rng.choice([0.0, 5.0])
    b = rng.normal(size=(nb, n)) * A.std() + A.mean()
    x0 = rng.dirichlet(np.ones(k), size=nb)
    x0[:, rng.random(k) < 0.4] = 0.0  # sparse starts, as after sparsification
    x0[:, 0] += 0.1
    x0 /= x0.sum(axis=1, keepdims=True)
    cv = None
    if seed % 2:
        cv = rng.random((nb, k)) > 0.3
        cv[:, 0] = True
        cv[0, k // 2 :] = False  # trailing padding in one problem
        x0 = np.where(cv, x0, 0.0)
        x0 /= x0.sum(axis=1, keepdims=True)
    kw = dict(zeta=rng.choice([0.0, 1e-6, 0.3], nb) * A.std(),
              n_rows=n - rng.integers(0, 2, nb),
              min_decrease=rng.choice([1e-9, 1e-5, 1e-2], nb) * A.std(), col_valid=cv)  # fmt: skip
    return A, b, x0, kw


@pytest.mark.parametrize("seed", range(10))
def test_compiled_kernel_matches_numpy_loop(seed):
    A, b, x0, kw = _random_batch(seed)
    compiled = frank_wolfe(A, b, x0, max_iter=3000, kernel="numba", **kw)
    oracle = frank_wolfe(A, b, x0, max_iter=3000, kernel="numpy", single=False, **kw)
    # only the summation order differs: over 3,000 steps on these wide, badly scaled problems
    # the two numpy loops already differ by up to 2e-12 from each other (seeds 4 and 6)
    np.testing.assert_allclose(compiled, oracle, rtol=0, atol=1e-10)
    assert np.allclose(compiled.sum(axis=1), 1.0) and (compiled >= 0).all()
    if kw["col_valid"] is not None:
        assert (compiled[~kw["col_valid"]] == 0).all()


def test_compiled_kernel_full_step_to_a_vertex():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(1, 6, 4))
    b = A[:, :, 2].copy()
    x0 = np.full((1, 4), 0.25)
    kw = dict(zeta=np.zeros(1), n_rows=np.array([6]), min_decrease=np.array([1e-12]),
              max_iter=50)  # fmt: skip
    compiled = frank_wolfe(A, b, x0, kernel="numba", **kw)
    np.testing.assert_allclose(
        compiled, frank_wolfe(A, b, x0, kernel="numpy", single=False, **kw), atol=1e-12
    )
    assert compiled[0, 2] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_compiled_two_step_fit_matches_numpy_and_leaves_inputs_alone(seed):
    """solve_weights (sparsification, intercepts, padding) with either kernel; the inputs,
    including a non-C-ordered Y as fit_block builds it, are not written to."""
    from botrygt_eval.did.synth.weights import WeightProblem, solve_weights

    rng = np.random.default_rng(seed)
    probs = []
    for kind, nb in enumerate((1, 6)):  # one problem (a point fit) and a batch
        n, k1 = int(rng.integers(5, 40)), int(rng.integers(4, 60))
        # each problem stored column-major, as fit_block's unit-weight problem is
        Y = (rng.normal(size=(nb, k1, n)) + 3.0).transpose(0, 2, 1)
        rv = rng.random((nb, n)) > 0.1 if seed % 2 else None
        cv = rng.random((nb, k1 - 1)) > 0.2 if seed % 2 else None
        if cv is not None:
            cv[:, 0] = True
            rv[:, :2] = True
        probs.append(WeightProblem(Y, rng.dirichlet(np.ones(k1 - 1), size=nb), zeta=0.1 * kind,
                                   intercept=bool(kind), min_decrease=np.array([1e-6, 1e-3])[kind],
                                   row_valid=rv, col_valid=cv))  # fmt: skip
    before = [p.Y.copy() for p in probs]
    compiled = solve_weights(probs, max_iter=3000, kernel="numba")
    oracle = solve_weights(probs, max_iter=3000, kernel="numpy")
    for p, y, w, o in zip(probs, before, compiled, oracle, strict=True):
        np.testing.assert_array_equal(p.Y, y)
        np.testing.assert_allclose(w, o, rtol=0, atol=1e-12)


def test_unknown_kernel_is_refused():
    from botrygt_eval.errors import ConfigError

    A, b, x0, kw = _random_batch(0, nb=1)
    with pytest.raises(ConfigError, match="kernel"):
        frank_wolfe(A, b, x0, max_iter=10, kernel="fortran", **kw)


def test_numba_is_imported_only_when_a_fit_runs():
    """The CLI imports did.synth for every command: numba (~0.5 s) must wait for a fit."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "import botrygt_eval.did.synth.fit as s\n"
        "before = 'numba' in sys.modules\n"
        "s.sc_estimate(np.arange(12.0).reshape(3, 4) ** 1.5, 2, 2)\n"
        "print(before, 'numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
