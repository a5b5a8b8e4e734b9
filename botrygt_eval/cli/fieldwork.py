"""``botrygt-eval fieldwork``: response rates during collection and where to send reminders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from botrygt_eval.cli import app
from botrygt_eval.cli.options import MinCellOption, OutOption, ResponsesOption, SampleFileOption


def _responded_ids(path: Path, sample_ids) -> tuple[list[str], int]:
    """Ids that have answered: a responses file (every row) or a merged file (responded == 1)."""
    import pandas as pd

    from botrygt_eval.cli.sample import read_table
    from botrygt_eval.errors import InputFileError

    frame = read_table(path)
    if "resp_id" not in frame.columns:
        raise InputFileError(f"{path}: no resp_id column; give the imported responses_YYYY.csv")
    if "responded" in frame.columns:
        frame = frame.loc[pd.to_numeric(frame["responded"], errors="coerce") == 1]
    ids = frame["resp_id"].astype(str).str.strip().str.lower()
    stray = int((~ids.isin(set(sample_ids))).sum())
    return ids.tolist(), stray


@app.command(
    "fieldwork",
    epilog=(
        "Example: botrygt-eval fieldwork --sample survey/sample_2026.csv "
        "--responses survey/responses_2026.csv --target-moe 0.05 --out out/fieldwork"
    ),
)
def fieldwork_cmd(
    sample: SampleFileOption,
    responses: ResponsesOption("Responses so far (imported, or merged)."),
    out: OutOption("Folder for the CSVs, chart and HTML page."),
    target_moe: Annotated[
        float, typer.Option("--target-moe", help="Target MOE per kommune for p=0.2 (0.05 = ±5).")
    ] = 0.05,
    min_cell: MinCellOption("Hide cells with fewer sampled people than this.") = 10,
) -> None:
    """Response rates by kommune × sex × age band, MOE per kommune against the target, reminders."""
    from botrygt_eval.io.responses import load_sample
    from botrygt_eval.io.simulated import workspace_is_simulated as is_simulated
    from botrygt_eval.sampling.fieldwork import fieldwork_status, write_fieldwork

    s = load_sample(sample, quarantine_dir=out / "quarantine")
    ids, stray = _responded_ids(responses, s.data["resp_id"])
    status = fieldwork_status(s.data, pd_series(ids), target_moe=target_moe, min_cell=min_cell)
    simulated = any(is_simulated(d) for d in (sample.parent, sample.parent.parent))
    years = s.data["year"].dropna().unique()
    paths = write_fieldwork(
        status, out, year=int(years[0]) if len(years) == 1 else None, simulated=simulated
    )
    console = Console()
    console.print(s.message(), highlight=False)
    if stray:
        console.print(
            f"{stray:,} responses have an id that is not in the sample (not counted); "
            "run 'botrygt-eval responses merge' to list them"
        )
    console.print(status.summary(), highlight=False)
    for path in paths.values():
        console.print(f"  {path}")


def pd_series(ids):
    import pandas as pd

    return pd.Series(ids, dtype=str)


__all__ = ["fieldwork_cmd"]
