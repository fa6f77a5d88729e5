"""Payroll privacy: no worker's name, national id or bank account leaves the raw layer,
employees are keyed by a secret HMAC, and no payroll product shows a group small
enough to read one person's pay off it.

The scan reads what a full run of the main job (the session's `main_run`) left
behind: every table outside the `raw_*` schemas, every export file, dbt's logs and
target files, and the run's Dagster events. The needles are the demo enterprise's
own workers, read from the generator's payroll extract.
"""

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from orchestration.checks.schemas import RAW
from orchestration.checks.suites import validate
from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.pseudonym_key import ENV, FILE_NAME, hmac_pads, pseudonym_key
from orchestration.resources import MARTS_CATALOG, open_warehouse
from tests.conftest import query
from tests.copies import copy_data_dir

DBT = str(Path(sys.executable).with_name("dbt"))  # the environment's dbt, on PATH or not
PII_FIELDS = ("Legal_Name", "National_ID", "Bank_Account")


# ---------------------------------------------------------------- the scanner


def find_leaks(
    warehouse: Path, files: Iterable[Path], texts: Mapping[str, str], needles: set[str]
) -> set[tuple[str, str]]:
    """(place, needle) for every needle found: in a table of any schema but `raw_*`,
    in a file (Parquet read as rows, anything else as text) or in a named text."""
    pattern = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    found: set[tuple[str, str]] = set()
    with open_warehouse(warehouse) as con:
        tables = con.execute(
            "select table_catalog, table_schema, table_name from information_schema.tables"
            " where table_catalog in (current_database(), ?)"
            " and not starts_with(table_schema, 'raw_')",
            [MARTS_CATALOG],
        ).fetchall()
        assert any(schema == "marts" for _, schema, _ in tables), "no mart to scan"
        for catalog, schema, table in tables:
            found |= _matches(
                con, f'"{catalog}"."{schema}"."{table}"', pattern, f"{schema}.{table}"
            )
        for path in files:
            if path.suffix == ".parquet":
                found |= _matches(con, f"read_parquet('{path}')", pattern, str(path))
            else:
                text = path.read_text(encoding="utf-8", errors="replace")
                found |= {(str(path), hit) for hit in re.findall(pattern, text)}
    for place, text in texts.items():
        found |= {(place, hit) for hit in re.findall(pattern, text)}
    return found


def _matches(con: duckdb.DuckDBPyConnection, relation: str, pattern: str, place: str) -> set:
    """Each row as JSON text, searched in the database: no table is pulled into Python."""
    rows = con.execute(
        f"select distinct unnest(regexp_extract_all(cast(to_json(r) as varchar), $1))"
        f" from {relation} as r",
        [pattern],
    ).fetchall()
    return {(place, hit) for (hit,) in rows}


def text_files(*roots: Path, since: float) -> list[Path]:
    return sorted(
        p
        for root in roots
        if root.exists()
        for p in root.rglob("*")
        if p.is_file() and p.stat().st_mtime >= since and p.suffix != ".duckdb"
    )


def failed_steps(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.step_key for event in result.get_step_failure_events()}


def events_text(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {"dagster events": "\n".join(repr(event) for event in result.all_events)}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def workers(paths: Paths) -> list[dict]:
    with (paths.extracts / "payroll" / "workers.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def cost_center_owners(paths: Paths, main_run) -> set[str]:
    """Names the ERPs publish as cost-center owners: master data, not payroll. The
    generator draws them from the same pool of names as workers, so one can match."""
    return {
        name
        for (name,) in query(
            paths,
            "select person_responsible from raw_erp.cost_centers"
            " union select responsavel from raw_regional_erp.cost_centers",
        )
    }


@pytest.fixture(scope="module")
def needles(workers: list[dict], cost_center_owners: set[str]) -> set[str]:
    pii = {worker[field] for worker in workers for field in PII_FIELDS}
    assert len(pii & cost_center_owners) <= 1  # at most one name coincides (seed 7: Ana Costa)
    return pii - cost_center_owners


@pytest.fixture(scope="module")
def key(paths: Paths, main_run) -> bytes:
    configured = os.environ.get(ENV)
    return configured.encode() if configured else (paths.data / FILE_NAME).read_bytes().strip()


@pytest.fixture(scope="module")
def run_files(paths: Paths, main_run) -> list[Path]:
    """Exports of the run, and dbt's logs and artifacts written since the session began."""
    began = (paths.extracts / "payroll" / "workers.jsonl").stat().st_mtime
    return text_files(
        paths.exports,
        paths.dbt,
        DBT_PROJECT_DIR / "logs",
        DBT_PROJECT_DIR / "target",
        paths.data / "logs",
        since=began,
    )


# ---------------------------------------------------------------- tests


def test_no_worker_name_national_id_or_bank_account_leaves_raw(
    paths: Paths, main_run, needles: set[str], run_files: list[Path]
) -> None:
    assert "dbt_models" not in failed_steps(main_run)  # every table was built
    assert len(needles) > 3 * 20  # three fields of every worker of the demo enterprise
    assert any(p.suffix == ".parquet" for p in run_files)  # the exports were scanned
    assert any(p.name == "dbt.log" for p in run_files)  # and dbt's log
    assert find_leaks(paths.warehouse, run_files, events_text(main_run), needles) == set()


def test_the_scan_finds_a_name_or_id_planted_in_a_table_an_export_and_a_log(
    paths: Paths, main_run, workers: list[dict], tmp_path: Path
) -> None:
    copy = copy_data_dir(paths, tmp_path / "copy")
    name, national_id, bank = (workers[0][field] for field in PII_FIELDS)
    with open_warehouse(copy.warehouse, read_only=False) as con:
        con.execute(
            "update marts.dim_cost_center set person_responsible = ?"
            " where cost_center_code = (select min(cost_center_code) from marts.dim_cost_center)",
            [name],
        )
    export = next(copy.exports.rglob("*.parquet"))
    with duckdb.connect() as con:
        con.execute(
            f"copy (select *, ? as note from read_parquet('{export}')) to '{export}.tmp'"
            " (format parquet)",
            [national_id],
        )
    shutil.move(f"{export}.tmp", export)
    log = tmp_path / "dbt.log"
    log.write_text(f"12:00:00 a log line that slipped: {bank}\n")
    files = [*copy.exports.rglob("*.parquet"), log]
    leaks = find_leaks(
        copy.warehouse, files, {"dagster events": "clean"}, {name, national_id, bank}
    )
    assert leaks == {
        ("marts.dim_cost_center", name),
        (str(export), national_id),
        (str(log), bank),
    }


def test_employee_key_is_the_hmac_of_the_worker_id_under_the_secret_key(
    paths: Paths, main_run, workers: list[dict], key: bytes, run_files: list[Path]
) -> None:
    expected = {
        hmac.new(key, worker["Worker_ID"].encode(), hashlib.sha256).hexdigest()
        for worker in workers
    }
    unkeyed = {hashlib.md5(worker["Worker_ID"].encode()).hexdigest() for worker in workers}
    keys = {k for (k,) in query(paths, "select employee_key from marts.dim_employee")}
    assert keys == expected
    assert len(key) >= 32
    # the key is in no table, view definition, export, log or event of the run
    secrets = {key.decode(), *hmac_pads(key)}
    assert find_leaks(paths.warehouse, run_files, events_text(main_run), secrets) == set()
    assert query(
        paths, "select count(*) from duckdb_views() where sql like $1", [f"%{key.decode()}%"]
    ) == [(0,)]
    assert keys.isdisjoint(unkeyed)
    if not os.environ.get(ENV):
        assert (paths.data / FILE_NAME).stat().st_mode & 0o077 == 0  # readable by its owner only


def test_no_worker_id_leaves_raw(paths: Paths, main_run, workers: list[dict]) -> None:
    """The worker id is replaced by employee_key in staging already."""
    ids = {worker["Worker_ID"] for worker in workers}
    assert find_leaks(paths.warehouse, [], {}, ids) == set()


def test_workforce_drivers_show_no_group_under_the_minimum_at_the_default(
    paths: Paths, main_run
) -> None:
    """At the default minimum of 3, each demo cost center has enough workers: reported as is."""
    [(rows, smallest, levels, suppressed)] = query(
        paths,
        "select count(*), min(headcount), list(distinct reporting_level), count(*) filter"
        " (is_suppressed) from marts.workforce_cost_drivers",
    )
    assert rows > 0 and smallest >= 3 and levels == ["cost_center"] and suppressed == 0


@pytest.fixture(scope="module")
def folded(paths: Paths, main_run, tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The drivers rebuilt on a copy of the warehouse with a minimum group above every
    demo cost center's size, so that the real data must fold."""
    copy = copy_data_dir(paths, tmp_path_factory.mktemp("folded"))
    if (paths.data / FILE_NAME).exists():
        shutil.copy2(paths.data / FILE_NAME, copy.data / FILE_NAME)
    build = subprocess.run(
        [
            DBT, "--no-use-colors", "build", "--select", "workforce_cost_drivers",
            "--vars", "{workforce_min_group_size: 7}",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(copy.data / "target"), "--log-path", str(copy.data / "logs"),
        ],
        env={**os.environ, "FINSYNC_DATA_DIR": str(copy.data)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:]
    return copy


def test_cost_centers_under_the_minimum_fold_up_the_hierarchy_keeping_totals(
    paths: Paths, folded: Paths
) -> None:
    small = query(
        folded,
        "select count(*) from (select entity_code, cost_center_code, period_id"
        " from staging.stg_payroll__payroll_results r join marts.dim_fiscal_period p"
        " on r.pay_period_end_date between p.period_start_date and p.period_end_date"
        " group by all having count(distinct employee_key) < 7)",
    )[0][0]
    assert small > 0  # the data that makes it so: cost centers of fewer than 7 paid workers
    rows = query(
        folded,
        "select reporting_level, count(*), min(headcount), count(*) filter (is_suppressed),"
        " sum(workforce_cost_functional) from marts.workforce_cost_drivers group by all",
    )
    levels = {level for level, *_ in rows}
    assert {"node", "root"} <= levels <= {"cost_center", "node", "root"}
    assert all(smallest >= 7 for _, _, smallest, _, _ in rows)
    assert sum(suppressed for _, _, _, suppressed, _ in rows) == 0
    # no reported cost center is one of the small ones
    assert query(
        folded,
        "select count(*) from marts.workforce_cost_drivers d join marts.dim_cost_center c"
        " using (cost_center_code) where d.reporting_level = 'cost_center' and d.headcount < 7",
    ) == [(0,)]
    # folding keeps every total: unsuppressed rows sum to the payroll register's cost
    [(register,)] = query(
        folded,
        "select sum(gross_earnings_functional + employer_taxes_functional + benefits_functional)"
        " from staging.stg_payroll__payroll_results",
    )
    assert sum(cost for *_, cost in rows) == register


def test_a_failing_payroll_row_leaves_its_check_without_the_workers_id_or_pay(
    paths: Paths, main_run
) -> None:
    """A payroll result with a negative gross fails its contract: the quarantine row and the
    check's sample name it by keyed hashes, and its amounts are withheld."""
    contract = next(c for c in RAW if c.table == "payroll_results")
    columns = ", ".join(contract.columns)
    with open_warehouse(paths.warehouse) as con:
        frame = con.sql(f"select {columns} from raw_payroll.payroll_results limit 3").pl()
    bad = frame.head(1).to_dicts()[0]
    frame = frame.with_columns(
        gross_earnings=pl.when(pl.int_range(pl.len()) == 0)
        .then(-pl.col("gross_earnings"))
        .otherwise(pl.col("gross_earnings"))
    )
    outcome = validate(frame, contract)
    key = pseudonym_key(paths.data)
    shown = json.dumps([outcome.sample, outcome.quarantined.to_dicts()])
    assert outcome.failed_rows == 1
    assert bad["worker_id"] not in shown and bad["payroll_result_id"] not in shown
    assert str(bad["gross_earnings"]) not in shown and str(bad["benefits"]) not in shown
    [row] = outcome.quarantined.to_dicts()
    assert json.loads(row["row_key"]) == {
        "payroll_result_id": hmac.new(
            key, bad["payroll_result_id"].encode(), hashlib.sha256
        ).hexdigest()
    }
    assert json.loads(row["payload"])["worker_id"] == (
        hmac.new(key, bad["worker_id"].encode(), hashlib.sha256).hexdigest()
    )
    assert "withheld" in row["payload"]
