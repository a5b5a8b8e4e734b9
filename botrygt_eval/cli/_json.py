"""Kept for merging only: JSON safety lives in :func:`botrygt_eval.results.json_safe`, and
results' ``to_dict()`` is already JSON-safe. Remove once no command imports this."""

from __future__ import annotations

from botrygt_eval.results import json_safe

__all__ = ["json_safe"]
