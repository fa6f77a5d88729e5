"""The secret behind employees' pseudonymous keys, and the dbt-duckdb plugin that hands it to dbt.

An `employee_key` is HMAC-SHA256(key, worker id). Worker ids are sequential, so an
unkeyed hash, or one keyed with a value in the repository, is a lookup table away from
the id: the key must be a secret. It comes from `FINSYNC_PSEUDONYM_KEY`; without it
(the demo) a random key is generated once into the data dir (git-ignored, mode 0600).

dbt sees the key only as two DuckDB session variables that this plugin sets on every
connection dbt opens (the profile's `plugins:`): no SQL text, compiled file, log line
or view definition ever holds it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.paths import Paths

ENV = "FINSYNC_PSEUDONYM_KEY"
FILE_NAME = "pseudonym.key"
# the session variables the dbt macro `pseudonymize()` reads
INNER, OUTER = "finsync_pseudonym_inner", "finsync_pseudonym_outer"
_BLOCK = 64  # SHA-256 block size: HMAC pads its key to it


def pseudonym_key(data_dir: Path) -> bytes:
    """The configured key, or the demo's own, created on first use.

    Written under a temporary name and linked into place, so two processes that
    start at once agree on one key and never read a half-written file."""
    configured = os.environ.get(ENV)
    if configured:
        return configured.encode()
    path = data_dir / FILE_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{FILE_NAME}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()


def hmac_pads(key: bytes) -> tuple[str, str]:
    """HMAC's inner and outer padded keys (RFC 2104), hex: with them SQL computes
    sha256(outer || sha256(inner || message)), which is HMAC-SHA256(key, message)."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()


class Plugin(BasePlugin):
    """Sets the HMAC pads as session variables on dbt's connection and on each cursor
    (DuckDB variables belong to one connection)."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._pads = hmac_pads(pseudonym_key(Paths.from_env().data))

    def configure_connection(self, conn: Any) -> None:
        self._set(conn)

    def configure_cursor(self, cursor: Any) -> None:
        self._set(cursor)

    def _set(self, conn: Any) -> None:
        inner, outer = self._pads
        conn.execute(f"set variable {INNER} = ?", [inner])
        conn.execute(f"set variable {OUTER} = ?", [outer])
