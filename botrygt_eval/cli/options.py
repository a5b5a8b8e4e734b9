"""Typer options the commands share: ``Annotated`` aliases and ``Enum`` choices.

The choices are made from the ``Literal`` types of :mod:`botrygt_eval.options`, so the
command line accepts exactly what the functions accept and ``--help`` lists it. An alias
whose help text differs between commands is a function of that text (``OutOption("...")``),
so each command keeps its own words. Light: typer and the standard library only, as the
CLI reads this before it parses an argument.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from botrygt_eval import options as o


def choice_enum(name: str, option: Any) -> type[Enum]:
    """A ``str`` Enum whose members are the values of a ``Literal`` type (for Typer)."""
    return Enum(name, {v: v for v in o.choices(option)}, type=str)  # type: ignore[return-value]


def value(choice: Enum | str | None) -> str | None:
    """The plain string of a choice (an Enum member from Typer, or a string from a test)."""
    return choice.value if isinstance(choice, Enum) else choice


RegressionSE = choice_enum("RegressionSE", o.RegressionSE)
AggregateSE = choice_enum("AggregateSE", o.AggregateSE)
SynthSE = choice_enum("SynthSE", o.SynthSE)
SynthMethod = choice_enum("SynthMethod", o.SynthMethod)
WeightsType = choice_enum("WeightsType", o.WeightsType)
Control = choice_enum("Control", o.Control)
DidMethod = choice_enum("DidMethod", o.DidMethod)
BasePeriod = choice_enum("BasePeriod", o.BasePeriod)
WeightMethod = choice_enum("WeightMethod", o.WeightMethod)


# --------------------------------------------------------------------------- the same everywhere
UnitOption = Annotated[str, typer.Option("--unit", help="Unit column, e.g. kommune_kode.")]
OutcomeOption = Annotated[str, typer.Option("--outcome", help="Outcome column.")]
JsonOption = Annotated[Path, typer.Option("--json", help="JSON file to write.")]
WeightsOption = Annotated[str | None, typer.Option("--weights", help="Weight column.")]
SampleFileOption = Annotated[
    Path, typer.Option("--sample", help="The drawn sample, sample_YYYY.csv.")
]
PublishedOption = Annotated[
    Path | None,
    typer.Option("--published", help="Published figures CSV (default: the packaged one)."),
]


# --------------------------------------------------------------------------- each command's words
def DataOption(help: str):  # noqa: N802 (reads as a type in a signature)
    """``--data FILE|DIR``."""
    return Annotated[Path, typer.Option("--data", help=help)]


def TimeOption(help: str):  # noqa: N802
    """``--time COL``."""
    return Annotated[str, typer.Option("--time", help=help)]


def OutOption(help: str):  # noqa: N802
    """``--out FILE|DIR``."""
    return Annotated[Path, typer.Option("--out", help=help)]


def SeedOption(help: str):  # noqa: N802
    """``--seed N`` (default :data:`botrygt_eval.options.DEFAULT_SEED`)."""
    return Annotated[int, typer.Option("--seed", help=help)]


def YearOption(help: str, optional: bool = False):  # noqa: N802
    """``--year YYYY``."""
    return Annotated[int | None if optional else int, typer.Option("--year", help=help)]


def LangOption(help: str):  # noqa: N802
    """``--lang da|en``."""
    return Annotated[str, typer.Option("--lang", help=help)]


def ResponsesOption(help: str):  # noqa: N802
    """``--responses FILE``."""
    return Annotated[Path, typer.Option("--responses", help=help)]


def ClusterOption(help: str = "Cluster column."):  # noqa: N802
    """``--cluster COL``."""
    return Annotated[str | None, typer.Option("--cluster", help=help)]


def TreatOption(help: str):  # noqa: N802
    """``--treat COL``."""
    return Annotated[str, typer.Option("--treat", help=help)]


def Choice(enum: type[Enum], flag: str, help: str):  # noqa: N802
    """An option with the choices of ``enum`` (listed by ``--help``, refused when unknown)."""
    return Annotated[enum, typer.Option(flag, help=help)]


def KommuneOption(help: str):  # noqa: N802
    """``--kommune CODE|NAME`` (optional)."""
    return Annotated[str | None, typer.Option("--kommune", help=help)]


def StrataOption(help: str):  # noqa: N802
    """``--strata COL`` (optional)."""
    return Annotated[str | None, typer.Option("--strata", help=help)]


def DesignWeightOption(help: str, optional: bool = False):  # noqa: N802
    """``--design-weight COL``."""
    return Annotated[str | None if optional else str, typer.Option("--design-weight", help=help)]


def LonelyPsuOption(help: str):  # noqa: N802
    """``--lonely-psu fail|adjust|certainty|remove``."""
    return Annotated[str, typer.Option("--lonely-psu", help=help)]


def MinCellOption(help: str):  # noqa: N802
    """``--min-cell N``: cells resting on fewer are suppressed."""
    return Annotated[int, typer.Option("--min-cell", help=help)]


def InstrumentYearOption(help: str):  # noqa: N802
    """``--instrument YYYY``: the questionnaire year (optional)."""
    return Annotated[int | None, typer.Option("--instrument", help=help)]


def BankOption(help: str):  # noqa: N802
    """``--bank DIR``: an item bank folder (optional)."""
    return Annotated[Path | None, typer.Option("--bank", help=help)]


def RoundingOption(help: str):  # noqa: N802
    """``--rounding half-up|half-even``."""
    return Annotated[str, typer.Option("--rounding", help=help)]
