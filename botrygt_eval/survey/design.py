"""The survey design: weights, strata, clusters, fpc and a record of weighting steps.

Built and validated once (:meth:`SurveyDesign.from_frame`); every estimator takes it.
Weighting steps return a new frozen design with an :class:`Adjustment` appended, so
the variance code (``variance.py``) can account for calibration as R's ``svyrecvar``
does with ``postStrata``. Domains keep the design: :meth:`SurveyDesign.subset_domain`
zeroes weights outside the domain and keeps every row (R's ``[.survey.design2``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError, DesignError, check_option

AdjustmentKind = Literal["nonresponse", "poststratify", "rake", "linear", "logit", "trim"]
ADJUSTMENT_KINDS: tuple[str, ...] = (
    "nonresponse",
    "poststratify",
    "rake",
    "linear",
    "logit",
    "trim",
)
LonelyPSU = Literal["fail", "adjust", "certainty", "remove"]
LONELY_PSU: tuple[str, ...] = ("fail", "adjust", "certainty", "remove")


@dataclass(frozen=True, eq=False)
class Adjustment:
    """One weighting step applied to a design, recorded so variance can account for it.

    ``X`` (n x p array or scipy sparse matrix, rows aligned with the design) is the
    auxiliary model matrix of a
    calibration; ``None`` when the step does not enter the variance (trim, nonresponse).
    ``details`` may hold ``weights_after`` (the weights the step produced) and
    ``regression_weights`` (the weights of the residualising regression: 1 for R's
    ``rake``/``postStratify``, the input weights for ``calibrate``).
    """

    kind: AdjustmentKind
    X: np.ndarray | None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_option("kind", self.kind, ADJUSTMENT_KINDS)


def _labels(data: pd.DataFrame, col: str, what: str) -> np.ndarray:
    if col not in data.columns:
        raise ConfigError(f"no {what} column {col!r} in the data; columns are {list(data.columns)}")
    s = data[col]
    bad = int(s.isna().sum())
    if bad:
        raise DesignError(
            f"{bad:,} row(s) have no {what} ({col!r} is missing); every respondent needs one — "
            "fill them in or drop those rows before building the design"
        )
    return s.to_numpy()


def _codes(labels: np.ndarray | None, n: int) -> tuple[np.ndarray, int]:
    if labels is None:
        return np.zeros(n, dtype=np.intp), 1
    codes, uniques = pd.factorize(pd.Series(labels), sort=True)
    return codes.astype(np.intp), len(uniques)


@dataclass(frozen=True, eq=False, repr=False)
class SurveyDesign:
    """A survey design in the R ``survey`` style (weights, strata, PSUs, fpc, adjustments)."""

    data: pd.DataFrame
    weights: np.ndarray
    strata: np.ndarray | None = None
    clusters: np.ndarray | None = None
    fpc: np.ndarray | None = None
    adjustments: tuple[Adjustment, ...] = ()
    lonely_psu: LonelyPSU = "fail"

    # ------------------------------------------------------------------ building
    @classmethod
    def from_frame(
        cls,
        data: pd.DataFrame,
        *,
        weights: str,
        strata: str | None = None,
        clusters: str | None = None,
        fpc: str | None = None,
        lonely_psu: LonelyPSU = "fail",
        nest: bool = False,
    ) -> SurveyDesign:
        """Build and validate a design from columns of ``data``.

        ``fpc`` holds the stratum population size N_h (number of PSUs in the population
        stratum), or the sampling fraction when every value is <= 1 (as R). ``nest=True``
        relabels PSUs within strata (R's ``nest=TRUE``). ``lonely_psu`` says what to do
        with a stratum of one PSU: ``fail`` (default), or R's ``adjust``, ``certainty``,
        ``remove``.
        """
        check_option("lonely_psu", lonely_psu, LONELY_PSU)
        data = data.reset_index(drop=True)
        if weights not in data.columns:
            raise ConfigError(
                f"no weight column {weights!r} in the data; columns are {list(data.columns)}"
            )
        w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            raise DesignError(
                f"{int(bad.sum()):,} of {len(w):,} rows have a zero, negative or missing weight "
                f"in {weights!r}; every respondent needs a positive weight (drop or fix those "
                "rows, or use subset_domain for domains)"
            )
        s = None if strata is None else _labels(data, strata, "stratum")
        c = None if clusters is None else _labels(data, clusters, "cluster (PSU)")
        if c is not None and nest and s is not None:
            c = np.array(
                [f"{a}\x1f{b}" for a, b in zip(s.astype(str), c.astype(str), strict=True)],
                dtype=object,
            )
        f = None
        if fpc is not None:
            fv = pd.to_numeric(pd.Series(_labels(data, fpc, "fpc")), errors="coerce")
            f = fv.to_numpy(dtype=float)
        design = cls(data, w, s, c, f, (), lonely_psu)
        design._validate(fpc_name=fpc)
        if f is not None and (f <= 1).all():
            # sampling fractions -> population PSU counts N_h = n_h / f_h
            design = dataclasses.replace(design, fpc=design.n_psu_row / f)
        return design

    def _validate(self, *, fpc_name: str | None) -> None:
        n = self.n
        if self.clusters is not None and self.strata is not None:
            pairs = pd.DataFrame({"s": self.strata, "c": self.clusters}).drop_duplicates()
            multi = pairs["c"].duplicated(keep=False)
            if multi.any():
                ex = pairs.loc[multi, "c"].iloc[0]
                raise DesignError(
                    f"clusters are not nested in strata: {pairs.loc[multi, 'c'].nunique():,} "
                    f"PSU label(s) (e.g. {ex!r}) occur in more than one stratum; relabel them "
                    "or pass nest=True if PSU labels are only unique within a stratum"
                )
        if self.fpc is not None:
            f = self.fpc
            if not np.isfinite(f).all() or (f <= 0).any():
                raise DesignError(
                    f"fpc {fpc_name!r} has {int((~np.isfinite(f) | (f <= 0)).sum()):,} missing, "
                    "zero or negative values; give the stratum population size N_h"
                )
            codes = self.strata_codes
            lo = np.full(self.n_strata, np.inf)
            hi = np.full(self.n_strata, -np.inf)
            np.minimum.at(lo, codes, f)
            np.maximum.at(hi, codes, f)
            if (hi - lo > 1e-9 * np.maximum(1.0, np.abs(hi))).any():
                k = int(np.argmax(hi - lo))
                raise DesignError(
                    f"fpc {fpc_name!r} varies within stratum {self.strata_labels[k]!r} "
                    f"({lo[k]:g} to {hi[k]:g}); it must be the stratum population size, "
                    "constant within a stratum"
                )
            fractions = (f <= 1).all()
            if not fractions:
                too_small = hi < self.n_psu_stratum - 1e-9
                if too_small.any():
                    k = int(np.argmax(too_small))
                    raise DesignError(
                        f"fpc {fpc_name!r} says stratum {self.strata_labels[k]!r} has "
                        f"{hi[k]:g} PSUs in the population but {self.n_psu_stratum[k]} are in "
                        "the sample; the fpc must be at least the number of sampled PSUs"
                    )
        lonely = self.lonely_strata
        if lonely.size and self.lonely_psu == "fail":
            shown = ", ".join(repr(x) for x in self.strata_labels[lonely][:5])
            raise DesignError(
                f"{lonely.size:,} stratum/strata have a single PSU ({shown}"
                f"{', ...' if lonely.size > 5 else ''}), so their variance cannot be "
                "estimated; collapse them with a neighbouring stratum, or choose a remedy "
                "with lonely_psu='adjust' | 'certainty' | 'remove'"
            )
        if n == 0:
            raise DesignError("the design has no rows; there is nothing to estimate")

    # ------------------------------------------------------------------ structure
    @property
    def n(self) -> int:
        """Number of rows (respondents) in the design."""
        return len(self.weights)

    @cached_property
    def _strata(self) -> tuple[np.ndarray, int]:
        return _codes(self.strata, self.n)

    @property
    def strata_codes(self) -> np.ndarray:
        """Stratum index 0..H-1 per row."""
        return self._strata[0]

    @property
    def n_strata(self) -> int:
        return self._strata[1]

    @cached_property
    def strata_labels(self) -> np.ndarray:
        if self.strata is None:
            return np.array(["(all)"], dtype=object)
        return np.asarray(pd.unique(pd.Series(self.strata).sort_values()), dtype=object)

    @cached_property
    def _psu(self) -> tuple[np.ndarray, int]:
        if self.clusters is None:
            return np.arange(self.n, dtype=np.intp), self.n
        return _codes(self.clusters, self.n)

    @property
    def psu_codes(self) -> np.ndarray:
        """PSU index 0..P-1 per row (each row its own PSU without clusters)."""
        return self._psu[0]

    @property
    def n_psu(self) -> int:
        return self._psu[1]

    @cached_property
    def psu_stratum(self) -> np.ndarray:
        """Stratum index of each PSU."""
        out = np.zeros(self.n_psu, dtype=np.intp)
        out[self.psu_codes] = self.strata_codes
        return out

    @cached_property
    def n_psu_stratum(self) -> np.ndarray:
        """Number of sampled PSUs per stratum."""
        return np.bincount(self.psu_stratum, minlength=self.n_strata)

    @property
    def n_psu_row(self) -> np.ndarray:
        return self.n_psu_stratum[self.strata_codes].astype(float)

    @cached_property
    def pop_psu_stratum(self) -> np.ndarray | None:
        """Population PSU count N_h per stratum (None without fpc)."""
        if self.fpc is None:
            return None
        out = np.zeros(self.n_strata)
        out[self.strata_codes] = self.fpc
        return out

    @cached_property
    def lonely_strata(self) -> np.ndarray:
        """Indices of strata with one sampled PSU that is not a certainty PSU."""
        one = self.n_psu_stratum == 1
        if self.pop_psu_stratum is not None and not (self.fpc <= 1).all():
            one &= self.pop_psu_stratum > 1 + 1e-9
        return np.flatnonzero(one)

    @property
    def degf(self) -> int:
        """Design degrees of freedom: PSUs minus strata (R's ``degf``)."""
        return int(self.n_psu - self.n_strata)

    # ------------------------------------------------------------------ new designs
    def with_weights(self, weights: np.ndarray, adjustment: Adjustment) -> SurveyDesign:
        """A new design with these weights and ``adjustment`` appended to the record."""
        w = np.asarray(weights, dtype=float).reshape(-1)
        if w.shape[0] != self.n:
            raise DesignError(
                f"{w.shape[0]:,} new weights for a design of {self.n:,} rows; give one per row"
            )
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise DesignError(
                f"{int(bad.sum()):,} new weights are negative or missing; a weighting step "
                "must give every row a weight >= 0"
            )
        if not isinstance(adjustment, Adjustment):
            raise ConfigError("adjustment must be an Adjustment record")
        rows = None if adjustment.X is None else adjustment.X.shape[0]  # dense or sparse
        if rows is not None and rows != self.n:
            raise DesignError(
                f"the adjustment's X has {rows:,} rows but the design has {self.n:,}; X must "
                "be aligned with the design rows"
            )
        if adjustment.X is not None:
            # record what the variance needs (R keeps them on the postStrata record)
            details = {
                "weights_after": w,
                "regression_weights": np.ones(self.n),
                **dict(adjustment.details),
            }
            adjustment = dataclasses.replace(adjustment, details=details)
        return dataclasses.replace(self, weights=w, adjustments=(*self.adjustments, adjustment))

    def subset_domain(self, mask) -> SurveyDesign:
        """The domain ``mask`` (bool per row) as R does: all rows kept, weights zero outside."""
        m = np.asarray(mask)
        if m.dtype != bool:
            m = pd.Series(m).fillna(False).astype(bool).to_numpy()
        if m.shape[0] != self.n:
            raise DesignError(
                f"domain mask has {m.shape[0]:,} entries for {self.n:,} rows; give one per row"
            )
        return dataclasses.replace(self, weights=np.where(m, self.weights, 0.0))

    def summary(self) -> str:
        """A short text description of the design."""
        lines = [
            f"Survey design: {self.n:,} rows, {self.n_strata:,} strata, {self.n_psu:,} PSUs",
            f"  weights: sum {self.weights.sum():,.6g}, min {self.weights.min():.6g}, "
            f"max {self.weights.max():.6g}",
            f"  fpc: {'yes' if self.fpc is not None else 'no (with replacement)'}; "
            f"lonely PSU: {self.lonely_psu}",
        ]
        for a in self.adjustments:
            lines.append(f"  adjustment: {a.kind}{'' if a.X is None else f' (X {a.X.shape})'}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        kinds = [a.kind for a in self.adjustments]
        return (
            f"SurveyDesign(n={self.n}, strata={self.n_strata}, psu={self.n_psu}, "
            f"adjustments={kinds})"
        )
