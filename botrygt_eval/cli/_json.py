"""JSON output shared by the commands that write nested results."""

from __future__ import annotations

import numpy as np


def json_safe(obj):
    """Nested dicts/lists made JSON-safe: NaN and infinities as null, numpy scalars as Python."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
