"""finsync's Dagster definitions: one graph from source systems to export files."""

from __future__ import annotations

import dagster as dg

from orchestration.exports.fpa import fpa_actuals, fpa_actuals_ties_to_mart
from orchestration.exports.reporting import reporting_marts
from orchestration.ingest import raw_assets, source_specs
from orchestration.jobs import main_job
from orchestration.paths import Paths
from orchestration.resources import resources
from orchestration.transform import dbt_models


def build(paths: Paths) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *source_specs(),
            *raw_assets(paths),
            dbt_models,
            fpa_actuals,
            *reporting_marts,
        ],
        asset_checks=[fpa_actuals_ties_to_mart],
        jobs=[main_job],
        resources=resources(paths),
    )


defs = build(Paths.from_env())
