"""Run the floor (`floor.sql`) on a scale's extracts: `python -m bench.floor DIR`.

DIR holds the extracts (`DIR/sandbox`); the floor writes its warehouse and exports
under `DIR/floor`, from scratch each time, with DuckDB's defaults (every core, 80% of
the memory, insertion order kept), as a plain script runs (finsync's dbt has 4GB and
keeps no order, its Python steps 2GB). It runs the script a statement at a time, the
work the whole script does, to time its phases (`PHASES`, in `DIR/floor/phases.json`),
which the bench sets against finsync's layers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import duckdb

from orchestration.paths import DBT_PROJECT_DIR

SCRIPT = Path(__file__).with_name("floor.sql")
# the floor's three phases, as finsync's layers do the same work: ingest, the dbt build,
# the exports (finsync's checks, reconciliation and orchestration have no counterpart)
PHASES = ("load", "products", "exports")
READS_FILES = ("read_parquet(", "read_csv(", "read_json(")


def phase_of(statement: duckdb.Statement) -> str:
    """`exports` for a COPY (the files written), `load` for a statement reading extract or
    seed files, `products` for everything else."""
    if statement.type == duckdb.StatementType.COPY:
        return "exports"
    if any(reader in statement.query for reader in READS_FILES):
        return "load"
    return "products"


def run(data: Path) -> Path:
    out = data / "floor"
    shutil.rmtree(out, ignore_errors=True)
    for folder in ("reporting", "fpa"):
        (out / "exports" / folder).mkdir(parents=True)
    os.chdir(out)  # the script writes its exports relative to where it runs
    seconds = dict.fromkeys(PHASES, 0.0)
    with duckdb.connect(str(out / "floor.duckdb")) as con:
        con.execute("set variable extracts = ?", [str(data / "sandbox")])
        con.execute("set variable seeds = ?", [str(DBT_PROJECT_DIR / "seeds")])
        for statement in con.extract_statements(SCRIPT.read_text()):
            started = time.perf_counter()
            con.execute(statement)
            seconds[phase_of(statement)] += time.perf_counter() - started
    (out / "phases.json").write_text(json.dumps(seconds, indent=2))
    return out / "floor.duckdb"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    run(parser.parse_args().data.resolve())
