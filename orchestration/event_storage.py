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

The event log also opens its databases once (`keep_event_log_engines`). For every event
`SqliteEventLogStorage` creates a SQLAlchemy engine per database it writes (the run's,
and the asset index's for an asset or check event), connects, commits and disposes of the
engine: about 1,000 times a daily run, 7.7 s of a scale-1 daily run's 44 s in a profile
(py-spy; creating engines 2.1 s, connecting with the pragmas above 3.2 s). Dagster has no
setting for its engines, so `SqliteEventLogStorage._connect` is replaced in this process:
each database keeps one engine, whose pool keeps one connection open; the writes and
their commits are Dagster's own, under its lock. The engines close at exit,
beyond the latest KEPT databases, and before `wipe` deletes the runs' files (a kept
connection would write on into a deleted file).
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

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


_engines: OrderedDict[str, Engine] = OrderedDict()
_opened_per_event = SqliteEventLogStorage._connect


def _engine_of(url: str) -> Engine:
    """The process's engine of the database at `url`: one connection kept in its pool (more
    are opened, and closed on return, only if a write nests in another)."""
    with _lock:
        if url in _engines:
            _engines.move_to_end(url)
            return _engines[url]
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=-1,
            # a connection goes back to the pool, and out of it on another thread
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        _engines[url] = engine
        while len(_engines) > KEPT:
            _engines.popitem(last=False)[1].dispose()
        return engine


@contextmanager
def _connect_kept(storage: SqliteEventLogStorage, shard: str) -> Iterator[Connection]:
    """`SqliteEventLogStorage._connect`, on the shard's kept engine instead of a new one."""
    with storage._db_lock:
        engine = _engine_of(storage.conn_string_for_shard(shard))
        if shard not in storage._initialized_dbs:
            storage._initdb(engine)
            storage._initialized_dbs.add(shard)
        with engine.connect() as conn, conn.begin():
            yield conn


def _dispose_engines(under: str = "") -> None:
    """Close the kept engines (of the databases whose URL starts with `under`)."""
    with _lock:
        for url in [url for url in _engines if url.startswith(under)]:
            _engines.pop(url).dispose()


_wiped_with_files_open = SqliteEventLogStorage.wipe


def _wipe_closed(storage: SqliteEventLogStorage) -> None:
    """`SqliteEventLogStorage.wipe`, which deletes the runs' database files, after closing
    their kept engines: a write after it creates a new file instead of going to the old."""
    folder = storage.conn_string_for_shard("").removesuffix(".db")  # its databases' URLs start so
    _dispose_engines(folder)
    _wiped_with_files_open(storage)


def keep_event_log_engines() -> None:
    """Make this process's SQLite event logs keep their engines (idempotent)."""
    if SqliteEventLogStorage._connect is _opened_per_event:
        SqliteEventLogStorage._connect = _connect_kept
        SqliteEventLogStorage.wipe = _wipe_closed
        atexit.register(_dispose_engines)
