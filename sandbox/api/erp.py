"""Group ERP (S/4HANA-like) OData v4 API: journal entry items, master data, FX rates,
the close calendar and its milestone events, and a trial balance computed from the
system's own postings (the control total a loaded warehouse must match).

Paging is server-driven: `value` holds a page, `@odata.nextLink` the next one
(`$skiptoken`); `$filter` selects on last-change time (or any field, `and`-joined).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sandbox import schemas
from sandbox.api.paging import int_param, odata_filter, where, window
from sandbox.api.service import Reply, Request, Service
from sandbox.api.tables import Table, records
from sandbox.calendar import PERIODS, add_business_days, fiscal_year_of, iso
from sandbox.master import MASTER_CHANGED_US, REGIONAL_COMPANY

ROOT = "/sap/opu/odata4/sap/api_finance/srvd_a2x/0001"
MASTER_SETS = {  # entity set -> (extract file, key)
    "CompanyCodes": ("company_codes", ["CompanyCode"]),
    "FinancialStatementItems": ("financial_statement_items", ["FinancialStatementItem"]),
    "GLAccounts": ("gl_accounts", ["GLAccount"]),
    "CostCenterNodes": ("cost_center_nodes", ["Node"]),
    "CostCenters": ("cost_centers", ["CostCenter"]),
    "Products": ("products", ["Product"]),
    "Projects": ("projects", ["Project"]),
    "ExchangeRates": ("fx_rates", ["ExchangeRateType", "FromCurrency", "ToCurrency", "ValidFrom"]),
}
JOURNAL_KEY = ["CompanyCode", "FiscalYear", "AccountingDocument", "LedgerGLLineItem"]
# Close milestones: name and the working day after period end they fall due.
MILESTONES = (
    ("SubledgersClosed", 1),
    ("AccrualsPosted", 2),
    ("IntercompanyMatched", 3),
    ("PeriodLocked", 4),
)
CLOSE_CALENDAR = pa.schema(
    [
        ("CompanyCode", pa.string()),
        ("FiscalYear", pa.int32()),
        ("FiscalPeriod", pa.int32()),
        ("Milestone", pa.string()),
        ("WorkingDay", pa.int32()),
        ("PlannedDate", pa.date32()),
        ("LastChangeDateTime", schemas.TS),
    ]
)
MILESTONE_EVENTS = pa.schema(
    [
        ("EventID", pa.string()),
        ("CompanyCode", pa.string()),
        ("FiscalYear", pa.int32()),
        ("FiscalPeriod", pa.int32()),
        ("Milestone", pa.string()),
        ("LastChangeDateTime", schemas.TS),  # when the milestone was reached
    ]
)
US_PER_DAY = 86_400_000_000
# a day's ordinary business that only the ERP records: vendor invoices and payments,
# customer receipts (payroll, sales and their cost, intercompany fees, depreciation, tax
# and accruals follow other systems or the period's calendar)
ORDINARY_TYPES = ["KR", "KZ", "DZ"]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day, hours=hour, minutes=minute)


class ErpApi(Service):
    name = "erp"
    page_size = 1000

    def __init__(self, extracts: Path, **options) -> None:
        super().__init__(**options)
        root = extracts / "erp"
        self.tables: dict[str, Table] = {}
        for entity, (stem, key) in MASTER_SETS.items():
            data = pq.read_table(root / f"{stem}.parquet")
            if "LastChangeDateTime" not in data.column_names:  # the API stamps every record
                stamp = pa.array(np.full(len(data), MASTER_CHANGED_US), schemas.TS)
                data = data.append_column("LastChangeDateTime", stamp)
            self.tables[entity] = Table(data, key, "LastChangeDateTime")
        journals = pq.read_table(sorted((root / "journal_items").glob("*.parquet")))
        journals = journals.append_column("IsReversed", pa.array([False] * len(journals)))
        self.tables["JournalEntryItems"] = Table(journals, JOURNAL_KEY, "LastChangeDateTime")
        # the history's average posting day: the ordinary business a day brings (`advance`)
        posting_days = pc.count_distinct(journals["PostingDate"]).as_py()
        self.lines_per_day = len(journals) // max(posting_days, 1)
        self.today = self.tables["JournalEntryItems"].max_cursor().date()
        self.companies = [
            c
            for c in self.tables["CompanyCodes"].data["CompanyCode"].to_pylist()
            if c != REGIONAL_COMPANY
        ]
        self.tables["CloseCalendar"] = Table(
            self._calendar(),
            ["CompanyCode", "FiscalYear", "FiscalPeriod", "Milestone"],
            "LastChangeDateTime",
        )
        self.tables["CloseMilestoneEvents"] = Table(
            self._events_due(until=self._day(self.today), since=None),
            ["EventID"],
            "LastChangeDateTime",
        )
        for entity in self.tables:
            self.routes[f"{ROOT}/{entity}"] = self._entity_set(entity)
        self.routes[f"{ROOT}/TrialBalance"] = self._trial_balance
        self._trial_balance_of: tuple[int, pa.Table] | None = None
        self.trial_balance()

    @staticmethod
    def _day(value) -> int:
        return int(np.datetime64(value, "D").astype(np.int64))

    # ---------------------------------------------------------------- reads
    def _entity_set(self, entity: str):
        def route(request: Request) -> Reply:
            table = self.tables[entity]
            data = table.query(odata_filter(request.query.get("$filter")))
            return self._page(data, request, table.key)

        return route

    def _page(self, data: pa.Table, request: Request, key: list[str]) -> Reply:
        offset = int_param(request, "$skiptoken", 0)
        size = int_param(request, "$top", self.page_size, maximum=self.page_size)
        page = window(data, offset, size, request)
        body: dict = {
            "@odata.context": f"$metadata#{request.path.rsplit('/', 1)[-1]}",
            "@odata.count": len(data),
            "value": records(page),
        }
        if offset + size < len(data):
            params = {k: v for k, v in request.query.items() if k != "$skiptoken"}
            params["$skiptoken"] = str(offset + size)
            body["@odata.nextLink"] = f"{request.base_url}{request.path}?{urlencode(params)}"
        return Reply(body)

    def trial_balance(self) -> pa.Table:
        """Period movements per company, fiscal period and account, in company-code currency,
        with the number of journal entry items behind them (the ERP's control count).
        Computed once per version of the journal, when it is posted to (at start and in
        `advance`), as an ERP keeps its totals table at posting: a client's request
        reads it and pages through it."""
        journals = self.tables["JournalEntryItems"]
        version = journals.version
        if self._trial_balance_of is None or self._trial_balance_of[0] != version:
            self._trial_balance_of = (version, self._sum_periods(journals.data))
        return self._trial_balance_of[1]

    @staticmethod
    def _sum_periods(data: pa.Table) -> pa.Table:
        amount = data["AmountInCompanyCodeCurrency"]
        zero = pa.scalar(0, amount.type)
        data = data.append_column("Debit", pc.max_element_wise(amount, zero)).append_column(
            "Credit", pc.negate(pc.min_element_wise(amount, zero))
        )
        keys = ["CompanyCode", "FiscalYear", "FiscalPeriod", "GLAccount", "CompanyCodeCurrency"]
        grouped = data.group_by(keys).aggregate(
            [
                ("Debit", "sum"),
                ("Credit", "sum"),
                ("AmountInCompanyCodeCurrency", "sum"),
                ("AmountInCompanyCodeCurrency", "count"),
            ]
        )
        return grouped.rename_columns(
            [
                *keys,
                "DebitAmountInCoCodeCrcy",
                "CreditAmountInCoCodeCrcy",
                "PeriodBalanceInCoCodeCrcy",
                "JournalEntryItemCount",
            ]
        ).sort_by([(k, "ascending") for k in keys])

    def _trial_balance(self, request: Request) -> Reply:
        data = where(self.trial_balance(), odata_filter(request.query.get("$filter")))
        return self._page(data, request, [])

    # ---------------------------------------------------------------- close calendar
    def _calendar(self) -> pa.Table:
        rows = []
        for period in PERIODS:
            for milestone, working_day in MILESTONES:
                planned = int(add_business_days(np.array([period.end + 1]), working_day - 1)[0])
                rows += [
                    {
                        "CompanyCode": c,
                        "FiscalYear": period.fiscal_year,
                        "FiscalPeriod": period.fiscal_period,
                        "Milestone": milestone,
                        "WorkingDay": working_day,
                        "PlannedDate": np.datetime64(planned, "D").item(),
                        "LastChangeDateTime": at(PERIODS[0].start - 1, 0),
                    }
                    for c in self.companies
                ]
        return pa.Table.from_pylist(rows, CLOSE_CALENDAR)

    def _events_due(self, until: int, since: int | None) -> pa.Table:
        """Milestones reached on a business day in (since, until], at 17:00 that day."""
        calendar = self.tables["CloseCalendar"].data.to_pylist()
        rows = []
        for entry in calendar:
            planned = self._day(entry["PlannedDate"])
            if planned <= until and (since is None or planned > since):
                rows.append(
                    {
                        "EventID": f"{entry['CompanyCode']}-{entry['FiscalYear']}-"
                        f"{entry['FiscalPeriod']:03d}-{entry['Milestone']}",
                        **{
                            k: entry[k]
                            for k in ("CompanyCode", "FiscalYear", "FiscalPeriod", "Milestone")
                        },
                        "LastChangeDateTime": at(planned, 17),
                    }
                )
        return pa.Table.from_pylist(rows, MILESTONE_EVENTS)

    def lock_day(self, fiscal_year: int, fiscal_period: int) -> int:
        calendar = self.tables["CloseCalendar"].data.filter(
            (pc.field("FiscalYear") == fiscal_year)
            & (pc.field("FiscalPeriod") == fiscal_period)
            & (pc.field("Milestone") == "PeriodLocked")
        )
        return self._day(calendar["PlannedDate"][0].as_py())

    # ---------------------------------------------------------------- time passes
    def advance(self, day: int) -> dict[str, int]:
        """Post the day's business (an average posting day's lines: `_ordinary_day`) and
        its close adjustments (one accrual per company) into the open period, reverse one
        vendor invoice (the original's lines change: `IsReversed`), and emit the milestones
        due. Returns the records changed per entity set."""
        journals = self.tables["JournalEntryItems"]
        last = PERIODS[-1]
        open_posting = (
            last.last_business_day
            if day <= self.lock_day(last.fiscal_year, last.fiscal_period)
            else day
        )
        year, month = (int(x) for x in iso(open_posting).split("-")[:2])
        fiscal_year, fiscal_period = fiscal_year_of(year, month)
        data = journals.data
        in_last = data.filter(
            (pc.field("FiscalYear") == last.fiscal_year)
            & (pc.field("FiscalPeriod") == last.fiscal_period)
        )
        numbers = self._last_numbers(fiscal_year)
        into = (fiscal_year, fiscal_period, open_posting, numbers)
        posted = [self._copy(self._ordinary_day(in_last), *into, at(day, 8))]
        for i, company in enumerate(self.companies):
            mine = in_last.filter(pc.field("CompanyCode") == company)
            accruals = mine.filter(
                (pc.field("AccountingDocumentType") == "SA")
                & pc.field("ReversalReferenceDocument").is_null()
            )
            template = accruals.filter(
                pc.field("AccountingDocument") == accruals["AccountingDocument"][0]
            )
            posted.append(self._copy(template, *into, at(day, 9, i), text="Close adjustment"))
        invoices = in_last.filter(
            (pc.field("CompanyCode") == self.companies[0])
            & (pc.field("AccountingDocumentType") == "KR")
            & pc.invert(pc.field("IsReversed"))
        )
        original = invoices.filter(
            pc.field("AccountingDocument") == pc.min(invoices["AccountingDocument"])
        )
        posted.append(self._copy(original, *into, at(day, 10), reverse=True))
        stamp = pa.array([at(day, 10)] * len(original), schemas.TS)
        changed = original.set_column(
            original.schema.get_field_index("LastChangeDateTime"), "LastChangeDateTime", stamp
        ).set_column(
            original.schema.get_field_index("IsReversed"),
            "IsReversed",
            pa.array([True] * len(original)),
        )
        new = pa.concat_tables(posted)
        journals.upsert(pa.concat_tables([new, changed]))
        events = self._events_due(until=day, since=self._day(self.today))
        self.tables["CloseMilestoneEvents"].upsert(events)
        self.trial_balance()
        return {"JournalEntryItems": len(new) + len(changed), "CloseMilestoneEvents": len(events)}

    def _ordinary_day(self, period_lines: pa.Table) -> pa.Table:
        """Whole documents of the open period, about as many lines as the history's
        average posting day (`lines_per_day`): a day's business to post again under new
        numbers, taken evenly through the period's documents. Only business the ERP alone
        records (`ORDINARY_TYPES`): a copied payroll or sales document would be a payroll
        run or a closed-won deal that the payroll system or the CRM never had, and
        intercompany fees need the partner's leg. No reversal, nothing reversed."""
        document = ["CompanyCode", "AccountingDocument"]
        special = period_lines.filter(
            pc.invert(pc.field("AccountingDocumentType").isin(ORDINARY_TYPES))
            | pc.field("PartnerCompany").is_valid()
            | pc.field("ReversalReferenceDocument").is_valid()
            | pc.field("IsReversed")
        ).select(document)
        ordinary = period_lines.join(special, document, join_type="left anti")
        documents = (
            ordinary.group_by(document)
            .aggregate([])
            .sort_by([(name, "ascending") for name in document])
        )
        every = max(1, len(ordinary) // max(self.lines_per_day, 1))
        chosen = documents.take(pa.array(range(0, len(documents), every))).select(document)
        return ordinary.join(chosen, document, join_type="inner").sort_by(
            [(name, "ascending") for name in [*document, "LedgerGLLineItem"]]
        )

    def _last_numbers(self, fiscal_year: int) -> dict[tuple[str, str], int]:
        """The highest document number of each company's number range (its first two
        digits) in `fiscal_year`: `_copy` numbers new documents after it."""
        data = self.tables["JournalEntryItems"].data.filter(pc.field("FiscalYear") == fiscal_year)
        ranges = (
            pa.table(
                {
                    "company": data["CompanyCode"],
                    "range": pc.utf8_slice_codeunits(data["AccountingDocument"], 0, 2),
                    "number": pc.cast(data["AccountingDocument"], pa.int64()),
                }
            )
            .group_by(["company", "range"])
            .aggregate([("number", "max")])
        )
        return {
            (company, prefix): number
            for company, prefix, number in zip(
                *(ranges[c].to_pylist() for c in ("company", "range", "number_max")), strict=True
            )
        }

    def _copy(
        self,
        lines: pa.Table,
        fiscal_year: int,
        fiscal_period: int,
        posting: int,
        numbers: dict[tuple[str, str], int],
        changed_at: datetime,
        reverse: bool = False,
        text: str | None = None,
    ) -> pa.Table:
        """New documents like those of `lines`, each the next number of its company's range
        (`numbers`, which it advances); a reversal negates them, `text` replaces their
        line texts."""
        documents = list(
            zip(
                lines["CompanyCode"].to_pylist(),
                lines["AccountingDocument"].to_pylist(),
                strict=True,
            )
        )
        renumbered: dict[tuple[str, str], str] = {}
        for company, document in dict.fromkeys(documents):
            in_range = (company, document[:2])
            numbers[in_range] = numbers.get(in_range, int(document[:2] + "00000000")) + 1
            renumbered[company, document] = f"{numbers[in_range]:010d}"
        n = len(lines)
        posting_date = pa.array([np.datetime64(posting, "D").item()] * n, pa.date32())
        columns = {
            "FiscalYear": pa.array([fiscal_year] * n, pa.int32()),
            "FiscalPeriod": pa.array([fiscal_period] * n, pa.int32()),
            "AccountingDocument": pa.array([renumbered[d] for d in documents], pa.string()),
            "PostingDate": posting_date,
            "DocumentDate": posting_date,
            "LastChangeDateTime": pa.array([changed_at] * n, schemas.TS),
            "IsReversed": pa.array([False] * n),
        }
        if reverse:
            columns |= {
                "AmountInTransactionCurrency": pc.negate(lines["AmountInTransactionCurrency"]),
                "AmountInCompanyCodeCurrency": pc.negate(lines["AmountInCompanyCodeCurrency"]),
                "DebitCreditCode": pc.if_else(pc.equal(lines["DebitCreditCode"], "S"), "H", "S"),
                "ReversalReferenceDocument": lines["AccountingDocument"],
                "DocumentItemText": pc.binary_join_element_wise(
                    "Reversal of ", lines["AccountingDocument"], ""
                ),
            }
        elif text is not None:
            columns["DocumentItemText"] = pa.array([text] * n)
        for name, values in columns.items():
            lines = lines.set_column(lines.schema.get_field_index(name), name, values)
        return lines
