"""Nonresponse adjustment of design weights: weighting classes and response propensity.

Both start from a design over the whole drawn sample (respondents and non-respondents,
with the register variables of the sample file) and return a design over the
respondents only, whose weights are the design weights divided by the estimated
response probability, with a ``nonresponse`` Adjustment record (X is None: the
adjustment's own variance contribution is not modelled; calibration that follows is).

Collapsing rule for small weighting classes (``on_small="collapse"``): classes are the
cross of the class variables *in the order given*. If any class has fewer than
``min_respondents`` respondents, every class that shares its values of all but the
last variable is merged into one class (the last variable is dropped there); this is
repeated with the next-to-last variable, and so on. If the whole sample still has too
few respondents, ``NonresponseError`` is raised. ``on_small="raise"`` (default) raises
at the first small class, naming it.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError, NonresponseError, check_option
from botrygt_eval.survey.design import Adjustment

OnSmall = Literal["raise", "collapse"]
ON_SMALL: tuple[str, ...] = ("raise", "collapse")


def _responded(design, responded: str) -> np.ndarray:
    if responded not in design.data.columns:
        raise ConfigError(f"no column {responded!r} (the 0/1 response indicator) in the sample")
    r = pd.to_numeric(design.data[responded], errors="coerce")
    if r.isna().any() or not r.isin([0, 1]).all():
        raise NonresponseError(
            f"{responded!r} must be 0 or 1 in every row; {int((~r.isin([0, 1])).sum()):,} rows "
            "are not"
        )
    mask = r.to_numpy() == 1
    if not mask.any():
        raise NonresponseError("nobody responded; there is nothing to weight")
    return mask


def _class_ids(data: pd.DataFrame, cols: list[str]) -> np.ndarray:
    if not cols:
        return np.zeros(len(data), dtype=np.int64)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ConfigError(f"weighting-class variable(s) {missing} are not in the sample")
    if data[cols].isna().any().any():
        raise NonresponseError(
            f"{int(data[cols].isna().any(axis=1).sum()):,} sampled rows have no value of the "
            f"class variables {cols}; impute or use another variable"
        )
    return data.groupby(cols, sort=True, observed=True).ngroup().to_numpy()


def weighting_classes(
    data: pd.DataFrame,
    responded: np.ndarray,
    classes: list[str],
    *,
    min_respondents: int = 20,
    on_small: OnSmall = "raise",
) -> np.ndarray:
    """Final class id per sampled row after the collapsing rule (see the module doc)."""
    check_option("on_small", on_small, ON_SMALL)
    final = np.zeros(len(data), dtype=np.int64)
    done = np.zeros(len(data), dtype=bool)
    offset = 0
    for k in range(len(classes), -1, -1):
        ids = _class_ids(data, classes[:k])
        active = ~done
        n_groups = int(ids.max()) + 1 if len(ids) else 0
        resp = np.bincount(ids[active & responded], minlength=n_groups)
        present = np.bincount(ids[active], minlength=n_groups) > 0
        small = present & (resp < min_respondents)
        if small.any():
            if on_small == "raise" or k == 0:
                g = int(np.flatnonzero(small)[0])
                row = data.loc[active & (ids == g), classes[:k]].iloc[0].to_dict() if k else {}
                where = ", ".join(f"{c}={v}" for c, v in row.items()) or "the whole sample"
                raise NonresponseError(
                    f"weighting class {where} has {int(resp[g])} respondents, fewer than "
                    f"min_respondents={min_respondents}; use on_small='collapse', fewer class "
                    "variables, or a lower min_respondents"
                )
            parent = _class_ids(data, classes[: k - 1])
            bad_parent = np.unique(parent[active & small[ids]])
            keep = active & ~np.isin(parent, bad_parent)
        else:
            keep = active
        final[keep] = ids[keep] + offset
        done |= keep
        offset += n_groups
        if done.all():
            break
    return pd.factorize(final, sort=True)[0]


def _respondent_design(design, mask: np.ndarray, new_w: np.ndarray, details: dict):
    """The design restricted to respondents, with new weights and a nonresponse record."""

    if design.adjustments:
        raise NonresponseError(
            "nonresponse adjustment comes first, before calibration or trimming; start from "
            "the design weights"
        )

    def sub(a):
        return None if a is None else np.asarray(a)[mask]

    base = dataclasses.replace(
        design,
        data=design.data.loc[mask].reset_index(drop=True),
        weights=np.asarray(design.weights, dtype=float)[mask],
        strata=sub(design.strata),
        clusters=sub(design.clusters),
        fpc=sub(design.fpc),
    )
    base._validate(fpc_name="fpc")  # e.g. a stratum left with one respondent (lonely PSU)
    return base.with_weights(new_w, Adjustment(kind="nonresponse", X=None, details=details))


def adjust_weighting_class(
    design,
    classes: list[str],
    *,
    responded: str = "responded",
    min_respondents: int = 20,
    on_small: OnSmall = "raise",
    weighted: bool = True,
):
    """Weighting-class adjustment: respondents' weights divided by their class response rate.

    The response rate is design-weighted (sum of respondents' weights over the sum of all
    sampled weights in the class) unless ``weighted=False``. Returns the respondents' design.
    """
    mask = _responded(design, responded)
    d = np.asarray(design.weights, dtype=float)
    cls = weighting_classes(
        design.data, mask, list(classes), min_respondents=min_respondents, on_small=on_small
    )
    base = d if weighted else np.ones_like(d)
    all_sum = np.bincount(cls, weights=base)
    resp_sum = np.bincount(cls, weights=base * mask)
    rate = resp_sum / all_sum
    new_w = d[mask] / rate[cls[mask]]
    details = {
        "method": "weighting_class",
        "classes": list(classes),
        "n_classes": int(len(rate)),
        "response_rate_range": (float(rate.min()), float(rate.max())),
        "min_respondents": min_respondents,
        "on_small": on_small,
        "weighted": weighted,
        "n_sampled": int(len(d)),
        "n_respondents": int(mask.sum()),
    }
    return _respondent_design(design, mask, new_w, details)


def _model_matrix(data: pd.DataFrame, covariates: list[str]) -> tuple[np.ndarray, list[str]]:
    missing = [c for c in covariates if c not in data.columns]
    if missing:
        raise ConfigError(f"propensity covariate(s) {missing} are not in the sample")
    x = data[covariates]
    if x.isna().any().any():
        raise NonresponseError(
            f"{int(x.isna().any(axis=1).sum()):,} sampled rows have missing covariates; impute "
            "them or leave the variable out of the propensity model"
        )
    cat = [c for c in covariates if not pd.api.types.is_numeric_dtype(x[c])]
    X = pd.get_dummies(x, columns=cat, drop_first=True, dtype=float)
    X.insert(0, "const", 1.0)
    return X.to_numpy(dtype=float), list(X.columns)


def adjust_propensity(
    design,
    covariates: list[str],
    *,
    responded: str = "responded",
    classes: int | None = None,
    weighted: bool = True,
    categorical: list[str] | None = None,
):
    """Response-propensity adjustment from a logistic regression (statsmodels GLM).

    Fits P(respond | covariates) on the whole sample (design-weighted unless
    ``weighted=False``). Without ``classes`` each respondent's weight is divided by its
    own propensity; with ``classes=q`` the sample is cut into q propensity classes
    (quantiles) and the weighting-class adjustment is applied within them, which is
    less sensitive to small fitted propensities. ``categorical`` forces numeric-coded
    columns (such as ``kommune_kode``) to be dummy-coded.
    """
    import statsmodels.api as sm

    mask = _responded(design, responded)
    data = design.data.copy()
    for c in categorical or []:
        data[c] = data[c].astype(str)
    X, names = _model_matrix(data, list(covariates))
    d = np.asarray(design.weights, dtype=float)
    fw = d * (len(d) / d.sum()) if weighted else None
    model = sm.GLM(mask.astype(float), X, family=sm.families.Binomial(), var_weights=fw)
    try:
        fit = model.fit()
    except Exception as exc:  # perfect separation, singular design
        raise NonresponseError(
            f"the response propensity model could not be fitted ({exc}); drop covariates with "
            "levels in which everybody or nobody responded"
        ) from exc
    p = np.asarray(fit.fittedvalues, dtype=float)
    details = {
        "method": "propensity",
        "covariates": list(covariates),
        "coefficients": dict(zip(names, np.asarray(fit.params).tolist(), strict=True)),
        "weighted": weighted,
        "propensity_range": (float(p.min()), float(p.max())),
        "n_sampled": int(len(d)),
        "n_respondents": int(mask.sum()),
    }
    if classes is None:
        if p[mask].min() <= 0:
            raise NonresponseError("a respondent has fitted propensity 0; use classes=5")
        new_w = d[mask] / p[mask]
    else:
        if classes < 1:
            raise ConfigError(f"classes={classes} must be a positive number of classes")
        cls = pd.qcut(p, classes, labels=False, duplicates="drop")
        all_sum = np.bincount(cls, weights=d)
        resp_sum = np.bincount(cls, weights=d * mask)
        if (resp_sum == 0).any():
            raise NonresponseError("a propensity class has no respondents; use fewer classes")
        new_w = d[mask] / (resp_sum / all_sum)[cls[mask]]
        details["classes"] = int(cls.max()) + 1
    return _respondent_design(design, mask, new_w, details)
