"""A source system's table held in memory as Arrow, served as JSON records.

The simulators keep the generated extracts as their own database: a table is
queried by last-change time, changed and deleted in place, so that an
incremental client sees exactly what a real system would show it.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def records(table: pa.Table) -> list[dict[str, Any]]:
    """Vendors' JSON: dates ISO, timestamps ISO UTC with `Z`, decimals as exact strings.
    Formatted by Arrow column by column (4x faster than value by value in Python)."""
    columns = []
    for kind, column in zip(table.schema.types, table.columns, strict=True):
        if pa.types.is_timestamp(kind):  # %S carries the microseconds
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ")
        elif pa.types.is_decimal(kind) or pa.types.is_date(kind):
            column = pc.cast(column, pa.string())
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names).to_pylist()


class Table:
    """Rows with a key and a last-change cursor; reads and writes are thread-safe."""

    def __init__(self, data: pa.Table, key: list[str], cursor: str) -> None:
        self.key = key
        self.cursor = cursor
        self._lock = threading.Lock()
        self._data = data
        self._deleted = data.schema.empty_table()

    @property
    def data(self) -> pa.Table:
        return self._data

    def __len__(self) -> int:
        return self._data.num_rows

    def changed_since(self, since: datetime | None, with_deleted: bool = False) -> pa.Table:
        """Rows changed at or after `since`, in cursor then key order (stable paging)."""
        with self._lock:
            data = self._data
            if with_deleted:
                data = pa.concat_tables(
                    [
                        data.append_column("IsDeleted", pa.array([False] * len(data), pa.bool_())),
                        self._deleted.append_column(
                            "IsDeleted", pa.array([True] * len(self._deleted), pa.bool_())
                        ),
                    ]
                )
        if since is not None:
            data = data.filter(
                pc.greater_equal(
                    data[self.cursor], pa.scalar(since, data.schema.field(self.cursor).type)
                )
            )
        return data.sort_by([(self.cursor, "ascending"), *((k, "ascending") for k in self.key)])

    def max_cursor(self) -> datetime:
        return pc.max(self._data[self.cursor]).as_py()

    def upsert(self, rows: pa.Table) -> None:
        """Insert or replace rows by key."""
        with self._lock:
            rows = rows.select(self._data.schema.names).cast(self._data.schema)
            self._data = pa.concat_tables([self._without(self._data, rows), rows])

    def delete(self, rows: pa.Table) -> None:
        """Remove rows by key; they stay visible as deleted to clients that ask (queryAll)."""
        with self._lock:
            rows = rows.select(self._data.schema.names).cast(self._data.schema)
            self._data = self._without(self._data, rows)
            self._deleted = pa.concat_tables([self._without(self._deleted, rows), rows])

    def _without(self, data: pa.Table, rows: pa.Table) -> pa.Table:
        if len(self.key) == 1:
            keys, theirs = data[self.key[0]], rows[self.key[0]]
        else:
            keys = pc.binary_join_element_wise(
                *(pc.cast(data[k], pa.string()) for k in self.key), "|"
            )
            theirs = pc.binary_join_element_wise(
                *(pc.cast(rows[k], pa.string()) for k in self.key), "|"
            )
        return data.filter(pc.invert(pc.is_in(keys, value_set=theirs)))
