"""botrygt_eval: evaluation toolkit for the Bo trygt partnerships.

Questionnaire generation, sampling and weighting, difference-in-differences,
activity judgements and parameterised reports for municipalities and police
districts working together against residential burglary.
"""

__version__ = "0.1.0"

SIMULATED_BANNER = "SIMULEREDE DATA / SIMULATED DATA"

#: Column that marks rows written by the simulator (1 = simulated); the data, not the folder, says so.
SIMULATED_MARKER = "simulated"
