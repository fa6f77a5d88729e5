"""Pandera contracts as Dagster asset checks, with refused rows kept in quarantine.

Each check reads its table with a short-lived DuckDB connection (a source's raw tables
share one, in one step) and validates it with Pandera (polars backend, lazily: every
failure, not the first) in bounded batches, the table-wide rules (key uniqueness, documents
that balance) as aggregates in DuckDB, so that a ten-million-line ledger is never held
whole. It reports what a controller asks first: rows, control totals, last source change
and its lag, how many rows failed and a sample of them. Failing rows are written to
`quarantine.check_failures` under the check's name, replacing that check's rows of the
previous run, so the table always says what is wrong now.

A contract that names its table's change column (`changed_by`) validates by row only the
rows changed since its last passing run (its watermark in `quarantine.contract_watermarks`):
a daily run reads the day's journal lines, not the ledger. Key uniqueness is proven on the
keys of those rows and `balances` on the whole table, so a daily run fails exactly where a
validation of the whole table would. A failing run drops the watermark: the next run
validates the whole table again, so quarantine keeps saying what is wrong now.

A contract of a log of versions (`versions_by`: the ERP's journal, to which dlt appends
each version of a line) holds for the latest version of each key: the superseded rows
are found once per check (few: the keys with several versions, found by their hash) and
every read of the table skips them.

Checks on published products are blocking, a step each: a failure stops that product's
exports downstream in the same run, and the run's failure names the check. Checks on raw
feeds warn: dbt's own quarantine refuses bad rows there, and the sync goes on.
"""

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pandera.polars as pa
import polars as pl
import pyarrow

from ingest.lake import lake_url
from orchestration.checks.schemas import (
    PRODUCTS,
    RAW,
    Contract,
    of_several,
    several_versions,
    several_versions_since,
    superseded_versions,
    table_wide,
    versions_order,
)
from orchestration.ingest import CHANGE_COLUMNS, WAREHOUSE_POOL
from orchestration.paths import Paths
from orchestration.pseudonym_key import pseudonym_key
from orchestration.resources import Warehouse

QUARANTINE = "quarantine.check_failures"
WATERMARKS = "quarantine.contract_watermarks"
WHOLE_TABLE = "whole table"
SAMPLE_ROWS = 5
# rows of a table a check holds at once (as polars frames, with Pandera's working copies)
BATCH_ROWS = 500_000
ROW = "row"  # a failing row's identity: its position in a frame, its rowid in the warehouse
CHECK_NAME = "contract"
# a log of versions: its keys with several rows and its superseded rows (registered on the
# connection), and the rowid column
SEVERAL, SUPERSEDED, VERSION = "several_versions", "superseded_versions", "version_row"


class ContractNotRun(RuntimeError):
    """A contract could not be checked (its table or a column is missing): not a failing
    check, which names rows, but a failing step."""


@dataclass(frozen=True)
class Outcome:
    rows: int  # the table's
    failed_rows: int
    failures_by_rule: dict[str, int]
    sample: list[dict]
    quarantined: pl.DataFrame  # check_name-less rows: key, reasons, payload
    validated: int  # rows validated by the row-by-row rules

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


def failure_cases(frame: pl.DataFrame, schema: pa.DataFrameSchema) -> pl.DataFrame:
    """Pandera's failure cases (lazily: every failure, not the first) with each one's rule:
    `index` is the failing row's position in `frame`, null for a schema-wide error."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return errors.failure_cases.select(
            "index",
            "failure_case",
            rule=pl.when(pl.col("schema_context") == "Column")
            .then(pl.col("column") + ": " + pl.col("check"))
            .otherwise(pl.col("check")),
        )
    return pl.DataFrame(schema={"index": pl.Int32, "failure_case": pl.String, "rule": pl.String})


def outcome_of(
    rows: int, cases: pl.DataFrame, failing: pl.DataFrame, contract: Contract, validated: int
) -> Outcome:
    """The outcome from every failure case (`row`, `rule`; `row` null for a schema-wide error)
    and the failing rows (`row` and the contract's columns), in the table's order."""
    if cases.is_empty():
        return Outcome(rows, 0, {}, [], pl.DataFrame(), validated)
    by_rule = {rule: count for rule, count in cases.group_by("rule").len().sort("rule").iter_rows()}
    reasons = (
        cases.filter(pl.col(ROW).is_not_null())
        .group_by(ROW)
        .agg(pl.col("rule").unique().sort().str.join("; ").alias("reasons"))
    )
    failing = failing.join(reasons, on=ROW).sort(ROW)
    records = conceal(failing.drop(ROW, "reasons").to_dicts(), contract.personal)
    quarantined = pl.DataFrame(
        {
            "row_key": [
                json.dumps({k: row[k] for k in contract.key}, default=str) for row in records
            ],
            "reasons": failing["reasons"],
            "payload": [json.dumps(row, default=str) for row in records],
        },
        schema={"row_key": pl.String, "reasons": pl.String, "payload": pl.String},
    )
    sample = [
        {"reasons": reason, **{k: str(v) for k, v in row.items()}}
        for reason, row in zip(failing["reasons"][:SAMPLE_ROWS], records[:SAMPLE_ROWS], strict=True)
    ]
    return Outcome(rows, failing.height, by_rule, sample, quarantined, validated)


def validate(frame: pl.DataFrame, contract: Contract) -> Outcome:
    """Every failing row of `frame` with the rules it breaks (schema-wide errors have no row),
    the whole contract validated by Pandera at once: for a frame already in memory."""
    cases = failure_cases(frame, contract.frame).select(
        pl.col("index").cast(pl.Int64).alias(ROW), "rule"
    )
    positions = frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    return outcome_of(frame.height, cases, positions, contract, frame.height)


def quoted(columns: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def table_wide_failures(
    contract: Contract,
    table: str,
    changed: str | None = None,
    row_id: str = "rowid",
    several: str | None = None,
) -> tuple[str, list[str]]:
    """The query of every row that breaks a table-wide rule (its key's uniqueness, a
    `balances` check), with its parameters: `row` (the warehouse's rowid) and `rule`, named
    as Pandera names it.

    Pandera compares rows within the frame it holds; here each rule is one aggregate in the
    warehouse, whose failing groups are joined back to their rows. Groups form as polars
    forms them (null equals null: `group by`, `is not distinct from`), and a group's sum
    ignores nulls as polars' does (all null: no failure either way).

    With `changed` (the condition of the rows changed since a passing validation of the
    whole table, its value the query's first parameter), uniqueness is counted on the keys
    of the changed rows only: two rows left as they were then were unique then, and removing
    rows makes no duplicate. `balances` reads every row: a document can lose a line (a
    deletion, a period rebuilt without it) while none of its other lines changes. Not in a
    log of versions whose key holds the document: there a document's lines change only by
    new versions, each of its own document, so `balances` reads the documents of the
    changed rows (the ERP journal's contract with nothing new, scale 10: 1.6-1.9 s instead
    of 2.1-2.8 s).

    `several` (a relation of `several_versions`' hashes) names the only keys of a log of
    versions whose latest version can repeat: a key with one row in the log has one latest
    version, so uniqueness is counted on the others' rows only (scale 10: ~1 s less of the
    ERP journal's contract on a full build).

    `table` may be a query in parentheses, whose rows' identity is its column `row_id`."""
    key = list(contract.key)
    rules = [("multiple_fields_uniqueness", "count(*) > 1", key)]
    rules += [
        (
            check.error or check.name,
            f"sum({check.statistics['amount']}) <> 0",
            check.statistics["over"],
        )
        for check in contract.frame.checks
        if table_wide(check)
    ]

    def joined(left: str, right: str, group: list[str]) -> str:
        return " and ".join(f'{left}."{c}" is not distinct from {right}."{c}"' for c in group)

    queries = []
    for number, (_, failing, group) in enumerate(rules, start=2 if changed else 1):
        rows = table
        if several and group is key:  # the rows of keys with several versions
            rows = f"(select * from {table} where {of_several(key, several)})"
        # the rows sharing a key (or, in a log, a document) with a changed row
        if changed and (group is key or (several and set(group) <= set(key))):
            rows = (
                f"(select * from {rows} as t semi join (select distinct {quoted(group)}"
                f" from {table} where {changed}) as c on {joined('t', 'c', group)})"
            )
        queries.append(
            f"select t.{row_id} as {ROW}, ${number} as rule from {table} as t"
            f" semi join (select {quoted(group)} from {rows} group by all having {failing}) as g"
            f" on {joined('t', 'g', group)}"
        )
    return " union all ".join(queries), [rule for rule, _, _ in rules]


def frames(reader: pyarrow.RecordBatchReader, rows: int) -> Iterator[pl.DataFrame]:
    """The reader's record batches (DuckDB's are ~120k rows), gathered into frames of about
    `rows` rows: Pandera's cost per validation is paid once per frame, not per batch."""
    gathered: list[pyarrow.RecordBatch] = []
    for batch in reader:
        gathered.append(batch)
        if sum(b.num_rows for b in gathered) >= rows:
            yield pl.from_arrow(pyarrow.Table.from_batches(gathered))
            gathered.clear()
    if gathered:
        yield pl.from_arrow(pyarrow.Table.from_batches(gathered))


def column_type(con: duckdb.DuckDBPyConnection, contract: Contract, column: str) -> str:
    [(data_type,)] = con.execute(
        "select data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? and column_name = ?",
        [contract.schema, contract.table, column],
    ).fetchall()
    return data_type


def changed_since(con: duckdb.DuckDBPyConnection, contract: Contract) -> str:
    """The condition of the rows changed after the query's first parameter, a value of the
    contract's `changed_by`."""
    kind = column_type(con, contract, contract.changed_by)
    return f'"{contract.changed_by}" > cast($1 as {kind})'


def validate_table(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    batch_rows: int = BATCH_ROWS,
    since: str | None = None,
    rows: tuple[str, str] | None = None,
) -> Outcome:
    """`validate` of a warehouse table, holding at most `batch_rows` of its rows at once.

    The row-by-row rules (types, ranges, allowed values, row checks) are Pandera's, on
    batches of the table; the table-wide ones (key uniqueness, `balances`) are the same rules
    as aggregates in DuckDB. The outcome is `validate`'s on the whole table: every failing
    row with all its reasons, the failures per rule, the sample in the table's order. A
    schema-wide error (a column's type) is the same in every batch, and counts once.

    `since` (a value of the contract's `changed_by`, through which a validation of the whole
    table passed) limits the row-by-row rules to the rows changed after it: the rows left
    as they were passed them then, so the outcome is still `validate`'s on the whole table.
    `rows` is `checked_rows`' answer, if the caller has it."""
    table, row_id = rows or checked_rows(con, contract)
    changed, since_params = None, []
    if since is not None:
        changed, since_params = changed_since(con, contract), [since]
    several = SEVERAL if contract.versions_by else None  # registered by checked_rows
    sql, rules = table_wide_failures(contract, table, changed, row_id, several)
    cases = [
        con.sql(sql, params=since_params + rules).pl().select(pl.col(ROW).cast(pl.Int64), "rule")
    ]
    schema = contract.rowwise
    schema_wide: set[tuple[str, str]] = set()
    validated = 0
    [(rows,)] = con.execute(f"select count(*) from {table}").fetchall()
    reader = con.sql(
        f"select {row_id} as {ROW}, {quoted(contract.columns)} from {table}"
        + (f" where {changed}" if changed else ""),
        params=since_params or None,
    ).to_arrow_reader(batch_rows)
    for frame in frames(reader, batch_rows):
        validated += frame.height
        found = failure_cases(frame.drop(ROW), schema)
        schema_wide |= set(
            found.filter(pl.col("index").is_null()).select("rule", "failure_case").iter_rows()
        )
        positions = frame.select(pl.col(ROW).cast(pl.Int64)).with_row_index("index")
        cases.append(
            found.filter(pl.col("index").is_not_null())
            .join(positions.with_columns(pl.col("index").cast(pl.Int32)), on="index")
            .select(ROW, "rule")
        )
        del frame, found, positions  # before the next batch is read
    if validated == 0:  # no batch: an empty table's (or change's) schema-wide errors
        found = failure_cases(pl.from_arrow(reader.schema.empty_table()).drop(ROW), schema)
        schema_wide |= set(found.select("rule", "failure_case").iter_rows())
    cases.append(
        pl.DataFrame(
            {ROW: [None] * len(schema_wide), "rule": [rule for rule, _ in sorted(schema_wide)]},
            schema={ROW: pl.Int64, "rule": pl.String},
        )
    )
    cases = pl.concat(cases)
    failing_rows = cases.filter(pl.col(ROW).is_not_null()).select(ROW).unique()
    failing = con.sql(  # the failing rows' values, read again: few, unless the table is bad
        f"select {row_id} as {ROW}, {quoted(contract.columns)} from {table}"
        f" where {row_id} in (select {ROW} from failing_rows)"
        + ("" if failing_rows.height else " and false")
    ).pl()
    failing = failing.with_columns(pl.col(ROW).cast(pl.Int64))
    return outcome_of(rows, cases, failing, contract, validated)


def as_stored(con: duckdb.DuckDBPyConnection, contract: Contract) -> Contract:
    """The contract of a table as the raw layer stores it. In a lake (ingest/lake.py) dlt
    appends what it merges in the warehouse: each raw table is a log of versions, and its
    contract holds for the latest version of each key, by the source's last change where
    the table has one (CHANGE_COLUMNS), then by load: two versions of a key alike in both
    are a row doubled within a load, which the contract reports."""
    if lake_url() is None or contract.versions_by or not contract.schema.startswith("raw_"):
        return contract
    names = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ?",
            [contract.schema, contract.table],
        ).fetchall()
    }
    change = next((column for column in CHANGE_COLUMNS if column in names), None)
    return dataclasses.replace(contract, versions_by=versions_order(change))


def checked_rows(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    since: str | None = None,
    check_name: str | None = None,
) -> tuple[str, str]:
    """The rows the contract holds for, as a table or a query in parentheses, and the name
    of each row's identity (its rowid in the table). Of a log of versions, the latest of
    each key: the keys with several versions and the superseded versions (few: a key's
    later changes) are found once and registered on `con`, so that every read of the table
    skips them without ranking it, and uniqueness is counted on those keys' rows only.
    After a passing run of the check (`since`, its watermark, which kept the keys with
    several versions it found), those keys are added to by the rows changed since (scale
    10, nothing new: ~0.1 s instead of ~1 s)."""
    table = f'"{contract.schema}"."{contract.table}"'
    if contract.versions_by is None:
        return table, "rowid"
    if since is not None and check_name is not None and kept_several(con, check_name):
        kept = (
            f"(select unnest(several_versions) as key_hash from {WATERMARKS} where check_name = $2)"
        )
        found = con.sql(
            several_versions_since(table, contract.key, changed_since(con, contract), kept),
            params=[since, check_name],
        )
    else:
        found = con.sql(several_versions(table, contract.key))
    con.register(SEVERAL, found.to_arrow_table())
    superseded = con.sql(
        superseded_versions(table, contract.key, contract.versions_by, SEVERAL)
    ).to_arrow_table()
    con.register(SUPERSEDED, superseded.rename_columns([VERSION]))
    return (
        f"(select rowid as {VERSION}, * from {table}"
        f" where rowid not in (select {VERSION} from {SUPERSEDED}))",
        VERSION,
    )


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


def validated_through(
    con: duckdb.DuckDBPyConnection, check_name: str, contract: Contract
) -> tuple[str | None, str | None]:
    """The check's watermark, if it still holds, and the latest change in the table now.

    The watermark is the latest change a passing run of the check validated. It does not
    hold after a failing run (none is kept: a failure stays reported until fixed), under
    rules other than the contract's now, or when the table's latest change is older (the
    table was rebuilt from older data): the whole table is validated then."""
    if contract.changed_by is None:
        return None, None
    table = f'"{contract.schema}"."{contract.table}"'
    [(through,)] = con.execute(
        f'select cast(max("{contract.changed_by}") as varchar) from {table}'
    ).fetchall()
    [(kept,)] = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'quarantine' and table_name = 'contract_watermarks'"
    ).fetchall()
    if not kept or through is None:
        return None, through
    kind = column_type(con, contract, contract.changed_by)
    since = con.execute(
        f"select validated_through from {WATERMARKS}"
        " where check_name = ? and change_column = ? and contract = ?"
        f" and cast(validated_through as {kind}) <= cast(? as {kind})",
        [check_name, contract.changed_by, contract.fingerprint, through],
    ).fetchall()
    return (since[0][0] if since else None), through


def keep_watermark(
    con: duckdb.DuckDBPyConnection,
    check_name: str,
    contract: Contract,
    since: str | None,
    through: str | None,
    outcome: Outcome,
) -> None:
    """After a passing run the table is valid through its latest change, and a log of
    versions keeps the keys it found with several (`checked_rows`); after a failing one, no
    watermark: the next run validates the whole table. A run that found no change leaves
    the watermark as it was (re-running changes no row)."""
    if contract.changed_by is None or (outcome.passed and since is not None and since == through):
        return
    con.execute("create schema if not exists quarantine")
    con.execute(
        f"""create table if not exists {WATERMARKS} (
            check_name varchar, change_column varchar, contract varchar,
            validated_through varchar, validated_at timestamptz, several_versions ubigint[])"""
    )
    con.execute(f"alter table {WATERMARKS} add column if not exists several_versions ubigint[]")
    con.execute(f"delete from {WATERMARKS} where check_name = ?", [check_name])
    if outcome.passed and through is not None:
        several = "null"  # a table that is no log
        if contract.versions_by:
            several = f"coalesce((select list(key_hash) from {SEVERAL}), [])"
        con.execute(
            f"insert into {WATERMARKS} by name select ? as check_name, ? as change_column,"
            " ? as contract, ? as validated_through, ? as validated_at,"
            f" {several} as several_versions",
            [check_name, contract.changed_by, contract.fingerprint, through, datetime.now(UTC)],
        )


def kept_several(con: duckdb.DuckDBPyConnection, check_name: str) -> bool:
    """Whether the check's watermark kept the keys of its log with several versions (not a
    watermark kept before they were)."""
    [(column,)] = con.execute(
        "select count(*) from information_schema.columns where table_schema = 'quarantine'"
        " and table_name = 'contract_watermarks' and column_name = 'several_versions'"
    ).fetchall()
    if not column:
        return False
    [(kept,)] = con.execute(
        f"select count(several_versions) from {WATERMARKS} where check_name = ?", [check_name]
    ).fetchall()
    return kept > 0


def source_facts(
    con: duckdb.DuckDBPyConnection, contract: Contract, rows: tuple[str, str] | None = None
) -> dict[str, object]:
    """Control totals per currency (of `checked_rows`, which `rows` may give), last source
    change and how long ago it was."""
    facts: dict[str, object] = {}
    table = f'"{contract.schema}"."{contract.table}"'
    if contract.totals:
        counted, _ = rows or checked_rows(con, contract)
        amount, currency = contract.totals
        totals = con.execute(
            f"select {currency}, sum({amount}) from {counted} group by 1 order by 1"
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


def contract_description(contract: Contract) -> str:
    return (
        f"Pandera contract of {contract.schema}.{contract.table}: types, ranges, allowed"
        f" values, key {', '.join(contract.key)}"
        + "".join(f", {check.name}" for check in contract.frame.checks)
        + ". Failing rows go to quarantine.check_failures."
    )


def contract_result(
    con: duckdb.DuckDBPyConnection, contract: Contract, severity: dg.AssetCheckSeverity
) -> dg.AssetCheckResult:
    """Validate `contract`'s table on `con`, quarantine its failing rows, keep its
    watermark, and say so as its check's result."""
    asset = check_key(contract)
    check_name = dg.AssetCheckKey(asset, CHECK_NAME).to_user_string()
    stored = as_stored(con, contract)
    since, through = validated_through(con, check_name, stored)
    rows = checked_rows(con, stored, since, check_name)
    outcome = validate_table(con, stored, since=since, rows=rows)
    quarantine(con, check_name, asset, outcome)
    keep_watermark(con, check_name, stored, since, through, outcome)
    facts = source_facts(con, stored, rows)
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=CHECK_NAME,
        passed=outcome.passed,
        severity=severity,
        description=None
        if outcome.passed
        else f"{outcome.failed_rows} of {outcome.rows} rows fail; see quarantine",
        metadata={
            "dagster/row_count": outcome.rows,
            "rows_validated": outcome.validated,
            "scope": WHOLE_TABLE if since is None else f"changed since {since}",
            "failed_rows": outcome.failed_rows,
            "quarantined_rows": outcome.quarantined.height,
            "failures_by_rule": dg.MetadataValue.json(outcome.failures_by_rule),
            "failing_sample": dg.MetadataValue.json(outcome.sample),
            **facts,
        },
    )


def contract_check(contract: Contract, blocking: bool) -> dg.AssetChecksDefinition:
    """One table's contract, a step of its own: a published product's, so that its blocking
    failure fails its step and holds back the exports of that product only."""
    severity = dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN

    @dg.asset_check(
        asset=check_key(contract),
        name=CHECK_NAME,
        blocking=blocking,
        pool=WAREHOUSE_POOL,
        description=contract_description(contract),
    )
    def run_contract(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=False) as con:
            return contract_result(con, contract, severity)

    return run_contract


def source_contracts_check(source: str, contracts: list[Contract]) -> dg.AssetChecksDefinition:
    """The contracts of one source's raw tables in one step, as its load materializes them in
    one, on one warehouse connection: each result is still its own table's check. A step and
    a connection cost ~0.15 s each beside the validation (scale 1, 20 raw contracts: 2.4-3.2 s
    on a connection each, 1.2-1.3 s on one). Raw contracts warn, so one table's failure holds
    nothing back; a subset of them (a check picked in the UI) runs alone. A contract that
    cannot run (a column gone from its table) does not keep the others from theirs: the
    step fails after them, naming it."""
    severity = dg.AssetCheckSeverity.WARN

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(
                CHECK_NAME, asset=check_key(contract), description=contract_description(contract)
            )
            for contract in contracts
        ],
        name=f"{source}_contracts",
        can_subset=True,
        pool=WAREHOUSE_POOL,
    )
    def run_contracts(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse
    ) -> Iterator[dg.AssetCheckResult]:
        selected = context.selected_asset_check_keys
        errors: dict[str, Exception] = {}
        with warehouse.connect(read_only=False) as con:
            for contract in contracts:
                key = dg.AssetCheckKey(check_key(contract), CHECK_NAME)
                if key in selected:
                    try:
                        yield contract_result(con, contract, severity)
                    except Exception as error:  # raised below, after the others
                        errors[key.to_user_string()] = error
        if errors:
            raise ContractNotRun(
                "; ".join(f"{key}: {error}" for key, error in errors.items())
            ) from next(iter(errors.values()))

    return run_contracts


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


def checks_for(assets: set[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """The checks whose table this deployment has: a contract may be written before its
    feed is (the close calendar comes with the ERP's API), and a check must target an
    asset that exists. Raw contracts are one step per source (`source_contracts_check`)."""
    raw = [contract for contract in RAW if check_key(contract) in assets]
    sources = sorted({contract.schema for contract in raw})
    by_source = [source_contracts_check(s, [c for c in raw if c.schema == s]) for s in sources]
    own = [*product_checks, trial_balance_ties_to_gl]
    return by_source + [c for c in own if all(key.asset_key in assets for key in c.check_keys)]
