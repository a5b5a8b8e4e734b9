"""Margin cells without respondents: drop or collapse them before calibration, and say so.

Real fieldwork leaves holes: a small kommune with no respondents in one year, an age band
nobody in the sample answered for. Calibration cannot reach a population total with no
one to carry it (``MarginsError``), and failing would stop every report. Instead:

- a level of the **area** variable (the kommune) with no respondents is dropped, and every
  other variable's totals are scaled by the share of the population left, so the margins
  still describe one population (the kommune's sex/age mix is taken to be the national
  one; the estimates of that year then cover the other kommuner);
- a level of any other variable is collapsed into its nearest neighbour in the margins'
  order that has respondents (the preceding one on a tie; an empty "80+" joins "65-79"),
  keeping every total.

Each step is returned as a note (year, variable, level, action) for the report.
"""

from __future__ import annotations

import pandas as pd

from botrygt_eval.errors import MarginsError


def fix_empty_cells(
    margins: pd.DataFrame, data: pd.DataFrame, *, area: str = "kommune_kode"
) -> tuple[pd.DataFrame, list[dict]]:
    """Margins (long ``variable, level, total``) without empty cells, and the notes."""
    m = margins.copy()
    m["level"] = m["level"].astype(str)
    notes: list[dict] = []
    for var in list(dict.fromkeys(m["variable"])):
        if var not in data.columns:
            continue
        seen = set(data[var].dropna().astype(str))
        rows = m.index[m["variable"] == var]
        empty = [i for i in rows if m.at[i, "total"] > 0 and m.at[i, "level"] not in seen]
        if not empty:
            continue
        if len(empty) == len(rows):
            raise MarginsError(
                f"no respondent has any level of '{var}' in the margins: check that the "
                "responses carry the register variable with the margins' codes"
            )
        if var == area:
            dropped = m.loc[empty, "total"].sum()
            share = 1 - dropped / m.loc[rows, "total"].sum()
            others = m["variable"] != var
            m.loc[others, "total"] *= share
            for i in empty:
                notes.append(dict(variable=var, level=m.at[i, "level"], action="dropped",
                                  into="", scale=share))  # fmt: skip
            m = m.drop(index=empty)
            continue
        keep = [i for i in rows if i not in empty]
        for i in empty:
            pos = list(rows).index(i)
            near = min(keep, key=lambda j: (abs(list(rows).index(j) - pos), list(rows).index(j)))
            m.at[near, "total"] += m.at[i, "total"]
            notes.append(dict(variable=var, level=m.at[i, "level"], action="collapsed",
                              into=m.at[near, "level"], scale=1.0))  # fmt: skip
        m = m.drop(index=empty)
    return m.reset_index(drop=True), notes
