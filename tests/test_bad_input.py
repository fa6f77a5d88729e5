"""The bad-input corpus of the file feeds: group ERP bulk Parquet extracts and the
regional ERP's CSV drops, and what each bad input gets.

Every case starts from a warehouse that has loaded a small demo enterprise's files,
drops ONE file built in the test from good rows of that enterprise, loads the feed
with the real dlt pipeline and checks the outcome written on its line:

- `error`: the load fails with a message naming the file and the problem, and every
  raw table (rows and content hash, dlt's state included) is as it was before;
- otherwise the file's good rows load (`loaded` new rows) and each bad row is in the
  system's `quarantine` table with its reason (`refused`, one pattern per row), so
  that file rows = loaded + quarantined.

The journal-level cases (an unbalanced journal, an unknown currency, a date outside
the fiscal calendar) need dbt: one extra small run at the end of the module.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingest.erp import erp
from ingest.extracts import ExtractError
from ingest.landing import UnsafeFileName, safe_path
from ingest.pipelines import SOURCES, load, pipeline
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.resources import open_warehouse
from sandbox.api import Enterprise
from sandbox.generate import generate

DBT = str(Path(sys.executable).with_name("dbt"))
SQL = "'; drop table raw_erp.journal_items; --"
SHELL = "$(rm -rf ~) `reboot` && echo pwned > /etc/passwd"


# ---------------------------------------------------------------- the lake under test


class Lake:
    """A data dir with its extracts, warehouse and dlt state."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.extracts = root / "sandbox"
        self.warehouse = root / "warehouse.duckdb"
        self.dlt = root / "dlt"
        self.drops = self.extracts / "regional_erp" / "drops"
        self.bulk = self.extracts / "erp" / "journal_items"

    def load_files(self, system: str) -> None:
        """The file-fed resources only: the ERP's bulk history without its API."""
        if system == "regional_erp":
            load(system, self.extracts, self.warehouse, self.dlt)
            return
        source = erp(extracts_dir=str(self.extracts), base_url="http://127.0.0.1:9")
        info = pipeline("erp", self.warehouse, self.dlt).run(
            source.with_resources("journal_items"), loader_file_format="parquet"
        )
        info.raise_on_failed_jobs()

    def read(self, sql: str, params: list | None = None) -> list[tuple]:
        with open_warehouse(self.warehouse) as con:
            return con.execute(sql, params or []).fetchall()

    def snapshot(self) -> dict[str, tuple]:
        """Rows and a content hash of every raw table, dlt's own tables included."""
        tables = self.read(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where starts_with(table_schema, 'raw_')"
        )
        return {
            name: self.read(f"select count(*), sum(hash(to_json(t))) from {name} as t")[0]
            for (name,) in tables
        }

    def count(self, table: str) -> int:
        return self.read(f"select count(*) from {table}")[0][0]

    def quarantined(self, schema: str, file_name: str) -> list[str]:
        if not self.read(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = 'quarantine'",
            [schema],
        )[0][0]:
            return []
        rows = self.read(
            f"select reason from {schema}.quarantine where file_name = ? order by row_number",
            [file_name],
        )
        return [reason for (reason,) in rows]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A small enterprise whose files are loaded once; each case copies it."""
    lake = Lake(tmp_path_factory.mktemp("bad_input_template"))
    generate(lake.extracts, scale=0.005, seed=11)
    lake.load_files("regional_erp")
    lake.load_files("erp")
    return lake


@pytest.fixture
def lake(template: Lake, tmp_path: Path) -> Lake:
    shutil.copytree(template.root, tmp_path / "lake", symlinks=True)
    return Lake(tmp_path / "lake")


# ---------------------------------------------------------------- good rows, made bad


REGIONAL = "lancamentos_2099-01.csv"
BULK = "2099-001.parquet"


def regional_rows(lake: Lake) -> tuple[list[str], list[list[str]]]:
    """Header and the first 4 lines of a real drop, as a new document LCBAD."""
    header, *lines = (lake.drops / "lancamentos_2024-04.csv").read_text("utf-8").splitlines()
    columns = header.split(";")
    rows = [line.split(";") for line in lines[:4]]
    for row in rows:
        row[columns.index("numero_lancamento")] = "LCBAD"
    return columns, rows


def regional_csv(
    edit: Callable[[list[str], list[list[str]]], None] = lambda c, r: None,
    encoding: str = "utf-8",
    bom: bytes = b"",
) -> Callable[[Lake], None]:
    def make(lake: Lake) -> None:
        columns, rows = regional_rows(lake)
        edit(columns, rows)
        text = io.StringIO()
        csv.writer(text, delimiter=";", lineterminator="\n").writerows([columns, *rows])
        (lake.drops / REGIONAL).write_bytes(bom + text.getvalue().encode(encoding))

    return make


def cell(row: int, column: str, value: str) -> Callable[[list[str], list[list[str]]], None]:
    def edit(columns: list[str], rows: list[list[str]]) -> None:
        rows[row][columns.index(column)] = value

    return edit


def bulk_rows(lake: Lake) -> list[dict]:
    """The first 4 items of a real bulk extract, as a new document BAD."""
    table = pq.read_table(next(iter(sorted(lake.bulk.glob("*.parquet")))))
    rows = table.slice(0, 4).to_pylist()
    for row in rows:
        row["AccountingDocument"] = "BAD"
    return rows


def bulk_parquet(
    edit: Callable[[list[dict]], None] = lambda r: None,
    types: dict[str, pa.DataType] | None = None,
) -> Callable[[Lake], None]:
    def make(lake: Lake) -> None:
        rows = bulk_rows(lake)
        edit(rows)
        schema = pq.read_schema(next(iter(sorted(lake.bulk.glob("*.parquet")))))
        for name, kind in (types or {}).items():
            schema = schema.set(schema.get_field_index(name), pa.field(name, kind))
        if types:
            for row in rows:
                for name, kind in types.items():
                    if pa.types.is_string(kind) and row[name] is not None:
                        row[name] = str(row[name])
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), lake.bulk / BULK)

    return make


def item(row: int, column: str, value: object) -> Callable[[list[dict]], None]:
    def edit(rows: list[dict]) -> None:
        rows[row][column] = value

    return edit


def both(*edits: Callable) -> Callable:
    def edit(*args: object) -> None:
        for one in edits:
            one(*args)

    return edit


def write(name: str, content: bytes, folder: str = "drops") -> Callable[[Lake], None]:
    def make(lake: Lake) -> None:
        target = lake.drops if folder == "drops" else lake.bulk
        (target / name).write_bytes(content)

    return make


def escaping_symlink(lake: Lake) -> None:
    outside = lake.root / "outside.csv"
    shutil.copy(lake.drops / "lancamentos_2024-04.csv", outside)
    (lake.drops / REGIONAL).symlink_to(outside)


def truncated_parquet(lake: Lake) -> None:
    bulk_parquet()(lake)
    data = (lake.bulk / BULK).read_bytes()
    (lake.bulk / BULK).write_bytes(data[: len(data) // 2])


def latin1_accent(columns: list[str], rows: list[list[str]]) -> None:
    rows[0][columns.index("historico")] = "Lançamento de abertura"


# ---------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    system: str
    make: Callable[[Lake], None]
    loaded: int = 0  # new rows in the raw table
    refused: list[str] = field(default_factory=list)  # reason patterns, in file order
    error: str | None = None  # the load fails with this (pattern), nothing changes
    file: str = ""


R, E = "regional_erp", "erp"
CORPUS: dict[str, Case] = {
    # ---- regional ERP CSV drops
    "csv: a good drop loads whole": Case(R, regional_csv(), loaded=4),
    "csv: a line with an extra field": Case(
        R,
        regional_csv(lambda c, r: r[1].append("extra")),
        loaded=3,
        refused=["malformed CSV line: 15 fields, expected 14"],
    ),
    "csv: a line cut short": Case(
        R,
        regional_csv(lambda c, r: r.__setitem__(2, r[2][:5])),
        loaded=3,
        refused=["malformed CSV line: 5 fields, expected 14"],
    ),
    "csv: latin-1, not UTF-8": Case(
        R, regional_csv(latin1_accent, encoding="latin-1"), error="not UTF-8 .* re-deliver"
    ),
    "csv: UTF-16 with its byte-order mark": Case(
        R, regional_csv(latin1_accent, encoding="utf-16"), loaded=4
    ),
    "csv: UTF-8 with a byte-order mark": Case(
        R, regional_csv(latin1_accent, bom=codecs.BOM_UTF8), loaded=4
    ),
    "csv: a line number that is not a number": Case(
        R, regional_csv(cell(0, "linha", "um")), loaded=3, refused=['linha="um": not a int32']
    ),
    "csv: an amount that is not a number": Case(
        R,
        regional_csv(cell(1, "valor_moeda", "doze")),
        loaded=3,
        refused=['valor_moeda="doze": not a number'],
    ),
    "csv: a huge amount": Case(
        R,
        regional_csv(cell(1, "valor_moeda", "123456789012345678901,00")),
        loaded=3,
        refused=["valor_moeda=.*: amount out of range for decimal128\\(18, 2\\)"],
    ),
    "csv: an amount with too many decimals": Case(
        R,
        regional_csv(cell(1, "debito_brl", "10,005")),
        loaded=3,
        refused=['debito_brl="10,005": more than 2 decimals'],
    ),
    "csv: a negative debit": Case(
        R,
        regional_csv(cell(2, "debito_brl", "-5,00")),
        loaded=3,
        refused=["debito_brl=-5.00: negative"],
    ),
    "csv: a negative signed amount is a credit, valid": Case(
        R, regional_csv(cell(2, "valor_moeda", "-5,00")), loaded=4
    ),
    "csv: an impossible date": Case(
        R,
        regional_csv(cell(3, "data_lancamento", "31/02/2024")),
        loaded=3,
        refused=['data_lancamento="31/02/2024": not a valid date'],
    ),
    "csv: a date in another format": Case(
        R,
        regional_csv(cell(3, "data_lancamento", "2024-04-01")),
        loaded=3,
        refused=['data_lancamento="2024-04-01": not a valid date'],
    ),
    "csv: an empty file": Case(R, write(REGIONAL, b""), error="empty file"),
    "csv: a header and no lines": Case(R, regional_csv(lambda c, r: r.clear()), loaded=0),
    "csv: a missing column": Case(
        R,
        regional_csv(lambda c, r: [c.pop(8), *(row.pop(8) for row in r)]),
        error="not a readable CSV file.*moeda",
    ),
    "csv: a line sent twice": Case(
        R,
        regional_csv(lambda c, r: r.append(list(r[0]))),
        loaded=4,
        refused=["exact duplicate of row 2 of the file"],
    ),
    "csv: two different lines with one key": Case(
        R,
        regional_csv(lambda c, r: r.append([*r[0][:9], "1,00", *r[0][10:]])),
        loaded=3,
        refused=["appears 2 times with different values"] * 2,
    ),
    "csv: a line without its company": Case(
        R,
        regional_csv(cell(0, "empresa", "")),
        loaded=3,
        refused=[r"missing key column\(s\) \['empresa'\]"],
    ),
    "csv: text that looks like SQL and shell loads as text": Case(
        R,
        regional_csv(both(cell(0, "historico", SQL), cell(1, "historico", SHELL))),
        loaded=4,
    ),
    "csv: a file name that looks like shell loads as a name": Case(
        R, regional_csv(), loaded=4, file="lancamentos_$(reboot);rm -rf.csv"
    ),
    "csv: a file linked from outside the landing folder": Case(
        R, escaping_symlink, error=f"refused file name '{REGIONAL}'"
    ),
    # ---- group ERP bulk Parquet extracts
    "parquet: a good extract loads whole": Case(E, bulk_parquet(), loaded=4),
    "parquet: not Parquet (cut off)": Case(E, truncated_parquet, error="not a readable Parquet"),
    "parquet: an amount column of text": Case(
        E,
        bulk_parquet(
            item(1, "AmountInCompanyCodeCurrency", "doze"),
            types={"AmountInCompanyCodeCurrency": pa.string()},
        ),
        loaded=3,
        refused=['AmountInCompanyCodeCurrency="doze": not a number'],
    ),
    "parquet: an amount with 4 decimals": Case(
        E,
        bulk_parquet(
            item(2, "AmountInTransactionCurrency", Decimal("1.2345")),
            types={"AmountInTransactionCurrency": pa.decimal128(18, 4)},
        ),
        loaded=3,
        refused=["AmountInTransactionCurrency=.*: more than 2 decimals"],
    ),
    "parquet: an amount too large for decimal(18,2)": Case(
        E,
        bulk_parquet(
            item(0, "AmountInTransactionCurrency", Decimal("1e20")),
            types={"AmountInTransactionCurrency": pa.decimal128(38, 2)},
        ),
        loaded=3,
        refused=["amount out of range"],
    ),
    "parquet: a line item number of text": Case(
        E,
        bulk_parquet(item(3, "LedgerGLLineItem", "x"), types={"LedgerGLLineItem": pa.string()}),
        loaded=3,
        refused=['LedgerGLLineItem="x": not a int32'],
    ),
    "parquet: a missing column": Case(
        E,
        lambda lake: pq.write_table(
            pa.Table.from_pylist(bulk_rows(lake)).drop_columns(["PostingDate"]), lake.bulk / BULK
        ),
        error=r"missing columns \['PostingDate'\]",
    ),
    "parquet: an item without its line number": Case(
        E,
        bulk_parquet(item(1, "LedgerGLLineItem", None)),
        loaded=3,
        refused=[r"missing key column\(s\) \['ledger_gl_line_item'\]"],
    ),
    "parquet: an item sent twice": Case(
        E,
        bulk_parquet(lambda rows: rows.append(dict(rows[0]))),
        loaded=4,
        refused=["exact duplicate of row 1 of the file"],
    ),
    "parquet: text that looks like SQL and shell loads as text": Case(
        E,
        bulk_parquet(both(item(0, "DocumentItemText", SQL), item(1, "DocumentItemText", SHELL))),
        loaded=4,
    ),
}


def _file(case: Case) -> str:
    return case.file or (REGIONAL if case.system == R else BULK)


@pytest.mark.parametrize("name", list(CORPUS))
def test_bad_input_gets_an_error_or_a_quarantine_row(lake: Lake, name: str) -> None:
    case = CORPUS[name]
    table = "raw_regional_erp.journal_lines" if case.system == R else "raw_erp.journal_items"
    before = lake.snapshot()
    case.make(lake)
    if case.file:
        (lake.drops / REGIONAL).rename(lake.drops / case.file)
    if case.error:
        # a bulk file the ERP source cannot even open fails before the pipeline step
        with pytest.raises((PipelineStepFailed, ExtractError), match=case.error) as failure:
            lake.load_files(case.system)
        assert _file(case) in str(failure.value)
        assert lake.snapshot() == before  # nothing half-written, dlt state included
        return
    rows = lake.count(table)
    lake.load_files(case.system)
    refused = lake.quarantined(f"raw_{case.system}", _file(case))
    assert lake.count(table) - rows == case.loaded
    assert len(refused) == len(case.refused), refused
    for reason, pattern in zip(refused, case.refused, strict=True):
        assert re.search(pattern, reason), (reason, pattern)
    [(from_file,)] = lake.read(f"select count(*) from {table} where _file_name = ?", [_file(case)])
    assert from_file == case.loaded  # every row of the file: loaded or quarantined


def test_a_key_in_two_bulk_files_of_one_load_is_refused_in_both(lake: Lake) -> None:
    """Which of two files holds a line's current version is unknown: neither is kept
    (dlt's merge would keep one at random), both go to quarantine naming both files."""
    rows = bulk_rows(lake)
    schema = pq.read_schema(next(iter(sorted(lake.bulk.glob("*.parquet")))))
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), lake.bulk / BULK)
    again = [dict(rows[0], DocumentItemText="corrected"), dict(rows[1])]  # one differs
    pq.write_table(pa.Table.from_pylist(again, schema=schema), lake.bulk / "2099-002.parquet")
    before = lake.count("raw_erp.journal_items")
    lake.load_files(E)
    loaded = lake.read(
        "select ledger_gl_line_item, _file_name from raw_erp.journal_items"
        " where accounting_document = 'BAD' order by all"
    )
    assert lake.count("raw_erp.journal_items") - before == 2
    assert loaded == [(rows[2]["LedgerGLLineItem"], BULK), (rows[3]["LedgerGLLineItem"], BULK)]
    both_files = rf"is in 2 files of one load \({BULK}, 2099-002.parquet\)"
    for name in (BULK, "2099-002.parquet"):
        refused = lake.quarantined("raw_erp", name)
        assert len(refused) == 2, refused
        assert all(re.search(both_files, reason) for reason in refused), refused


def test_sql_and_shell_text_is_stored_verbatim_and_runs_nowhere(lake: Lake) -> None:
    CORPUS["csv: text that looks like SQL and shell loads as text"].make(lake)
    lake.load_files(R)
    texts = {
        t
        for (t,) in lake.read(
            "select historico from raw_regional_erp.journal_lines where _file_name = ?", [REGIONAL]
        )
    }
    assert {SQL, SHELL} <= texts
    assert lake.count("raw_erp.journal_items") > 0  # the table the SQL names is still there


def test_a_refused_file_loads_once_it_is_corrected(lake: Lake) -> None:
    regional_csv(latin1_accent, encoding="latin-1")(lake)
    with pytest.raises(PipelineStepFailed, match="not UTF-8"):
        lake.load_files(R)
    regional_csv(latin1_accent)(lake)  # re-delivered in UTF-8 under the same name
    lake.load_files(R)
    [(text,)] = lake.read(
        "select historico from raw_regional_erp.journal_lines where _file_name = ? and linha = 1",
        [REGIONAL],
    )
    assert text == "Lançamento de abertura"


def test_a_name_with_path_traversal_is_refused() -> None:
    folder = Path("/tmp/landing")
    for name in ("../outside.csv", "../../etc/passwd", "/etc/passwd", "drops/../../x.csv", ".."):
        with pytest.raises(UnsafeFileName, match="escapes"):
            safe_path(folder, name)
    assert safe_path(folder, "lancamentos_2024-04.csv") == folder / "lancamentos_2024-04.csv"


# ---------------------------------------------------------------- the journal level (dbt)


def journal(document: str, amounts: tuple[str, str], **changes: object) -> Callable[[Lake], list]:
    """Two items of a new ERP document from a real item, with the given amounts."""

    def rows(lake: Lake) -> list[dict]:
        first = bulk_rows(lake)[0]
        items = []
        for line, amount in enumerate(amounts, start=1):
            value = Decimal(amount)
            items.append(
                first
                | {
                    "AccountingDocument": document,
                    "LedgerGLLineItem": line,
                    "AmountInTransactionCurrency": value,
                    "AmountInCompanyCodeCurrency": value,
                    "DebitCreditCode": "S" if value >= 0 else "H",
                    "TransactionCurrency": first["CompanyCodeCurrency"],
                }
                | changes
            )
        return items

    return rows


JOURNALS = {
    # document: (items, the reason dbt's quarantine gives, or None when it books)
    "UNBALANCED": (journal("UNBALANCED", ("100.00", "-90.00")), "document does not balance"),
    "UNKNOWNCCY": (journal("UNKNOWNCCY", ("5.00", "-5.00"), TransactionCurrency="XYZ"),
                   "unknown currency"),
    "HUGE": (journal("HUGE", ("9999999999999999.99", "-9999999999999999.99")), None),
    "SQLTEXT": (journal("SQLTEXT", ("7.00", "-7.00"), DocumentItemText=SQL), None),
}  # fmt: skip


@pytest.fixture(scope="module")
def journal_run(template: Lake, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The module's one dbt build: the template's enterprise, all its sources, plus an
    ERP extract of bad journals and a regional drop dated before the fiscal calendar."""
    root = tmp_path_factory.mktemp("journals") / "lake"
    shutil.copytree(template.root, root, symlinks=True)
    lake = Lake(root)
    items = [item for make, _ in JOURNALS.values() for item in make(lake)]
    schema = pq.read_schema(next(iter(sorted(lake.bulk.glob("*.parquet")))))
    pq.write_table(pa.Table.from_pylist(items, schema=schema), lake.bulk / BULK)
    regional_csv(
        both(
            lambda c, r: r.__delitem__(slice(2, None)),
            cell(0, "data_lancamento", "01/01/1900"),
            cell(1, "data_lancamento", "01/01/1900"),
            cell(0, "valor_moeda", "3,00"),
            cell(0, "debito_brl", "3,00"),
            cell(0, "credito_brl", "0,00"),
            cell(1, "valor_moeda", "-3,00"),
            cell(1, "debito_brl", "0,00"),
            cell(1, "credito_brl", "3,00"),
        )
    )(lake)
    with Enterprise(lake.extracts) as systems, pytest.MonkeyPatch.context() as env:
        for name, value in systems.env().items():
            env.setenv(name, value)
        for system in SOURCES:
            load(system, lake.extracts, lake.warehouse, lake.dlt)
    build = subprocess.run(
        [
            DBT, "--no-use-colors", "build",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(root / "target"), "--log-path", str(root / "logs"),
        ],
        env={**os.environ, "FINSYNC_DATA_DIR": str(root)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return lake, build.returncode, build.stdout


def test_bad_journals_are_refused_whole_with_their_reason_and_the_build_passes(
    journal_run: tuple,
) -> None:
    lake, returncode, output = journal_run
    assert returncode == 0, output[-3000:]
    refused = dict(
        lake.read(
            "select document_key, min(rejection_reason)"
            " from quarantine.quarantine_gl_journal_lines group by document_key"
        )
    )
    expected = {
        key: reason
        for (key,), reason in (
            (
                lake.read(
                    "select distinct document_key from intermediate.int_gl_journal_lines"
                    " where document_key like ?",
                    [f"%|{document}"],
                )[0],
                reason,
            )
            for document, (_, reason) in JOURNALS.items()
        )
        if reason
    }
    [(old,)] = lake.read(
        "select distinct document_key from intermediate.int_gl_journal_lines"
        " where document_key like '%|LCBAD'"
    )
    assert refused == expected | {old: "posting date outside the fiscal calendar"}
    booked = lake.read(
        "select journal_line_key, line_text from marts.fct_gl_journal_lines"
        " where document_key like '%|SQLTEXT' or document_key like '%|HUGE'"
    )
    assert len(booked) == 4
    assert SQL in {text for _, text in booked}
