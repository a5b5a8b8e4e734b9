"""Tables and charts the report templates present (aggregates only, Danish or English).

The notebooks in ``notebooks/`` stay thin: they call these functions on the prepared
inputs of :func:`prepare_inputs` (CSV files, so 98 municipality reports do not each
re-run the survey weighting) and display what comes back. Every survey cell shown
rests on at least ``min_cell`` respondents; smaller cells are blanked and flagged.
Display text comes from :mod:`botrygt_eval.text.catalogue` in the report's ``lang``
(``"da"`` by default); column names of the returned frames stay as identifiers.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval import SIMULATED_BANNER
from botrygt_eval.activities.reasons import activity_reasons  # noqa: F401 (for the templates)
from botrygt_eval.plots.style import fit_inside, mark_simulated
from botrygt_eval.plots.survey import plot_survey_trends as survey_trend_chart
from botrygt_eval.privacy.guard import check_tree, guarded_to_csv
from botrygt_eval.reference import kommune_name, kommuner, to_kommune_kode
from botrygt_eval.text.catalogue import check_lang, labels, num, percent, t

log = logging.getLogger(__name__)

#: Danish labels of the codes (docs/DATA_FORMATS.md); other languages: ``labels(group, lang)``.
OUTCOME_LABELS = labels("outcome", "da")
ACTIVITY_LABELS = labels("activity", "da")
EFFECT_OUTCOMES = labels("effect_outcome", "da")
ESTIMATOR_LABELS = labels("estimator", "da")
BACON_TYPES = labels("bacon", "da")
SHARES = ("fear_burglary", "unsafe_home", "nabohjaelper", "victim_burglary")


# --------------------------------------------------------------------------- inputs
def is_simulated(data_dir: str | Path) -> bool:
    """A workspace is simulated when it carries ``truth.json``, its README says so, or a
    data file carries the simulator's marker (``simulated`` = 1 in every row of a
    project-leader file): deleting the two documents does not make simulated data real."""
    from botrygt_eval.learning_review.figures import is_simulated as marked

    root = Path(data_dir)
    readme = root / "README.md"
    if (root / "truth.json").exists():
        return True
    if readme.exists() and "SIMULEREDE DATA" in readme.read_text(encoding="utf-8"):
        return True
    for path in sorted((root / "survey").glob("projektleder_*.csv")):
        head = pd.read_csv(path, nrows=0, dtype=str).columns
        if "simulated" in head and marked(pd.read_csv(path, usecols=["simulated"], dtype=str)):
            return True
    return False


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
    ``panel_year.csv``, ``activities.csv``, ``partnerships.csv``, ``nabohjaelp.csv``,
    ``partnership_kpis.csv`` (targets judged net of similar kommuner, :mod:`botrygt_eval.kpi.targets`) and
    ``partnership_effects.csv`` (only when ``effects_csv`` is given; the national
    report estimates the effects itself otherwise). Returns the paths by name.
    Reuses the folder when ``inputs.json`` records the same workspace hashes and inputs.
    """
    from botrygt_eval.did.compare import burglary_panel
    from botrygt_eval.io.workspace import load_workspace
    from botrygt_eval.kpi.targets import partnership_kpis
    from botrygt_eval.reports.render import input_hashes, sha256

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    paths = {name: cache / f"{name}.csv" for name in
             ("survey_estimates", "panel_quarter", "panel_year", "activities", "partnerships",
              "nabohjaelp", "partnership_kpis", "group_changes")}  # fmt: skip
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
        from botrygt_eval.survey.pipeline import survey_estimates

        est = survey_estimates(ws, min_cell=min_cell)[0]
    guarded_to_csv(est.drop(columns=["data_source"], errors="ignore"), paths["survey_estimates"],
                   index=False)  # fmt: skip
    guarded_to_csv(burglary_panel(ws, "quarter"), paths["panel_quarter"], index=False)
    guarded_to_csv(burglary_panel(ws, "year"), paths["panel_year"], index=False)
    guarded_to_csv(ws.activities, paths["activities"], index=False)
    guarded_to_csv(ws.partnerships, paths["partnerships"], index=False)
    guarded_to_csv(ws.nabohjaelp, paths["nabohjaelp"], index=False)
    if ws.partnerships is not None and len(ws.partnerships):
        kpis = partnership_kpis(ws, survey_estimates=est, min_cell=min_cell)
    else:
        kpis = pd.DataFrame(columns=["kommune_kode"])
    guarded_to_csv(kpis, paths["partnership_kpis"], index=False)
    changes = group_changes(ws)
    guarded_to_csv(changes, paths["group_changes"], index=False)
    for r in changes.itertuples(index=False):  # on the console, with the file to correct
        log.warning("%s line %s was quarantined (%s): %s is left out of the partnership "
                    "group in every report until the line is corrected", ws.root / r.file,
                    r.line, r.reason, r.kommune)  # fmt: skip
    if effects_csv is not None and Path(effects_csv).exists():
        paths["partnership_effects"] = cache / "partnership_effects.csv"
        guarded_to_csv(pd.read_csv(effects_csv), paths["partnership_effects"], index=False)
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return paths


def group_changes(ws) -> pd.DataFrame:
    """Quarantined lines of the partnership register: each one moves a kommune out of the
    partnership group, so the reports must say so (``file, line, kommune_kode, kommune,
    reason``)."""
    rows = []
    for r in ws.reports:
        if Path(r.source).name != "partnerships.csv" or not r.n_quarantined:
            continue
        for q in r.quarantined.itertuples(index=False):
            code = _code_of(getattr(q, "kommune_kode", None), str(getattr(q, "raw", "")))
            rows.append({"file": _relative(r.source, ws.root), "line": int(q.source_row),
                         "kommune_kode": code,
                         "kommune": kommune_name(code) if code else "?", "reason": q.reason})  # fmt: skip
    return pd.DataFrame(rows, columns=["file", "line", "kommune_kode", "kommune", "reason"])


def _relative(path, root) -> str:
    """A workspace file as ``registers/partnerships.csv`` (no machine paths in a report)."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _code_of(parsed, raw: str) -> int | None:
    """The kommune of a quarantined line: the parsed code, else the line's first field."""
    for candidate in (parsed, raw.replace(";", ",").split(",")[0].strip().strip('"')):
        try:
            return int(to_kommune_kode(candidate))
        except Exception:  # noqa: BLE001 - not a kommune: try the next, else unknown
            continue
    return None


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
def targets_table(kpis: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """Each partnership's targets as a reader sees them (from :func:`botrygt_eval.kpi.targets.
    partnership_kpis`): the burglary change net of similar kommuner with its interval, the
    share worried with its interval, Nabohjælp, and the status of each target in words
    (nået / ikke nået / for tidligt at sige); an ended partnership says so."""
    status = labels("target_status", lang)
    d = kpis.copy()
    d["status"] = np.where(d["ended"].astype(bool),
                           [t("target.ended", lang, year=y) for y in d["judged_year"]],
                           t("target.active", lang))  # fmt: skip
    for col in ("burglary_target_status_code", "fear_target_status_code",
                "nabohjaelp_target_status_code"):  # fmt: skip
        d[col.replace("_code", "_text")] = d[col].fillna("").map(status).fillna("")
    unit = " %"
    d["net_change"] = [interval_text(e, lo, hi, unit=unit, lang=lang) for e, lo, hi in
                       zip(d["net_change_pct"], d["net_change_ci_low"], d["net_change_ci_high"],
                           strict=True)]  # fmt: skip
    d["fear_share"] = [interval_text(e, lo, hi, unit=unit, lang=lang) for e, lo, hi in
                       zip(d["fear_share_pct"], d["fear_ci_low"], d["fear_ci_high"],
                           strict=True)]  # fmt: skip
    return d


def interval_text(est, lo, hi, *, digits: int = 1, unit: str = "", lang: str = "da",
                  missing: str = "") -> str:  # fmt: skip
    """:func:`fmt_interval`, or ``missing`` where there is no estimate (not 'suppressed')."""
    return fmt_interval(est, lo, hi, digits, unit, lang) if pd.notna(est) else missing


def targets_long(kpi_row: pd.Series, lang: str = "da") -> pd.DataFrame:
    """One partnership's targets one per row (``maal, maalsaetning, resultat, vurdering``),
    for a kommune report: the target, the result with its interval, and the status."""
    d = targets_table(kpi_row.to_frame().T, lang).iloc[0]
    pct = lambda x: f"{num(x, lang)} %" if pd.notna(x) else "–"  # noqa: E731
    rows = [
        (t("target.burglary", lang), pct(d["burglary_target_pct"]), d["net_change"],
         d["burglary_target_status_text"]),
        (t("target.fear", lang), pct(d["fear_target_pct"]), d["fear_share"],
         d["fear_target_status_text"]),
        (t("target.nabohjaelp", lang),
         num(d["nabohjaelp_target"], lang, 0) if pd.notna(d["nabohjaelp_target"]) else "–",
         num(d["nabohjaelp_members"], lang, 0) if pd.notna(d["nabohjaelp_members"]) else "–",
         d["nabohjaelp_target_status_text"]),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["maal_type", "maalsaetning", "resultat", "vurdering"])


def count_targets(kpis: pd.DataFrame, column: str = "burglary_target_status_code") -> dict:
    """How many targets are met, not met and too early to judge (a target set)."""
    codes = kpis[column].fillna("")
    return {c: int(codes.eq(c).sum()) for c in ("met", "not_met", "too_early")} | {
        "n": int(codes.ne("").sum())
    }


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
def figure_alt(fig) -> str:
    """Alternative text of a chart, from what it shows: its titles and axis labels
    (webtilgængelighedsloven asks for a text alternative to every figure)."""
    parts = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        bits = [ax.get_title(), ax.get_xlabel() and f"x: {ax.get_xlabel()}",
                ax.get_ylabel() and f"y: {ax.get_ylabel()}"]  # fmt: skip
        parts.append("; ".join(b for b in bits if b))
    return ". ".join(p for p in parts if p) or "Figur"


class ReportOutput:
    """Saves a report's charts (PNG) and tables (CSV) into its folder and stamps them."""

    def __init__(self, out_dir: str | Path, simulated: bool):
        self.out = Path(out_dir)
        self.simulated = simulated
        (self.out / "figurer").mkdir(parents=True, exist_ok=True)
        (self.out / "tabeller").mkdir(parents=True, exist_ok=True)

    def figure(self, fig, name: str) -> Path:
        """Stamp SIMULEREDE DATA on a chart from simulated data and save it as PNG, laid out
        inside its canvas (a tight bounding box would draw it twice: plots.style)."""
        if self.simulated:
            mark_simulated(fig)
        else:
            fit_inside(fig)
        path = self.out / "figurer" / f"{name}.png"
        fig.savefig(path, dpi=110, metadata={"Description": figure_alt(fig)})
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


def start(out_dir: str | Path, simulated: bool, lang: str = "da") -> ReportOutput:
    """Set up a report notebook: headless matplotlib, output folders, the banner shown."""
    import matplotlib

    matplotlib.use("Agg")
    from IPython.display import Markdown, display

    check_lang(lang)
    if simulated:
        display(Markdown(t("common.simulated_note", lang)))
    return ReportOutput(out_dir, simulated)


_CODE_COLUMNS = (
    "year",
    "basisaar",
    "seneste_aar",
    "kommune_kode",
    "event_time",
    "baseline_year",
    "judged_year",
    "latest_year",
    "fear_year",
    "nabohjaelp_year",
)


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
    from PIL import Image

    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    name = Path(path).stem.replace("_", " ")
    with Image.open(path) as im:  # the chart's own description (ReportOutput.figure)
        described = im.info.get("Description")
    text = html.escape(alt or described or t("common.figure_alt", lang, name=name), quote=True)
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

    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    for name, d in frame.groupby(group, sort=False):
        lw = 3 if name == highlight else 1.8
        ax.plot(d["year"], d["rate"], marker="o", lw=lw, label=name)
    ax.set_xlabel(t("fig.year", lang))
    ax.set_ylabel(t("fig.burglary_rate", lang))
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    ax.set_ylim(bottom=0)
    return fig


def plot_survey_trends(estimates: pd.DataFrame, kommune_kode: int | None, title: str,
                       variables=("fear_burglary", "unsafe_home", "nabohjaelper"),
                       min_cell: int = 10, lang: str = "da"):  # fmt: skip
    """Weighted shares (%) by year with 95 % intervals for the nation (``None``) or one
    kommune; suppressed cells, missing years and comparability breaks are gaps
    (:func:`botrygt_eval.plots.survey.plot_survey_trends`)."""
    est = publishable(estimates, min_cell)
    sel = (
        est["kommune_kode"].isna() if kommune_kode is None else est["kommune_kode"].eq(kommune_kode)
    )
    return survey_trend_chart(est[sel], title=title, variables=variables, lang=lang)


def plot_district(district: pd.DataFrame, label: str, title: str, lang: str = "da"):
    """One outcome (%) per kommune of a police district with 95 % intervals."""
    import matplotlib.pyplot as plt

    d = district.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(d) + 1.5), layout="constrained")
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
    return fig


def plot_activity_bars(totals: pd.DataFrame, title: str, lang: str = "da"):
    """Number of activities and reach by type (horizontal bars, sorted), each bar labelled
    with its value; reach on a log scale when the types differ a hundredfold, so that
    every bar is visible."""
    import matplotlib.pyplot as plt

    d = totals.sort_values("antal")
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 0.38 * len(d) + 1.8), sharey=True,
                             layout="constrained")  # fmt: skip
    axes[0].barh(d["aktivitet"], d["antal"], color="steelblue")
    axes[0].set_xlabel(t("fig.n_activities", lang))
    reach = d["reach"].astype(float)
    axes[1].barh(d["aktivitet"], reach.fillna(0), color="seagreen")
    axes[1].set_xlabel(t("fig.reach", lang))
    known = reach[reach > 0]
    if len(known) and known.max() / known.min() > 100:
        axes[1].set_xscale("log")
        axes[1].set_xlabel(t("fig.reach_log", lang))
    for ax, values in ((axes[0], d["antal"].astype(float)), (axes[1], reach)):
        for y, v in enumerate(values):
            text = num(v, lang, 0) if pd.notna(v) else t("common.unknown", lang)
            bar = pd.notna(v) and v > 0  # no bar: label at the axis (also on a log scale)
            ax.annotate(text, (v if bar else 0, y), xytext=(3, 0), textcoords="offset points",
                        xycoords="data" if bar else ("axes fraction", "data"), va="center",
                        fontsize=7.5)  # fmt: skip
        ax.margins(x=0.15)
    fig.suptitle(title)
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
    percentage scale (exp of the log-rate effect minus 1). ``(None, None)`` when the data
    hold no period of the kommune's partnership yet (signed after the data end): too new
    to measure.
    """
    from botrygt_eval.did.synth import synth_did

    mine = panel_quarter[panel_quarter["kommune_kode"].eq(kommune)]
    if not mine["treated"].eq(1).any():
        return None, None
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


def synth_in_years(res, panel_quarter: pd.DataFrame, kommune: int) -> pd.DataFrame:
    """The kommune and its synthetic comparison as burglaries per 1,000 households a year.

    The fit is on ``log((burglaries + 0.5) / households * 1000)`` per quarter; each
    quarter is taken back to a rate (the 0.5 removed with the kommune's households) and
    the four quarters of a year are added. Only whole years are kept.
    """
    traj = res.trajectories()
    own = panel_quarter[panel_quarter["kommune_kode"].eq(kommune)]
    own = own.set_index("period")[["year", "households"]]
    d = traj.join(own, on="time").dropna(subset=["year"])
    half = 500 / d["households"]
    d = d.assign(kommune=np.exp(d["treated"]) - half, sammenligning=np.exp(d["synthetic"]) - half)
    g = d.groupby("year").agg(kommune=("kommune", "sum"), sammenligning=("sammenligning", "sum"),
                              quarters=("time", "size"), post=("post", "max"))  # fmt: skip
    return g[g["quarters"].eq(4)].drop(columns="quarters").reset_index()


def plot_synth_years(years: pd.DataFrame, name: str, title: str, lang: str = "da"):
    """The kommune (solid) and its synthetic comparison (dashed) by year, the start marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    ax.plot(years["year"], years["kommune"], marker="o", color="C3", label=name)
    ax.plot(years["year"], years["sammenligning"], marker="o", ls="--", color="C0",
            label=t("fig.synth_synthetic", lang))  # fmt: skip
    if years["post"].any():
        start = years.loc[years["post"].eq(1), "year"].min()
        ax.axvline(start - 0.5, color="0.5", ls=":", lw=1)
        ax.annotate(t("fig.synth_start", lang), (start - 0.5, 1), xycoords=("data", "axes fraction"),
                    xytext=(3, -12), textcoords="offset points", fontsize=8, color="0.35")  # fmt: skip
    ax.set_xticks(years["year"], [str(y) for y in years["year"]], rotation=45)
    ax.set_xlabel(t("fig.year", lang))
    ax.set_ylabel(t("fig.burglary_rate_year", lang))
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return fig


def own_effect_sentence(synth: pd.DataFrame, name: str, lang: str = "da") -> str:
    """One sentence on the kommune's own estimate (synthetic DiD), in words."""
    r = synth.iloc[0]
    args = dict(name=name, est=num(abs(r["effekt_pct"]), lang), lo=num(r["ki_fra_pct"], lang),
                hi=num(r["ki_til_pct"], lang),
                direction=t("word.lower" if r["effekt_pct"] < 0 else "word.higher", lang))  # fmt: skip
    if r["ki_fra_pct"] <= 0 <= r["ki_til_pct"]:
        return t("kommune.own_effect_null", lang, **args)
    key = "kommune.own_effect_lower" if r["effekt_pct"] < 0 else "kommune.own_effect_higher"
    return t(key, lang, **args)


def comparison_kommuner(res, k: int = 5, lang: str = "da") -> str:
    """The ``k`` kommuner with most weight in the synthetic comparison, with their weights."""
    w = res.weights_frame().sort_values("weight", ascending=False).head(k)
    return ", ".join(f"{n} ({percent(100 * v, lang, 0)})" for n, v in zip(w["kommune"], w["weight"],
                                                                          strict=True))  # fmt: skip
