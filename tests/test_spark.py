"""The same dbt project on Spark: from the same raw Parquet, the same marts as on DuckDB.

A small enterprise is loaded once by dlt into a Parquet lake (the filesystem destination,
chosen by FINSYNC_LAKE_URL). dbt builds the whole project from that lake on DuckDB and on
Spark (pyspark in local mode, the profile's `spark` target); DuckDB then reads Spark's
tables, which are Parquet folders, and compares every mart row by row and per period to
the cent. A second Spark run over a changed master record exercises what Spark's Parquet
tables do differently: the snapshot without MERGE and the incremental overwrite.
Slow (a JVM and ~400 nodes): marked `spark`, run by `make test-spark`.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ingest.lake import LAKE_URL
from ingest.pipelines import SOURCES, load
from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.pseudonym_key import hmac_pads, pseudonym_key
from orchestration.resources import open_warehouse
from sandbox.api import Enterprise
from sandbox.generate import generate

pytestmark = pytest.mark.spark

SCALE, SEED = 0.01, 7
DBT = str(Path(sys.executable).with_name("dbt"))  # the environment's dbt, on PATH or not
# the run's own start time: differs between any two builds, on any engine
RUN_TIME_COLUMNS = {"recorded_at", "_built_at"}


@dataclass(frozen=True)
class Lake:
    paths: Paths

    @property
    def url(self) -> Path:
        return self.paths.data / "lake"

    def env(self) -> dict[str, str]:
        """What a dbt process needs: the data dir, the lake and, for Spark, the HMAC pads
        of the data dir's pseudonym key (DuckDB's profile plugin reads the same key)."""
        inner, outer = hmac_pads(pseudonym_key(self.paths.data))
        return {
            **os.environ,
            "FINSYNC_DATA_DIR": str(self.paths.data),
            LAKE_URL: str(self.url),
            "FINSYNC_PSEUDONYM_INNER": inner,
            "FINSYNC_PSEUDONYM_OUTER": outer,
        }

    def build(self, target: str, *select: str) -> tuple[subprocess.CompletedProcess, float]:
        args = [
            DBT, "--no-use-colors", "build", "--target", target,
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(self.paths.data / f"target-{target}"),
            "--log-path", str(self.paths.data / "logs"),
        ]  # fmt: skip
        if select:
            args += ["--select", *select]
        started = time.monotonic()
        done = subprocess.run(args, env=self.env(), capture_output=True, text=True, check=False)
        return done, time.monotonic() - started

    def spark_table(self, schema: str, table: str) -> str:
        """A Spark table as DuckDB reads it: the Parquet folder under the warehouse dir."""
        folder = self.paths.data / "spark" / "warehouse" / f"{schema}.db" / table
        return f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(Paths(tmp_path_factory.mktemp("lake")))
    generate(lake.paths.extracts, scale=SCALE, seed=SEED)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(LAKE_URL, str(lake.url))
        with Enterprise(lake.paths.extracts) as systems:
            for name, value in systems.env().items():
                env.setenv(name, value)
            for system in SOURCES:
                load(system, lake.paths.extracts, lake.paths.warehouse, lake.paths.dlt)
    return lake


@pytest.fixture(scope="module")
def builds(lake: Lake) -> dict[str, float]:
    """Both engines build the whole project from the lake; seconds per engine."""
    seconds = {}
    for target in ("duckdb", "spark"):
        done, seconds[target] = lake.build(target)
        assert done.returncode == 0, f"dbt build on {target} failed:\n{done.stdout[-6000:]}"
    print(f"\ndbt build, same lake: duckdb {seconds['duckdb']:.0f}s, spark {seconds['spark']:.0f}s")
    return seconds


def run_results(lake: Lake, target: str) -> dict[str, str]:
    path = lake.paths.data / f"target-{target}" / "run_results.json"
    return {r["unique_id"]: r["status"] for r in json.loads(path.read_text())["results"]}


def warehouse(lake: Lake) -> duckdb.DuckDBPyConnection:
    con = open_warehouse(lake.paths.warehouse)
    con.execute("set TimeZone = 'UTC'")
    return con


def test_dlt_writes_the_raw_layer_as_parquet_files_per_table(lake: Lake) -> None:
    files = sorted((lake.url / "raw_erp" / "journal_items").glob("*.parquet"))
    assert files, "no Parquet load files for raw_erp.journal_items"
    rows = sum(pq.read_metadata(file).num_rows for file in files)
    # the bulk history files, and the API's changes on top
    bulk = sum(
        pq.read_metadata(file).num_rows
        for file in (lake.paths.extracts / "erp" / "journal_items").glob("*.parquet")
    )
    assert rows >= bulk > 0, (rows, bulk)
    for system in SOURCES:
        assert list((lake.url / f"raw_{system}").glob("*/*.parquet")), system


def test_duckdb_reads_the_raw_layer_from_the_lake(lake: Lake, builds: dict[str, float]) -> None:
    with warehouse(lake) as con:
        kind = con.execute(
            "select table_type from information_schema.tables"
            " where table_schema = 'raw_erp' and table_name = 'journal_items'"
        ).fetchone()
        [(in_view,)] = con.execute("select count(*) from raw_erp.journal_items").fetchall()
        [(in_files,)] = con.execute(
            f"select count(*) from read_parquet('{lake.url}/raw_erp/journal_items/*.parquet')"
        ).fetchall()
    assert kind == ("VIEW",)
    assert in_view == in_files > 0


def test_every_node_builds_and_passes_on_both_engines(lake: Lake, builds: dict[str, float]) -> None:
    duck, spark = run_results(lake, "duckdb"), run_results(lake, "spark")
    assert set(spark) == set(duck)
    done = ("success", "pass", "no-op")  # an exposure is not built, it is a no-op
    failed = {node: status for node, status in spark.items() if status not in done}
    assert not failed
    assert len(spark) > 300


def test_marts_are_identical_on_spark_and_duckdb(lake: Lake, builds: dict[str, float]) -> None:
    """Row counts, per-period totals of every amount to the cent, and then every row."""
    differences = []
    with warehouse(lake) as con:
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]
        assert len(marts) >= 20, marts
        for mart in marts:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [mart],
            ).fetchall()
            names = [name for name, _ in columns if name not in RUN_TIME_COLUMNS]
            amounts = [name for name, kind in columns if kind.startswith("DECIMAL")]
            duck, spark = f"marts.{mart}", lake.spark_table("marts", mart)
            counts = [con.execute(f"select count(*) from {t}").fetchone()[0] for t in (duck, spark)]
            if counts[0] != counts[1]:
                differences.append(f"{mart}: {counts[0]} rows on DuckDB, {counts[1]} on Spark")
                continue
            if amounts and "period_id" in names:
                sums = ", ".join(f"sum({name})" for name in amounts)
                totals = [
                    con.execute(
                        f"select period_id, {sums} from {t} group by period_id order by period_id"
                    ).fetchall()
                    for t in (duck, spark)
                ]
                if totals[0] != totals[1]:
                    differences.append(f"{mart}: per-period totals differ")
            # timestamps as UTC wall time: Spark's Parquet has no time zone
            select = ", ".join(
                f"cast({name} as timestamp)" if kind.startswith("TIMESTAMP") else name
                for name, kind in columns
                if name in names
            )
            only = [
                con.execute(
                    f"select count(*) from (select {select} from {a} except all"
                    f" select {select} from {b})"
                ).fetchone()[0]
                for a, b in ((duck, spark), (spark, duck))
            ]
            if only != [0, 0]:
                differences.append(
                    f"{mart}: {only[0]} rows only on DuckDB, {only[1]} only on Spark"
                )
        # the check above must see money: the trial balance of a small enterprise is not empty
        trial_balance = lake.spark_table("marts", "trial_balance")
        [(moved,)] = con.execute(
            f"select sum(abs(movement_functional)) from {trial_balance}"
        ).fetchall()
    assert moved > Decimal("1000.00")
    assert not differences, "\n".join(differences)


def test_quarantine_refuses_the_same_rows_for_the_same_reasons(
    lake: Lake, builds: dict[str, float]
) -> None:
    with warehouse(lake) as con:
        reasons = [
            con.execute(f"select source_key, rejection_reason from {t} order by all").fetchall()
            for t in (
                "quarantine.quarantine_gl_journal_lines",
                lake.spark_table("quarantine", "quarantine_gl_journal_lines"),
            )
        ]
    assert reasons[0] == reasons[1]


def test_a_second_spark_run_keeps_history_and_closed_periods(
    lake: Lake, builds: dict[str, float]
) -> None:
    """A cost center changes owner in the ERP (one more dlt load file in the lake); the
    next Spark build keeps both versions (snapshot without MERGE) and records the
    closed periods again without a duplicate (incremental overwrite by partition)."""
    folder = lake.url / "raw_erp" / "cost_centers"
    versions = pq.read_table(folder).sort_by([("cost_center", "ascending")])
    cost_center = versions["cost_center"][0].as_py()
    latest = versions.filter(pc.equal(versions["cost_center"], cost_center)).sort_by(
        [("last_change_date_time", "descending")]
    )
    changed = {
        "person_responsible": pa.array(["Z. New Owner"]),
        "last_change_date_time": pc.add(latest["last_change_date_time"][:1], timedelta(days=1)),
        "_dlt_load_id": pa.array(["9999999999.0"]),
    }
    row = latest.slice(0, 1)
    for name, value in changed.items():
        row = row.set_column(row.schema.get_field_index(name), name, value)
    pq.write_table(row, folder / "9999999999.0.changed.parquet")

    done, _ = lake.build("spark", "snap_erp__cost_centers+", "trial_balance_closed_periods")
    assert done.returncode == 0, done.stdout[-6000:]

    with warehouse(lake) as con:
        versions = con.execute(
            "select person_responsible, dbt_valid_to is null"
            f" from {lake.spark_table('snapshots', 'snap_erp__cost_centers')}"
            " where cost_center_code = ? order by dbt_valid_from",
            [cost_center],
        ).fetchall()
        duplicates = con.execute(
            "select count(*) from (select entity_code, account_code, period_id"
            f" from {lake.spark_table('marts', 'trial_balance_closed_periods')}"
            " group by all having count(*) > 1)"
        ).fetchone()
        closed = [
            con.execute(f"select count(*) from {t}").fetchone()[0]
            for t in (
                "marts.trial_balance_closed_periods",
                lake.spark_table("marts", "trial_balance_closed_periods"),
            )
        ]
    assert versions[-1] == ("Z. New Owner", True)
    assert len(versions) == 2 and versions[0][1] is False
    assert duplicates == (0,)
    assert closed[0] == closed[1] > 0
