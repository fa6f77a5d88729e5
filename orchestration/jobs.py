"""Jobs: the main job materializes everything, from raw loads to exports."""

from __future__ import annotations

import dagster as dg

MAIN_JOB = "finsync_main"

main_job = dg.define_asset_job(
    MAIN_JOB,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("sources"),
    description="Load every source, build the dbt project with its tests, publish the exports.",
)
