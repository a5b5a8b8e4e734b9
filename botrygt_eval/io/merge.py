"""Link a year's responses to its drawn sample by ``resp_id`` (design weights, strata).

The merged file has one row per sampled person: the sample's design columns
(``kommune_kode, sex, age, age_band, incl_prob, design_weight, stratum_population``),
``responded`` set from the responses (1 if the person answered, else 0), and the
answers (empty for non-respondents). Responses whose id is not in the sample are
set aside (quarantined with their row number), never merged or dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from botrygt_eval.errors import InputFileError
from botrygt_eval.io.quarantine import REASON, SOURCE_ROW
from botrygt_eval.results import ResultMixin


@dataclass(frozen=True)
class MergeResult(ResultMixin):
    """The merged sample and what did not link."""

    merged: pd.DataFrame
    not_in_sample: pd.DataFrame  # responses with an id the sample does not have
    n_sample: int
    n_responses: int
    n_changed_responded: int  # sample rows whose old 'responded' disagreed with the responses

    @property
    def n_respondents(self) -> int:
        return int(self.merged["responded"].sum())

    frame_columns = ("resp_id", "responded")

    def to_frame(self) -> pd.DataFrame:
        return self.merged

    def _payload(self) -> dict:
        """The counts (the merged rows are microdata and stay in :attr:`merged`)."""
        return {"n_sample": self.n_sample, "n_responses": self.n_responses,
                "n_respondents": self.n_respondents, "n_not_in_sample": len(self.not_in_sample),
                "n_changed_responded": self.n_changed_responded}  # fmt: skip

    def summary(self) -> str:
        rate = self.n_respondents / self.n_sample if self.n_sample else float("nan")
        lines = [
            f"{self.n_sample:,} sampled, {self.n_responses:,} responses: "
            f"{self.n_respondents:,} linked (response rate {rate:.1%}), "
            f"{self.n_sample - self.n_respondents:,} sampled without a response, "
            f"{len(self.not_in_sample):,} responses not in the sample (quarantined)"
        ]
        if self.n_changed_responded:
            lines.append(
                f"  'responded' in the sample file was replaced for "
                f"{self.n_changed_responded:,} rows (the responses decide)"
            )
        return "\n".join(lines)


def merge_responses(sample: pd.DataFrame, responses: pd.DataFrame) -> MergeResult:
    """One row per sampled person with ``responded`` and the answers (see module docstring)."""
    for name, frame in (("sample", sample), ("responses", responses)):
        if "resp_id" not in frame.columns:
            raise InputFileError(f"the {name} file has no resp_id column; both files need it")
        if frame["resp_id"].duplicated().any():
            raise InputFileError(
                f"the {name} file lists a resp_id more than once; load it with its loader "
                "(duplicates are quarantined there) before merging"
            )
    if "year" in sample.columns and "year" in responses.columns:
        ys, yr = set(sample["year"].dropna()), set(responses["year"].dropna())
        if ys and yr and ys != yr:
            raise InputFileError(
                f"the sample is for {sorted(ys)} but the responses are for {sorted(yr)}; "
                "merge files of the same year"
            )
    answers = responses.drop(columns=[c for c in ("year", SOURCE_ROW) if c in responses.columns])
    clash = [c for c in answers.columns if c != "resp_id" and c in sample.columns]
    if clash:
        raise InputFileError(
            f"columns {', '.join(clash)} are in both files; the responses should hold only "
            "resp_id, year and the items"
        )
    base = sample.drop(columns=[SOURCE_ROW], errors="ignore")
    merged = base.merge(answers, on="resp_id", how="left", indicator=True, validate="one_to_one")
    responded = (merged.pop("_merge") == "both").astype("int64")
    changed = 0
    if "responded" in base.columns:
        changed = int((base["responded"].to_numpy() != responded.to_numpy()).sum())
        merged = merged.drop(columns="responded")
    at = list(base.columns).index("responded") if "responded" in base.columns else len(base.columns)
    merged.insert(min(at, len(merged.columns)), "responded", responded)
    stray = ~responses["resp_id"].isin(sample["resp_id"])
    keep = [c for c in (SOURCE_ROW, "resp_id") if c in responses.columns]
    not_in = responses.loc[stray, keep].assign(
        **{REASON: "resp_id not in the sample; check that the survey link carried the right id"}
    )
    return MergeResult(
        merged.reset_index(drop=True),
        not_in.reset_index(drop=True),
        n_sample=len(sample),
        n_responses=len(responses),
        n_changed_responded=changed,
    )
