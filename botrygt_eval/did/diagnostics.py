"""Diagnostics for DiD under staggered adoption.

* :func:`pretrend_test` — joint Wald test of the event-study leads.
* :func:`bacon_decomposition` — Goodman-Bacon (2021) decomposition of the TWFE
  coefficient into 2x2 DiD comparisons and their weights (balanced panel).
* :func:`randomization_inference` — permutes the partnership timing (cohorts)
  across municipalities and recomputes the TWFE coefficient for every permutation
  with matrix operations (no refits).
* :func:`relative_magnitude_bounds` — a quick approximation to the sensitivity of the
  average post-period event-study effect to violations of parallel trends, with the
  relative-magnitude restriction of Rambachan & Roth (2023). The full method (both
  restrictions, ARP conditional/hybrid sets and the FLCI, any target, TWFE or
  Callaway-Sant'Anna input, matching R's HonestDiD) is
  :func:`botrygt_eval.did.honest.honest_did`; prefer it (docs/HONESTDID.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from botrygt_eval.did.twfe import EventStudyResult, prepare_panel
from botrygt_eval.errors import ConfigError, EstimationError
from botrygt_eval.options import DEFAULT_SEED
from botrygt_eval.results import ResultMixin
from botrygt_eval.text.catalogue import t as text


# --------------------------------------------------------------------------- helpers
def _balanced_matrix(
    data: pd.DataFrame, *, unit: str, time: str, cohort: str, outcome: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Outcome as an N x T matrix, cohorts per unit, unit ids and sorted periods.

    Refuses unbalanced panels: the within transformation and both the Bacon
    identity and the permutation shortcut need every unit in every period.
    """
    df, n_dropped = prepare_panel(data, unit=unit, time=time, columns=[outcome, cohort])
    units = np.sort(df[unit].unique())
    times = np.sort(df[time].unique())
    if n_dropped or len(df) != len(units) * len(times):
        raise EstimationError(
            f"the panel is unbalanced ({len(df)} complete rows for {len(units)} units x "
            f"{len(times)} periods); keep units observed in every period for this diagnostic"
        )
    if (df.groupby(unit)[cohort].nunique() > 1).any():
        raise EstimationError(f"{cohort!r} changes within a unit; it must be constant")
    y = df[outcome].to_numpy(float).reshape(len(units), len(times))
    g = df.groupby(unit)[cohort].first().reindex(units).to_numpy()
    return y, g, units, times


def within(y: np.ndarray) -> np.ndarray:
    """Two-way within transformation of a balanced N x T matrix."""
    return y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + y.mean()


def _treatment(g: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Absorbing 0/1 treatment matrix from cohorts (0 = never)."""
    return ((g[:, None] > 0) & (times[None, :] >= g[:, None])).astype(float)


# --------------------------------------------------------------------------- pre-trends
def pretrend_test(result: EventStudyResult) -> dict[str, float]:
    """Joint chi-squared test that all leads of an event study are zero.

    Returns ``stat, df, p_value``. A large p-value is weak evidence: pre-tests have
    low power against the smooth violations that matter (Roth 2022); read it with
    :func:`relative_magnitude_bounds`.
    """
    return dict(result.pretrend)


# --------------------------------------------------------------------------- Goodman-Bacon
@dataclass(frozen=True)
class BaconResult(ResultMixin):
    """Goodman-Bacon decomposition: 2x2 estimates, their weights and the TWFE total."""

    table: pd.DataFrame
    twfe_estimate: float
    weighted_sum: float

    frame_columns = ("type", "estimate", "weight")

    def _payload(self) -> dict:
        return {"table": self.table, "by_type": self.by_type(),
                "twfe_estimate": self.twfe_estimate, "weighted_sum": self.weighted_sum}  # fmt: skip

    def by_type(self) -> pd.DataFrame:
        """Weight and weighted-average estimate per comparison type."""
        t = self.table.assign(wb=self.table["estimate"] * self.table["weight"])
        out = t.groupby("type", sort=False).agg(weight=("weight", "sum"), wb=("wb", "sum"))
        out["estimate"] = out["wb"] / out["weight"]
        return out.drop(columns="wb").reset_index()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        bt = self.by_type()
        lines = [
            f"Goodman-Bacon decomposition of the TWFE estimate {self.twfe_estimate:.6g} "
            f"(sum of weighted 2x2 estimates {self.weighted_sum:.6g})",
            bt.to_string(index=False, float_format=lambda x: f"{x:.5g}"),
        ]
        bad = bt.loc[bt["type"] == "later_vs_earlier_treated", "weight"].sum()
        lines.append(
            f"  {100 * bad:.1f} % of the weight is on comparisons that use already-treated "
            "units as controls (biased when effects change over time)"
        )
        return "\n".join(lines)

    def _draw(self, ax=None):
        """Scatter of 2x2 estimates against their weights, by comparison type."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        labels = {
            "treated_vs_untreated": "Behandlet mod ubehandlet",
            "earlier_vs_later_treated": "Tidligt mod senere behandlet",
            "later_vs_earlier_treated": "Senere mod allerede behandlet",
        }
        for typ, sub in self.table.groupby("type", sort=False):
            ax.scatter(sub["weight"], sub["estimate"], label=labels.get(typ, typ), alpha=0.8)
        ax.axhline(self.twfe_estimate, color="black", lw=1, ls="--", label="TWFE")
        ax.set_xlabel("Vægt")
        ax.set_ylabel("2x2 DiD-estimat")
        ax.legend(frameon=False, fontsize=8)
        return ax


def bacon_decomposition(
    data: pd.DataFrame, *, unit: str, time: str, cohort: str, outcome: str
) -> BaconResult:
    """Decompose the TWFE coefficient into 2x2 DiDs (Goodman-Bacon 2021, Theorem 1).

    Balanced panel, absorbing treatment from ``cohort`` (first treated period on the
    scale of ``time``; 0 = never). Units treated from the first period and units never
    treated in the window both have constant treatment and play the same role in
    TWFE; they are pooled as "untreated" controls. Comparison types:
    ``treated_vs_untreated``, ``earlier_vs_later_treated`` (the later cohort, not yet
    treated, is the control) and ``later_vs_earlier_treated`` (the earlier, already
    treated cohort is the control: the "forbidden" comparison).
    The weights sum to one and the weighted sum equals the TWFE coefficient exactly.
    """
    y, g, _, times = _balanced_matrix(data, unit=unit, time=time, cohort=cohort, outcome=outcome)
    n, t_len = y.shape
    d = _treatment(g, times)
    dt = within(d)
    vd = float((dt**2).mean())
    if vd <= 0:
        raise EstimationError(
            "treatment does not vary within units and periods; nothing to decompose"
        )
    twfe_b = float((dt * y).sum() / (dt**2).sum())
    timing = (g > times[0]) & (g <= times[-1])
    untreated = ~timing
    cohorts = np.unique(g[timing])
    share = {c: np.mean(g == c) for c in cohorts}
    dbar = {c: np.mean(times >= c) for c in cohorts}
    n_u = float(untreated.mean())

    def mean(mask_units: np.ndarray, mask_t: np.ndarray) -> float:
        return float(y[np.ix_(mask_units, mask_t)].mean())

    rows = []
    if n_u > 0:
        yu = untreated
        for k in cohorts:
            uk, post = g == k, times >= k
            b = (mean(uk, post) - mean(uk, ~post)) - (mean(yu, post) - mean(yu, ~post))
            nk = share[k] / (share[k] + n_u)
            s = (share[k] + n_u) ** 2 * nk * (1 - nk) * dbar[k] * (1 - dbar[k]) / vd
            rows.append((int(k), "untreated", "treated_vs_untreated", b, s))
    for i, k in enumerate(cohorts):
        for ell in cohorts[i + 1 :]:
            uk, ul = g == k, g == ell
            nk, nl, dk, dl = share[k], share[ell], dbar[k], dbar[ell]
            nkl = nk / (nk + nl)
            pre, mid, post = times < k, (times >= k) & (times < ell), times >= ell
            b_k = (mean(uk, mid) - mean(uk, pre)) - (mean(ul, mid) - mean(ul, pre))
            s_k = (((nk + nl) * (1 - dl)) ** 2 * nkl * (1 - nkl)
                   * ((dk - dl) / (1 - dl)) * ((1 - dk) / (1 - dl)) / vd)  # fmt: skip
            b_l = (mean(ul, post) - mean(ul, mid)) - (mean(uk, post) - mean(uk, mid))
            s_l = (((nk + nl) * dk) ** 2 * nkl * (1 - nkl)
                   * (dl / dk) * ((dk - dl) / dk) / vd)  # fmt: skip
            rows.append((int(k), str(int(ell)), "earlier_vs_later_treated", b_k, s_k))
            rows.append((int(ell), str(int(k)), "later_vs_earlier_treated", b_l, s_l))
    table = pd.DataFrame(rows, columns=["treated", "control", "type", "estimate", "weight"])
    ws = float((table["estimate"] * table["weight"]).sum())
    return BaconResult(table=table, twfe_estimate=twfe_b, weighted_sum=ws)


# --------------------------------------------------------------------------- randomization inference
@dataclass(frozen=True)
class RandomizationResult(ResultMixin):
    """Randomization-inference p-values for the TWFE coefficient under permuted timing."""

    estimate: float
    p_value: float
    p_value_lower: float
    p_value_upper: float
    n_perm: int
    seed: int | None
    n_units: int
    distribution: np.ndarray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """``estimate, se, ci_low, ci_high, n`` plus p-values; ``se`` is the SD of the
        permutation distribution, no CI is formed (NaN)."""
        return pd.DataFrame(
            [{"estimate": self.estimate, "se": float(self.distribution.std(ddof=1)),
              "ci_low": np.nan, "ci_high": np.nan, "n": self.n_units, "p_value": self.p_value,
              "p_value_lower": self.p_value_lower, "p_value_upper": self.p_value_upper,
              "n_perm": self.n_perm}]
        )  # fmt: skip

    def summary(self) -> str:
        return (
            f"Randomization inference ({self.n_perm} permutations of partnership timing across "
            f"{self.n_units} units, seed {self.seed}): TWFE estimate {self.estimate:.6g}, "
            f"two-sided p = {self.p_value:.4g} (lower {self.p_value_lower:.4g}, upper "
            f"{self.p_value_upper:.4g})"
        )

    def _draw(self, ax=None):
        """Histogram of the permutation distribution with the observed estimate."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ax.hist(self.distribution, bins=50, color="0.7")
        ax.axvline(self.estimate, color="C3", lw=2, label="Observeret estimat")
        ax.set_xlabel("TWFE-estimat ved permuteret tidspunkt")
        ax.set_ylabel("Antal permutationer")
        ax.legend(frameon=False)
        return ax


def randomization_inference(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    n_perm: int = 10_000,
    seed: int = DEFAULT_SEED,
    strata: str | None = None,
    assignments: np.ndarray | None = None,
) -> RandomizationResult:
    """Permutation test of the TWFE coefficient: reassign cohorts across units at random.

    Sharp null: partnerships had no effect on any municipality in any period, and
    the timing (cohort, including never) is exchangeable across units (within
    ``strata`` if given, e.g. police districts). Under it the p-value is exact for
    any sample size.

    Fast path (balanced panel): with ``ỹ`` the two-way within transform of y,
    ``beta(D) = sum_it D_it ỹ_it / sum_it D̃_it^2``. The denominator depends only on
    the multiset of cohorts and is the same for every permutation; the numerator
    is ``sum_i C[i, g_pi(i)]`` with ``C[i, c] = sum_{t >= c} ỹ_it``. So one N x K
    matrix C (reverse cumulative sums, K cohorts) is built once and every
    permutation costs a gather-and-sum of N numbers.
    P-values count ties as extreme and include the observed assignment:
    ``(1 + #{|b*| >= |b|}) / (1 + n_perm)``.

    ``assignments`` (n_perm x N cohorts, units in ascending order) replaces the
    random permutations, e.g. for a complete enumeration in a small panel; each
    row must be a permutation of the observed cohorts.
    """
    if assignments is not None:
        assignments = np.asarray(assignments)
        n_perm = assignments.shape[0]
    if n_perm < 1:
        raise ConfigError("n_perm must be at least 1 (e.g. 10000)")
    y, g, units, times = _balanced_matrix(
        data, unit=unit, time=time, cohort=cohort, outcome=outcome
    )
    yt = within(y)
    d = _treatment(g, times)
    den = float((within(d) ** 2).sum())
    if den <= 0:
        raise EstimationError("treatment does not vary within units and periods")
    levels, gi = np.unique(g, return_inverse=True)
    # C[i, k] = sum of ỹ_it over t >= cohort k (0 for never treated / beyond the window).
    rcum = np.cumsum(yt[:, ::-1], axis=1)[:, ::-1]  # rcum[:, j] = sum_{t >= times[j]}
    rcum = np.concatenate([rcum, np.zeros((len(units), 1))], axis=1)
    pos = np.searchsorted(times, levels)  # first period index with t >= level
    pos = np.where(levels > 0, pos, len(times))
    c = rcum[:, pos]
    obs = float(c[np.arange(len(units)), gi].sum() / den)
    rng = np.random.default_rng(seed)
    tiled = np.tile(gi, (n_perm, 1))
    if assignments is not None:
        if assignments.shape[1] != len(units) or not np.array_equal(
            np.sort(assignments, axis=1), np.tile(np.sort(g), (n_perm, 1))
        ):
            raise ConfigError(
                f"assignments must have one row per permutation and {len(units)} columns, each "
                "row a permutation of the observed cohorts (units in ascending order)"
            )
        perm = np.searchsorted(levels, assignments)
    elif strata is None:
        perm = rng.permuted(tiled, axis=1)
    else:
        s = data.groupby(unit)[strata].first().reindex(units).to_numpy()
        perm = tiled.copy()
        for lev in pd.unique(s):  # loop over strata (few), not permutations
            cols = np.flatnonzero(s == lev)
            perm[:, cols] = rng.permuted(tiled[:, cols], axis=1)
    dist = np.take_along_axis(c, perm.T, axis=1).sum(axis=0) / den
    tol = 1e-12 * max(1.0, abs(obs))
    p2 = (1 + np.sum(np.abs(dist) >= abs(obs) - tol)) / (n_perm + 1)
    pl = (1 + np.sum(dist <= obs + tol)) / (n_perm + 1)
    pu = (1 + np.sum(dist >= obs - tol)) / (n_perm + 1)
    return RandomizationResult(
        estimate=obs, p_value=float(p2), p_value_lower=float(pl), p_value_upper=float(pu),
        n_perm=n_perm, seed=seed, n_units=len(units), distribution=dist,
    )  # fmt: skip


# --------------------------------------------------------------------------- Rambachan-Roth
@dataclass(frozen=True)
class SensitivityResult(ResultMixin):
    """Relative-magnitude sensitivity of the average post-period effect."""

    table: pd.DataFrame
    estimate: float
    max_pre_violation: float
    breakdown_identified: float
    breakdown_ci: float
    post_event_times: tuple[int, ...]
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """``mbar, id_low, id_high, ci_low, ci_high, estimate, se, n``; ``n`` = post periods."""
        return self.table.copy()

    def summary(self) -> str:
        lines = [
            "Sensitivity to violations of parallel trends (relative magnitudes, Rambachan & Roth "
            "2023; delta-method CI, see docstring)",
            f"  average post effect {self.estimate:.5g} over e = {list(self.post_event_times)}; "
            f"largest pre-period violation {self.max_pre_violation:.5g}",
            self.table.to_string(index=False, float_format=lambda x: f"{x:.5g}"),
            f"  breakdown Mbar: identified set {self.breakdown_identified:.4g}, "
            f"robust CI {self.breakdown_ci:.4g}",
        ]
        return "\n".join(lines)

    def _draw(self, ax=None, lang: str = "da"):
        """Robust CI (and identified set) against Mbar; labels in ``lang`` (da/en)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        t = self.table
        ax.fill_between(t["mbar"], t["ci_low"], t["ci_high"], color="C0", alpha=0.25,
                        label=text("fig.sens_ci", lang))  # fmt: skip
        ax.fill_between(t["mbar"], t["id_low"], t["id_high"], color="C0", alpha=0.6,
                        label=text("fig.sens_id", lang))  # fmt: skip
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel(text("fig.sens_x", lang))
        ax.set_ylabel(text("fig.sens_y", lang))
        ax.legend(frameon=False, fontsize=8)
        return ax


def relative_magnitude_bounds(
    result: EventStudyResult,
    mbar: tuple[float, ...] | list[float] | np.ndarray = (0, 0.25, 0.5, 0.75, 1, 1.5, 2),
    alpha: float = 0.05,
) -> SensitivityResult:
    """Identified set and robust CI for the average post effect under Delta^RM(Mbar).

    Restriction (Rambachan & Roth 2023, "relative magnitudes"): with the bias
    ``delta_e`` normalised to 0 at the reference period e = -1, every post-period
    change ``|delta_{e} - delta_{e-1}|`` (e >= 0) is at most ``Mbar`` times the largest
    pre-period change ``M = max_{s<-1} |beta_{s+1} - beta_s|`` (pre-period deltas
    equal the lead coefficients). Then ``|delta_e| <= (e + 1) Mbar M`` and the bound is
    attained by a linear drift, so the identified set of ``theta = mean_e(beta_e -
    delta_e)`` over the post periods 0..L is exactly
    ``theta_hat -/+ Mbar M (L + 2) / 2``.

    For the exact HonestDiD confidence sets use :func:`botrygt_eval.did.honest.honest_did`
    (``restriction="relative_magnitudes"``, ``l_vec`` = the mean over post periods).

    Approximation (honest): the robust CI is ``[lb - z se(lb), ub + z se(ub)]``,
    z = Phi^-1(1 - alpha/2), with delta-method SEs of the two bounds that treat the
    pre-period difference attaining ``M`` (and its sign) as known. It is not the
    conditional/hybrid (ARP) test of HonestDiD: it ignores the uncertainty in which
    pre-period difference is largest, so it can undercover when several are close,
    and it is conservative for the union of two one-sided bounds. Binned endpoint
    coefficients are excluded (they are not single-period effects). Requires
    reference period -1 and leads -2, -3, ... contiguous.
    """
    if result.reference != -1:
        raise ConfigError("relative_magnitude_bounds needs an event study with reference=-1")
    t = result.table
    single = t.loc[~t["binned"] & (t["event_time"] != result.reference), "event_time"].tolist()
    pre = sorted((e for e in single if e < -1), reverse=True)  # -2, -3, ...
    post = sorted(e for e in single if e >= 0)
    if not pre or not post:
        raise EstimationError("need at least one lead (e <= -2) and one post period (e >= 0)")
    if pre != list(range(-2, -2 - len(pre), -1)) or post != list(range(len(post))):
        raise EstimationError(
            f"event times must be contiguous around -1; have leads {pre} and lags {post}"
        )
    names = [*pre, *post]
    b, v = result.coef(names)
    k_pre = len(pre)
    # pre-period first differences: delta_{s+1} - delta_s for s = -2, -3, ...; delta_{-1} = 0.
    diffs = np.zeros((k_pre, len(names)))
    for j in range(k_pre):  # j=0: 0 - b_{-2}; j>0: b_{-1-j} - b_{-2-j}
        diffs[j, j] = -1.0
        if j > 0:
            diffs[j, j - 1] = 1.0
    dvals = diffs @ b
    jstar = int(np.argmax(np.abs(dvals)))
    m_hat = float(abs(dvals[jstar]))
    sign = np.sign(dvals[jstar]) if m_hat > 0 else 1.0
    a = np.zeros(len(names))
    a[k_pre:] = 1.0 / len(post)
    theta = float(a @ b)
    c = (len(post) + 1) / 2.0  # mean of (e + 1) over e = 0..L
    z = stats.norm.ppf(1 - alpha / 2)

    def bounds(mb: float) -> tuple[float, float, float, float, float]:
        grad_m = sign * diffs[jstar]  # gradient of M = |d_j*|
        g_lo = a - mb * c * grad_m
        g_hi = a + mb * c * grad_m
        lo, hi = theta - mb * c * m_hat, theta + mb * c * m_hat
        se_lo, se_hi = np.sqrt(g_lo @ v @ g_lo), np.sqrt(g_hi @ v @ g_hi)
        return lo, hi, lo - z * se_lo, hi + z * se_hi, float(np.sqrt(a @ v @ a))

    grid = np.asarray(sorted(set(map(float, mbar))))
    if (grid < 0).any():
        raise ConfigError("Mbar values must be >= 0")
    rows = []
    for mb in grid:
        lo, hi, cl, ch, se = bounds(mb)
        rows.append({"mbar": mb, "id_low": lo, "id_high": hi, "ci_low": cl, "ci_high": ch,
                     "estimate": theta, "se": se, "n": len(post)})  # fmt: skip
    table = pd.DataFrame(rows)
    bd_id = abs(theta) / (c * m_hat) if m_hat > 0 else np.inf

    def covers_zero(mb: float) -> float:  # > 0 when the CI excludes zero
        _, _, cl, ch, _ = bounds(mb)
        return cl if theta > 0 else -ch

    if covers_zero(0.0) <= 0:
        bd_ci = 0.0
    elif m_hat == 0 or covers_zero(1e6) > 0:
        bd_ci = np.inf
    else:
        hi_m = 1.0
        while covers_zero(hi_m) > 0:
            hi_m *= 2
        bd_ci = float(optimize.brentq(covers_zero, 0.0, hi_m, xtol=1e-10))
    return SensitivityResult(
        table=table, estimate=theta, max_pre_violation=m_hat, breakdown_identified=float(bd_id),
        breakdown_ci=bd_ci, post_event_times=tuple(post), alpha=alpha,
    )  # fmt: skip
