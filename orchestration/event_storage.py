"""Dagster's local SQLite instance without fsyncs on every event.

The local instance (run history, event logs, asset index) is SQLite in WAL mode, opened
through SQLAlchemy with no connection pool: Dagster opens a connection for each write and
closes it after. A build writes about 1,700 events (a materialization or check result and
its planned event per asset and check, one per exported period), an asset event in two
databases (the run's log and the asset index). With SQLite's defaults every commit fsyncs
the WAL (`synchronous=FULL`), and every close, being the last connection to the file,
checkpoints the WAL into the database and fsyncs it again: 5-14 ms an event on this disk,
a third of `make run`'s wall time in a profile (py-spy), whatever the data's size.

So, for every SQLite database in WAL mode that SQLAlchemy opens in this process:
- `synchronous=NORMAL`, SQLite's recommended setting for WAL: a commit is durable
  against a crash of the process, the database stays consistent on any failure, and a
  power loss or OS crash may roll back only the commits since the last checkpoint;
- one more connection to it stays open (the latest KEPT databases), so that a write's
  close is not the last one: the WAL is checkpointed when it reaches SQLite's
  autocheckpoint size instead, and when this process closes the kept connections at exit.
Dagster has no setting for either; the listener is SQLAlchemy's documented way to set
SQLite pragmas per connection.
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
from collections import OrderedDict

from sqlalchemy import event
from sqlalchemy.engine import Engine

KEPT = 16  # databases held open: the instance's own, and the latest runs' logs

_kept: OrderedDict[str, sqlite3.Connection] = OrderedDict()
_lock = threading.Lock()


def _main_file(connection: sqlite3.Connection) -> str:
    return next(row[2] for row in connection.execute("pragma database_list") if row[1] == "main")


def _keep_open(path: str) -> None:
    with _lock:
        if path in _kept:
            _kept.move_to_end(path)
            return
        kept = sqlite3.connect(path, check_same_thread=False)
        # a read maps the WAL index; autocommit reads hold no snapshot after they return
        kept.execute("select count(*) from sqlite_master").fetchall()
        _kept[path] = kept
        while len(_kept) > KEPT:
            _kept.popitem(last=False)[1].close()


def _on_connect(connection: object, _record: object) -> None:
    if not isinstance(connection, sqlite3.Connection):
        return
    [(mode,)] = connection.execute("pragma journal_mode").fetchall()
    if mode != "wal":
        return
    connection.execute("pragma synchronous = normal")
    if path := _main_file(connection):  # empty for an in-memory database
        _keep_open(path)


def _close_kept() -> None:
    with _lock:
        while _kept:
            _kept.popitem()[1].close()


def commit_without_fsync() -> None:
    """Install the listener for this process (idempotent)."""
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
        atexit.register(_close_kept)
