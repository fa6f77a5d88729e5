"""Write an export file so that a reader never sees half of it, and only when it changed.

Two ways to tell "changed". `publish` compares bytes: its query orders every row, so the
same data gives the same file (the FP&A import files, CSV). `publish_rows` compares rows:
it stores a fingerprint of the rows it wrote in the Parquet file's footer and writes
again only when the warehouse's rows differ from it, so its query need not be ordered
(the reporting datasets: see `orchestration/exports/reporting.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# zstd's level 1 writes files as small as its default level 3 here, faster (scale 10, the
# GL fact's 24 period files: 178 against 181 MB, 8.4 against 9.7 s)
PARQUET = "format parquet, compression zstd, compression_level 1"
FORMATS = {
    "csv": "(format csv, header true)",
    "parquet": f"({PARQUET})",
}
# Bump when how rows are written or fingerprinted changes: files of another format are
# written anew. The DuckDB version is stored beside it, as `hash` may differ between versions.
FINGERPRINT_FORMAT = 2
ROW = "__fingerprinted_row"  # the alias `row_digest` digests
TEXT_SHIFT = 5  # `row_digest` hashes each text column again from this character on


def row_digest(row: str, columns: list[tuple[str, str]]) -> str:
    """SQL of a 64-bit digest of the row `row` (a table alias), whose `columns` are (name,
    DuckDB type): DuckDB's `hash` of the whole row, and of each text column again four
    characters on.

    DuckDB's `hash` of a string longer than twelve bytes loses bits of the characters at
    some offsets in each eight (6 and 7 among them): 'erp|US01|2025|9000002099|2' and
    'erp|US02|2025|9000002090|2' share one, so an edit of two such characters of one text
    can leave a row's hash as it was. Four characters on, the same edit falls on offsets
    whose bits are kept: over every pair of positions in strings of 20, 40 and 64
    characters, no edit of both to printable characters left both hashes equal, while
    `hash` alone missed 54 of those pairs' edits. The second hash costs about a quarter
    more (scale 10, every GL line: 1.06 -> 1.34 s)."""
    shifted = [
        f'substr({row}."{name}", {TEXT_SHIFT})' for name, kind in columns if kind == "VARCHAR"
    ]
    return f"hash({', '.join([row, *shifted])})"


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def publish(
    con: duckdb.DuckDBPyConnection,
    query: str,
    target: Path,
    verify: Callable[[Path], None] | None = None,
) -> dict[str, object]:
    """COPY `query` to a temporary name beside `target`, then rename it into place.

    The rename is atomic on one file system. `query` must order its rows completely
    (by a unique key, or `order by all`): the same data then gives the same bytes, and a
    file whose bytes equal the one on disk is not rewritten, so that republishing an
    unchanged period leaves it alone (its mtime too); a file changed on disk by anyone
    else differs and is replaced. `verify` sees the written file before it is published
    and raises to refuse it: the previous file then stays in place, and the partial one
    is removed.
    Returns the row count, sha256 and whether the file on disk was replaced.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    options = FORMATS[target.suffix.lstrip(".")]
    rows = con.execute(f"copy ({query}) to '{partial}' {options}").fetchone()[0]
    try:
        if verify:
            verify(partial)
        digest = sha256(partial)
        unchanged = target.exists() and sha256(target) == digest
    except BaseException:
        partial.unlink()
        raise
    if unchanged:
        partial.unlink()
    else:
        os.replace(partial, target)
    return {"rows": rows, "sha256": digest, "path": str(target), "rewritten": not unchanged}


def publish_bytes(content: bytes, target: Path) -> bool:
    """Write small files (a manifest, a schema) the same way: temporary name, rename,
    and no rewrite when the bytes on disk are already these. Returns whether it wrote."""
    if target.exists() and target.read_bytes() == content:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, target)
    return True


def fingerprint(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, str]:
    """What `query` gives, as stored in a Parquet footer: its columns (names and types:
    DuckDB's row `hash` sees neither), row count and the sum of each row's `row_digest`,
    an order-free digest of the multiset of rows, with the format and DuckDB version that
    computed them."""
    columns = [(name, kind) for name, kind, *_ in con.execute(f"describe {query}").fetchall()]
    [(rows, digest)] = con.execute(
        f"select count(*), coalesce(sum({row_digest(ROW, columns)}), 0) from ({query}) as {ROW}"
    ).fetchall()
    return {
        "finsync_format": str(FINGERPRINT_FORMAT),
        "finsync_duckdb_version": duckdb.__version__,
        "finsync_columns": json.dumps(columns),
        "finsync_rows": str(rows),
        "finsync_row_hash_sum": str(digest),
    }


def stored_fingerprint(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str] | None:
    """The fingerprint in a Parquet file's footer (read alone, not the rows), or None
    when there is no file or DuckDB cannot read its footer (cut off, not Parquet)."""
    if not path.exists():
        return None
    try:
        found = con.execute(
            "select decode(key), decode(value) from parquet_kv_metadata(?)"
            " where starts_with(decode(key), 'finsync_')",
            [str(path)],
        ).fetchall()
    except duckdb.Error:
        return None
    return dict(found)


@contextmanager
def in_any_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let DuckDB write `publish_rows`' files without keeping the tables' row order, then
    keep it again. A file's rows are compared as a multiset (its fingerprint) and BI orders
    what it reads, so their order serves nobody; an `order` given still orders the file.
    The setting is the database's (DuckDB scopes it globally): `con`'s cursors share it.
    Scale 10, the GL fact's 24 period files two at a time, alternating: 10.0/10.3 ->
    8.8/9.0 s."""
    [(kept,)] = con.execute("select current_setting('preserve_insertion_order')").fetchall()
    con.execute("set preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"set preserve_insertion_order = {str(kept).lower()}")


def publish_rows(
    con: duckdb.DuckDBPyConnection, query: str, target: Path, order: str | None = None
) -> dict[str, object]:
    """COPY `query` to a Parquet file at `target`, unless the file there holds its rows.

    "Holds its rows" is judged by the fingerprint in the file's footer (`fingerprint`:
    columns, row count, sum of row digests, format, DuckDB version) against the same
    fingerprint of `query` in the warehouse, so the rows need no order: a complete sort
    would only serve to give equal bytes. An equal file is left alone (its mtime too); a
    file that differs, lacks the fingerprint or cannot be read is written anew: COPY to a
    temporary name beside it with the fingerprint in its footer, then an atomic rename.
    The fingerprint and the rows are read in one transaction: they are of the same rows.
    `order` (an `order by` list) orders the rows of the file, for tidiness only.
    A file whose data pages were changed in place but whose footer was kept is not
    detected: reading every row back would cost what the write costs.
    Returns the row count, the sha256 of the file on disk and whether it was replaced.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    stored = stored_fingerprint(con, target)  # before: a failed read aborts a transaction
    con.begin()
    try:
        wanted = fingerprint(con, query)
        unchanged = stored == wanted
        if not unchanged:
            metadata = ", ".join(f"{key}: ?" for key in wanted)
            ordered = f"{query} order by {order}" if order else query
            [(rows,)] = con.execute(
                f"copy ({ordered}) to '{partial}' ({PARQUET}, kv_metadata {{{metadata}}})",
                list(wanted.values()),
            ).fetchall()
            if rows != int(wanted["finsync_rows"]):  # one snapshot: cannot differ
                raise RuntimeError(f"{target}: wrote {rows} rows of {wanted['finsync_rows']}")
        con.commit()
    except BaseException:
        con.rollback()
        partial.unlink(missing_ok=True)
        raise
    if not unchanged:
        os.replace(partial, target)
    return {
        "rows": int(wanted["finsync_rows"]),
        "sha256": sha256(target),
        "path": str(target),
        "rewritten": not unchanged,
    }
