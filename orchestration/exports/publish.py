"""Write an export file so that a reader never sees half of it."""

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


def publish(
    con: duckdb.DuckDBPyConnection,
    query: str,
    target: Path,
    verify: Callable[[Path], None] | None = None,
) -> dict[str, object]:
    """COPY `query` to a temporary name beside `target`, then rename it into place.

    The rename is atomic on one file system. Returns the file's row count and
    sha256, which the asset records so that a reader can verify what it got.
    `verify` sees the written file before it is published and raises to refuse it:
    the previous file then stays in place, and the partial one is removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    options = FORMATS[target.suffix.lstrip(".")]
    rows = con.execute(f"copy ({query}) to '{partial}' {options}").fetchone()[0]
    try:
        if verify:
            verify(partial)
    except BaseException:
        partial.unlink()
        raise
    os.replace(partial, target)
    with target.open("rb") as written:
        sha256 = hashlib.file_digest(written, "sha256").hexdigest()
    return {"rows": rows, "sha256": sha256, "path": str(target)}
