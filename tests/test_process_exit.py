"""finsync's processes, and dbt as Dagster runs it (`finsync-dbt`), exit without a last
garbage collection, and still run every exit handler."""

import subprocess
import sys

# a module-level object in a reference cycle: only the exit's collection finalizes it, by
# then with no sys.stdout to print to
PROCESS = """
import atexit, os
{setup}
atexit.register(print, "exit handler ran", flush=True)
class Cycle:
    def __del__(self, write=os.write):
        write(1, b"collected at exit\\n")
held = Cycle()
held.itself = held
"""


def exit_of(setup: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROCESS.format(setup=setup)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_a_finsync_process_runs_its_exit_handlers_and_collects_nothing() -> None:
    """Definitions built (or the hook set twice): the exit handlers run (logging's flush, the
    SQLite connections kept open), the collection of the heap's cycles does not."""
    assert exit_of("") == ["exit handler ran", "collected at exit"]  # Python's own exit
    hook = "from orchestration.process_exit import exit_without_collecting\n"
    assert exit_of(hook + "exit_without_collecting()\nexit_without_collecting()") == [
        "exit handler ran"
    ]
    built = "import orchestration.definitions"  # what every Dagster process of finsync loads
    assert exit_of(built) == ["exit handler ran"]
