"""Two-by-two DiD estimators with influence functions (Sant'Anna & Zhao 2020).

Numpy transcriptions of R ``DRDID`` 1.3.0 as called by R ``did`` 2.5.1:
``reg_did_panel``, ``std_ipw_did_panel``, ``drdid_panel`` for panels and
``reg_did_rc``, ``std_ipw_did_rc``, ``drdid_rc`` for repeated cross-sections.
Each returns ``(att, inf)`` where ``inf`` is the influence function of the
observations passed in (the caller rescales it to the full sample).
``X`` always carries the intercept as its first column.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from botrygt_eval.errors import ConvergenceError, EstimationError

TRIM_LEVEL = 0.995


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares coefficients (``y`` a vector or one column per outcome).

    By QR as R's ``lm.wfit``; a rank-deficient design falls back to the minimum-norm
    least-squares solution.
    """
    sw = np.sqrt(w)
    Xs = X * sw[:, None]
    ys = y * (sw if y.ndim == 1 else sw[:, None])
    q, r = np.linalg.qr(Xs)
    d = np.abs(np.diag(r))
    if len(d) == X.shape[1] and d.min() > 1e-10 * d.max():
        return linalg.solve_triangular(r, q.T @ ys)
    beta, *_ = np.linalg.lstsq(Xs, ys, rcond=None)
    return beta


def _solve_inv(A: np.ndarray, what: str) -> np.ndarray:
    """Inverse of a small symmetric matrix; refuses it when R's rcond() would (< eps)."""
    try:
        inv = np.linalg.inv(A)
        rcond = 1 / (np.abs(A).sum(axis=0).max() * np.abs(inv).sum(axis=0).max())
    except np.linalg.LinAlgError:
        rcond = 0.0
    if not rcond >= np.finfo(float).eps:
        raise EstimationError(
            f"the {what} design matrix is singular: a covariate has no variation "
            "within this comparison; remove it or merge its categories"
        )
    return inv


def logit(X: np.ndarray, D: np.ndarray, w: np.ndarray, *, tol: float = 1e-12, max_iter: int = 100):
    """Weighted logistic regression by Newton-Raphson; returns fitted probabilities."""
    beta = np.zeros(X.shape[1])
    pbar = np.sum(w * D) / np.sum(w)
    beta[0] = np.log(pbar / (1 - pbar))
    for _ in range(max_iter):
        eta = X @ beta
        p = 1 / (1 + np.exp(-eta))
        H = (X * (w * p * (1 - p))[:, None]).T @ X
        step = np.linalg.solve(H, X.T @ (w * (D - p)))
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    else:
        raise ConvergenceError(
            "the propensity-score logit did not converge: covariates may separate "
            "treated and control units; use method='reg' or fewer covariates"
        )
    return 1 / (1 + np.exp(-(X @ beta)))


def _ps(X, D, w):
    """Propensity score, trimming indicator and the logit's asymptotic linear representation."""
    n = len(D)
    p = logit(X, D, w)
    if p.max() >= 0.999:
        raise EstimationError("overlap violated: some propensity scores are >= 0.999")
    p = np.minimum(p, 1 - 1e-6)
    trim = np.where(D == 1, p < 1.01, p < TRIM_LEVEL)
    XtWX = (X * (p * (1 - p) * w)[:, None]).T @ X
    hess = _solve_inv(XtWX, "propensity score") * n
    alr = ((w * (D - p))[:, None] * X) @ hess
    return p, trim, alr


def _ols_alr(X, resid, wols, what="regression"):
    """Asymptotic linear representation of a weighted OLS fit."""
    n = len(resid)
    XpX = (X * wols[:, None]).T @ X / n
    return ((wols * resid)[:, None] * X) @ _solve_inv(XpX, what)


# --------------------------------------------------------------------------- panel


def _as_columns(dy):
    """Panel estimators take one outcome change (n,) or several (n x m) sharing units,
    covariates, weights and propensity score (the cells of one cohort and control set)."""
    dy = np.asarray(dy, float)
    return dy.reshape(len(dy), -1), dy.ndim == 1


def _ret(att, inf, one):
    return (float(att[0]), inf[:, 0]) if one else (att, inf)


def _ols_alr_dot(X, resid, wols, M, what="regression"):
    """``_ols_alr(X, resid[:, j], wols) @ M`` for every column j of ``resid`` at once."""
    n = len(wols)
    XpX = (X * wols[:, None]).T @ X / n
    return (wols[:, None] * resid) * (X @ (_solve_inv(XpX, what) @ M))[:, None]


def reg_panel(dy, D, X, w, ps=None):
    """Outcome-regression DiD for panels (``DRDID::reg_did_panel``); ``dy`` (n,) or (n, m)."""
    dy, one = _as_columns(dy)
    w = w / w.mean()
    c = D == 0
    out = X @ _wls(X[c], dy[c], w[c])
    w_t = w * D
    mt = np.mean(w_t)
    eta_t = (w_t @ dy) / len(w) / mt
    eta_c = (w_t @ out) / len(w) / mt
    wt = w_t[:, None]
    alr_dot = _ols_alr_dot(X, dy - out, w * (1 - D), np.mean(w_t[:, None] * X, axis=0))
    inf_t = (wt * dy - wt * eta_t) / mt
    inf_c = (wt * out - wt * eta_c + alr_dot) / mt
    return _ret(eta_t - eta_c, inf_t - inf_c, one)


def ipw_panel(dy, D, X, w, ps=None):
    """Standardised IPW DiD for panels (``DRDID::std_ipw_did_panel``); ``dy`` (n,) or (n, m).

    ``ps``: a propensity fit ``_ps(X, D, w / mean(w))`` already made for the same units.
    """
    dy, one = _as_columns(dy)
    w = w / w.mean()
    p, trim, alr_ps = _ps(X, D, w) if ps is None else ps
    w_t = trim * w * D
    w_c = trim * w * p * (1 - D) / (1 - p)
    n = len(w)
    mt, mc = np.mean(w_t), np.mean(w_c)
    eta_t = (w_t @ dy) / n / mt
    eta_c = (w_c @ dy) / n / mc
    wt, wc = w_t[:, None], w_c[:, None]
    inf_t = (wt * dy - wt * eta_t) / mt
    M2 = X.T @ (wc * (dy - eta_c)) / n
    inf_c = (wc * dy - wc * eta_c + alr_ps @ M2) / mc
    return _ret(eta_t - eta_c, inf_t - inf_c, one)


def dr_panel(dy, D, X, w, ps=None):
    """Locally efficient doubly robust DiD for panels (``DRDID::drdid_panel``); ``dy`` (n,)
    or (n, m)."""
    dy, one = _as_columns(dy)
    w = w / w.mean()
    p, trim, alr_ps = _ps(X, D, w) if ps is None else ps
    c = D == 0
    out = X @ _wls(X[c], dy[c], w[c])
    w_t = trim * w * D
    w_c = trim * w * p * (1 - D) / (1 - p)
    n = len(w)
    mt, mc = np.mean(w_t), np.mean(w_c)
    r = dy - out
    eta_t = (w_t @ r) / n / mt
    eta_c = (w_c @ r) / n / mc
    wt, wc = w_t[:, None], w_c[:, None]
    wols = w * (1 - D)
    alr_t = _ols_alr_dot(X, r, wols, np.mean(wt * X, axis=0))
    alr_c = _ols_alr_dot(X, r, wols, np.mean(wc * X, axis=0))
    inf_t = (wt * r - wt * eta_t - alr_t) / mt
    M2 = X.T @ (wc * (r - eta_c)) / n
    inf_c = (wc * r - wc * eta_c + alr_ps @ M2 - alr_c) / mc
    return _ret(eta_t - eta_c, inf_t - inf_c, one)


# ------------------------------------------------------------- repeated cross-sections


def reg_rc(y, post, D, X, w):
    """Outcome-regression DiD for repeated cross-sections (``DRDID::reg_did_rc``)."""
    w = w / w.mean()
    pre = 1 - post
    m0, m1 = (D == 0) & (post == 0), (D == 0) & (post == 1)
    out_pre = X @ _wls(X[m0], y[m0], w[m0])
    out_post = X @ _wls(X[m1], y[m1], w[m1])
    w_tpre, w_tpost, w_c = w * D * pre, w * D * post, w * D
    eta_tpre = np.mean(w_tpre * y) / np.mean(w_tpre)
    eta_tpost = np.mean(w_tpost * y) / np.mean(w_tpost)
    cont = w_c * (out_post - out_pre)
    eta_c = np.mean(cont) / np.mean(w_c)
    alr_pre = _ols_alr(X, y - out_pre, w * (1 - D) * pre)
    alr_post = _ols_alr(X, y - out_post, w * (1 - D) * post)
    inf_t = (w_tpost * (y - eta_tpost)) / np.mean(w_tpost) - (w_tpre * (y - eta_tpre)) / np.mean(
        w_tpre
    )
    M1 = np.mean(w_c[:, None] * X, axis=0)
    inf_c = (cont - w_c * eta_c + alr_post @ M1 - alr_pre @ M1) / np.mean(w_c)
    return (eta_tpost - eta_tpre) - eta_c, inf_t - inf_c


def ipw_rc(y, post, D, X, w):
    """Standardised IPW DiD for repeated cross-sections (``DRDID::std_ipw_did_rc``)."""
    w = w / w.mean()
    p, trim, alr_ps = _ps(X, D, w)
    pre = 1 - post
    odds = p / (1 - p)
    ws = {
        "tpre": trim * w * D * pre,
        "tpost": trim * w * D * post,
        "cpre": trim * w * odds * (1 - D) * pre,
        "cpost": trim * w * odds * (1 - D) * post,
    }
    eta = {k: v * y / np.mean(v) for k, v in ws.items()}
    att = {k: np.mean(v) for k, v in eta.items()}
    inf = {k: eta[k] - ws[k] * att[k] / np.mean(ws[k]) for k in ws}
    M2_pre = np.mean((ws["cpre"] * (y - att["cpre"]))[:, None] * X, axis=0) / np.mean(ws["cpre"])
    M2_post = np.mean((ws["cpost"] * (y - att["cpost"]))[:, None] * X, axis=0) / np.mean(
        ws["cpost"]
    )
    inf_t = inf["tpost"] - inf["tpre"]
    inf_c = inf["cpost"] - inf["cpre"] + alr_ps @ (M2_post - M2_pre)
    est = (att["tpost"] - att["tpre"]) - (att["cpost"] - att["cpre"])
    return est, inf_t - inf_c


def dr_rc(y, post, D, X, w):
    """Locally efficient doubly robust DiD for repeated cross-sections (``DRDID::drdid_rc``)."""
    w = w / w.mean()
    p, trim, alr_ps = _ps(X, D, w)
    pre = 1 - post

    def fit(mask):
        return X @ _wls(X[mask], y[mask], w[mask])

    oc_pre, oc_post = fit((D == 0) & (post == 0)), fit((D == 0) & (post == 1))
    ot_pre, ot_post = fit((D == 1) & (post == 0)), fit((D == 1) & (post == 1))
    oc = post * oc_post + pre * oc_pre
    odds = p / (1 - p)
    w_tpre, w_tpost = trim * w * D * pre, trim * w * D * post
    w_cpre, w_cpost = trim * w * odds * (1 - D) * pre, trim * w * odds * (1 - D) * post
    w_d, w_dt1, w_dt0 = trim * w * D, trim * w * D * post, trim * w * D * pre
    m = np.mean

    def eta(wt, v):
        return wt * v / m(wt)

    e_tpre, e_tpost = eta(w_tpre, y - oc), eta(w_tpost, y - oc)
    e_cpre, e_cpost = eta(w_cpre, y - oc), eta(w_cpost, y - oc)
    e_dpost, e_dt1post = eta(w_d, ot_post - oc_post), eta(w_dt1, ot_post - oc_post)
    e_dpre, e_dt0pre = eta(w_d, ot_pre - oc_pre), eta(w_dt0, ot_pre - oc_pre)
    a_tpre, a_tpost, a_cpre, a_cpost = m(e_tpre), m(e_tpost), m(e_cpre), m(e_cpost)
    a_dpost, a_dt1post, a_dpre, a_dt0pre = m(e_dpost), m(e_dt1post), m(e_dpre), m(e_dt0pre)
    att = (a_tpost - a_tpre) - (a_cpost - a_cpre) + (a_dpost - a_dt1post) - (a_dpre - a_dt0pre)

    alr_pre = _ols_alr(X, y - oc_pre, w * (1 - D) * pre)
    alr_post = _ols_alr(X, y - oc_post, w * (1 - D) * post)
    alr_pre_t = _ols_alr(X, y - ot_pre, w * D * pre)
    alr_post_t = _ols_alr(X, y - ot_post, w * D * post)

    def cm(v):
        return np.mean(v[:, None] * X, axis=0)

    inf_tpre = e_tpre - w_tpre * a_tpre / m(w_tpre)
    inf_tpost = e_tpost - w_tpost * a_tpost / m(w_tpost)
    M1_post = -cm(w_tpost * post) / m(w_tpost)
    M1_pre = -cm(w_tpre * pre) / m(w_tpre)
    # DRDID's R code adds the pre-period term; it enters the ATT with a minus sign, and the
    # exact derivative (tests: weight derivative) and csdid subtract it, as here
    inf_treat_or = alr_post @ M1_post - alr_pre @ M1_pre
    inf_treat = inf_tpost - inf_tpre + inf_treat_or

    inf_cpre = e_cpre - w_cpre * a_cpre / m(w_cpre)
    inf_cpost = e_cpost - w_cpost * a_cpost / m(w_cpost)
    M2_pre = cm(w_cpre * (y - oc - a_cpre)) / m(w_cpre)
    M2_post = cm(w_cpost * (y - oc - a_cpost)) / m(w_cpost)
    inf_c_ps = alr_ps @ (M2_post - M2_pre)
    M3_post = -cm(w_cpost * post) / m(w_cpost)
    M3_pre = -cm(w_cpre * pre) / m(w_cpre)
    inf_c_or = alr_post @ M3_post - alr_pre @ M3_pre
    inf_cont = inf_cpost - inf_cpre + inf_c_ps + inf_c_or

    inf_eff = ((e_dpost - w_d * a_dpost / m(w_d)) - (e_dt1post - w_dt1 * a_dt1post / m(w_dt1))) - (
        (e_dpre - w_d * a_dpre / m(w_d)) - (e_dt0pre - w_dt0 * a_dt0pre / m(w_dt0))
    )
    mom_post = cm(w_d / m(w_d) - w_dt1 / m(w_dt1))
    mom_pre = cm(w_d / m(w_d) - w_dt0 / m(w_dt0))
    inf_or = (alr_post_t - alr_post) @ mom_post - (alr_pre_t - alr_pre) @ mom_pre
    return att, (inf_treat - inf_cont) + inf_eff + inf_or


PANEL = {"reg": reg_panel, "ipw": ipw_panel, "dr": dr_panel}
RC = {"reg": reg_rc, "ipw": ipw_rc, "dr": dr_rc}
