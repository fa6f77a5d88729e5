"""Invariant 6: re-running the main job with the same extracts changes nothing."""

import dagster as dg

from orchestration.paths import Paths
from tests.conftest import query, run_main_job

SCHEMAS = (
    "raw_erp",
    "raw_regional_erp",
    "raw_payroll",
    "raw_crm",
    "raw_fpa",
    "intermediate",
    "marts",
    "quarantine",
    "seeds",
)


def fingerprint(paths: Paths) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every row of every table."""
    tables = query(
        paths,
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_type = 'BASE TABLE' and table_schema in (select unnest(?))"
        " and not starts_with(table_name, '_dlt')",
        [list(SCHEMAS)],
    )
    return {
        table: tuple(query(paths, f"select count(*), bit_xor(hash(t)) from {table} as t")[0])
        for (table,) in tables
    }


def test_second_run_changes_no_row(paths: Paths, main_run: dg.ExecuteInProcessResult) -> None:
    before = fingerprint(paths)
    second = run_main_job(paths)
    after = fingerprint(paths)
    assert second.success
    assert len(before) > 30
    assert after == before


def test_second_run_loads_no_raw_row(paths: Paths, main_run: dg.ExecuteInProcessResult) -> None:
    second = run_main_job(paths)
    loaded = {
        event.asset_key.to_user_string(): event.materialization.metadata.get("rows_loaded")
        for event in second.get_asset_materialization_events()
        if event.asset_key.path[0].startswith("raw_")
    }
    assert len(loaded) == 21  # 18 extract feeds + ERP journal changes, close calendar, events
    assert {value for value in loaded.values() if value is not None} == set()
