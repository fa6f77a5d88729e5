"""Bounded load: concurrent ingest clients against one simulator past its rate limit.

Four dlt pipelines (each its own warehouse) load the ERP's GL accounts through the API
at once, ten records a page, against a limit of 5 requests a second that the four
together exceed several times over. Every client must finish within the time bound
with every record exactly once, and the server must never have served more than its
limit: the 429s are waited out. Requests per second and error counts are recorded as
test-suite properties (junit XML).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import pytest

from ingest.api import RequestLog
from ingest.pipelines import pipeline, source
from orchestration.resources import open_warehouse
from sandbox.api import Enterprise
from sandbox.generate import generate

CLIENTS, RATE, SECONDS, PAGE = 4, 5, 120, 10


@pytest.fixture
def systems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    generate(tmp_path / "sandbox", scale=0.005, seed=13)
    with Enterprise(tmp_path / "sandbox", max_requests_per_second=RATE) as systems:
        for name, value in systems.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "20")  # a crowd waits its turn
        yield systems


def ingest(client: int, root: Path) -> tuple[list[str], int]:
    """One client's load: the GL accounts it ends with, and the attempts it retried."""
    log = RequestLog()
    warehouse = root / f"client{client}.duckdb"
    data = source("erp", root / "sandbox", log).with_resources("gl_accounts")
    pipeline("erp", warehouse, root / f"dlt{client}").run(data, loader_file_format="parquet")
    with open_warehouse(warehouse) as con:
        (accounts,) = con.execute(
            "select list(gl_account order by gl_account) from raw_erp.gl_accounts"
        ).fetchone()
    return accounts, log.retries


def test_concurrent_clients_past_the_rate_limit_lose_nothing(
    systems: Enterprise, tmp_path: Path, record_testsuite_property
) -> None:
    erp = systems.erp
    erp.page_size = PAGE
    expected = sorted(erp.tables["GLAccounts"].data["GLAccount"].to_pylist())
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(ingest, c, tmp_path) for c in range(CLIENTS)]
        done, late = wait(futures, timeout=SECONDS)
    elapsed = time.monotonic() - started
    assert late == set(), f"clients still running after {SECONDS}s"
    results = [f.result() for f in futures]
    served = [(t, status) for t, status, path in erp.served if path != erp.token_path]
    statuses = [status for _, status in served]
    accepted = sorted(t for t, status in served if status == 200)
    busiest = max(
        sum(1 for u in accepted[i : i + RATE + 1] if u - t < 1.0) for i, t in enumerate(accepted)
    )
    for name, value in {
        "requests": len(served),
        "requests_per_second": round(len(served) / elapsed, 1),
        "accepted_per_second": round(len(accepted) / elapsed, 1),
        "rate_limited_429": statuses.count(429),
        "server_errors_5xx": sum(s >= 500 for s in statuses),
        "client_retries": sum(retries for _, retries in results),
        "seconds": round(elapsed, 1),
    }.items():
        record_testsuite_property(name, value)
    assert [accounts for accounts, _ in results] == [expected] * CLIENTS
    assert statuses.count(429) > CLIENTS  # past the limit, and waited out
    assert sum(retries for _, retries in results) == statuses.count(429)
    assert set(statuses) == {200, 429}  # no 5xx, no refused token: no errors
    assert busiest <= RATE
    assert len(accepted) == CLIENTS * -(-len(expected) // PAGE)
