"""Payroll (Workday-like) API: workers and payroll results, offset/limit paging."""

from __future__ import annotations

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

from ingest.api import ClientCredentials, RequestLog, page_holds
from ingest.rest import api_resource
from sandbox import schemas

ROOT = "ccx/api/payroll/v1/finsync"


@dlt.source(name="payroll", max_table_nesting=0)
def payroll(base_url: str = dlt.config.value, request_log: RequestLog | None = None):
    """Workers carry PII: raw_payroll is the only place it lands; staging drops it."""
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
    yield api_resource(
        client,
        "payroll",
        "workers",
        path=f"{ROOT}/workers",
        schema=schemas.WORKERS,
        key=["Worker_ID"],
        **common,
    )
    yield api_resource(
        client,
        "payroll",
        "payroll_results",
        path=f"{ROOT}/payrollResults",
        schema=schemas.PAYROLL_RESULTS,
        key=["Payroll_Result_ID"],
        **common,
    )
