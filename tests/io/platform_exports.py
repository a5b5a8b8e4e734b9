"""Write a known response file in each platform's export layout (test fixture writers).

The layouts follow the platforms' documented exports (tests/fixtures/platforms/README.md):
ODK Central CSV (groups joined by '-', SubmissionDate first, meta-instanceID/KEY/... last),
KoboToolbox CSV (';', groups joined by '/', labels or XML values, _id/_uuid/... last),
SurveyXact dataset CSV (';', ISO-8859-1, decimal comma, respondentid/statinternal_*/...
first) and XML, SPSS .sav and Stata .dta with value labels and their own missing codes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from botrygt_eval.instrument.bank import Instrument

SPSS_SPECIAL = {98: 8, 99: 9}  # the .sav file's own codes for Ved ikke / Ønsker ikke at svare
STATA_SPECIAL = {98: 7, 99: 9}


def _codes_text(values: pd.Series) -> pd.Series:
    return values.astype("Int64").astype(str).replace("<NA>", "")


def _grouped(inst: Instrument, sep: str) -> dict[str, str]:
    return {i.id: f"grp_{i.group}{sep}{i.id}" for i in inst.items}


def _stamps(n: int, start: str = "2025-03-01T08:00:00") -> pd.Series:
    return pd.Series(pd.date_range(start, periods=n, freq="7min"))


def write_odk(frame: pd.DataFrame, inst: Instrument, path: Path) -> Path:
    """ODK Central CSV; the first respondent also has an earlier, different submission."""
    n = len(frame)
    cols = _grouped(inst, "-")
    out = pd.DataFrame({"SubmissionDate": _stamps(n).dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    out["start"] = out["SubmissionDate"]
    out["end"] = out["SubmissionDate"]
    out["resp_id"] = frame["resp_id"]
    out["year"] = frame["year"].astype(str)
    for item_id, col in cols.items():
        out[col] = _codes_text(frame[item_id])
    out["meta-instanceID"] = [f"uuid:{k:08d}-0000-4000-8000-000000000000" for k in range(n)]
    out["KEY"] = out["meta-instanceID"]
    out["SubmitterID"] = "5"
    out["SubmitterName"] = "public link"
    out["AttachmentsPresent"] = "0"
    out["AttachmentsExpected"] = "0"
    out["Status"] = ""
    out["ReviewState"] = ""
    out["DeviceID"] = ""
    out["Edits"] = "0"
    out["FormVersion"] = "20251"
    early = out.iloc[[0]].copy()
    early["SubmissionDate"] = "2025-02-28T07:00:00.000Z"
    first_item = cols[inst.items[3].id]  # an unrouted item: give it another valid answer
    early[first_item] = "1" if out.loc[0, first_item] != "1" else "2"
    early["meta-instanceID"] = early["KEY"] = "uuid:early"
    pd.concat([out, early]).to_csv(path, index=False, lineterminator="\n")
    return path


def write_kobo(
    frame: pd.DataFrame, inst: Instrument, path: Path, *, lang: str = "da", sep: str = "/"
) -> Path:
    """KoboToolbox CSV with labels as answers (';', the export's default separator)."""
    n = len(frame)
    out = pd.DataFrame({"start": _stamps(n).astype(str), "end": _stamps(n).astype(str)})
    out["resp_id"] = frame["resp_id"]
    out["year"] = frame["year"].astype(str)
    for item_id, col in _grouped(inst, sep).items():
        labels = {float(c.code): c.label[lang] for c in inst.all_choices(item_id)}
        out[col] = frame[item_id].map(labels).fillna("")
    out["__version__"] = "vJ8sXq"
    out[f"meta{sep}instanceID"] = [f"uuid:{k}" for k in range(n)]
    out["_id"] = np.arange(1000, 1000 + n).astype(str)
    out["_uuid"] = [f"{k:032x}" for k in range(n)]
    out["_submission_time"] = _stamps(n).astype(str)
    out["_validation_status"] = ""
    out["_notes"] = ""
    out["_status"] = "submitted_via_web"
    out["_submitted_by"] = ""
    out["_tags"] = ""
    out["_index"] = np.arange(1, n + 1).astype(str)
    out.to_csv(path, index=False, sep=";", lineterminator="\n")
    return path


def _surveyxact_frame(frame: pd.DataFrame, inst: Instrument) -> pd.DataFrame:
    n = len(frame)
    stamps = _stamps(n).dt.strftime("%d-%m-%Y %H:%M:%S")
    out = pd.DataFrame({"respondentid": np.arange(50_000, 50_000 + n).astype(str)})
    for k in (1, 2, 3):
        out[f"statinternal_{k}"] = "0"
    out["created"] = stamps
    out["modified"] = stamps
    out["closetime"] = stamps
    out["starttime"] = stamps
    out["difftime"] = [f"{x:.1f}".replace(".", ",") for x in np.linspace(100, 900, n)]
    out["email"] = ""
    out["digitaldistributionstatus"] = "1"
    out["resp_id"] = frame["resp_id"].str.upper()  # ids typed in the distribution list
    for item_id in inst.item_ids:
        out[item_id] = _codes_text(frame[item_id])
    out["kommentar"] = "Godt initiativ, tak for brevet i e-Boks (ø/æ/å)"
    # a second, unfinished session of the first respondent after the finished one
    late = out.iloc[[0]].copy()
    late["closetime"] = ""
    late["respondentid"] = "99999"
    late[inst.items[3].id] = ""
    return pd.concat([out, late], ignore_index=True)


def write_surveyxact_csv(frame: pd.DataFrame, inst: Instrument, path: Path) -> Path:
    out = _surveyxact_frame(frame, inst)
    out.to_csv(path, index=False, sep=";", encoding="iso-8859-1", lineterminator="\r\n")
    return path


def write_surveyxact_xml(frame: pd.DataFrame, inst: Instrument, path: Path) -> Path:
    out = _surveyxact_frame(frame, inst)
    root = ET.Element("dataset")
    for rec in out.to_dict("records"):
        el = ET.SubElement(root, "respondent")
        for key, value in rec.items():
            ET.SubElement(el, key).text = value
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _stats_frame(frame: pd.DataFrame, inst: Instrument, special: dict[int, int]):
    data = frame.copy()
    labels = {}
    for item in inst.items:
        data[item.id] = data[item.id].replace({float(k): float(v) for k, v in special.items()})
        lab = {float(c.code): c.label["da"] for c in item.choices}
        lab |= {float(special[c.code]): c.label["da"] for c in inst.special}
        labels[item.id] = lab
    data["year"] = data["year"].astype(float)
    return data, labels


def write_spss(frame: pd.DataFrame, inst: Instrument, path: Path) -> Path:
    """.sav with value labels; 8/9 are the file's user-missing codes."""
    data, labels = _stats_frame(frame, inst, SPSS_SPECIAL)
    missing = {i: sorted(SPSS_SPECIAL.values()) for i in inst.item_ids}
    pyreadstat.write_sav(data, str(path), variable_value_labels=labels, missing_ranges=missing)
    return path


def write_stata(frame: pd.DataFrame, inst: Instrument, path: Path) -> Path:
    """.dta with value labels; 7/9 are the file's codes for Ved ikke / Ønsker ikke at svare."""
    data, labels = _stats_frame(frame, inst, STATA_SPECIAL)
    pyreadstat.write_dta(data, str(path), variable_value_labels=labels)
    return path


def write_stata_extended_missing(frame: pd.DataFrame, inst: Instrument, path: Path) -> Path:
    """.dta where "Ved ikke" / "Ønsker ikke at svare" are Stata's extended missing .a / .b."""
    data = frame.copy()
    labels = {}
    special = {98: "a", 99: "b"}
    for item in inst.items:
        col = data[item.id].astype(object).where(data[item.id].notna(), None)
        data[item.id] = col.replace({float(k): v for k, v in special.items()})
        lab = {c.code: c.label["da"] for c in item.choices}
        lab |= {special[c.code]: c.label["da"] for c in inst.special}
        labels[item.id] = lab
    data["year"] = data["year"].astype(float)
    missing = {i: ["a", "b"] for i in inst.item_ids}
    pyreadstat.write_dta(data, str(path), variable_value_labels=labels, missing_user_values=missing)
    return path
