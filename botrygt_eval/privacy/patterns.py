"""CPR-shaped values in text: the patterns, detection and redaction (standard library only).

Light on purpose: the command line installs the log guard (:mod:`.logs`) with these
before it parses an argument; the frame-level checks are in :mod:`.cpr`.
"""

from __future__ import annotations

import re

_DAY_MONTH = (
    r"(?:(?:0[1-9]|[12]\d)(?:0[1-9]|1[0-2])"  # 01-29 in every month
    r"|30(?:0[13-9]|1[0-2])"  # 30 in every month but February
    r"|31(?:0[13578]|1[02]))"  # 31 in the long months
)
#: a CPR-shaped value inside any text
CPR_PATTERN = rf"(?<![^\W_])(?<!\d\.){_DAY_MONTH}\d\d-?\d{{4}}(?![^\W_])(?!\.\d)"
CPR_RE = re.compile(CPR_PATTERN)
#: a whole value that is a CPR number (after stripping spaces)
CPR_FULL_RE = re.compile(rf"^{_DAY_MONTH}\d\d-?\d{{4}}$")
REDACTED = "[CPR fjernet]"


#: what every CPR-shaped value contains: ten digits (a hyphen may follow the sixth) that
#: begin with a possible day and month; scanning for it is five times faster than the full
#: pattern's look-arounds, and a text without it (nearly every output) needs no more
_CANDIDATE_RE = re.compile(r"[0-3]\d[01]\d\d\d-?\d{4}")


def search_cpr(text: str) -> re.Match | None:
    """The first CPR-shaped value in ``text`` (as ``CPR_RE.search``), or None."""
    if _CANDIDATE_RE.search(text) is None:
        return None
    return CPR_RE.search(text)


def contains_cpr(text: str) -> bool:
    """Whether ``text`` holds a CPR-shaped value anywhere."""
    return search_cpr(text) is not None


def redact_cpr(text: str) -> str:
    """``text`` with every CPR-shaped value replaced by ``[CPR fjernet]``."""
    return CPR_RE.sub(REDACTED, text)
