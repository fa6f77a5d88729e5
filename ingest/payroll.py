"""Payroll (Workday-like) API: workers and payroll results, offset/limit paging.

With `bulk`, a table's first load is a Workday custom report (Reports-as-a-Service)
in CSV, read into Arrow by Arrow; every load after it asks the API for the records
updated since the cursor.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import pyarrow as pa
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

from ingest.api import (
    ClientCredentials,
    MalformedPage,
    RequestLog,
    asked_again,
    csv_text,
    page_holds,
    raise_for_status,
)
from ingest.rest import api_resource
from sandbox import schemas

ROOT = "ccx/api/payroll/v1/finsync"
REPORTS = "ccx/service/customreport2/finsync/ISU_Finsync"


class CustomReport:
    """A RaaS report of every record of a resource, whole in one CSV.

    A report says neither how many records it holds nor where it ends, so the API is
    asked first how many records there are (`total` of a one-record page): a report
    cut short has fewer rows or a broken last one. Such a report is asked again,
    `attempts` times in all, then the load fails with `MalformedPage` before it
    commits; a record created between the two requests fails it too (the API's count
    is short), and the next run asks again. 429 and 5xx are retried by the session."""

    def __init__(
        self,
        client: RESTClient,
        report: str,
        collection: str,
        log: RequestLog,
        attempts: int = 3,
        page_rows: int = 100_000,
    ) -> None:
        self.client, self.report, self.collection, self.log = client, report, collection, log
        self.attempts, self.page_rows = attempts, page_rows

    def __call__(self) -> tuple[int, Iterator[pa.Table]]:
        first = self.client.get(
            self.collection, params={"limit": 1}, hooks={"response": [raise_for_status]}
        )
        count = first.json()["total"]

        def whole() -> pa.Table:
            response = self.client.get(
                f"{REPORTS}/{self.report}",
                params={"format": "csv"},
                hooks={"response": [raise_for_status]},
            )
            report = csv_text(response)
            if report.num_rows < count:
                raise MalformedPage(
                    f"{response.url}: report of {report.num_rows} records, the API counts"
                    f" {count} (truncated?)"
                )
            return report

        report = asked_again(whole, self.attempts, self.log)
        pages = range(0, len(report), self.page_rows)
        return count, (report.slice(at, self.page_rows) for at in pages)


@dlt.source(name="payroll", max_table_nesting=0)
def payroll(
    base_url: str = dlt.config.value, request_log: RequestLog | None = None, bulk: bool = True
):
    """Workers carry PII: raw_payroll is the only place it lands; staging drops it.
    With `bulk` (dlt config `sources.payroll.bulk`, env `SOURCES__PAYROLL__BULK=false`
    turns it off) a table's first load is the custom report; without it the first load
    too comes through the API."""
    log = request_log or RequestLog()
    client = RESTClient(
        base_url=base_url,
        auth=ClientCredentials(token_url=f"{base_url}/oauth/token", system="payroll"),
        paginator=OffsetPaginator(limit=500, total_path="total"),
        session=log.session(),
    )
    common = {
        "records": "data",
        "check_page": page_holds(("data", list), ("total", int)),
        "total": "total",
        "cursor": "Last_Updated",
        "since_param": ("updatedFrom", "{since}"),
    }
    for name, collection, report, schema, key in (
        ("workers", "workers", "Finsync_Workers", schemas.WORKERS, "Worker_ID"),
        (
            "payroll_results",
            "payrollResults",
            "Finsync_Payroll_Results",
            schemas.PAYROLL_RESULTS,
            "Payroll_Result_ID",
        ),
    ):
        path = f"{ROOT}/{collection}"
        yield api_resource(
            client,
            "payroll",
            name,
            path=path,
            schema=schema,
            key=[key],
            bulk=CustomReport(client, report, path, log) if bulk else None,
            **common,
        )
