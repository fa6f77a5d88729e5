"""The dbt project as Dagster assets, keyed `<schema>/<model>`, with dbt tests as asset checks."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.automation import follows_inputs
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.resources import warehouse_lock

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR)


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse: sources are the dlt tables (`raw_erp/journal_items`),
    models and seeds are `<schema>/<name>` and grouped by layer. Models follow their
    inputs (declarative automation); freshness and owners are mapped over every spec in
    `definitions.py`, because dagster-dbt ignores freshness set in dbt's `meta`."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey([props["schema"], props["name"]]))
        key = dg.AssetKey([props["schema"], props["name"]])
        return spec.replace_attributes(
            key=key, group_name=props["schema"], automation_condition=follows_inputs(key)
        )


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=WarehouseTranslator(),
    pool=WAREHOUSE_POOL,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    """`dbt build`: seeds, models and their tests, in dependency order."""
    # the op context: dagster-dbt reads `context.op`, deprecated on the asset context
    with warehouse_lock(Paths.from_env().warehouse):  # dbt's profile reads the same setting
        yield from dbt.cli(["build"], context=context.op_execution_context).stream()
