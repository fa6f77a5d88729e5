"""Group ERP (S/4HANA-like): the journal history as bulk Parquet extracts, its daily
changes and all master data through the OData API.

Bulk files and API changes are resources of this one source because both feed
`raw_erp.journal_items`: one pipeline owns the table and its stored schema. The API
cursor starts at the bulk history's high-water mark, so history never travels twice.

`raw_erp.journal_items` is the log of journal line versions: both resources append
(Arrow end to end), so a load costs what arrives, not a merge against the whole
history. Each version is appended once: a bulk file is read once (its hash), the API's
cursor skips what it loaded at its mark, and a record the API repeats across the pages
of one load is taken once (`once_per_load`). Readers keep the latest version of each
key (`last_change_date_time`, then `_dlt_load_id`): staging, the raw contract and the
reconciliation checkpoints; raw's row count is not its number of journal lines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from ingest.api import ClientCredentials, RequestLog, page_holds, snake_case
from ingest.extracts import ExtractError, read_parquet
from ingest.resources import files_resource
from ingest.rest import api_resource
from sandbox import schemas

ROOT = "sap/opu/odata4/sap/api_finance/srvd_a2x/0001"
CHANGED = ("LastChangeDateTime", schemas.TS)


def _stamped(schema: pa.Schema) -> pa.Schema:
    """The API stamps every record with its last change, even where the file has none."""
    return schema if "LastChangeDateTime" in schema.names else schema.append(pa.field(*CHANGED))


# resource -> (entity set, contract, key in the vendor's names)
API_TABLES = {
    "company_codes": ("CompanyCodes", schemas.COMPANY_CODES, ["CompanyCode"]),
    "financial_statement_items": (
        "FinancialStatementItems",
        schemas.FINANCIAL_STATEMENT_ITEMS,
        ["FinancialStatementItem"],
    ),
    "gl_accounts": ("GLAccounts", schemas.GL_ACCOUNTS, ["GLAccount"]),
    "cost_center_nodes": ("CostCenterNodes", schemas.COST_CENTER_NODES, ["Node"]),
    "cost_centers": ("CostCenters", schemas.COST_CENTERS, ["CostCenter"]),
    "products": ("Products", schemas.PRODUCTS, ["Product"]),
    "projects": ("Projects", schemas.PROJECTS, ["Project"]),
    "fx_rates": (
        "ExchangeRates",
        schemas.FX_RATES,
        ["ExchangeRateType", "FromCurrency", "ToCurrency", "ValidFrom"],
    ),
    "close_calendar": (
        "CloseCalendar",
        pa.schema(
            [
                ("CompanyCode", pa.string()),
                ("FiscalYear", pa.int32()),
                ("FiscalPeriod", pa.int32()),
                ("Milestone", pa.string()),
                ("WorkingDay", pa.int32()),
                ("PlannedDate", pa.date32()),
            ]
        ),
        ["CompanyCode", "FiscalYear", "FiscalPeriod", "Milestone"],
    ),
    "close_milestone_events": (
        "CloseMilestoneEvents",
        pa.schema(
            [
                ("EventID", pa.string()),
                ("CompanyCode", pa.string()),
                ("FiscalYear", pa.int32()),
                ("FiscalPeriod", pa.int32()),
                ("Milestone", pa.string()),
            ]
        ),
        ["EventID"],
    ),
}
JOURNAL_CHANGES = "journal_item_changes"
REPEATED = "repeated_versions_dropped"  # a custom metric of JOURNAL_CHANGES
JOURNAL_KEY = ["CompanyCode", "FiscalYear", "AccountingDocument", "LedgerGLLineItem"]
JOURNAL_API_SCHEMA = schemas.JOURNAL_ITEMS.append(pa.field("IsReversed", pa.bool_()))


def bulk_high_water_mark(folder: Path) -> tuple[datetime | None, list[str]]:
    """The latest change in the bulk history, where the API's deltas begin, and the keys
    of the journal lines changed at that instant: the API shows them again (it selects
    at or after the mark) and they are loaded already."""
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return None, []
    latest = max(pc.max(_bulk_columns(f, ["LastChangeDateTime"])[0]).as_py() for f in files)
    # keys as text: a file with a wrong-typed key has its rows refused by read_parquet
    as_text = pa.schema([(k, pa.string()) for k in JOURNAL_KEY])
    at_mark = pa.concat_tables(
        _bulk_columns(f, JOURNAL_KEY, [("LastChangeDateTime", "=", latest)]).cast(as_text)
        for f in files
    )
    return latest, sorted("|".join(str(v) for v in row.values()) for row in at_mark.to_pylist())


def once_per_load(key: list[str], cursor: str) -> Callable[[pa.Table], pa.Table | None]:
    """A map step that drops the rows of a version (key and last change) already taken in
    the same load: a vendor repeats records across pages (the API is paged while it
    changes), and an append would keep each copy. The rows dropped are counted in the
    resource's metrics (`repeated_versions_dropped`). Quarantine tables pass unchanged
    (their own step keeps one of each refused record). The versions seen are forgotten
    when the load changes: a load that failed is extracted again whole."""
    columns = [snake_case(name) for name in [*key, cursor]]
    seen: set[tuple] = set()
    current: list[str | None] = [None]

    def take(table: pa.Table) -> pa.Table | None:
        if not isinstance(table, pa.Table) or not set(columns) <= set(table.column_names):
            return table
        load_id = dlt.current.load_package_state()["load_id"]
        if load_id != current[0]:
            current[0] = load_id
            seen.clear()
        versions = zip(*(table.column(c).to_pylist() for c in columns), strict=True)
        first = []
        for version in versions:
            first.append(version not in seen)
            seen.add(version)
        if all(first):
            return table
        metrics = dlt.current.resource_metrics()
        metrics[REPEATED] = metrics.get(REPEATED, 0) + first.count(False)
        return table.filter(pa.array(first)) if any(first) else None

    return take


def _bulk_columns(path: Path, columns: list[str], filters: list | None = None) -> pa.Table:
    try:
        return pq.read_table(path, columns=columns, filters=filters)
    except (pa.ArrowInvalid, OSError) as error:
        raise ExtractError(f"{path.name}: not a readable Parquet file: {error}") from error


@dlt.source(name="erp", max_table_nesting=0)
def erp(
    extracts_dir: str = dlt.config.value,
    base_url: str = dlt.config.value,
    request_log: RequestLog | None = None,
    bulk: bool = True,
):
    """Bulk journal history (files), journal changes and master data (API). Without
    `bulk`, every journal line comes through the API (a system without bulk extracts)."""
    history = Path(extracts_dir) / "erp" / "journal_items"
    if not bulk:
        history = history / "-none-"
    yield files_resource(
        "journal_items",
        history,
        "*.parquet",
        read_parquet,
        schemas.JOURNAL_ITEMS,
        ["company_code", "fiscal_year", "accounting_document", "ledger_gl_line_item"],
        versions=True,
    )
    mark, loaded_at_mark = bulk_high_water_mark(history)
    log = request_log or RequestLog()
    client = RESTClient(
        base_url=base_url,
        auth=ClientCredentials(token_url=f"{base_url}/oauth/token", system="erp"),
        paginator=JSONLinkPaginator(next_url_path="['@odata.nextLink']"),
        session=log.session(),
    )
    common = {
        "records": "value",
        "check_page": page_holds(("value", list)),
        "total": "@odata.count",
        "cursor": "LastChangeDateTime",
        "since_param": ("$filter", "LastChangeDateTime ge {since}"),
    }
    for name, (entity, schema, key) in API_TABLES.items():
        yield api_resource(
            client,
            "erp",
            name,
            path=f"{ROOT}/{entity}",
            schema=_stamped(schema),
            key=key,
            **common,
        )
    changes = api_resource(
        client,
        "erp",
        JOURNAL_CHANGES,
        path=f"{ROOT}/JournalEntryItems",
        schema=JOURNAL_API_SCHEMA,
        key=JOURNAL_KEY,
        table="journal_items",
        initial_value=mark,
        initial_loaded=loaded_at_mark,
        **common,
    )
    changes.apply_hints(write_disposition="append", columns={})  # no merge, no dedup_sort
    yield changes.add_map(once_per_load(JOURNAL_KEY, CHANGED[0]))
