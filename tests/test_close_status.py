"""close_status: one row per ERP entity and fiscal period of the close calendar, promised
hourly; periods whose milestones were all reached are done, the open one pending, and a
period whose milestone is past its planned date without its event is late."""

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.automation import HOURLY
from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.resources import open_warehouse
from tests.conftest import query
from tests.copies import copy_warehouse

CLOSE_STATUS = dg.AssetKey(["marts", "close_status"])
DBT = str(Path(sys.executable).with_name("dbt"))  # the environment's dbt, on PATH or not


def test_close_status_is_promised_hourly_to_the_controller(paths: Paths) -> None:
    from orchestration.graph import build

    spec = build(paths).resolve_asset_graph().get(CLOSE_STATUS)
    assert spec.freshness_policy == HOURLY
    assert spec.owners == ["team:controller"]
    assert spec.tags["promise"] == "close_status"


def test_every_entity_and_period_of_the_calendar_has_a_close_status(paths: Paths, main_run) -> None:
    by_status = dict(
        query(paths, "select close_status, count(*) from marts.close_status group by all")
    )
    [(entities, periods, last)] = query(
        paths,
        "select count(distinct entity_code), count(distinct period_id), max(period_id)"
        " from marts.close_status",
    )
    open_period = query(
        paths,
        "select distinct close_status, milestones_done, milestones_planned, next_milestone"
        " from marts.close_status where period_id = ?",
        [last],
    )
    [(restatements,)] = query(paths, "select sum(restatements) from marts.close_status")
    assert (entities, periods) == (6, 24)  # the six S/4 companies; BR01 closes elsewhere
    assert by_status == {"done": 6 * 23, "pending": 6}
    # the ERP's clock is the last period's first working day after its end
    assert open_period == [("pending", 1, 4, "AccrualsPosted")]
    assert restatements == 0


@pytest.fixture(scope="module")
def missing_lock(paths: Paths, main_run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the warehouse where DE01's lock of 2026-P10 never arrived, and the close
    models rebuilt by dbt on it."""
    data = tmp_path_factory.mktemp("late_close")
    copy_warehouse(paths.warehouse, data)
    with open_warehouse(data / "warehouse.duckdb", read_only=False) as con:
        con.execute(
            "delete from raw_erp.close_milestone_events where company_code = 'DE01'"
            " and fiscal_year = 2026 and fiscal_period = 10 and milestone = 'PeriodLocked'"
        )
    target = data / "target"
    build = subprocess.run(
        [
            DBT, "--no-use-colors", "build", "--select", "stg_erp__close_milestone_events+",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--log-path", str(data / "logs"),
        ],
        env={**os.environ, "FINSYNC_DATA_DIR": str(data)}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert build.returncode == 0, [r["unique_id"] for r in results if r["status"] != "success"]
    return data / "warehouse.duckdb"


def test_a_milestone_past_its_date_without_its_event_makes_the_period_late(
    missing_lock: Path,
) -> None:
    with open_warehouse(missing_lock) as con:
        late = con.execute(
            "select entity_code, period_id, milestones_done, milestones_late, next_milestone,"
            " locked_at from marts.close_status where close_status = 'late'"
        ).fetchall()
        [(pending,)] = con.execute(
            "select count(*) from marts.close_status where close_status = 'pending'"
        ).fetchall()
    assert late == [("DE01", "2026-P10", 3, 1, "PeriodLocked", None)]
    assert pending == 6  # the open period is pending, not late: its dates are ahead
