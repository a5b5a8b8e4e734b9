"""Read a survey platform's export and map it onto the year's response layout.

Platforms: ODK Central (CSV, groups joined by ``-``), KoboToolbox (CSV/XLSX,
groups joined by ``/``), SurveyXact (CSV with ``;``, ISO-8859-1 and decimal comma,
or its XML dataset export), SPSS ``.sav`` and Stata ``.dta`` (value labels). Each
column is classified once: the link (``resp_id``, ``year``), an item of the
questionnaire (group prefixes ``grp_x/``, ``grp_x-``, ``grp_x.`` are stripped),
platform metadata (dropped, noted), free text (set aside, never copied) or
unknown (refused). Answers may be codes, Danish or English labels, or a
statistics file's own codes with value labels; all are recoded through the
codebook. A row whose answer cannot be mapped is quarantined with its reason;
duplicate submissions of one id keep the last complete one (reported).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.errors import InputFileError
from botrygt_eval.instrument.bank import Instrument, as_instrument
from botrygt_eval.instrument.schema import response_schema
from botrygt_eval.io._common import count_phrase, finish
from botrygt_eval.io.platform_readers import PLATFORMS, read_export
from botrygt_eval.io.quarantine import REASON, SOURCE_ROW, LoadResult
from botrygt_eval.io.writers import write_csv
from botrygt_eval.results import ResultMixin

__all__ = [
    "PLATFORMS",
    "ImportResult",
    "import_responses",
    "plan_columns",
    "value_map",
    "write_responses",
]
LINK_COLUMNS = ("resp_id", "year")
#: columns the platforms add about the submission, not the answers (lower case)
META_COLUMNS = frozenset(
    {
        # ODK Central / Briefcase CSV
        "submissiondate", "key", "meta-instanceid", "meta/instanceid", "meta.instanceid",
        "instanceid", "submitterid", "submittername", "attachmentspresent",
        "attachmentsexpected", "status", "reviewstate", "deviceid", "edits", "formversion",
        "start", "end", "today", "username", "phonenumber", "simserial", "subscriberid",
        "meta-deprecatedid", "meta/deprecatedid", "meta/rootuuid", "meta-rootuuid", "audit",
        # KoboToolbox
        "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
        "_submitted_by", "__version__", "_version_", "_tags", "_index", "_attachments",
        "_geolocation", "_xform_id_string", "formhub/uuid", "formhub-uuid", "_parent_index",
        # SurveyXact respondent variables
        "respondentid", "created", "modified", "closetime", "starttime", "difftime",
        "responsecollectsessions", "numberofreturnedmail", "importgroup",
        "distributionschedule", "email", "digitaldistributionstatus",
        "digitaldistributionerrormessage", "name",
    }
)  # fmt: skip
_META_PATTERN = re.compile(r"^(statinternal_\d+|_.*|meta[-/.].*)$")
#: names of free-text fields (other-specify, comments): set aside, never copied
_FREE_TEXT = re.compile(
    r"(_other|_andet|_specify|_uddyb|_text|_tekst|comment|kommentar|fritekst|bemaerk)",
    re.IGNORECASE,
)
#: the form's own note fields (privacy page, group intros, closing page) carry no answer
_NOTE_FIELD = re.compile(r"^(privacy_page|closing_page|intro_[a-z0-9_]+)$")
#: per platform, the column telling when a submission was made and whether it is complete
_ORDER_COLUMN = {"odk": "submissiondate", "kobo": "_submission_time", "surveyxact": "closetime"}
_SEPARATORS = re.compile(r"[/\-.]")


@dataclass(frozen=True)
class ImportResult(ResultMixin):
    """A platform export mapped onto a year's response layout."""

    loaded: LoadResult  # validated responses and quarantined rows
    platform: str
    meta_columns: tuple[str, ...]
    free_text_columns: tuple[str, ...]
    superseded: pd.DataFrame  # earlier or incomplete submissions of an id, with the kept row
    n_input_rows: int

    @property
    def data(self) -> pd.DataFrame:
        return self.loaded.data

    frame_columns = ()

    def to_frame(self) -> pd.DataFrame:
        return self.loaded.data

    def _payload(self) -> dict:
        """Counts and column names (the responses stay in :attr:`data`)."""
        return {"platform": self.platform, "n_input_rows": self.n_input_rows,
                "load": self.loaded.to_dict(), "n_superseded": len(self.superseded),
                "meta_columns": self.meta_columns, "free_text_columns": self.free_text_columns}  # fmt: skip

    def _draw(self, ax=None):
        return self.loaded.plot(ax=ax)

    def summary(self) -> str:
        lines = [
            f"{self.loaded.source} ({self.platform}): {count_phrase(self.n_input_rows, 'row')} "
            f"read; {len(self.data):,} responses imported, "
            f"{self.loaded.n_quarantined:,} quarantined, "
            f"{len(self.superseded):,} superseded by a later submission of the same id",
        ]
        if self.meta_columns:
            lines.append(
                f"  dropped {count_phrase(len(self.meta_columns), 'platform meta column')}: "
                + ", ".join(self.meta_columns)
            )
        if self.free_text_columns:
            lines.append(
                f"  set aside {count_phrase(len(self.free_text_columns), 'free-text column')} "
                "(never copied to outputs): " + ", ".join(self.free_text_columns)
            )
        lines += [f"  {n}" for n in self.loaded.notes]
        return "\n".join(lines)


# --------------------------------------------------------------------------- columns
@dataclass(frozen=True)
class ColumnPlan:
    """What each column of the export is."""

    rename: dict[str, str]  # export column -> layout column (link or item)
    meta: tuple[str, ...]
    free_text: tuple[str, ...]
    notes_fields: tuple[str, ...]
    unknown: tuple[str, ...]


def plan_columns(columns: list[str], inst: Instrument) -> ColumnPlan:
    """Classify every export column (see the module docstring)."""
    items = set(inst.item_ids)
    rename, meta, free, notes, unknown = {}, [], [], [], []
    for col in columns:
        if col == SOURCE_ROW:
            continue
        low = col.strip().lower()
        last = _SEPARATORS.split(low)[-1]
        if low in LINK_COLUMNS or low in items:
            rename[col] = low
        elif low in META_COLUMNS or _META_PATTERN.match(low):
            meta.append(col)
        elif last in items or last in LINK_COLUMNS:
            rename[col] = last
        elif _NOTE_FIELD.match(last):
            notes.append(col)
        elif _FREE_TEXT.search(low):
            free.append(col)
        else:
            unknown.append(col)
    return ColumnPlan(rename, tuple(meta), tuple(free), tuple(notes), tuple(unknown))


# --------------------------------------------------------------------------- values
def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().casefold().replace("’", "'"))


def _code_text(value: str, decimal_comma: bool) -> str | None:
    """'3', '3.0', '3,0' -> '3'; anything else None."""
    t = value.strip()
    if decimal_comma:
        t = t.replace(",", ".")
    try:
        x = float(t)
    except ValueError:
        return None
    return str(int(x)) if np.isfinite(x) and x == int(x) else None


def value_map(
    values: pd.Series,
    item_id: str,
    inst: Instrument,
    file_labels: dict[str, str] | None,
    decimal_comma: bool,
) -> pd.Series:
    """Codebook code (float, NaN for empty) for each distinct raw value; -1 when unmappable.

    A statistics file's code is read through its value label when it has one (so the
    file's own 8/9 or -1/-2 for "Ved ikke"/"Ønsker ikke at svare" become 98/99);
    a label (Danish or English, any case) becomes its code; a bare code is kept.
    """
    by_label = {}
    for choice in inst.all_choices(item_id):
        for label in choice.label.values():
            by_label[_fold(label)] = float(choice.code)
    allowed = {float(c) for c in inst.allowed_codes(item_id)}
    out = {}
    for raw in pd.unique(values):
        if raw.strip() == "":
            out[raw] = np.nan
            continue
        code = _code_text(raw, decimal_comma)
        key = code if code is not None else raw.strip()  # Stata's .a-.z read as 'a'-'z'
        if file_labels and key in file_labels:
            out[raw] = by_label.get(_fold(file_labels[key]), -1.0)
        elif code is not None:
            out[raw] = float(code) if float(code) in allowed else -1.0
        else:
            out[raw] = by_label.get(_fold(raw), -1.0)
    return values.map(out)


# --------------------------------------------------------------------------- import
def _superseded(
    frame: pd.DataFrame, raw: pd.DataFrame, platform: str
) -> tuple[pd.Series, pd.DataFrame, int]:
    """Keep the last complete submission per resp_id (file order after the submission time).

    Also returns how many kept submissions are incomplete (no complete one for that id).
    """
    order_col = next((c for c in raw.columns if c.lower() == _ORDER_COLUMN.get(platform, "")), None)
    complete = pd.Series(True, index=frame.index)
    stamp = pd.Series(np.arange(len(frame)), index=frame.index, dtype=float)
    if order_col is not None:
        with warnings.catch_warnings():  # "could not infer format": parsed one by one, fine
            warnings.simplefilter("ignore", UserWarning)
            when = pd.to_datetime(
                raw[order_col], errors="coerce", dayfirst=platform == "surveyxact"
            )
        if platform == "surveyxact":
            complete = when.notna()  # SurveyXact: no closetime = not completed
        stamp = pd.Series(when.rank(method="first").to_numpy(), index=frame.index).fillna(-1.0)
    review = next((c for c in raw.columns if c.lower() == "reviewstate"), None)
    if review is not None:
        complete &= raw[review].str.strip().str.lower() != "rejected"
    key = pd.DataFrame(
        {"resp_id": frame["resp_id"], "complete": complete.astype(int), "stamp": stamp}
    )
    ranked = key.sort_values(["resp_id", "complete", "stamp"], kind="stable")
    keep_idx = ranked.drop_duplicates("resp_id", keep="last").index
    keep = pd.Series(False, index=frame.index)
    keep[keep_idx] = True
    kept_row = frame.loc[keep_idx].set_index("resp_id")[SOURCE_ROW]
    gone = frame.loc[~keep, [SOURCE_ROW, "resp_id"]].copy()
    gone["kept_row"] = gone["resp_id"].map(kept_row).to_numpy()
    gone["complete"] = complete[~keep].to_numpy()
    return keep, gone.reset_index(drop=True), int((keep & ~complete).sum())


def import_responses(
    path: str | Path,
    platform: str,
    year: int,
    *,
    instrument_year: int | None = None,
    ignore_columns: tuple[str, ...] = (),
    quarantine_dir: str | Path | None = None,
    root: str | Path | None = None,
) -> ImportResult:
    """Map a platform export onto ``responses_<year>`` (items of ``instrument_year`` or ``year``)."""

    raw_export = read_export(path, platform)
    path = Path(path)
    inst = as_instrument(instrument_year or year, root)
    raw = raw_export.frame
    plan = plan_columns(list(raw.columns), inst)
    ignored = [c for c in plan.unknown if c in ignore_columns]
    unknown = [c for c in plan.unknown if c not in ignore_columns]
    if unknown:
        raise InputFileError(
            f"{path}: {count_phrase(len(unknown), 'column')} not in the {inst.year} "
            f"questionnaire and not a known {platform} meta column: {', '.join(unknown[:20])}; "
            "check that the form is the right year's (--instrument YYYY), or, if these columns "
            "hold nothing needed, list them with --ignore-columns"
        )
    targets = pd.Series(plan.rename)
    twice = targets[targets.duplicated(keep=False)]
    if len(twice):
        raise InputFileError(
            f"{path}: columns {', '.join(twice.index)} all map to {', '.join(set(twice))}; "
            "export each question once"
        )
    if "resp_id" not in targets.values:
        raise InputFileError(
            f"{path}: no resp_id column; the survey link must carry the respondent id from the "
            "sample (XLSForm field resp_id, SurveyXact background variable resp_id)"
        )
    missing = [i for i in inst.item_ids if i not in targets.values]
    if missing:
        raise InputFileError(
            f"{path}: the {inst.year} item(s) {', '.join(missing)} are not in the export; "
            "export every question, or give the questionnaire year it was collected with "
            "(--instrument YYYY)"
        )
    tidy = raw[list(plan.rename)].rename(columns=plan.rename)
    decimal_comma = raw_export.decimal_comma
    out = pd.DataFrame({SOURCE_ROW: raw[SOURCE_ROW]})
    out["resp_id"] = tidy["resp_id"].str.strip().str.lower()
    reasons = pd.Series("", index=raw.index)
    if "year" in tidy.columns:
        y = tidy["year"].map(lambda v: _code_text(v, decimal_comma))
        wrong = y.fillna("") != str(year)
        reasons[wrong] += "year " + tidy.loc[wrong, "year"].map(repr) + f" is not {year}; "
    out["year"] = year
    for item_id in inst.item_ids:
        file_labels = raw_export.value_labels.get(
            next(c for c, t in plan.rename.items() if t == item_id)
        )
        codes = value_map(tidy[item_id], item_id, inst, file_labels, decimal_comma)
        bad = codes == -1.0
        if bad.any():
            reasons[bad] += (
                f"{item_id}: "
                + tidy.loc[bad, item_id].map(repr)
                + f" is not a code or label of {item_id} in the {inst.year} codebook; "
            )
        out[item_id] = codes.where(~bad).astype("Int64")
    empty_id = out["resp_id"] == ""
    reasons[empty_id] += "resp_id is empty (the survey link did not carry the id); "
    bad_rows = reasons != ""
    quarantined = out.loc[bad_rows, [SOURCE_ROW, "resp_id"]].assign(
        **{REASON: reasons[bad_rows].str.rstrip("; ")}
    )
    good = out.loc[~bad_rows]
    keep, superseded, incomplete = _superseded(good, raw.loc[good.index], platform)
    good = good.loc[keep]
    notes = list(raw_export.notes)
    if plan.notes_fields:
        notes.append(f"ignored the form's note fields: {', '.join(plan.notes_fields)}")
    if ignored:
        notes.append(f"ignored column(s) by request: {', '.join(ignored)}")
    if len(superseded):
        notes.append(
            f"{count_phrase(len(superseded), 'earlier or incomplete submission')} of "
            f"{superseded['resp_id'].nunique():,} ids superseded (the last complete one kept)"
        )
    if incomplete:
        notes.append(
            f"{count_phrase(incomplete, 'incomplete submission')} kept (no completed one for "
            "that id); its unanswered questions are empty"
        )
    columns = [*LINK_COLUMNS, *inst.item_ids]
    loaded = finish(
        good,
        response_schema(year, root, instrument_year=inst.year),
        source=path,
        columns=columns,
        quarantine_dir=quarantine_dir,
        prior=[quarantined],
        notes=notes,
    )
    return ImportResult(
        loaded, platform, plan.meta, plan.free_text, superseded, n_input_rows=len(raw)
    )


def write_responses(result: ImportResult, out: str | Path) -> Path:
    """The response file: ``resp_id, year`` and the item codes; empty for no answer."""

    return write_csv(Path(out), result.data)
