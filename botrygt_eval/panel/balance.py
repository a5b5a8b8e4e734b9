"""The balanced part of a panel: the kommuner observed in every period.

Goodman-Bacon's decomposition and the permutation test need a balanced panel; the
kommuner left out are returned so that the report can name them.
"""

from __future__ import annotations

import pandas as pd


def balanced(panel: pd.DataFrame, outcome: str = "log_rate") -> tuple[pd.DataFrame, list[int]]:
    """Keep the kommuner observed in every period (Bacon and permutation tests need it).

    Returns the balanced panel and the dropped kommune codes (to say so in the report).
    """
    ok = panel[outcome].notna() & panel.get("observed", pd.Series(1, index=panel.index)).astype(
        bool
    )
    full = ok.groupby(panel["kommune_kode"]).all()
    dropped = [int(k) for k in full.index[~full]]
    return panel[panel["kommune_kode"].isin(full.index[full])].reset_index(drop=True), dropped
