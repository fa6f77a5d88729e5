"""Read extract files into Arrow tables of their contract schema, refusing bad rows.

Every feed arrives as files in the vendor's format; reading them with the schema
from `sandbox.schemas` decides, row by row, what keeps the contract:

- a file that cannot be read as its format (not UTF-8, not Parquet, empty, a
  missing column) raises `ExtractError` naming the file: nothing of it loads;
- a row that can be read but breaks the contract (a value of the wrong type, an
  amount that does not fit `decimal(18,2)` or has more decimals, an impossible
  date, a CSV line with the wrong number of fields) is refused with its reason,
  and the file's other rows load.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq


class ExtractError(ValueError):
    """An extract file that cannot be read as its contract says."""


@dataclass(frozen=True)
class Refusal:
    """A source row that breaks the contract: its line or row number in the file
    (1-based, counting a CSV header), why, and the row as the file gave it."""

    row_number: int | None
    reason: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Extract:
    rows: pa.Table  # the rows that keep the contract, in the contract's types
    row_numbers: list[int]  # each kept row's number in the file
    refused: list[Refusal]


def read_parquet(path: Path, schema: pa.Schema) -> Extract:
    """The group ERP's bulk extracts: types come with the file, so a column of the
    wrong type is checked value by value. Only the contract's columns are read."""
    try:
        file = pq.ParquetFile(path)
        table = file.read([n for n in schema.names if n in file.schema_arrow.names])
    except (pa.ArrowInvalid, OSError) as error:
        raise ExtractError(f"{path.name}: not a readable Parquet file: {error}") from error
    return _conform(table, schema, path, list(range(1, len(table) + 1)))


def read_regional_csv(path: Path, schema: pa.Schema) -> Extract:
    """The regional ERP writes `;`-separated UTF-8 CSV with decimal commas and
    dd/mm/yyyy dates. A UTF-16 file announced by its byte-order mark is read as
    such; anything else that is not UTF-8 is refused whole (a guess would garble
    names and amounts)."""
    data = _utf8(path)
    if not data.strip():
        raise ExtractError(f"{path.name}: empty file (not even a header)")
    malformed: list[Refusal] = []

    def refuse_line(row: pa_csv.InvalidRow) -> str:
        malformed.append(
            Refusal(
                row.number,
                f"malformed CSV line: {row.actual_columns} fields, expected {row.expected_columns}",
                {"line": row.text},
            )
        )
        return "skip"

    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(use_threads=False),
            parse_options=pa_csv.ParseOptions(delimiter=";", invalid_row_handler=refuse_line),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in schema.names},
                include_columns=schema.names,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError) as error:
        raise ExtractError(f"{path.name}: not a readable CSV file: {error}") from error
    skipped = {refusal.row_number for refusal in malformed}
    lines = (n for n in itertools.count(2) if n not in skipped)
    numbers = [next(lines) for _ in range(len(table))]
    extract = _conform(_regional_text(table, schema), schema, path, numbers, text=table)
    refused = sorted(malformed + extract.refused, key=lambda r: r.row_number or 0)
    return Extract(extract.rows, extract.row_numbers, refused)


def _utf8(path: Path) -> bytes:
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16").encode("utf-8")
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ExtractError(
            f"{path.name}: not UTF-8 (byte {data[error.start]:#04x} at offset {error.start});"
            " re-deliver the file in UTF-8"
        ) from error
    return data


def _regional_text(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The vendor's text in Arrow's spelling: decimal point, ISO dates (an impossible
    date becomes a value no cast accepts, so its row is refused with the original)."""
    columns = []
    for field in schema:
        column = table.column(field.name)
        if pa.types.is_decimal(field.type):
            column = pc.replace_substring(column, ",", ".")
        elif pa.types.is_date(field.type):
            parsed = pc.strptime(column, "%d/%m/%Y", "s", error_is_null=True)
            # strptime rolls 31/02 over into March: a date must read back as written
            same = pc.equal(pc.strftime(parsed, "%d/%m/%Y"), column)
            column = pc.if_else(
                pc.and_(pc.invert(pc.fill_null(same, False)), pc.is_valid(column)),
                pa.scalar("not a dd/mm/yyyy date"),
                pc.cast(pc.cast(parsed, pa.date32()), pa.string()),
            )
        columns.append(column)
    return pa.table(columns, names=schema.names)


def _conform(
    table: pa.Table,
    schema: pa.Schema,
    path: Path,
    numbers: list[int],
    text: pa.Table | None = None,
) -> Extract:
    """Cast column by column; only a column that fails is cast value by value to find
    its bad rows. `numbers` are the rows' numbers in the file; `text` is the file as
    read, for refused rows' payloads."""
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ExtractError(f"{path.name}: missing columns {missing}")
    table = table.select(schema.names)
    source = (table if text is None else text).select(schema.names)
    reasons: dict[int, str] = {}
    columns = [_cast(table.column(f.name), f, reasons, source.column(f.name)) for f in schema]
    typed = pa.table(columns, schema=schema)
    if not reasons:
        return Extract(typed, numbers, [])
    refused = [
        Refusal(numbers[row], reason, source.slice(row, 1).to_pylist()[0])
        for row, reason in sorted(reasons.items())
    ]
    keep = [row not in reasons for row in range(len(table))]
    kept = [n for n, k in zip(numbers, keep, strict=True) if k]
    return Extract(typed.filter(pa.array(keep)), kept, refused)


def _cast(
    column: pa.ChunkedArray, field: pa.Field, reasons: dict[int, str], original: pa.ChunkedArray
) -> pa.ChunkedArray:
    try:
        return column.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    values = column.to_pylist()
    kept = []
    for row, value in enumerate(values):
        try:
            pa.array([value], column.type).cast(field.type)
            kept.append(value)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            shown = json.dumps(original[row].as_py(), default=str)[:60]
            reasons.setdefault(row, f"{field.name}={shown}: {_why(error, field.type)}")
            kept.append(None)
    return pa.chunked_array([pa.array(kept, column.type)]).cast(field.type)


def _why(error: Exception, kind: pa.DataType) -> str:
    """Arrow's cast errors, said the way a controller reads them."""
    message = str(error)
    if pa.types.is_decimal(kind):
        if "precision" in message:
            return f"amount out of range for {kind}"
        if "Rescaling" in message or "data loss" in message:
            return f"more than {kind.scale} decimals"
        return "not a number"
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return "not a valid date"
    return f"not a {kind}"
