"""One exception class per kind of failure.

Every message says what is wrong and what to do, in the user's terms.
The CLI catches ``BotrygtError`` and prints the message without a traceback.
"""

from __future__ import annotations


class BotrygtError(Exception):
    """Base class: an error the user can fix from its message."""


class InputFileError(BotrygtError):
    """A file cannot be used at all (missing, wrong encoding, wrong columns)."""


class UnknownMunicipalityError(BotrygtError, KeyError):
    """A municipality code or name that is not one of the 98 kommuner."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ValidationFailedError(BotrygtError):
    """Too many rows failed validation to continue (see the quarantine file)."""


class ConfigError(BotrygtError):
    """An option or parameter is invalid; the message lists the valid values."""


class MarginsError(BotrygtError):
    """Calibration margins are inconsistent with each other or with the data."""


class ConvergenceError(BotrygtError):
    """An iterative algorithm (raking, logit calibration, ...) did not converge."""


class NonresponseError(BotrygtError):
    """A nonresponse adjustment cannot be made (a class without respondents, ...)."""


class DesignError(BotrygtError):
    """A survey design is invalid (zero weights, single-PSU stratum, ...)."""


class EstimationError(BotrygtError):
    """A model cannot be estimated on these data (no controls, collinearity, ...)."""


class InstrumentError(BotrygtError):
    """The questionnaire item bank is invalid (duplicate id, routing to a later item, ...)."""


class DidDataError(BotrygtError):
    """Panel data unusable for DiD (duplicate unit-periods, cohort changing within a unit, ...)."""


class DidWarning(UserWarning):
    """Base class of DiD warnings: the estimate is computed, but read the message."""


class DroppedUnitsWarning(DidWarning):
    """Units or rows were left out (treated in every period, missing values, unbalanced)."""


class SmallCohortWarning(DidWarning):
    """A cohort has very few units; its ATT(g,t) rest on little information."""


class FigureMismatchError(BotrygtError):
    """Percentages recomputed from a response file do not round to the published ones."""


def check_option(name: str, value: object, allowed: tuple) -> None:
    """Refuse an unknown option value, listing the allowed ones."""
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ConfigError(f"{name}={value!r} is not a valid choice; use one of {listed}")


class ReportError(BotrygtError):
    """A report could not be rendered (template missing, a notebook cell failed)."""


class PropensityScoreError(EstimationError):
    """The propensity score cannot be estimated (separation, no overlap, no convergence)."""


class NoEstimableCellsError(EstimationError):
    """Every ATT(g,t) cell is NaN, so there is nothing to aggregate."""


class StatBankFetchError(BotrygtError):
    """The StatBank API could not be reached or refused the request (``fetch statbank``)."""


class PersonalDataError(BotrygtError):
    """Personal data (a CPR number) would be written where it must not be, or a key is unsafe."""
