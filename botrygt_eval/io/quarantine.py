"""Row-level validation with a quarantine: bad rows are set aside with a reason, never lost.

Every loader ends in :func:`validate_rows`. Column-level problems (a required
column missing) make the whole file unusable and raise :class:`InputFileError`
naming the file and the fix; row-level problems (a negative count, an unknown
municipality, a duplicated key) move the offending rows to a quarantine frame
with one ``reason`` per row, optionally written to ``<quarantine_dir>/<name>.quarantine.csv``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from botrygt_eval.errors import InputFileError
from botrygt_eval.privacy.guard import guarded_to_csv
from botrygt_eval.results import ResultMixin

log = logging.getLogger(__name__)

SOURCE_ROW = "source_row"
REASON = "reason"


@dataclass(frozen=True)
class LoadResult(ResultMixin):
    """A validated table, the rows that failed, and where they were written."""

    data: pd.DataFrame
    quarantined: pd.DataFrame
    source: str
    quarantine_path: Path | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: rows set aside on purpose (totals, Christiansø, other offences), with a ``reason``
    dropped: pd.DataFrame | None = None
    #: physical data lines (rows) in the file after the header, when the loader counted them
    lines: int | None = None
    #: rows of ``data`` the loader made without a line of their own (e.g. zero-filled cells
    #: of a StatBank BULK file); the notes must say so
    added: int = 0

    frame_columns = ("source", "lines", "loaded", "quarantined", "set_aside", "added")

    def to_frame(self) -> pd.DataFrame:
        """One row of counts: data lines, rows loaded, quarantined, set aside, added (the
        rows themselves stay in :attr:`data`, :attr:`quarantined` and :attr:`dropped`)."""
        return pd.DataFrame([{"source": self.source, "lines": self.lines,
                              "loaded": len(self.data), "quarantined": self.n_quarantined,
                              "set_aside": self.n_dropped, "added": self.added}])  # fmt: skip

    def _payload(self) -> dict:
        return {**self.to_frame().iloc[0].to_dict(), "adds_up": self.adds_up,
                "quarantine_path": self.quarantine_path, "notes": list(self.notes)}  # fmt: skip

    def summary(self) -> str:
        return "\n".join([self.message(), *(f"  {n}" for n in self.notes)])

    def _draw(self, ax=None):
        """Rows loaded, quarantined and set aside."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 2.5))
        f = self.to_frame().iloc[0]
        keys = ["loaded", "quarantined", "set_aside"]
        ax.barh(keys[::-1], [f[k] for k in keys[::-1]], color=["0.6", "C3", "C0"])
        ax.set_xlabel("rows")
        ax.set_title(self.source, fontsize=9, loc="left")
        return ax

    @property
    def adds_up(self) -> bool:
        """Whether loaded (less rows added) + quarantined + set aside equals the data lines."""
        if self.lines is None:
            return True
        loaded = len(self.data) - self.added
        return loaded + self.n_quarantined + self.n_dropped == self.lines

    @property
    def n_quarantined(self) -> int:
        return len(self.quarantined)

    @property
    def n_dropped(self) -> int:
        return 0 if self.dropped is None else len(self.dropped)

    def message(self) -> str:
        """One line for the run log: how many rows were loaded and quarantined, and where."""
        n = len(self.data)
        text = f"{self.source}: {n:,} row{'' if n == 1 else 's'} loaded"
        if self.n_quarantined:
            where = f" -> {self.quarantine_path}" if self.quarantine_path else ""
            text += f", {self.n_quarantined:,} quarantined{where}"
        if self.n_dropped:
            kinds = self._set_aside_kinds()
            text += f", {self.n_dropped:,} set aside ({kinds})"
        if self.lines is not None:
            text += f" of {self.lines:,} data line{'' if self.lines == 1 else 's'}"
            if self.lines == 0:
                text += " (WARNING: the file holds only the header, no data)"
            elif not self.adds_up:  # pragma: no cover - a loader defect, said loudly
                text += " (WARNING: the counts do not add up; please report this)"
        return text

    def _set_aside_kinds(self) -> str:
        """The categories of the set-aside rows with their counts, e.g. ``12 totals, 1 blank line``."""
        reasons = self.dropped[REASON].astype(str) if REASON in self.dropped.columns else None
        if reasons is None:
            return "totals or out of scope"
        counts = reasons.value_counts(sort=False)
        return ", ".join(f"{n:,} {why}" for why, n in counts.items())


def _reason(row: pd.Series, unique: tuple[str, ...] = ()) -> str:
    column = row.get("column")
    check = row.get("check")
    case = row.get("failure_case")
    if row.get("schema_context") == "DataFrameSchema":
        # A check across columns: one reason per row, not one per column.
        if check == "multiple_fields_uniqueness" and unique:
            return f"duplicated key ({', '.join(unique)})"
        return str(check)
    where = f"{column}: " if isinstance(column, str) and column else ""
    return f"{where}{check} (value {case!r})"


def quarantine_rows(
    frame: pd.DataFrame,
    mask: pd.Series,
    reason: str | pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into kept rows and rows flagged by ``mask`` with their reason."""
    mask = mask.reindex(frame.index, fill_value=False).astype(bool)
    bad = frame.loc[mask].copy()
    bad[REASON] = reason[mask] if isinstance(reason, pd.Series) else reason
    return frame.loc[~mask], bad


def validate_rows(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    *,
    source: str | Path,
    quarantine_dir: str | Path | None = None,
    prior_quarantine: pd.DataFrame | None = None,
    notes: tuple[str, ...] = (),
    dropped: pd.DataFrame | None = None,
) -> LoadResult:
    """Validate ``frame`` against ``schema``; quarantine failing rows instead of raising.

    ``frame`` must carry a ``source_row`` column (the 1-based line or row number
    in the source file) so a quarantined row can be found in the original.
    ``prior_quarantine`` holds rows the loader already set aside while parsing.
    """
    source = str(source)
    missing = [
        name
        for name, col in schema.columns.items()
        if col.required and not col.regex and name not in frame.columns
    ]
    if missing:
        raise InputFileError(
            f"{source}: required column(s) {', '.join(missing)} are missing "
            f"(found: {', '.join(map(str, frame.columns))}); "
            "export the file again with these columns or rename them"
        )
    bad_parts = [] if prior_quarantine is None else [prior_quarantine]
    data = frame
    for _ in range(3):  # coercion failures can hide later check failures
        try:
            data = schema.validate(data, lazy=True)
            break
        except SchemaErrors as exc:
            cases = exc.failure_cases
            row_cases = cases[cases["index"].notna()]
            unique = tuple(schema.unique or ())
            table_cases = cases[cases["index"].isna()]
            if not table_cases.empty and row_cases.empty:
                problems = "; ".join(sorted({_reason(r) for _, r in table_cases.iterrows()}))
                raise InputFileError(
                    f"{source}: the table as a whole fails validation: {problems}"
                ) from None
            reasons = (
                row_cases.assign(reason=row_cases.apply(_reason, axis=1, unique=unique))
                .groupby("index")["reason"]
                .agg(lambda r: "; ".join(sorted(set(r))))
            )
            idx = data.index.intersection(reasons.index)
            bad = data.loc[idx].copy()
            bad[REASON] = reasons.loc[idx].to_numpy()
            bad_parts.append(bad)
            data = data.drop(index=idx)
    else:  # pragma: no cover - defensive
        data = schema.validate(data, lazy=False)
    quarantined = (
        pd.concat(bad_parts, ignore_index=True) if bad_parts else frame.iloc[0:0].assign(reason="")
    )
    if SOURCE_ROW in quarantined.columns and len(quarantined):
        quarantined = quarantined.sort_values(SOURCE_ROW, kind="stable").reset_index(drop=True)
    path = None
    if quarantine_dir is not None and len(quarantined):
        qdir = Path(quarantine_dir)
        qdir.mkdir(parents=True, exist_ok=True)
        path = qdir / f"{Path(source).stem}.quarantine.csv"
        guarded_to_csv(quarantined, path, index=False)  # refuses CPR numbers
    result = LoadResult(
        data=data.reset_index(drop=True),
        quarantined=quarantined,
        source=source,
        quarantine_path=path,
        notes=notes,
        dropped=dropped,
    )
    if result.n_quarantined:
        log.warning(result.message())
    return result
