"""Master-data history and closed periods across runs, on a copy of the session's warehouse.

One more `dbt build` after changing the raw data as the source systems would: a cost
center changes owner in the ERP, a P&L account is reclassified to another statement
line, and a document in a closed period is changed without a restatement being flagged.
The snapshots keep both versions (past periods report as they were) and the
closed-period check fails, naming the changed period.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.resources import open_warehouse
from orchestration.transform import dbt_artifacts
from tests.copies import copy_warehouse
from tests.raw_changes import double_erp_document

CHANGED_AT = "2025-10-15 09:00:00+00"  # FY2026 P07
DBT = str(Path(sys.executable).with_name("dbt"))  # the environment's dbt, on PATH or not


@pytest.fixture(scope="module")
def rerun(paths: Paths, main_run, tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("history")
    copy_warehouse(paths.warehouse, data)
    with open_warehouse(data / "warehouse.duckdb", read_only=False) as con:
        [(cost_center, old_owner)] = con.execute(
            "select cost_center, person_responsible from raw_erp.cost_centers"
            " where company_code = 'DE01' order by cost_center limit 1"
        ).fetchall()
        con.execute(
            "update raw_erp.cost_centers set person_responsible = 'Z. New Owner',"
            " last_change_date_time = ?::timestamptz where cost_center = ?",
            [CHANGED_AT, cost_center],
        )
        [(account, old_line, new_line)] = con.execute(
            """
            select tb.account_code, account.statement_line_code, (
                select min(other.statement_line_code) from marts.dim_account as other
                where other.section = account.section
                and other.statement_line_code <> account.statement_line_code
            )
            from marts.trial_balance as tb
            inner join marts.dim_account as account using (account_code)
            where tb.entity_code = 'DE01' and account.section = 'Operating expenses'
            and tb.period_id in ('2026-P06', '2026-P07') and tb.movement_functional <> 0
            group by all having count(*) = 2 order by 1 limit 1
            """
        ).fetchall()
        con.execute(
            "update raw_erp.gl_accounts set financial_statement_item = ?,"
            " last_change_date_time = ?::timestamptz where gl_account = ?",
            [new_line, CHANGED_AT, account],
        )
        [(document,)] = con.execute(
            "select min(accounting_document) from raw_erp.journal_items"
            " where company_code = 'FR01' and fiscal_year = 2025 and fiscal_period = 3"
            " and accounting_document_type = 'KR'"
        ).fetchall()
        double_erp_document(con, "FR01", 2025, document)
    target = data / "target"
    env = {**os.environ, "FINSYNC_DATA_DIR": str(data)}
    build = subprocess.run(
        [
            DBT, "--no-use-colors", "build",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--log-path", str(data / "logs"),
        ],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {
        "returncode": build.returncode,
        "failed": {
            r["unique_id"].split(".")[2] for r in results if r["status"] in ("fail", "error")
        },
        "warehouse": data / "warehouse.duckdb",
        "cost_center": cost_center,
        "old_owner": old_owner,
        "account": account,
        "old_line": old_line,
        "new_line": new_line,
    }


@pytest.fixture(scope="module")
def restated(rerun: dict, tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess:
    """The controller flags FR01 2025-P03 in the restatements seed (of a copy of the
    project), and the closed-period record and its check run again."""
    project = tmp_path_factory.mktemp("restated") / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    with (project / "seeds" / "restatements.csv").open("a") as seed:
        seed.write("FR01,2025-P03,vendor invoice booked twice,controller\n")
    env = {**os.environ, "FINSYNC_DATA_DIR": str(rerun["warehouse"].parent)}
    return subprocess.run(
        [
            DBT, "--no-use-colors", "build", "--project-dir", str(project),
            "--profiles-dir", str(project), "--target-path", str(project / "target"),
            "--select", "restatements", "trial_balance_closed_periods",
            "assert_closed_periods_are_unchanged_unless_restated",
        ],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def read(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with open_warehouse(warehouse) as con:
        return con.execute(sql, params or []).fetchall()


def test_changed_closed_period_fails_the_build_unless_a_restatement_is_flagged(rerun) -> None:
    assert rerun["returncode"] != 0
    assert rerun["failed"] == {"assert_closed_periods_are_unchanged_unless_restated"}
    changed = read(
        rerun["warehouse"],
        "select distinct entity_code, period_id from marts.trial_balance_closed_periods as recorded"
        " join marts.trial_balance as live using (entity_code, account_code, period_id)"
        " where recorded.closing_functional <> live.closing_functional",
    )
    assert ("FR01", "2025-P03") in changed
    assert {entity for entity, _ in changed} == {"FR01"}


def test_a_flagged_restatement_lets_the_closed_period_change(restated) -> None:
    assert restated.returncode == 0, restated.stdout[-2000:]
    assert "PASS assert_closed_periods_are_unchanged_unless_restated" in restated.stdout


def test_cost_center_owner_history_reports_past_periods_as_they_were(rerun) -> None:
    versions = read(
        rerun["warehouse"],
        "select person_responsible, valid_from_date, valid_to_date"
        " from marts.dim_cost_center_history where cost_center_code = ? order by version_number",
        [rerun["cost_center"]],
    )
    assert [owner for owner, *_ in versions] == [rerun["old_owner"], "Z. New Owner"]
    assert str(versions[1][1]) == "2025-10-15"
    owners = dict(
        read(
            rerun["warehouse"],
            "select period_id, max(cost_center_owner) from marts.budget_vs_actual"
            " where cost_center_code = ? and period_id in ('2026-P06', '2026-P07') group by all",
            [rerun["cost_center"]],
        )
    )
    assert owners == {"2026-P06": rerun["old_owner"], "2026-P07": "Z. New Owner"}


def test_a_reclassified_account_reports_on_its_old_line_in_past_periods(rerun) -> None:
    """The income statement of DE01: the account on its old line up to 2026-P06, then the new."""
    warehouse, account = rerun["warehouse"], rerun["account"]

    def line_total(period: str, line: str) -> object:
        [(amount,)] = read(
            warehouse,
            "select amount_period_functional from marts.income_statement"
            " where entity_code = 'DE01' and period_id = ? and statement_line_code = ?",
            [period, line],
        )
        return amount

    def expected(period: str, line: str, with_account: bool) -> object:
        """From the trial balance and the chart as it is now (the account on its new line)."""
        [(amount,)] = read(
            warehouse,
            "select -sum(tb.movement_functional) from marts.trial_balance as tb"
            " inner join marts.dim_account as account using (account_code)"
            " where tb.entity_code = 'DE01' and tb.period_id = ?"
            " and ((account.statement_line_code = ? and tb.account_code <> ?)"
            " or (? and tb.account_code = ?))",
            [period, line, account, with_account, account],
        )
        return amount

    old, new = rerun["old_line"], rerun["new_line"]
    assert old != new and new is not None
    assert line_total("2026-P06", old) == expected("2026-P06", old, with_account=True)
    assert line_total("2026-P06", new) == expected("2026-P06", new, with_account=False)
    assert line_total("2026-P07", old) == expected("2026-P07", old, with_account=False)
    assert line_total("2026-P07", new) == expected("2026-P07", new, with_account=True)


@pytest.fixture(scope="module")
def unaccounted(paths: Paths, main_run, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A run that rebuilds one period of FR01 (a new version of one of its documents),
    after a line of that period was removed from raw by hand and another document of it
    was booked a second time, by hand, in a period the run does not rebuild."""
    data = tmp_path_factory.mktemp("unaccounted")
    copy_warehouse(paths.warehouse, data)
    with open_warehouse(data / "warehouse.duckdb", read_only=False) as con:
        [(period,)] = con.execute(
            "select min(period_id) from marts.fct_gl_journal_lines"
            " where entity_code = 'FR01' and source_system = 'erp'"
        ).fetchall()
        # three documents of the period, each by its year and number (numbers recur yearly)
        changed, removed, doubled = con.execute(
            "select fiscal_year, document_number from marts.fct_gl_journal_lines"
            " where entity_code = 'FR01' and source_system = 'erp' and period_id = ?"
            " group by all order by document_number limit 3",
            [period],
        ).fetchall()
        con.execute(
            "update raw_erp.journal_items set _dlt_load_id = cast(epoch(now()) as varchar),"
            " last_change_date_time = last_change_date_time + interval 1 second"
            " where company_code = 'FR01' and fiscal_year = ? and accounting_document = ?",
            list(changed),
        )
        [(removed_key,)] = con.execute(
            "select max(journal_line_key) from marts.fct_gl_journal_lines"
            " where entity_code = 'FR01' and period_id = ? and document_number = ?",
            [period, removed[1]],
        ).fetchall()
        con.execute(
            "delete from raw_erp.journal_items where company_code = 'FR01' and fiscal_year = ?"
            " and accounting_document = ? and ledger_gl_line_item = ?",
            [*removed, int(removed_key.rsplit("|", 1)[1])],
        )
        # a whole document, so that every balance still ties: only the count is wrong
        doubled_keys = {
            key
            for (key,) in con.execute(
                "insert into marts.fct_gl_journal_lines select * replace ('OTHER' as period_id)"
                " from marts.fct_gl_journal_lines where entity_code = 'FR01'"
                " and period_id = ? and document_number = ? returning journal_line_key",
                [period, doubled[1]],
            ).fetchall()
        }
    target = data / "target"
    subprocess.run(
        [
            DBT, "--no-use-colors", "build", "--select", "+fct_gl_journal_lines",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--log-path", str(data / "logs"),
        ],
        env={**os.environ, "FINSYNC_DATA_DIR": str(data)}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    [compiled] = target.glob("compiled/**/assert_every_journal_line_is_accounted_for.sql")
    return {
        "compiled": compiled.read_text(),
        "failures": set(read(data / "warehouse.duckdb", compiled.read_text())),
        "rebuilt": read(
            data / "warehouse.duckdb",
            "select distinct period_id from marts.fct_gl_journal_lines where _built_at ="
            " (select max(_built_at) from marts.fct_gl_journal_lines)",
        ),
        "period": period,
        "removed_key": removed_key,
        "doubled_keys": doubled_keys,
        "changed": changed,
        "warehouse": data / "warehouse.duckdb",
    }


def test_a_day_names_the_lines_of_its_periods_not_in_raw_or_accounted_twice(unaccounted) -> None:
    """The test that every line is accounted for reads what a run changed: the periods it
    rebuilt, each of their keys counted in every period of the fact and in raw."""
    # the changed document's period (the session's own loads can add others), not 'OTHER'
    assert (unaccounted["period"],) in unaccounted["rebuilt"]
    assert ("OTHER",) not in unaccounted["rebuilt"]
    assert unaccounted["failures"] == {
        (unaccounted["removed_key"], "booked or quarantined, not in raw"),
        *((key, "accounted for more than once") for key in unaccounted["doubled_keys"]),
    }


def test_a_line_in_raw_booked_nowhere_is_named(unaccounted, tmp_path: Path) -> None:
    """The third way a line goes unaccounted for: raw holds it, the run tests it, and
    neither the fact nor the quarantine has it (here a line of the document raw loaded
    anew, deleted from the fact after the run; the same compiled test read again)."""
    warehouse = copy_warehouse(unaccounted["warehouse"], tmp_path)
    with open_warehouse(warehouse, read_only=False) as con:
        [(lost,)] = con.execute(
            "delete from marts.fct_gl_journal_lines where journal_line_key = ("
            " select min(journal_line_key) from marts.fct_gl_journal_lines"
            " where entity_code = 'FR01' and fiscal_year = ? and document_number = ?"
            ") returning journal_line_key",
            list(unaccounted["changed"]),
        ).fetchall()
    assert set(read(warehouse, unaccounted["compiled"])) == {
        *unaccounted["failures"],
        (lost, "in raw, neither booked nor quarantined"),
    }


def test_a_full_build_tests_every_key_reading_raw_and_the_fact_whole(
    paths: Paths, main_run, unaccounted
) -> None:
    """The test asks, as it compiles, whether staging's latest run built it whole: the main
    run's full build tests every key, so it reads raw and the fact without the document
    filter; the day above, through it (raw_erp_lines, booked_lines)."""
    [full] = dbt_artifacts(paths.data, main_run.run_id).glob(
        "compiled/**/assert_every_journal_line_is_accounted_for.sql"
    )
    by_document = ("from raw_erp_lines", "from booked_lines as booked")
    assert not any(read in full.read_text() for read in by_document)
    assert all(read in unaccounted["compiled"] for read in by_document)
