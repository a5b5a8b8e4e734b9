"""The annual citizen questionnaire: versioned item bank, renderers, response schema, diff.

Typical use::

    from botrygt_eval.instrument import load_instrument, response_schema, derive_outcomes
    inst = load_instrument(2025)
    schema = response_schema(2025)          # for botrygt_eval.io.responses.load_responses
    data = derive_outcomes(responses, 2025)  # adds fear_burglary, prevention_index, ...
"""

from botrygt_eval.instrument.bank import Instrument, Item, available_years, load_instrument
from botrygt_eval.instrument.build import build_instrument
from botrygt_eval.instrument.codebook import codebook_frame, response_layout
from botrygt_eval.instrument.diff import InstrumentDiff, diff_instruments
from botrygt_eval.instrument.outcomes import derive_outcomes
from botrygt_eval.instrument.schema import response_schema
from botrygt_eval.instrument.timing import estimated_minutes

__all__ = [
    "Instrument",
    "InstrumentDiff",
    "Item",
    "available_years",
    "build_instrument",
    "codebook_frame",
    "derive_outcomes",
    "diff_instruments",
    "estimated_minutes",
    "load_instrument",
    "response_layout",
    "response_schema",
]
