"""Keyed pseudonyms of real people: HMAC-SHA256 of the CPR number under a secret key.

The key is read from a key file (``--key-file``) or the environment variable
``BOTRYGT_PSEUDONYM_KEY``, never from the repository or the outputs: a key file
inside a git work tree or inside the output folder is refused, as is a key
shorter than 32 bytes. The same CPR number gets the same pseudonym under one key
in every year (panels are possible); without the key a pseudonym cannot be
inverted (HMAC is a pseudorandom function; a dictionary of all ~4 billion
CPR-shaped numbers is useless without the key). The pseudonym is the first 64
bits of the HMAC as 16 hex characters (the ``resp_id`` format of DATA_FORMATS).

The simulator keeps its own keyed 64-bit permutation (:func:`botrygt_eval.simulate
._random.pseudonyms`) of synthetic person numbers: switching it to HMAC would change
every simulated file, and synthetic persons have no CPR number to protect.
"""

from __future__ import annotations

import hmac
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.errors import PersonalDataError

KEY_ENV = "BOTRYGT_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32
#: domain separation: a key used elsewhere gives unrelated values here
_CONTEXT = b"botrygt-eval/resp_id/v1:"
MAKE_KEY = (
    'make one with: python -c "import secrets;print(secrets.token_hex(32))" > '
    "~/.botrygt/pseudonym.key && chmod 600 ~/.botrygt/pseudonym.key (keep it outside the "
    "repository and the output folders, back it up safely: the same key is needed every year "
    "for the pseudonyms to link, and anyone holding it and a CPR list can re-identify)"
)


def _parse_key(text: str, where: str) -> bytes:
    text = text.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise PersonalDataError(
            f"the pseudonym key in {where} is not hexadecimal; {MAKE_KEY}"
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise PersonalDataError(
            f"the pseudonym key in {where} has {len(key)} bytes; it needs at least "
            f"{MIN_KEY_BYTES} ({2 * MIN_KEY_BYTES} hex characters); {MAKE_KEY}"
        )
    return key


def _git_work_tree(path: Path) -> Path | None:
    for parent in path.parents:
        if (parent / ".git").exists():
            return parent
    return None


def load_key(
    key_file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    forbidden: Iterable[str | Path] = (),
) -> bytes:
    """The secret pseudonym key from ``key_file`` or ``$BOTRYGT_PSEUDONYM_KEY``.

    Refuses a key file inside a git work tree or inside any of ``forbidden`` (the
    output folders), a key file others can read, and a missing or short key.
    """
    environ = os.environ if environ is None else environ
    if key_file is None:
        value = environ.get(KEY_ENV, "")
        if not value.strip():
            raise PersonalDataError(
                "the frame holds CPR numbers, so the sample needs a secret pseudonym key: give "
                f"--key-file FILE or set {KEY_ENV}; {MAKE_KEY}"
            )
        return _parse_key(value, f"${KEY_ENV}")
    path = Path(key_file).expanduser().resolve()
    if not path.is_file():
        raise PersonalDataError(f"the key file {path} does not exist; {MAKE_KEY}")
    for folder in forbidden:
        folder = Path(folder).expanduser().resolve()
        # an output folder that is the home folder (or /) forbids only the folder itself,
        # not ~/.botrygt/ beneath it
        broad = folder in (Path.home().resolve(), Path(folder.anchor))
        if (path.parent == folder) if broad else path.is_relative_to(folder):
            raise PersonalDataError(
                f"the key file {path} lies inside the output folder {folder}: outputs are "
                "shared and the key must never travel with them; move the key elsewhere"
            )
    repo = _git_work_tree(path)
    if repo is not None:
        raise PersonalDataError(
            f"the key file {path} lies inside the git repository {repo}: a key must never be "
            "under version control; move it outside (e.g. ~/.botrygt/pseudonym.key)"
        )
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PersonalDataError(
            f"the key file {path} can be read by other users; run: chmod 600 {path}"
        )
    return _parse_key(path.read_text(encoding="ascii", errors="replace"), str(path))


def pseudonymise_cpr(cpr: pd.Series, key: bytes) -> np.ndarray:
    """16-hex-character pseudonyms of normalised 10-digit CPR strings (HMAC-SHA256, truncated).

    One C-level ``hmac.digest`` per person (about 1 µs; no numpy form of SHA-256 exists),
    so a 60,000-person sample takes well under a second. Distinct persons sharing a
    pseudonym (probability about n²/2⁶⁵) is checked and refused.
    """
    if len(key) < MIN_KEY_BYTES:
        raise PersonalDataError(f"the pseudonym key is too short; {MAKE_KEY}")
    values = cpr.astype(str).tolist()
    out = np.array(
        [hmac.digest(key, _CONTEXT + v.encode("ascii"), "sha256")[:8].hex() for v in values],
        dtype="U16",
    )
    if len(np.unique(out)) != len(np.unique(values)):  # pragma: no cover - ~1e-7 at 5 million
        raise PersonalDataError(
            "two different CPR numbers got the same pseudonym; make a new key and draw again"
        )
    return out.astype(str)
