"""Read extract files into Arrow tables of their contract schema.

Every feed arrives as files in the vendor's format; reading them into Arrow with
the schema from `sandbox.schemas` makes a wrong type a clear error naming the
file, instead of a silently re-typed column in the warehouse.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq


class ExtractError(ValueError):
    """An extract file does not match its contract."""


def read_parquet(path: Path, schema: pa.Schema) -> pa.Table:
    table = pq.read_table(path)
    return _conform(table, schema, path)


def read_jsonl(path: Path, schema: pa.Schema) -> pa.Table:
    """JSON lines carry dates and amounts as strings (exact decimals): read as text, then cast."""
    as_text = pa.schema([(f.name, pa.string() if _textual(f.type) else f.type) for f in schema])
    try:
        table = pa_json.read_json(path, parse_options=pa_json.ParseOptions(explicit_schema=as_text))
    except pa.ArrowInvalid as error:
        raise ExtractError(f"{path.name}: malformed JSON lines: {error}") from error
    return _conform(table, schema, path)


def read_regional_csv(path: Path, schema: pa.Schema) -> pa.Table:
    """The regional ERP writes `;`-separated CSV with decimal commas and dd/mm/yyyy dates."""
    types = {
        field.name: pa.timestamp("s") if pa.types.is_date(field.type) else field.type
        for field in schema
    }
    try:
        table = pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(delimiter=";"),
            convert_options=pa_csv.ConvertOptions(
                column_types=types,
                include_columns=schema.names,
                timestamp_parsers=["%d/%m/%Y"],
                decimal_point=",",
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError) as error:
        raise ExtractError(f"{path.name}: {error}") from error
    return _conform(table, schema, path)


def _textual(kind: pa.DataType) -> bool:
    return pa.types.is_decimal(kind) or pa.types.is_temporal(kind)


def _conform(table: pa.Table, schema: pa.Schema, path: Path) -> pa.Table:
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ExtractError(f"{path.name}: missing columns {missing}")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise ExtractError(f"{path.name}: does not match its schema: {error}") from error
