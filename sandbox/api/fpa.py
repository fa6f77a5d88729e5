"""FP&A planning tool (Anaplan-like) API: plan versions and plan lines, paged with
`meta.paging.next`, selected on modification time with `modifiedSince`.

`send(version, lines)` is a planner submitting a version as typed, served verbatim after
the stored records: a test sends a new forecast, or a bad one (an unknown entity, a
duplicate line, an amount that is not a number, a version older than the current one),
through the same wire a real planning tool would use."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sandbox import schemas
from sandbox.api.erp import at
from sandbox.api.paging import int_param, parse_timestamp, window
from sandbox.api.payroll import read_jsonl
from sandbox.api.service import Reply, Request, Service
from sandbox.api.tables import Table, records

ROOT = "/2/0/models/finsync-plan"


class FpaApi(Service):
    name = "fpa"
    page_size = 2000

    def __init__(self, extracts: Path, **options) -> None:
        super().__init__(**options)
        root = extracts / "fpa"
        versions = read_jsonl(root / "plan_versions.jsonl", schemas.PLAN_VERSIONS)
        versions = versions.append_column("Last_Updated", versions["Submitted_At"])
        lines = pq.read_table(root / "plan_lines.parquet")
        submitted = dict(
            zip(versions["Version"].to_pylist(), versions["Submitted_At"].to_pylist(), strict=True)
        )
        lines = lines.append_column(
            "Last_Updated",
            pa.array([submitted[v] for v in lines["Version"].to_pylist()], schemas.TS),
        )
        self.tables = {
            "versions": Table(versions, ["Version"], "Last_Updated"),
            "lines": Table(
                lines, ["Version", "Entity", "Account", "Cost_Center", "Month"], "Last_Updated"
            ),
        }
        self.sent: dict[str, list[dict[str, Any]]] = {name: [] for name in self.tables}
        for name in self.tables:
            self.routes[f"{ROOT}/{name}"] = self._collection(name)

    def send(
        self, version: dict[str, Any], lines: list[dict[str, Any]], changed_at: str | None = None
    ) -> None:
        """Submit a version as JSON records, stamped with `changed_at` as last change (default:
        its submission time, as the stored ones are); served after the stored records until
        `withdraw()`."""
        stamp = changed_at or version["Submitted_At"]
        self.sent["versions"].append({**version, "Last_Updated": stamp})
        self.sent["lines"].extend({**line, "Last_Updated": stamp} for line in lines)

    def withdraw(self) -> None:
        for records_sent in self.sent.values():
            records_sent.clear()

    def _collection(self, name: str):
        def route(request: Request) -> Reply:
            since = request.query.get("modifiedSince")
            data = self.tables[name].changed_since(parse_timestamp(since) if since else None)
            sent = [
                record
                for record in self.sent[name]
                if since is None
                or parse_timestamp(record["Last_Updated"]) >= parse_timestamp(since)
            ]
            offset = int_param(request, "offset", 0)
            page = (
                records(window(data, offset, self.page_size, request)) if offset < len(data) else []
            )
            page += sent[max(0, offset - len(data)) : max(0, offset + self.page_size - len(data))]
            total = len(data) + len(sent)
            paging = {"currentPageSize": len(page), "offset": offset, "totalSize": total}
            if offset + self.page_size < total:
                query = {"offset": offset + self.page_size} | (
                    {"modifiedSince": since} if since else {}
                )
                paging["next"] = f"{request.base_url}{request.path}?{urlencode(query)}"
            return Reply({"meta": {"paging": paging}, "items": page})

        return route

    def advance(self, day: int) -> dict[str, int]:
        """The latest forecast is approved."""
        versions = self.tables["versions"]
        latest = (
            versions.data.filter(pc.field("Version_Type") == "Forecast")
            .sort_by([("Version", "descending")])
            .slice(0, 1)
        )
        latest = latest.set_column(
            latest.schema.get_field_index("Status"), "Status", pa.array(["Approved"])
        ).set_column(
            latest.schema.get_field_index("Last_Updated"),
            "Last_Updated",
            pa.array([at(day, 15)], schemas.TS),
        )
        versions.upsert(latest)
        return {"versions": 1}
