"""The municipality x period panel that the DiD estimators read.

:func:`build_panel` joins the tidy register frames of ``docs/DATA_FORMATS.md``
(burglaries per kommune and quarter, households, population, the partnership
register) into one row per ``kommune_kode`` x period with counts, rates, the
treatment cohort and event time. :func:`survey_panel` does the same for
municipality-year survey estimates with their standard errors.

Periods are consecutive integers ``period = 1, 2, ...`` over the calendar range
of the burglary data, with the calendar label kept in ``period_label``
(``"2019K1"`` or ``"2019"``). ``cohort`` is the first treated period on that
scale, 0 for never treated (the convention of R's ``did``).

The treatment-timing rule (when a partnership signed on a date starts to count)
is an explicit argument, ``timing``:

* ``"next_period"`` (default): the first full period after the signing date,
  i.e. a partnership signed on 2019-05-14 is first treated in 2019K3 (quarterly)
  or 2020 (annual). The period of signing is a partial, untreated period.
* ``"same_period"``: the period that contains the signing date.
* ``"majority"``: the period that contains the signing date if at least half of
  that period remains after it (counted in days), else the next period.

What happens after a partnership's ``end_date`` is ``after_end``:

* ``"absorbing"`` (default): treatment stays on. This is what staggered-adoption
  estimators (Callaway-Sant'Anna, event studies) assume, and the effect of a
  partnership may outlast the agreement.
* ``"off"``: ``treated`` is 0 after the period containing ``end_date``
  (``cohort`` is still the first treated period). Use for a TWFE with a
  switching treatment; CS estimators then see a non-absorbing treatment and the
  result is not an ATT(g,t) any more.

Both choices are stored in ``panel.attrs["settings"]`` with any notes
(cohorts outside the data window, missing counts) in ``panel.attrs["notes"]``.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError, InputFileError, check_option
from botrygt_eval.reference import kommuner, to_kommune_kode
from botrygt_eval.survey.estimators.table import domain_values

Frequency = Literal["quarter", "year"]
Timing = Literal["next_period", "same_period", "majority"]
AfterEnd = Literal["absorbing", "off"]

FREQUENCIES: tuple[str, ...] = ("quarter", "year")
TIMINGS: tuple[str, ...] = ("next_period", "same_period", "majority")
AFTER_END: tuple[str, ...] = ("absorbing", "off")

#: ``log_rate`` adds this to the count so that quarters with no burglaries keep a finite log.
LOG_OFFSET = 0.5


class PanelWarning(UserWarning):
    """The panel was built, but something in the inputs deserves a look."""


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{what} lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}. "
            "Pass the tidy frame of the loader (see docs/DATA_FORMATS.md)"
        )


def _codes(series: pd.Series) -> pd.Series:
    """Municipality codes as int, accepting codes or names."""
    if pd.api.types.is_integer_dtype(series):
        return series.astype("int64")
    return series.map(to_kommune_kode).astype("int64")


def period_index(year: np.ndarray, quarter: np.ndarray | None, frequency: str) -> np.ndarray:
    """Absolute period number: ``4 * year + quarter - 1`` (quarters) or ``year``."""
    year = np.asarray(year, dtype="int64")
    if frequency == "year":
        return year
    return 4 * year + np.asarray(quarter, dtype="int64") - 1


def period_label(absolute: np.ndarray, frequency: str) -> list[str]:
    """Calendar label of absolute period numbers: ``2019K1`` or ``2019``."""
    absolute = np.asarray(absolute, dtype="int64")
    if frequency == "year":
        return [str(a) for a in absolute]
    return [f"{a // 4}K{a % 4 + 1}" for a in absolute]


def first_treated_period(
    signed: pd.Series, *, frequency: Frequency = "quarter", timing: Timing = "next_period"
) -> np.ndarray:
    """Absolute first treated period of each signing date under the timing rule."""
    check_option("frequency", frequency, FREQUENCIES)
    check_option("timing", timing, TIMINGS)
    d = pd.to_datetime(signed)
    if frequency == "year":
        start = pd.to_datetime(d.dt.year.astype(str) + "-01-01")
        nxt = pd.to_datetime((d.dt.year + 1).astype(str) + "-01-01")
        containing = d.dt.year.to_numpy("int64")
    else:
        per = d.dt.to_period("Q")
        start = per.dt.start_time
        nxt = (per + 1).dt.start_time
        containing = (4 * d.dt.year + d.dt.quarter - 1).to_numpy("int64")
    if timing == "same_period":
        return containing
    if timing == "next_period":
        return containing + 1
    remaining = (nxt - d).dt.days.to_numpy()
    length = (nxt - start).dt.days.to_numpy()
    return np.where(remaining >= 0.5 * length, containing, containing + 1)


def _containing_period(dates: pd.Series, frequency: str) -> np.ndarray:
    d = pd.to_datetime(dates)
    if frequency == "year":
        return d.dt.year.to_numpy("float64")
    return (4 * d.dt.year + d.dt.quarter - 1).to_numpy("float64")


def _aggregate_counts(burglaries: pd.DataFrame, frequency: str) -> pd.DataFrame:
    """Counts per kommune and absolute period; a year with a missing quarter is missing."""
    b = burglaries.copy()
    b["kommune_kode"] = _codes(b["kommune_kode"])
    b["burglaries"] = pd.to_numeric(b["burglaries"], errors="coerce").astype(
        "float64"
    )  # ".." -> NaN
    if "offence_code" in b.columns:
        b = b[b["offence_code"].astype(str).str.startswith("1320")]
    if frequency == "quarter":
        _require(b, ("quarter",), "burglaries_quarterly")
        b["abs_period"] = period_index(b["year"], b["quarter"], "quarter")
        dup = b.duplicated(["kommune_kode", "abs_period"], keep=False)
        if dup.any():
            raise InputFileError(
                f"burglaries_quarterly has {int(dup.sum())} rows with a repeated kommune_kode x "
                "quarter; remove the duplicates (or the totals) before building the panel"
            )
        return b[["kommune_kode", "abs_period", "burglaries"]]
    if "quarter" not in b.columns:  # already annual
        b["abs_period"] = b["year"].astype("int64")
        return b[["kommune_kode", "abs_period", "burglaries"]]
    g = b.groupby(["kommune_kode", "year"])["burglaries"]
    out = pd.DataFrame(
        {"burglaries": g.sum(min_count=1), "n_obs": g.count(), "n_rows": g.size()}
    ).reset_index()
    out.loc[(out["n_obs"] < 4) | (out["n_rows"] < 4), "burglaries"] = np.nan
    out["abs_period"] = out["year"].astype("int64")
    return out[["kommune_kode", "abs_period", "burglaries"]]


def _annual(frame: pd.DataFrame, value: str, what: str) -> pd.DataFrame:
    """One value per kommune and year; sums over sex/age, takes the first quarter of a year."""
    _require(frame, ("kommune_kode", "year", value), what)
    f = frame.copy()
    f["kommune_kode"] = _codes(f["kommune_kode"])
    f[value] = pd.to_numeric(f[value], errors="coerce").astype("float64")
    if "quarter" in f.columns:
        first = f.groupby("year")["quarter"].transform("min")
        f = f[f["quarter"] == first]
    return f.groupby(["kommune_kode", "year"])[value].sum(min_count=1).reset_index()


def cohorts_from_partnerships(
    partnerships: pd.DataFrame,
    *,
    frequency: Frequency = "quarter",
    timing: Timing = "next_period",
) -> pd.DataFrame:
    """First treated absolute period and signing date per kommune (the earliest partnership)."""
    _require(partnerships, ("kommune_kode", "signed_date"), "partnerships")
    p = partnerships.copy()
    p["kommune_kode"] = _codes(p["kommune_kode"])
    p["signed_date"] = pd.to_datetime(p["signed_date"])
    if p["signed_date"].isna().any():
        raise InputFileError(
            "partnerships has rows without signed_date; every partnership needs its signing date"
        )
    p["first_abs"] = first_treated_period(p["signed_date"], frequency=frequency, timing=timing)
    p = p.sort_values(["kommune_kode", "signed_date"])
    return p.groupby("kommune_kode", as_index=False).agg(
        first_abs=("first_abs", "first"), signed_date=("signed_date", "first")
    )


def _treated_off(
    panel: pd.DataFrame, partnerships: pd.DataFrame, frequency: str, timing: str
) -> np.ndarray:
    """Treated = inside any partnership's [first treated, period of end_date] window."""
    p = partnerships.copy()
    p["kommune_kode"] = _codes(p["kommune_kode"])
    p["first_abs"] = first_treated_period(p["signed_date"], frequency=frequency, timing=timing)
    end = p["end_date"] if "end_date" in p.columns else pd.Series(pd.NaT, index=p.index)
    end = pd.to_datetime(end.replace("", np.nan))
    p["last_abs"] = np.where(end.isna(), np.inf, _containing_period(end, frequency))
    m = (
        panel[["kommune_kode", "abs_period"]]
        .reset_index()
        .merge(p[["kommune_kode", "first_abs", "last_abs"]], on="kommune_kode", how="inner")
    )
    inside = (m["abs_period"] >= m["first_abs"]) & (m["abs_period"] <= m["last_abs"])
    on = m.loc[inside, "index"].unique()
    treated = np.zeros(len(panel), dtype="int64")
    treated[panel.index.get_indexer(on)] = 1
    return treated


def build_panel(
    burglaries_quarterly: pd.DataFrame,
    households: pd.DataFrame,
    population: pd.DataFrame | None = None,
    partnerships: pd.DataFrame | None = None,
    *,
    frequency: Frequency = "quarter",
    timing: Timing = "next_period",
    after_end: AfterEnd = "absorbing",
    start: int | None = None,
    end: int | None = None,
) -> pd.DataFrame:
    """Municipality x period panel with counts, rates, cohort, treatment and event time.

    Parameters are the tidy loader frames: ``burglaries_quarterly``
    (``kommune_kode, year, quarter, burglaries``; ``NaN`` or ``".."`` for a missing
    count), ``households`` (``kommune_kode, year, households``), ``population``
    (``kommune_kode, year[, quarter, sex, age], population``; summed, first quarter
    of each year) and ``partnerships`` (``kommune_kode, signed_date[, end_date]``).
    ``start``/``end`` restrict the calendar years.

    Every kommune present in the burglary data gets every period of the window;
    a missing count stays ``NaN`` (``observed`` = 0) rather than being dropped, so
    the panel is explicit about being unbalanced. An annual count is missing
    when any of its four quarters is.

    Columns: ``kommune_kode, kommune, politikreds, region_kode, region, year,
    [quarter,] period, period_label, burglaries, observed, households,
    [population,] rate, log_rate, cohort, cohort_label, signed_date, treated,
    ever_treated, event_time``. ``rate`` is burglaries per 1,000 households;
    ``log_rate`` is ``log((burglaries + 0.5) / households * 1000)``.
    ``event_time`` = ``period - cohort`` (``NaN`` for never treated).
    """
    check_option("frequency", frequency, FREQUENCIES)
    check_option("timing", timing, TIMINGS)
    check_option("after_end", after_end, AFTER_END)
    _require(burglaries_quarterly, ("kommune_kode", "year", "burglaries"), "burglaries_quarterly")
    counts = _aggregate_counts(burglaries_quarterly, frequency)
    year_of = counts["abs_period"] // 4 if frequency == "quarter" else counts["abs_period"]
    in_window = pd.Series(True, index=counts.index)
    if start is not None:
        in_window &= year_of >= start
    if end is not None:
        in_window &= year_of <= end
    counts = counts[in_window]
    if counts.empty:
        raise InputFileError(
            "burglaries_quarterly has no rows in the chosen years; check start/end"
        )
    notes: list[str] = []

    lo, hi = int(counts["abs_period"].min()), int(counts["abs_period"].max())
    units = np.sort(counts["kommune_kode"].unique())
    grid = pd.DataFrame(
        {
            "kommune_kode": np.repeat(units, hi - lo + 1),
            "abs_period": np.tile(np.arange(lo, hi + 1), len(units)),
        }
    )
    panel = grid.merge(counts, on=["kommune_kode", "abs_period"], how="left")
    panel["observed"] = panel["burglaries"].notna().astype("int64")
    n_missing = int((panel["observed"] == 0).sum())
    if n_missing:
        notes.append(f"{n_missing} kommune x period counts are missing (unbalanced panel)")
    if frequency == "quarter":
        panel["year"] = panel["abs_period"] // 4
        panel["quarter"] = panel["abs_period"] % 4 + 1
    else:
        panel["year"] = panel["abs_period"]
    panel["period"] = panel["abs_period"] - lo + 1
    panel["period_label"] = period_label(panel["abs_period"].to_numpy(), frequency)

    hh = _annual(households, "households", "households")
    panel = panel.merge(hh, on=["kommune_kode", "year"], how="left")
    if population is not None:
        pop = _annual(population, "population", "population")
        panel = panel.merge(pop, on=["kommune_kode", "year"], how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        panel["rate"] = panel["burglaries"] / panel["households"] * 1000.0
        panel["log_rate"] = np.log(
            (panel["burglaries"] + LOG_OFFSET) / panel["households"] * 1000.0
        )
    n_no_hh = int(panel["households"].isna().sum())
    if n_no_hh:
        notes.append(f"{n_no_hh} rows have no households figure, so no rate")

    # Treatment.
    panel["cohort"] = 0
    panel["signed_date"] = pd.NaT
    if partnerships is not None and len(partnerships):
        coh = cohorts_from_partnerships(partnerships, frequency=frequency, timing=timing)
        unknown = sorted(set(coh["kommune_kode"]) - set(units))
        if unknown:
            notes.append(f"partnerships for kommuner without burglary data ignored: {unknown}")
        coh["cohort"] = (coh["first_abs"] - lo + 1).astype("int64")
        before = coh["cohort"] <= 1
        if before.any():
            msg = (
                f"{int(before.sum())} kommune(r) were treated from the first period of the data "
                f"({sorted(coh.loc[before, 'kommune_kode'].tolist())}); their cohort is set to 1 "
                "(always treated: no pre-period, Callaway-Sant'Anna drops them)"
            )
            notes.append(msg)
            warnings.warn(msg, PanelWarning, stacklevel=2)
            coh.loc[before, "cohort"] = 1
        after = coh["cohort"] > hi - lo + 1
        if after.any():
            notes.append(
                f"{int(after.sum())} kommune(r) first treated after the last period are coded "
                "never treated (cohort 0) in this window"
            )
            coh.loc[after, "cohort"] = 0
        panel = panel.drop(columns=["cohort", "signed_date"]).merge(
            coh[["kommune_kode", "cohort", "signed_date"]], on="kommune_kode", how="left"
        )
        panel["cohort"] = panel["cohort"].fillna(0).astype("int64")
    panel["ever_treated"] = (panel["cohort"] > 0).astype("int64")
    if after_end == "off" and partnerships is not None and len(partnerships):
        panel["treated"] = _treated_off(panel, partnerships, frequency, timing)
        panel.loc[panel["cohort"] == 0, "treated"] = 0
    else:
        panel["treated"] = ((panel["cohort"] > 0) & (panel["period"] >= panel["cohort"])).astype(
            "int64"
        )
    panel["event_time"] = np.where(panel["cohort"] > 0, panel["period"] - panel["cohort"], np.nan)
    panel["cohort_label"] = None
    has = panel["cohort"] > 0
    panel.loc[has, "cohort_label"] = period_label(
        (panel.loc[has, "cohort"] + lo - 1).to_numpy(), frequency
    )

    ref = kommuner()[["kommune_kode", "kommune", "politikreds", "region_kode", "region"]]
    panel = panel.merge(ref, on="kommune_kode", how="left")
    cols = ["kommune_kode", "kommune", "politikreds", "region_kode", "region", "year"]
    cols += ["quarter"] if frequency == "quarter" else []
    cols += ["period", "period_label", "burglaries", "observed", "households"]
    cols += ["population"] if population is not None else []
    cols += ["rate", "log_rate", "cohort", "cohort_label", "signed_date", "treated",
             "ever_treated", "event_time"]  # fmt: skip
    panel = panel[cols].sort_values(["kommune_kode", "period"]).reset_index(drop=True)
    panel.attrs["settings"] = {
        "frequency": frequency,
        "timing": timing,
        "after_end": after_end,
        "first_period": period_label(np.array([lo]), frequency)[0],
        "last_period": period_label(np.array([hi]), frequency)[0],
        "log_offset": LOG_OFFSET,
    }
    panel.attrs["notes"] = notes
    return panel


def survey_panel(
    estimates: pd.DataFrame | list[dict],
    *,
    year: int | None = None,
    partnerships: pd.DataFrame | None = None,
    timing: Timing = "next_period",
    wide: bool = False,
) -> pd.DataFrame:
    """Municipality x year frame of survey estimates with their standard errors.

    Accepts either a tidy frame ``kommune_kode, year, variable, estimate, se[, n]``
    or the estimate table of ``botrygt-eval estimate --by kommune_kode``
    (``variable, domain, estimate, se, ci_low, ci_high, n, deff``), where
    ``domain`` holds the municipality (a code, a name or ``kommune_kode=101``);
    rows with an empty domain (the whole population) are dropped, and ``year``
    comes from a ``year`` column or the ``year`` argument. Suppressed cells (small
    domains, estimate blanked) stay as rows with a missing estimate; the estimators
    drop them.

    Returns long ``kommune_kode, year, variable, estimate, se, variance, n`` (plus
    ``cohort`` as a calendar year, ``treated`` and ``event_time`` when ``partnerships``
    is given; treatment absorbing), or with ``wide=True`` one row per kommune-year
    with columns ``<variable>`` and ``<variable>_se``. For a TWFE on survey
    estimates, ``weights = 1 / variance`` gives the precision-weighted regression.
    """
    check_option("timing", timing, TIMINGS)
    e = pd.DataFrame(estimates).copy()  # also the JSON list of ``estimate --json``
    if "kommune_kode" not in e.columns:
        _require(e, ("domain",), "estimates")
        e = e[e["domain"].notna() & (e["domain"].astype(str).str.strip() != "")]
        e["kommune_kode"] = domain_values(e["domain"], "kommune_kode").map(to_kommune_kode)
    if "year" not in e.columns:
        if year is None:
            raise ConfigError(
                "estimates has no year column; pass year=YYYY (the survey year of this table)"
            )
        e["year"] = year
    _require(e, ("kommune_kode", "year", "variable", "estimate", "se"), "estimates")
    e["kommune_kode"] = _codes(e["kommune_kode"])
    e["year"] = e["year"].astype("int64")
    if "n" not in e.columns:
        e["n"] = np.nan
    dup = e.duplicated(["kommune_kode", "year", "variable"], keep=False)
    if dup.any():
        raise InputFileError(
            f"estimates has {int(dup.sum())} rows with a repeated kommune_kode x year x variable; "
            "keep one estimate per municipality, year and variable"
        )
    out = e[["kommune_kode", "year", "variable", "estimate", "se", "n"]].copy()
    out["variance"] = out["se"] ** 2
    out = out[["kommune_kode", "year", "variable", "estimate", "se", "variance", "n"]]
    if partnerships is not None:
        coh = cohorts_from_partnerships(partnerships, frequency="year", timing=timing)
        out = out.merge(
            coh[["kommune_kode", "first_abs"]].rename(columns={"first_abs": "cohort"}),
            on="kommune_kode",
            how="left",
        )
        out["cohort"] = out["cohort"].fillna(0).astype("int64")
        out["treated"] = ((out["cohort"] > 0) & (out["year"] >= out["cohort"])).astype("int64")
        out["event_time"] = np.where(out["cohort"] > 0, out["year"] - out["cohort"], np.nan)
    out = out.sort_values(["variable", "kommune_kode", "year"]).reset_index(drop=True)
    if not wide:
        return out
    keys = ["kommune_kode", "year"]
    keys += ["cohort", "treated", "event_time"] if partnerships is not None else []
    est = out.pivot_table(index=keys, columns="variable", values="estimate", aggfunc="first")
    se = out.pivot_table(index=keys, columns="variable", values="se", aggfunc="first")
    se.columns = [f"{c}_se" for c in se.columns]
    return pd.concat([est, se], axis=1).reset_index().rename_axis(columns=None)


def panel_from_workspace(workspace, **kwargs) -> pd.DataFrame:
    """:func:`build_panel` from a loaded :class:`botrygt_eval.io.workspace.Workspace`.

    Keyword arguments (``frequency``, ``timing``, ``after_end``, ``start``, ``end``)
    are passed on. The population is used when the workspace has FOLK1A rows.
    """
    pop = workspace.population if len(workspace.population) else None
    return build_panel(
        workspace.burglaries_quarterly, workspace.households, pop, workspace.partnerships,
        **kwargs,
    )  # fmt: skip
