"""Disclosure control: no published cell below the threshold, nothing revealed by differencing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botrygt_eval.errors import ConfigError
from botrygt_eval.monitoring.suppression import published_ok, suppress_cells
from botrygt_eval.reference.grid import parent_ids


@st.composite
def cell_tables(draw):
    """100 m or 1 km cells in a 3 x 3 km area with skewed burglary counts (many zeros)."""
    size = draw(st.sampled_from(["100m", "1km"]))
    span = 30 if size == "100m" else 3
    n = draw(st.integers(1, min(40, span * span)))
    flat = draw(st.lists(st.integers(0, span * span - 1), min_size=n, max_size=n, unique=True))
    rows, cols = np.divmod(np.asarray(flat), span)
    scale = 10 if size == "100m" else 1
    ids = [f"{size}_{6170 * scale + r}_{720 * scale + c}" for r, c in zip(rows, cols, strict=True)]
    counts = draw(
        st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 9, 20]), min_size=n, max_size=n)
    )
    hh = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    return pd.DataFrame({"cell_id": ids, "burglaries": counts, "households": hh})


@settings(max_examples=200, deadline=None)
@given(cells=cell_tables(), threshold=st.integers(1, 10))
def test_no_published_cell_below_threshold(cells, threshold):
    out = suppress_cells(cells, threshold, sum_columns=("households",))
    shown = out.loc[~out["suppressed"]]
    assert published_ok(out, threshold)
    assert (shown["burglaries"] >= threshold).all()
    # differencing: the total minus the published cells is 0 or at least the threshold
    # (unless nothing at all is published: then the total itself is all there is)
    hidden_total = cells["burglaries"].sum() - shown["burglaries"].sum()
    assert hidden_total == 0 or hidden_total >= threshold or shown.empty
    # every input cell is accounted for: published itself, or inside a published/hidden pool
    ids = set(cells["cell_id"])
    own = ids & set(out.loc[~out["merged"], "cell_id"])
    pooled = set(out.loc[out["merged"], "cell_id"])
    rest = [c for c in ids - own]
    if rest:
        assert set(parent_ids(rest, "1km")) <= pooled | set(out["cell_id"])
    # pools add up: a published pool holds exactly its small children's burglaries
    for _, row in out.loc[out["merged"] & ~out["suppressed"]].iterrows():
        children = cells.loc[
            (parent_ids(cells["cell_id"], "1km") == row["cell_id"])
            & (cells["burglaries"] < threshold)
        ]
        assert row["burglaries"] == children["burglaries"].sum()
        assert row["households"] == children["households"].sum()


def test_small_100m_cells_are_pooled_into_their_km_and_hidden_if_still_small():
    cells = pd.DataFrame(
        {
            "cell_id": ["100m_61762_7249", "100m_61763_7249", "100m_61764_7248", "100m_61000_7000"],
            "burglaries": [7, 3, 2, 1],
            "households": [10, 20, 30, 40],
        }
    )
    out = suppress_cells(cells, 5).set_index("cell_id")
    assert out.loc["100m_61762_7249", "burglaries"] == 7
    assert out.loc["1km_6100_700", "suppressed"]  # a pool of 1: hidden ...
    # ... and the hidden total (1) would be revealed by differencing, so the smallest
    # published row (the pool 3 + 2 = 5 of 1km_6176_724) is hidden too
    assert out.loc["1km_6176_724", "suppressed"] and out.loc["1km_6176_724", "merged"]
    assert not out.loc["100m_61762_7249", "suppressed"]
    # with a second small cell far away the hidden total is 1 + 4 = 5: no second round
    more = pd.concat(
        [
            cells,
            pd.DataFrame({"cell_id": ["100m_61100_7100"], "burglaries": [4], "households": [5]}),
        ]
    )
    out = suppress_cells(more, 5).set_index("cell_id")
    assert out.loc["1km_6176_724", "burglaries"] == 5 and not out.loc["1km_6176_724", "suppressed"]
    assert out.loc["1km_6176_724", "households"] == 50
    assert out.loc["1km_6100_700", "suppressed"] and out.loc["1km_6110_710", "suppressed"]


def test_threshold_must_be_positive():
    with pytest.raises(ConfigError, match="at least 1"):
        suppress_cells(pd.DataFrame({"cell_id": ["1km_6176_724"], "burglaries": [3]}), 0)
