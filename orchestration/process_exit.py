"""A finsync process ends without the interpreter's last garbage collections.

A run's process ends holding about half a million Python objects (Dagster, dlt, Pandera,
dbt's manifest), and dbt's about 180,000. At exit CPython tears its modules down and
collects the cycles that leaves: 1.3-1.4 s of every finsync process here, and 0.5 s of
every dbt invocation, freeing memory the OS takes back at once anyway. `gc.freeze`, run
as an exit handler, moves every object out of the collector's sight, so that teardown
frees what reference counts free and collects nothing.

Everything that must happen at exit still does: exit handlers run whatever their order
(logging's flush, the SQLite connections `event_storage` keeps open, weakref finalizers),
and finsync closes its DuckDB connections itself. What is skipped is `__del__` of objects
in reference cycles, which Python never promises at exit.
"""

from __future__ import annotations

import atexit
import gc


def exit_without_collecting() -> None:
    """Freeze the heap at this process's exit (idempotent)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
