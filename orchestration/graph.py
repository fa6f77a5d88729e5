"""finsync's Dagster definitions: one graph from source systems to export files.

Per-area modules hold the definitions; `build` merges them for one data dir and maps what
applies to all: every asset's owner and freshness promise (`automation.govern`).
`orchestration.definitions` is the code location Dagster loads; a run (`make run`, the
bench, a test) builds its own, and importing this module builds nothing.
"""

from __future__ import annotations

import dagster as dg

from orchestration.alerts import (
    alert_on_failed_checks,
    alert_on_run_failure,
    freshness_alert_sensor,
)
from orchestration.automation import govern, promise, schedules
from orchestration.checks.suites import checks_for
from orchestration.event_storage import commit_without_fsync, keep_event_log_engines
from orchestration.exports.fpa import fpa_actuals, fpa_actuals_ties_to_mart
from orchestration.exports.published import published_marts
from orchestration.exports.reporting import reporting_marts
from orchestration.ingest import raw_assets, source_specs
from orchestration.jobs import jobs
from orchestration.paths import Paths
from orchestration.process_exit import exit_without_collecting
from orchestration.reconciliation.assets import reconciliation_assets, reconciliation_checks
from orchestration.resources import resources
from orchestration.sensors import sensors
from orchestration.status_page import status_page
from orchestration.transform import dbt_models


def build(paths: Paths) -> dg.Definitions:
    commit_without_fsync()  # every process that runs these definitions writes their events
    keep_event_log_engines()
    exit_without_collecting()  # and ends holding their objects
    assets = dg.map_asset_specs(
        govern,
        [
            *source_specs(),
            *raw_assets(paths),
            dbt_models,
            fpa_actuals,
            *reporting_marts,
            *reconciliation_assets,
            status_page,
            published_marts(dbt_models, *reconciliation_assets),
        ],
    )
    keys = {key for asset in assets for key in _keys(asset)}
    defined = [asset for asset in assets if isinstance(asset, dg.AssetsDefinition)]
    promised = [key for key in keys if promise(key)]
    return dg.Definitions(
        assets=assets,
        asset_checks=[*checks_for(keys), fpa_actuals_ties_to_mart, *reconciliation_checks],
        jobs=jobs(defined, dbt_models),
        schedules=schedules,
        sensors=[
            alert_on_run_failure,
            alert_on_failed_checks,
            freshness_alert_sensor(promised),
            *sensors(paths),
        ],
        resources=resources(paths),
    )


def _keys(asset: dg.AssetsDefinition | dg.AssetSpec) -> list[dg.AssetKey]:
    return [asset.key] if isinstance(asset, dg.AssetSpec) else list(asset.keys)
