"""Effects of every activity type, estimated jointly in one two-way fixed-effects model.

Burglary (quarterly): ``log_rate_kt = a_k + l_t + sum_e g_e P_kt(e) + sum_j (b_j X_kt(j) + c_j L_kt(j)) + u_kt``
with kommune and quarter effects, partnership event-time dummies ``P(e)`` (quarters
0..7 since the first treated quarter, 8+ binned; before signing is the reference), and
the exposure ``X(j)`` to each activity type (activities of type j started in the quarter
or the ``window - 1`` before, see :mod:`.data`). ``b_j`` is the log rate ratio per
activity while it works. Why this design:

- activities of different types start together (a new partnership starts several), so a
  type's effect is only separable from the others' if all types enter one model; a
  separate event study per type would credit a null type with its neighbours' effect;
- the partnership itself lowers burglary (building up after signing) and activities
  cluster after signing, so the partnership's own dynamic effect is controlled by the
  event-time dummies; activities in non-partnership kommuner and the timing of repeated
  activities inside partnerships identify ``b_j``;
- activities are often started *because* burglary rose (a reaktionsplan after a wave), so
  the quarter before a start is not a fair reference: with ``leads=1`` each type also gets
  a lead ``L(j)`` (activities of type j starting in the next quarter), which takes the
  pre-start quarter out of the comparison (Ashenfelter's dip) and is reported as a
  pre-trend check;
- the comparison at any quarter is every kommune not exposed to that type then (not yet
  or no longer), with kommune and quarter effects. With a constant per-activity effect
  this TWFE is unbiased; effects varying with calendar time or kommune would be averaged
  with TWFE weights (Goodman-Bacon), which the documentation states.

Nabohjælp (annual, register): the member share of households in percentage points on
kommune and year effects, a partnership indicator and the capped cumulative number of
activities of each type (an intermediate outcome: sign-ups).

Inference: CR2 (Bell-McCaffrey) standard errors clustered by kommune, with kommune and
period effects in the leverage, and per coefficient the Bell-McCaffrey / Imbens-Kolesar
Satterthwaite degrees of freedom (:mod:`botrygt_eval.did.small_sample`). CR1 was up to
13 % too small for types active in about 20 kommuner (docs/ACTIVITIES.md); the df shrink
with the number of kommuner a type's exposure lives in, so a type in two kommuner gets
df of about 1 and a very wide t interval (one kommune cannot be judged at all: see
:mod:`.rule`). The CR1 SE is kept in ``se_cr1`` as a cross-check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from botrygt_eval.activities.data import quarter_exposure, year_exposure
from botrygt_eval.did.small_sample import cr2_fit
from botrygt_eval.did.twfe import fit_panel_ols
from botrygt_eval.errors import EstimationError

EVENT_MAX = 8


def _col(t: str) -> str:
    return f"x_{t}"


def _lead(t: str) -> str:
    return f"lead_{t}"


def burglary_design(
    panel: pd.DataFrame,
    activities: pd.DataFrame,
    types: list[str],
    window: int,
    start_year: int,
    leads: int = 1,
) -> pd.DataFrame:
    """The quarterly estimation frame: observed kommune-quarters from ``start_year`` on."""
    df = panel.loc[(panel["year"] >= start_year) & panel["burglaries"].notna()].copy()
    absq = (4 * df["year"] + df["quarter"] - 1).to_numpy("int64")
    x = quarter_exposure(activities, df["kommune_kode"].to_numpy("int64"), absq, types, window)
    for j, t in enumerate(types):
        df[_col(t)] = x[:, j]
    if leads:
        codes = df["kommune_kode"].to_numpy("int64")
        lead = quarter_exposure(activities, codes, absq + leads, types, leads)
        for j, t in enumerate(types):
            df[_lead(t)] = lead[:, j]
    e = df["event_time"].to_numpy()
    for k in range(EVENT_MAX + 1):
        hit = (e >= k) if k == EVENT_MAX else (e == k)
        df[f"p_{k}"] = np.where(np.isnan(e), 0.0, hit.astype(float))
    return df


def cr2_inference(
    df: pd.DataFrame, regressors: list[str], res, weights: str | None = None, tested=None
) -> tuple[pd.Series, pd.Series]:
    """CR2 standard errors of every coefficient of a fit of :func:`fit_panel_ols`
    (``res``) on ``df`` (kommune and ``time_id`` effects, clusters = kommuner) and the
    Bell-McCaffrey df of the ``tested`` ones (default all; the df cost grows with their
    number, so the controls are left out)."""
    idx = pd.MultiIndex.from_arrays([df["kommune_kode"], df["time_id"]])
    resid = res.resids.reindex(idx).to_numpy(float)
    fe = [pd.factorize(df["kommune_kode"])[0], pd.factorize(df["time_id"])[0]]
    w = None if weights is None else df[weights].to_numpy(float)
    fit = cr2_fit(df[regressors].to_numpy(float), resid, df["kommune_kode"].to_numpy(),
                  weights=w, fixed_effects=fe)  # fmt: skip
    se = pd.Series(np.sqrt(np.diag(fit.vcov)), index=regressors)
    tested = regressors if tested is None else [c for c in regressors if c in tested]
    dof = pd.Series(np.nan, index=regressors)
    if tested:
        dof[tested] = fit.df(np.eye(len(regressors))[[regressors.index(c) for c in tested]])
    return se, dof


def _fit(df, outcome, regressors, types, label, weights=None):
    x_cols = [_col(t) for t in types]
    lead_cols = [_lead(t) for t in types if _lead(t) in df.columns]
    regressors = regressors + [c for c in lead_cols if df[c].std() > 0]
    used = [c for c in x_cols if df[c].std() > 0]
    others = [c for c in regressors if df[c].std() > 0]
    try:
        params, cov, res = fit_panel_ols(
            df, unit="kommune_kode", time="time_id", outcome=outcome,
            regressors=others + used, clusters=df["kommune_kode"].to_numpy(), weights=weights,
        )  # fmt: skip
        se, dof = cr2_inference(df, others + used, res, weights, tested=x_cols + lead_cols)
    except EstimationError as exc:
        raise EstimationError(f"the {label} model of the activity types: {exc}") from exc

    def pick(c):
        if c in params.index:
            return float(params[c]), float(se[c]), float(dof[c])
        return np.nan, np.nan, np.nan

    def cr1(c):
        return float(np.sqrt(cov.loc[c, c])) if c in params.index else np.nan

    rows = [(t, *pick(_col(t)), cr1(_col(t)), *pick(_lead(t))) for t in types]
    cols = ["activity_type", "estimate", "se", "df", "se_cr1", "lead_estimate", "lead_se",
            "lead_df"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def fit_burglary(design: pd.DataFrame, types: list[str]) -> pd.DataFrame:
    """Log rate ratio per activity of each type (``estimate, se``), NaN if never varying."""
    df = design.assign(time_id=design["period"])
    p_cols = [f"p_{k}" for k in range(EVENT_MAX + 1)]
    out = _fit(df, "log_rate", p_cols, types, "burglary")
    return out.assign(outcome="burglary_log_rate", n=len(df))


def nabohjaelp_design(
    nabohjaelp: pd.DataFrame,
    households: pd.DataFrame,
    panel: pd.DataFrame,
    activities: pd.DataFrame,
    types: list[str],
    cap: int,
) -> pd.DataFrame:
    """Annual frame: member share (percentage points), partnership indicator, exposures."""
    df = nabohjaelp.merge(households, on=["kommune_kode", "year"], how="inner")
    df = df.loc[df["members"].notna() & (df["households"] > 0)].copy()
    df["share_pp"] = 100 * df["members"].astype(float) / df["households"].astype(float)
    q4 = panel.loc[panel["quarter"] == 4, ["kommune_kode", "year", "treated"]]
    df = df.merge(q4, on=["kommune_kode", "year"], how="left")
    df["treated"] = df["treated"].fillna(0).astype(float)
    x = year_exposure(
        activities, df["kommune_kode"].to_numpy("int64"), df["year"].to_numpy("int64"), types, cap
    )
    for j, t in enumerate(types):
        df[_col(t)] = x[:, j]
    return df


def fit_nabohjaelp(design: pd.DataFrame, types: list[str]) -> pd.DataFrame:
    """Change in the Nabohjælp member share (points) per activity of each type."""
    if design["year"].nunique() < 2:
        return pd.DataFrame(
            {"activity_type": types, "estimate": np.nan, "se": np.nan, "df": np.nan}
        ).assign(outcome="nabohjaelp_share_pp", n=len(design))
    df = design.assign(time_id=design["year"])
    out = _fit(df, "share_pp", ["treated"], types, "Nabohjælp")
    return out.assign(outcome="nabohjaelp_share_pp", n=len(df))


def survey_design(
    estimates: pd.DataFrame,
    variable: str,
    panel: pd.DataFrame,
    activities: pd.DataFrame,
    types: list[str],
) -> pd.DataFrame:
    """Annual frame from kommune-year survey estimates (``survey_estimates``) of one
    variable, in percentage points, with inverse-variance weights; exposure = activities
    started in the survey year (fielded in Q4) or the year before."""
    e = estimates.loc[
        (estimates["variable"] == variable)
        & estimates["kommune_kode"].notna()
        & estimates["estimate"].notna()
        & (estimates["se"] > 0)
        & ~estimates.get("suppressed", pd.Series(False, index=estimates.index)).astype(bool)
    ]
    df = e[["kommune_kode", "year", "estimate", "se"]].copy()
    df["kommune_kode"] = df["kommune_kode"].astype("int64")
    df["y_pp"] = 100 * df["estimate"].astype(float)
    se = 100 * df["se"].astype(float)
    df["w"] = 1 / se.clip(lower=se.median() / 10) ** 2
    q4 = panel.loc[panel["quarter"] == 4, ["kommune_kode", "year", "treated"]]
    df = df.merge(q4, on=["kommune_kode", "year"], how="left")
    df["treated"] = df["treated"].fillna(0).astype(float)
    codes = df["kommune_kode"].to_numpy("int64")
    absq = (4 * df["year"] + 3).to_numpy("int64")  # Q4 of the survey year
    x = quarter_exposure(activities, codes, absq, types, 8)
    for j, t in enumerate(types):
        df[_col(t)] = x[:, j]
    return df


def fit_survey(design: pd.DataFrame, types: list[str], variable: str) -> pd.DataFrame:
    """Change in the survey outcome (points) per activity of each type (WLS, CR2)."""
    outcome = f"{variable}_pp"
    if design["year"].nunique() < 2 or design["kommune_kode"].nunique() < 3:
        return pd.DataFrame(
            {"activity_type": types, "estimate": np.nan, "se": np.nan, "df": np.nan}
        ).assign(outcome=outcome, n=len(design))
    df = design.assign(time_id=design["year"])
    out = _fit(df, "y_pp", ["treated"], types, f"survey ({variable})", weights="w")
    out = out.drop(columns=["lead_estimate", "lead_se", "lead_df"])
    return out.assign(outcome=outcome, n=len(df))
