"""The weighting pipeline: design weights → calibration → trimming, with diagnostics.

``weight_responses`` is the entry point used by ``botrygt-eval weight`` and the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError, InputFileError, check_option
from botrygt_eval.options import WeightMethod, choices
from botrygt_eval.results import ResultMixin
from botrygt_eval.survey.calibrate import calibrate, rake
from botrygt_eval.survey.design import SurveyDesign
from botrygt_eval.survey.diagnostics import margin_table, weight_summary
from botrygt_eval.survey.margins import Margins, parse_margins
from botrygt_eval.survey.nonresponse import adjust_propensity, adjust_weighting_class
from botrygt_eval.survey.trim import RELATIVE_TO, RelativeTo, trim

Method = WeightMethod
Nonresponse = Literal["none", "classes", "propensity"]
NONRESPONSE: tuple[str, ...] = ("none", "classes", "propensity")
METHODS: tuple[str, ...] = choices(WeightMethod)
WEIGHT_STATS = ("n", "sum_weights", "deff_kish", "n_eff", "cv", "min", "max", "max_min_ratio")


@dataclass(frozen=True)
class WeightingResult(ResultMixin):
    """Calibrated (and possibly trimmed) weights, the design carrying them, diagnostics.

    ``diagnostics`` is one tidy frame with the columns ``section`` ("weights" or
    "margins"), ``variable``, ``level``, ``statistic``, ``target``, ``before`` (design
    weights), ``after`` (final weights).
    """

    design: Any  # SurveyDesign
    weights: pd.Series
    diagnostics: pd.DataFrame
    settings: dict = field(default_factory=dict)

    frame_columns = ("weight",)

    def to_frame(self) -> pd.DataFrame:
        """The input rows plus the ``weight`` column (microdata: :meth:`to_dict` holds only
        the aggregates)."""
        out = self.design.data.copy()
        out["weight"] = self.weights.to_numpy()
        return out

    def weight_stats(self) -> pd.DataFrame:
        """Kish deff, effective n, CV and range of the design and the final weights."""
        d = self.diagnostics
        return d.loc[d["section"] == "weights", ["statistic", "before", "after"]].reset_index(
            drop=True
        )

    def margins_table(self) -> pd.DataFrame:
        """Achieved vs target margins and standardised differences, before and after."""
        d = self.diagnostics
        m = d.loc[d["section"] == "margins"]
        wide = m.pivot_table(
            index=["variable", "level"],
            columns="statistic",
            values=["before", "after"],
            sort=False,
        )
        wide.columns = [f"{stat}_{when}" for when, stat in wide.columns]
        tgt = m.loc[m["statistic"] == "total"].set_index(["variable", "level"])["target"]
        wide.insert(0, "target", tgt)
        return wide.reset_index()

    def summary(self) -> str:
        s = self.weight_stats().set_index("statistic")
        m = self.diagnostics.loc[
            (self.diagnostics["section"] == "margins") & (self.diagnostics["statistic"] == "total")
        ]
        err = float(np.max(np.abs(m["after"] - m["target"]) / m["target"].where(m["target"] > 0)))
        st = self.settings
        lines = [
            f"Weighting ({st.get('method')}"
            + (f", bounds {st['bounds']}" if st.get("bounds") else "")
            + (
                f", trimmed at {st['trim_upper']:g}"
                + ("" if st["trim_relative_to"] == "absolute" else f" x {st['trim_relative_to']}")
                if st.get("trim_upper")
                else ""
            )
            + f"): {int(s.loc['n', 'after']):,} respondents, weights sum to "
            f"{s.loc['sum_weights', 'after']:,.0f}",
            f"  Kish deff {s.loc['deff_kish', 'before']:.3f} -> {s.loc['deff_kish', 'after']:.3f}; "
            f"effective n {s.loc['n_eff', 'after']:,.0f}; CV {s.loc['cv', 'after']:.3f}; "
            f"range {s.loc['min', 'after']:.4g} to {s.loc['max', 'after']:.4g} "
            f"(ratio {s.loc['max_min_ratio', 'after']:.3g})",
            f"  largest relative margin error after weighting: {err:.2e}",
        ]
        return "\n".join(lines)

    def _payload(self) -> dict:
        return {"settings": self.settings, "weights": self.weight_stats(),
                "margins": self.margins_table()}  # fmt: skip

    def _draw(self, ax=None):
        """Standardised differences of the margin levels before and after weighting."""
        import matplotlib.pyplot as plt

        t = self.margins_table()
        if ax is None:
            _, ax = plt.subplots(figsize=(6, max(2.0, 0.25 * len(t))))
        labels = t["variable"] + "=" + t["level"].astype(str)
        y = np.arange(len(t))
        ax.scatter(t["std_diff_before"], y, label="før vægtning", marker="o")
        ax.scatter(t["std_diff_after"], y, label="efter vægtning", marker="x")
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, labels)
        ax.set_xlabel("standardiseret forskel fra populationen")
        ax.legend()
        return ax


def diagnostics_frame(
    data: pd.DataFrame, margins: Margins, before: np.ndarray, after: np.ndarray
) -> pd.DataFrame:
    """The tidy diagnostics frame of :class:`WeightingResult`."""
    sb, sa = weight_summary(before), weight_summary(after)
    w = pd.DataFrame(
        {
            "section": "weights",
            "variable": None,
            "level": None,
            "statistic": list(WEIGHT_STATS),
            "target": np.nan,
            "before": [sb[k] for k in WEIGHT_STATS],
            "after": [sa[k] for k in WEIGHT_STATS],
        }
    )
    mt = margin_table(data, margins, after, before)
    parts = [w]
    for stat, tgt, b, a in [
        ("total", "target", "achieved_before", "achieved_after"),
        ("share", "share_target", "share_before", "share_after"),
        ("std_diff", None, "std_diff_before", "std_diff_after"),
    ]:
        parts.append(
            pd.DataFrame(
                {
                    "section": "margins",
                    "variable": mt["variable"],
                    "level": mt["level"],
                    "statistic": stat,
                    "target": mt[tgt] if tgt else 0.0,
                    "before": mt[b],
                    "after": mt[a],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _nonresponse_weights(
    responses: pd.DataFrame,
    sample: pd.DataFrame | None,
    how: str,
    variables: list[str] | None,
    *,
    design_weight: str,
    strata: str | None,
    clusters: str | None,
    fpc: str | None,
    lonely_psu: str,
    min_respondents: int,
):
    """Nonresponse-adjusted weights for the responses' rows, and the step's record."""

    if sample is None or "responded" not in sample.columns:
        raise ConfigError(
            "a nonresponse adjustment needs the whole drawn sample with its 'responded' column "
            "(the sample file)"
        )
    if not variables:
        raise ConfigError("give the nonresponse variables, e.g. ['kommune_kode', 'age_band']")
    if "resp_id" not in responses.columns or "resp_id" not in sample.columns:
        raise InputFileError("the nonresponse adjustment matches rows on resp_id")
    sd = SurveyDesign.from_frame(
        sample,
        weights=design_weight,
        strata=strata,
        clusters=clusters,
        fpc=fpc,
        lonely_psu=lonely_psu,
    )
    if how == "classes":
        adj = adjust_weighting_class(
            sd, variables, min_respondents=min_respondents, on_small="collapse"
        )
    else:
        cat = [v for v in variables if v == "kommune_kode"]
        adj = adjust_propensity(sd, variables, classes=5, categorical=cat)
    w = pd.Series(adj.weights, index=adj.data["resp_id"].to_numpy())
    got = w.reindex(responses["resp_id"].to_numpy())
    if got.isna().any():
        raise InputFileError(
            f"{int(got.isna().sum()):,} respondents are not respondents in the sample; check "
            "that the files are from the same year"
        )
    return got.to_numpy(dtype=float), adj.adjustments[-1]


def respondents_only(data: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows with ``responded == 1`` and their mask (all rows when there is no such column).

    A merged sample file (``responses merge``) holds non-respondents too; calibrating them
    as if they had answered would weight the whole drawn sample, not the respondents.
    """
    if "responded" not in data.columns:
        return data, np.ones(len(data), dtype=bool)
    r = pd.to_numeric(data["responded"], errors="coerce")
    bad = ~r.isin([0, 1])
    if bad.any():
        raise InputFileError(
            f"'responded' must be 0 or 1; {int(bad.sum()):,} rows hold something else "
            f"(first: {data.loc[bad, 'responded'].iloc[0]!r}); fix the sample file or merge the "
            "responses again with 'botrygt-eval responses merge'"
        )
    mask = (r == 1).to_numpy()
    if not mask.any():
        raise InputFileError(
            "no row has responded == 1: nobody to weight; merge the responses into the sample "
            "first ('botrygt-eval responses merge')"
        )
    return data.loc[mask], mask


def join_sample(
    responses: pd.DataFrame, sample: pd.DataFrame, *, sample_name: str = "the sample"
) -> pd.DataFrame:
    """Add the sample file's design columns to survey-platform responses (by ``resp_id``).

    Platform exports carry only ``resp_id``, ``year`` and the answers; the sample file has
    ``kommune_kode, sex, age, age_band, incl_prob, design_weight, stratum_population``.
    Only respondents (``responded == 1``) are joined; a respondent missing from the
    sample is an error, never a silent drop.
    """
    if "resp_id" not in responses.columns or "resp_id" not in sample.columns:
        raise InputFileError("joining the sample needs a resp_id column in both files")
    s = sample
    if "responded" in s.columns:
        s = s.loc[s["responded"] == 1]
    s = s.drop(columns=[c for c in s.columns if c in responses.columns and c != "resp_id"])
    if s["resp_id"].duplicated().any():
        raise InputFileError(f"{sample_name} lists a resp_id more than once; ids must be unique")
    out = responses.merge(s, on="resp_id", how="left", validate="one_to_one", indicator=True)
    missing = int((out["_merge"] != "both").sum())
    if missing:
        raise InputFileError(
            f"{missing:,} respondents are not in the sample file {sample_name} (as respondents); "
            "check that the files are from the same year"
        )
    return out.drop(columns="_merge")


def weight_responses(
    responses: pd.DataFrame,
    margins: pd.DataFrame,
    *,
    design_weight: str,
    strata: str | None = None,
    clusters: str | None = None,
    fpc: str | None = None,
    method: Method = "raking",
    bounds: tuple[float, float] | None = None,
    trim_upper: float | None = None,
    trim_relative_to: RelativeTo = "absolute",
    trim_strict: bool = True,
    variables: list[str] | None = None,
    tol: float = 1e-10,
    maxit: int | None = None,
    lonely_psu: str = "fail",
    nonresponse: Nonresponse = "none",
    sample: pd.DataFrame | None = None,
    nonresponse_vars: list[str] | None = None,
    min_respondents: int = 20,
) -> WeightingResult:
    """Calibrate the respondents' design weights to population margins, then trim.

    ``nonresponse="classes"`` or ``"propensity"`` first adjusts the design weights for
    nonresponse, using the whole drawn ``sample`` (with ``responded``) and the register
    variables ``nonresponse_vars`` (weighting classes collapse small classes, see
    ``nonresponse.py``; the propensity model dummy-codes text columns and
    ``kommune_kode``).

    ``method``: ``raking`` (iterative proportional fitting, R ``rake``), ``linear``
    (GREG) or ``logit`` (bounded, needs ``bounds`` on g = w / design weight).
    ``trim_upper``: cap on the final weights (absolute, or a multiple of the median or
    mean weight with ``trim_relative_to``); the excess is spread over the other weights,
    repeated until none is above the cap (``trim_strict``; R's one pass with False).
    Margins are national, long ``variable,level,total``; ``variables`` picks some.
    """

    check_option("method", method, METHODS)
    check_option("trim_relative_to", trim_relative_to, RELATIVE_TO)
    if method == "logit" and bounds is None:
        raise ConfigError("method='logit' needs bounds, e.g. bounds=(0.3, 3.0)")
    if method == "raking" and bounds is not None:
        raise ConfigError("bounds apply to linear and logit calibration; drop them for raking")
    if design_weight not in responses.columns:
        raise ConfigError(
            f"no design-weight column {design_weight!r} in the responses; merge the sample file "
            "(it has design_weight) on resp_id first"
        )
    check_option("nonresponse", nonresponse, NONRESPONSE)
    if (
        "responded" in responses.columns
        and (pd.to_numeric(responses["responded"], errors="coerce") != 1).any()
    ):
        raise ConfigError(
            "the rows to weight include non-respondents (responded != 1); weight only the "
            "respondents (respondents_only(frame)) and pass the whole sample as sample= for the "
            "nonresponse adjustment"
        )
    m = parse_margins(margins, variables)
    data = responses.reset_index(drop=True)
    nr_record, nr_w = None, None
    if nonresponse != "none":
        nr_w, nr_record = _nonresponse_weights(
            data,
            sample,
            nonresponse,
            nonresponse_vars,
            design_weight=design_weight,
            strata=strata,
            clusters=clusters,
            fpc=fpc,
            lonely_psu=lonely_psu,
            min_respondents=min_respondents,
        )
    design = SurveyDesign.from_frame(
        data,
        weights=design_weight,
        strata=strata,
        clusters=clusters,
        fpc=fpc,
        lonely_psu=lonely_psu,
    )
    before = np.asarray(design.weights, dtype=float).copy()
    if nr_record is not None:
        design = design.with_weights(nr_w, nr_record)
    if method == "raking":
        cal = rake(design, m, tol=tol, maxit=maxit or 1000)
    else:
        cal = calibrate(design, m, method=method, bounds=bounds, tol=tol, maxit=maxit or 100)
    final = cal
    if trim_upper is not None:
        final = trim(cal, trim_upper, relative_to=trim_relative_to, strict=trim_strict)
    after = np.asarray(final.weights, dtype=float)
    diag = diagnostics_frame(final.data, m, before, after)
    settings = {
        "method": method,
        "bounds": bounds,
        "trim_upper": trim_upper,
        "trim_relative_to": trim_relative_to,
        "trim_strict": trim_strict,
        "design_weight": design_weight,
        "strata": strata,
        "variables": list(m.variables),
        "nonresponse": nonresponse,
        "nonresponse_vars": nonresponse_vars,
    }
    return WeightingResult(
        final, pd.Series(after, index=responses.index, name="weight"), diag, settings
    )
