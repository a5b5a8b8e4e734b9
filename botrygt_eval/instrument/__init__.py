"""The annual citizen questionnaire: versioned item bank, renderers, response schema, diff.

Typical use::

    from botrygt_eval.instrument import load_instrument, response_schema, derive_outcomes
    inst = load_instrument(2025)
    schema = response_schema(2025)          # for botrygt_eval.io.responses.load_responses
    data = derive_outcomes(responses, 2025)  # adds fear_burglary, prevention_index, ...
"""

from botrygt_eval import lazy_exports

#: where each public name lives; imported on first use (PEP 562), so that reading the bank
#: (a report's series breaks) loads neither the XLSForm writer nor the pandera schema
_HOME = {
    "Instrument": "bank",
    "Item": "bank",
    "available_years": "bank",
    "load_instrument": "bank",
    "build_instrument": "build",
    "codebook_frame": "codebook",
    "response_layout": "codebook",
    "InstrumentDiff": "diff",
    "diff_instruments": "diff",
    "derive_outcomes": "outcomes",
    "response_schema": "schema",
    "estimated_minutes": "timing",
}


__getattr__ = lazy_exports(__name__, _HOME)


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
