"""Shared pieces of the estimators: domains, variables, confidence intervals, the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.errors import ConfigError, EstimationError, check_option
from botrygt_eval.options import DEFAULT_ALPHA
from botrygt_eval.results import ResultMixin

CIMethod = Literal["auto", "wald", "logit", "wilson"]
CI_METHODS: tuple[str, ...] = ("auto", "wald", "logit", "wilson")
RESULT_COLUMNS = ["variable", "domain", "estimate", "se", "ci_low", "ci_high", "n", "deff"]
MIN_CELL = 10


def as_list(x: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """A column name or list of names as a list (None -> [])."""
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


def _fmt_level(v: object) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, np.integer):
        return str(int(v))
    return str(v)


@dataclass(frozen=True, eq=False)
class Domains:
    """Domain membership: ``codes`` 0..G-1 per row (-1 = in no domain) and their labels."""

    codes: np.ndarray
    labels: pd.DataFrame  # one row per domain, the by columns
    names: list[str | None]  # "col=value,col2=value2", None for the whole population

    @property
    def size(self) -> int:
        return len(self.names)


def domains(data: pd.DataFrame, by: str | list[str] | None) -> Domains:
    """Code the domains given by ``by`` (None: the whole population as one domain)."""
    cols = as_list(by)
    n = len(data)
    if not cols:
        return Domains(np.zeros(n, dtype=np.intp), pd.DataFrame(index=[0]), [None])
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ConfigError(
            f"domain column(s) {missing} are not in the data; columns are {list(data.columns)}"
        )
    # factorize each column (sorted), combine in mixed radix, then number the used keys
    codes = np.zeros(n, dtype=np.int64)
    missing_row = np.zeros(n, dtype=bool)
    levels = []
    for c in cols:
        cc, uniq = pd.factorize(data[c], sort=True)
        missing_row |= cc < 0
        codes = codes * max(len(uniq), 1) + np.maximum(cc, 0)
        levels.append(uniq)
    inverse, used = pd.factorize(codes[~missing_row], sort=True)  # hash, sort uniques only
    out = np.full(n, -1, dtype=np.intp)
    out[~missing_row] = inverse
    parts = []
    rest = used
    for uniq in reversed(levels):
        k = max(len(uniq), 1)
        parts.append(np.asarray(uniq)[rest % k])
        rest = rest // k
    labels = pd.DataFrame(dict(zip(cols, reversed(parts), strict=True)))
    names = [
        ",".join(f"{c}={_fmt_level(v)}" for c, v in zip(cols, row, strict=True))
        for row in labels.itertuples(index=False, name=None)
    ]
    return Domains(out, labels, names)


def numeric(data: pd.DataFrame, var: str) -> np.ndarray:
    """A variable as float64 with NaN for missing; refuses text columns."""
    if var not in data.columns:
        raise ConfigError(f"variable {var!r} is not in the data; columns are {list(data.columns)}")
    s = data[var]
    if s.dtype == bool or (isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf"):
        return s.to_numpy(dtype=float)
    try:
        return (
            pd.to_numeric(s, errors="raise")
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan)
        )
    except (ValueError, TypeError) as exc:
        raise EstimationError(
            f"variable {var!r} is not numeric ({exc}); recode it to numbers (e.g. 0/1 for a "
            "proportion) before estimating"
        ) from None


def is_binary(y: np.ndarray) -> bool:
    """True when every non-missing value is 0 or 1 (a proportion)."""
    v = y[~np.isnan(y)]
    return v.size > 0 and bool(np.isin(v, (0.0, 1.0)).all())


def critical(alpha: float, df: np.ndarray | float | None) -> np.ndarray:
    """Two-sided critical value: normal when df is None/inf, else Student t."""
    a = 1 - alpha / 2
    if df is None:
        return np.asarray(stats.norm.ppf(a))
    d = np.asarray(df, dtype=float)
    return np.where(np.isfinite(d), stats.t.ppf(a, np.maximum(d, 1)), stats.norm.ppf(a))


def wald_ci(est, se, alpha: float, df=None) -> tuple[np.ndarray, np.ndarray]:
    """estimate +- crit * se (R's ``confint`` on a ``svystat``; normal by default)."""
    z = critical(alpha, df)
    return est - z * se, est + z * se


def logit_ci(p, se, alpha: float, df) -> tuple[np.ndarray, np.ndarray]:
    """R's ``svyciprop(method="logit")``: a Wald interval on the logit scale, back-transformed.

    At p = 0 or 1 the logit is undefined (NaN here; proportion_ci uses Wilson there).
    """
    p = np.asarray(p, dtype=float)
    se = np.asarray(se, dtype=float)
    z = critical(alpha, df)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        eta = np.log(p / (1 - p))
        h = z * se / (p * (1 - p))
        lo = 1 / (1 + np.exp(-(eta - h)))
        hi = 1 / (1 + np.exp(-(eta + h)))
    edge = (p <= 0) | (p >= 1)
    return np.where(edge, np.nan, lo), np.where(edge, np.nan, hi)


def wilson_ci(p, se, n, alpha: float, df) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval with the design-effective sample size n_eff = p(1-p)/se^2.

    When p is 0 or 1 or se = 0, n_eff falls back to the cell's n.
    """
    p = np.asarray(p, dtype=float)
    se = np.asarray(se, dtype=float)
    z = critical(alpha, df)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        neff = np.where((se > 0) & (p * (1 - p) > 0), p * (1 - p) / se**2, np.asarray(n, float))
        z2n = z**2 / neff
        centre = (p + z2n / 2) / (1 + z2n)
        half = z * np.sqrt(p * (1 - p) / neff + z2n / (4 * neff)) / (1 + z2n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def proportion_ci(method: str, p, se, n, alpha: float, df):
    """Interval for a proportion that stays inside [0, 1] (logit or Wilson)."""
    if method == "wilson":
        return wilson_ci(p, se, n, alpha, df)
    lo, hi = logit_ci(p, se, alpha, df)
    edge = (p <= 0) | (p >= 1)
    if np.any(edge):
        wl, wh = wilson_ci(p, se, n, alpha, df)
        lo, hi = np.where(edge, wl, lo), np.where(edge, wh, hi)
    return lo, hi


def check_ci(ci: str, alpha: float) -> None:
    check_option("ci", ci, CI_METHODS)
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha={alpha} must be between 0 and 1, e.g. 0.05 for a 95% interval")


@dataclass(frozen=True, eq=False)
class SurveyEstimate(ResultMixin):
    """Design-based estimates (one row per variable and domain) with their inference.

    ``table`` has ``variable, domain, estimate, se, ci_low, ci_high, n, deff, suppressed``
    plus the domain (``by``) columns; ``suppressed`` is True where n < ``min_cell``.
    """

    statistic: str
    table: pd.DataFrame
    by: tuple[str, ...] = ()
    alpha: float = DEFAULT_ALPHA
    ci: str = "auto"
    min_cell: int = MIN_CELL
    variance: str = "linearization"
    design: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    @property
    def estimate(self) -> pd.Series:
        return self.table["estimate"]

    @property
    def se(self) -> pd.Series:
        return self.table["se"]

    def summary(self) -> str:
        t = self.table
        head = (
            f"Survey {self.statistic} ({self.variance}; {round(100 * (1 - self.alpha))}% CI: {self.ci}); "
            f"{len(t):,} estimate(s), {int(t['suppressed'].sum()):,} below n={self.min_cell}"
        )
        cols = ["variable", "domain", "estimate", "se", "ci_low", "ci_high", "n", "deff"]
        body = t[cols].to_string(index=False, max_rows=40, float_format=lambda v: f"{v:.6g}")
        return "\n".join([head, self.design, body, *self.notes])

    def __repr__(self) -> str:
        return f"SurveyEstimate({self.statistic}, {len(self.table)} rows)"

    def _payload(self) -> dict:
        return {"statistic": self.statistic, "alpha": self.alpha, "ci": self.ci,
                "variance": self.variance, "min_cell": self.min_cell, "by": list(self.by),
                "design": self.design, "notes": list(self.notes), "estimates": self.table}  # fmt: skip

    def _draw(self, ax=None, *, variable: str | None = None):
        """Estimates with confidence intervals (Danish labels); suppressed cells left out."""
        import matplotlib.pyplot as plt

        t = self.table[~self.table["suppressed"]]
        if variable is not None:
            t = t[t["variable"] == variable]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, max(2.0, 0.25 * len(t))))
        labels = [
            f"{v}" if d is None else f"{v}: {d}"
            for v, d in zip(t["variable"], t["domain"], strict=True)
        ]
        y = np.arange(len(t))
        est = t["estimate"].to_numpy(dtype=float)
        ax.errorbar(
            est,
            y,
            xerr=np.vstack([est - t["ci_low"].to_numpy(float), t["ci_high"].to_numpy(float) - est]),
            fmt="o",
            capsize=2,
        )
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlabel(f"Estimat med {round(100 * (1 - self.alpha))} % konfidensinterval")
        return ax
