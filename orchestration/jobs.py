"""Jobs: the main job materializes everything; the daily actuals sync, the weekly forecast
refresh and the fiscal-period publication materialize their part of the graph."""

from __future__ import annotations

import dagster as dg

from orchestration.exports.fpa import ACTUALS
from orchestration.exports.reporting import PERIOD_MARTS, reporting_key
from orchestration.partitions import PERIODS_JOB

MAIN_JOB = "finsync_main"
ACTUALS_JOB = "daily_actuals_sync"
FORECAST_JOB = "weekly_forecast_refresh"

PERIOD_EXPORTS = [ACTUALS, *(reporting_key(mart) for mart in PERIOD_MARTS)]
# the GL lines by fiscal period (a view): a backfill rebuilds what reads them, the
# quarantine and the fact first
GL_BY_PERIOD = dg.AssetKey(["intermediate", "int_gl_journal_lines"])

main_job = dg.define_asset_job(
    MAIN_JOB,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("sources"),
    description="Load every source, build the dbt project with its tests, publish the exports"
    " of every fiscal period.",
)

actuals_job = dg.define_asset_job(
    ACTUALS_JOB,
    selection=dg.AssetSelection.key_prefixes(["raw_erp"], ["raw_regional_erp"]).downstream(),
    description="Load the ERP and regional journals, rebuild what depends on them, publish"
    " the period's actuals.",
)

forecast_job = dg.define_asset_job(
    FORECAST_JOB,
    selection=dg.AssetSelection.key_prefixes(["raw_fpa"]).downstream(),
    description="Load plan and forecast versions from the planning tool and rebuild what"
    " depends on them.",
)

periods_job = dg.define_asset_job(
    PERIODS_JOB,
    selection=dg.AssetSelection.assets(*PERIOD_EXPORTS).upstream()
    & dg.AssetSelection.assets(GL_BY_PERIOD).downstream(),
    description="Rebuild one fiscal period's GL rows (a backfill of past periods) and the"
    " products over them, and republish that period's files; other periods' rows and"
    " files are not touched.",
)

jobs = [main_job, actuals_job, forecast_job, periods_job]
