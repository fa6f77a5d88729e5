"""Pandera contracts as Dagster asset checks, with refused rows kept in quarantine.

Each check reads its table with a short-lived DuckDB connection, validates it with
Pandera (polars backend, lazily: every failure, not the first), and reports what a
controller asks first: rows, control totals, last source change and its lag, how
many rows failed and a sample of them. Failing rows are written to
`quarantine.check_failures` under the check's name, replacing that check's rows of
the previous run, so the table always says what is wrong now.

Checks on published products are blocking: a failure stops the exports downstream in
the same run, and the run's failure names the check. Checks on raw feeds warn: dbt's
own quarantine refuses bad rows there, and the sync goes on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pandera.polars as pa
import polars as pl

from orchestration.checks.schemas import PRODUCTS, RAW, Contract
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.paths import Paths
from orchestration.pseudonym_key import pseudonym_key
from orchestration.resources import Warehouse

QUARANTINE = "quarantine.check_failures"
SAMPLE_ROWS = 5
CHECK_NAME = "contract"


@dataclass(frozen=True)
class Outcome:
    rows: int
    failed_rows: int
    failures_by_rule: dict[str, int]
    sample: list[dict]
    quarantined: pl.DataFrame  # check_name-less rows: key, reasons, payload

    @property
    def passed(self) -> bool:
        return not self.failures_by_rule


def conceal(rows: list[dict], personal: tuple[str, ...]) -> list[dict]:
    """A failing payroll row leaves the check with no worker's id or pay: identifiers become
    their keyed hash (the `employee_key` of dim_employee for a worker id, so a controller
    can still find the person's row), amounts are withheld."""
    if not personal or not rows:
        return rows
    secret = pseudonym_key(Paths.from_env().data)

    def hidden(value: object) -> object:
        if value is None:
            return None
        if isinstance(value, str):
            return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()
        return "withheld"

    return [{k: hidden(v) if k in personal else v for k, v in row.items()} for row in rows]


def validate(frame: pl.DataFrame, contract: Contract) -> Outcome:
    """Every failing row of `frame` with the rules it breaks (schema-wide errors have no row)."""
    try:
        contract.frame.validate(frame, lazy=True)
        cases = pl.DataFrame()
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.with_columns(
            rule=pl.when(pl.col("schema_context") == "Column")
            .then(pl.col("column") + ": " + pl.col("check"))
            .otherwise(pl.col("check"))
        )
    if cases.is_empty():
        return Outcome(frame.height, 0, {}, [], pl.DataFrame())
    by_rule = {rule: count for rule, count in cases.group_by("rule").len().sort("rule").iter_rows()}
    reasons = (
        cases.filter(pl.col("index").is_not_null())
        .group_by("index")
        .agg(pl.col("rule").unique().sort().str.join("; ").alias("reasons"))
    )
    failing = (
        frame.with_row_index("index")
        .with_columns(pl.col("index").cast(pl.Int32))
        .join(reasons, on="index")
        .sort("index")
    )
    rows = conceal(failing.drop("index", "reasons").to_dicts(), contract.personal)
    quarantined = pl.DataFrame(
        {
            "row_key": [json.dumps({k: row[k] for k in contract.key}, default=str) for row in rows],
            "reasons": failing["reasons"],
            "payload": [json.dumps(row, default=str) for row in rows],
        },
        schema={"row_key": pl.String, "reasons": pl.String, "payload": pl.String},
    )
    sample = [
        {"reasons": reason, **{k: str(v) for k, v in row.items()}}
        for reason, row in zip(failing["reasons"][:SAMPLE_ROWS], rows[:SAMPLE_ROWS], strict=True)
    ]
    return Outcome(frame.height, failing.height, by_rule, sample, quarantined)


def quarantine(
    con: duckdb.DuckDBPyConnection, check_name: str, asset: dg.AssetKey, outcome: Outcome
) -> None:
    """Replace the check's rows in quarantine with this run's failing rows."""
    con.execute("create schema if not exists quarantine")
    con.execute(
        f"""create table if not exists {QUARANTINE} (
            check_name varchar, asset_key varchar, row_key varchar, reasons varchar,
            payload varchar, checked_at timestamptz)"""
    )
    con.execute(f"delete from {QUARANTINE} where check_name = ?", [check_name])
    if outcome.quarantined.is_empty():
        return
    failing = outcome.quarantined  # noqa: F841 (read by DuckDB's replacement scan)
    con.execute(
        f"insert into {QUARANTINE} select ?, ?, row_key, reasons, payload, ? from failing",
        [check_name, asset.to_user_string(), datetime.now(UTC)],
    )


def source_facts(con: duckdb.DuckDBPyConnection, contract: Contract) -> dict[str, object]:
    """Control totals per currency, last source change and how long ago it was."""
    facts: dict[str, object] = {}
    table = f'"{contract.schema}"."{contract.table}"'
    if contract.totals:
        amount, currency = contract.totals
        totals = con.execute(
            f"select {currency}, sum({amount}) from {table} group by 1 order by 1"
        ).fetchall()
        facts["control_totals"] = dg.MetadataValue.json({str(c): str(a) for c, a in totals})
    if contract.changed_at:
        [(changed,)] = con.execute(f"select max({contract.changed_at}) from {table}").fetchall()
        if changed is not None:
            if not isinstance(changed, datetime):
                changed = datetime(changed.year, changed.month, changed.day, tzinfo=UTC)
            facts["last_source_change"] = dg.MetadataValue.timestamp(changed)
            lag = datetime.now(UTC) - changed
            facts["source_lag_hours"] = round(lag.total_seconds() / 3600, 1)
    return facts


def check_key(contract: Contract) -> dg.AssetKey:
    return dg.AssetKey([contract.schema, contract.table])


def contract_check(contract: Contract, blocking: bool) -> dg.AssetChecksDefinition:
    asset = check_key(contract)
    severity = dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN

    @dg.asset_check(
        asset=asset,
        name=CHECK_NAME,
        blocking=blocking,
        pool=WAREHOUSE_POOL,
        description=(
            f"Pandera contract of {contract.schema}.{contract.table}: types, ranges, allowed"
            f" values, key {', '.join(contract.key)}"
            + "".join(f", {check.name}" for check in contract.frame.checks)
            + ". Failing rows go to quarantine.check_failures."
        ),
    )
    def run_contract(warehouse: Warehouse) -> dg.AssetCheckResult:
        check_name = dg.AssetCheckKey(asset, CHECK_NAME).to_user_string()
        columns = ", ".join(f'"{name}"' for name in contract.columns)
        with warehouse.connect(read_only=False) as con:
            frame = con.sql(f'select {columns} from "{contract.schema}"."{contract.table}"').pl()
            outcome = validate(frame, contract)
            quarantine(con, check_name, asset, outcome)
            facts = source_facts(con, contract)
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=severity,
            description=None
            if outcome.passed
            else f"{outcome.failed_rows} of {outcome.rows} rows fail; see quarantine",
            metadata={
                "dagster/row_count": outcome.rows,
                "failed_rows": outcome.failed_rows,
                "quarantined_rows": outcome.quarantined.height,
                "failures_by_rule": dg.MetadataValue.json(outcome.failures_by_rule),
                "failing_sample": dg.MetadataValue.json(outcome.sample),
                **facts,
            },
        )

    return run_contract


raw_checks = [contract_check(contract, blocking=False) for contract in RAW]
product_checks = [contract_check(contract, blocking=True) for contract in PRODUCTS]

GL_TIES_TO_TRIAL_BALANCE = """
    with gl as (
        select entity_code, period_id, currency_functional, sum(amount_functional) as amount
        from marts.fct_gl_journal_lines group by all
    ),
    tb as (
        select entity_code, period_id, currency_functional, sum(movement_functional) as amount
        from marts.trial_balance group by all
    )
    select
        coalesce(gl.entity_code, tb.entity_code) as entity_code,
        coalesce(gl.period_id, tb.period_id) as period_id,
        coalesce(gl.amount, 0) - coalesce(tb.amount, 0) as difference
    from gl full outer join tb using (entity_code, period_id, currency_functional)
    where coalesce(gl.amount, 0) <> coalesce(tb.amount, 0)
    order by all
"""


@dg.asset_check(
    asset=dg.AssetKey(["marts", "trial_balance"]),
    blocking=True,
    pool=WAREHOUSE_POOL,
    additional_deps=[dg.AssetKey(["marts", "fct_gl_journal_lines"])],
    description="The trial balance's movements tie to the GL lines per entity and period.",
)
def trial_balance_ties_to_gl(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        differences = con.execute(GL_TIES_TO_TRIAL_BALANCE).fetchall()
    return dg.AssetCheckResult(
        passed=not differences,
        metadata={
            "failed_rows": len(differences),
            "failing_sample": dg.MetadataValue.json(
                [
                    {"entity_code": e, "period_id": p, "difference": str(d)}
                    for e, p, d in differences[:SAMPLE_ROWS]
                ]
            ),
        },
    )


checks = [*raw_checks, *product_checks, trial_balance_ties_to_gl]


def checks_for(assets: set[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """The checks whose table this deployment has: a contract may be written before its
    feed is (the close calendar comes with the ERP's API), and a check must target an
    asset that exists."""
    return [c for c in checks if all(key.asset_key in assets for key in c.check_keys)]
