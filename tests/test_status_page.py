"""The finance-operations status page, opened in a real headless Chromium as a controller
would: it shows the breaks injected into the broken enterprise (tests/breaks.py) and an
export tampered with here, by owner, with close progress, restatements and freshness,
and it loads nothing from the network.

A screenshot goes to `test-output/status/` (or $FINSYNC_TEST_OUTPUT/status).
"""

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.paths import REPO_ROOT
from orchestration.reconciliation.assets import EXPORT_RECONCILIATION
from orchestration.status_page import STATUS_PAGE
from tests.breaks import LATE_DOCUMENT, BrokenEnterprise
from tests.test_ui import CHROMIUM, CHROMIUM_ARGS

OUTPUT = Path(os.environ.get("FINSYNC_TEST_OUTPUT", REPO_ROOT / "test-output")) / "status"


def materialize(broken: BrokenEnterprise, key: dg.AssetKey) -> dg.ExecuteInProcessResult:
    from orchestration.graph import build

    job = dg.define_asset_job("one_asset", selection=dg.AssetSelection.assets(key))
    defs = dg.Definitions.merge(build(broken.paths), dg.Definitions(jobs=[job]))
    return defs.resolve_job_def("one_asset").execute_in_process(
        instance=broken.instance, raise_on_error=False
    )


@pytest.fixture(scope="module")
def rendered(broken_enterprise: BrokenEnterprise) -> dg.ExecuteInProcessResult:
    """JP01's 2025-P08 trial balance file loses its first row after publication; the export
    reconciliation runs, then the page is rendered again."""
    folder = broken_enterprise.paths.exports / "reporting" / "trial_balance"
    target = next(p for p in sorted(folder.rglob("*.parquet")) if "2025-P08" in str(p))
    edited = target.with_name(".edited.parquet")
    with duckdb.connect() as con:
        con.execute(
            f"""copy (select * from read_parquet('{target}')
                      where not (entity_code = 'JP01' and account_code = (
                          select min(account_code) from read_parquet('{target}')
                          where entity_code = 'JP01' and movement_functional <> 0)))
                to '{edited}' (format parquet)"""
        )
    edited.replace(target)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINSYNC_ALERT_FILE", str(broken_enterprise.alerts))
        assert materialize(broken_enterprise, EXPORT_RECONCILIATION).success
        result = materialize(broken_enterprise, STATUS_PAGE)
    assert result.success
    return result


@pytest.fixture
def page(rendered: dg.ExecuteInProcessResult) -> Iterator:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make test` installs it"
    [event] = rendered.get_asset_materialization_events()
    url = event.materialization.metadata["url"].value
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url)
        yield page, requests
        browser.close()


def test_the_page_is_linked_from_its_asset(
    broken_enterprise: BrokenEnterprise, rendered: dg.ExecuteInProcessResult
) -> None:
    [event] = rendered.get_asset_materialization_events()
    metadata = event.materialization.metadata
    page = broken_enterprise.paths.exports / "status" / "index.html"
    assert metadata["path"].value == str(page)
    assert metadata["url"].value == page.as_uri()
    assert metadata["open_breaks"].value >= 5
    # the main run rendered it too, although the FP&A export was stopped
    first = {e.asset_key for e in broken_enterprise.run.get_asset_materialization_events()}
    assert STATUS_PAGE in first


def test_the_page_shows_the_injected_breaks_by_owner(page) -> None:
    page, _ = page
    breaks = page.locator("#breaks tbody tr")
    rows = [breaks.nth(i).inner_text() for i in range(breaks.count())]
    expected = {
        ("payroll_register_vs_gl_payroll_expense", "DE01", "2025-P04", "controller"),
        ("intercompany_legs_agree", "DE01~US01:revenue_and_expense", "2025-P05", "controller"),
        ("intercompany_legs_agree", "DE01~US01:balances", "2025-P05", "controller"),
        ("restatements_flagged", "FR01", "2025-P02", "controller"),
        ("reporting_trial_balance_file_vs_mart", "JP01", "2025-P08", "platform"),
    }
    for checkpoint, entity, period, owner in expected:
        assert any(checkpoint in r and entity in r and period in r and owner in r for r in rows), (
            checkpoint,
            entity,
            period,
        )
    chart = page.get_by_role("img", name="Open reconciliation breaks by owner")
    assert "controller" in chart.text_content() and "platform" in chart.text_content()
    assert page.locator("#blocking-breaks").inner_text() == "Blocking: 2"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUTPUT / "status_page_with_injected_breaks.png", full_page=True)


def test_the_page_shows_close_progress_restatements_and_freshness(page) -> None:
    page, requested = page
    cells = page.locator("svg rect[class^='close-']")
    restatements = page.locator("#restatements tbody tr")
    freshness = page.locator("#freshness tbody tr", has_text="marts/close_status")
    assert cells.count() == 6 * 24
    assert page.locator("rect.close-pending").count() == 6
    assert restatements.count() == 1
    assert LATE_DOCUMENT in restatements.first.inner_text()
    assert "close status" in freshness.inner_text()
    assert "fresh" in freshness.inner_text()  # materialized by the run a moment ago
    # self-contained: the page asked the network for nothing but itself
    assert all(url.startswith("file://") for url in requested), requested
