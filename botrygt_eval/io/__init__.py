"""Loaders for every input table: StatBank exports, survey responses, registers.

Each loader validates with a pandera schema from :mod:`botrygt_eval.schemas`
and returns a :class:`~botrygt_eval.io.quarantine.LoadResult`.
"""

from botrygt_eval.io.quarantine import LoadResult, validate_rows

__all__ = ["LoadResult", "validate_rows"]
