"""dlt resources over extract files: whole tables, and landing folders of drops."""

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


def table_resource(
    name: str, path: Path, reader: Reader, schema: pa.Schema, primary_key: list[str]
) -> DltResource:
    """A master-data table delivered whole: merged on its key, so a re-delivery adds nothing."""

    def rows() -> Iterator[pa.Table]:
        yield snake_case(reader(path, schema))

    return dlt.resource(rows, name=name, primary_key=primary_key, write_disposition="merge")


def drops_resource(
    name: str,
    folder: Path,
    pattern: str,
    reader: Reader,
    schema: pa.Schema,
    primary_key: list[str],
) -> DltResource:
    """Files dropped in a landing folder: only files not loaded before are read.

    The loaded files' hashes live in the resource's dlt state, which dlt commits
    with the same load package as the rows: a crash mid-load loads them again.
    Rows are merged on their key, so a re-delivered file never doubles a row.
    """

    def rows() -> Iterator[pa.Table]:
        loaded = dlt.current.resource_state().setdefault("loaded_files", {})
        for landed in new_files(folder, pattern, loaded):
            table = snake_case(reader(landed.path, schema))
            yield table.append_column("_file_name", pa.array([landed.path.name] * len(table)))
            loaded[landed.sha256] = landed.path.name

    return dlt.resource(rows, name=name, primary_key=primary_key, write_disposition="merge")
