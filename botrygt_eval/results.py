"""One protocol for every result object (the style of linearmodels' ``shared/base.py``).

A result class inherits :class:`ResultMixin` and implements a few hooks:

- ``to_frame()`` (required): the tidy table. Estimates carry ``estimate, se, ci_low,
  ci_high, n`` (the :attr:`~ResultMixin.frame_columns` the class declares; a result
  without estimates, e.g. a loaded file, declares its own).
- ``_payload()``: the JSON contract as a plain dict (default: the frame's records). It may
  hold numpy scalars, NaN, Timestamps, Paths: :meth:`~ResultMixin.to_dict` cleans it once.
- ``_draw(ax=None, **kwargs)``: draw the chart and return an Axes, an array of Axes or a
  Figure (default: the estimates with their intervals, or the summary as text).
- ``summary()``: the text summary (default: a caption and the frame).

The mixin gives ``to_dict()`` (JSON-safe: ``json.dumps(r.to_dict(), allow_nan=False)``
works), ``plot()`` (always a matplotlib Figure), ``__str__`` (the summary) and
``_repr_html_`` (the frame as HTML under a caption).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import html
from pathlib import PurePath
from typing import ClassVar

import numpy as np
import pandas as pd

#: The tidy columns of a result that carries estimates (DESIGN.md: every estimate a user
#: sees carries its SE or interval and its n).
ESTIMATE_COLUMNS: tuple[str, ...] = ("estimate", "se", "ci_low", "ci_high", "n")


def json_safe(obj):
    """``obj`` with JSON's types only: NaN/inf and missing values become null, numpy
    scalars and arrays plain Python, Timestamps and dates ISO strings (a space before
    the time, as ``str()``), paths strings, frames lists of records; dict keys become
    strings where JSON needs it."""
    if obj is None or isinstance(obj, str | bool):
        return obj
    if isinstance(obj, dict):
        return {_json_key(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return [json_safe(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series | pd.Index):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, np.ndarray):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple | set | frozenset):
        return [json_safe(v) for v in obj]
    if isinstance(obj, pd.Timestamp | dt.datetime):  # as str(): "2019-02-10 00:00:00"
        return None if pd.isna(obj) else obj.isoformat(sep=" ")
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, pd.Timedelta | dt.timedelta):
        return None if pd.isna(obj) else str(obj)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, enum.Enum):
        return json_safe(obj.value)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return json_safe(obj.to_dict() if hasattr(obj, "to_dict") else dataclasses.asdict(obj))
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def _json_key(k) -> str | int | float | bool | None:
    k = k.item() if isinstance(k, np.generic) else k
    if isinstance(k, float) and k.is_integer():
        return int(k)
    return k if isinstance(k, str | int | bool) or k is None else str(k)


def as_figure(drawn):
    """The matplotlib Figure behind what a drawing function returned (Figure, Axes or an
    array of Axes)."""
    from matplotlib.figure import Figure

    if isinstance(drawn, Figure):
        return drawn
    if isinstance(drawn, np.ndarray):
        drawn = drawn.flat[0]
    fig = getattr(drawn, "figure", None)
    if fig is None:
        raise TypeError(f"_draw returned {type(drawn).__name__}, not a Figure or Axes")
    return fig


class ResultMixin:
    """``summary()``, ``to_frame()``, ``to_dict()``, ``_repr_html_`` and ``plot()`` for a
    result class; see the module docstring for the hooks a class implements."""

    #: columns :meth:`to_frame` always has (checked by tests/test_result_protocol.py)
    frame_columns: ClassVar[tuple[str, ...]] = ESTIMATE_COLUMNS

    # ---- hooks
    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every result implements it
        raise NotImplementedError(f"{type(self).__name__} must implement to_frame()")

    def _payload(self) -> dict:
        """The JSON contract before cleaning (default: the frame's rows)."""
        return {"table": self.to_frame()}

    def _draw(self, ax=None, **kwargs):
        """Default chart: estimates with their intervals, else the summary as text."""
        import matplotlib.pyplot as plt

        f = self.to_frame()
        if ax is None:
            _, ax = plt.subplots(figsize=(6, max(2.0, 0.3 * len(f) + 1)))
        if set(ESTIMATE_COLUMNS[:4]) <= set(f.columns) and len(f):
            est = f["estimate"].to_numpy(float)
            lo, hi = f["ci_low"].to_numpy(float), f["ci_high"].to_numpy(float)
            y = np.arange(len(f))[::-1]
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.errorbar(est[ok], y[ok], xerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="o",
                        color="C0", capsize=3)  # fmt: skip
            ax.plot(est[~ok], y[~ok], "o", color="C0", mfc="white")
            ax.axvline(0, color="grey", lw=0.8)
            ax.set_yticks(y, [str(v) for v in self._row_labels(f)])
            ax.set_xlabel("estimate")
        else:
            ax.axis("off")
            ax.text(0, 1, self.summary(), family="monospace", fontsize=8, va="top")
        ax.set_title(self._caption(), fontsize=9, loc="left")
        return ax

    @staticmethod
    def _row_labels(f: pd.DataFrame) -> list:
        for col in ("term", "variable", "label", "activity_type", "event_time", "egt"):
            if col in f.columns:
                return f[col].tolist()
        return list(range(len(f)))

    def _caption(self) -> str:
        """A one-line title: the summary's first line when the class writes its own."""
        if type(self).summary is not ResultMixin.summary:
            lines = self.summary().splitlines()
            if lines:
                return lines[0]
        return type(self).__name__

    # ---- the protocol
    def summary(self) -> str:
        """Text summary: a caption and the tidy frame."""
        f = self.to_frame()
        body = f.to_string(index=False, max_rows=40, float_format=lambda v: f"{v:.6g}")
        return f"{type(self).__name__}\n{body}"

    def to_dict(self) -> dict:
        """The JSON contract with JSON's types only (NaN as null; ``allow_nan=False`` safe)."""
        return json_safe(self._payload())

    def plot(self, *args, **kwargs):
        """The result's chart as a matplotlib Figure (``ax=`` draws into an existing Axes)."""
        return as_figure(self._draw(*args, **kwargs))

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        table = self.to_frame().to_html(
            index=False, max_rows=60, float_format=lambda v: f"{v:.4f}", na_rep=""
        )
        caption = f"<caption>{html.escape(self._caption())}</caption>"
        start = table.index(">", table.index("<table")) + 1
        return table[:start] + caption + table[start:]
