"""Check and reshape long DiD data once: unit x period arrays for panels, row arrays otherwise.

The rules follow R ``did`` 2.5.1 (``pre_process_did``): rows with missing values
are dropped, unbalanced panels are balanced, units treated in the first period are
dropped, cohorts after the last period count as never treated; every drop is
announced by a named warning with a count.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from botrygt_eval.errors import DidDataError, DroppedUnitsWarning, SmallCohortWarning


@dataclass(frozen=True, eq=False)
class DidData:
    """Arrays every ATT(g,t) cell slices; one IF row per unit (panel) or per row (RC)."""

    panel: bool
    tlist: np.ndarray  # sorted periods
    glist: np.ndarray  # treated cohorts with an ATT(g,t)
    cohort: np.ndarray  # per IF row; 0 = never treated (or not-yet control only)
    cluster: np.ndarray | None  # integer codes per IF row
    agg_w: np.ndarray  # per IF row: weight used for cohort shares in aggregation
    x_names: tuple[str, ...]
    n_units: int
    n_obs: int
    # panel: (n, T) outcome and weights, (T, n, k) design or None (intercept only)
    Y: np.ndarray | None = None
    W: np.ndarray | None = None
    X: np.ndarray | None = None
    # repeated cross-sections: per row
    y: np.ndarray | None = None
    t_idx: np.ndarray | None = None
    w: np.ndarray | None = None
    Xrc: np.ndarray | None = None


def _design(frame: pd.DataFrame, covariates: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Intercept plus covariates; categorical columns become dummies (first level dropped, as R)."""
    cols = [np.ones(len(frame))]
    names = ["(intercept)"]
    for c in covariates:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            levels = sorted(pd.unique(s.astype(str)))
            sv = s.astype(str).to_numpy()
            for lev in levels[1:]:
                cols.append((sv == lev).astype(float))
                names.append(f"{c}[{lev}]")
        else:
            cols.append(s.to_numpy(float))
            names.append(c)
    return np.column_stack(cols), tuple(names)


def prepare(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: list[str],
    weights: str | None,
    cluster: str | None,
    panel: bool,
    control: str,
    anticipation: int,
) -> DidData:
    """Validate and reshape; see the module docstring for the rules."""
    need = [unit, time, cohort, outcome, *covariates]
    need += [c for c in (weights, cluster) if c is not None and c not in need]
    missing = [c for c in dict.fromkeys(need) if c not in data.columns]
    if missing:
        raise DidDataError(f"column(s) {missing} not in the data; available: {list(data.columns)}")
    df = data[list(dict.fromkeys(need))].copy()
    for c in (time, cohort, outcome):
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise DidDataError(f"column {c!r} must be numeric (got {df[c].dtype})")

    bad = df.isna().any(axis=1)
    if bad.any():
        warnings.warn(
            f"dropped {int(bad.sum())} row(s) with missing values in {need} "
            "(as R did); fill or remove them to keep those units",
            DroppedUnitsWarning,
            stacklevel=3,
        )
        df = df[~bad]
    if weights is not None and (df[weights].to_numpy(float) < 0).any():
        raise DidDataError(f"weights column {weights!r} has negative values; weights must be >= 0")

    if panel:
        dup = df.duplicated([unit, time])
        if dup.any():
            ex = df.loc[dup, [unit, time]].iloc[0].tolist()
            raise DidDataError(
                f"{int(dup.sum())} duplicate {unit}-{time} row(s) (e.g. {ex}): a panel has one "
                "row per unit and period; aggregate them or use panel=False"
            )
        nco = df.groupby(unit)[cohort].nunique()
        if (nco > 1).any():
            raise DidDataError(
                f"cohort column {cohort!r} changes within {int((nco > 1).sum())} unit(s) "
                f"(e.g. {nco.index[nco > 1][0]!r}): the cohort is the first treated period "
                "and must be the same in every row of a unit"
            )
        if cluster is not None:
            ncl = df.groupby(unit)[cluster].nunique()
            if (ncl > 1).any():
                raise DidDataError(
                    f"cluster column {cluster!r} changes within a unit: units must be "
                    "nested in clusters"
                )

    tlist = np.sort(df[time].unique())
    # cohorts first treated after the sample window are never treated within it
    late = df[cohort] > tlist[-1] + anticipation
    df.loc[late, cohort] = 0
    g = df[cohort].to_numpy()
    first = (g > 0) & (g <= tlist[0])
    if first.any():
        nu = df.loc[first, unit].nunique()
        warnings.warn(
            f"dropped {nu} unit(s) already treated in the first period {tlist[0]} "
            "(no untreated period to compare with), as R did",
            DroppedUnitsWarning,
            stacklevel=3,
        )
        df = df[~first]

    if panel:
        nt = len(tlist)
        counts = df.groupby(unit)[time].transform("size")
        unb = counts != nt
        if unb.any():
            nu = df.loc[unb, unit].nunique()
            warnings.warn(
                f"dropped {nu} unit(s) not observed in all {nt} periods to balance the panel "
                "(as R did); use panel=False to keep them as repeated cross-sections",
                DroppedUnitsWarning,
                stacklevel=3,
            )
            df = df[~unb]

    if not (df[cohort] == 0).any():
        if control == "never":
            raise DidDataError(
                "there are no never-treated units (cohort 0): use control='notyet' "
                "(--control notyet) to compare with units not yet treated"
            )
        gmax = df[cohort].max()
        df = df[df[time] < gmax - anticipation].copy()
        df.loc[df[cohort] == gmax, cohort] = 0
        warnings.warn(
            f"no never-treated units: periods from {gmax - anticipation} on are dropped and "
            f"cohort {gmax} serves only as a control (as R did)",
            DroppedUnitsWarning,
            stacklevel=3,
        )
        tlist = np.sort(df[time].unique())

    if len(tlist) < 2:
        raise DidDataError("fewer than two periods remain: DiD needs at least two")
    glist = np.sort(df.loc[df[cohort] > 0, cohort].unique())
    glist = glist[glist > tlist[0] + anticipation]
    if len(glist) == 0:
        raise DidDataError("no treated cohort with a pre-treatment period remains")

    df = df.sort_values([unit, time], kind="mergesort")
    X, names = _design(df, covariates)
    if len(names) > 1 and np.isnan(X).any():
        raise DidDataError("covariates contain non-finite values")
    wv = df[weights].to_numpy(float) if weights is not None else np.ones(len(df))
    cl = None
    if cluster is not None:
        cl = pd.factorize(df[cluster])[0]

    if panel:
        nt = len(tlist)
        n = len(df) // nt
        units = df[unit].to_numpy()[::nt]
        coh = df[cohort].to_numpy()[::nt].astype(float)
        sizes = pd.Series(coh[coh > 0]).value_counts()
        Xp = None if len(names) == 1 else X.reshape(n, nt, -1).transpose(1, 0, 2).copy()
        W = wv.reshape(n, nt)
        res = DidData(
            panel=True,
            tlist=tlist,
            glist=glist,
            cohort=coh,
            cluster=None if cl is None else cl[::nt],
            agg_w=W[:, 0].copy(),
            x_names=names,
            n_units=len(units),
            n_obs=len(df),
            Y=df[outcome].to_numpy(float).reshape(n, nt),
            W=W,
            X=Xp,
        )
    else:
        coh = df[cohort].to_numpy(float)
        sizes = df.loc[df[cohort] > 0].groupby(cohort)[unit].nunique()
        res = DidData(
            panel=False,
            tlist=tlist,
            glist=glist,
            cohort=coh,
            cluster=cl,
            agg_w=wv,
            x_names=names,
            n_units=df[unit].nunique(),
            n_obs=len(df),
            y=df[outcome].to_numpy(float),
            t_idx=np.searchsorted(tlist, df[time].to_numpy()),
            w=wv,
            Xrc=X,
        )
    small = sizes[sizes < len(covariates) + 5]
    if len(small):
        warnings.warn(
            "small cohort(s): "
            + ", ".join(f"{g:g} ({k} unit{'s' if k != 1 else ''})" for g, k in small.items())
            + "; their ATT(g,t) and SEs rest on very few units (R did warns likewise)",
            SmallCohortWarning,
            stacklevel=3,
        )
    return res
