"""The Dagster UI, used as a person would: the webserver on loopback, a real headless
Chromium, the lineage from a raw ERP table to the FP&A export, and a product's checks.

Screenshots go to `test-output/ui/` (or $FINSYNC_TEST_OUTPUT/ui): a reviewer can look
at what the test saw.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.paths import REPO_ROOT, Paths

CHROMIUM = Path(os.environ.get("FINSYNC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(os.environ.get("FINSYNC_TEST_OUTPUT", REPO_ROOT / "test-output")) / "ui"
PATH_SELECTION = 'key:"raw_erp/journal_items"+ and +key:"exports/fpa_actuals"'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(paths: Paths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`dagster-webserver` on the project's definitions, its own instance, loopback only."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO_ROOT / "orchestration" / "instance" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (home / "webserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-m", "orchestration.definitions"]
        + ["-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home), "FINSYNC_DATA_DIR": str(paths.data)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"webserver did not start: {(home / 'webserver.log').read_text()[-2000:]}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def page(webserver: str):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make test` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def dismiss_welcome(page) -> None:
    """The first visit may greet with a newsletter dialog; a person clicks Skip."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(state="visible", timeout=4_000)
        skip.click()
    except Exception:  # no dialog this time
        pass


def test_lineage_shows_the_path_from_the_raw_erp_journals_to_the_fpa_export(
    webserver: str, page
) -> None:
    page.goto(f"{webserver}/asset-groups")
    dismiss_welcome(page)
    page.locator(".CodeMirror").first.click()  # "Search and filter assets"
    page.keyboard.type(PATH_SELECTION)
    page.keyboard.press("Enter")
    page.get_by_title("stg_erp__journal_items", exact=True).or_(
        page.locator('[title="staging"]')
    ).first.wait_for()
    for group in ("raw", "staging", "intermediate", "marts", "exports"):
        row = page.locator(
            "[class*=AssetSidebarNode_itemContainer]", has=page.locator(f'[title="{group}"]')
        )
        row.locator('[aria-label="arrow_drop_down"]').first.click()
    page.get_by_title("fpa_actuals", exact=True).first.wait_for()
    shown = {
        text.splitlines()[0]
        for text in page.locator("[class*=AssetSidebarNode_itemContainer]").all_inner_texts()
    }
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUTPUT / "lineage_raw_erp_to_fpa_export.png", full_page=True)
    path = {
        "journal_items",
        "stg_erp__journal_items",
        "int_gl_journal_lines",
        "fct_gl_journal_lines",
        "fpa_actuals",
    }
    assert path <= shown
    assert "opportunities" not in shown  # the CRM is not on the path
    assert "reporting_trial_balance" not in shown  # nor is the BI export
    assert "sources" not in shown  # the selection starts at the raw table


def test_a_products_checks_list_its_contract_and_dbt_tests(webserver: str, page) -> None:
    page.goto(f"{webserver}/assets/marts/trial_balance")
    dismiss_welcome(page)
    page.get_by_role("tab", name="Checks").or_(page.get_by_text("Checks", exact=True)).first.click()
    search = page.get_by_placeholder("Filter checks")

    def find(name: str):
        search.fill(name)
        found = page.locator(f'[title="{name}"]').first  # long names are middle-truncated
        found.wait_for()
        return found

    find("not_null_trial_balance_period_id")  # a dbt test, as an asset check
    find("trial_balance_ties_to_gl")
    find("contract").click()  # the Pandera contract: what it checks, and that it blocks
    page.get_by_text("Pandera contract of marts.trial_balance", exact=False).first.wait_for()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUTPUT / "trial_balance_checks.png", full_page=True)
    body = page.inner_text("body")
    [count] = re.findall(r"Checks \((\d+)\)", body)
    assert "blocking" in body  # the contract guards the exports
    assert "trial_balance_sums_to_zero" in body
    assert int(count) > 15  # dbt tests, the contract and the tie-out
