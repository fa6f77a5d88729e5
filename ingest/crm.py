"""CRM (Salesforce-like) API: accounts and opportunities through SOQL `queryAll`, so
that deletions arrive as `IsDeleted` rows and are removed from raw."""

from __future__ import annotations

import dlt
import pyarrow as pa
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from ingest.api import ClientCredentials, RequestLog, page_holds
from ingest.rest import api_resource
from sandbox import schemas

QUERY = "services/data/v60.0/queryAll"
DELETED = {"is_deleted": {"data_type": "bool", "hard_delete": True}}


def _with_deleted(schema: pa.Schema) -> pa.Schema:
    return schema.append(pa.field("IsDeleted", pa.bool_()))


@dlt.source(name="crm", max_table_nesting=0)
def crm(base_url: str = dlt.config.value, request_log: RequestLog | None = None):
    log = request_log or RequestLog()
    client = RESTClient(
        base_url=base_url,
        auth=ClientCredentials(token_url=f"{base_url}/oauth/token", system="crm"),
        paginator=JSONLinkPaginator(next_url_path="nextRecordsUrl"),
        session=log.session(),
    )
    for name, sobject, schema in (
        ("accounts", "Account", schemas.CRM_ACCOUNTS),
        ("opportunities", "Opportunity", schemas.OPPORTUNITIES),
    ):
        yield api_resource(
            client,
            "crm",
            name,
            path=QUERY,
            records="records",
            check_page=page_holds(("records", list), ("done", bool)),
            total="totalSize",
            schema=_with_deleted(schema),
            key=["Id"],
            cursor="LastModifiedDate",
            since_param=(
                "q",
                f"SELECT FIELDS(ALL) FROM {sobject} WHERE LastModifiedDate >= {{since}}",
            ),
            extra_columns=DELETED,
            drop=("attributes",),
        )
