"""Row ids for the Arrow tables ingest hands to dlt, made in one numpy pass.

dlt gives every row of a raw table a random `_dlt_id`. For dicts its normalizer does so
as it goes; for Arrow tables only with `add_dlt_id`, which rereads and rewrites every
load file, a Python string per row (ERP at scale 3: normalize 5.6-9 s with it, 0.1 s
without). So `.dlt/config.toml` turns that off and ingest adds the column itself:
warehouses built before keep their `_dlt_id` NOT NULL, and the quarantine tables, which
take both the API's Arrow rows and the files' dicts, get an id on every row.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa

DLT_ID = "_dlt_id"
DLT_LOAD_ID = "_dlt_load_id"
_BYTES = 8  # 16 hex digits: 64 random bits a row
# each byte's two hex digits, so that one gather spells a whole buffer
_HEX_PAIRS = np.frombuffer(b"".join(b"%02x" % byte for byte in range(256)), np.uint16)


def row_ids(n: int) -> pa.Array:
    """`n` random ids, as text of 16 hex digits, built from a buffer (no Python string)."""
    raw = np.frombuffer(os.urandom(_BYTES * n), np.uint8)
    chars = _HEX_PAIRS[raw]
    offsets = np.arange(0, 2 * _BYTES * n + 1, 2 * _BYTES, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chars)])


def with_row_ids(table: pa.Table) -> pa.Table:
    """`table` with `_dlt_load_id` and `_dlt_id` columns, in dlt's order and declared not
    null as dlt declares them. The load id is a placeholder: dlt puts the load's own in
    its place, so a table made before this module keeps its column order and its load
    files are taken as they are, not rewritten to reorder them."""
    n = len(table)
    empty = pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(np.zeros(n + 1, np.int32)), pa.py_buffer(b"")]
    )
    return table.append_column(
        pa.field(DLT_LOAD_ID, pa.string(), nullable=False), empty
    ).append_column(pa.field(DLT_ID, pa.string(), nullable=False), row_ids(n))
