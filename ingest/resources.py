"""dlt resources over extract files in a folder, loaded once per file content.

A file's rows that keep the contract load; a row that does not goes to the
system's `quarantine` table with the file, its row number, the reason and the row
itself, so that no valid row waits for a bad neighbour and every source row is
either loaded or quarantined.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dlt
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.common.schema import Schema
from dlt.extract.resource import DltResource

from ingest.api import QUARANTINE_HINTS
from ingest.extracts import Extract, Refusal
from ingest.first_load import first_load_hints
from ingest.landing import new_files
from ingest.row_ids import with_row_ids

Reader = Callable[[Path, pa.Schema], Extract]

_NAMING = NamingConvention()


def snake_case(table: pa.Table) -> pa.Table:
    """Rename vendor columns as dlt would, so that key hints name warehouse columns."""
    return table.rename_columns([_NAMING.normalize_identifier(n) for n in table.column_names])


def keyed_rows(
    table: pa.Table,
    primary_key: list[str],
    row_numbers: list[int],
    non_negative: tuple[str, ...] = (),
    elsewhere: pa.Table | None = None,
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """The rows a merge on `primary_key` can take, and (row index, reason) for the others.

    A row without its whole key cannot be merged. Rows sharing a key within one file
    are ambiguous (dlt would keep one of them at random): exact copies load once and
    the extra copies are refused as duplicates; copies that differ are all refused.
    So are rows whose key is in other files of the same load too (`elsewhere`: such
    keys, their `files` and `file_count`, as `keys_in_several_files` gives them).
    A column that must not be negative (a debit or credit) refuses its negative rows.
    """
    reasons: dict[int, str] = {}
    missing = functools.reduce(pc.or_, (pc.is_null(table.column(k)) for k in primary_key))
    for row in pc.indices_nonzero(missing).to_pylist():
        absent = [k for k in primary_key if table.column(k)[row].as_py() is None]
        reasons[row] = f"missing key column(s) {absent}"
    for name in non_negative:
        negative = pc.fill_null(pc.less(table.column(name), 0), False)
        for row in pc.indices_nonzero(negative).to_pylist():
            reasons.setdefault(row, f"{name}={table.column(name)[row].as_py()}: negative")
    if elsewhere is not None and len(elsewhere):
        indexed = table.select(primary_key).append_column(
            "_row", pa.array(range(len(table)), pa.int64())
        )
        for row in indexed.join(elsewhere, primary_key, join_type="inner").to_pylist():
            key = [row[k] for k in primary_key]
            reasons.setdefault(
                row["_row"],
                f"key {key} is in {row['file_count']} files of one load ({row['files']}):"
                " which holds the current version is unknown",
            )
    counts = table.select(primary_key).group_by(primary_key).aggregate([([], "count_all")])
    repeated = counts.filter(pc.greater(counts.column("count_all"), 1))
    if len(repeated):
        indexed = table.append_column("_row", pa.array(range(len(table)), pa.int64()))
        copies = indexed.join(repeated.drop(["count_all"]), primary_key, join_type="inner")
        by_key: dict[tuple, list[dict]] = defaultdict(list)
        for row in copies.sort_by("_row").to_pylist():
            by_key[tuple(row[k] for k in primary_key)].append(row)
        for key, rows in by_key.items():
            bodies = {
                json.dumps({k: v for k, v in r.items() if k != "_row"}, default=str) for r in rows
            }
            first = rows[0]["_row"]
            for row in rows:
                if len(bodies) > 1:
                    reason = f"key {list(key)} appears {len(rows)} times with different values"
                elif row["_row"] == first:
                    continue
                else:
                    reason = f"exact duplicate of row {row_numbers[first]} of the file"
                reasons.setdefault(row["_row"], reason)
    if not reasons:
        return _keys_required(table, primary_key), []
    keep = pa.array([row not in reasons for row in range(len(table))])
    return _keys_required(table.filter(keep), primary_key), sorted(reasons.items())


def _keys_required(table: pa.Table, primary_key: list[str]) -> pa.Table:
    """Key columns non-nullable, as dlt declares them."""
    fields = [f.with_nullable(f.name not in primary_key) for f in table.schema]
    return table.cast(pa.schema(fields))


def keys_in_several_files(
    files: list[Path], reader: Reader, schema: pa.Schema, primary_key: list[str]
) -> pa.Table | None:
    """The keys that rows of more than one of `files` hold, each with its `files` (names,
    comma-separated) and `file_count`; None for fewer than two files.

    Only the key columns are read (a reader reads no other column than its schema's),
    typed by the contract as the files' rows will be: a key that breaks it is left out.
    A whole history is millions of keys: each is held as a 64-bit hash, and only the
    files with a hash in common are read again to compare their keys themselves. The
    hashes are sorted with their file's number in their lowest bits (one plain sort, a
    third of a stable argsort's time at ten million keys): two files share a hash when
    neighbours agree above those bits and differ in them. The bits given up only add
    suspects, which the comparison of the keys themselves clears."""
    if len(files) < 2:
        return None
    owner_bits = np.uint64((len(files) - 1).bit_length())
    key_schema = pa.schema(f for f in schema if _NAMING.normalize_identifier(f.name) in primary_key)

    def keys(path: Path) -> pa.Table:
        return snake_case(reader(path, key_schema).rows).select(primary_key).drop_null()

    owned = []
    with duckdb.connect() as con:
        for number, path in enumerate(files):
            con.register("file_keys", keys(path))
            (hashed,) = (
                con.execute(f"select hash({', '.join(primary_key)}) from file_keys")
                .fetchnumpy()
                .values()
            )
            con.unregister("file_keys")
            owned.append(np.asarray(hashed, np.uint64) >> owner_bits << owner_bits | number)
    tagged = np.concatenate(owned)
    tagged.sort()
    hashed, owner = tagged >> owner_bits, tagged & ((np.uint64(1) << owner_bits) - 1)
    shared = (hashed[1:] == hashed[:-1]) & (owner[1:] != owner[:-1])
    suspects = sorted(set(owner[1:][shared].tolist()) | set(owner[:-1][shared].tolist()))
    if suspects:
        found = pa.concat_tables(_named(keys(files[n]), files[n].name) for n in suspects)
    else:
        found = _named(keys(files[0]).slice(0, 0), "")
    listed = found.group_by(primary_key).aggregate([("_file", "distinct")])
    several = listed.filter(pc.greater(pc.list_value_length(listed["_file_distinct"]), 1))
    names = several["_file_distinct"].to_pylist()
    return (
        several.select(primary_key)
        .append_column("files", pa.array([", ".join(sorted(n)) for n in names], pa.string()))
        .append_column("file_count", pa.array([len(n) for n in names], pa.int32()))
    )


def _named(keys: pa.Table, name: str) -> pa.Table:
    return keys.append_column("_file", pa.nulls(len(keys), pa.string()).fill_null(name))


def quarantine_rows(
    system: str, resource: str, file_name: str, key: list[str], refused: list[Refusal]
) -> list[dict]:
    return [
        {
            "source_system": system,
            "resource": resource,
            "file_name": file_name,
            "row_number": refusal.row_number,
            "record_key": "|".join(str(refusal.payload.get(k, "")) for k in key),
            "reason": refusal.reason,
            "payload": json.dumps(refusal.payload, default=str, sort_keys=True),
        }
        for refusal in refused
    ]


def _without_merge_hints(schema: Schema, table: str) -> None:
    """A table loaded by merge before it became a log keeps its merge-only column hint
    (`dedup_sort`) in the stored schema, and dlt would warn on every load that it ignores
    it: drop it. The table's rows, one version per key, are a log as they are."""
    for column in schema.tables.get(table, {}).get("columns", {}).values():
        column.pop("dedup_sort", None)


def files_resource(
    name: str,
    folder: Path,
    pattern: str,
    reader: Reader,
    schema: pa.Schema,
    primary_key: list[str],
    non_negative: tuple[str, ...] = (),
    versions: bool = False,
) -> DltResource:
    """Files in a folder matching `pattern`: only files not loaded before are read.

    Master data delivered whole is the same case with one file: an unchanged
    re-delivery loads nothing, so a re-run rewrites no raw row.

    The loaded files' hashes live in the resource's dlt state, which dlt commits
    with the same load package as the rows: a crash mid-load loads them again.
    Rows are merged on their key, so a re-delivered file never doubles a row; a key
    in several files of one load is refused in all of them (which is current is
    unknown). With `versions`, rows are appended instead: the table is the log of every
    version the files brought (the ERP's journal, which its API's changes append to), a
    load costs what it brings rather than a merge against the whole history, and its
    readers keep the latest version of each key (staging; the contract and checkpoints
    over it). A file is still read once, and a key in several files of one load still
    refused.
    """
    vendor_key = [n for n in schema.names if _NAMING.normalize_identifier(n) in primary_key]

    def prepared(path: Path, elsewhere: pa.Table | None) -> tuple[pa.Table, list[Refusal]]:
        """A file's rows as they load, and its refused rows."""
        extract = reader(path, schema)
        table, refused_rows = keyed_rows(
            snake_case(extract.rows), primary_key, extract.row_numbers, non_negative, elsewhere
        )
        refused = list(extract.refused)
        if refused_rows:
            payloads = extract.rows.to_pylist()
            numbers = extract.row_numbers
            refused += [Refusal(numbers[i], why, payloads[i]) for i, why in refused_rows]
        file_name = pa.nulls(len(table), pa.string()).fill_null(path.name)
        return with_row_ids(table.append_column("_file_name", file_name)), refused

    def rows() -> Iterator[pa.Table]:
        stored = dlt.current.source_schema()
        system = stored.name
        if versions:
            _without_merge_hints(stored, name)
        # its rows' keys are unique (keyed_rows): a first load appends (ingest/first_load.py)
        first_load = None if versions else first_load_hints(name, primary_key)
        loaded = dlt.current.resource_state().setdefault("loaded_files", {})
        landed = list(new_files(folder, pattern, loaded))
        elsewhere = keys_in_several_files([f.path for f in landed], reader, schema, primary_key)
        # the next file is read and checked on a thread while dlt writes this one's rows
        # (Arrow and Parquet release the GIL). The ERP's 24 bulk files at scale 10, with
        # keys_in_several_files' sort: 20.6-21.5 s -> 17.0-17.2 s standalone
        with ThreadPoolExecutor(max_workers=1) as reading:
            coming = reading.submit(prepared, landed[0].path, elsewhere) if landed else None
            for number, file in enumerate(landed):
                table, refused = coming.result()
                if number + 1 < len(landed):
                    coming = reading.submit(prepared, landed[number + 1].path, elsewhere)
                yield (
                    dlt.mark.with_hints(table, first_load, create_table_variant=True)
                    if first_load
                    else table
                )
                if refused:
                    bad = quarantine_rows(system, name, file.path.name, vendor_key, refused)
                    yield dlt.mark.with_hints(bad, QUARANTINE_HINTS, create_table_variant=True)
                loaded[file.sha256] = file.path.name

    return dlt.resource(
        rows,
        name=name,
        primary_key=primary_key,
        write_disposition="append" if versions else "merge",
    )
