"""Difference-in-differences estimators (Callaway-Sant'Anna, TWFE, PPML) and diagnostics."""

from botrygt_eval.did.aggregate import AggregateResult, aggregate
from botrygt_eval.did.att_gt import ATTgtResult, PreTest, att_gt
from botrygt_eval.did.honest import HonestResult, honest_did

__all__ = [
    "ATTgtResult",
    "AggregateResult",
    "HonestResult",
    "PreTest",
    "aggregate",
    "att_gt",
    "honest_did",
]
