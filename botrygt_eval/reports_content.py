"""Tables and charts the report templates present (aggregates only, Danish or English).

The notebooks in ``notebooks/`` stay thin: they call these functions on the prepared
inputs of :func:`prepare_inputs` (CSV files, so 98 municipality reports do not each
re-run the survey weighting) and display what comes back. Every survey cell shown
rests on at least ``min_cell`` respondents; smaller cells are blanked and flagged.
Display text comes from :mod:`botrygt_eval.report_text` in the report's ``lang``
(``"da"`` by default); column names of the returned frames stay as identifiers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval import SIMULATED_BANNER
from botrygt_eval.privacy.guard import check_tree, guarded_to_csv
from botrygt_eval.reference import kommune_name, kommuner
from botrygt_eval.report_text import check_lang, label, labels, num, percent, t

#: Danish labels of the codes (docs/DATA_FORMATS.md); other languages: ``labels(group, lang)``.
OUTCOME_LABELS = labels("outcome", "da")
ACTIVITY_LABELS = labels("activity", "da")
EFFECT_OUTCOMES = labels("effect_outcome", "da")
ESTIMATOR_LABELS = labels("estimator", "da")
BACON_TYPES = labels("bacon", "da")
SHARES = ("fear_burglary", "unsafe_home", "nabohjaelper", "victim_burglary")


# --------------------------------------------------------------------------- inputs
def is_simulated(data_dir: str | Path) -> bool:
    """A workspace is simulated when it carries ``truth.json`` or its README says so."""
    root = Path(data_dir)
    readme = root / "README.md"
    if (root / "truth.json").exists():
        return True
    return readme.exists() and "SIMULEREDE DATA" in readme.read_text(encoding="utf-8")


def prepare_inputs(
    data_dir: str | Path,
    cache_dir: str | Path,
    *,
    survey_csv: str | Path | None = None,
    effects_csv: str | Path | None = None,
    min_cell: int = 10,
) -> dict[str, Path]:
    """Load the workspace once and write the aggregates every report reads.

    Writes ``survey_estimates.csv`` (or copies ``survey_csv``), ``panel_quarter.csv``,
    ``panel_year.csv``, ``activities.csv``, ``partnerships.csv``, ``nabohjaelp.csv`` and
    ``partnership_effects.csv`` (only when ``effects_csv`` is given; the national
    report estimates the effects itself otherwise). Returns the paths by name.
    Reuses the folder when ``inputs.json`` records the same workspace hashes and inputs.
    """
    from botrygt_eval.evaluation import burglary_panel
    from botrygt_eval.io.workspace import load_workspace
    from botrygt_eval.reports import input_hashes, sha256

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    paths = {name: cache / f"{name}.csv" for name in
             ("survey_estimates", "panel_quarter", "panel_year", "activities", "partnerships",
              "nabohjaelp")}  # fmt: skip
    given = {k: sha256(Path(v)) for k, v in (("survey", survey_csv), ("effects", effects_csv))
             if v is not None and Path(v).exists()}  # fmt: skip
    stamp = {"inputs": input_hashes(data_dir), "given": given, "min_cell": min_cell}
    stamp_path = cache / "inputs.json"
    if stamp_path.exists() and json.loads(stamp_path.read_text(encoding="utf-8")) == stamp:
        if "effects" in given:
            paths["partnership_effects"] = cache / "partnership_effects.csv"
        if all(p.exists() for p in paths.values()):
            return paths  # unchanged workspace: reuse (resumable batches)
    stamp_path.unlink(missing_ok=True)
    (cache / "partnership_effects.csv").unlink(missing_ok=True)
    try:
        ws = load_workspace(data_dir, quarantine_dir=cache / "quarantine")
    finally:  # quarantined lines must not carry CPR numbers, even when a later file fails
        check_tree(cache / "quarantine")
    if survey_csv is not None and Path(survey_csv).exists():
        est = pd.read_csv(survey_csv)
    else:
        from botrygt_eval.survey_pipeline import survey_estimates

        est = survey_estimates(ws, min_cell=min_cell)[0]
    guarded_to_csv(est.drop(columns=["data_source"], errors="ignore"), paths["survey_estimates"],
                   index=False)  # fmt: skip
    guarded_to_csv(burglary_panel(ws, "quarter"), paths["panel_quarter"], index=False)
    guarded_to_csv(burglary_panel(ws, "year"), paths["panel_year"], index=False)
    guarded_to_csv(ws.activities, paths["activities"], index=False)
    guarded_to_csv(ws.partnerships, paths["partnerships"], index=False)
    guarded_to_csv(ws.nabohjaelp, paths["nabohjaelp"], index=False)
    if effects_csv is not None and Path(effects_csv).exists():
        paths["partnership_effects"] = cache / "partnership_effects.csv"
        guarded_to_csv(pd.read_csv(effects_csv), paths["partnership_effects"], index=False)
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return paths


def read_inputs(cache_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The prepared CSVs of :func:`prepare_inputs` as frames, keyed by name."""
    cache = Path(cache_dir)
    return {p.stem: pd.read_csv(p, parse_dates=["signed_date"] if p.stem == "partnerships" else None)
            for p in sorted(cache.glob("*.csv"))}  # fmt: skip


# --------------------------------------------------------------------------- survey
def publishable(estimates: pd.DataFrame, min_cell: int = 10) -> pd.DataFrame:
    """Blank every cell with fewer than ``min_cell`` respondents (or flagged suppressed).

    The rows stay (so a reader sees the cell exists) with estimate, se and interval
    missing and ``suppressed`` True.
    """
    out = estimates.copy()
    small = out["n"].fillna(0).lt(min_cell)
    if "suppressed" in out:
        small |= out["suppressed"].fillna(False).astype(bool)
    out.loc[small, [c for c in ("estimate", "se", "ci_low", "ci_high", "deff") if c in out]] = (
        np.nan
    )
    out["suppressed"] = small
    return out


def survey_table(estimates: pd.DataFrame, year: int, kommune_kode: int | None = None,
                 min_cell: int = 10, lang: str = "da") -> pd.DataFrame:  # fmt: skip
    """One year's survey results for the nation (``None``) or one kommune, labelled in ``lang``."""
    est = publishable(estimates, min_cell)
    sel = (
        est["kommune_kode"].isna() if kommune_kode is None else est["kommune_kode"].eq(kommune_kode)
    )
    d = est[sel & est["year"].eq(year) & est["variable"].isin(OUTCOME_LABELS)].copy()
    scale = np.where(d["variable"].isin(SHARES), 100.0, 1.0)
    out = pd.DataFrame({
        "variable": d["variable"].to_numpy(),
        "maal": d["variable"].map(labels("outcome", lang)).to_numpy(),
        "enhed": np.where(d["variable"].isin(SHARES), t("unit.share", lang), t("unit.tips", lang)),
        "estimate": (d["estimate"] * scale).round(1).to_numpy(),
        "ci_low": (d["ci_low"] * scale).round(1).to_numpy(),
        "ci_high": (d["ci_high"] * scale).round(1).to_numpy(),
        "n": d["n"].astype("Int64").to_numpy(),
        "suppressed": d["suppressed"].to_numpy(),
    })  # fmt: skip
    return out.reset_index(drop=True)


def district_survey(estimates: pd.DataFrame, kommune_kode: int, variable: str, year: int,
                    min_cell: int = 10, lang: str = "da") -> pd.DataFrame:  # fmt: skip
    """One outcome in every kommune of ``kommune_kode``'s police district, plus the nation."""
    ref = kommuner()
    district = ref.loc[ref["kommune_kode"].eq(kommune_kode), "politikreds"].iloc[0]
    codes = ref.loc[ref["politikreds"].eq(district), "kommune_kode"]
    est = publishable(estimates, min_cell)
    d = est[est["variable"].eq(variable) & est["year"].eq(year)]
    local = d[d["kommune_kode"].isin(codes)].copy()
    local["enhed"] = local["kommune_kode"].astype(int).map(kommune_name)
    nat = d[d["kommune_kode"].isna()].assign(enhed=t("common.whole_country", lang))
    out = pd.concat([local, nat], ignore_index=True)
    out["valgt"] = out["kommune_kode"].eq(kommune_kode).fillna(False).astype(bool)
    out["landet"] = out["kommune_kode"].isna()
    out.attrs["politikreds"] = district
    keep = ["enhed", "kommune_kode", "estimate", "ci_low", "ci_high", "n", "suppressed", "valgt",
            "landet"]  # fmt: skip
    return out[keep]


# --------------------------------------------------------------------------- burglary
def burglary_trends(panel_year: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """Burglaries per 1,000 households by year: partnership kommuner vs the others."""
    d = panel_year.assign(gruppe=np.where(panel_year["ever_treated"].astype(bool),
                                          t("group.partnership", lang), t("group.other", lang)))  # fmt: skip
    g = d.groupby(["year", "gruppe"], as_index=False).agg(
        burglaries=("burglaries", "sum"), households=("households", "sum"),
        n_kommuner=("kommune_kode", "nunique"))  # fmt: skip
    g["rate"] = 1000 * g["burglaries"] / g["households"]
    return g


def similar_kommuner(panel_year: pd.DataFrame, kommune_kode: int, k: int = 5) -> list[int]:
    """The ``k`` kommuner closest in households (log scale) in the first year, without it."""
    first = panel_year[panel_year["year"].eq(panel_year["year"].min())]
    size = np.log(first.set_index("kommune_kode")["households"])
    dist = (size - size.loc[kommune_kode]).abs().drop(kommune_kode).sort_values(kind="stable")
    return [int(c) for c in dist.index[:k]]


def kommune_burglary(panel_year: pd.DataFrame, kommune_kode: int, lang: str = "da") -> pd.DataFrame:
    """Rate per 1,000 households by year: the kommune, its police district, similar, nation."""
    ref = kommuner().set_index("kommune_kode")
    district = ref.loc[kommune_kode, "politikreds"]
    groups = {
        kommune_name(kommune_kode): [kommune_kode],
        t("group.district_rest", lang, district=district): [
            int(c) for c in ref.index[ref["politikreds"].eq(district)] if c != kommune_kode],
        t("group.similar", lang): similar_kommuner(panel_year, kommune_kode),
        t("common.whole_country", lang): [int(c) for c in panel_year["kommune_kode"].unique()],
    }  # fmt: skip
    rows = []
    for name, codes in groups.items():
        d = panel_year[panel_year["kommune_kode"].isin(codes)]
        g = d.groupby("year", as_index=False)[["burglaries", "households"]].sum(min_count=1)
        g["rate"] = 1000 * g["burglaries"] / g["households"]
        rows.append(g.assign(enhed=name, n_kommuner=len(codes)))
    out = pd.concat(rows, ignore_index=True)
    out.attrs["similar"] = groups[t("group.similar", lang)]
    return out[["enhed", "year", "burglaries", "households", "rate", "n_kommuner"]]


# --------------------------------------------------------------------------- targets
def targets_progress(partnerships: pd.DataFrame, panel_year: pd.DataFrame,
                     nabohjaelp: pd.DataFrame, estimates: pd.DataFrame, year: int,
                     min_cell: int = 10) -> pd.DataFrame:  # fmt: skip
    """Each partnership's targets against the latest data up to ``year``.

    Burglary: change in the rate per 1,000 households from the baseline year to
    ``year`` (or the last year with data) against ``burglary_target_pct``; Nabohjælp:
    members against ``nabohjaelp_target``; fear: the weighted share worried against
    ``fear_target_pct`` (missing when the cell is suppressed).
    """
    rate = panel_year.set_index(["kommune_kode", "year"])["rate"]
    members = nabohjaelp.set_index(["kommune_kode", "year"])["members"]
    est = publishable(estimates, min_cell)
    fear = est[est["variable"].eq("fear_burglary") & est["kommune_kode"].notna()]
    fear = fear.set_index([fear["kommune_kode"].astype(int), "year"])
    rows = []
    for p in partnerships.itertuples(index=False):  # one row per partnership (<= 98)
        k = int(p.kommune_kode)
        years = [
            y for (kk, y) in rate.index if kk == k and y <= year and np.isfinite(rate[(kk, y)])
        ]
        last = max(years) if years else np.nan
        base = rate.get((k, int(p.baseline_year)), np.nan)
        now = rate.get((k, last), np.nan) if years else np.nan
        change = 100 * (now / base - 1) if base and np.isfinite(base) else np.nan
        mem_years = [y for (kk, y) in members.index if kk == k and y <= year]
        mem = members.get((k, max(mem_years)), np.nan) if mem_years else np.nan
        f = fear["estimate"].get((k, year), np.nan) if (k, year) in fear.index else np.nan
        f_n = fear["n"].get((k, year), np.nan) if (k, year) in fear.index else np.nan
        rows.append({
            "kommune_kode": k, "kommune": kommune_name(k),
            "underskrevet": pd.Timestamp(p.signed_date).date().isoformat(),
            "basisaar": int(p.baseline_year), "seneste_aar": last,
            "indbrud_basis": round(base, 2), "indbrud_seneste": round(now, 2),
            "indbrud_aendring_pct": round(change, 1), "indbrud_maal_pct": p.burglary_target_pct,
            "indbrud_maal_naaet": bool(change <= p.burglary_target_pct) if np.isfinite(change) else None,
            "nabohjaelp_medlemmer": mem, "nabohjaelp_maal": p.nabohjaelp_target,
            "nabohjaelp_maal_naaet": bool(mem >= p.nabohjaelp_target) if np.isfinite(mem) and pd.notna(p.nabohjaelp_target) else None,
            "bekymrede_pct": round(100 * f, 1) if np.isfinite(f) else np.nan, "bekymrede_n": f_n,
            "bekymrede_maal_pct": p.fear_target_pct,
            "bekymrede_maal_naaet": bool(100 * f <= p.fear_target_pct) if np.isfinite(f) and pd.notna(p.fear_target_pct) else None,
        })  # fmt: skip
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- activities
def _sum_known(s: pd.Series) -> float:
    """Sum of the reported values; missing (not 0) when none was reported."""
    return s.sum(min_count=1)


def activity_summary(activities: pd.DataFrame, kommune_kode: int | None = None,
                     lang: str = "da") -> pd.DataFrame:  # fmt: skip
    """Count, reach and cost of activities by type and start year (aggregates only).

    ``n_reach``/``n_cost`` say how many activities reported reach/cost: the sums
    cover only those.
    """
    a = (
        activities
        if kommune_kode is None
        else activities[activities["kommune_kode"].eq(kommune_kode)]
    )
    a = a.assign(year=pd.to_datetime(a["start_date"]).dt.year)
    g = a.groupby(["activity_type", "year"], as_index=False).agg(
        antal=("activity_id", "count"), kommuner=("kommune_kode", "nunique"),
        reach=("reach", _sum_known), n_reach=("reach", "count"),
        cost_dkk=("cost_dkk", _sum_known), n_cost=("cost_dkk", "count"))  # fmt: skip
    g.insert(1, "aktivitet",
             g["activity_type"].map(labels("activity", lang)).fillna(g["activity_type"]))  # fmt: skip
    return g


def effects_table(effects: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """The DiD table with outcome names in ``lang`` and the effect as % change (log outcomes)."""
    out = effects.copy()
    out["maal"] = out["outcome"].map(labels("effect_outcome", lang)).fillna(out["outcome"])
    log = out["scale"].eq("log")
    for c in ("estimate", "ci_low", "ci_high"):
        out[f"{c}_pct"] = np.where(log, 100 * (np.exp(out[c]) - 1), 100 * out[c])
    out["enhed"] = np.where(log, t("unit.pct_change", lang), t("unit.pp", lang))
    out["metode"] = out["estimator"].map(labels("estimator", lang)).fillna(out["estimator"])
    return out


def activity_totals(activities: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """Totals by activity type over all years, with cost per person reached.

    ``kr_pr_naaet`` uses only the activities that report both cost and reach.
    """
    s = activity_summary(activities, lang=lang)
    g = s.groupby(["activity_type", "aktivitet"], as_index=False)[
        ["antal", "reach", "n_reach", "cost_dkk", "n_cost"]].sum(min_count=1)  # fmt: skip
    both = activities[activities["reach"].notna() & activities["cost_dkk"].notna()]
    both = both.groupby("activity_type")[["cost_dkk", "reach"]].sum()  # same activities in both
    per = both["cost_dkk"] / both["reach"].where(both["reach"] > 0)
    g["kr_pr_naaet"] = g["activity_type"].map(per).round(1)
    return g.sort_values("antal", ascending=False, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- output
class ReportOutput:
    """Saves a report's charts (PNG) and tables (CSV) into its folder and stamps them."""

    def __init__(self, out_dir: str | Path, simulated: bool):
        self.out = Path(out_dir)
        self.simulated = simulated
        (self.out / "figurer").mkdir(parents=True, exist_ok=True)
        (self.out / "tabeller").mkdir(parents=True, exist_ok=True)

    def figure(self, fig, name: str) -> Path:
        """Stamp SIMULEREDE DATA on a chart from simulated data and save it as PNG."""
        if self.simulated:
            fig.text(0.5, 1.0, SIMULATED_BANNER, ha="center", va="bottom", fontsize=10,
                     color="white", weight="bold",
                     bbox=dict(facecolor="firebrick", edgecolor="none", pad=3))  # fmt: skip
        path = self.out / "figurer" / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        return path

    def table(self, frame: pd.DataFrame, name: str) -> pd.DataFrame:
        """Save an aggregate table as CSV (marked when simulated) and return it for display."""
        out = frame.copy()
        if self.simulated:
            out.insert(0, "data_source", SIMULATED_BANNER)
        guarded_to_csv(out, self.out / "tabeller" / f"{name}.csv", index=False)
        return frame


def fmt_interval(est: float, lo: float, hi: float, digits: int = 1, unit: str = "",
                 lang: str = "da") -> str:  # fmt: skip
    """``12,3 % (95 %-KI 10,1 til 14,5 %)`` (da) or ``12.3% (95% CI 10.1 to 14.5%)`` (en).

    'undertrykt'/'suppressed' when the estimate is missing.
    """
    if not np.isfinite(est):
        return t("common.suppressed", lang)
    if lang == "en":
        unit = unit.lstrip()  # "12.3%", not "12.3 %"

    def f(x: float) -> str:
        return num(x, lang, digits)

    return t("common.interval", lang, est=f"{f(est)}{unit}", lo=f(lo), hi=f"{f(hi)}{unit}")


def provenance_table(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(parameters, input files with sha256) from a report's ``provenance.json``."""
    prov = json.loads(Path(path).read_text(encoding="utf-8"))
    params = pd.DataFrame(
        [{"felt": k, "vaerdi": str(v)} for k, v in prov["parameters"].items()]
        + [{"felt": "package_version", "vaerdi": prov["package_version"]},
           {"felt": "template", "vaerdi": prov["template"]},
           {"felt": "template_sha256", "vaerdi": prov["template_sha256"]}])  # fmt: skip
    return params, pd.DataFrame(prov["inputs"])


# --------------------------------------------------------------------------- notebook helpers
def start(out_dir: str | Path, simulated: bool, lang: str = "da") -> ReportOutput:
    """Set up a report notebook: headless matplotlib, output folders, the banner shown."""
    import matplotlib

    matplotlib.use("Agg")
    from IPython.display import Markdown, display

    check_lang(lang)
    if simulated:
        display(Markdown(t("common.simulated_note", lang)))
    return ReportOutput(out_dir, simulated)


_CODE_COLUMNS = ("year", "basisaar", "seneste_aar", "kommune_kode", "event_time")


def show_table(frame: pd.DataFrame, columns: dict[str, str], digits: int = 1,
               lang: str = "da") -> None:  # fmt: skip
    """Display the ``columns`` of a table, renamed (``report_text.cols``), numbers per ``lang``.

    Danish: decimal comma and thousands dot; English: decimal point and thousands comma.
    """
    from IPython.display import HTML, display

    tab = frame[list(columns)].reset_index(drop=True)  # the styler needs a unique index
    for c in tab.columns.intersection(list(_CODE_COLUMNS)):  # years and codes: no thousands dot
        tab[c] = tab[c].astype("Int64").astype(str).replace("<NA>", "–")
    renamed_codes = {columns[c] for c in tab.columns.intersection(list(_CODE_COLUMNS))}
    tab = tab.rename(columns=columns)
    decimal, thousands = (",", ".") if check_lang(lang) == "da" else (".", ",")
    text = [c for c in tab.columns if tab[c].dtype == object and c not in renamed_codes]
    style = tab.style.hide(axis="index").format(precision=digits, na_rep="–", decimal=decimal,
                                                thousands=thousands)  # fmt: skip
    if text:  # names and labels read left-aligned, numbers right-aligned
        style = style.set_properties(subset=text, **{"text-align": "left"})
        style = style.set_table_styles({c: [{"selector": "th", "props": "text-align: left"}]
                                        for c in text})  # fmt: skip
    display(HTML(style.to_html()))


def show_figure(path: Path, alt: str | None = None, lang: str = "da") -> None:
    """Display a saved (stamped) PNG inline, with alternative text for screen readers."""
    import base64
    import html

    from IPython.display import HTML, display

    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    name = Path(path).stem.replace("_", " ")
    text = html.escape(alt or t("common.figure_alt", lang, name=name), quote=True)
    display(HTML(f'<img src="data:image/png;base64,{data}" alt="{text}" style="max-width:100%"/>'))


def say(text: str) -> None:
    """Display a paragraph of Markdown (plain language, the report's ``lang``)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def pct(x: float, digits: int = 1, lang: str = "da") -> str:
    """A number for the text: ``1.234,5`` (da) or ``1,234.5`` (en); missing as ``–``."""
    return num(x, lang, digits)


# --------------------------------------------------------------------------- charts
def plot_burglary_lines(frame: pd.DataFrame, group: str, title: str, highlight: str | None = None,
                        lang: str = "da"):  # fmt: skip
    """Burglaries per 1,000 households by year, one line per ``group`` value."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    for name, d in frame.groupby(group, sort=False):
        lw = 3 if name == highlight else 1.8
        ax.plot(d["year"], d["rate"], marker="o", lw=lw, label=name)
    ax.set_xlabel(t("fig.year", lang))
    ax.set_ylabel(t("fig.burglary_rate", lang))
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    return fig


def plot_survey_trends(estimates: pd.DataFrame, kommune_kode: int | None, title: str,
                       variables=("fear_burglary", "unsafe_home", "nabohjaelper"),
                       min_cell: int = 10, lang: str = "da"):  # fmt: skip
    """Weighted shares (%) by year with 95 % intervals; suppressed cells are gaps."""
    import matplotlib.pyplot as plt

    est = publishable(estimates, min_cell)
    sel = (
        est["kommune_kode"].isna() if kommune_kode is None else est["kommune_kode"].eq(kommune_kode)
    )
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for var in variables:
        d = est[sel & est["variable"].eq(var)].sort_values("year")
        ax.plot(d["year"], 100 * d["estimate"], marker="o", label=label("outcome", var, lang))
        ax.fill_between(d["year"], 100 * d["ci_low"], 100 * d["ci_high"], alpha=0.2)
    ax.set_xlabel(t("fig.year", lang))
    ax.set_ylabel(t("fig.share_ci", lang))
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_district(district: pd.DataFrame, label: str, title: str, lang: str = "da"):
    """One outcome (%) per kommune of a police district with 95 % intervals."""
    import matplotlib.pyplot as plt

    d = district.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(d) + 1.5))
    y = np.arange(len(d))
    nation = d["landet"] if "landet" in d else d["kommune_kode"].isna()
    colors = np.where(d["valgt"], "firebrick", np.where(nation, "black", "steelblue"))
    est, lo, hi = (100 * d[c].to_numpy(dtype=float) for c in ("estimate", "ci_low", "ci_high"))
    ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="none", ecolor="grey", capsize=2)
    ax.scatter(est, y, c=colors, zorder=3)
    hidden = t("common.suppressed_short", lang)
    names = [f"{e} (n={int(n)})" if not s else f"{e} ({hidden})"
             for e, n, s in zip(d["enhed"], d["n"].fillna(0), d["suppressed"], strict=True)]  # fmt: skip
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(t("fig.district_x", lang, label=label))
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_activity_bars(totals: pd.DataFrame, title: str, lang: str = "da"):
    """Number of activities and reach by type (horizontal bars, sorted)."""
    import matplotlib.pyplot as plt

    d = totals.sort_values("antal")
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.35 * len(d) + 1.6), sharey=True)
    axes[0].barh(d["aktivitet"], d["antal"], color="steelblue")
    axes[0].set_xlabel(t("fig.n_activities", lang))
    axes[1].barh(d["aktivitet"], d["reach"] / 1000, color="seagreen")
    axes[1].set_xlabel(t("fig.reach_thousands", lang))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


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


def learning_review_file(data_dir: str | Path, year: int) -> Path:
    """The project-leader survey of ``year`` in the workspace, else the latest one there."""
    from botrygt_eval.errors import InputFileError

    survey = Path(data_dir) / "survey"
    exact = survey / f"projektleder_{year}.csv"
    if exact.exists():
        return exact
    found = sorted(survey.glob("projektleder_*.csv"))
    if not found:
        raise InputFileError(f"no projektleder_YYYY.csv in {survey}: the learning-review report "
                             "needs the project-leader survey (docs/DATA_FORMATS.md)")  # fmt: skip
    return found[-1]


# --------------------------------------------------------------------------- own effect
SYNTH_METHODS = labels("synth", "da")


def synth_comparison(panel_quarter: pd.DataFrame, kommune: int, seed: int, replications: int = 50,
                     lang: str = "da"):  # fmt: skip
    """The kommune's own partnership effect on its burglary rate, three ways (issue 9).

    Each method compares the kommune with municipalities never in a partnership;
    the interval comes from placebo runs on those donors. Returns ``(table, sdid result)``:
    the table has ``metode, effekt_pct, ki_fra_pct, ki_til_pct, se_log, foer_rmse`` on the
    percentage scale (exp of the log-rate effect minus 1).
    """
    from botrygt_eval.did.synth import synth_did

    rows, first = [], None
    for method, name in labels("synth", lang).items():
        res = synth_did(
            panel_quarter, unit="kommune_kode", time="period", outcome="log_rate",
            treat="treated", method=method, target=kommune, replications=replications,
            seed=seed,
        )  # fmt: skip
        first = first or res
        row = res.to_frame().iloc[-1]
        rows.append({
            "metode": name,
            "effekt_pct": 100 * np.expm1(row["estimate"]),
            "ki_fra_pct": 100 * np.expm1(row["ci_low"]),
            "ki_til_pct": 100 * np.expm1(row["ci_high"]),
            "se_log": row["se"],
            "foer_rmse": row["pre_rmse"],
        })  # fmt: skip
    return pd.DataFrame(rows), first


# --------------------------------------------------------------------------- activity verdicts
def _signed_pct(log_ratio: float, lang: str) -> str:
    """``+12,3 %``/``+12.3%``: the effect of a log rate ratio as a signed percent change."""
    x = 100 * np.expm1(log_ratio)
    return ("+" if x >= 0 else "") + (f"{num(x, lang)} %" if lang == "da" else f"{num(x, lang)}%")


def activity_reasons(decisions: pd.DataFrame, rule, lang: str = "da") -> list[str]:
    """One plain-language reason per activity type for its verdict, in ``lang``.

    Danish is the decision rule's own text (``decisions["reasons"]``,
    botrygt_eval.activities.rule). For English the same sentence is written from the
    decision table's columns (verdict code, interval, MDE, Nabohjælp) with the rule's
    thresholds; the verdict is never recomputed here, and the pre-trend caution is added
    exactly when the rule added it to the Danish reason.
    """
    if check_lang(lang) == "da":
        return list(decisions["reasons"])
    from botrygt_eval.activities.rule import _PRETREND

    nh_col = "nabohjaelp_estimate" if "nabohjaelp_estimate" in decisions else "nh_estimate"
    level = f"{100 * (1 - rule.alpha):.0f}%"
    if rule.adjust == "bonferroni":
        level = t("reason.simultaneous", lang, level=level)
    worth = f"{100 * rule.delta:.0f}%"
    out = []
    for r in decisions.itertuples(index=False):  # one row per activity type (about ten)
        few = (r.n_kommuner < rule.min_kommuner or r.n_activities < rule.min_activities
               or not np.isfinite(r.estimate))  # fmt: skip
        if few:
            out.append(t("reason.few", lang, n=r.n_activities, k=r.n_kommuner,
                         min_n=rule.min_activities, min_k=rule.min_kommuner))  # fmt: skip
            continue
        head = t("reason.estimate", lang, est=_signed_pct(r.estimate, lang), level=level,
                 lo=_signed_pct(r.ci_low, lang), hi=_signed_pct(r.ci_high, lang))  # fmt: skip
        nh = ""
        nh_est = float(getattr(r, nh_col, np.nan))
        if np.isfinite(nh_est):
            pp = ("+" if nh_est >= 0 else "") + num(nh_est, lang, 2)
            nh = " " + t("reason.nabohjaelp", lang, pp=pp)
        mde = percent(100 * (1 - np.exp(-r.mde)), lang)
        code = r.verdict_code
        if code == "repeat":
            key = "reason.repeat"
        elif code == "change":
            key = "reason.change_mixed" if r.ci_high < 0 else "reason.change_intermediate"
        elif code == "drop":
            key = "reason.drop_harm" if r.ci_low > 0 else "reason.drop_null"
        else:
            key = "reason.insufficient"
        text = f"{head}: {t(key, lang, nh=nh, worth=worth, mde=mde)}"
        if _PRETREND.strip() in str(r.reasons):
            text += " " + t("reason.pretrend", lang)
        out.append(text)
    return out
