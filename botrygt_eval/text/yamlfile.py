"""YAML the package reads (the report-text catalogue, the item bank), with libyaml's parser.

PyYAML's pure-Python parser took a twentieth of a second for the report-text catalogue, in
every report kernel and command; libyaml (bundled with PyYAML's wheels) parses the same
documents to the same objects ten times faster. Without libyaml the Python parser is used.
"""

from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream):
    """``yaml.safe_load(stream)`` (text or an open file), parsed by libyaml when present."""
    return yaml.load(stream, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python
