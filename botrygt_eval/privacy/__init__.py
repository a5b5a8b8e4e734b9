"""Data protection: CPR detection, keyed pseudonyms, guarded writers, report sandboxing.

See docs/DATA_PROTECTION.md. :mod:`.cpr` finds CPR-shaped values, :mod:`.pseudonym`
turns CPR numbers into HMAC-SHA256 pseudonyms under a secret key, :mod:`.guard`
refuses to write a CPR-shaped value anywhere but the distribution list, and
:mod:`.sandbox` keeps report kernels' files inside the output folder.
"""

from botrygt_eval import lazy_exports

#: where each public name lives; imported on first use (PEP 562), so that importing a light
#: submodule (``privacy.patterns``, ``privacy.logs``: the CLI's log guard) loads no pandas
_HOME = {
    "contains_cpr": "cpr",
    "cpr_mask": "cpr",
    "redact_cpr": "cpr",
    "check_no_cpr": "guard",
    "guarded_to_csv": "guard",
    "guarded_write_json": "guard",
    "guarded_write_text": "guard",
    "scan_tree": "guard",
    "KEY_ENV": "pseudonym",
    "load_key": "pseudonym",
    "pseudonymise_cpr": "pseudonym",
}


__getattr__ = lazy_exports(__name__, _HOME)


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
