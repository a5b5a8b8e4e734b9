"""Data protection: CPR detection, keyed pseudonyms, guarded writers, report sandboxing.

See docs/DATA_PROTECTION.md. :mod:`.cpr` finds CPR-shaped values, :mod:`.pseudonym`
turns CPR numbers into HMAC-SHA256 pseudonyms under a secret key, :mod:`.guard`
refuses to write a CPR-shaped value anywhere but the distribution list, and
:mod:`.sandbox` keeps report kernels' files inside the output folder.
"""

from botrygt_eval.privacy.cpr import contains_cpr, cpr_mask, redact_cpr
from botrygt_eval.privacy.guard import (
    check_no_cpr,
    guarded_to_csv,
    guarded_write_json,
    guarded_write_text,
    scan_tree,
)
from botrygt_eval.privacy.pseudonym import KEY_ENV, load_key, pseudonymise_cpr

__all__ = [
    "KEY_ENV",
    "check_no_cpr",
    "contains_cpr",
    "cpr_mask",
    "guarded_to_csv",
    "guarded_write_json",
    "guarded_write_text",
    "load_key",
    "pseudonymise_cpr",
    "redact_cpr",
    "scan_tree",
]
