"""One Dagster asset per dlt resource, keyed like the warehouse: `raw_erp/journal_items`.

Each load's materializations carry what a controller asks first: rows loaded and
quarantined by this load, HTTP retries, and the source's last change time (the
resource's incremental cursor).
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import duckdb
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingest.api import QUARANTINE, RequestLog
from ingest.erp import JOURNAL_CHANGES
from ingest.lake import lake_url, publish_views
from ingest.pipelines import SOURCES, pipeline, source
from orchestration.paths import Paths
from orchestration.resources import warehouse_lock

SYSTEM_DESCRIPTIONS = {
    "erp": "Group ERP (S/4HANA-like): bulk journal history as Parquet; changes and master"
    " data through its OData API.",
    "regional_erp": "Regional ERP of the acquired Brazilian entity: CSV drops, local chart.",
    "payroll": "Payroll (Workday-like) API: workers and payroll results. Holds PII.",
    "crm": "CRM (Salesforce-like) API: customer accounts and opportunities.",
    "fpa": "FP&A planning tool (Anaplan-like) API: budget and forecast versions.",
}

# the vendors' last-change fields, as raw columns
CHANGE_COLUMNS = ("last_change_date_time", "last_modified_date", "last_updated")

# All writers of the DuckDB file share this pool: DuckDB allows one writer process.
WAREHOUSE_POOL = "warehouse"


def source_key(system: str) -> dg.AssetKey:
    return dg.AssetKey(["sources", system])


class RawLayerTranslator(DagsterDltTranslator):
    """Keys raw tables by dataset and table, downstream of their source system.
    The ERP's API journal changes append to the bulk history's table: they are an
    asset of their own, upstream of `raw_erp/journal_items`."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        system = data.resource.source_name
        deps = [source_key(system)]
        if data.resource.name == "journal_items" and system == "erp":
            deps.append(dg.AssetKey(["raw_erp", JOURNAL_CHANGES]))
        return spec.replace_attributes(
            key=dg.AssetKey([f"raw_{system}", data.resource.name]),
            deps=deps,
            group_name="raw",
            kinds={"dlt", "parquet" if lake_url() else "duckdb"},
        )


def source_specs() -> list[dg.AssetSpec]:
    """The source systems themselves: external assets at the root of the lineage graph."""
    return [
        dg.AssetSpec(source_key(system), description=text, group_name="sources")
        for system, text in SYSTEM_DESCRIPTIONS.items()
    ]


def raw_assets(paths: Paths) -> list[dg.AssetsDefinition]:
    return [_raw_asset(system, paths) for system in SOURCES]


def _raw_asset(system: str, paths: Paths) -> dg.AssetsDefinition:
    """A load into the warehouse is a warehouse writer (its pool). A load into a lake writes
    files: it takes the warehouse only to make its views and read its facts, and its pool is
    its source's (one load of a source at a time: its dlt pipeline's state is one), so the
    loads of several sources run side by side where the executor allows."""
    request_log = RequestLog()
    dlt_pipeline = pipeline(system, paths.warehouse, paths.dlt)
    lake = lake_url() is not None

    @dlt_assets(
        dlt_source=source(system, paths.extracts, request_log),
        dlt_pipeline=dlt_pipeline,
        name=f"load_{system}",
        dagster_dlt_translator=RawLayerTranslator(),
        pool=f"lake_{system}" if lake else WAREHOUSE_POOL,
    )
    def load(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Iterator:
        request_log.retries = 0

        def run() -> list:
            return list(dlt.run(context=context, loader_file_format="parquet"))

        results = run() if lake else []  # into a lake: before the warehouse is taken
        with warehouse_lock(paths.warehouse):  # the pool alone can race: see warehouse_lock
            if lake:  # the warehouse's views of what the lake now holds
                publish_views(paths.warehouse, dlt_pipeline.dataset_name)
            else:
                results = run()
            facts = list(with_load_facts(results, dlt_pipeline, paths, system, request_log.retries))
        yield from facts

    return load


def with_load_facts(results: list, dlt_pipeline, paths: Paths, system: str, retries: int):
    """Add rows loaded and quarantined per resource, retries and last source change."""
    extract = dlt_pipeline.last_trace.last_extract_info
    items = {}
    for metrics in extract.metrics.values():
        for metric in metrics:
            for resource, m in metric["resource_metrics"].items():
                items[resource] = items.get(resource, 0) + m.items_count
    quarantined = _quarantined(dlt_pipeline, paths, system)
    state = dlt_pipeline.state.get("sources", {}).get(system, {}).get("resources", {})
    # the API's journal changes are upstream of the table they append to: yield them first
    for result in sorted(results, key=lambda r: r.asset_key.path[-1] != JOURNAL_CHANGES):
        resource = result.asset_key.path[-1]
        last_change = _last_change(dlt_pipeline, paths, system, resource, state.get(resource, {}))
        facts = {
            "rows_quarantined": dg.MetadataValue.int(quarantined.get(resource, 0)),
            "retries": dg.MetadataValue.int(retries),
        }
        loaded = items.get(resource, 0) - quarantined.get(resource, 0)
        if loaded:  # like dagster-dlt: a load that brought nothing says nothing
            facts["rows_loaded"] = dg.MetadataValue.int(loaded)
        if last_change:
            facts["source_last_change"] = dg.MetadataValue.text(str(last_change))
        yield result._replace(metadata={**(result.metadata or {}), **facts})


def _last_change(dlt_pipeline, paths: Paths, system: str, resource: str, state: dict) -> str | None:
    """The source's last change: an API resource's incremental cursor; else the latest
    change time its raw table holds (bulk files carry one); else when the newest file the
    resource loaded was written (the regional drops carry no change time)."""
    cursors = state.get("incremental", {})
    if cursor := next((c.get("last_value") for c in cursors.values()), None):
        return str(cursor)
    tables = dlt_pipeline.default_schema.tables
    table = next((t for t, v in tables.items() if v.get("resource") == resource), resource)
    column = next(
        (c for c in CHANGE_COLUMNS if c in tables.get(table, {}).get("columns", {})), None
    )
    if column:
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            (latest,) = con.execute(f"select max({column}) from raw_{system}.{table}").fetchone()
        return str(latest) if latest else None
    names = set(state.get("loaded_files", {}).values())
    written = [f.stat().st_mtime for f in (paths.extracts / system).rglob("*") if f.name in names]
    return str(datetime.fromtimestamp(max(written), UTC)) if written else None


def _quarantined(dlt_pipeline, paths: Paths, system: str) -> dict[str, int]:
    """Rows this run's loads sent to `raw_<system>.quarantine`, per resource."""
    load_ids = list(dlt_pipeline.last_trace.last_load_info.loads_ids or [])
    if not load_ids or QUARANTINE not in dlt_pipeline.default_schema.tables:
        return {}
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return dict(
            con.execute(
                f"select resource, count(*) from raw_{system}.{QUARANTINE}"
                " where _dlt_load_id in (select unnest(?)) group by all",
                [load_ids],
            ).fetchall()
        )
