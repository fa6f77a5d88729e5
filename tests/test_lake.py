"""The main job with the raw layer in a Parquet lake (FINSYNC_LAKE_URL, ingest/lake.py).

A second small enterprise, the same as the session's, is loaded by the real Dagster job into
a lake instead of the warehouse, twice: once whole, and again after a business day that
changes records of every system (a promoted worker, a moved and a deleted opportunity, the
ERP's postings). In a lake dlt appends what it merges in the warehouse, so after the day
each raw table is a log of versions: the raw contracts and the checkpoints must hold for
the latest version of each key, and the marts must be the warehouse's.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from ingest.lake import LAKE_URL, publish_views
from ingest.pipelines import SOURCES
from orchestration.automation import actuals_request
from orchestration.jobs import ACTUALS_JOB
from orchestration.paths import Paths
from orchestration.reconciliation.checkpoints import PAYROLL_RESULTS
from sandbox.api import Enterprise
from sandbox.generate import generate
from tests.conftest import SCALE, SEED, query, run_main_job


@dataclass(frozen=True)
class LakeRuns:
    paths: Paths
    first: dg.ExecuteInProcessResult
    marts_first: dict[str, list[tuple]]
    daily: dg.ExecuteInProcessResult
    after_day: dg.ExecuteInProcessResult
    changes: dict[str, dict[str, int]]


# what the marts hold: the GL products and the drivers from payroll and the CRM
MARTS = {
    "trial_balance": "select entity_code, account_code, period_id, currency_functional,"
    " opening_functional, movement_functional, closing_functional from marts.trial_balance",
    "fct_gl_journal_lines": "select period_id, currency_functional, count(*),"
    " sum(amount_functional), sum(amount_group) from marts.fct_gl_journal_lines group by all",
    "workforce_cost_drivers": "select * from marts.workforce_cost_drivers",
    "revenue_pipeline_drivers": "select * from marts.revenue_pipeline_drivers",
}


def marts_of(paths: Paths) -> dict[str, list[tuple]]:
    return {mart: sorted(query(paths, f"{sql} order by all")) for mart, sql in MARTS.items()}


@pytest.fixture(scope="module")
def lake_runs(
    tmp_path_factory: pytest.TempPathFactory, main_run: dg.ExecuteInProcessResult
) -> LakeRuns:
    """The session's main run comes first: it runs without the lake's environment."""
    paths = Paths(tmp_path_factory.mktemp("lake_data"))
    generate(paths.extracts, scale=SCALE, seed=SEED)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINSYNC_DATA_DIR", str(paths.data))
        env.setenv(LAKE_URL, str(paths.data / "lake"))
        with Enterprise(paths.extracts) as systems:
            for name, value in systems.env().items():
                env.setenv(name, value)
            first = run_main_job(paths)
            marts_first = marts_of(paths)
            changes = systems.advance_business_day()
            daily = run_daily_sync(paths, systems.erp.today)
            after_day = run_main_job(paths)
    return LakeRuns(paths, first, marts_first, daily, after_day, changes)


def run_daily_sync(paths: Paths, day: date) -> dg.ExecuteInProcessResult:
    """The actuals sync as the daily schedule requests it on `day`."""
    from orchestration.graph import build

    request = actuals_request(day)
    with dg.DagsterInstance.ephemeral() as instance:
        return (
            build(paths)
            .resolve_job_def(ACTUALS_JOB)
            .execute_in_process(
                instance=instance,
                raise_on_error=False,
                partition_key=request.partition_key,
                tags=request.tags,
            )
        )


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) > 100
    return [c.asset_check_key.to_user_string() for c in evaluations if not c.passed]


def test_dlt_writes_the_raw_layer_to_the_lake_and_the_warehouse_views_it(
    lake_runs: LakeRuns,
) -> None:
    lake = lake_runs.paths.data / "lake"
    assert list((lake / "raw_erp" / "journal_items").glob("*.parquet"))
    tables = query(
        lake_runs.paths,
        "select table_schema, table_type, count(*) from information_schema.tables"
        " where table_schema like 'raw_%' group by all order by all",
    )
    assert {schema for schema, _, _ in tables} == {
        "raw_crm", "raw_erp", "raw_fpa", "raw_payroll", "raw_regional_erp",
    }  # fmt: skip
    assert {kind for _, kind, _ in tables} == {"VIEW"}  # no table: dlt wrote none


def test_the_loads_and_dbt_make_the_same_views_of_the_lake(
    lake_runs: LakeRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt's runs remake the views its loads made (the lake_views macro, ingest/lake.py): the
    raw contracts find a rowid whichever made them last."""
    views = (
        "select schema_name, view_name, sql from duckdb_views()"
        " where schema_name like 'raw_%' order by all"
    )
    by_dbt = query(lake_runs.paths, views)  # the main job's dbt build ran after its loads
    monkeypatch.setenv(LAKE_URL, str(lake_runs.paths.data / "lake"))
    for dataset in {schema for schema, _, _ in by_dbt}:
        publish_views(lake_runs.paths.warehouse, dataset)
    assert query(lake_runs.paths, views) == by_dbt
    assert len(by_dbt) > 15
    assert all(" rowid" in sql for _, _, sql in by_dbt)


def test_the_main_job_passes_every_check_on_the_lake(lake_runs: LakeRuns) -> None:
    assert lake_runs.first.success
    assert failed_checks(lake_runs.first) == []


def test_the_lake_builds_the_marts_the_warehouse_builds(paths: Paths, lake_runs: LakeRuns) -> None:
    """The session's main run loaded the same enterprise into the warehouse."""
    assert lake_runs.marts_first == marts_of(paths)
    assert all(lake_runs.marts_first.values())


def test_the_daily_sync_republishes_the_period_its_close_still_posts_to(
    lake_runs: LakeRuns,
) -> None:
    """The day opens a fiscal period and posts the previous one's closing adjustments: the
    schedule's run publishes both periods, so no file disagrees with its mart."""
    periods = {
        event.partition
        for event in lake_runs.daily.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(["exports", "fpa_actuals"])
    }
    assert lake_runs.daily.success
    assert len(periods) == 2
    assert failed_checks(lake_runs.daily) == []


def test_the_daily_sync_records_each_dbt_test_it_runs_as_a_check(lake_runs: LakeRuns) -> None:
    """dbt also runs the relationships tests of models the sync does not rebuild against the
    dimensions it does: the job selects them, so each has a check result, not an observation
    logged with a warning (orchestration/jobs.py: with_dbt_tests_reading)."""
    evaluated = {
        check.asset_check_key.to_user_string()
        for check in lake_runs.daily.get_asset_check_evaluations()
    }
    assert (
        "marts/dim_customer:relationships_dim_customer_entity_code__entity_code__ref_dim_legal_entity_"
        in evaluated
    )
    assert lake_runs.daily.get_asset_observation_events() == []


def test_after_a_day_of_changed_records_every_check_holds_on_the_latest_versions(
    lake_runs: LakeRuns,
) -> None:
    changed = {system: sum(n.values()) for system, n in lake_runs.changes.items()}
    assert all(changed[system] > 0 for system in ("erp", "payroll", "crm")), changed
    # the lake keeps every version: the promoted worker has two rows in raw, one in staging
    [(versions, workers, staged)] = query(
        lake_runs.paths,
        "select (select count(*) from raw_payroll.workers),"
        " (select count(distinct worker_id) from raw_payroll.workers),"
        " (select count(*) from staging.stg_payroll__workers)",
    )
    assert versions > workers == staged
    assert lake_runs.after_day.success
    assert failed_checks(lake_runs.after_day) == []


def test_the_payroll_checkpoints_count_a_corrected_result_once() -> None:
    """A result the vendor corrects is a second version in a lake: the register ties to the
    latest one, not to both."""
    con = duckdb.connect()
    con.execute("create schema raw_payroll")
    con.execute(
        "create table raw_payroll.payroll_results as select * from (values"
        " ('R1', timestamp '2025-05-31 10:00', '1', 1000.00),"
        " ('R1', timestamp '2025-06-02 09:00', '2', 1100.00),"
        " ('R2', timestamp '2025-05-31 10:00', '1', 500.00))"
        " as t(payroll_result_id, last_updated, _dlt_load_id, gross_earnings)"
    )
    assert con.execute(
        f"select count(*), sum(gross_earnings) from ({PAYROLL_RESULTS})"
    ).fetchall() == [(2, Decimal("1600.00"))]


def test_a_load_into_the_lake_queues_with_its_source_not_the_warehouse(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It writes files: only the warehouse's writers and readers share the warehouse pool."""
    from orchestration.graph import build

    monkeypatch.setenv(LAKE_URL, str(paths.data / "lake"))
    graph = build(paths).resolve_asset_graph()
    pools = {
        key.path[0]: graph.get(key).pools
        for key in graph.get_all_asset_keys()
        if key.path[0].startswith("raw_") and graph.get(key).is_materializable
    }
    assert pools == {f"raw_{s}": {f"lake_{s}"} for s in SOURCES}
    marts = [graph.get(key).pools for key in graph.get_all_asset_keys() if key.path[0] == "marts"]
    assert marts and all(pool == {"warehouse"} for pool in marts)
