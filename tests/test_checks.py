"""Pandera contracts as asset checks: they pass on the demo enterprise, report failing rows
with a sample and quarantine them under the check's name, and blocking ones stop exports."""

from dataclasses import dataclass

import dagster as dg
import pytest

from orchestration.checks.schemas import JOURNAL_VERSIONS, PRODUCTS, RAW, superseded_versions
from orchestration.checks.suites import (
    QUARANTINE,
    check_key,
    contract_check,
    validate,
    validate_table,
)
from orchestration.paths import Paths
from orchestration.resources import Warehouse, open_warehouse
from tests.conftest import query
from tests.copies import copy_data_dir

JOURNALS = next(c for c in RAW if (c.schema, c.table) == ("raw_erp", "journal_items"))
GL_LINES = next(c for c in PRODUCTS if (c.schema, c.table) == ("marts", "fct_gl_journal_lines"))
NEW_LOAD = "9999999999.000001"  # a dlt load id later than any (epoch seconds, as dlt's)
NEWER_LOAD = "9999999999.000002"
TRIAL_BALANCE = dg.AssetKey(["marts", "trial_balance"])
ERP_RAW = [check_key(c) for c in RAW if c.schema == "raw_erp"]


@pytest.fixture(scope="module")
def defs(paths: Paths) -> dg.Definitions:
    from orchestration.graph import build

    return build(paths)


def test_every_raw_feed_and_published_mart_has_a_contract_check(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    raw_tables = {key for key in graph.get_all_asset_keys() if key.path[0].startswith("raw_")}
    # the API's journal changes merge into raw_erp.journal_items, checked by its contract
    raw_tables -= {dg.AssetKey(["raw_erp", "journal_item_changes"])}
    checks = {
        spec.key: spec
        for checks_def in defs.asset_checks or []
        for spec in checks_def.check_specs
        if spec.name == "contract"
    }
    raw_checked = {key.asset_key for key in checks if key.asset_key.path[0].startswith("raw_")}
    products = {key.asset_key for key, spec in checks.items() if spec.blocking}
    assert raw_checked == raw_tables  # all 18 raw feeds
    assert {
        dg.AssetKey(["marts", mart])
        for mart in ("fct_gl_journal_lines", "trial_balance", "income_statement", "balance_sheet")
    } <= products
    assert len(raw_tables) >= 18


def test_contracts_pass_on_the_demo_enterprise(main_run: dg.ExecuteInProcessResult) -> None:
    contracts = [
        c for c in main_run.get_asset_check_evaluations() if c.asset_check_key.name == "contract"
    ]
    failed = [c.asset_check_key.to_user_string() for c in contracts if not c.passed]
    journals = next(
        c for c in contracts if c.asset_key == dg.AssetKey(["raw_erp", "journal_items"])
    )
    assert len(contracts) >= 18 + len(PRODUCTS)
    assert failed == []
    assert journals.metadata["dagster/row_count"].value > 20_000
    assert set(journals.metadata["control_totals"].value) == {"USD", "EUR", "GBP", "JPY"}
    assert journals.metadata["last_source_change"].value > 0


@dataclass(frozen=True)
class Broken:
    paths: Paths
    unbalanced_lines: int


@pytest.fixture
def broken(paths: Paths, main_run, tmp_path) -> Broken:
    """A copy of the warehouse with an unbalanced journal and a posting outside its period,
    loaded as dlt loads a change: the changed raw lines carry a new load id."""
    copy = copy_data_dir(paths, tmp_path / "data")
    with open_warehouse(copy.warehouse, read_only=False) as con:
        [(document, year)] = con.execute(
            "select accounting_document, fiscal_year from raw_erp.journal_items"
            " where company_code = 'DE01' and accounting_document_type = 'KR'"
            " order by all limit 1"
        ).fetchall()
        one_document = "company_code = 'DE01' and accounting_document = ? and fiscal_year = ?"
        con.execute(
            "update raw_erp.journal_items"
            " set amount_in_company_code_currency = amount_in_company_code_currency + 10,"
            f" _dlt_load_id = '{NEW_LOAD}'"
            f" where {one_document} and ledger_gl_line_item = 1",
            [document, year],
        )
        con.execute(
            "update raw_erp.journal_items"
            f" set fiscal_period = (fiscal_period % 12) + 1, _dlt_load_id = '{NEW_LOAD}'"
            " where (company_code, fiscal_year, accounting_document, ledger_gl_line_item) ="
            " (select (company_code, fiscal_year, accounting_document, ledger_gl_line_item)"
            "  from raw_erp.journal_items where company_code = 'US02' order by all limit 1)"
        )
        con.execute(
            "update marts.trial_balance set closing_functional = closing_functional + 1"
            " where (entity_code, account_code, period_id) in"
            " (select entity_code, account_code, period_id from marts.trial_balance"
            "  where period_id = '2025-P03' order by all limit 1)"
        )
        [(unbalanced_lines,)] = con.execute(
            f"select count(*) from raw_erp.journal_items where {one_document}", [document, year]
        ).fetchall()
    return Broken(copy, unbalanced_lines)


def test_failing_contract_reports_rows_and_a_sample_and_quarantines_them(broken: Broken) -> None:
    check = contract_check(JOURNALS, blocking=False)
    result = check(warehouse=Warehouse(path=str(broken.paths.warehouse)))
    by_rule = result.metadata["failures_by_rule"].value
    sample = result.metadata["failing_sample"].value
    quarantined = query(
        broken.paths,
        f"select check_name, asset_key, reasons from {QUARANTINE} order by reasons",
    )
    expected_rows = broken.unbalanced_lines + 1  # the whole document, and the misdated line
    assert not result.passed
    assert result.metadata["failed_rows"].value == expected_rows
    assert sum(by_rule.values()) == expected_rows
    assert by_rule == {
        "journal_balances: amounts do not sum to zero over company_code, fiscal_year,"
        " accounting_document": broken.unbalanced_lines,
        "posted_in_known_period: fiscal year/period is not the posting date's": 1,
    }
    assert len(sample) == 5 and {"reasons", "accounting_document"} <= set(sample[0])
    assert len(quarantined) == expected_rows
    assert {(name, key) for name, key, _ in quarantined} == {
        ("raw_erp/journal_items:contract", "raw_erp/journal_items")
    }


def test_quarantine_holds_the_latest_run_of_a_check_only(broken: Broken) -> None:
    """Re-running a check replaces its quarantined rows; a fixed table empties them."""
    check = contract_check(JOURNALS, blocking=False)
    warehouse = Warehouse(path=str(broken.paths.warehouse))
    check(warehouse=warehouse)
    check(warehouse=warehouse)
    [(after_rerun,)] = query(broken.paths, f"select count(*) from {QUARANTINE}")
    with open_warehouse(broken.paths.warehouse, read_only=False) as con:
        con.execute("delete from raw_erp.journal_items where company_code in ('DE01', 'US02')")
    fixed = check(warehouse=warehouse)
    [(after_fix,)] = query(broken.paths, f"select count(*) from {QUARANTINE}")
    assert after_rerun == broken.unbalanced_lines + 1
    assert fixed.passed
    assert after_fix == 0


def test_a_table_checked_in_batches_fails_exactly_as_it_would_whole(broken: Broken) -> None:
    """The check holds a bounded batch of rows at a time and evaluates the table-wide rules
    (key uniqueness, balances) in the warehouse: the same failing rows, reasons, counts per
    rule, sample and quarantine rows as Pandera's validation of the whole table at once,
    with documents and duplicate keys split across batches. Of the ERP's log of journal
    line versions, the whole table is the latest version of each line, a line copied
    within its load twice."""
    with open_warehouse(broken.paths.warehouse, read_only=False) as con:
        con.execute(  # a later version of a line, far from the first in the log
            "insert into raw_erp.journal_items select * replace ("
            " amount_in_company_code_currency + 1 as amount_in_company_code_currency,"
            f" '{NEW_LOAD}' as _dlt_load_id)"
            " from raw_erp.journal_items where company_code = 'US01' order by all limit 1"
        )
        con.execute(  # a line copied within its load: one version twice, both latest
            "insert into raw_erp.journal_items select * from raw_erp.journal_items"
            " where company_code = 'FR01' order by all limit 1"
        )
        con.execute(  # a duplicate key, far from its original in the table
            "insert into marts.fct_gl_journal_lines select * from marts.fct_gl_journal_lines"
            " order by journal_line_key limit 1"
        )
        latest = (
            "select * from raw_erp.journal_items where rowid not in"
            f" ({superseded_versions('raw_erp.journal_items', JOURNALS.key, JOURNAL_VERSIONS)})"
            " order by rowid"
        )
        outcomes = {}
        gl_lines = "select * from marts.fct_gl_journal_lines order by rowid"
        for contract, rows in ((JOURNALS, latest), (GL_LINES, gl_lines)):
            columns = ", ".join(f'"{name}"' for name in contract.columns)
            whole = validate(con.sql(f"select {columns} from ({rows})").pl(), contract)
            batched = validate_table(con, contract, batch_rows=5_000)
            outcomes[contract.table] = whole, batched
        [(lines,)] = con.execute("select count(*) from raw_erp.journal_items").fetchall()
    for whole, batched in outcomes.values():
        assert batched.rows == whole.rows > 20_000
        assert batched.failures_by_rule == whole.failures_by_rule
        assert batched.failed_rows == whole.failed_rows
        assert batched.sample == whole.sample
        assert batched.quarantined.equals(whole.quarantined)
    journals, gl_lines = outcomes["journal_items"][1], outcomes["fct_gl_journal_lines"][1]
    assert journals.rows == lines - 1  # one line, two versions
    assert journals.failed_rows > broken.unbalanced_lines + 1  # the US01 document too
    assert journals.failures_by_rule["multiple_fields_uniqueness"] == 2  # the copied line
    assert gl_lines.failures_by_rule["multiple_fields_uniqueness"] == 2  # both copies


def run_checks(paths: Paths, selection: dg.AssetSelection) -> dg.ExecuteInProcessResult:
    """The checks of `selection`, run as a job of finsync's definitions on `paths`."""
    from orchestration.graph import build

    job = dg.define_asset_job("checks", selection=selection)
    defs = dg.Definitions.merge(build(paths), dg.Definitions(jobs=[job]))
    with dg.DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def("checks").execute_in_process(
            instance=instance, raise_on_error=False
        )


def test_a_sources_raw_contracts_run_in_one_step_each_with_its_own_result(
    broken: Broken,
) -> None:
    """The ERP's raw contracts share a step (and a connection): the broken journal's contract
    fails, a warning, while the other tables' pass, each on its own check, and the run goes
    on; one contract picked alone (as in the UI) validates its table only."""
    accounts = dg.AssetCheckKey(dg.AssetKey(["raw_erp", "gl_accounts"]), "contract")
    whole = run_checks(broken.paths, dg.AssetSelection.checks_for_assets(*ERP_RAW))
    alone = run_checks(broken.paths, dg.AssetSelection.checks(accounts))

    def steps(result: dg.ExecuteInProcessResult) -> set[str]:
        return {event.step_key for event in result.get_step_success_events()}

    passed = {e.asset_key: e.passed for e in whole.get_asset_check_evaluations()}
    assert whole.success and steps(whole) == {"raw_erp_contracts"}
    assert set(passed) == set(ERP_RAW)
    assert [key for key, ok in passed.items() if not ok] == [
        dg.AssetKey(["raw_erp", "journal_items"])
    ]
    assert steps(alone) == {"raw_erp_contracts"}
    assert [e.asset_check_key for e in alone.get_asset_check_evaluations()] == [accounts]


def test_a_raw_contract_that_cannot_run_leaves_the_others_their_results(broken: Broken) -> None:
    """A column gone from the ERP's accounts: that contract cannot run, the step fails and
    names it, and the source's other contracts still report."""
    with open_warehouse(broken.paths.warehouse, read_only=False) as con:
        con.execute("alter table raw_erp.gl_accounts drop column gl_account_type")
    result = run_checks(broken.paths, dg.AssetSelection.checks_for_assets(*ERP_RAW))
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    reported = {e.asset_key for e in result.get_asset_check_evaluations()}
    assert not result.success
    assert "raw_erp/gl_accounts:contract" in str(failures[0].event_specific_data.error)
    assert reported == set(ERP_RAW) - {dg.AssetKey(["raw_erp", "gl_accounts"])}


def test_a_blocking_check_stops_the_export_and_the_run_names_it(broken: Broken) -> None:
    """The trial balance no longer sums to zero: its reporting files must not be republished."""
    from orchestration.graph import build

    export = dg.AssetKey(["exports", "reporting_trial_balance"])
    published = (
        broken.paths.exports / "reporting" / "trial_balance" / "period=2025-P03" / "data.parquet"
    )
    before = published.stat().st_mtime_ns
    job = dg.define_asset_job(
        "publish_after_checks",
        selection=dg.AssetSelection.checks_for_assets(TRIAL_BALANCE)
        | dg.AssetSelection.assets(export),
    )
    defs = build(broken.paths)
    defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("publish_after_checks").execute_in_process(
            instance=instance, partition_key="2024-06", raise_on_error=False
        )
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = "\n".join(str(e.event_specific_data.error) for e in failures)
    contract = next(
        c for c in result.get_asset_check_evaluations() if c.asset_check_key.name == "contract"
    )
    assert not result.success
    assert "blocking asset check failed" in message
    assert "marts/trial_balance: contract" in message  # the run names the check
    assert contract.metadata["failed_rows"].value > 0
    assert "trial_balance_sums_to_zero" in str(contract.metadata["failures_by_rule"].value)
    assert result.get_asset_materialization_events() == []
    assert published.stat().st_mtime_ns == before


@pytest.fixture
def copy(paths: Paths, main_run, tmp_path) -> Paths:
    return copy_data_dir(paths, tmp_path / "data")


def check_on(contract, paths: Paths):
    check = contract_check(contract, blocking=False)
    warehouse = Warehouse(path=str(paths.warehouse))
    return lambda: check(warehouse=warehouse)


@pytest.mark.parametrize("contract", [JOURNALS, GL_LINES], ids=lambda c: c.table)
def test_a_second_validation_of_an_unchanged_table_validates_no_row(contract, copy) -> None:
    run = check_on(contract, copy)
    first, second = run(), run()
    [(rows,)] = query(copy, f"select count(*) from {contract.schema}.{contract.table}")
    assert first.passed and second.passed
    assert second.metadata["rows_validated"].value == 0
    assert second.metadata["scope"].value.startswith("changed since ")
    assert second.metadata["dagster/row_count"].value == rows > 20_000


def whole_table(paths: Paths, contract):
    columns = ", ".join(f'"{name}"' for name in contract.columns)
    with open_warehouse(paths.warehouse) as con:
        table = con.sql(f"select {columns} from {contract.schema}.{contract.table}").pl()
    return validate(table, contract)


def quarantined(paths: Paths) -> list[tuple]:
    return query(paths, f"select row_key, reasons, payload from {QUARANTINE} order by all")


def test_a_changed_row_that_breaks_a_rule_fails_as_the_whole_table_would(copy) -> None:
    """Only the changed rows are validated by row, and the check finds what validating the
    whole table finds; after that failing run, the next one validates the whole table."""
    run = check_on(JOURNALS, copy)
    assert run().passed
    with open_warehouse(copy.warehouse, read_only=False) as con:
        con.execute(  # a misdated line, changed by a later load
            "update raw_erp.journal_items"
            f" set fiscal_period = (fiscal_period % 12) + 1, _dlt_load_id = '{NEW_LOAD}'"
            " where (company_code, fiscal_year, accounting_document, ledger_gl_line_item) ="
            " (select (company_code, fiscal_year, accounting_document, ledger_gl_line_item)"
            "  from raw_erp.journal_items where company_code = 'US02' order by all limit 1)"
        )
    changed = run()
    whole = whole_table(copy, JOURNALS)
    after_change = quarantined(copy)
    again = run()
    assert not changed.passed
    assert changed.metadata["rows_validated"].value == 1
    assert changed.metadata["scope"].value.startswith("changed since ")
    assert (
        changed.metadata["failures_by_rule"].value
        == whole.failures_by_rule
        == {"posted_in_known_period: fiscal year/period is not the posting date's": 1}
    )
    assert changed.metadata["failing_sample"].value == whole.sample
    assert after_change == sorted(whole.quarantined.rows())
    assert again.metadata["scope"].value == "whole table"
    assert again.metadata["rows_validated"].value == whole.rows
    assert again.metadata["failures_by_rule"].value == whole.failures_by_rule
    assert quarantined(copy) == after_change


def latest_journal_versions(paths: Paths):
    """Pandera's validation of the latest version of every line of the ERP's log, at once."""
    columns = ", ".join(f'"{name}"' for name in JOURNALS.columns)
    superseded = superseded_versions("raw_erp.journal_items", JOURNALS.key, JOURNAL_VERSIONS)
    with open_warehouse(paths.warehouse) as con:
        table = con.sql(
            f"select {columns} from raw_erp.journal_items"
            f" where rowid not in ({superseded}) order by rowid"
        ).pl()
    return validate(table, JOURNALS)


UNBALANCED = "journal_balances: amounts do not sum to zero over"


def a_new_version(paths: Paths, company: str, more: int, load: str = NEW_LOAD) -> int:
    """A later version of one line of `company`'s first document, its amount `more`
    higher, loaded by `load`: the lines of that document."""
    document = (
        f"company_code = '{company}' and accounting_document = (select min(accounting_document)"
        f" from raw_erp.journal_items where company_code = '{company}')"
    )
    with open_warehouse(paths.warehouse, read_only=False) as con:
        con.execute(
            "insert into raw_erp.journal_items select * replace ("
            f" amount_in_company_code_currency + {more} as amount_in_company_code_currency,"
            f" '{load}' as _dlt_load_id)"
            f" from raw_erp.journal_items where {document} order by all limit 1"
        )
        [(lines,)] = con.execute(
            "select count(distinct ledger_gl_line_item) from raw_erp.journal_items"
            f" where {document}"
        ).fetchall()
    return lines


def test_a_new_version_that_unbalances_its_document_fails_on_every_line_of_it(copy) -> None:
    """A document's lines in the ERP's log change by new versions: the check balances the
    documents of the changed rows again and fails on every line of the one a new version
    unbalances, as validating the latest version of every line does."""
    run = check_on(JOURNALS, copy)
    assert run().passed
    lines = a_new_version(copy, "US01", more=1)
    changed = run()
    whole = latest_journal_versions(copy)
    [(rule, failed)] = changed.metadata["failures_by_rule"].value.items()
    assert not changed.passed
    assert changed.metadata["rows_validated"].value == 1
    assert rule.startswith(UNBALANCED) and failed == lines > 1
    assert changed.metadata["failures_by_rule"].value == whole.failures_by_rule
    assert quarantined(copy) == sorted(whole.quarantined.rows())


def test_after_a_passing_run_only_the_documents_of_new_versions_are_balanced_again(
    copy,
) -> None:
    """The ERP's log is only appended to, so a document no new version touches balances as
    it did in the last passing run, and is not read again. A document unbalanced in place
    here, behind the log's back, is found by the next validation of the whole table (after
    a failing run, or under new rules)."""
    run = check_on(JOURNALS, copy)
    assert run().passed
    with open_warehouse(copy.warehouse, read_only=False) as con:
        con.execute(
            "update raw_erp.journal_items set amount_in_company_code_currency = 0"
            " where rowid = (select min(rowid) from raw_erp.journal_items"
            " where company_code = 'DE01' and amount_in_company_code_currency <> 0)"
        )
    a_new_version(copy, "US01", more=0)  # changed, still balanced
    incremental = run()
    whole = latest_journal_versions(copy)
    assert incremental.passed
    assert incremental.metadata["rows_validated"].value == 1
    [(rule, failed)] = whole.failures_by_rule.items()
    assert rule.startswith(UNBALANCED) and failed > 1  # the DE01 document


def test_the_keys_with_several_versions_are_carried_from_run_to_run(copy) -> None:
    """A passing run keeps the keys of the ERP's log with several versions, and the next
    counts only the changed rows' keys over the log: a line given a second version two
    runs ago still has one latest version, as the whole log's validation says."""
    run = check_on(JOURNALS, copy)
    assert run().passed
    a_new_version(copy, "US01", more=0)
    assert run().passed
    a_new_version(copy, "DE01", more=0, load=NEWER_LOAD)
    third = run()
    [(lines, keys)] = query(
        copy,
        "select count(*), count(distinct (company_code, fiscal_year, accounting_document,"
        " ledger_gl_line_item)) from raw_erp.journal_items",
    )
    assert third.passed
    assert third.metadata["scope"].value == f"changed since {NEW_LOAD}"
    assert third.metadata["dagster/row_count"].value == latest_journal_versions(copy).rows
    assert third.metadata["dagster/row_count"].value == keys == lines - 2
    [(kept,)] = query(
        copy,
        "select several_versions from quarantine.contract_watermarks where check_name = ?",
        [dg.AssetCheckKey(check_key(JOURNALS), "contract").to_user_string()],
    )
    assert len(kept) == 2  # the two lines' keys, for the next run


def test_a_new_row_with_the_key_of_an_old_one_is_caught(copy) -> None:
    """A GL line rebuilt later (a new _built_at) whose key an unchanged line already has:
    both copies break the key's uniqueness."""
    run = check_on(GL_LINES, copy)
    assert run().passed
    with open_warehouse(copy.warehouse, read_only=False) as con:
        con.execute(
            "insert into marts.fct_gl_journal_lines"
            " select * replace (_built_at + interval 1 day as _built_at)"
            " from marts.fct_gl_journal_lines order by journal_line_key limit 1"
        )
    result = run()
    whole = whole_table(copy, GL_LINES)
    by_rule = result.metadata["failures_by_rule"].value
    assert not result.passed
    assert result.metadata["rows_validated"].value == 1
    assert by_rule["multiple_fields_uniqueness"] == 2
    assert by_rule == whole.failures_by_rule
    assert quarantined(copy) == sorted(whole.quarantined.rows())
