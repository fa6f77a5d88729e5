"""The memory bound of every DuckDB connection the Dagster process opens: dlt's and its own
(orchestration/resources.py). dbt's subprocess has its own in its profile."""

from __future__ import annotations

import os


def duckdb_bounds() -> dict[str, str]:
    """dlt's DuckDB connections get the memory bound the Dagster process's own have
    (orchestration/resources.py, one setting: `FINSYNC_DUCKDB_MEMORY_LIMIT`). Left alone,
    DuckDB takes 80% of the machine, and dlt's merge of a 10M-line history would grow into
    it beside dbt's and Dagster's connections; beyond the bound it spills to disk."""
    return {"memory_limit": os.environ.get("FINSYNC_DUCKDB_MEMORY_LIMIT", "2GB")}
