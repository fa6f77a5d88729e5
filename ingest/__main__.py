"""Load every extract into the warehouse without Dagster: `python -m ingest --help`.

Prints rows and rows per second per system: `--serve` starts the demo enterprise's APIs
on loopback over the same extracts for the run, `--no-bulk` takes every ERP journal line
through the API instead of the bulk files (the API path's throughput).
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import nullcontext
from pathlib import Path

from ingest.erp import erp
from ingest.pipelines import SOURCES, load, pipeline
from sandbox.api import Enterprise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extracts", type=Path, default=Path("data/sandbox"))
    parser.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    parser.add_argument(
        "--pipelines-dir", type=Path, help="dlt state (default: next to the warehouse)"
    )
    parser.add_argument("--serve", action="store_true", help="serve the simulated APIs")
    parser.add_argument("--no-bulk", action="store_true", help="ERP journals via the API")
    parser.add_argument(
        "systems", nargs="*", metavar="system", help=f"default: all of {list(SOURCES)}"
    )
    args = parser.parse_args()
    unknown = set(args.systems) - set(SOURCES)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; known: {list(SOURCES)}")
    pipelines_dir = args.pipelines_dir or args.warehouse.parent / "dlt"
    with Enterprise(args.extracts, float("inf")) if args.serve else nullcontext() as systems:
        if systems is not None:
            os.environ.update(systems.env())
        for system in args.systems or SOURCES:
            started = time.perf_counter()
            if system == "erp" and args.no_bulk:
                dlt_pipeline = pipeline(system, args.warehouse, pipelines_dir)
                info = dlt_pipeline.run(
                    erp(extracts_dir=str(args.extracts), bulk=False), loader_file_format="parquet"
                )
                info.raise_on_failed_jobs()
            else:
                info = load(system, args.extracts, args.warehouse, pipelines_dir)
            seconds = time.perf_counter() - started
            trace = pipeline(system, args.warehouse, pipelines_dir).last_trace
            counts = trace.last_normalize_info.row_counts if trace.last_normalize_info else {}
            rows = sum(n for table, n in counts.items() if not table.startswith("_dlt"))
            print(
                f"{system}: {len(info.loads_ids)} load package(s) into raw_{system},"
                f" {rows} rows in {seconds:.1f} s ({rows / seconds:.0f} rows/s)"
            )


if __name__ == "__main__":
    main()
