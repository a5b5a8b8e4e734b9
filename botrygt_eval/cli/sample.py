"""``botrygt-eval sample``: draw the stratified survey sample from a frame."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from botrygt_eval.cli import app
from botrygt_eval.cli.options import OutOption, SeedOption, YearOption
from botrygt_eval.errors import ConfigError, InputFileError, check_option
from botrygt_eval.options import DEFAULT_SEED

if TYPE_CHECKING:
    import pandas as pd


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or parquet file (by extension)."""
    import pandas as pd

    if not path.exists():
        raise InputFileError(f"{path} does not exist; check the path")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise InputFileError(
                f"cannot read {path}: parquet needs a working pyarrow ({exc}); install a "
                "pyarrow that matches numpy, or give the file as CSV"
            ) from exc
    if suffix == ".csv":
        try:
            text = pd.read_csv(path, dtype=str)  # empty / NA / NaN cells stay missing
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise InputFileError(
                f"{path}: cannot read the CSV file ({str(exc).strip()}); check the line named "
                "or export the file again as comma-separated UTF-8"
            ) from None
        return codes_as_text(text)
    raise InputFileError(f"{path}: use a .csv or .parquet file")


_ZERO_PADDED = r"^[+-]?0\d"


def codes_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells read as text become numbers only where that loses nothing.

    A column stays text when any value is not a number or is a zero-padded code
    (``081``, ``0101``): codes are text as written, so region ``081`` still matches
    ``081`` in a margins file. ``resp_id`` is always text.
    """
    import pandas as pd

    out = {}
    for col in frame.columns:
        values = frame[col]
        if col == "resp_id" or values.dtype != object:
            out[col] = values
            continue
        present = values.dropna()
        stripped = present.str.strip()
        numbers = pd.to_numeric(stripped, errors="coerce")
        if len(present) and stripped.isin(["True", "False"]).all():
            out[col] = values.map({"True": True, "False": False})
        elif numbers.isna().any() or stripped.str.contains(_ZERO_PADDED, regex=True).any():
            out[col] = values
        else:
            out[col] = pd.to_numeric(values.str.strip(), errors="coerce")
    return pd.DataFrame(out, index=frame.index)


def read_margins_file(path: Path) -> pd.DataFrame:
    """Margins ``variable,level,total`` through the validated loader: levels stay text as
    written (``081``), totals read thousands separators; any bad line refuses the file
    (calibrating to part of the margins would give wrong weights)."""
    from botrygt_eval.io.responses import load_margins

    result = load_margins(path)
    if result.n_quarantined:
        first = result.quarantined.iloc[0]
        raise InputFileError(
            f"{path}: {result.n_quarantined:,} margin line(s) cannot be used, e.g. line "
            f"{first['source_row']}: {first['reason']}; correct the margins file and run again"
        )
    return result.data


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV or parquet file (by extension), creating the folder; never a CPR number."""
    from botrygt_eval.privacy.guard import check_no_cpr

    check_no_cpr(frame, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame.to_parquet(path, index=False)
        except ImportError as exc:
            raise InputFileError(
                f"cannot write {path}: parquet needs a working pyarrow ({exc}); write CSV"
            ) from exc
    else:
        frame.to_csv(path, index=False)


def _year_from_name(path: Path) -> int:
    found = re.findall(r"(?<!\d)(\d{4})(?!\d)", path.stem)
    if not found:
        raise ConfigError(
            f"cannot tell the survey year from {path.name}; give --year (e.g. --year 2026)"
        )
    return int(found[-1])


@app.command(
    "sample",
    epilog=(
        "Example: botrygt-eval sample --frame data/survey/frame_2026.parquet "
        "--out data/survey/sample_2026.csv --allocation moe --target-moe 0.05 "
        "--expected-response 0.35 --seed 2026 --report allocation_2026.csv\n\n"
        "A real frame with CPR numbers (column cpr) needs a secret key: --key-file "
        "~/.botrygt/pseudonym.key (or $BOTRYGT_PSEUDONYM_KEY); the distribution list with the "
        "CPR numbers goes to FORTROLIGT_udsendelsesliste_cpr/ next to --out"
    ),
)
def sample_cmd(
    frame: Annotated[Path, typer.Option("--frame", help="Sampling frame (.parquet or .csv).")],
    out: OutOption("Sample file to write (.csv or .parquet)."),
    allocation: Annotated[
        str, typer.Option("--allocation", help="proportional, equal, power, neyman or moe.")
    ] = "moe",
    n_total: Annotated[
        int | None, typer.Option("--n-total", help="Persons to invite (not for moe).")
    ] = None,
    power: Annotated[
        float, typer.Option("--power", help="q in n_h ∝ N_h^q (power allocation).")
    ] = 0.5,
    target_moe: Annotated[
        float,
        typer.Option(
            "--target-moe", help="Margin of error for p=0.2 per kommune (moe allocation)."
        ),
    ] = 0.05,
    expected_response: Annotated[
        float, typer.Option("--expected-response", help="Expected response rate, e.g. 0.35.")
    ] = 1.0,
    sd_file: Annotated[
        Path | None,
        typer.Option(
            "--sd-file",
            help="Neyman: CSV with kommune_kode,sd (default: sqrt(p(1-p)) at p=0.2).",
        ),
    ] = None,
    min_per_stratum: Annotated[
        int, typer.Option("--min-per-stratum", help="Minimum n per kommune.")
    ] = 0,
    seed: SeedOption("Random seed (same seed, same sample).") = DEFAULT_SEED,
    year: YearOption("Survey year (default: from the file name).", optional=True) = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the allocation report (CSV).")
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Secret pseudonym key (64+ hex characters) for a frame with CPR numbers; "
            "default $BOTRYGT_PSEUDONYM_KEY. Never inside the repository or the outputs.",
        ),
    ] = None,
    distribution_dir: Annotated[
        Path | None,
        typer.Option(
            "--distribution-dir",
            help="Folder of the distribution list (CPR numbers); its name must be "
            "FORTROLIGT_udsendelsesliste_cpr (default: that folder next to --out).",
        ),
    ] = None,
) -> None:
    """Allocate across municipalities and draw a stratified random sample with design weights."""
    import pandas as pd

    from botrygt_eval.privacy.guard import DISTRIBUTION_DIR, write_distribution_list
    from botrygt_eval.privacy.pseudonym import load_key
    from botrygt_eval.sampling.draw import ALLOCATIONS, CPR_COLUMN, draw_sample

    check_option("--allocation", allocation, ALLOCATIONS)
    data = read_table(frame)
    key = None
    if CPR_COLUMN in data.columns:
        distribution_dir = distribution_dir or out.parent / DISTRIBUTION_DIR
        outputs = [out.parent, distribution_dir] + ([report.parent] if report else [])
        key = load_key(key_file, forbidden=outputs)
    sd = None
    if sd_file is not None:
        sds = read_table(sd_file)
        if not {"kommune_kode", "sd"} <= set(sds.columns):
            raise InputFileError(f"{sd_file} needs the columns kommune_kode,sd")
        sd = sds.set_index("kommune_kode")["sd"]
    result = draw_sample(
        data,
        year=year if year is not None else _year_from_name(frame),
        method=allocation,  # type: ignore[arg-type]
        n_total=n_total,
        power=power,
        sd=sd,
        target_moe=target_moe if allocation == "moe" else None,
        expected_response=expected_response,
        min_per_stratum=min_per_stratum,
        seed=seed,
        pseudonym_key=key,
    )
    write_table(result.sample, out)
    if result.distribution is not None:
        year_ = result.settings["year"]
        dist = write_distribution_list(
            result.distribution, distribution_dir / f"udsendelsesliste_{year_}_FORTROLIG.csv"
        )
        Console(stderr=True).print(
            f"[bold red]FORTROLIGT / CONFIDENTIAL:[/] {dist} holds the CPR numbers of "
            f"{len(result.distribution):,} persons (the e-Boks distribution list, CPR → resp_id). "
            "It is personal data: never share, copy or attach it; keep it only until the "
            "invitations are sent, then delete it. The sample itself holds pseudonyms only.",
            highlight=False,
        )
    if report is not None:
        write_table(result.allocation, report)
    a = result.allocation
    table = Table(title="Allokering (største og mindste kommuner)")
    for col in ("kommune_kode", "N_h", "inviterede", "forventede svar", "forventet MOE"):
        table.add_column(col, justify="right")
    shown = pd.concat([a.nlargest(3, "N_h"), a.nsmallest(3, "N_h")]).drop_duplicates()
    for r in shown.to_dict("records"):
        table.add_row(
            str(r["kommune_kode"]),
            f"{int(r['N_h']):,}",
            f"{int(r['n_invited']):,}",
            f"{r['expected_respondents']:,.0f}",
            f"±{100 * r['expected_moe']:.1f} procentpoint",
        )
    console = Console()
    console.print(table)
    console.print(result.summary())
    console.print(f"Sample written to {out} ({len(result.sample):,} rows)")
