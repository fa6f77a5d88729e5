"""`finsync-dbt`, the dbt Dagster runs: dbt's own command line, writing the lines dbt writes
without making the ones it would drop."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dbt.tracking import track_behavior_change_warn
from dbt_common.events import event_manager
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.functions import get_stdout_config
from dbt_common.events.logger import LineFormat
from dbt_common.events.types import Note, PrintEvent

from orchestration.dbt_cli import unheard_events_skipped
from orchestration.transform import DBT_PROJECT, InstalledDbt

# each event as fired: (event, the level it is fired at, None for its own)
EVENTS = [
    (Note(msg="a debug note"), EventLevel.DEBUG),
    (Note(msg="an info note"), None),
    (Note(msg="a warning"), EventLevel.WARN),
    (PrintEvent(msg="printed"), EventLevel.DEBUG),
]


def fired(level: EventLevel, callbacks: list) -> list[str]:
    """The messages a stdout logger at `level` writes (JSON, as dagster-dbt reads them) of
    EVENTS fired through a fresh event manager with `callbacks`."""
    stream = io.StringIO()
    manager = EventManager()
    manager.add_logger(get_stdout_config(LineFormat.Json, False, level, False))
    manager.loggers[0]._python_logger.handlers[0].setStream(stream)
    manager.callbacks = list(callbacks)
    for event, at in EVENTS:
        manager.fire_event(event, level=at)
    return [json.loads(line)["info"]["msg"] for line in stream.getvalue().splitlines()]


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts of the event messages made, with dbt's event manager as dbt has it (each
    test sets `unheard_events_skipped` itself; the class is restored after it)."""
    names: list[str] = []
    make = event_manager.msg_from_base_event

    def counted(event, level=None):
        names.append(event.msg)
        return make(event, level=level)

    monkeypatch.setattr(event_manager, "msg_from_base_event", counted)
    monkeypatch.setattr(EventManager, "fire_event", EventManager.fire_event)
    return names


def test_an_event_no_logger_writes_is_dropped_before_its_message_is_made(made) -> None:
    written_by_dbt = fired(EventLevel.INFO, [track_behavior_change_warn])
    assert written_by_dbt == ["an info note", "a warning", "printed"]
    assert made == ["a debug note", "an info note", "a warning", "printed"]  # dbt makes all
    made.clear()
    unheard_events_skipped()
    unheard_events_skipped()  # once is enough: a second call wraps nothing again
    written = fired(EventLevel.INFO, [track_behavior_change_warn])
    assert written == written_by_dbt
    assert made == ["an info note", "a warning", "printed"]


def test_a_debug_run_or_a_callback_still_gets_every_event(made) -> None:
    unheard_events_skipped()
    written = fired(EventLevel.DEBUG, [])
    assert written == ["a debug note", "an info note", "a warning", "printed"]
    heard: list[str] = []
    made.clear()
    written = fired(EventLevel.INFO, [lambda msg: heard.append(msg.info.msg)])
    assert written == ["an info note", "a warning", "printed"]
    assert heard == made == ["a debug note", "an info note", "a warning", "printed"]


def test_dagster_runs_dbt_as_finsync_dbt_which_is_dbts_command_line(tmp_path: Path) -> None:
    dbt = InstalledDbt(project_dir=DBT_PROJECT)
    executable = Path(dbt.dbt_executable)
    assert executable == Path(sys.executable).with_name("finsync-dbt")
    listed = subprocess.run(
        [executable, "ls", "--resource-type", "model", "--output", "name", "--quiet"]
        + ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT.project_dir,
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stderr
    assert "fct_gl_journal_lines" in listed.stdout.split()
    refused = subprocess.run([executable, "no-such-command"], capture_output=True, text=True)
    assert refused.returncode == 2  # dbt's exit code for a usage error
    assert "No such command" in refused.stderr


def test_finsync_dbt_writes_the_lines_dbt_writes(tmp_path: Path) -> None:
    """One mart compiled on an empty warehouse by dbt and by finsync-dbt, JSON on stdout as
    dagster-dbt asks for it: the same events at the same levels (the compiled SQL among
    them, a print event), though finsync-dbt made no message of the debug ones."""
    written = {}
    for executable in ("dbt", "finsync-dbt"):
        run = tmp_path / executable
        done = subprocess.run(
            [Path(sys.executable).with_name(executable), "compile", "--select", "dim_legal_entity"]
            + ["--target-path", str(run / "target"), "--log-path", str(run / "logs")],
            cwd=DBT_PROJECT.project_dir,
            env={**os.environ, "FINSYNC_DATA_DIR": str(run), "DBT_LOG_FORMAT": "json"},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        events = [json.loads(line)["info"] for line in done.stdout.splitlines()]
        written[executable] = [(e["name"], e["level"], e["msg"]) for e in events]
    assert ("CompiledNode", "info") in {(name, level) for name, level, _ in written["dbt"]}
    assert written["finsync-dbt"] == written["dbt"]
