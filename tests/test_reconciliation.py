"""Reconciliation checkpoints: declared once, tie on the demo enterprise, and find the breaks
injected into a second enterprise (tests/breaks.py) with the right owner and amount; a
blocking one stops the FP&A export and the run names it; a tampered export breaks, and
its fix shows when it was resolved."""

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.alerts import CONTROLLER, PLATFORM, ROLES
from orchestration.paths import Paths
from orchestration.reconciliation.assets import (
    BLOCKING_BREAKS,
    EXPORT_RECONCILIATION,
    RECONCILIATION_STATUS,
)
from orchestration.reconciliation.checkpoints import CHECKPOINTS, EXPORTS, WAREHOUSE, by_name
from orchestration.reconciliation.status import STATUS, comparison_sql, prepare
from orchestration.resources import open_warehouse
from tests.breaks import LATE_DOCUMENT, BrokenEnterprise
from tests.conftest import query
from tests.copies import copy_warehouse

FPA_ACTUALS = dg.AssetKey(["exports", "fpa_actuals"])


def status_rows(paths: Paths, checkpoint: str, status: str | None = None) -> list[dict]:
    sql = f"select * from {STATUS} where checkpoint = ?" + (" and status = ?" if status else "")
    with open_warehouse(paths.warehouse) as con:
        cursor = con.execute(
            sql + " order by all", [checkpoint, status] if status else [checkpoint]
        )
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def reconcile(broken: BrokenEnterprise, *keys: dg.AssetKey) -> dg.ExecuteInProcessResult:
    """Materialize some reconciliation assets (and their checks) of the broken enterprise."""
    from orchestration.graph import build

    job = dg.define_asset_job("reconcile", selection=dg.AssetSelection.assets(*keys))
    defs = dg.Definitions.merge(build(broken.paths), dg.Definitions(jobs=[job]))
    return defs.resolve_job_def("reconcile").execute_in_process(
        instance=broken.instance, raise_on_error=False
    )


def test_every_checkpoint_is_declared_once_and_is_a_check_in_the_ui(paths: Paths) -> None:
    from orchestration.graph import build

    defs = build(paths)
    graph = defs.resolve_asset_graph()
    specs = {
        spec.key.name: spec
        for checks_def in defs.asset_checks or []
        for spec in checks_def.check_specs
        if spec.key.asset_key.path[0] == "reconciliation"
    }
    names = [c.name for c in CHECKPOINTS]
    assert len(names) == len(set(names)) >= 13
    assert {c.owner_role for c in CHECKPOINTS} == set(ROLES)
    assert set(specs) == set(names)
    for checkpoint in CHECKPOINTS:
        spec = specs[checkpoint.name]
        assert spec.blocking == (checkpoint.blocking and checkpoint.stage == WAREHOUSE)
        if checkpoint.stage == EXPORTS:
            assert spec.key.asset_key == EXPORT_RECONCILIATION
        elif checkpoint.blocking:
            assert spec.key.asset_key == BLOCKING_BREAKS
    # the FP&A export waits for the blocking checks; the export checkpoint follows the export
    assert BLOCKING_BREAKS in graph.get(FPA_ACTUALS).parent_keys
    assert FPA_ACTUALS in graph.get(EXPORT_RECONCILIATION).parent_keys


def test_every_checkpoint_ties_on_the_demo_enterprise(paths: Paths, main_run) -> None:
    counts = dict(query(paths, f"select status, count(*) from {STATUS} group by all order by all"))
    compared = dict(
        query(paths, f"select checkpoint, count(*) from {STATUS} group by all order by all")
    )
    [(tb_rows,)] = query(paths, "select count(*) from reconciliation.source_erp_trial_balance")
    evaluations = [
        c for c in main_run.get_asset_check_evaluations() if c.asset_key.path[0] == "reconciliation"
    ]
    materialized = {e.asset_key for e in main_run.get_asset_materialization_events()}
    failed = [e.step_key for e in main_run.all_events if e.event_type_value == "STEP_FAILURE"]
    assert {RECONCILIATION_STATUS, BLOCKING_BREAKS, EXPORT_RECONCILIATION} <= materialized, failed
    assert counts.get("break", 0) == 0
    assert counts["ok"] > 1000
    # each compared something, but restatements (there are none) and the FP&A manifest
    # (when the export writes none)
    assert {c.name for c in CHECKPOINTS} - set(compared) <= {
        "restatements_flagged",
        "fpa_files_match_manifest",
    }
    assert len(compared) >= 11
    assert tb_rows > 1000  # the ERP's own trial balance, fetched from its API
    assert len(evaluations) == len(CHECKPOINTS)
    assert all(e.passed for e in evaluations)


def test_payroll_run_missing_from_the_gl_is_a_blocking_break_of_the_controller(
    broken_enterprise: BrokenEnterprise,
) -> None:
    breaks = status_rows(broken_enterprise.paths, "payroll_register_vs_gl_payroll_expense", "break")
    source_side = status_rows(broken_enterprise.paths, "erp_trial_balance_source_vs_raw", "break")
    assert [(b["entity"], b["period"], b["unit"]) for b in breaks] == [("DE01", "2025-P04", "EUR")]
    [payrun] = breaks
    assert payrun["owner_role"] == CONTROLLER
    assert payrun["blocking"]
    assert payrun["difference"] == -broken_enterprise.missing_payroll_expense
    assert payrun["expected"] == broken_enterprise.missing_payroll_expense  # GL has none of it
    assert payrun["actual"] == 0
    assert source_side == []  # the ERP's own trial balance lacks the run too: ties to raw


def test_one_sided_intercompany_posting_breaks_its_pair(
    broken_enterprise: BrokenEnterprise,
) -> None:
    breaks = status_rows(broken_enterprise.paths, "intercompany_legs_agree", "break")
    fee = broken_enterprise.one_sided_fee
    # US01 booked the receivable and the fee revenue; DE01's payable and expense are missing
    assert {(b["entity"], b["period"], b["unit"]): b["difference"] for b in breaks} == {
        ("DE01~US01:balances", "2025-P05", "USD"): -fee,
        ("DE01~US01:revenue_and_expense", "2025-P05", "USD"): fee,
    }
    assert fee > 0
    assert all(b["expected"] == 0 for b in breaks)  # DE01's side
    assert {(b["owner_role"], b["blocking"]) for b in breaks} == {(CONTROLLER, False)}


def test_late_posting_into_a_locked_period_is_a_restatement_that_alerts(
    broken_enterprise: BrokenEnterprise,
) -> None:
    paths = broken_enterprise.paths
    breaks = status_rows(paths, "restatements_flagged", "break")
    [posting] = query(
        paths,
        "select entity_code, period_id, document_number, amount_functional, products_changed,"
        " is_flagged from marts.restated_postings",
    )
    [close] = query(
        paths,
        "select close_status, restatements, restatements_unflagged, restated_amount_functional"
        " from marts.close_status where entity_code = 'FR01' and period_id = '2025-P02'",
    )
    alerts = [json.loads(line) for line in broken_enterprise.alerts.read_text().splitlines()]
    restatement_alerts = [a for a in alerts if a["kind"] == "restatement"]
    assert [(b["entity"], b["period"], b["unit"]) for b in breaks] == [("FR01", "2025-P02", "EUR")]
    assert breaks[0]["owner_role"] == CONTROLLER
    assert breaks[0]["difference"] == broken_enterprise.late_posting_debits
    assert posting[:4] == ("FR01", "2025-P02", LATE_DOCUMENT, broken_enterprise.late_posting_debits)
    assert "income_statement" in posting[4] and "exports/fpa_actuals" in posting[4]
    assert posting[5] is False
    assert close == ("done", 1, 1, broken_enterprise.late_posting_debits)
    assert len(restatement_alerts) == 1
    assert restatement_alerts[0]["role"] == CONTROLLER
    assert restatement_alerts[0]["details"]["document_number"] == LATE_DOCUMENT
    assert Decimal(restatement_alerts[0]["details"]["amount_functional"]) == (
        broken_enterprise.late_posting_debits
    )
    # each new break alerted its checkpoint's owner once
    break_alerts = {
        a["details"]["checkpoint"]: a["role"]
        for a in alerts
        if "checkpoint" in a.get("details", {})
    }
    assert break_alerts == {
        "payroll_register_vs_gl_payroll_expense": CONTROLLER,
        "intercompany_legs_agree": CONTROLLER,
        "restatements_flagged": CONTROLLER,
    }


def test_a_blocking_break_stops_the_fpa_export_and_the_run_names_it(
    broken_enterprise: BrokenEnterprise,
) -> None:
    run = broken_enterprise.run
    failures = [e for e in run.all_events if e.event_type_value == "STEP_FAILURE"]
    message = "\n".join(str(e.event_specific_data.error) for e in failures)
    materialized = {e.asset_key for e in run.get_asset_materialization_events()}
    checks = {
        c.asset_check_key.name: c.passed
        for c in run.get_asset_check_evaluations()
        if c.asset_key.path[0] == "reconciliation"
    }
    assert not run.success
    assert "reconciliation/blocking_breaks: payroll_register_vs_gl_payroll_expense" in message
    assert "reconciliation/blocking_breaks: restatements_flagged" in message
    assert checks["payroll_register_vs_gl_payroll_expense"] is False
    assert checks["intercompany_legs_agree"] is False  # a warning: it does not block
    assert FPA_ACTUALS not in materialized
    assert not list((broken_enterprise.paths.exports / "fpa").rglob("*.csv"))
    # what does not depend on the blocked checks is published, the status page included
    assert RECONCILIATION_STATUS in materialized
    assert dg.AssetKey(["exports", "reporting_trial_balance"]) in materialized
    assert dg.AssetKey(["reconciliation", "status_page"]) in materialized


def _period_file(paths: Paths, period: str) -> Path:
    folder = paths.exports / "reporting" / "trial_balance"
    return next(p for p in sorted(folder.rglob("*.parquet")) if period in str(p))


@pytest.fixture(scope="module")
def tampered(broken_enterprise: BrokenEnterprise, tmp_path_factory) -> dict:
    """GB01's trial balance file of 2025-P06 edited after it was published (+1000 on one
    movement), then the export reconciliation run again."""
    paths = broken_enterprise.paths
    target = _period_file(paths, "2025-P06")
    original = target.read_bytes()
    edited = target.with_name(".edited.parquet")
    with duckdb.connect() as con:
        [(account,)] = con.execute(
            "select min(account_code) from read_parquet(?)"
            " where entity_code = 'GB01' and movement_functional > 0",
            [str(target)],
        ).fetchall()
        con.execute(
            f"""copy (select * replace (
                    case when entity_code = 'GB01' and account_code = '{account}'
                         then movement_functional + 1000 else movement_functional end
                    as movement_functional)
                from read_parquet('{target}')) to '{edited}' (format parquet)"""
        )
    edited.replace(target)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINSYNC_ALERT_FILE", str(broken_enterprise.alerts))
        result = reconcile(broken_enterprise, EXPORT_RECONCILIATION)
    return {"target": target, "original": original, "result": result}


def test_a_tampered_export_breaks_for_the_platform_owner(
    broken_enterprise: BrokenEnterprise, tampered: dict
) -> None:
    breaks = status_rows(broken_enterprise.paths, "reporting_trial_balance_file_vs_mart", "break")
    [check] = [
        c
        for c in tampered["result"].get_asset_check_evaluations()
        if c.asset_check_key.name == "reporting_trial_balance_file_vs_mart"
    ]
    assert tampered["result"].success  # export checkpoints warn: the files are out already
    assert [(b["entity"], b["period"], b["unit"]) for b in breaks] == [("GB01", "2025-P06", "GBP")]
    assert breaks[0]["difference"] == Decimal("1000.00")
    assert breaks[0]["owner_role"] == PLATFORM
    assert not check.passed
    assert check.metadata["open_breaks"].value == 1


def test_a_fixed_break_shows_when_it_was_resolved(
    broken_enterprise: BrokenEnterprise, tampered: dict
) -> None:
    paths = broken_enterprise.paths
    [opened] = status_rows(paths, "reporting_trial_balance_file_vs_mart", "break")
    tampered["target"].write_bytes(tampered["original"])  # the file is republished as it was
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINSYNC_ALERT_FILE", str(broken_enterprise.alerts))
        result = reconcile(broken_enterprise, EXPORT_RECONCILIATION)
    [resolved] = status_rows(paths, "reporting_trial_balance_file_vs_mart", "resolved")
    ok_now = [
        r
        for r in status_rows(paths, "reporting_trial_balance_file_vs_mart", "ok")
        if (r["entity"], r["period"]) == ("GB01", "2025-P06")
    ]
    assert result.success
    assert status_rows(paths, "reporting_trial_balance_file_vs_mart", "break") == []
    assert resolved["first_seen"] == opened["first_seen"]
    assert resolved["resolved_at"] > resolved["first_seen"]
    assert resolved["difference"] == 0
    assert len(ok_now) == 1
    # other checkpoints' open breaks are untouched by the export reconciliation
    assert len(status_rows(paths, "payroll_register_vs_gl_payroll_expense", "break")) == 1


def test_a_file_changed_after_its_manifest_was_written_does_not_match(tmp_path: Path) -> None:
    """The FP&A manifest's checksums, against files written here: one is edited afterwards."""
    files = {"actuals/2025-P01.csv": "Entity,Amount\nDE01,1.00\n", "lists/entities.csv": "Code\n"}
    entries = []
    for relative, text in files.items():
        (tmp_path / "fpa" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "fpa" / relative).write_text(text)
        entries.append(
            {
                "path": relative,
                "period": "2025-P01" if relative.startswith("actuals") else None,
                "rows": 1,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
            }
        )
    (tmp_path / "fpa" / "manifest.json").write_text(json.dumps({"files": entries}))
    (tmp_path / "fpa" / "actuals" / "2025-P01.csv").write_text("Entity,Amount\nDE01,2.00\n")
    sql = comparison_sql(by_name("fpa_files_match_manifest"), tmp_path)
    with duckdb.connect() as con:
        compared = con.execute(
            f"select entity, period, difference from ({sql}) order by 1"
        ).fetchall()
    assert compared == [
        ("actuals/2025-P01.csv", "2025-P01", Decimal("-1.00")),
        ("lists/entities.csv", "all", Decimal("0.00")),
    ]


def test_an_erp_item_lost_or_doubled_in_raw_breaks_against_the_erps_count(
    paths: Paths, main_run, tmp_path: Path
) -> None:
    """The ERP's own item count per company and period, against raw with one item deleted
    in one period and another loaded twice in another."""
    copy = copy_warehouse(paths.warehouse, tmp_path)
    sql = comparison_sql(by_name("erp_journal_items_source_vs_raw"), paths.exports)
    with open_warehouse(copy, read_only=False) as con:
        (lost, doubled) = con.execute(
            """select company_code, fiscal_year, fiscal_period, accounting_document,
                      ledger_gl_line_item
               from raw_erp.journal_items
               where (company_code, fiscal_year, fiscal_period) in (
                   select company_code, fiscal_year, fiscal_period from raw_erp.journal_items
                   group by all order by all limit 2)
               qualify row_number() over (
                   partition by company_code, fiscal_year, fiscal_period
                   order by accounting_document, ledger_gl_line_item) = 1
               order by all"""
        ).fetchall()
        prepare(con)
        before = con.execute(f"select count(*) from ({sql}) where difference <> 0").fetchall()
        con.execute(
            """delete from raw_erp.journal_items where company_code = ? and fiscal_year = ?
               and fiscal_period = ? and accounting_document = ? and ledger_gl_line_item = ?""",
            list(lost),
        )
        con.execute(
            """insert into raw_erp.journal_items select * from raw_erp.journal_items
               where company_code = ? and fiscal_year = ? and fiscal_period = ?
               and accounting_document = ? and ledger_gl_line_item = ?""",
            list(doubled),
        )
        prepare(con)  # the raw side reads raw's totals as of the evaluation
        breaks = con.execute(
            f"select entity, period, unit, difference from ({sql}) where difference <> 0"
            " order by period"
        ).fetchall()
    period = "{}-P{:02d}"
    assert before == [(0,)]
    assert sorted(breaks) == sorted(
        [
            (lost[0], period.format(lost[1], lost[2]), "rows", Decimal("-1.00")),
            (doubled[0], period.format(doubled[1], doubled[2]), "rows", Decimal("1.00")),
        ]
    )
