"""Issue 5: a backfill of a past fiscal period rebuilds and republishes that period only.

The GL models are incremental by fiscal period. A run of `publish_fiscal_periods` for one
partition runs dbt with that period (var `period`): its rows in the GL fact are
rewritten, every other period's rows stay byte for byte as the main job left them.
One extra dbt invocation, on a private copy of the session's warehouse.
"""

import dagster as dg
import pytest

from orchestration.jobs import PERIODS_JOB
from orchestration.partitions import PERIODS_JOB as BACKFILL_JOB
from orchestration.partitions import backfilled_period
from orchestration.paths import Paths
from tests.conftest import query
from tests.copies import copy_data_dir

PARTITION, PERIOD = "2024-06", "2025-P03"
GL_FACT = "marts.fct_gl_journal_lines"


def rows_by_period(paths: Paths) -> dict[str, tuple]:
    """Per period of the fact: rows, an order-independent hash of the whole rows, and their
    build times."""
    return {
        period: (rows, digest, built)
        for period, rows, digest, built in query(
            paths,
            f"select period_id, count(*), bit_xor(hash(t)), list(distinct _built_at)"
            f" from {GL_FACT} as t group by period_id",
        )
    }


@pytest.fixture(scope="module")
def backfill(
    paths: Paths, main_run, tmp_path_factory
) -> tuple[dict, dict, dg.ExecuteInProcessResult]:
    from orchestration.graph import build

    assert main_run.is_node_success("dbt_models")  # the warehouse the backfill starts from
    copy = copy_data_dir(paths, tmp_path_factory.mktemp("backfill") / "data")
    before = rows_by_period(copy)
    with dg.DagsterInstance.ephemeral() as instance:
        result = (
            build(copy)
            .resolve_job_def(PERIODS_JOB)
            .execute_in_process(instance=instance, partition_key=PARTITION, raise_on_error=False)
        )
    after = rows_by_period(copy)
    return before, after, result


def test_a_backfill_run_names_its_fiscal_period() -> None:
    run = dg.DagsterRun(job_name=BACKFILL_JOB, tags={"dagster/partition": PARTITION})
    daily = dg.DagsterRun(job_name="daily_actuals_sync", tags={"dagster/partition": PARTITION})
    assert backfilled_period(run) == PERIOD
    assert backfilled_period(daily) is None  # the daily sync builds every changed period


def test_backfill_rewrites_the_period_and_leaves_the_others_byte_identical(backfill) -> None:
    before, after, _ = backfill
    changed = sorted(period for period in after if after[period] != before[period])
    rows, digest, built = after[PERIOD]
    assert changed == [PERIOD]
    assert set(after) == set(before)
    # the same lines, rewritten by the backfill's dbt run (later than any before it)
    assert rows == before[PERIOD][0] > 0
    assert len(built) == 1
    assert built[0] > max(stamp for _, _, stamps in before.values() for stamp in stamps)


def test_backfill_runs_dbt_for_the_gl_models(backfill) -> None:
    """The periods job builds the GL models in dbt before it republishes the period's files
    (that only the period's files change is tests/test_orchestration_partitions.py's)."""
    _, _, result = backfill
    built = {
        event.asset_key.to_user_string() for event in result.get_asset_materialization_events()
    }
    assert result.is_node_success("dbt_models")
    assert {"intermediate/int_gl_journal_lines", "marts/fct_gl_journal_lines"} <= built
    # the closed-periods test also reads the trial balance the backfill rebuilds: a check
    assert result.get_asset_observation_events() == []
