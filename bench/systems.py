"""The demo enterprise's source systems in a process of their own, outside the measurement.

The simulators stand for the vendors' systems: in production their CPU is somebody
else's. Served from inside the measured process they would share its interpreter (and
its GIL) with finsync's dlt client, and the bench would charge finsync for serialising
every page it downloads. The floor and pandas read the extract files and pay nothing for
them either. So the bench serves them from a child of its own, unmeasured, and the
measured finsync process reaches them over loopback like any client.
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType


def _serve(extracts: Path, commands: Connection) -> None:
    from sandbox.api import Enterprise

    with Enterprise(extracts) as systems:
        commands.send(systems.env())
        while (command := commands.recv()) != "stop":
            if command == "advance":
                commands.send((systems.advance_business_day(), systems.erp.today))
        commands.send("stopped")


class ServedEnterprise:
    """`Enterprise` served by a child process: `env()` to reach it, `advance_business_day()`."""

    def __init__(self, extracts: Path) -> None:
        self.extracts = extracts

    def __enter__(self) -> ServedEnterprise:
        context = mp.get_context("spawn")  # a clean interpreter: no state of the bench's
        self._commands, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(self.extracts, theirs), daemon=True)
        self._process.start()
        self._env: dict[str, str] = self._commands.recv()
        return self

    def env(self) -> dict[str, str]:
        return dict(self._env)

    def advance_business_day(self) -> tuple[dict[str, dict[str, int]], date]:
        """One business day passes in every system: records changed, and the ERP's new today."""
        self._commands.send("advance")
        return self._commands.recv()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._commands.send("stop")
        self._commands.recv()
        self._process.join(timeout=30)
