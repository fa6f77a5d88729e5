"""Payroll (Workday-like) API: workers and payroll results, offset/limit paging with
`total`, and `updatedFrom` to select on last-update time; the payroll register's control
totals per company, pay period and currency (what a loaded warehouse must match).

For large extractions, Workday's Reports-as-a-Service: a custom report of every
worker or payroll result, whole in one CSV, at
`/ccx/service/customreport2/<tenant>/<owner>/<report>?format=csv` (no paging and no
count: a client learns how many records to expect from the API's `total`)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from sandbox import schemas
from sandbox.api.erp import at
from sandbox.api.paging import int_param, parse_timestamp, window
from sandbox.api.service import Reply, Request, Service
from sandbox.api.tables import Table, csv_page, records

ROOT = "/ccx/api/payroll/v1/finsync"
REPORTS = "/ccx/service/customreport2/finsync/ISU_Finsync"
REPORT_TABLES = {"Finsync_Workers": "workers", "Finsync_Payroll_Results": "payrollResults"}


def read_jsonl(path: Path, schema: pa.Schema) -> pa.Table:
    as_text = pa.schema(
        [
            (
                f.name,
                pa.string()
                if pa.types.is_decimal(f.type) or pa.types.is_temporal(f.type)
                else f.type,
            )
            for f in schema
        ]
    )
    table = pa_json.read_json(path, parse_options=pa_json.ParseOptions(explicit_schema=as_text))
    return table.select(schema.names).cast(schema)


class PayrollApi(Service):
    name = "payroll"
    page_size = 500

    def __init__(self, extracts: Path, **options) -> None:
        super().__init__(**options)
        root = extracts / "payroll"
        self.tables = {
            "workers": Table(
                read_jsonl(root / "workers.jsonl", schemas.WORKERS), ["Worker_ID"], "Last_Updated"
            ),
            "payrollResults": Table(
                pq.read_table(root / "payroll_results.parquet"),
                ["Payroll_Result_ID"],
                "Last_Updated",
            ),
        }
        for name in self.tables:
            self.routes[f"{ROOT}/{name}"] = self._collection(name)
        self.routes[f"{ROOT}/payrollRegister/totals"] = self._register_totals
        self.routes[REPORTS] = self._report
        self._totals_of: tuple[int, pa.Table] | None = None

    def _collection(self, name: str):
        def route(request: Request) -> Reply:
            since = request.query.get("updatedFrom")
            data = self.tables[name].changed_since(parse_timestamp(since) if since else None)
            offset = int_param(request, "offset", 0)
            limit = int_param(request, "limit", self.page_size, maximum=self.page_size)
            return Reply(
                {"total": len(data), "data": records(window(data, offset, limit, request))}
            )

        return route

    def _report(self, request: Request) -> Reply:
        name = REPORT_TABLES.get(request.path.removeprefix(REPORTS).strip("/"))
        if name is None:
            return Reply({"error": f"no such report {request.path}"}, 404)
        if request.query.get("format") != "csv":
            return Reply({"error": "this tenant serves its reports as format=csv"}, 400)
        return Reply(
            csv_page(self.tables[name].changed_since(None)), headers={"Content-Type": "text/csv"}
        )

    def register_totals(self) -> pa.Table:
        """Results and cost per company, pay period end and currency, as the register sums
        them; once per version of the results (a client pages through them)."""
        results = self.tables["payrollResults"]
        if self._totals_of is None or self._totals_of[0] != results.version:
            self._totals_of = (results.version, self._sum_register(results.data))
        return self._totals_of[1]

    @staticmethod
    def _sum_register(data: pa.Table) -> pa.Table:
        keys = ["Company", "Pay_Period_End", "Currency"]
        grouped = data.group_by(keys).aggregate(
            [
                ("Payroll_Result_ID", "count"),
                ("Gross_Earnings", "sum"),
                ("Employer_Taxes", "sum"),
                ("Benefits", "sum"),
            ]
        )
        return grouped.rename_columns(
            [*keys, "Results", "Gross_Earnings", "Employer_Taxes", "Benefits"]
        ).sort_by([(k, "ascending") for k in keys])

    def _register_totals(self, request: Request) -> Reply:
        data = self.register_totals()
        offset = int_param(request, "offset", 0)
        limit = int_param(request, "limit", self.page_size, maximum=self.page_size)
        return Reply({"total": len(data), "data": records(window(data, offset, limit, request))})

    def advance(self, day: int) -> dict[str, int]:
        """A worker is promoted: a new job profile, nothing that moves payroll cost."""
        workers = self.tables["workers"]
        first = workers.data.sort_by("Worker_ID").slice(0, 1)
        first = first.set_column(
            first.schema.get_field_index("Job_Profile"),
            "Job_Profile",
            pa.array([f"Senior {first['Job_Profile'][0]}"]),
        ).set_column(
            first.schema.get_field_index("Last_Updated"),
            "Last_Updated",
            pa.array([at(day, 12)], schemas.TS),
        )
        workers.upsert(first)
        return {"workers": 1}
