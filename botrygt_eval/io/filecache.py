"""Files one process reads again and again, parsed once per version of the file.

A batch worker's kernel renders some fifty reports in a row, and each report reads the
same prepared inputs; parsing them again each time was a twentieth of a kommune report.
A file is parsed again as soon as its size or modification time changes, so an edited
input is never served stale.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: parsed files kept per process (the reports' inputs are about a dozen)
MAX_FILES = 64
_PARSED: OrderedDict[tuple, object] = OrderedDict()


def parse_once(path: str | Path, parse: Callable[[Path], T]) -> T:
    """``parse(path)``, from memory when this version of the file was parsed before.

    The result is shared: callers hand out copies of anything mutable (frames).
    """
    path = Path(path).resolve()
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, parse)
    if key in _PARSED:
        _PARSED.move_to_end(key)
        return _PARSED[key]  # type: ignore[return-value]
    value = parse(path)
    _PARSED[key] = value
    while len(_PARSED) > MAX_FILES:
        _PARSED.popitem(last=False)
    return value
