"""The event-study chart in percent with whole-period ticks."""

from __future__ import annotations

import types

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from botrygt_eval.plots.did import plot_event_study  # noqa: E402


def test_percent_scale_and_integer_event_times():
    frame = pd.DataFrame({"event_time": [-2, -1, 0, 1], "estimate": [0.05, 0.0, -0.2, -0.1],
                          "ci_low": [-0.1, np.nan, -0.3, -0.25], "ci_high": [0.2, np.nan, -0.1, 0.05],
                          "binned": [False] * 4})  # fmt: skip
    res = types.SimpleNamespace(to_frame=lambda: frame, outcome="log_rate", model="TWFE")
    ax = plot_event_study(res, percent=True)
    ys = np.concatenate([ln.get_ydata() for ln in ax.get_lines() if ln.get_marker() == "o"])
    np.testing.assert_allclose(sorted(ys), sorted(100 * np.expm1(frame["estimate"])))
    assert "(%)" in ax.get_ylabel()
    ticks = ax.get_xticks()
    assert np.allclose(ticks, np.round(ticks))
    plt.close(ax.figure)
