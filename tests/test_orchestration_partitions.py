"""Monthly fiscal-period partitions: the main job publishes every period as its own file,
and a backfill of a past period republishes that period's files only."""

import hashlib

import dagster as dg
import pytest

from orchestration.exports.reporting import PERIOD_MARTS
from orchestration.jobs import PERIODS_JOB
from orchestration.partitions import fiscal_periods, period_id
from orchestration.paths import Paths
from tests.conftest import query
from tests.copies import copy_data_dir

PERIODS = 24


@pytest.mark.parametrize(
    ("key", "fiscal"),
    [
        ("2024-04", "2025-P01"),
        ("2024-12", "2025-P09"),
        ("2025-03", "2025-P12"),
        ("2025-04", "2026-P01"),
    ],
)
def test_a_partition_is_a_fiscal_period(key: str, fiscal: str) -> None:
    assert period_id(key) == fiscal


def test_partitions_start_with_the_first_fiscal_period() -> None:
    assert fiscal_periods.get_first_partition_key() == "2024-04"


def test_the_main_job_publishes_every_period_as_a_partition(
    paths: Paths, main_run: dg.ExecuteInProcessResult
) -> None:
    materialized = {
        event.partition
        for event in main_run.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(["exports", "fpa_actuals"]) and event.partition
    }
    files = sorted(p.stem for p in (paths.exports / "fpa" / "actuals").glob("*.csv"))
    assert len(materialized) == PERIODS
    assert files == sorted(period_id(key) for key in materialized)
    for mart in PERIOD_MARTS:
        assert len(list((paths.exports / "reporting" / mart).glob("*.parquet"))) == PERIODS


def fingerprints(root) -> dict[str, tuple[int, str]]:
    return {
        str(path.relative_to(root)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_backfilling_a_past_period_republishes_that_period_only(
    paths: Paths, main_run, tmp_path
) -> None:
    from orchestration.definitions import build

    copy = copy_data_dir(paths, tmp_path / "data")
    period_file = copy.exports / "fpa" / "actuals" / "2025-P03.csv"
    period_file.write_text("stale\n")  # what the backfill must replace
    before = fingerprints(copy.exports)
    with dg.DagsterInstance.ephemeral() as instance:
        result = (
            build(copy)
            .resolve_job_def(PERIODS_JOB)
            .execute_in_process(instance=instance, partition_key="2024-06")
        )
        materialized = instance.get_materialized_partitions(dg.AssetKey(["exports", "fpa_actuals"]))
    after = fingerprints(copy.exports)
    changed = sorted(name for name in after if after[name] != before.get(name))
    [(rows,)] = query(
        copy,
        "select count(*) from read_csv(?)",
        [str(period_file)],
    )
    [(expected,)] = query(
        copy,
        "select count(*) from (select distinct entity_code, account_code, cost_center_code"
        " from marts.fct_gl_journal_lines inner join marts.dim_account using (account_code)"
        " where statement = 'PL' and period_id = '2025-P03')",
    )
    assert result.success
    assert materialized == {"2024-06"}
    assert changed == sorted(
        ["fpa/actuals/2025-P03.csv"]
        + [f"reporting/{mart}/2025-P03.parquet" for mart in PERIOD_MARTS]
    )
    assert rows == expected > 0
