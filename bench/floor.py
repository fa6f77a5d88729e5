"""Run the floor (`floor.sql`) on a scale's extracts: `python -m bench.floor DIR`.

DIR holds the extracts (`DIR/sandbox`); the floor writes its warehouse and exports
under `DIR/floor`, from scratch each time, with the same DuckDB settings as finsync.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import duckdb

from orchestration.paths import DBT_PROJECT_DIR

SCRIPT = Path(__file__).with_name("floor.sql")


def run(data: Path) -> Path:
    out = data / "floor"
    shutil.rmtree(out, ignore_errors=True)
    for folder in ("reporting", "fpa"):
        (out / "exports" / folder).mkdir(parents=True)
    os.chdir(out)  # the script writes its exports relative to where it runs
    with duckdb.connect(str(out / "floor.duckdb")) as con:
        con.execute("set variable extracts = ?", [str(data / "sandbox")])
        con.execute("set variable seeds = ?", [str(DBT_PROJECT_DIR / "seeds")])
        con.execute(SCRIPT.read_text())
    return out / "floor.duckdb"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    run(parser.parse_args().data.resolve())
