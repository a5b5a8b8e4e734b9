"""Typer options the commands share: ``Annotated`` aliases and ``Enum`` choices.

The choices are made from the ``Literal`` types of :mod:`botrygt_eval.options`, so the
command line accepts exactly what the functions accept and ``--help`` lists it. An alias
whose help text differs between commands is a function of that text (``OutOption("...")``),
so each command keeps its own words. Light: typer and the standard library only, as the
CLI reads this before it parses an argument.
"""

from __future__ import annotations

from collections.abc import Callable
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
def _worded(flag: str, kind: Any) -> Callable[[str], Any]:
    """An alias of ``flag`` that takes each command's own help text: ``OutOption("...")``."""

    def alias(help: str) -> Any:
        return Annotated[kind, typer.Option(flag, help=help)]

    alias.__doc__ = f"``{flag}`` with the command's help text."
    return alias


DataOption = _worded("--data", Path)
TimeOption = _worded("--time", str)
OutOption = _worded("--out", Path)
SeedOption = _worded("--seed", int)  # default: botrygt_eval.options.DEFAULT_SEED
LangOption = _worded("--lang", str)  # da|en
ResponsesOption = _worded("--responses", Path)
TreatOption = _worded("--treat", str)
KommuneOption = _worded("--kommune", str | None)
StrataOption = _worded("--strata", str | None)
LonelyPsuOption = _worded("--lonely-psu", str)
MinCellOption = _worded("--min-cell", int)
InstrumentYearOption = _worded("--instrument", int | None)
BankOption = _worded("--bank", Path | None)
RoundingOption = _worded("--rounding", str)
MinNOption = _worded("--min-n", int)


def YearOption(help: str, optional: bool = False):  # noqa: N802
    """``--year YYYY``."""
    return Annotated[int | None if optional else int, typer.Option("--year", help=help)]


def ClusterOption(help: str = "Cluster column."):  # noqa: N802
    """``--cluster COL``."""
    return Annotated[str | None, typer.Option("--cluster", help=help)]


def Choice(enum: type[Enum], flag: str, help: str):  # noqa: N802
    """An option with the choices of ``enum`` (listed by ``--help``, refused when unknown)."""
    return Annotated[enum, typer.Option(flag, help=help)]


def DesignWeightOption(help: str, optional: bool = False):  # noqa: N802
    """``--design-weight COL``."""
    return Annotated[str | None if optional else str, typer.Option("--design-weight", help=help)]
