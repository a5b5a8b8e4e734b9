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
    X: np.ndarray | None = None  # (T or 1 when time-invariant, n, k)
    # repeated cross-sections: per row
    y: np.ndarray | None = None
    t_idx: np.ndarray | None = None
    w: np.ndarray | None = None
    Xrc: np.ndarray | None = None
    row_cohort: np.ndarray | None = None  # per row (RC and unbalanced panels)
    row_unit: np.ndarray | None = None  # unbalanced panel: IF row (unit) of each data row


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


def _column(df: pd.DataFrame, name: str, dtype=None) -> np.ndarray:
    """A column as a contiguous array (pandas may hand out strided views of 2-D blocks)."""
    return np.ascontiguousarray(df[name].to_numpy(dtype))


def _warn(msg: str) -> None:
    warnings.warn(msg, DroppedUnitsWarning, stacklevel=4)


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
    allow_unbalanced: bool = False,
) -> DidData:
    """Validate and reshape; see the module docstring for the rules."""
    need = [unit, time, cohort, outcome, *covariates]
    need += [c for c in (weights, cluster) if c is not None and c not in need]
    need = list(dict.fromkeys(need))
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise DidDataError(f"column(s) {missing} not in the data; available: {list(data.columns)}")
    for c in (time, cohort, outcome):
        if not pd.api.types.is_numeric_dtype(data[c]):
            raise DidDataError(f"column {c!r} must be numeric (got {data[c].dtype})")
    # columns are read one by one (no frame copy): integer and boolean ones cannot be missing
    bad = np.zeros(len(data), bool)
    for c in need:
        values = data[c].to_numpy()
        if values.dtype.kind not in "iub":
            bad |= pd.isna(values)
    df = data
    if bad.any():
        _warn(
            f"dropped {int(bad.sum())} row(s) with missing values in {need} "
            "(as R did); fill or remove them to keep those units"
        )
        df = data.loc[~bad, need]
    wv = _column(df, weights, float) if weights is not None else None
    if wv is not None and (wv < 0).any():
        raise DidDataError(f"weights column {weights!r} has negative values; weights must be >= 0")
    tv = _column(df, time)
    gv = _column(df, cohort, float)
    tlist = _sorted_unique(tv)
    if panel:
        return _prepare_panel(df, tv, gv, wv, tlist, unit, cohort, outcome, covariates, cluster,
                              control, anticipation, allow_unbalanced, time_name=time)  # fmt: skip
    return _prepare_rc(df, tv, gv, wv, tlist, unit, cohort, outcome, covariates, cluster,
                       control, anticipation)  # fmt: skip


def _cohort_rules(g_unit, tlist, control, anticipation):
    """R's cohort rules on per-unit cohorts: late cohorts -> 0, first-period-treated dropped.

    Returns (recoded cohorts, unit keep mask, period keep mask, note for notyet).
    """
    g_unit = np.where(g_unit > tlist[-1] + anticipation, 0.0, g_unit)
    keep = ~((g_unit > 0) & (g_unit <= tlist[0]))
    if (~keep).any():
        _warn(
            f"dropped {int((~keep).sum())} unit(s) already treated in the first period "
            f"{tlist[0]} (no untreated period to compare with), as R did"
        )
    tkeep = np.ones(len(tlist), bool)
    if not (g_unit[keep] == 0).any():
        if control == "never":
            raise DidDataError(
                "there are no never-treated units (cohort 0): use control='notyet' "
                "(--control notyet) to compare with units not yet treated"
            )
        gmax = g_unit[keep].max()
        tkeep = tlist < gmax - anticipation
        g_unit = np.where(g_unit == gmax, 0.0, g_unit)
        _warn(
            f"no never-treated units: periods from {gmax - anticipation:g} on are dropped and "
            f"cohort {gmax:g} serves only as a control (as R did)"
        )
    if tkeep.sum() < 2:
        raise DidDataError("fewer than two periods remain: DiD needs at least two")
    return g_unit, keep, tkeep


def _glist(g_unit, tlist, anticipation, n_covs):
    vals, sizes = np.unique(g_unit[g_unit > 0], return_counts=True)
    glist = vals[vals > tlist[0] + anticipation]
    if len(glist) == 0:
        raise DidDataError("no treated cohort with a pre-treatment period remains")
    small = sizes < n_covs + 5
    if small.any():
        warnings.warn(
            "small cohort(s): "
            + ", ".join(
                f"{g:g} ({k} unit{'s' if k != 1 else ''})"
                for g, k in zip(vals[small], sizes[small], strict=True)
            )  # fmt: skip
            + "; their ATT(g,t) and SEs rest on very few units (R did warns likewise)",
            SmallCohortWarning,
            stacklevel=4,
        )
    return glist


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; small non-negative integers (periods) by counting."""
    if np.can_cast(values.dtype, np.int64) and values.dtype.kind in "iu" and len(values):
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi <= len(values) + 1000:
            return np.nonzero(np.bincount(values, minlength=hi + 1))[0].astype(values.dtype)
    return np.sort(pd.unique(values))


def _stable_order(values: np.ndarray) -> np.ndarray:
    """np.argsort(values, kind="stable") for a column with few distinct values (cohorts):
    ranks by lookup, then numpy's radix sort on the small integer ranks."""
    distinct = np.sort(pd.unique(values))
    if len(distinct) >= 2**16 or np.isnan(distinct).any():
        return np.argsort(values, kind="stable")
    return np.argsort(np.searchsorted(distinct, values).astype(np.uint16), kind="stable")


def _index_type(size: int):
    """int32 for codes and positions below 2**31 (half the memory traffic), else int64."""
    return np.int32 if size < 2**31 else np.int64


def _grid_units(uv: np.ndarray, tv: np.ndarray, tlist: np.ndarray) -> np.ndarray | None:
    """The unit ids when the rows are each unit's periods in order, units in increasing
    order (the usual long layout): the panel is then read by reshaping, with no code
    lookups, and has no duplicate or missing unit-period. None for any other layout."""
    nt = len(tlist)
    if uv.dtype.kind not in "iu" or len(uv) == 0 or len(uv) % nt:
        return None
    u2 = uv.reshape(-1, nt)
    first = u2[:, 0]
    if not (np.all(first[1:] > first[:-1]) and (tv.reshape(-1, nt) == tlist).all()):
        return None
    return first.copy() if (u2 == first[:, None]).all() else None


def _grid_codes(n_units: int, nt: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit and period codes of the rows of a grid read by :func:`_grid_units`."""
    u = np.repeat(np.arange(n_units, dtype=_index_type(n_units)), nt)
    return u, np.tile(np.arange(nt, dtype=np.int32), n_units)


def _differs_within(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray | None:
    """Rows whose value differs from the last row of their group (None if none does);
    compared in chunks so that no gathered copy of the whole column is made."""
    last = np.empty(n_groups, values.dtype)
    last[codes] = values
    step = 1 << 20
    for a in range(0, len(codes), step):
        if (values[a : a + step] != last[codes[a : a + step]]).any():
            return values != last[codes]
    return None


def _codes(values: np.ndarray, uniques: np.ndarray | None = None):
    """Integer codes of ``values`` (positions in sorted ``uniques``), by lookup table for
    integer ids with a compact range, else by hashing/searching."""
    if values.dtype.kind in "iu" and len(values):
        lo, hi = int(values.min()), int(values.max())
        if hi - lo <= 4 * len(values) + 1000:
            off = values - lo
            if uniques is None:
                present = np.zeros(hi - lo + 1, bool)
                present[off] = True
                uniques = np.nonzero(present)[0] + lo
            lut = np.full(hi - lo + 1, -1, _index_type(len(uniques)))
            lut[uniques - lo] = np.arange(len(uniques))
            return lut[off], uniques
    if uniques is None:
        return pd.factorize(values)
    return np.searchsorted(uniques, values), uniques


def _prepare_panel(df, tv, gv, wv, tlist, unit, cohort, outcome, covariates, cluster, control,
                   anticipation, allow_unbalanced=False, time_name="time"):  # fmt: skip
    uv = _column(df, unit)
    nt = len(tlist)
    u_uni = _grid_units(uv, tv, tlist)
    grid = u_uni is not None
    if grid:  # row i is unit i // nt in period i % nt: positions are the codes
        n_u = len(u_uni)
        # per-row codes only where a rarer step needs them (clusters, covariates, drops)
        u_codes, t_codes = _grid_codes(n_u, nt) if cluster or covariates else (None, None)
        g2 = gv.reshape(n_u, nt)
        g_unit = g2[:, -1].copy()
        changed = None if (g2 == g_unit[:, None]).all() else (g2 != g_unit[:, None]).ravel()
    else:
        u_codes, u_uni = _codes(uv)
        n_u = len(u_uni)
        t_codes = _codes(tv, tlist)[0]
        key = u_codes.astype(_index_type(n_u * nt)) * nt + t_codes
        seen = np.zeros(n_u * nt, bool)
        seen[key] = True
        if np.count_nonzero(seen) < len(key):  # some unit-period key occurs twice
            cnt = np.bincount(key, minlength=n_u * nt)
            k = int(np.argmax(cnt > 1))
            raise DidDataError(
                f"{int((cnt > 1).sum())} duplicate {unit}-{time_name} row(s) "
                f"(e.g. {unit}={u_uni[k // nt]!r}, period {tlist[k % nt]!r}): a panel has one "
                "row per unit and period; aggregate them or use panel=False"
            )
        del key, seen
        g_unit = np.empty(n_u)
        g_unit[u_codes] = gv
        changed = _differs_within(u_codes, gv, n_u)
    if changed is not None:
        if u_codes is None:
            u_codes, t_codes = _grid_codes(n_u, nt)
        nbad = len(np.unique(u_codes[changed]))
        raise DidDataError(
            f"cohort column {cohort!r} changes within {nbad} unit(s) "
            f"(e.g. {u_uni[u_codes[changed][0]]!r}): the cohort is the first treated period "
            "and must be the same in every row of a unit"
        )
    cl_unit = None
    if cluster is not None:
        cl_codes = pd.factorize(df[cluster])[0]
        cl_unit = np.empty(n_u, np.int64)
        cl_unit[u_codes] = cl_codes
        if (cl_codes != cl_unit[u_codes]).any():
            raise DidDataError(
                f"cluster column {cluster!r} changes within a unit: units must be nested in clusters"
            )
    g_unit, keep, tkeep = _cohort_rules(g_unit, tlist, control, anticipation)
    if u_codes is None and not (keep.all() and tkeep.all()):
        u_codes, t_codes = _grid_codes(n_u, nt)
    if not tkeep.all():
        t_ok = tkeep[t_codes]
        tlist = tlist[tkeep]
        t_codes = _codes(tv, tlist)[0]
    else:
        t_ok = np.ones(len(tv), bool)
    nt = len(tlist)
    if keep.all() and tkeep.all():
        rows_ok = np.ones(len(tv), bool)
        # no duplicates: every unit has all periods exactly when the rows fill the grid
        unb = np.zeros(n_u, bool) if len(tv) == n_u * nt else keep & (
            np.bincount(u_codes, minlength=n_u) != nt
        )  # fmt: skip
    else:
        rows_ok = t_ok & keep[u_codes]
        per_unit = np.bincount(u_codes[rows_ok], minlength=n_u)
        unb = keep & (per_unit != nt)
    if unb.any() and allow_unbalanced:
        return _unbalanced(df, rows_ok, u_codes, g_unit, keep, cl_unit, wv, tlist, t_codes,
                           outcome, covariates, anticipation)  # fmt: skip
    if unb.any():
        _warn(
            f"dropped {int(unb.sum())} unit(s) not observed in all {nt} periods to balance the "
            "panel (as R did); use allow_unbalanced=True to keep them"
        )
        keep = keep & ~unb
        rows_ok = rows_ok & keep[u_codes]
    # units sorted by cohort (never-treated first) so that cohorts are contiguous blocks
    kept = np.nonzero(keep)[0]
    order = kept[_stable_order(g_unit[kept])]
    n = len(order)
    newpos = np.full(n_u, -1, _index_type(n * nt))
    newpos[order] = np.arange(n)
    all_rows = bool(rows_ok.all())
    r = slice(None) if all_rows else rows_ok
    # each row's place in the (nt, n) arrays: column-major, so a period is contiguous
    if grid and all_rows:
        key_f = (newpos[:, None] + np.arange(nt, dtype=newpos.dtype)[None, :] * n).ravel()
    else:
        key_f = newpos[u_codes[r]]
        key_f += t_codes[r] * key_f.dtype.type(n)

    def scatter_f(values):
        out = np.empty((nt, n))
        out.reshape(-1)[key_f] = values[r]
        return out.T  # (n, nt), Fortran-ordered

    Y = scatter_f(_column(df, outcome, float))
    W = None if wv is None else scatter_f(wv)
    Xp, names = None, ("(intercept)",)
    if covariates:
        sub = df if all_rows else df[rows_ok]
        pos = newpos[u_codes[r]]  # each row's unit (IF row)
        one = np.empty(n, np.int64)
        one[pos] = np.arange(len(pos))  # one row of each unit
        cols = {c: sub[c].to_numpy() for c in covariates}
        if all((v == v[one][pos]).all() for v in cols.values()):
            # time-invariant covariates: the design of one row per unit is all there is
            unit_rows = pd.DataFrame({c: sub[c].iloc[one].reset_index(drop=True) for c in cols})
            Xu, names = _design(unit_rows, covariates)
            Xp = Xu[None]
        else:
            Xr, names = _design(sub, covariates)
            Xp = np.empty((nt, n, Xr.shape[1]))
            Xp.reshape(nt * n, -1)[key_f] = Xr
        if not np.isfinite(Xp).all():
            raise DidDataError("covariates contain non-finite values")
    coh = g_unit[order]
    glist = _glist(coh, tlist, anticipation, len(covariates))
    return DidData(
        panel=True,
        tlist=tlist,
        glist=glist,
        cohort=coh,
        cluster=None if cl_unit is None else pd.factorize(cl_unit[order])[0],
        agg_w=np.ones(n) if W is None else W[:, 0].copy(),
        x_names=names,
        n_units=n,
        n_obs=n * nt,
        Y=Y,
        W=W,
        X=Xp,
    )


def _unbalanced(df, rows_ok, u_codes, g_unit, keep, cl_unit, wv, tlist, t_codes, outcome,
                covariates, anticipation):  # fmt: skip
    """Unbalanced panel kept whole (R's allow_unbalanced_panel): repeated-cross-section
    estimators on the rows, influence functions summed within units."""
    kept = np.nonzero(keep)[0]
    newpos = np.full(len(keep), -1, np.int64)
    newpos[kept] = np.arange(len(kept))
    sub = df[rows_ok]
    ru = newpos[u_codes[rows_ok]]
    tc = t_codes[rows_ok]
    X, names = _design(sub, covariates)
    if not np.isfinite(X).all():
        raise DidDataError("covariates contain non-finite values")
    w = np.ones(len(sub)) if wv is None else wv[rows_ok]
    # the unit's weight in the aggregation: its earliest observed row (R: first row per id)
    first = np.lexsort((tc, ru))
    first = first[np.r_[True, ru[first][1:] != ru[first][:-1]]]
    coh = g_unit[kept]
    return DidData(
        panel=False,
        tlist=tlist,
        glist=_glist(coh, tlist, anticipation, len(covariates)),
        cohort=coh,
        cluster=None if cl_unit is None else pd.factorize(cl_unit[kept])[0],
        agg_w=w[first],
        x_names=names,
        n_units=len(kept),
        n_obs=len(sub),
        y=sub[outcome].to_numpy(float),
        t_idx=tc,
        w=w,
        Xrc=X,
        row_cohort=coh[ru],
        row_unit=ru,
    )


def _prepare_rc(df, tv, gv, wv, tlist, unit, cohort, outcome, covariates, cluster, control,
                anticipation):  # fmt: skip
    """Repeated cross-sections: every row is its own observation (R's .rowid)."""
    g_row, keep_r, tkeep = _cohort_rules(gv.copy(), tlist, control, anticipation)
    rows = keep_r & tkeep[np.searchsorted(tlist, tv)]
    tlist = tlist[tkeep]
    sub = df[rows]
    X, names = _design(sub, covariates)
    if not np.isfinite(X).all():
        raise DidDataError("covariates contain non-finite values")
    coh = g_row[rows]
    glist = _glist(coh, tlist, anticipation, len(covariates))
    w = np.ones(len(sub)) if wv is None else wv[rows]
    return DidData(
        panel=False,
        tlist=tlist,
        glist=glist,
        cohort=coh,
        cluster=None if cluster is None else pd.factorize(sub[cluster])[0],
        agg_w=w,
        x_names=names,
        n_units=sub[unit].nunique(),
        n_obs=len(sub),
        y=sub[outcome].to_numpy(float),
        t_idx=np.searchsorted(tlist, tv[rows]),
        w=w,
        Xrc=X,
        row_cohort=coh,
    )
