"""Design-weighted generalised linear models (R's ``svyglm``) for gaussian and binomial.

Point estimates: IRLS with the weights scaled to mean 1 (as R). The dispersion is R's
``summary.svyglm`` one: the design-weighted variance of the Pearson residuals. Variance: the sandwich
A^-1 B A^-1 with B the design covariance of the scores x_i w_i (y_i - mu_i) (canonical
links), i.e. ``linearization_vcov(scores @ A^-1)`` — calibration-aware like every
estimator. Rows with a missing value in the model are dropped by giving them weight 0,
so the design (strata, PSUs, fpc) is kept, as R does for calibrated designs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.errors import ConvergenceError, EstimationError, check_option
from botrygt_eval.options import DEFAULT_ALPHA
from botrygt_eval.results import ResultMixin
from botrygt_eval.survey.design import SurveyDesign
from botrygt_eval.survey.variance import linearization_vcov

Family = Literal["gaussian", "binomial", "quasibinomial"]
FAMILIES: tuple[str, ...] = ("gaussian", "binomial", "quasibinomial")


@dataclass(frozen=True, eq=False)
class SurveyGLMResult(ResultMixin):
    """A fitted design-weighted GLM: coefficients, design-based covariance, R's extras."""

    formula: str
    family: str
    params: pd.Series
    vcov: pd.DataFrame
    df_residual: int
    dispersion: float
    n: int
    iterations: int
    alpha: float = DEFAULT_ALPHA

    @property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.vcov.to_numpy())), index=self.params.index)

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficients: term, estimate, se, statistic, p_value, ci_low, ci_high, n."""
        est, se = self.params.to_numpy(), self.se.to_numpy()
        t = stats.t.ppf(1 - self.alpha / 2, self.df_residual)
        stat = est / se
        return pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": est,
                "se": se,
                "statistic": stat,
                "p_value": 2 * stats.t.sf(np.abs(stat), self.df_residual),
                "ci_low": est - t * se,
                "ci_high": est + t * se,
                "n": self.n,
            }
        )

    def summary(self) -> str:
        head = (
            f"Survey-weighted GLM ({self.family}): {self.formula}\n"
            f"n = {self.n:,}, residual df = {self.df_residual}, dispersion = "
            f"{self.dispersion:.6g}, IRLS iterations = {self.iterations}"
        )
        return head + "\n" + self.to_frame().to_string(index=False, float_format="%.6g")

    def _payload(self) -> dict:
        return {"formula": self.formula, "family": self.family, "n": self.n,
                "df_residual": self.df_residual, "dispersion": self.dispersion,
                "iterations": self.iterations, "alpha": self.alpha,
                "coefficients": self.to_frame()}  # fmt: skip

    def __repr__(self) -> str:
        return f"SurveyGLMResult({self.formula!r}, {self.family})"


def _model(design: SurveyDesign, formula: str):
    import patsy

    try:
        y, X = patsy.dmatrices(formula, design.data, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as exc:
        raise EstimationError(f"cannot build the model {formula!r}: {exc}") from None
    keep = np.zeros(design.n, dtype=bool)
    keep[y.index.to_numpy()] = True
    Xf = np.zeros((design.n, X.shape[1]))
    Xf[y.index.to_numpy()] = X.to_numpy(dtype=float)
    yf = np.zeros(design.n)
    if y.shape[1] != 1:
        raise EstimationError(f"{formula!r} needs one numeric outcome on the left")
    yf[y.index.to_numpy()] = y.to_numpy(dtype=float)[:, 0]
    names = ["(Intercept)" if c == "Intercept" else c for c in X.columns]
    return yf, Xf, keep, names


def svyglm(
    design: SurveyDesign,
    formula: str,
    *,
    family: Family = "gaussian",
    maxit: int = 50,
    tol: float = 1e-12,
    alpha: float = DEFAULT_ALPHA,
) -> SurveyGLMResult:
    """Fit ``formula`` (patsy/R syntax, e.g. ``"api00 ~ ell + meals"``) to the design.

    ``binomial`` and ``quasibinomial`` (logit link) give the same estimates and SEs (the
    SE is design-based either way); the outcome must be 0/1 or a share in [0, 1].
    """
    check_option("family", family, FAMILIES)
    y, X, keep, names = _model(design, formula)
    w = np.where(keep, np.asarray(design.weights, dtype=float), 0.0)
    pos = w > 0
    if pos.sum() <= X.shape[1]:
        raise EstimationError(
            f"{int(pos.sum())} rows with weight for {X.shape[1]} coefficients; the model "
            "cannot be estimated"
        )
    pw = w / w[pos].mean()
    if np.linalg.matrix_rank(X[pos] * np.sqrt(pw[pos])[:, None]) < X.shape[1]:
        raise EstimationError(
            f"the model matrix of {formula!r} is collinear; drop a redundant term"
        )
    if family == "gaussian":
        A = X.T @ (X * pw[:, None])
        beta = np.linalg.solve(A, X.T @ (pw * y))
        mu = X @ beta
        var_mu = np.ones_like(mu)
        it = 1
    else:
        if ((y[pos] < 0) | (y[pos] > 1)).any():
            raise EstimationError(f"{family} needs an outcome in [0, 1] (0/1 or a share)")
        beta = np.zeros(X.shape[1])
        eta = X @ beta
        for it in range(1, maxit + 1):  # noqa: B007 (the count is reported)
            mu = 1 / (1 + np.exp(-eta))
            var_mu = mu * (1 - mu)
            A = X.T @ (X * (pw * var_mu)[:, None])
            step = np.linalg.solve(A, X.T @ (pw * (y - mu)))
            beta = beta + step
            eta = X @ beta
            if np.max(np.abs(step)) <= tol * (1 + np.max(np.abs(beta))):
                break
        else:
            raise ConvergenceError(
                f"svyglm({formula!r}, family={family!r}) did not converge in {maxit} IRLS "
                "iterations; check for separation or raise maxit"
            )
        mu = 1 / (1 + np.exp(-eta))
        var_mu = mu * (1 - mu)
        A = X.T @ (X * (pw * var_mu)[:, None])
    Ainv = np.linalg.inv(A)
    scores = X * (pw * (y - mu))[:, None]
    V = linearization_vcov(scores @ Ainv, design)
    # R: svyvar(resid(fit, "pearson"), design), Pearson residuals (y - mu) / sqrt(V(mu))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(pos, (y - mu) / np.sqrt(var_mu), 0.0)
    rbar = np.sum(w * r) / w.sum()
    m = int(pos.sum())
    dispersion = float(np.sum(w * (r - rbar) ** 2) / w.sum() * m / (m - 1))
    sub_psu = np.unique(design.psu_codes[pos]).size
    sub_strata = np.unique(design.strata_codes[pos]).size
    df_resid = int(sub_psu - sub_strata + 1 - X.shape[1])
    return SurveyGLMResult(
        formula=formula,
        family=family,
        params=pd.Series(beta, index=names),
        vcov=pd.DataFrame(V, index=names, columns=names),
        df_residual=df_resid,
        dispersion=dispersion,
        n=int(pos.sum()),
        iterations=it,
        alpha=alpha,
    )
