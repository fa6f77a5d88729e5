"""FP&A planning tool (Anaplan-like) API: plan versions and plan lines."""

from __future__ import annotations

import dlt
import pyarrow as pa
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from ingest.api import ClientCredentials, RequestLog, page_holds
from ingest.rest import api_resource
from sandbox import schemas

ROOT = "2/0/models/finsync-plan"
UPDATED = pa.field("Last_Updated", schemas.TS)


@dlt.source(name="fpa", max_table_nesting=0)
def fpa(base_url: str = dlt.config.value, request_log: RequestLog | None = None):
    log = request_log or RequestLog()
    client = RESTClient(
        base_url=base_url,
        auth=ClientCredentials(token_url=f"{base_url}/oauth/token", system="fpa"),
        paginator=JSONLinkPaginator(next_url_path="meta.paging.next"),
        session=log.session(),
    )
    common = {
        "records": "items",
        "check_page": page_holds(("items", list), ("meta.paging.totalSize", int)),
        "cursor": "Last_Updated",
        "since_param": ("modifiedSince", "{since}"),
    }
    yield api_resource(
        client,
        "fpa",
        "plan_versions",
        path=f"{ROOT}/versions",
        schema=schemas.PLAN_VERSIONS.append(UPDATED),
        key=["Version"],
        **common,
    )
    yield api_resource(
        client,
        "fpa",
        "plan_lines",
        path=f"{ROOT}/lines",
        schema=schemas.PLAN_LINES.append(UPDATED),
        key=["Version", "Entity", "Account", "Cost_Center", "Month"],
        **common,
    )
