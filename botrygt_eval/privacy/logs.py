"""The log guard: CPR-shaped values are redacted from every log record.

Standard library only, so the command line installs it before it parses an argument.
"""

from __future__ import annotations

import logging

from botrygt_eval.privacy.patterns import contains_cpr, redact_cpr


class _RedactingFactory:
    """A log-record factory that replaces CPR-shaped values in the formatted message."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, *args, **kwargs):
        record = self.inner(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to logging's own error path
            return record
        if contains_cpr(message):
            record.msg, record.args = redact_cpr(message), ()
        return record


def install_log_guard() -> None:
    """Redact CPR-shaped values from every log record from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))
