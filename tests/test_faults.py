"""The API ingest against the simulators failing for real: rate limits, 5xx, dropped
connections, cut and malformed pages, a killed process, repeated and changed records,
late records at the high-water mark, schema drift. dlt loads into a temporary DuckDB;
the source's own tables are the truth every count and total is held to."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests
from dlt.extract.source import DltSource
from dlt.pipeline.exceptions import PipelineStepFailed

from ingest.api import RequestLog
from ingest.crm import crm
from ingest.erp import REPEATED
from ingest.payroll import payroll
from ingest.pipelines import pipeline, source
from orchestration.checks.schemas import JOURNAL_VERSIONS, latest_versions
from orchestration.paths import REPO_ROOT
from orchestration.resources import open_warehouse
from sandbox.api import Enterprise
from sandbox.generate import generate
from tests.conftest import query

JOURNALS = "JournalEntryItems"
KEY = "company_code, fiscal_year, accounting_document, ledger_gl_line_item"
# raw_erp.journal_items is the log of journal line versions: the ERP's lines are the latest
JOURNAL_LINES = "({}) as journal_items".format(
    latest_versions("raw_erp.journal_items", KEY.split(", "), JOURNAL_VERSIONS)
)
AMOUNTS = "amount_in_company_code_currency, amount_in_transaction_currency"


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "sandbox"
    generate(path, scale=0.005, seed=11)
    return path


@dataclass
class Lake:
    """One enterprise on loopback and one warehouse. With `history=False` ingest sees no
    bulk files: every journal line comes through the API, page after page."""

    systems: Enterprise
    extracts: Path
    warehouse: Path
    dlt: Path
    log: RequestLog

    def load(self, system: str, *resources: str):
        data = source(system, self.extracts, self.log)
        if resources:
            data = data.with_resources(*resources)
        info = pipeline(system, self.warehouse, self.dlt).run(data, loader_file_format="parquet")
        info.raise_on_failed_jobs()
        return info

    def extracted(self, system: str) -> dict[str, int]:
        """Rows the last run extracted, per resource (quarantined ones included)."""
        trace = pipeline(system, self.warehouse, self.dlt).last_trace
        counts: dict[str, int] = {}
        for metrics in trace.last_extract_info.metrics.values():
            for metric in metrics:
                for resource, m in metric["resource_metrics"].items():
                    counts[resource] = counts.get(resource, 0) + m.items_count
        return {r: n for r, n in counts.items() if not r.startswith("_dlt")}

    def repeated_versions_dropped(self) -> int:
        """Rows of journal changes the last ERP run took once though the API sent more."""
        trace = pipeline("erp", self.warehouse, self.dlt).last_trace
        return sum(
            m.custom_metrics.get(REPEATED, 0)
            for metrics in trace.last_extract_info.metrics.values()
            for metric in metrics
            for m in metric["resource_metrics"].values()
        )

    def cursor(self, system: str, resource: str):
        state = pipeline(system, self.warehouse, self.dlt).state
        resources = state.get("sources", {}).get(system, {}).get("resources", {})
        cursors = resources.get(resource, {}).get("incremental", {})
        return next((c.get("last_value") for c in cursors.values()), None)

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with open_warehouse(self.warehouse) as con:
            return con.execute(sql, parameters).fetchall()

    def journals(self) -> tuple:
        """Rows, distinct keys and amount totals of the latest journal line versions."""
        return self.query(
            f"select count(*), count(distinct ({KEY})), sum(amount_in_company_code_currency),"
            f" sum(amount_in_transaction_currency) from {JOURNAL_LINES}"
        )[0]

    def source_journals(self) -> tuple:
        data = self.systems.erp.tables[JOURNALS].data
        return (
            len(data),
            len(data),  # the simulator's table is keyed
            pc.sum(data["AmountInCompanyCodeCurrency"]).as_py(),
            pc.sum(data["AmountInTransactionCurrency"]).as_py(),
        )

    def token(self, system: str) -> str:
        service = self.systems.services[system]
        return requests.post(
            f"{service.base_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": service.client_id,
                "client_secret": service.client_secret,
            },
            timeout=10,
        ).json()["access_token"]


@pytest.fixture
def make_lake(
    extracts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Lake]]:
    started: list[Enterprise] = []

    def make(history: bool = True, **options) -> Lake:
        systems = Enterprise(extracts, **options).start()
        started.append(systems)
        for name, value in systems.env().items():
            monkeypatch.setenv(name, value)
        # quick backoff on 5xx: the retries are what is tested, not their patience
        monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.2")
        seen = extracts if history else tmp_path / "no_history"
        return Lake(systems, seen, tmp_path / "warehouse.duckdb", tmp_path / "dlt", RequestLog())

    yield make
    for systems in started:
        systems.stop()


# ---------------------------------------------------------------- retried, counted


def test_429_and_5xx_and_a_dropped_connection_are_retried_and_counted(make_lake) -> None:
    lake = make_lake(history=False, max_requests_per_second=2)
    erp = lake.systems.erp
    erp.page_size = 2000
    erp.inject("error", JOURNALS, times=2, status=503, after=1)
    erp.inject("error", JOURNALS, times=1, status=500, after=3)
    erp.inject("drop", JOURNALS, times=1, after=5)
    lake.load("erp", "journal_item_changes", "company_codes")
    assert lake.journals() == lake.source_journals()
    statuses = erp.status_counts
    assert statuses[429] > 0 and statuses[503] == 2 and statuses[500] == 1
    # every refused attempt was retried and counted: 429s, 5xx and the dropped connection
    assert lake.log.retries == statuses[429] + 3 + 1
    # Retry-After: 1 was waited out: no request within a second after a 429
    served = list(erp.served)
    waits = [b[0] - a[0] for a, b in zip(served, served[1:], strict=False) if a[1] == 429]
    assert waits and min(waits) >= 0.95


# ---------------------------------------------------------------- bad pages


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("truncate", r"JournalEntryItems.*page of \d+ bytes is not valid JSON \(truncated\?\)"),
        ("malformed", r"JournalEntryItems.*page has no list at 'value'"),
    ],
)
def test_a_bad_page_fails_the_load_keeps_the_cursor_and_the_next_run_loads_each_record_once(
    make_lake, fault: str, error: str
) -> None:
    lake = make_lake(history=False)
    lake.load("erp", "journal_item_changes")
    before, mark = lake.journals(), lake.cursor("erp", "journal_item_changes")
    lake.systems.advance_business_day()
    lake.systems.erp.page_size = 10  # the day's changes span pages: the 3rd one is bad
    lake.systems.erp.inject(fault, JOURNALS, after=2)
    with pytest.raises(PipelineStepFailed, match=error):
        lake.load("erp", "journal_item_changes")
    assert lake.cursor("erp", "journal_item_changes") == mark
    assert lake.journals() == before
    lake.load("erp", "journal_item_changes")
    assert lake.cursor("erp", "journal_item_changes") > mark
    assert lake.journals() == lake.source_journals()
    assert lake.journals() != before


# ---------------------------------------------------------------- killed mid-load


def _packages(dlt_dir: Path, stage: str) -> list[Path]:
    return list((dlt_dir / "finsync_erp" / "load" / stage).glob("*/"))


@pytest.mark.parametrize("stage", ["new", "normalized"])
def test_sigkill_mid_load_then_the_next_run_matches_the_source_exactly(
    make_lake, stage: str
) -> None:
    """Killed while extracting (a package being written) or loading (a normalized package
    going into DuckDB): the next run finishes and raw equals the ERP, row for row."""
    lake = make_lake(history=True)
    # slow pages keep the process busy long enough to be caught in the act
    lake.systems.erp.inject("latency", "", times=40, seconds=0.05)
    env = os.environ | {"FINSYNC_DATA_DIR": str(lake.warehouse.parent)}
    process = subprocess.Popen(
        [sys.executable, "-m", "ingest", "--extracts", str(lake.extracts)]
        + ["--warehouse", str(lake.warehouse), "--pipelines-dir", str(lake.dlt), "erp"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not _packages(lake.dlt, stage) and process.poll() is None:
        assert time.monotonic() < deadline, "the load never reached the stage"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL
    lake.systems.erp.clear_faults()
    lake.load("erp")
    assert lake.journals() == lake.source_journals()
    for table, entity in (("fx_rates", "ExchangeRates"), ("gl_accounts", "GLAccounts")):
        assert lake.query(f"select count(*) from raw_erp.{table}")[0][0] == len(
            lake.systems.erp.tables[entity]
        )
    assert lake.load("erp").loads_ids == []  # and nothing is left over to load twice


# ---------------------------------------------------------------- repeated, changed, reversed


def test_records_repeated_across_pages_end_as_one_row(make_lake) -> None:
    lake = make_lake(history=False)
    lake.systems.erp.page_size = 200
    lake.systems.erp.inject("duplicate", JOURNALS, times=50)
    lake.load("erp", "journal_item_changes")
    assert lake.repeated_versions_dropped() > 0  # the API did repeat records
    assert lake.journals() == lake.source_journals()


def test_a_changed_record_ends_as_its_latest_version_and_a_reversal_nets_to_zero(
    make_lake,
) -> None:
    lake = make_lake(history=True)
    lake.load("erp")
    lake.systems.advance_business_day()
    lake.load("erp")
    originals = lake.query(
        "select distinct company_code, fiscal_year, accounting_document"
        f" from {JOURNAL_LINES} where is_reversed"
    )
    assert len(originals) == 1  # the vendor invoice the day reversed: its lines changed
    company, year, original = originals[0]
    document = f"company_code = '{company}' and fiscal_year = {year} and accounting_document"
    versions = lake.query(
        f"select count(*), count(*) filter (where is_reversed) from {JOURNAL_LINES}"
        f" where {document} = '{original}'"
    )[0]
    source = lake.systems.erp.tables[JOURNALS].data
    lines = source.filter(
        (pc.field("CompanyCode") == company)
        & (pc.field("FiscalYear") == year)
        & (pc.field("AccountingDocument") == original)
    )
    assert versions == (len(lines), len(lines)) and len(lines) > 1
    (doc,) = lake.query(
        f"select distinct accounting_document from {JOURNAL_LINES} where company_code ="
        f" '{company}' and reversal_reference_document = '{original}' and fiscal_year = {year}"
    )[0]
    nets = lake.query(
        "select gl_account, sum(amount_in_company_code_currency),"
        f" sum(amount_in_transaction_currency) from {JOURNAL_LINES}"
        f" where {document} in ('{doc}', '{original}') group by all"
    )
    assert nets and {(txn, cc) for _, txn, cc in nets} == {(Decimal(0), Decimal(0))}


# ---------------------------------------------------------------- one business day


def test_a_business_day_loads_exactly_its_changes_and_raw_ties_to_the_erp_trial_balance(
    make_lake,
) -> None:
    lake = make_lake(history=True)
    lake.load("erp")
    changed = lake.systems.advance_business_day()["erp"]
    lake.load("erp")
    extracted = {k: v for k, v in lake.extracted("erp").items() if v}
    assert extracted == {
        "journal_item_changes": changed[JOURNALS],
        "close_milestone_events": changed["CloseMilestoneEvents"],
    }
    assert changed[JOURNALS] > 0
    assert lake.journals() == lake.source_journals()
    erp = lake.systems.erp
    url = f"{erp.base_url}/sap/opu/odata4/sap/api_finance/srvd_a2x/0001/TrialBalance"
    headers = {"Authorization": f"Bearer {lake.token('erp')}"}
    served = []
    while url:
        page = requests.get(url, headers=headers, timeout=30).json()
        served += [
            (
                r["CompanyCode"],
                r["FiscalYear"],
                r["FiscalPeriod"],
                r["GLAccount"],
                Decimal(r["PeriodBalanceInCoCodeCrcy"]),
            )
            for r in page["value"]
        ]
        url = page.get("@odata.nextLink")
    loaded = lake.query(
        "select company_code, fiscal_year, fiscal_period, gl_account,"
        f" sum(amount_in_company_code_currency) from {JOURNAL_LINES} group by all"
    )
    assert len(served) > 500
    assert sorted(loaded) == sorted(served)


# ---------------------------------------------------------------- the cursor's boundary


def test_a_late_record_with_the_high_water_marks_timestamp_is_loaded(make_lake) -> None:
    """The vendor is asked `at or after` the mark; what was loaded at the mark is skipped."""
    lake = make_lake()
    lake.load("payroll")
    workers = lake.systems.payroll.tables["workers"]
    mark = workers.max_cursor()
    assert lake.cursor("payroll", "workers") == mark
    late = workers.data.filter(pc.field("Last_Updated") == mark).slice(0, 1)
    late = late.set_column(0, "Worker_ID", pa.array(["W-LATE-1"]))
    workers.upsert(late)
    lake.load("payroll")
    assert lake.extracted("payroll") == {"workers": 1, "payroll_results": 0}
    assert lake.query("select count(*) from raw_payroll.workers")[0][0] == len(workers)
    assert lake.load("payroll").loads_ids == []  # the boundary state is stable


# ---------------------------------------------------------------- schema drift


def _drift(body: dict) -> None:
    """What a vendor's upgrade and a bad day send: a new field on every record, an amount
    in words, a record without its key, a date that does not exist."""
    for record in body["data"]:
        record["Payroll_Area"] = f"PA-{record['Company']}"
    body["data"][0]["Gross_Earnings"] = "twelve hundred"
    del body["data"][1]["Payroll_Result_ID"]
    body["data"][2]["Pay_Period_End"] = "2024-02-30"


def test_schema_drift_adds_a_column_and_quarantines_bad_rows_with_their_reason(
    make_lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__PAYROLL__BULK", "false")  # the API's pages carry the load
    lake = make_lake()
    lake.systems.payroll.inject("edit", "payrollResults", edit=_drift)
    lake.load("payroll", "payroll_results")
    served = len(lake.systems.payroll.tables["payrollResults"])
    loaded, drifted = lake.query(
        "select count(*), count(payroll_area) from raw_payroll.payroll_results"
    )[0]
    quarantined = lake.query(
        "select reason, record_key from raw_payroll.quarantine order by reason"
    )
    assert loaded + len(quarantined) == served
    assert len(quarantined) == 3
    assert drifted == 500 - 3  # the first page carried the new field; nothing of it lost
    assert quarantined == [
        (
            "Gross_Earnings='twelve hundred': The string 'twelve hundred' is not a valid"
            " decimal128 number",
            quarantined[0][1],
        ),
        (
            "Pay_Period_End='2024-02-30': Failed to parse string: '2024-02-30' as a scalar"
            " of type date32[day]",
            quarantined[1][1],
        ),
        ("missing required field(s) ['Payroll_Result_ID']", "None"),
    ]
    assert quarantined[0][1] != "None" != quarantined[1][1]


def test_the_main_runs_trial_balance_movements_equal_the_erps_own(
    paths,
    main_run,  # noqa: ARG001 (the session's run built the marts)
) -> None:
    """Downstream of everything (staging, FX, marts): per company, period and account the
    functional-currency movement equals the ERP's TrialBalance endpoint."""
    base_url = os.environ["SOURCES__ERP__BASE_URL"]
    bearer = requests.post(
        f"{base_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": os.environ["SOURCES__ERP__CLIENT_ID"],
            "client_secret": os.environ["SOURCES__ERP__CLIENT_SECRET"],
        },
        timeout=10,
    ).json()["access_token"]
    url = f"{base_url}/sap/opu/odata4/sap/api_finance/srvd_a2x/0001/TrialBalance"
    served = []
    while url:
        page = requests.get(url, headers={"Authorization": f"Bearer {bearer}"}, timeout=60)
        body = page.json()
        served += [
            (r["CompanyCode"], r["FiscalYear"], r["FiscalPeriod"], r["GLAccount"])
            + (Decimal(r["PeriodBalanceInCoCodeCrcy"]),)
            for r in body["value"]
            if Decimal(r["PeriodBalanceInCoCodeCrcy"]) != 0
        ]
        url = body.get("@odata.nextLink")
    companies = sorted({row[0] for row in served})
    marts = query(
        paths,
        "select entity_code, fiscal_year, fiscal_period, account_code, movement_functional"
        " from marts.trial_balance where movement_functional <> 0"
        " and entity_code in (select unnest(?))",
        [companies],
    )
    assert len(served) > 1000 and len(companies) == 6
    assert sorted(marts) == sorted(served)


def test_a_server_capping_pages_below_the_clients_limit_fails_the_load_instead_of_losing_rows(
    make_lake, monkeypatch
) -> None:
    """Offset paging steps by the client's limit: a server that caps the page lower would
    skip records without a word. The vendor's own total catches it."""
    monkeypatch.setenv("SOURCES__PAYROLL__BULK", "false")  # the API's pages carry the load
    lake = make_lake()
    lake.systems.payroll.page_size = 200  # the client asks for 500 a page
    with pytest.raises(PipelineStepFailed, match=r"payroll/payroll_results: the API said \d+"):
        lake.load("payroll", "payroll_results")
    assert lake.cursor("payroll", "payroll_results") is None


# ---------------------------------------------------------------- CRM first load by Bulk API 2.0

CRM_TABLES = {"accounts": "Account", "opportunities": "Opportunity"}


def _raw_rows(warehouse: Path, table: str, key: str) -> list[tuple]:
    """A raw table's (`raw_<system>.<table>`) rows without dlt's load columns, by `key`."""
    schema, name = table.split(".")
    with open_warehouse(warehouse) as con:
        names = [
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns where table_schema = ?"
                " and table_name = ? and column_name not like '\\_dlt%' escape '\\'"
                " order by ordinal_position",
                [schema, name],
            ).fetchall()
        ]
        return con.execute(f"select {', '.join(names)} from {table} order by {key}").fetchall()


def _crm_requests(lake: Lake) -> dict[str, int]:
    """Requests the CRM answered, by kind: bulk job results pages and JSON query pages."""
    paths = [path for _, _, path in lake.systems.crm.served]
    return {
        "results": sum(p.endswith("/results") for p in paths),
        "queryAll": sum("/queryAll" in p for p in paths),
    }


def _by_api(source: DltSource, warehouse: Path, dlt_dir: Path) -> None:
    """A source's first load through its JSON API (`bulk=False`), into another warehouse."""
    pipeline(source.name, warehouse, dlt_dir).run(
        source, loader_file_format="parquet"
    ).raise_on_failed_jobs()


def _stages(lake: Lake) -> tuple[list[tuple], list[tuple]]:
    """(id, stage, last change) of every opportunity: raw's, and the simulator's."""
    raw = lake.query(
        "select id, stage_name, last_modified_date from raw_crm.opportunities order by id"
    )
    source = lake.systems.crm.tables["Opportunity"].data.sort_by("Id")
    return raw, list(
        zip(
            source["Id"].to_pylist(),
            source["StageName"].to_pylist(),
            source["LastModifiedDate"].to_pylist(),
            strict=True,
        )
    )


def test_crm_first_load_by_bulk_equals_the_json_path_and_the_next_day_comes_by_the_api(
    make_lake, tmp_path: Path
) -> None:
    lake = make_lake()
    crm_api = lake.systems.crm
    crm_api.bulk_page_size = 50  # several CSV pages per table
    lake.load("crm")
    assert _crm_requests(lake)["queryAll"] == 0
    assert _crm_requests(lake)["results"] > len(CRM_TABLES)
    _by_api(
        crm(request_log=RequestLog(), bulk=False), tmp_path / "json.duckdb", tmp_path / "json_dlt"
    )
    for table, sobject in CRM_TABLES.items():
        rows = _raw_rows(lake.warehouse, f"raw_crm.{table}", "id")
        assert len(rows) == len(crm_api.tables[sobject]) > 50
        assert rows == _raw_rows(tmp_path / "json.duckdb", f"raw_crm.{table}", "id")
        assert lake.cursor("crm", table) == crm_api.tables[sobject].max_cursor()
    served = _crm_requests(lake)
    lake.systems.advance_business_day()  # one opportunity changes stage, another is deleted
    lake.load("crm")
    assert _crm_requests(lake)["results"] == served["results"]  # no bulk job: the API
    assert _crm_requests(lake)["queryAll"] > served["queryAll"]
    assert lake.extracted("crm").get("opportunities") == 2  # the changes, not the mark's rows
    assert lake.extracted("crm").get("accounts", 0) == 0
    raw, source = _stages(lake)
    assert raw == source
    with_deleted = crm_api.tables["Opportunity"].changed_since(None, with_deleted=True)
    assert lake.cursor("crm", "opportunities") == pc.max(with_deleted["LastModifiedDate"]).as_py()


def test_a_first_bulk_load_appends_into_its_new_tables_and_leaves_deleted_records_out(
    make_lake,
) -> None:
    """A table's first load by bulk export has nothing to merge with and unique keys: it
    appends, without dlt's staging copy, and what the export says is deleted never lands.
    The next day's changes merge, as every load after the first."""
    lake = make_lake()
    crm_api = lake.systems.crm
    lake.systems.advance_business_day()  # an opportunity is deleted before the first load
    exported = crm_api.tables["Opportunity"].changed_since(None, with_deleted=True)
    deleted = set(exported.filter(exported["IsDeleted"])["Id"].to_pylist())
    assert len(deleted) == 1
    lake.load("crm")
    assert _crm_requests(lake)["queryAll"] == 0  # the bulk export
    staged = "select table_name from information_schema.tables where table_schema = ?"
    assert lake.query(staged, ["raw_crm_staging"]) == []
    raw, source = _stages(lake)
    assert raw == source
    assert not deleted & {id_ for id_, _, _ in raw}
    lake.systems.advance_business_day()  # another opportunity moves, one more is deleted
    lake.load("crm")
    assert ("opportunities",) in lake.query(staged, ["raw_crm_staging"])  # merged
    raw, source = _stages(lake)
    assert raw == source


def test_a_bulk_results_page_cut_short_or_failing_is_asked_again(make_lake) -> None:
    lake = make_lake()
    crm_api = lake.systems.crm
    crm_api.bulk_page_size = 50
    crm_api.inject("truncate", "/results", after=1)  # the 2nd page arrives cut in half
    crm_api.inject("error", "/results", times=2, status=503)  # then twice a 503
    lake.load("crm", "opportunities")
    assert crm_api.status_counts[503] == 2
    assert lake.log.retries == 3
    raw, source = _stages(lake)
    assert raw == source


def test_a_bulk_results_page_always_cut_fails_the_load_and_the_next_run_loads_it_whole(
    make_lake,
) -> None:
    lake = make_lake()
    crm_api = lake.systems.crm
    crm_api.bulk_page_size = 50
    crm_api.inject("truncate", "/results", times=3, after=1)
    with pytest.raises(PipelineStepFailed, match=r"/results\?.*\(truncated\?\)"):
        lake.load("crm", "opportunities")
    assert lake.cursor("crm", "opportunities") is None
    lake.load("crm", "opportunities")
    assert _crm_requests(lake)["queryAll"] == 0  # the first load is still the bulk one
    raw, source = _stages(lake)
    assert raw == source


def _bad_csv_rows(field: str, value: str, key: str) -> Callable[[bytearray], None]:
    """An edit of a CSV reply: `field` of the first row becomes `value`, the second row
    loses its `key`."""

    def edit(body: bytearray) -> None:
        lines = body.decode().split("\n")
        header = next(csv.reader([lines[0]]))
        rows = [next(csv.reader([line])) for line in lines[1:3]]
        rows[0][header.index(field)] = value
        rows[1][header.index(key)] = ""
        out = io.StringIO()
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
        body[:] = "\n".join([lines[0], out.getvalue().rstrip("\n"), *lines[3:]]).encode()

    return edit


def test_a_bad_csv_row_of_the_bulk_load_is_quarantined_with_its_reason(make_lake) -> None:
    lake = make_lake()
    lake.systems.crm.inject("edit", "/results", edit=_bad_csv_rows("Probability", "high", "Id"))
    lake.load("crm", "opportunities")
    served = len(lake.systems.crm.tables["Opportunity"])
    loaded = lake.query("select count(*) from raw_crm.opportunities")[0][0]
    quarantined = lake.query(
        "select reason, record_key, payload from raw_crm.quarantine order by reason"
    )
    assert loaded + len(quarantined) == served
    assert [(reason, key == "None") for reason, key, _ in quarantined] == [
        ("Probability='high': Failed to parse string: 'high' as a scalar of type int32", False),
        ("missing required field(s) ['Id']", True),
    ]
    assert '"Probability": "high"' in quarantined[0][2]


# ---------------------------------------------------------------- payroll first load by RaaS

REPORTS = "/customreport2/"


def _reports_served(lake: Lake) -> int:
    return sum(REPORTS in path for _, _, path in lake.systems.payroll.served)


def test_payroll_first_load_by_custom_report_equals_the_api_path_and_the_next_day_comes_by_the_api(
    make_lake, tmp_path: Path
) -> None:
    lake = make_lake()
    payroll_api = lake.systems.payroll
    lake.load("payroll")
    assert _reports_served(lake) == 2
    asked = [path for _, _, path in payroll_api.served if path != payroll_api.token_path]
    assert len(asked) == 4  # and one count per collection: no paging through the API
    _by_api(
        payroll(request_log=RequestLog(), bulk=False), tmp_path / "api.duckdb", tmp_path / "api_dlt"
    )
    for table, collection, key in (
        ("workers", "workers", "worker_id"),
        ("payroll_results", "payrollResults", "payroll_result_id"),
    ):
        rows = _raw_rows(lake.warehouse, f"raw_payroll.{table}", key)
        assert len(rows) == len(payroll_api.tables[collection]) > 100
        assert rows == _raw_rows(tmp_path / "api.duckdb", f"raw_payroll.{table}", key)
        assert lake.cursor("payroll", table) == payroll_api.tables[collection].max_cursor()
    lake.systems.advance_business_day()  # a worker is promoted
    lake.load("payroll")
    assert _reports_served(lake) == 2  # no new report: the API
    assert lake.extracted("payroll").get("workers") == 1
    assert lake.extracted("payroll").get("payroll_results", 0) == 0
    workers = payroll_api.tables["workers"].data.sort_by("Worker_ID")
    assert lake.query("select worker_id, job_profile from raw_payroll.workers order by 1") == list(
        zip(workers["Worker_ID"].to_pylist(), workers["Job_Profile"].to_pylist(), strict=True)
    )
    assert lake.cursor("payroll", "workers") == payroll_api.tables["workers"].max_cursor()


def test_a_custom_report_always_cut_fails_the_load_and_one_cut_once_is_asked_again(
    make_lake,
) -> None:
    lake = make_lake()
    payroll_api = lake.systems.payroll
    payroll_api.inject("truncate", REPORTS, times=3)
    with pytest.raises(PipelineStepFailed, match=r"Finsync_Payroll_Results.*\(truncated\?\)"):
        lake.load("payroll", "payroll_results")
    assert lake.cursor("payroll", "payroll_results") is None
    payroll_api.inject("truncate", REPORTS)
    payroll_api.inject("error", REPORTS, status=503)
    lake.load("payroll", "payroll_results")
    assert lake.log.retries == 2 + 2  # the failed load asked twice again, then these two
    results = _raw_rows(lake.warehouse, "raw_payroll.payroll_results", "payroll_result_id")
    assert results[-1][0] == max(
        payroll_api.tables["payrollResults"].data["Payroll_Result_ID"].to_pylist()
    )
    assert lake.query("select count(*) from raw_payroll.payroll_results")[0][0] == len(
        payroll_api.tables["payrollResults"]
    )


def test_a_bad_csv_row_of_a_custom_report_is_quarantined_with_its_reason(
    make_lake,
) -> None:
    lake = make_lake()
    lake.systems.payroll.inject(
        "edit", REPORTS, edit=_bad_csv_rows("Gross_Earnings", "1.234", "Payroll_Result_ID")
    )
    lake.load("payroll", "payroll_results")
    served = len(lake.systems.payroll.tables["payrollResults"])
    loaded = lake.query("select count(*) from raw_payroll.payroll_results")[0][0]
    quarantined = lake.query("select reason, record_key from raw_payroll.quarantine order by 1")
    assert loaded + len(quarantined) == served
    assert [(reason, key == "None") for reason, key in quarantined] == [
        ("Gross_Earnings='1.234': Rescaling Decimal value would cause data loss", False),
        ("missing required field(s) ['Payroll_Result_ID']", True),
    ]
