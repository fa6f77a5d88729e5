"""Reconciliation as Dagster assets, keyed in the warehouse's `reconciliation` schema.

    raw loads ──► source_control_totals ─┐
    marts ───────────────────────────────┴► reconciliation_status ─► blocking_breaks ─► FP&A export
    exports ─────────────────────────────────► export_reconciliation

`reconciliation_status` evaluates the warehouse checkpoints; `blocking_breaks` holds the
open breaks of the blocking ones and carries one blocking check per blocking
checkpoint, so a break stops the FP&A export and the run names the checkpoint. The
gate is an asset of its own so that the status page, downstream of
`reconciliation_status`, still renders when the export is stopped.
`export_reconciliation` compares the published files with their marts after they are
written. New breaks alert their checkpoint's owner; new restatements the controller.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.alerts import AlertSink, reconciliation_break_alerts, restatement_alerts
from orchestration.automation import follows_inputs
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.reconciliation import source_controls
from orchestration.reconciliation.checkpoints import EXPORTS, WAREHOUSE, Checkpoint, of_stage
from orchestration.reconciliation.status import (
    BREAK,
    SCHEMA,
    STATUS,
    Evaluation,
    declare,
    evaluate_all,
    open_breaks,
)
from orchestration.resources import Exports, Warehouse

SOURCE_CONTROL_TOTALS = dg.AssetKey([SCHEMA, "source_control_totals"])
RECONCILIATION_STATUS = dg.AssetKey([SCHEMA, "reconciliation_status"])
BLOCKING_BREAKS = dg.AssetKey([SCHEMA, "blocking_breaks"])
EXPORT_RECONCILIATION = dg.AssetKey([SCHEMA, "export_reconciliation"])
ALERTED_RESTATEMENTS = f"{SCHEMA}.restatements_alerted"


def _marts(*names: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["marts", name]) for name in names]


@dg.asset(
    key=SOURCE_CONTROL_TOTALS,
    automation_condition=follows_inputs(SOURCE_CONTROL_TOTALS),
    deps=[
        dg.AssetKey(["raw_erp", "journal_items"]),
        dg.AssetKey(["raw_payroll", "payroll_results"]),
    ],
    group_name=SCHEMA,
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    retry_policy=dg.RetryPolicy(max_retries=2, delay=2),
    description="The source systems' own control totals, fetched right after the raw loads:"
    " the ERP's trial balance and the payroll register's totals.",
)
def source_control_totals(warehouse: Warehouse) -> dg.MaterializeResult:
    fetched = {
        source_controls.ERP_TRIAL_BALANCE: list(source_controls.erp_trial_balance()),
        source_controls.PAYROLL_REGISTER: list(source_controls.payroll_register()),
    }
    with warehouse.connect(read_only=False) as con:
        rows = {table: source_controls.load(con, table, data) for table, data in fetched.items()}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(rows.values()),
            "rows_by_table": dg.MetadataValue.json(rows),
        }
    )


def _summary(evaluations: list[Evaluation]) -> dict[str, object]:
    """What a controller reads on the asset: keys compared, open breaks by checkpoint and owner."""
    by_owner: dict[str, int] = {}
    for e in evaluations:
        by_owner[e.checkpoint.owner_role] = by_owner.get(e.checkpoint.owner_role, 0) + e.breaks
    return {
        "keys_compared": sum(e.compared for e in evaluations),
        "open_breaks": sum(e.breaks for e in evaluations),
        "open_breaks_by_checkpoint": dg.MetadataValue.json(
            {e.checkpoint.name: e.breaks for e in evaluations}
        ),
        "open_breaks_by_owner": dg.MetadataValue.json(by_owner),
        "new_breaks": sum(len(e.new_breaks) for e in evaluations),
    }


def _alert(evaluations: list[Evaluation]) -> None:
    sink = AlertSink.from_env()
    for e in evaluations:
        for alert in reconciliation_break_alerts(
            e.checkpoint.name, e.checkpoint.owner_role, e.checkpoint.blocking, e.new_breaks
        ):
            sink.send(alert)


def _new_restatements(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Restated postings not alerted before; remembers them as alerted."""
    con.execute(
        f"create table if not exists {ALERTED_RESTATEMENTS}"
        " (document_key varchar primary key, alerted_at timestamptz)"
    )
    cursor = con.execute(
        f"""select document_key, entity_code, period_id, document_number, currency_functional,
                   amount_functional, pl_amount_functional, products_changed, is_flagged,
                   posted_at, locked_at
            from marts.restated_postings
            where document_key not in (select document_key from {ALERTED_RESTATEMENTS})
            order by all"""
    )
    columns = [d[0] for d in cursor.description]
    new = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if new:
        con.executemany(
            f"insert into {ALERTED_RESTATEMENTS} values (?, ?)",
            [[p["document_key"], datetime.now(UTC)] for p in new],
        )
    return [
        {k: str(v) if isinstance(v, Decimal | datetime) else v for k, v in p.items()} for p in new
    ]


@dg.asset(
    key=RECONCILIATION_STATUS,
    automation_condition=follows_inputs(RECONCILIATION_STATUS),
    deps=[
        SOURCE_CONTROL_TOTALS,
        dg.AssetKey(["raw_erp", "journal_items"]),
        dg.AssetKey(["raw_payroll", "payroll_results"]),
        dg.AssetKey(["staging", "stg_erp__journal_items"]),
        dg.AssetKey(["staging", "stg_payroll__payroll_results"]),
        dg.AssetKey(["staging", "stg_crm__opportunities"]),
        dg.AssetKey(["intermediate", "int_gl_journal_lines"]),
        dg.AssetKey(["quarantine", "quarantine_gl_journal_lines"]),
        *_marts(
            "fct_gl_journal_lines",
            "dim_fiscal_period",
            "intercompany_mismatches",
            "consolidation_eliminations",
            "restated_postings",
        ),
    ],
    group_name=SCHEMA,
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="Every warehouse checkpoint (source ↔ raw ↔ staging ↔ marts, sub-ledger ↔ GL,"
    " intercompany, restatements) evaluated into reconciliation.reconciliation_status.",
)
def reconciliation_status(warehouse: Warehouse, exports: Exports) -> dg.MaterializeResult:
    now = datetime.now(UTC)
    with warehouse.connect(read_only=False) as con:
        declare(con, of_stage(WAREHOUSE) + of_stage(EXPORTS))
        evaluations = evaluate_all(con, of_stage(WAREHOUSE), Path(exports.root), now)
        restatements = _new_restatements(con)
    _alert(evaluations)
    sink = AlertSink.from_env()
    for alert in restatement_alerts(restatements):
        sink.send(alert)
    return dg.MaterializeResult(
        metadata={**_summary(evaluations), "new_restatements": len(restatements)}
    )


@dg.asset(
    key=BLOCKING_BREAKS,
    automation_condition=follows_inputs(BLOCKING_BREAKS),
    deps=[RECONCILIATION_STATUS],
    group_name=SCHEMA,
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="The open breaks of blocking checkpoints: what stops the FP&A export now."
    " One blocking check per blocking checkpoint.",
)
def blocking_breaks(warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect(read_only=False) as con:
        con.execute(
            f"create or replace view {BLOCKING_BREAKS.path[0]}.{BLOCKING_BREAKS.path[1]} as"
            f" select * from {STATUS} where status = '{BREAK}' and blocking"
        )
        [(count,)] = con.execute(
            f"select count(*) from {SCHEMA}.{BLOCKING_BREAKS.path[1]}"
        ).fetchall()
    return dg.MaterializeResult(metadata={"dagster/row_count": count})


def checkpoint_check(checkpoint: Checkpoint, asset: dg.AssetKey) -> dg.AssetChecksDefinition:
    """The checkpoint's open breaks as an asset check: blocking as declared."""

    @dg.asset_check(
        asset=asset,
        name=checkpoint.name,
        blocking=checkpoint.blocking,
        pool=WAREHOUSE_POOL,
        description=f"{checkpoint.description} Owner: {checkpoint.owner_role}.",
    )
    def run_checkpoint(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            breaks = open_breaks(con, checkpoint.name)
        return dg.AssetCheckResult(
            passed=not breaks,
            severity=dg.AssetCheckSeverity.ERROR
            if checkpoint.blocking
            else dg.AssetCheckSeverity.WARN,
            description=None
            if not breaks
            else f"{len(breaks)} open break(s); owner {checkpoint.owner_role}",
            metadata={
                "owner_role": checkpoint.owner_role,
                "open_breaks": len(breaks),
                "breaks": dg.MetadataValue.json(
                    [
                        {"entity": e, "period": p, "unit": u, "difference": str(d)}
                        for e, p, u, d in breaks[:20]
                    ]
                ),
            },
        )

    return run_checkpoint


@dg.asset(
    key=EXPORT_RECONCILIATION,
    automation_condition=follows_inputs(EXPORT_RECONCILIATION),
    deps=[
        dg.AssetKey(["exports", "fpa_actuals"]),
        dg.AssetKey(["exports", "reporting_trial_balance"]),
    ],
    group_name=SCHEMA,
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="Every export checkpoint: each published file's control totals against its"
    " mart, into reconciliation.reconciliation_status.",
)
def export_reconciliation(warehouse: Warehouse, exports: Exports) -> dg.MaterializeResult:
    now = datetime.now(UTC)
    with warehouse.connect(read_only=False) as con:
        evaluations = evaluate_all(con, of_stage(EXPORTS), Path(exports.root), now)
    _alert(evaluations)
    return dg.MaterializeResult(metadata=_summary(evaluations))


reconciliation_assets = [
    source_control_totals,
    reconciliation_status,
    blocking_breaks,
    export_reconciliation,
]
reconciliation_checks = [
    *(checkpoint_check(c, BLOCKING_BREAKS) for c in of_stage(WAREHOUSE) if c.blocking),
    *(checkpoint_check(c, RECONCILIATION_STATUS) for c in of_stage(WAREHOUSE) if not c.blocking),
    *(checkpoint_check(c, EXPORT_RECONCILIATION) for c in of_stage(EXPORTS)),
]
