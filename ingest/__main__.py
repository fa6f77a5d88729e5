"""Load every extract into the warehouse without Dagster: `python -m ingest --help`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ingest.pipelines import SOURCES, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extracts", type=Path, default=Path("data/sandbox"))
    parser.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    parser.add_argument(
        "--pipelines-dir", type=Path, help="dlt state (default: next to the warehouse)"
    )
    parser.add_argument(
        "systems", nargs="*", metavar="system", help=f"default: all of {list(SOURCES)}"
    )
    args = parser.parse_args()
    unknown = set(args.systems) - set(SOURCES)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; known: {list(SOURCES)}")
    pipelines_dir = args.pipelines_dir or args.warehouse.parent / "dlt"
    for system in args.systems or SOURCES:
        info = load(system, args.extracts, args.warehouse, pipelines_dir)
        print(f"{system}: {len(info.loads_ids)} load package(s) into raw_{system}")


if __name__ == "__main__":
    main()
