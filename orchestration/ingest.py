"""One Dagster asset per dlt resource, keyed like the warehouse: `raw_erp/journal_items`."""

from collections.abc import Iterator

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingest.pipelines import SOURCES, pipeline
from orchestration.paths import Paths

SYSTEM_DESCRIPTIONS = {
    "erp": "Group ERP (S/4HANA-like): master data and bulk journal history as Parquet.",
    "regional_erp": "Regional ERP of the acquired Brazilian entity: CSV drops, local chart.",
    "payroll": "Payroll (Workday-like): workers and payroll results. Holds PII.",
    "crm": "CRM (Salesforce-like): customer accounts and opportunities.",
    "fpa": "FP&A planning tool (Anaplan-like): budget and forecast versions.",
}

# All writers of the DuckDB file share this pool: DuckDB allows one writer process.
WAREHOUSE_POOL = "warehouse"


def source_key(system: str) -> dg.AssetKey:
    return dg.AssetKey(["sources", system])


class RawLayerTranslator(DagsterDltTranslator):
    """Keys raw tables by dataset and table, downstream of their source system."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        system = data.resource.source_name
        return spec.replace_attributes(
            key=dg.AssetKey([f"raw_{system}", data.resource.name]),
            deps=[source_key(system)],
            group_name="raw",
            kinds={"dlt", "duckdb"},
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
    @dlt_assets(
        dlt_source=SOURCES[system](extracts_dir=str(paths.extracts)),
        dlt_pipeline=pipeline(system, paths.warehouse, paths.dlt),
        name=f"load_{system}",
        dagster_dlt_translator=RawLayerTranslator(),
        pool=WAREHOUSE_POOL,
    )
    def load(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Iterator:
        yield from dlt.run(context=context)

    return load
