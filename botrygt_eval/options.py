"""One place for option names: ``Literal`` types, their defaults and why, and a resolver.

Every option a user types (in Python or on the command line) is a ``Literal`` type here;
the allowed values are read from it with :func:`choices` (``typing.get_args``), never
copied into a second tuple. Estimators check a value with :func:`check` (the error lists
the allowed values) and turn a name into its implementation with a :class:`Resolver`, as
linearmodels' ``CovarianceManager`` and pyfixest's literals do. The CLI builds its
``Enum`` choices from the same types (``botrygt_eval/cli/options.py``).

The vocabulary (docs/OPTIONS.md says why each spelling was chosen):

* ``se``: how uncertainty is computed, one name per method across estimators. The
  leave-one-cluster-out jackknife is ``"jackknife"`` everywhere (TWFE, event study, PPML,
  the Callaway-Sant'Anna aggregates, synthetic DiD); bootstraps are ``"wild"`` (wild
  cluster / score bootstrap, regressions), ``"bootstrap"`` (the multiplier bootstrap of
  the aggregates, the unit bootstrap of synthetic DiD).
* ``replications``: the number of bootstrap draws, placebo replications or replicate
  weights, whatever the resampling scheme.
* ``alpha``: the interval is ``1 - alpha``; ``level`` is the category of a margin.
* ``seed``: every random step takes one, default :data:`DEFAULT_SEED`.

This module imports nothing heavy: the CLI reads it before parsing arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Literal, TypeVar, get_args

from botrygt_eval.errors import ConfigError, check_option

# --------------------------------------------------------------------------- shared scalars
#: Interval level ``1 - alpha`` (R did, statsmodels, pyfixest spell it ``alpha`` too).
DEFAULT_ALPHA = 0.05
#: The one seed default: the demo's and the simulator's year (determinism: never None).
DEFAULT_SEED = 2018
#: Wild bootstrap draws (MacKinnon 2023 recommends thousands; 9,999 keeps the
#: Monte-Carlo error of a p-value near 0.05 at 0.002); the coverage study uses 999.
DEFAULT_WILD_REPLICATIONS = 9999
#: Multiplier-bootstrap draws of the aggregates (R did's ``biters = 1000``).
DEFAULT_BOOTSTRAP_REPLICATIONS = 1000
#: R synthdid's default number of bootstrap / random placebo replications.
DEFAULT_SYNTH_REPLICATIONS = 200
#: R survey's ``as.svrepdesign`` bootstrap replicates (``replicates = 50``) is too few
#: for a stable SE; 500 is the usual choice for the Rao-Wu bootstrap.
DEFAULT_REPLICATE_WEIGHTS = 500

# --------------------------------------------------------------------------- inference
#: Every name ``se=`` accepts somewhere; each estimator takes the subset below.
SE = Literal["cr1", "cr2", "jackknife", "wild", "analytic", "bootstrap", "placebo", "none"]
#: TWFE, event study, PPML and the PPML event study.
RegressionSE = Literal["cr1", "cr2", "jackknife", "wild"]
#: Aggregates of ATT(g,t) (``did.aggregate``).
AggregateSE = Literal["analytic", "jackknife", "bootstrap"]
#: Synthetic DiD / SC / DiD (``did.synth.synth_did``).
SynthSE = Literal["placebo", "jackknife", "bootstrap", "none"]

#: TWFE coefficient: CR1, the fixest / pyfixest convention with a normal interval, so the
#: numbers match the peers (tests/test_did_twfe_pyfixest).
TWFE_SE: RegressionSE = "cr1"
#: Event study: CR2 with Bell-McCaffrey df. A single event time rests on few treated
#: kommuner; CR1 normal intervals were too short in the coverage study (docs/COVERAGE.md).
EVENT_STUDY_SE: RegressionSE = "cr2"
#: PPML: the Kline-Santos score bootstrap, the only PPML option whose intervals covered
#: 93-97 % (93.2 %) in the coverage study (docs/COVERAGE.md).
PPML_SE: RegressionSE = "wild"
#: PPML event study: CR2 (the score bootstrap inverts one restricted fit per trial value
#: and event time, seconds each); 97.6 % coverage, slightly conservative.
PPML_EVENT_STUDY_SE: RegressionSE = "cr2"
#: Aggregates: R did's analytic influence-function SEs.
AGGREGATE_SE: AggregateSE = "analytic"
#: Synthetic DiD: placebo, the only inference valid with one treated kommune (synthdid).
SYNTH_SE: SynthSE = "placebo"

#: Wild bootstrap weights (``se="wild"``).
WeightsType = Literal["rademacher", "webb"]

# --------------------------------------------------------------------------- estimators
#: ``did.aggregate`` types (R did ``aggte(type=...)``).
AggType = Literal["simple", "group", "dynamic", "calendar"]
#: ATT(g,t) comparison group: never treated, or not yet treated.
Control = Literal["never", "notyet"]
#: ATT(g,t) 2x2 estimators (DRDID).
DidMethod = Literal["dr", "ipw", "reg", "dr_imp", "ipw_unnormalized"]
#: ATT(g,t) base period (R did).
BasePeriod = Literal["varying", "universal"]
#: Time-varying panel weights of ATT(g,t).
FixWeights = Literal["earlier", "base_period", "first_period", "varying"]
#: Synthetic estimators.
SynthMethod = Literal["sdid", "sc", "did"]
#: Survey replicate weights (R ``as.svrepdesign``).
ReplicateType = Literal["JK1", "JKn", "bootstrap"]
#: Calibration distance of ``botrygt-eval weight --method``.
WeightMethod = Literal["raking", "linear", "logit"]
#: Report kinds of ``botrygt-eval report``.
ReportKind = Literal["national", "kommune", "activities", "learning-review"]


def choices(option: Any) -> tuple:
    """The allowed values of a ``Literal`` type, in declaration order."""
    values = get_args(option)
    if not values:
        raise TypeError(f"{option!r} is not a Literal type")
    return values


def check(name: str, value: object, option: Any) -> None:
    """Refuse ``value`` unless it is one of ``option``'s values; the message lists them."""
    check_option(name, value, choices(option))


T = TypeVar("T")


class Resolver(Generic[T]):
    """Turn an option name into its implementation, refusing unknown names.

    ``Resolver("se", RegressionSE, {"cr1": ..., "cr2": ...})``: every value of the Literal
    must have an implementation (checked once, at import), so a new name cannot be
    accepted by :func:`check` and then fall through.
    """

    def __init__(self, name: str, option: Any, implementations: Mapping[str, T]) -> None:
        missing = set(choices(option)) - set(implementations)
        extra = set(implementations) - set(choices(option))
        if missing or extra:
            raise TypeError(
                f"{name}: implementations {sorted(missing)} missing, {sorted(extra)} extra"
            )
        self.name, self.option, self._impl = name, option, dict(implementations)

    def __call__(self, value: object) -> T:
        check(self.name, value, self.option)
        return self._impl[value]  # type: ignore[index]

    def __repr__(self) -> str:
        return f"Resolver({self.name!r}, {choices(self.option)})"


def check_replications(value: int | None, *, minimum: int = 2, name: str = "replications") -> None:
    """Refuse a replication count that is not an integer ``>= minimum`` (``None`` passes)."""
    if value is None:
        return
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ConfigError(f"{name}={value!r}: use an integer >= {minimum} (e.g. 999)")


def check_alpha(alpha: float) -> None:
    """Refuse an ``alpha`` outside (0, 1): the interval is ``1 - alpha``."""
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha={alpha!r} must be between 0 and 1, e.g. 0.05 for a 95% interval")


__all__ = [
    "AGGREGATE_SE",
    "DEFAULT_ALPHA",
    "DEFAULT_BOOTSTRAP_REPLICATIONS",
    "DEFAULT_REPLICATE_WEIGHTS",
    "DEFAULT_SEED",
    "DEFAULT_SYNTH_REPLICATIONS",
    "DEFAULT_WILD_REPLICATIONS",
    "EVENT_STUDY_SE",
    "PPML_EVENT_STUDY_SE",
    "PPML_SE",
    "SE",
    "SYNTH_SE",
    "TWFE_SE",
    "AggType",
    "AggregateSE",
    "BasePeriod",
    "Control",
    "DidMethod",
    "FixWeights",
    "RegressionSE",
    "ReplicateType",
    "Resolver",
    "ReportKind",
    "SynthMethod",
    "SynthSE",
    "WeightMethod",
    "WeightsType",
    "check",
    "check_alpha",
    "check_replications",
    "choices",
]
