"""Promises and automation: freshness policies on every published product, owners, the
daily and weekly schedules, and declarative automation downstream of the raw loads."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from orchestration.automation import (
    ACTUALS,
    CLOSE_STATUS,
    DAILY,
    FORECAST,
    FX_RATES,
    HOURLY,
    WEEKLY,
    actuals_request,
    daily_actuals_schedule,
    promise,
)
from orchestration.jobs import ACTUALS_JOB, FORECAST_JOB
from orchestration.partitions import period_range
from orchestration.paths import Paths


@pytest.fixture(scope="module")
def defs(paths: Paths) -> dg.Definitions:
    from orchestration.graph import build

    return build(paths)


@pytest.fixture(scope="module")
def graph(defs: dg.Definitions):
    return defs.resolve_asset_graph()


def published_products(graph) -> list[dg.AssetKey]:
    return [key for key in graph.get_all_asset_keys() if key.path[0] in {"marts", "exports"}]


def test_every_published_product_has_a_freshness_policy(graph) -> None:
    products = published_products(graph)
    missing = [key.to_user_string() for key in products if graph.get(key).freshness_policy is None]
    assert len(products) > 20
    assert missing == []


@pytest.mark.parametrize(
    ("key", "kept", "policy"),
    [
        (["marts", "trial_balance"], ACTUALS, DAILY),
        (["exports", "fpa_actuals"], ACTUALS, DAILY),
        (["exports", "reporting_income_statement"], ACTUALS, DAILY),
        (["raw_erp", "journal_items"], ACTUALS, DAILY),
        (["raw_fpa", "plan_lines"], FORECAST, WEEKLY),
        (["staging", "stg_fpa__plan_lines"], FORECAST, WEEKLY),
        (["raw_erp", "fx_rates"], FX_RATES, DAILY),
        (["intermediate", "int_fx_rates"], FX_RATES, DAILY),
    ],
)
def test_each_product_keeps_its_promise(graph, key: list[str], kept: str, policy) -> None:
    node = graph.get(dg.AssetKey(key))
    assert promise(node.key) == kept
    assert node.freshness_policy == policy
    assert node.tags["promise"] == kept.replace(" ", "_")


def test_close_status_is_promised_hourly(graph) -> None:
    """The close status product (issue 4 and the ERP milestones feed) is hourly by name."""
    assert promise(dg.AssetKey(["marts", "close_status"])) == CLOSE_STATUS
    assert promise(dg.AssetKey(["raw_erp", "close_milestones"])) == CLOSE_STATUS
    for key in graph.get_all_asset_keys():
        if "close" in key.path[-1]:
            assert graph.get(key).freshness_policy == HOURLY


def test_promises_are_real_windows() -> None:
    assert DAILY.fail_window.to_timedelta() == timedelta(hours=24)
    assert WEEKLY.fail_window.to_timedelta() == timedelta(days=7)
    assert HOURLY.fail_window.to_timedelta() == timedelta(hours=1)


def test_every_asset_has_an_owner_role(graph) -> None:
    owners = {key.to_user_string(): graph.get(key).owners for key in graph.get_all_asset_keys()}
    assert owners["raw_erp/journal_items"] == ["team:integration"]
    assert owners["staging/stg_erp__journal_items"] == ["team:platform"]
    assert owners["exports/fpa_actuals"] == ["team:controller"]
    assert {tuple(o) for o in owners.values()} <= {
        ("team:integration",),
        ("team:platform",),
        ("team:controller",),
    }


def test_models_and_exports_follow_their_inputs(graph) -> None:
    def condition(*key: str):
        return graph.get(dg.AssetKey(list(key))).automation_condition

    assert condition("marts", "trial_balance") == dg.AutomationCondition.eager()
    assert condition("staging", "stg_erp__journal_items") == dg.AutomationCondition.eager()
    assert condition("exports", "fpa_actuals") == dg.AutomationCondition.eager()
    assert condition("raw_erp", "journal_items") is None  # loads are triggered, not followed


def test_daily_schedule_syncs_actuals_and_republishes_the_open_and_the_closing_period(
    defs,
) -> None:
    schedule = defs.resolve_schedule_def("daily_actuals_schedule")
    with dg.build_schedule_context(
        scheduled_execution_time=datetime(2025, 6, 15, 6, 0, tzinfo=UTC)
    ) as context:
        request = daily_actuals_schedule(context)
    job = defs.resolve_job_def(ACTUALS_JOB)
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.job_name == ACTUALS_JOB
    # June 2025 = FY2026 P03, still open; May, P02, in its close
    assert request.tags == period_range("2025-05", "2025-06")
    assert request.partition_key is None
    # the first period has none before it
    assert actuals_request(date(2024, 4, 2)).tags == period_range("2024-04", "2024-04")
    # across a fiscal year: April 2025 opens FY2026, March 2025 closes FY2025
    assert actuals_request(date(2025, 4, 1)).tags == period_range("2025-03", "2025-04")
    assert {"raw_erp/journal_items", "marts/trial_balance", "exports/fpa_actuals"} <= selected
    assert "raw_fpa/plan_lines" not in selected
    assert "raw_crm/opportunities" not in selected


def test_the_daily_sync_selects_the_dbt_tests_that_read_what_it_rebuilds(defs) -> None:
    """A relationships test of a model the sync does not rebuild (customers, from the CRM)
    against one it does (legal entities, from the ERP) runs with the sync in dbt: the job
    selects it as a check of its model, and no other check of that model."""
    job = defs.resolve_job_def(ACTUALS_JOB)
    customers = dg.AssetKey(["marts", "dim_customer"])
    checks = {
        key.name
        for key in job.asset_layer.asset_graph.asset_check_keys
        if key.asset_key == customers
    }
    assert customers not in job.asset_layer.selected_asset_keys
    assert checks == {"relationships_dim_customer_entity_code__entity_code__ref_dim_legal_entity_"}


def test_weekly_schedule_refreshes_the_forecast(defs) -> None:
    schedule = defs.resolve_schedule_def("weekly_forecast_schedule")
    job = defs.resolve_job_def(FORECAST_JOB)
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert schedule.cron_schedule == "0 5 * * 1"  # Mondays
    assert {"raw_fpa/plan_lines", "staging/stg_fpa__plan_lines"} <= selected
    assert "raw_erp/journal_items" not in selected
