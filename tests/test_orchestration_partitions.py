"""Monthly fiscal-period partitions: the main job publishes every period as its own file,
and a backfill of a past period republishes that period's files only."""

import hashlib
from pathlib import Path

import dagster as dg
import pytest

from orchestration.exports.fpa import ACTUALS
from orchestration.exports.reporting import PERIOD_MARTS, reporting_key
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
        assert len(list((paths.exports / "reporting" / mart).glob("period=*/*.parquet"))) == PERIODS


def fingerprints(root: Path) -> dict[str, tuple[int, str]]:
    return {
        path.relative_to(root).as_posix(): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def period_files(exports: Path) -> dict[str, list[Path]]:
    """Every per-period file, by dataset: FP&A actuals and workforce, each reporting mart."""
    datasets = {
        "fpa/actuals": sorted((exports / "fpa" / "actuals").glob("*.csv")),
        "fpa/workforce": sorted((exports / "fpa" / "workforce").glob("*.csv")),
    }
    for mart in PERIOD_MARTS:
        datasets[f"reporting/{mart}"] = sorted(
            (exports / "reporting" / mart).glob("period=*/*.parquet")
        )
    return datasets


def test_backfilling_a_past_period_republishes_that_period_only(
    paths: Paths, main_run, tmp_path
) -> None:
    """Every period's files are made stale (each holds another period's content); the
    backfill of 2024-06 (2025-P03) republishes that period's files from the marts and leaves every
    other period's stale file as it was."""
    from orchestration.graph import build

    copy = copy_data_dir(paths, tmp_path / "data")
    datasets = period_files(copy.exports)
    for files in datasets.values():
        contents = [f.read_bytes() for f in files]
        for index, file in enumerate(files):
            file.write_bytes(contents[(index + 1) % len(files)])
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
    period_file = copy.exports / "fpa" / "actuals" / "2025-P03.csv"
    [(rows,)] = query(copy, "select count(*) from read_csv(?)", [str(period_file)])
    [(expected,)] = query(
        copy,
        "select count(*) from (select distinct entity_code, account_code, cost_center_code"
        " from marts.fct_gl_journal_lines inner join marts.dim_account using (account_code)"
        " where statement = 'PL' and period_id = '2025-P03')",
    )
    # the period exports the job republishes, as its materializations say
    exported = {event.asset_key for event in result.get_asset_materialization_events()}
    republished = sorted(
        ["fpa/actuals/2025-P03.csv", "fpa/workforce/2025-P03.csv"]
        + [
            f"reporting/{mart}/period=2025-P03/data.parquet"
            for mart in PERIOD_MARTS
            if reporting_key(mart) in exported
        ]
    )
    assert result.success
    assert materialized == {"2024-06"}
    assert {ACTUALS, reporting_key("trial_balance")} <= exported
    assert changed == sorted([*republished, "fpa/manifest.json"])
    # each republished dataset file holds exactly its mart's rows of the period
    for name in republished:
        if name.startswith("reporting/"):
            mart, file = name.split("/")[1], str(copy.exports / name)
            in_mart = f"select * from marts.{mart} where period_id = '2025-P03'"
            in_file = "select * from read_parquet(?, hive_partitioning = false)"
            [(differing,)] = query(
                copy,
                f"select count(*) from (({in_mart} except all {in_file})"
                f" union all ({in_file} except all {in_mart}))",
                [file, file],
            )
            assert (mart, differing) == (mart, 0)
    assert [name for name in before if "2025-P04" in name and after[name] != before[name]] == []
    assert rows == expected > 0
