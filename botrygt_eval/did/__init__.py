"""Difference-in-differences estimators (Callaway-Sant'Anna, TWFE, PPML) and diagnostics."""

from botrygt_eval.did.aggregate import AggregateResult, aggregate
from botrygt_eval.did.att_gt import ATTgtResult, PreTest, att_gt

__all__ = ["ATTgtResult", "AggregateResult", "PreTest", "aggregate", "att_gt"]
