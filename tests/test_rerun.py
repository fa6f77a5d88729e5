"""Invariant 6: re-running the main job with the same extracts changes nothing."""

from dataclasses import dataclass

import dagster as dg
import pytest

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


@dataclass(frozen=True)
class Rerun:
    before: dict[str, tuple[int, int]]
    after: dict[str, tuple[int, int]]
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="module")
def rerun(paths: Paths, main_run: dg.ExecuteInProcessResult) -> Rerun:
    """The main job once more on the same extracts, with every table fingerprinted around it."""
    before = fingerprint(paths)
    result = run_main_job(paths)
    return Rerun(before, fingerprint(paths), result)


def test_second_run_changes_no_row(rerun: Rerun) -> None:
    assert rerun.result.success
    assert len(rerun.before) > 30
    assert rerun.after == rerun.before


def test_second_run_loads_no_raw_row(rerun: Rerun) -> None:
    loaded = {
        event.asset_key.to_user_string(): event.materialization.metadata.get("rows_loaded")
        for event in rerun.result.get_asset_materialization_events()
        if event.asset_key.path[0].startswith("raw_")
    }
    assert len(loaded) == 21  # 18 extract feeds + ERP journal changes, close calendar, events
    assert {value for value in loaded.values() if value is not None} == set()
