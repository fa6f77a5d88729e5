"""Write an export file so that a reader never sees half of it, and only when it changed."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import duckdb

FORMATS = {
    "csv": "(format csv, header true)",
    "parquet": "(format parquet, compression zstd)",
}


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
