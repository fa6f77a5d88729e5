"""Ingest: re-deliveries, drops and refused files (dlt into DuckDB, no Dagster), and
the facts each raw asset's materialization reports."""

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from dagster_dlt import DagsterDltResource
from dlt.pipeline.exceptions import PipelineStepFailed

from ingest.erp import JOURNAL_CHANGES, JOURNAL_KEY
from ingest.landing import UnsafeFileName, safe_path
from ingest.pipelines import SOURCES, load, pipeline
from orchestration.checks.schemas import JOURNAL_VERSIONS, RAW, latest_versions
from orchestration.ingest import raw_assets
from orchestration.paths import Paths
from orchestration.resources import open_warehouse
from sandbox.api import Enterprise
from sandbox.generate import generate
from tests.conftest import query

RAW_JOURNALS = next(c for c in RAW if (c.schema, c.table) == ("raw_erp", "journal_items"))


class Lake:
    def __init__(self, root: Path) -> None:
        self.extracts = root / "sandbox"
        self.warehouse = root / "warehouse.duckdb"
        self.dlt = root / "dlt"
        self.drops = self.extracts / "regional_erp" / "drops"
        self.systems: Enterprise | None = None  # the simulated APIs, while they serve

    def load(self, system: str):
        return load(system, self.extracts, self.warehouse, self.dlt)

    def count(self, table: str) -> int:
        with open_warehouse(self.warehouse) as con:
            return con.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lake]:
    lake = Lake(tmp_path)
    generate(lake.extracts, scale=0.005, seed=11)
    with Enterprise(lake.extracts) as systems:
        for name, value in systems.env().items():
            monkeypatch.setenv(name, value)
        lake.systems = systems
        yield lake


def test_reloading_unchanged_extracts_loads_nothing(lake: Lake) -> None:
    first = {system: lake.load(system) for system in SOURCES}
    counts = lake.count("raw_erp.journal_items"), lake.count("raw_regional_erp.journal_lines")
    again = {system: lake.load(system) for system in SOURCES}
    assert all(info.loads_ids for info in first.values())
    assert [system for system, info in again.items() if info.loads_ids] == []
    assert (
        lake.count("raw_erp.journal_items"),
        lake.count("raw_regional_erp.journal_lines"),
    ) == counts


def test_a_drop_delivered_twice_under_another_name_is_loaded_once(lake: Lake) -> None:
    lake.load("regional_erp")
    before = lake.count("raw_regional_erp.journal_lines")
    shutil.copy(
        lake.drops / "lancamentos_2024-04.csv", lake.drops / "lancamentos_2024-04_resent.csv"
    )
    info = lake.load("regional_erp")
    assert info.loads_ids == []
    assert lake.count("raw_regional_erp.journal_lines") == before > 0


def _staged(lake: Lake) -> set[str]:
    """The regional tables dlt staged to merge them (its `_staging` dataset)."""
    with open_warehouse(lake.warehouse) as con:
        rows = con.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'raw_regional_erp_staging'"
        ).fetchall()
    return {name for (name,) in rows}


def test_a_corrected_drop_replaces_its_rows_instead_of_adding_them(lake: Lake) -> None:
    lake.load("regional_erp")
    assert _staged(lake) == set()  # a first load appends: there is nothing to merge with
    before = lake.count("raw_regional_erp.journal_lines")
    drop = lake.drops / "lancamentos_2024-05.csv"
    header, first, *rest = drop.read_text(encoding="utf-8").splitlines()
    columns = header.split(";")
    fields = first.split(";")
    fields[columns.index("historico")] = "corrigido"
    drop.write_text("\n".join([header, ";".join(fields), *rest]) + "\n", encoding="utf-8")
    lake.load("regional_erp")
    with open_warehouse(lake.warehouse) as con:
        corrected = con.execute(
            "select count(*) from raw_regional_erp.journal_lines where historico = 'corrigido'"
        ).fetchone()[0]
    assert lake.count("raw_regional_erp.journal_lines") == before
    assert corrected == 1
    assert "journal_lines" in _staged(lake)  # the correction was merged


def test_a_journal_line_in_the_bulk_files_and_the_api_of_one_load_keeps_its_latest_change(
    lake: Lake,
) -> None:
    """The ERP reverses an invoice after its bulk extract was cut: the first load brings
    the invoice's lines from both the files and the API. raw_erp.journal_items is the log
    of versions: it holds both, once each, and its latest version (what staging, the
    contract and the checkpoints read) is the API's, changed later."""
    lake.systems.advance_business_day()
    api = lake.systems.erp.tables["JournalEntryItems"].data
    reversed_lines = api.filter(pc.field("IsReversed")).to_pylist()
    assert len(reversed_lines) >= 2
    lake.load("erp")
    keys = {
        (r["CompanyCode"], r["FiscalYear"], r["AccountingDocument"], r["LedgerGLLineItem"])
        for r in reversed_lines
    }
    bulk = pq.read_table(lake.extracts / "erp" / "journal_items").select(list(JOURNAL_KEY))
    assert keys <= {tuple(row.values()) for row in bulk.to_pylist()}  # in the files too
    latest = latest_versions("raw_erp.journal_items", RAW_JOURNALS.key, JOURNAL_VERSIONS)
    columns = (
        "company_code, fiscal_year, accounting_document, ledger_gl_line_item,"
        " last_change_date_time, is_reversed, _file_name"
    )
    documents = [sorted({key[2] for key in keys})]
    with open_warehouse(lake.warehouse) as con:
        versions = con.execute(
            f"select {columns} from raw_erp.journal_items"
            " where accounting_document in (select unnest(?))",
            documents,
        ).fetchall()
        loaded = con.execute(
            f"select {columns} from ({latest}) where accounting_document in (select unnest(?))",
            documents,
        ).fetchall()
        (lines, keys_in_raw, latest_rows) = con.execute(
            "select count(*), count(distinct (company_code, fiscal_year, accounting_document,"
            f" ledger_gl_line_item)), (select count(*) from ({latest}))"
            " from raw_erp.journal_items"
        ).fetchone()
    versions = [row for row in versions if row[:4] in keys]
    loaded = [row for row in loaded if row[:4] in keys]
    assert len(versions) == 2 * len(keys)  # the file's version and the API's, once each
    assert sum(1 for row in versions if row[6] is not None) == len(keys)
    assert len(loaded) == len(keys)  # one latest version per line
    assert {(r[4], r[5], r[6]) for r in loaded} == {
        (reversed_lines[0]["LastChangeDateTime"], True, None)
    }
    assert lines == keys_in_raw + len(keys)  # no other key has two versions
    assert latest_rows == keys_in_raw
    schema = pipeline("erp", lake.warehouse, lake.dlt).default_schema
    assert schema.tables["journal_items"]["write_disposition"] == "append"


def test_a_file_name_escaping_the_landing_folder_is_refused(lake: Lake, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    shutil.copy(lake.drops / "lancamentos_2024-04.csv", outside)
    (lake.drops / "lancamentos_9999-99.csv").symlink_to(outside)
    with pytest.raises(UnsafeFileName, match="escapes"):
        safe_path(lake.drops, "../../outside.csv")
    with pytest.raises(PipelineStepFailed, match="refused file name 'lancamentos_9999-99.csv'"):
        lake.load("regional_erp")


def test_a_drop_with_a_wrong_type_quarantines_that_row_naming_the_file_and_loads_the_rest(
    lake: Lake,
) -> None:
    lake.load("regional_erp")
    before = lake.count("raw_regional_erp.journal_lines")
    header, first, *rest = (lake.drops / "lancamentos_2024-06.csv").read_text().splitlines()
    fields = first.split(";")
    fields[header.split(";").index("valor_moeda")] = "doze"
    bad = lake.drops / "lancamentos_2026-04.csv"
    bad.write_text("\n".join([header, ";".join(fields), *rest]) + "\n", encoding="utf-8")
    lake.load("regional_erp")
    with open_warehouse(lake.warehouse) as con:
        refused = con.execute(
            "select file_name, row_number, reason from raw_regional_erp.quarantine"
        ).fetchall()
        loaded = con.execute(
            "select count(*) from raw_regional_erp.journal_lines"
            " where _file_name = 'lancamentos_2026-04.csv'"
        ).fetchone()[0]
    assert [(name, row) for name, row, _ in refused] == [("lancamentos_2026-04.csv", 2)]  # line 2
    assert "doze" in refused[0][2]
    # the copied rows keep their keys: they merge onto June's, none is lost or doubled
    assert loaded == len(rest)
    assert lake.count("raw_regional_erp.journal_lines") == before


# ---------------------------------------------------------------- what each load reports


def test_every_raw_load_reports_rows_quarantine_retries_and_source_last_change(
    paths: Paths, main_run: dg.ExecuteInProcessResult
) -> None:
    events = [
        e
        for e in main_run.get_asset_materialization_events()
        if e.asset_key.path[0].startswith("raw_")
    ]
    systems = {e.asset_key.path[0].removeprefix("raw_") for e in events}
    assert systems == set(SOURCES)
    quarantined = {}
    for system in systems:
        if query(
            paths,
            f"select count(*) from duckdb_tables() where schema_name = 'raw_{system}'"
            " and table_name = 'quarantine'",
        )[0][0]:
            quarantined |= {
                (system, resource): n
                for resource, n in query(
                    paths, f"select resource, count(*) from raw_{system}.quarantine group by all"
                )
            }
    loaded = set()
    for event in events:
        facts = event.materialization.metadata
        system, resource = event.asset_key.path[0].removeprefix("raw_"), event.asset_key.path[-1]
        assert {"rows_quarantined", "retries", "source_last_change"} <= facts.keys(), resource
        assert facts["retries"].value >= 0
        assert facts["rows_quarantined"].value == quarantined.get((system, resource), 0)
        assert facts["source_last_change"].value[:2] == "20", resource  # a real time
        if "rows_loaded" in facts:
            loaded.add(system)
            table = "journal_items" if resource == JOURNAL_CHANGES else resource
            rows = query(paths, f"select count(*) from raw_{system}.{table}")[0][0]
            assert facts["rows_loaded"].value == rows, resource  # the first load of each
    assert loaded == set(SOURCES)


def test_a_load_with_retries_and_bad_rows_reports_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Dagster materialization of the payroll load: two 503s, three bad records."""
    paths = Paths(tmp_path)
    generate(paths.extracts, scale=0.005, seed=11)
    with Enterprise(paths.extracts) as systems:
        for name, value in systems.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.1")
        payroll = systems.payroll
        payroll.inject("error", "Finsync_Payroll_Results", times=2)
        payroll.inject("edit", "Finsync_Payroll_Results", edit=_three_bad_records)
        asset = next(a for a in raw_assets(paths) if a.op.name == "load_payroll")
        with dg.instance_for_test() as instance:
            result = dg.materialize(
                [asset], resources={"dlt": DagsterDltResource()}, instance=instance
            )
    facts = {
        e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }
    results = payroll.tables["payrollResults"]
    assert facts["payroll_results"]["rows_loaded"] == len(results) - 3
    assert facts["payroll_results"]["rows_quarantined"] == 3
    assert facts["payroll_results"]["retries"] == 2
    assert facts["payroll_results"]["source_last_change"] == str(results.max_cursor())
    assert facts["workers"]["rows_loaded"] == len(payroll.tables["workers"])
    assert facts["workers"]["rows_quarantined"] == 0


def _three_bad_records(body: bytearray) -> None:
    """The first load is the payroll results report (CSV): three of its rows go bad."""
    lines = body.decode().split("\n")
    header = next(csv.reader([lines[0]]))
    rows = [next(csv.reader([line])) for line in lines[1:4]]
    rows[0][header.index("Gross_Earnings")] = "one thousand"
    rows[1][header.index("Employer_Taxes")] = "1.234"
    rows[2][header.index("Last_Updated")] = ""
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    body[:] = "\n".join([lines[0], out.getvalue().rstrip("\n"), *lines[4:]]).encode()
