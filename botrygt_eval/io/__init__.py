"""Loaders for every input table: StatBank exports, survey responses, registers.

Each loader validates with a pandera schema from :mod:`botrygt_eval.io.schemas`
and returns a :class:`~botrygt_eval.io.quarantine.LoadResult`; :func:`load_workspace`
loads a whole workspace folder (docs/DATA_FORMATS.md).
"""

from botrygt_eval.io.quarantine import LoadResult, validate_rows
from botrygt_eval.io.registers import load_activities, load_nabohjaelp, load_partnerships
from botrygt_eval.io.responses import load_margins, load_responses, load_sample
from botrygt_eval.io.statbank import (
    load_folk1a,
    load_households,
    load_straf10,
    load_straf11,
    read_statbank,
)
from botrygt_eval.io.workspace import Workspace, load_workspace, summarise_workspace

__all__ = [
    "LoadResult",
    "Workspace",
    "load_activities",
    "load_folk1a",
    "load_households",
    "load_margins",
    "load_nabohjaelp",
    "load_partnerships",
    "load_responses",
    "load_sample",
    "load_straf10",
    "load_straf11",
    "load_workspace",
    "read_statbank",
    "summarise_workspace",
    "validate_rows",
]
