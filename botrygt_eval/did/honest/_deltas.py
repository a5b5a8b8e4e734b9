"""The restriction sets Delta (as ``A delta <= d``) and their confidence sets.

Mirrors HonestDiD's R/deltarm.R, deltarmb.R, deltarmm.R, deltasd.R, deltasdb.R,
deltasdm.R and delta_utility_functions.R, including the default theta grids, so that the
grid-point endpoints agree with the R package. ``delta`` stacks the pre-period
biases (oldest first, reference period -1 left out) and then the post-period ones.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from botrygt_eval.did.honest._arp import NuisanceTest, no_nuisance_accept
from botrygt_eval.did.honest._flci import optimal_flci


# --------------------------------------------------------------------------- matrices
def first_diff_rm(num_pre, num_post, mbar, s, max_positive=True) -> np.ndarray:
    """Delta^RM_{s,+/-}(Mbar): every first difference bounded by the one at pre-period s."""
    T = num_pre + num_post
    at = np.zeros((T, T + 1))
    for r in range(T):
        at[r, r : r + 2] = (-1, 1)
    v = np.zeros(T + 1)
    v[num_pre + s - 1 : num_pre + s + 1] = (-1, 1)
    if not max_positive:
        v = -v
    ub = np.vstack([np.tile(v, (num_pre, 1)), np.tile(mbar * v, (num_post, 1))])
    A = np.vstack([at - ub, -at - ub])
    A = A[(A**2).sum(axis=1) > 1e-10]
    return np.delete(A, num_pre, axis=1)


def second_diff_rm(num_pre, num_post, mbar, s, max_positive=True) -> np.ndarray:
    """Delta^SDRM_{s,+/-}(Mbar): every second difference bounded by the one ending at
    pre-period s ("deviation from a linear trend", HonestDiD R/deltasdrm.R)."""
    T = num_pre + num_post
    at = np.zeros((T - 1, T + 1))
    for r in range(T - 1):
        at[r, r : r + 3] = (1, -2, 1)
    v = np.zeros(T + 1)
    v[num_pre + s - 2 : num_pre + s + 1] = (1, -2, 1)
    if not max_positive:
        v = -v
    ub = np.vstack([np.tile(v, (num_pre - 1, 1)), np.tile(mbar * v, (num_post, 1))])
    A = np.vstack([at - ub, -at - ub])
    A = A[(A**2).sum(axis=1) > 1e-10]
    return np.delete(A, num_pre, axis=1)


def second_diff(num_pre, num_post) -> np.ndarray:
    """Delta^SD: second differences of delta (reference 0 included), both signs."""
    T = num_pre + num_post
    at = np.zeros((T - 1, T + 1))
    for r in range(T - 1):
        at[r, r : r + 3] = (1, -2, 1)
    at = np.delete(at, num_pre, axis=1)
    return np.vstack([at, -at])


def sign_rows(num_pre, num_post, bias_direction) -> np.ndarray:
    """A_B: post-period biases >= 0 ("positive") or <= 0 ("negative")."""
    A = -np.eye(num_pre + num_post)[num_pre:]
    return A if bias_direction == "positive" else -A


def monotone_rows(num_pre, num_post, direction) -> np.ndarray:
    """A_M: delta increasing (or decreasing) through the reference period."""
    T = num_pre + num_post
    A = np.zeros((T, T))
    for r in range(num_pre - 1):
        A[r, r : r + 2] = (1, -1)
    A[num_pre - 1, num_pre - 1] = 1
    if num_post > 0:
        A[num_pre, num_pre] = -1
        for r in range(num_pre + 1, T):
            A[r, r - 1 : r + 1] = (1, -1)
    return -A if direction == "decreasing" else A


def post_rows(A, num_pre) -> np.ndarray:
    return np.flatnonzero((A[:, num_pre:] != 0).sum(axis=1) > 0)


def construct_gamma(l_vec) -> np.ndarray:
    """Invertible matrix with l' as first row, completed by unit vectors (R's rref trick)."""
    P = len(l_vec)
    rows = [np.asarray(l_vec, float)]
    for i in range(P):
        e = np.eye(P)[i]
        if np.linalg.matrix_rank(np.vstack([*rows, e])) > len(rows):
            rows.append(e)
        if len(rows) == P:
            break
    return np.vstack(rows)


def identified_set(A, d, beta, l_vec, num_pre) -> tuple[float, float]:
    """Identified set of l'tau_post when delta in {A delta <= d}, delta_pre = beta_pre."""
    T = A.shape[1]
    obj = np.r_[np.zeros(num_pre), l_vec]
    aeq = np.eye(T)[:num_pre]
    out = []
    for sign in (1, -1):  # min, max of l'delta_post
        r = optimize.linprog(sign * obj, A_ub=A, b_ub=d, A_eq=aeq, b_eq=beta[:num_pre],
                             bounds=(None, None), method="highs")  # fmt: skip
        out.append(sign * r.fun if r.status == 0 else np.nan)
    lt = float(l_vec @ beta[num_pre:])
    if np.isnan(out).any():
        return lt, lt
    return lt - out[1], lt - out[0]


# --------------------------------------------------------------------------- one polyhedron
def arp_accept(betahat, sigma, num_pre, num_post, l_vec, A, d, rows, thetas, alpha,
               hybrid, kappa, seed=0, flci=None) -> np.ndarray:  # fmt: skip
    """Accept/reject of the ARP test on a theta grid for ``Delta = {A delta <= d}``."""
    gam = construct_gamma(l_vec)
    agi = A[:, num_pre:] @ np.linalg.inv(gam)
    Y = A @ betahat - d
    sY = A @ sigma @ A.T
    fl = None
    if hybrid == "FLCI":
        vbar = np.linalg.lstsq(A.T, flci.optimal_vec, rcond=None)[0]
        fl = {"vbar": vbar, "halflength": flci.halflength, "vbar_d": float(vbar @ d),
              "vbar_a1": float(vbar @ agi[:, 0])}  # fmt: skip
    test = NuisanceTest(agi[:, 1:], sY, rows, alpha, hybrid, kappa, seed, fl)
    return test.accept(Y, agi[:, 0], thetas)


def _interval(thetas, accept) -> tuple[float, float]:
    ok = accept > 0
    if not ok.any():
        return np.nan, np.nan
    return float(thetas[ok].min()), float(thetas[ok].max())


# --------------------------------------------------------------------------- Delta^RM family
def rm_ci(betahat, sigma, num_pre, num_post, l_vec, mbar, alpha, hybrid, grid_points,
          grid_lb=None, grid_ub=None, extra=None, seed=0, linear_trend=False):  # fmt: skip
    """Union over s and sign of the ARP sets (HonestDiD ``computeConditionalCS_DeltaRM``).

    ``extra`` = ("sign", direction) or ("monotone", direction) gives Delta^RMB / RMM;
    ``linear_trend`` bounds second instead of first differences (Delta^SDRM).
    """
    kappa = alpha / 10
    post = slice(num_pre, num_pre + num_post)
    sd_theta = float(np.sqrt(l_vec @ sigma[post, post] @ l_vec))
    polys = []
    build = second_diff_rm if linear_trend else first_diff_rm
    for s in range(-(num_pre - (2 if linear_trend else 1)), 1):
        for pos in (True, False):
            A = build(num_pre, num_post, mbar, s, pos)
            if extra is not None:
                kind, direction = extra
                add = (sign_rows(num_pre, num_post, direction) if kind == "sign"
                       else monotone_rows(num_pre, num_post, direction))  # fmt: skip
                A = np.vstack([A, add])
            polys.append(A)
    if grid_lb is None or grid_ub is None:
        # the identified set at betahat (union over s and sign) +/- 20 sd(theta_hat): the
        # grid of the HonestDiD release that produced the package README's results
        ids = np.array([identified_set(A, np.zeros(len(A)), betahat, l_vec, num_pre)
                        for A in polys])  # fmt: skip
        lb = np.nanmin(ids[:, 0]) - 20 * sd_theta if grid_lb is None else grid_lb
        ub = np.nanmax(ids[:, 1]) + 20 * sd_theta if grid_ub is None else grid_ub
    else:
        lb, ub = grid_lb, grid_ub
    thetas = np.linspace(lb, ub, grid_points)
    acc = np.zeros(grid_points)
    for A in polys:
        if True:
            d = np.zeros(len(A))
            if num_post == 1:
                keep = np.flatnonzero(A[:, -1] != 0)
                A, d = A[keep], d[keep]
                a = no_nuisance_accept(betahat, sigma, A, d, num_pre, thetas, alpha, hybrid,
                                       kappa, seed)  # fmt: skip
            else:
                a = arp_accept(betahat, sigma, num_pre, num_post, l_vec, A, d,
                               post_rows(A, num_pre), thetas, alpha, hybrid, kappa, seed)  # fmt: skip
            acc = np.maximum(acc, a)
    return _interval(thetas, acc)


# --------------------------------------------------------------------------- Delta^SD family
def sd_matrices(num_pre, num_post, M, extra=None) -> tuple[np.ndarray, np.ndarray]:
    A = second_diff(num_pre, num_post)
    d = np.full(len(A), float(M))
    if extra is not None:
        kind, direction = extra
        add = (sign_rows(num_pre, num_post, direction) if kind == "sign"
               else monotone_rows(num_pre, num_post, direction))  # fmt: skip
        A, d = np.vstack([A, add]), np.r_[d, np.zeros(len(add))]
    return A, d


def sd_ci(betahat, sigma, num_pre, num_post, l_vec, M, alpha, hybrid, grid_points=1000,
          grid_lb=None, grid_ub=None, extra=None, seed=0) -> tuple[float, float]:  # fmt: skip
    """ARP confidence set for Delta^SD(M) and its sign/monotone variants
    (HonestDiD ``computeConditionalCS_DeltaSD`` / ``_DeltaSDB`` / ``_DeltaSDM``)."""
    kappa = alpha / 10
    A, d = sd_matrices(num_pre, num_post, M, extra)
    rows = post_rows(A, num_pre) if num_post > 1 else np.arange(len(A))
    post = slice(num_pre, num_pre + num_post)
    flci = None
    if hybrid == "FLCI":
        flci = optimal_flci(sigma, num_pre, num_post, l_vec, M, kappa, seed)
        c = float(flci.optimal_vec @ betahat)
        lb = c - flci.halflength if grid_lb is None else grid_lb
        ub = c + flci.halflength if grid_ub is None else grid_ub
    else:
        lb, ub = grid_lb, grid_ub
        if grid_lb is None or grid_ub is None:
            ids = identified_set(A, d, np.zeros(num_pre + num_post), l_vec, num_pre)
            if num_post > 1 and extra == ("sign", "negative"):
                ids = (-ids[1], -ids[0])  # as HonestDiD's computeConditionalCS_DeltaSDB
            sd_theta = float(np.sqrt(l_vec @ sigma[post, post] @ l_vec))
            lb = ids[0] - 20 * sd_theta if grid_lb is None else grid_lb
            ub = ids[1] + 20 * sd_theta if grid_ub is None else grid_ub
    thetas = np.linspace(lb, ub, grid_points)
    if num_post == 1:
        fl = None
        if flci is not None:
            fl = {"l": flci.optimal_vec, "halflength": flci.halflength}
        acc = no_nuisance_accept(betahat, sigma, A, d, num_pre, thetas, alpha, hybrid, kappa,
                                 seed, fl)  # fmt: skip
    else:
        acc = arp_accept(betahat, sigma, num_pre, num_post, l_vec, A, d, rows, thetas, alpha,
                         hybrid, kappa, seed, flci)  # fmt: skip
    return _interval(thetas, acc)


def sd_upper_bound_mpre(betahat, sigma, num_pre, alpha=0.05) -> float:
    """HonestDiD ``DeltaSD_upperBound_Mpre``: largest one-sided upper bound of the
    pre-period second differences (the default top of the M grid)."""
    from scipy import stats

    A = second_diff(num_pre, 0)
    b, s = betahat[:num_pre], sigma[:num_pre, :num_pre]
    se = np.sqrt(np.diag(A @ s @ A.T))
    return float(np.max(A @ b + stats.norm.ppf(1 - alpha) * se))
