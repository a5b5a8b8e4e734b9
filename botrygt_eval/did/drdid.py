"""Two-by-two DiD estimators with influence functions (Sant'Anna & Zhao 2020).

Numpy transcriptions of R ``DRDID`` 1.3.0 as called by R ``did`` 2.5.1:
``reg_did_panel``, ``std_ipw_did_panel``, ``drdid_panel`` for panels and
``reg_did_rc``, ``std_ipw_did_rc``, ``drdid_rc`` for repeated cross-sections.
Each returns ``(att, inf)`` where ``inf`` is the influence function of the
observations passed in (the caller rescales it to the full sample).
``X`` always carries the intercept as its first column.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg

from botrygt_eval.errors import EstimationError, PropensityScoreError
from botrygt_eval.options import DidMethod, Resolver, choices

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


_EPS = np.finfo(float).eps
_PS_FIX = (
    "use fewer or coarser covariates, rescale or trim extreme ones, drop units outside "
    "the treated units' covariate range, or use method='reg'"
)


def _linkinv(eta: np.ndarray) -> np.ndarray:
    """Logistic function clamped as R's ``binomial()$linkinv`` (|eta| > 30 at the bound)."""
    e = np.where(eta < -30, _EPS, np.where(eta > 30, 1 / _EPS, np.exp(np.clip(eta, -30, 30))))
    return e / (1 + e)


def _mu_eta(eta: np.ndarray) -> np.ndarray:
    """d mu / d eta as R's ``binomial()$mu.eta`` (eps outside |eta| <= 30)."""
    e = np.exp(np.clip(eta, -30, 30))
    return np.where(np.abs(eta) > 30, _EPS, e / (1 + e) ** 2)


def _deviance(D: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    """Binomial deviance of 0/1 outcomes (R's ``binomial()$dev.resids`` summed)."""
    return float(-2 * np.sum(w * np.where(D > 0, np.log(mu), np.log1p(-mu))))


def _qr_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares by QR, refusing a rank-deficient design (R's ``Cdqrls`` pivots it out
    and DRDID then stops on the NA coefficient)."""
    q, r = np.linalg.qr(A)
    d = np.abs(np.diag(r))
    norms = np.linalg.norm(A, axis=0)
    if not (len(d) == A.shape[1] and np.all(d > 1e-11 * np.maximum(norms, 1e-300))):
        raise PropensityScoreError(
            "the propensity-score covariates are collinear (or one has no variation among "
            "these units), so the logit has no unique fit; remove the redundant covariate or "
            "merge its categories"
        )
    return linalg.solve_triangular(r, q.T @ b)


class LogitFit(NamedTuple):
    """A converged logit: as R's ``glm`` object's ``coefficients``, ``fitted.values``,
    ``weights`` (the working weights of the last IRLS step, behind ``vcov(glm)``) and
    ``iter``."""

    coef: np.ndarray
    fitted: np.ndarray
    working_weights: np.ndarray
    iterations: int


def logit_fit(X: np.ndarray, D: np.ndarray, w: np.ndarray, *, epsilon: float = 1e-8,
              maxit: int = 25) -> LogitFit:  # fmt: skip
    """Weighted logit by R ``glm.fit``'s IRLS.

    As R's ``glm(D ~ -1 + X, family = binomial, weights = w)`` (DRDID 1.0.7, whose printed
    examples are the reference; DRDID >= 1.2 fits the same logit with ``fastglm``): start at ``mu = (w D + 0.5) / (w + 1)``, solve each weighted least-
    squares step by QR, stop when ``|dev - dev_old| / (|dev| + 0.1) < epsilon`` (1e-8) within
    ``maxit`` (25) iterations. Beyond R, a step that raises the deviance is halved towards the
    previous coefficients (as ``glm2``); where R's deviance falls every step, as on data R
    fits, the path and the result are R's. Raises :class:`PropensityScoreError` when the fit
    does not converge (typically separation: a covariate combination predicts treatment
    perfectly) or the covariates are collinear.
    """
    mu = (w * D + 0.5) / (w + 1)
    eta = np.log(mu / (1 - mu))
    dev_old = _deviance(D, mu, w)
    coef_old = None
    for it in range(1, maxit + 1):
        m_eta = _mu_eta(eta)
        good = (w > 0) & (m_eta != 0)
        z = eta[good] + (D - mu)[good] / m_eta[good]
        ww = np.zeros_like(w)
        ww[good] = w[good] * m_eta[good] ** 2 / (mu * (1 - mu))[good]
        sw = np.sqrt(ww[good])
        beta = _qr_solve(X[good] * sw[:, None], z * sw)
        eta = X @ beta
        mu = _linkinv(eta)
        dev = _deviance(D, mu, w)
        halvings = 0
        while coef_old is not None and not (
            np.isfinite(dev) and (dev - dev_old) / (abs(dev) + 0.1) < epsilon
        ):
            if halvings == maxit:
                raise PropensityScoreError(
                    "the propensity-score logit cannot lower its deviance even with step "
                    f"halving (separation or extreme covariate values); {_PS_FIX}"
                )
            halvings += 1
            beta = (beta + coef_old) / 2
            eta = X @ beta
            mu = _linkinv(eta)
            dev = _deviance(D, mu, w)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            return LogitFit(beta, mu, ww, it)
        dev_old, coef_old = dev, beta
    raise PropensityScoreError(
        f"the propensity-score logit did not converge in {maxit} IRLS iterations (as R's "
        "glm): covariates (nearly) separate treated and control units, so some fitted "
        f"probabilities run to 0 or 1; {_PS_FIX}"
    )


def logit(X: np.ndarray, D: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Fitted probabilities of :func:`logit_fit`."""
    return logit_fit(X, D, w).fitted


def ipt_fit(X: np.ndarray, D: np.ndarray, w: np.ndarray, start: np.ndarray,
            *, tol: float = 1e-10, maxit: int = 1000) -> np.ndarray:  # fmt: skip
    """Propensity score by inverse probability tilting (Graham, Pinto & Egel 2012), as
    DRDID's ``pscore.cal``: minimise the convex loss ``-mean(w (D x'g - (1 - D) exp(x'g)))``,
    whose first-order condition reweights the controls by ``exp(x'g) = p / (1 - p)`` to the
    treated units' covariate means exactly. DRDID minimises it with ``trust`` from the
    logit's coefficients; here Newton steps with backtracking from the same start (the
    minimiser is unique, so both end at the same point). Returns fitted probabilities.
    """
    n = len(D)
    c = D == 0

    def loss(g):
        ind = X @ g
        with np.errstate(over="ignore"):
            return -np.mean(w * np.where(c, -np.exp(ind), ind))

    g = np.asarray(start, float).copy()
    f = loss(g)
    for _ in range(maxit):
        ind = X @ g
        e = np.exp(ind)
        grad = -(X.T @ (w * np.where(c, -e, 1.0))) / n
        hess = (X * (w * c * e)[:, None]).T @ X / n
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.full_like(g, np.nan)
        dec = float(grad @ step)  # squared Newton decrement
        if not np.isfinite(dec):
            break
        if dec < tol**2:
            return _linkinv(X @ g)
        t = 1.0
        while True:
            f_new = loss(g - t * step)
            if np.isfinite(f_new) and f_new <= f - 1e-4 * t * dec:
                break
            t /= 2
            if t < 1e-12:
                break
        if t < 1e-12:
            if dec < 1e-14 * max(1.0, abs(f)):
                return _linkinv(X @ g)  # at the floating-point floor of the loss
            break
        g, f = g - t * step, f_new
    raise PropensityScoreError(
        "the inverse-probability-tilting propensity score (method='dr_imp') did not "
        "converge: no reweighting of the controls matches the treated units' covariate "
        f"means (separation or no overlap); {_PS_FIX}"
    )


def _ps(X, D, w):
    """Propensity score, trimming indicator and the logit's asymptotic linear representation."""
    n = len(D)
    p = logit(X, D, w)
    _check_overlap(p)
    p = np.minimum(p, 1 - 1e-6)
    trim = np.where(D == 1, p < 1.01, p < TRIM_LEVEL)
    XtWX = (X * (p * (1 - p) * w)[:, None]).T @ X
    hess = _solve_inv(XtWX, "propensity score") * n
    alr = ((w * (D - p))[:, None] * X) @ hess
    return p, trim, alr


def _check_overlap(p):
    """R did's overlap check (a fitted propensity score of 0.999 or more)."""
    if p.max() >= 0.999:
        raise PropensityScoreError(
            f"overlap violated: some propensity scores are >= 0.999 (largest {p.max():.6g}), "
            f"so some units have no comparable controls; {_PS_FIX}"
        )


def _ps_ipt(X, D, w):
    """IPT propensity score (logit start; R did's overlap check) and trimming indicator."""
    fit = logit_fit(X, D, w)
    _check_overlap(fit.fitted)
    p = np.minimum(ipt_fit(X, D, w, fit.coef), 1 - 1e-6)
    return p, np.where(D == 1, p < 1.01, p < TRIM_LEVEL)


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


# ------------------------------------------- unnormalised IPW and the improved DR estimator


def ipw_unnormalized_panel(dy, D, X, w, ps=None):
    """Unnormalised (Horvitz-Thompson, Abadie 2005) IPW DiD for panels
    (``DRDID::ipw_did_panel``); ``dy`` (n,) or (n, m).

    The control weights ``p / (1 - p)`` are divided by the treated share instead of their own
    sum, so they need not add up to one: unbiased, but more variable than :func:`ipw_panel`.
    """
    dy, one = _as_columns(dy)
    w = w / w.mean()
    p, trim, alr_ps = _ps(X, D, w) if ps is None else ps
    n = len(w)
    w_t = trim * w * D
    w_c = trim * w * p * (1 - D) / (1 - p)
    md = np.mean(w * D)
    att_t, att_c = w_t[:, None] * dy, w_c[:, None] * dy
    att = (att_t.sum(axis=0) - att_c.sum(axis=0)) / n / md
    mom = X.T @ att_c / n  # k x m
    inf = (att_t - att_c - alr_ps @ mom - (w * D)[:, None] * att) / md
    return _ret(att, inf, one)


def dr_imp_panel(dy, D, X, w, ps=None):
    """Improved locally efficient doubly robust DiD for panels (``DRDID::drdid_imp_panel``,
    Sant'Anna & Zhao 2020, section 3.1); ``dy`` (n,) or (n, m).

    Propensity score by inverse probability tilting, outcome regression by least squares on
    the controls weighted by ``p / (1 - p)``: their first-order conditions make the
    estimation effects vanish, so the influence function is the leading term only.
    ``ps``: (p, trim) of :func:`_ps_ipt` for the same units.
    """
    dy, one = _as_columns(dy)
    w = w / w.mean()
    p, trim = _ps_ipt(X, D, w) if ps is None else ps
    c = D == 0
    w_or = w * p / (1 - p)
    out = X @ _wls(X[c], dy[c], w_or[c])
    num = (trim * (1 - (1 - D) / (1 - p)))[:, None] * (dy - out)
    md = np.mean(D * w)
    att = np.mean(w[:, None] * num, axis=0) / md
    inf = (w * trim)[:, None] * (num - D[:, None] * att) / md
    return _ret(att, inf, one)


def ipw_unnormalized_rc(y, post, D, X, w):
    """Unnormalised IPW DiD for repeated cross-sections (``DRDID::ipw_did_rc``)."""
    w = w / w.mean()
    p, trim, alr_ps = _ps(X, D, w)
    pre = 1 - post
    odds = trim * w * p * (1 - D) / (1 - p)
    pi, lam, lam0 = np.mean(w * D), np.mean(w * post), np.mean(w * pre)
    eta = {
        "tpre": w * D * pre * y / (pi * lam0),
        "tpost": w * D * post * y / (pi * lam),
        "cpre": odds * pre * y / (pi * lam0),
        "cpost": odds * post * y / (pi * lam),
    }
    att = {k: np.mean(v) for k, v in eta.items()}
    est = (att["tpost"] - att["tpre"]) - (att["cpost"] - att["cpre"])

    def inf(k, share, lam_k):
        return (
            eta[k] - att[k]
            - (w * D - pi) * att[k] / pi
            - (w * share - lam_k) * att[k] / lam_k
        )  # fmt: skip

    mom_pre = -np.mean(eta["cpre"][:, None] * X, axis=0)
    mom_post = -np.mean(eta["cpost"][:, None] * X, axis=0)
    inf_logit = alr_ps @ (mom_post - mom_pre)
    out = (inf("tpost", post, lam) - inf("tpre", pre, lam0)) - (
        inf("cpost", post, lam) - inf("cpre", pre, lam0)
    )
    return est, out + inf_logit


def dr_imp_rc(y, post, D, X, w):
    """Improved locally efficient doubly robust DiD for repeated cross-sections
    (``DRDID::drdid_imp_rc``): IPT propensity score, control outcome regressions weighted by
    ``p / (1 - p)``, treated ones by the sampling weights; no estimation-effect terms."""
    w = w / w.mean()
    p, trim = _ps_ipt(X, D, w)
    pre = 1 - post
    w_or = w * p / (1 - p)

    def fit(mask, wts):
        return X @ _wls(X[mask], y[mask], wts[mask])

    oc_pre = fit((D == 0) & (post == 0), w_or)
    oc_post = fit((D == 0) & (post == 1), w_or)
    ot_pre = fit((D == 1) & (post == 0), w)
    ot_post = fit((D == 1) & (post == 1), w)
    oc = post * oc_post + pre * oc_pre
    odds = trim * w * p * (1 - D) / (1 - p)
    m = np.mean
    ws = {
        "tpre": (w * D * pre, y - oc),
        "tpost": (w * D * post, y - oc),
        "cpre": (odds * pre, y - oc),
        "cpost": (odds * post, y - oc),
        "dpost": (w * D, ot_post - oc_post),
        "dt1post": (w * D * post, ot_post - oc_post),
        "dpre": (w * D, ot_pre - oc_pre),
        "dt0pre": (w * D * pre, ot_pre - oc_pre),
    }
    eta = {k: wt * v / m(wt) for k, (wt, v) in ws.items()}
    a = {k: m(v) for k, v in eta.items()}
    inf = {k: eta[k] - ws[k][0] * a[k] / m(ws[k][0]) for k in ws}
    att = (
        (a["tpost"] - a["tpre"]) - (a["cpost"] - a["cpre"])
        + (a["dpost"] - a["dt1post"]) - (a["dpre"] - a["dt0pre"])
    )  # fmt: skip
    out = (
        (inf["tpost"] - inf["tpre"]) - (inf["cpost"] - inf["cpre"])
        + (inf["dpost"] - inf["dt1post"]) - (inf["dpre"] - inf["dt0pre"])
    )  # fmt: skip
    return att, out


#: the 2x2 estimators by ``att_gt(method=...)`` name
PANEL = {
    "dr": dr_panel,
    "ipw": ipw_panel,
    "reg": reg_panel,
    "dr_imp": dr_imp_panel,
    "ipw_unnormalized": ipw_unnormalized_panel,
}
RC = {
    "dr": dr_rc,
    "ipw": ipw_rc,
    "reg": reg_rc,
    "dr_imp": dr_imp_rc,
    "ipw_unnormalized": ipw_unnormalized_rc,
}
METHODS: tuple[str, ...] = choices(DidMethod)
#: name -> estimator, refusing unknown names; checks at import that every name has both
panel_estimator = Resolver("method", DidMethod, PANEL)
rc_estimator = Resolver("method", DidMethod, RC)
