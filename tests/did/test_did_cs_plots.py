"""Charts of ATT(g,t) and aggregates draw the estimates and their intervals."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from botrygt_eval.did import aggregate, att_gt  # noqa: E402
from tests.did.did_cs_sim import cs_panel  # noqa: E402


@pytest.fixture(scope="module")
def res():
    df = cs_panel(n_units=400, seed=12)
    return att_gt(df, unit="unit", time="time", cohort="cohort", outcome="y", method="reg")


def test_plot_att_gt_one_panel_per_cohort(res):
    fig = res.plot()
    assert len(fig.axes) == 3
    ys = np.concatenate(
        [np.asarray(ln.get_ydata(), float).ravel() for ax in fig.axes for ln in ax.lines]
    )
    for v in res.table["att"]:
        assert np.isclose(ys, v).any()


@pytest.mark.parametrize("type_", ["simple", "group", "dynamic", "calendar"])
def test_plot_aggregate(type_, res):
    a = aggregate(res, type_, se="bootstrap", replications=199, seed=1)
    ax = a.plot().axes[0]
    assert "Samlet effekt" in ax.get_title()
    if type_ != "simple":
        assert ax.get_xlabel()
        assert "simultant" in ax.get_legend().get_title().get_text()


def test_plot_legend_names_the_band_in_danish(res):
    title = (
        aggregate(res, "dynamic", se="jackknife", band=True).plot().axes[0].get_legend().get_title()
    )
    assert title.get_text() == "95 % simultant interval"
    pointwise = aggregate(res, "dynamic", alpha=0.1).plot().axes[0].get_legend().get_title()
    assert pointwise.get_text() == "90 % punktvis interval"
