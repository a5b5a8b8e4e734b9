"""``botrygt-eval map``: a kommune's local monitoring tables (suppressed cells, hotspots, near repeat)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from botrygt_eval.cli import app
from botrygt_eval.cli.options import DataOption, LangOption, OutOption, SeedOption
from botrygt_eval.options import DEFAULT_SEED


@app.command(
    "map",
    epilog=(
        "Examples:\n\n"
        "  botrygt-eval map --data data/sim --kommune 101 --cell 1km --out out/lokal_101\n\n"
        "  botrygt-eval map --data data/sim --kommune København --cell 100m --threshold 10 "
        "--out out/lokal_101_100m\n\n"
        "  botrygt-eval map --data data/sim --kommune 101 --png --boundary kbh.geojson "
        "--out out/lokal_101\n\n"
        "  botrygt-eval map --data data/sim --kommune 101 --areas postnumre_celler.csv "
        "--out out/lokal_101"
    ),
)
def map_cmd(
    data: DataOption("Workspace folder with lokal/ (docs/DATA_FORMATS.md)."),
    kommune: Annotated[str, typer.Option("--kommune", help="Kommune code or name, e.g. 101.")],
    out: OutOption("Folder for the tables (created)."),
    cell: Annotated[str, typer.Option("--cell", help="Grid: 1km or 100m.")] = "1km",
    threshold: Annotated[
        int,
        typer.Option("--threshold", help="Disclosure threshold: fewest burglaries a cell shows."),
    ] = 5,
    periods: Annotated[int, typer.Option("--periods", help="Quarters to use (the last N).")] = 8,
    permutations: Annotated[
        int, typer.Option("--permutations", help="Knox Monte Carlo permutations.")
    ] = 99,
    seed: SeedOption("Seed of the Knox permutations.") = DEFAULT_SEED,
    png: Annotated[
        bool,
        typer.Option(
            "--png/--no-png",
            help="Also draw the maps (kort_indbrud.png, kort_nabohjaelp.png, "
            "naergentagelse.png); hidden cells are not drawn, no online tiles are used.",
        ),
    ] = False,
    boundary: Annotated[
        Path | None,
        typer.Option(
            "--boundary",
            help="GeoJSON polygon of the kommune (EPSG:25832 or WGS84) drawn on the maps.",
        ),
    ] = None,
    areas: Annotated[
        Path | None,
        typer.Option(
            "--areas",
            help="CSV cell_id,area placing each DST 100 m cell in a postal code or parish: "
            "also writes omraader.csv, the same measures per area (suppressed alike).",
        ),
    ] = None,
    lang: LangOption("Language of the maps: da or en.") = "da",
    quarantine: Annotated[
        Path | None,
        typer.Option(
            "--quarantine",
            help="Folder for rows that fail validation (personal data: keep it off shared "
            "drives). Default: counted only, not written.",
        ),
    ] = None,
) -> None:
    """Burglary and Nabohjælp per grid cell, gap index, Gi* hotspots and near-repeat table.

    Writes celler.csv (suppressed: no cell with fewer than --threshold burglaries),
    naergentagelse.csv (Knox table) and opsummering.json; with --areas also omraader.csv
    (per postal code or parish, suppressed alike); with --png also the maps.
    The input points are personal data and are never written out.
    """
    from botrygt_eval.monitoring import local_monitoring
    from botrygt_eval.privacy.guard import guarded_to_csv, guarded_write_text
    from botrygt_eval.reference import to_kommune_kode

    code = to_kommune_kode(kommune)
    result = local_monitoring(
        data,
        code,
        cell=cell,
        threshold=threshold,
        seed=seed,
        periods=periods,
        n_permutations=permutations,
        quarantine_dir=quarantine,
    )
    out.mkdir(parents=True, exist_ok=True)
    result.cells.to_csv(out / "celler.csv", index=False, lineterminator="\n")
    guarded_to_csv(result.near_repeat, out / "naergentagelse.csv", index=False,
                   lineterminator="\n")  # fmt: skip
    summary = result.to_dict()
    summary["load_log"] = [line.replace(str(data), "<data>") for line in summary["load_log"]]
    guarded_write_text(
        out / "opsummering.json",
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
    )
    if areas is not None:
        from botrygt_eval.monitoring import area_monitoring, load_area_lookup

        by_area = area_monitoring(data, code, load_area_lookup(areas), threshold, periods=periods)
        by_area.to_csv(out / "omraader.csv", index=False, lineterminator="\n")
    if png:
        from botrygt_eval.io.simulated import workspace_is_simulated as is_simulated
        from botrygt_eval.monitoring.png import write_map_pngs

        write_map_pngs(result, out, lang=lang, boundary=boundary, simulated=is_simulated(data))
    s = result.overview
    typer.echo(
        f"kommune {s['kommune_kode']}: {s['cells_published']} cells published, "
        f"{s['cells_hidden']} hidden (< {threshold} burglaries), "
        f"{len(s['hotspots'])} persistent hotspots -> {out}"
    )
