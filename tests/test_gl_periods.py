"""The GL fact rebuilds, on a day, exactly the fiscal periods whose lines changed.

On a copy of the session's warehouse, raw changes as the source systems would change it:
a regional line's text is corrected (period A), a regional document loses its balance
(period B: refused whole), a group ERP document gets a new version (period C). One
`dbt run` of the GL chain then rewrites those three periods of the fact and no other, and
the fact holds exactly the lines of int_gl_journal_lines that the quarantine did not refuse.
A fact of an earlier finsync, without the staged loads it read, is rebuilt whole once.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.resources import open_warehouse
from tests.copies import copy_warehouse
from tests.raw_changes import double_erp_document

DBT = str(Path(sys.executable).with_name("dbt"))  # the environment's dbt, on PATH or not
FACT = "marts.fct_gl_journal_lines"
LINES = "intermediate.int_gl_journal_lines"
# the columns the fact takes from the lines as they are
COLUMNS = (
    "journal_line_key, document_key, source_system, entity_code, period_id, document_number,"
    " line_number, account_code, local_account_code, cost_center_code, local_cost_center_code,"
    " product_code, project_code, partner_entity_code, customer_id, reference_document,"
    " reversed_document_number, document_type, line_text, source_file_name, posting_date,"
    " document_date, currency_txn, amount_txn, currency_functional, amount_functional"
)
# the first regional document of a period with two lines or more, booked: its company and
# number in raw
REGIONAL_DOCUMENT = f"""
    select any_value(raw.empresa), any_value(raw.numero_lancamento)
    from {LINES} as lines
    inner join raw_regional_erp.journal_lines as raw
        on lines.journal_line_key = 'regional_erp|' || raw.empresa || '|'
            || raw.numero_lancamento || '|' || raw.linha
    where lines.period_id = ? and lines.document_key not in (
        select document_key from quarantine.quarantine_gl_journal_lines)
    group by lines.document_key having count(*) >= 2
    order by lines.document_key limit 1
"""
# the regional document's first line
FIRST_LINE = (
    " where empresa = ? and numero_lancamento = ? and linha = (select min(linha)"
    " from raw_regional_erp.journal_lines where empresa = ? and numero_lancamento = ?)"
)


def by_period(con) -> dict[str, tuple]:
    return {
        period: (rows, digest)
        for period, rows, digest in con.execute(
            f"select period_id, count(*), bit_xor(hash(fact)) from {FACT} as fact group by 1"
        ).fetchall()
    }


def run_gl_chain(data: Path) -> None:
    """One `dbt run` of the GL chain on the warehouse in `data`, as a day's build runs it."""
    subprocess.run(
        [
            DBT, "--no-use-colors", "run",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(data / "target"), "--log-path", str(data / "logs"),
            "--select", "stg_erp__journal_items", "int_regional_journal_lines_mapped",
            "int_gl_journal_lines", "quarantine_gl_journal_lines", "fct_gl_journal_lines",
        ],
        env={**os.environ, "FINSYNC_DATA_DIR": str(data)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def day(paths: Paths, main_run, tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("gl_periods")
    warehouse = copy_warehouse(paths.warehouse, data)
    with open_warehouse(warehouse, read_only=False) as con:
        before = by_period(con)
        periods = sorted(period for period in before if period != "OUTSIDE")
        edited, unbalanced, reissued = periods[1], periods[3], periods[5]
        edited_document = con.execute(REGIONAL_DOCUMENT, [edited]).fetchall()[0]
        unbalanced_document = con.execute(REGIONAL_DOCUMENT, [unbalanced]).fetchall()[0]
        con.execute(
            "update raw_regional_erp.journal_lines set historico = historico || ' (corrigido)'"
            + FIRST_LINE,
            [*edited_document, *edited_document],
        )
        con.execute(
            "update raw_regional_erp.journal_lines set debito_brl = debito_brl + 1" + FIRST_LINE,
            [*unbalanced_document, *unbalanced_document],
        )
        [(company, year, document)] = con.execute(
            f"""select any_value(raw.company_code), any_value(raw.fiscal_year),
                   raw.accounting_document
               from raw_erp.journal_items as raw
               inner join {FACT} as fact
                   on fact.journal_line_key = 'erp|' || raw.company_code || '|'
                       || raw.fiscal_year || '|' || raw.accounting_document || '|'
                       || raw.ledger_gl_line_item
               where fact.period_id = ?
               group by raw.accounting_document order by 3 limit 1""",
            [reissued],
        ).fetchall()
        double_erp_document(con, company, year, document)
    run_gl_chain(data)
    with open_warehouse(warehouse) as con:
        return {
            "before": before,
            "after": by_period(con),
            "periods": {edited, unbalanced, reissued},
            "refused": con.execute(
                "select distinct rejection_reason from quarantine.quarantine_gl_journal_lines"
                " where document_key = 'regional_erp|' || ? || '|' || ?",
                list(unbalanced_document),
            ).fetchall(),
            "booked_not_lines": con.execute(
                f"select {COLUMNS} from {FACT} except all select {COLUMNS} from {LINES}"
            ).fetchall(),
            "lines_not_accounted": con.execute(
                f"""select {COLUMNS} from {LINES}
                    where journal_line_key not in (
                        select source_key from quarantine.quarantine_gl_journal_lines)
                    except all select {COLUMNS} from {FACT}"""
            ).fetchall(),
        }


def test_a_day_rewrites_the_periods_whose_lines_changed_and_no_other(day: dict) -> None:
    changed = {period for period in day["after"] if day["after"][period] != day["before"][period]}
    assert changed == day["periods"]
    assert set(day["after"]) == set(day["before"])


def test_a_document_that_no_longer_balances_leaves_the_fact_for_quarantine(day: dict) -> None:
    assert day["refused"] == [("document does not balance",)]


def test_the_fact_holds_every_line_not_refused_as_the_lines_read_now(day: dict) -> None:
    assert day["booked_not_lines"] == []
    assert day["lines_not_accounted"] == []


def test_a_fact_built_before_it_recorded_its_staged_loads_is_rebuilt_whole(
    paths: Paths, main_run, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A warehouse of an earlier finsync: its fact has no `_staged_load_id`. The next run
    adds it and rebuilds every period, so each line records the loads it was built from."""
    data = tmp_path_factory.mktemp("gl_upgrade")
    warehouse = copy_warehouse(paths.warehouse, data)
    with open_warehouse(warehouse, read_only=False) as con:
        before = by_period(con)
        con.execute(f"alter table {FACT} drop column _staged_load_id")
    run_gl_chain(data)
    with open_warehouse(warehouse) as con:
        after = by_period(con)
        [(rows, recorded)] = con.execute(
            f"select count(*), count(_staged_load_id) from {FACT}"
        ).fetchall()
    assert set(after) == set(before)
    assert all(after[period] != before[period] for period in before)  # every period rewritten
    assert [after[period][0] for period in sorted(after)] == [
        before[period][0] for period in sorted(before)
    ]
    assert recorded == rows > 0
