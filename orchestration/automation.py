"""What finsync promises and when it runs: freshness policies, owners, declarative
automation and the schedules of the daily actuals sync and the weekly forecast refresh.

Promises are stated once, here, by product: actuals daily, forecast weekly, close
status hourly, FX rates daily. `govern` maps them over every asset spec (as Dagster's
own platform maps a global freshness policy), so a product added to dbt or an export
gets its promise and its owner without a second edit. The freshness daemon turns a
missed promise into a stale state in the UI, and `alerts` tells the owner.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from orchestration.alerts import owner_team
from orchestration.jobs import ACTUALS_JOB, FORECAST_JOB
from orchestration.partitions import FIRST_PERIOD, period_range

DAILY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=24), warn_window=timedelta(hours=20)
)
WEEKLY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=7), warn_window=timedelta(days=6)
)
HOURLY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=1), warn_window=timedelta(minutes=45)
)

ACTUALS, FORECAST, CLOSE_STATUS, FX_RATES = "actuals", "forecast", "close status", "fx rates"
POLICIES = {ACTUALS: DAILY, FORECAST: WEEKLY, CLOSE_STATUS: HOURLY, FX_RATES: DAILY}

# The feeds behind the daily actuals: their freshness is the products' first cause.
ACTUALS_FEEDS = {("raw_erp", "journal_items"), ("raw_regional_erp", "journal_lines")}
FORECAST_PRODUCTS = ("budget", "forecast", "fct_plan", "plan_")


def promise(key: dg.AssetKey) -> str | None:
    """The freshness promise an asset keeps, by what it is; None for pipeline internals."""
    layer, name = key.path[0], key.path[-1]
    if "close" in name:
        return CLOSE_STATUS
    if "fx_rate" in name:
        return FX_RATES
    if layer == "raw_fpa" or name.startswith("stg_fpa__") or name.startswith(FORECAST_PRODUCTS):
        return FORECAST
    if layer in {"marts", "exports"} or tuple(key.path) in ACTUALS_FEEDS:
        return ACTUALS
    return None


def govern(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Owner (by role) and freshness policy (by promise) of every asset."""
    kept = promise(spec.key)
    return spec.replace_attributes(
        owners=[owner_team(spec.key)],
        freshness_policy=POLICIES[kept] if kept else None,
        tags={**spec.tags, "promise": kept.replace(" ", "_")} if kept else spec.tags,
    )


def follows_inputs(key: dg.AssetKey) -> dg.AutomationCondition | None:
    """Everything past the raw loads follows its inputs: when a sensor or schedule lands
    new raw data, the models and exports downstream rebuild without another trigger."""
    if key.path[0] in {"staging", "intermediate", "marts", "quarantine", "reconciliation"}:
        return dg.AutomationCondition.eager()
    return None


@dg.schedule(
    name="daily_actuals_schedule",
    cron_schedule="0 6 * * *",
    job_name=ACTUALS_JOB,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every morning: sync actuals and republish the open fiscal period and the one"
    " before it, which its close still posts to.",
)
def daily_actuals_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return actuals_request(context.scheduled_execution_time.date())


def actuals_request(day: date) -> dg.RunRequest:
    """The daily sync of `day`: one run over two partitions, the open period, the day's
    month (the last partition, as end_offset=1 includes it), and the month before, whose
    close posts its adjustments in the new month's first working days: its files follow
    them (a file is rewritten only where its rows changed). Older periods are restated by
    a backfill of their partition."""
    opened = f"{day:%Y-%m}"
    closing = max(f"{day.replace(day=1) - timedelta(days=1):%Y-%m}", FIRST_PERIOD)
    return dg.RunRequest(run_key=f"actuals-{day:%Y-%m-%d}", tags=period_range(closing, opened))


weekly_forecast_schedule = dg.ScheduleDefinition(
    name="weekly_forecast_schedule",
    cron_schedule="0 5 * * 1",
    job_name=FORECAST_JOB,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every Monday: refresh the plan and forecast versions.",
)

schedules = [daily_actuals_schedule, weekly_forecast_schedule]
