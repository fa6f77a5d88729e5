"""dlt resources over extract files in a folder, loaded once per file content."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.extract.resource import DltResource

from ingest.landing import new_files

Reader = Callable[[Path, pa.Schema], pa.Table]

_NAMING = NamingConvention()


def snake_case(table: pa.Table) -> pa.Table:
    """Rename vendor columns as dlt would, so that key hints name warehouse columns."""
    return table.rename_columns([_NAMING.normalize_identifier(n) for n in table.column_names])


def require_keys(table: pa.Table, primary_key: list[str]) -> pa.Table:
    """Declare key columns non-nullable, as dlt does: a null key fails here, naming the column."""
    fields = [
        field.with_nullable(False) if field.name in primary_key else field for field in table.schema
    ]
    return table.cast(pa.schema(fields))


def files_resource(
    name: str,
    folder: Path,
    pattern: str,
    reader: Reader,
    schema: pa.Schema,
    primary_key: list[str],
) -> DltResource:
    """Files in a folder matching `pattern`: only files not loaded before are read.

    Master data delivered whole is the same case with one file: an unchanged
    re-delivery loads nothing, so a re-run rewrites no raw row.

    The loaded files' hashes live in the resource's dlt state, which dlt commits
    with the same load package as the rows: a crash mid-load loads them again.
    Rows are merged on their key, so a re-delivered file never doubles a row.
    """

    def rows() -> Iterator[pa.Table]:
        loaded = dlt.current.resource_state().setdefault("loaded_files", {})
        for landed in new_files(folder, pattern, loaded):
            table = require_keys(snake_case(reader(landed.path, schema)), primary_key)
            file_name = pa.nulls(len(table), pa.string()).fill_null(landed.path.name)
            yield table.append_column("_file_name", file_name)
            loaded[landed.sha256] = landed.path.name

    return dlt.resource(rows, name=name, primary_key=primary_key, write_disposition="merge")
