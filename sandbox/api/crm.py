"""CRM (Salesforce-like) REST API: SOQL over `query` (and `queryAll`, which also shows
deleted records with `IsDeleted`), answered in `records` with `done` and a
`nextRecordsUrl` to follow.

For large extractions, Bulk API 2.0 query jobs, as Salesforce serves them: POST
`jobs/query` {operation: query|queryAll, query: SOQL} creates a job over a snapshot
of the matching rows; GET `jobs/query/<id>` shows its state (UploadComplete, then
JobComplete) and `numberRecordsProcessed`; GET `jobs/query/<id>/results?maxRecords=N`
answers a CSV page with the headers `Sforce-NumberOfRecords` and `Sforce-Locator`
(the next page's `locator` parameter, "null" after the last page). A locator can be
read again as long as the job exists. FIELDS() is refused, as Bulk API 2.0 does."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sandbox import schemas
from sandbox.api.erp import at
from sandbox.api.paging import int_param, soql_condition, window
from sandbox.api.payroll import read_jsonl
from sandbox.api.service import Reply, Request, Service
from sandbox.api.tables import Table, csv_page, records
from sandbox.crm import OPEN_STAGES

ROOT = "/services/data/v60.0"
_SOQL = re.compile(
    r"^\s*select\s+(?P<fields>.+?)\s+from\s+(?P<object>\w+)"
    r"(?:\s+where\s+(?P<where>.+?))?(?:\s+order\s+by\s+(?P<order>.+?))?\s*$",
    re.IGNORECASE,
)

JOBS_KEPT = 16


@dataclass
class QueryJob:
    id: str
    operation: str
    sobject: str
    data: pa.Table
    state: str = "UploadComplete"

    def info(self) -> dict:
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(ROOT.rsplit("v", 1)[-1]),
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
            "numberRecordsProcessed": len(self.data) if self.state == "JobComplete" else 0,
        }


class CrmApi(Service):
    name = "crm"
    page_size = 2000
    bulk_page_size = 100_000  # the most records of a Bulk API results page

    def __init__(self, extracts: Path, **options) -> None:
        super().__init__(**options)
        root = extracts / "crm"
        self.tables = {
            "Account": Table(
                read_jsonl(root / "accounts.jsonl", schemas.CRM_ACCOUNTS),
                ["Id"],
                "LastModifiedDate",
            ),
            "Opportunity": Table(
                pq.read_table(root / "opportunities.parquet"), ["Id"], "LastModifiedDate"
            ),
        }
        self._cursors: dict[str, tuple[str, pa.Table]] = {}
        self._cursor_lock = threading.Lock()
        self.routes[f"{ROOT}/query"] = self._query(with_deleted=False)
        self.routes[f"{ROOT}/queryAll"] = self._query(with_deleted=True)
        self._jobs: dict[str, QueryJob] = {}
        self.routes[f"{ROOT}/jobs/query"] = self._bulk

    # ---------------------------------------------------------------- Bulk API 2.0
    def _bulk(self, request: Request) -> Reply:
        parts = request.path.removeprefix(f"{ROOT}/jobs/query").strip("/").split("/")
        if request.method == "POST" and parts == [""]:
            return self._create_job(request.body)
        with self._cursor_lock:
            job = self._jobs.get(parts[0])
        if job is None or request.method != "GET" or len(parts) > 2:
            return Reply([{"errorCode": "NOT_FOUND", "message": request.path}], 404)
        if len(parts) == 1:
            job.state = "JobComplete"  # a snapshot is complete once someone looks
            return Reply(job.info())
        if parts[1] != "results":
            return Reply([{"errorCode": "NOT_FOUND", "message": request.path}], 404)
        if job.state != "JobComplete":
            return Reply([{"errorCode": "INVALIDJOBSTATE", "message": job.state}], 400)
        return self._results(request, job)

    def _create_job(self, body: dict) -> Reply:
        operation, soql = body.get("operation"), str(body.get("query", ""))
        if operation not in ("query", "queryAll"):
            return Reply([{"errorCode": "INVALIDJOB", "message": f"operation {operation!r}"}], 400)
        if re.search(r"\bFIELDS\s*\(", soql, re.IGNORECASE):
            return Reply(
                [{"errorCode": "API_ERROR", "message": "FIELDS() is not supported by Bulk API"}],
                400,
            )
        sobject, data = self._run(soql, with_deleted=operation == "queryAll")
        job = QueryJob("750" + secrets.token_hex(8)[:15].upper(), operation, sobject, data)
        with self._cursor_lock:
            while len(self._jobs) >= JOBS_KEPT:
                self._jobs.pop(next(iter(self._jobs)))
            self._jobs[job.id] = job
        return Reply(job.info())

    def _results(self, request: Request, job: QueryJob) -> Reply:
        locator = request.query.get("locator", "")
        try:
            offset = int(base64.b64decode(locator, validate=True).decode()) if locator else 0
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return Reply([{"errorCode": "INVALID_LOCATOR", "message": locator}], 400)
        # as Salesforce's size limits do, the server may send fewer than maxRecords
        limit = int_param(request, "maxRecords", self.bulk_page_size, self.bulk_page_size) or 1
        page = window(job.data, offset, limit, request)
        following = offset + limit
        return Reply(
            csv_page(page),
            headers={
                "Content-Type": "text/csv",
                "Sforce-NumberOfRecords": str(len(page)),
                "Sforce-Locator": (
                    base64.b64encode(str(following).encode()).decode()
                    if following < len(job.data)
                    else "null"
                ),
            },
        )

    def _query(self, with_deleted: bool):
        def route(request: Request) -> Reply:
            tail = request.path.rsplit("/", 1)[-1]
            if tail not in ("query", "queryAll"):  # a nextRecordsUrl: <cursor>-<offset>
                cursor, _, offset = tail.rpartition("-")
                with self._cursor_lock:
                    if cursor not in self._cursors:
                        return Reply([{"errorCode": "INVALID_QUERY_LOCATOR"}], 400)
                    sobject, data = self._cursors[cursor]
                return self._page(request, sobject, data, cursor, int(offset))
            sobject, data = self._run(request.query.get("q", ""), with_deleted)
            cursor = secrets.token_hex(8)
            with self._cursor_lock:
                self._cursors[cursor] = (sobject, data)
            return self._page(request, sobject, data, cursor, 0)

        return route

    def _run(self, soql: str, with_deleted: bool) -> tuple[str, pa.Table]:
        match = _SOQL.match(soql)
        if not match or match["object"] not in self.tables:
            raise ValueError(f"MALFORMED_QUERY: {soql!r}")
        terms = (
            re.split(r"\s+and\s+", match["where"], flags=re.IGNORECASE) if match["where"] else []
        )
        data = self.tables[match["object"]].query(
            [soql_condition(t) for t in terms], with_deleted=with_deleted
        )
        fields = match["fields"].strip()
        if fields.upper() != "FIELDS(ALL)":
            names = [f.strip() for f in fields.split(",")]
            unknown = set(names) - set(data.column_names)
            if unknown:
                raise ValueError(f"INVALID_FIELD: {sorted(unknown)}")
            data = data.select(names)
        return match["object"], data

    def _page(
        self, request: Request, sobject: str, data: pa.Table, cursor: str, offset: int
    ) -> Reply:
        page = records(window(data, offset, self.page_size, request))
        for record in page:
            record["attributes"] = {
                "type": sobject,
                "url": f"{ROOT}/sobjects/{sobject}/{record.get('Id')}",
            }
        done = offset + self.page_size >= len(data)
        body = {"totalSize": len(data), "done": done, "records": page}
        if not done:
            kind = "queryAll" if "queryAll" in request.path else "query"
            body["nextRecordsUrl"] = f"{ROOT}/{kind}/{cursor}-{offset + self.page_size}"
        else:
            with self._cursor_lock:
                self._cursors.pop(cursor, None)
        return Reply(body)

    def advance(self, day: int) -> dict[str, int]:
        """One open opportunity moves a stage; another, opened by mistake, is deleted."""
        table = self.tables["Opportunity"]
        stages = [s[0] for s in OPEN_STAGES]
        open_ = table.data.filter(pc.is_in(table.data["StageName"], pa.array(stages[:-1])))
        moving, deleted = open_.sort_by("Id").slice(0, 1), open_.sort_by("Id").slice(1, 1)
        stage, probability, category, _ = OPEN_STAGES[
            stages.index(moving["StageName"][0].as_py()) + 1
        ]
        for name, value, kind in (
            ("StageName", stage, pa.string()),
            ("Probability", probability, pa.int32()),
            ("ForecastCategoryName", category, pa.string()),
            ("LastModifiedDate", at(day, 11), schemas.TS),
        ):
            moving = moving.set_column(
                moving.schema.get_field_index(name), name, pa.array([value], kind)
            )
        deleted = deleted.set_column(
            deleted.schema.get_field_index("LastModifiedDate"),
            "LastModifiedDate",
            pa.array([at(day, 11, 5)], schemas.TS),
        )
        table.upsert(moving)
        table.delete(deleted)
        return {"Opportunity": 2}
