"""botrygt_eval: evaluation toolkit for the Bo trygt partnerships.

Questionnaire generation, sampling and weighting, difference-in-differences,
activity judgements and parameterised reports for municipalities and police
districts working together against residential burglary.
"""

from importlib import import_module

__version__ = "0.1.0"

SIMULATED_BANNER = "SIMULEREDE DATA / SIMULATED DATA"

#: Column that marks rows written by the simulator (1 = simulated); the data, not the folder, says so.
SIMULATED_MARKER = "simulated"


def lazy_exports(package: str, homes: dict[str, str]):
    """A module ``__getattr__`` (PEP 562) that imports ``package.<homes[name]>`` the first
    time ``name`` is asked for, so importing one light submodule loads no heavy siblings."""
    def __getattr__(name: str):
        if name in homes:
            return getattr(import_module(f"{package}.{homes[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
