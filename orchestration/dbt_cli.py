"""`finsync-dbt`: dbt's command line as Dagster runs it, without the work dbt throws away.

dbt turns every event it fires into a protobuf message, then has each logger format the
message (JSON for the stdout dagster-dbt reads, text for the log file) before Python's
logging drops it below the logger's level. About 20 events fire per node, most at debug
level, while both loggers write info and above: the messages and lines of the debug ones
are made only to be dropped, under the GIL that dbt's threads share.

`unheard_events_skipped` lets an event through only if a logger would write it or a
callback could use it. What dbt writes is unchanged, line for line: an event at warn or
error level, a warning that `--warn-error` may turn into an error, a print event (written
at any level) and every event of a debug run still go the whole way.
"""

from __future__ import annotations

import sys
from functools import wraps

from dbt.cli.main import cli
from dbt.tracking import track_behavior_change_warn
from dbt_common.events.base_types import BaseEvent, EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.logger import PRINT_EVENT_NAMES, _log_level_map

from orchestration.process_exit import exit_without_collecting

ALWAYS_HEARD = (EventLevel.WARN, EventLevel.ERROR)  # `--warn-error` may make a warning fail
# dbt's own callback, which reads behaviour-change warnings only
CALLBACKS_BELOW_WARN_IGNORE = {track_behavior_change_warn}


def heard(manager: EventManager, event: BaseEvent, level: EventLevel | None) -> bool:
    """Would a logger of `manager` write `event` at `level` (None: the event's own), or a
    callback read it?"""
    level = level or event.level_tag()
    if level in ALWAYS_HEARD or type(event).__name__ in PRINT_EVENT_NAMES:
        return True
    if any(callback not in CALLBACKS_BELOW_WARN_IGNORE for callback in manager.callbacks):
        return True
    severity = _log_level_map[level]
    return any(
        logger._python_logger is not None and logger._python_logger.isEnabledFor(severity)
        for logger in manager.loggers
    )


def unheard_events_skipped() -> None:
    """Drop, before its message is made, an event no logger writes and no callback reads."""
    fire = EventManager.fire_event
    if getattr(fire, "skips_unheard", False):
        return

    @wraps(fire)
    def fire_event(self, e, level=None, node=None, force_warn_or_error_handling=False):
        if force_warn_or_error_handling or heard(self, e, level):
            fire(self, e, level, node, force_warn_or_error_handling)

    fire_event.skips_unheard = True  # type: ignore[attr-defined]
    EventManager.fire_event = fire_event  # type: ignore[method-assign]


def dbt() -> None:
    """dbt's command line as finsync runs it (`transform.InstalledDbt`): unheard events
    skipped, and exiting as a finsync process does (`process_exit`). An analyst's `dbt` is
    dbt's own."""
    unheard_events_skipped()
    exit_without_collecting()
    sys.exit(cli())
