"""Jobs: the main job materializes everything; the daily actuals sync, the weekly forecast
refresh and the fiscal-period publication materialize their part of the graph. They are
made with the definitions' assets (`graph.build`): a job's selection also names the dbt
tests that read what it rebuilds, which only the assets tell."""

from __future__ import annotations

from collections.abc import Sequence

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


def jobs(assets: Sequence[dg.AssetsDefinition], dbt: dg.AssetsDefinition) -> list:
    """finsync's jobs over the definitions' `assets`, of which `dbt` is the dbt project's."""

    def rebuilding(selection: dg.AssetSelection) -> dg.AssetSelection:
        return with_dbt_tests_reading(selection, assets, dbt)

    return [
        dg.define_asset_job(
            MAIN_JOB,
            selection=dg.AssetSelection.all() - dg.AssetSelection.groups("sources"),
            description="Load every source, build the dbt project with its tests, publish the"
            " exports of every fiscal period.",
        ),
        dg.define_asset_job(
            ACTUALS_JOB,
            selection=rebuilding(
                dg.AssetSelection.key_prefixes(["raw_erp"], ["raw_regional_erp"]).downstream()
            ),
            description="Load the ERP and regional journals, rebuild what depends on them,"
            " publish the period's actuals.",
        ),
        dg.define_asset_job(
            FORECAST_JOB,
            selection=rebuilding(dg.AssetSelection.key_prefixes(["raw_fpa"]).downstream()),
            description="Load plan and forecast versions from the planning tool and rebuild"
            " what depends on them.",
        ),
        dg.define_asset_job(
            PERIODS_JOB,
            selection=rebuilding(
                dg.AssetSelection.assets(*PERIOD_EXPORTS).upstream()
                & dg.AssetSelection.assets(GL_BY_PERIOD).downstream()
            ),
            description="Rebuild one fiscal period's GL rows (a backfill of past periods) and"
            " the products over them, and republish that period's files; other periods' rows"
            " and files are not touched.",
        ),
    ]


def with_dbt_tests_reading(
    selection: dg.AssetSelection,
    assets: Sequence[dg.AssetsDefinition],
    dbt: dg.AssetsDefinition,
) -> dg.AssetSelection:
    """`selection` and the dbt tests on models outside it that also read a model in it, such
    as the relationships test of `dim_customer` against the `dim_legal_entity` a daily sync
    rebuilds. dbt runs those with the selection (its eager indirect selection: a test on a
    selected dbt node, not on a raw table the job loads): selected, Dagster records them as
    checks of their models, not as observations with a warning."""
    selected = selection.resolve(assets) & set(dbt.keys)
    reading = [
        spec.key
        for spec in dbt.check_specs
        if spec.asset_key not in selected
        and any(dep.asset_key in selected for dep in spec.additional_deps)
    ]
    return selection | dg.AssetSelection.checks(*reading)
