"""Run every ``benchmarks/bench_*.py`` and write the side-by-side table.

Usage: python benchmarks/run.py --out benchmarks/RESULTS.md [--only NAME]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import run_case  # noqa: E402


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--only", default=None, help="run only bench modules whose name contains this"
    )
    args = parser.parse_args()
    load_at_start = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = []
    for path in sorted(HERE.glob("bench_*.py")):
        if args.only and args.only not in path.stem:
            continue
        module = _load(path)
        for case in module.CASES:
            print(f"[bench] {path.stem}: {case.name}", flush=True)
            rows.extend(run_case(case))
    lines = [
        "# Benchmarks",
        "",
        f"Run on {date.today().isoformat()}, Python {platform.python_version()}, "
        f"{platform.machine()}, by `make bench`. Best wall time of repeated runs (5 unless noted) after a warm-up; "
        "`ratio` = peer time / botrygt_eval time (above 1: we are faster).",
        f"Load average at the start: {load_at_start} (2 cores; above 2 means the timings are disturbed).",
        "",
        "| case | implementation | seconds | ratio | status |",
        "|---|---|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['implementation']} | {r['seconds']:.4f} | "
            f"{r['ratio']:.2f} | {r['status']} |"
        )
    notes = [f"- **{r['case']}**: {r['note']}" for r in rows if r["note"]]
    if notes:
        lines += ["", "## Notes", "", *notes]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    failed = [r["case"] for r in rows if r["status"].startswith("FAILED")]
    if failed:  # written to the table, and the run says so
        sys.exit(f"our implementation failed in: {'; '.join(failed)}")


if __name__ == "__main__":
    main()
