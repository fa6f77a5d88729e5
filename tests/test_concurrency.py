"""DuckDB has one writer: two runs launched at once both succeed, one step after the other.

A real instance in a temporary DAGSTER_HOME with finsync's instance config (pool
`warehouse`, one slot), two runs started together in two processes, each with a
step that writes the warehouse and one that reads it. A reader and a writer of two
processes would collide on DuckDB's file lock. The pool queues the steps; the
warehouse lock (`resources.warehouse_lock`) covers the instant in which the SQLite
instance can hand the one slot to both runs.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from orchestration.paths import REPO_ROOT, Paths
from tests.copies import copy_data_dir

JOB = "two_warehouse_steps"


def warehouse_job() -> dg.JobDefinition:
    """The contract check of the ERP journals (it writes quarantine) and a reporting export
    (it reads), in the data dir of FINSYNC_DATA_DIR."""
    from orchestration.graph import build

    job = dg.define_asset_job(
        JOB,
        selection=dg.AssetSelection.checks_for_assets(dg.AssetKey(["raw_erp", "journal_items"]))
        | dg.AssetSelection.assets(dg.AssetKey(["exports", "reporting_dim_account"])),
    )
    defs = dg.Definitions.merge(build(Paths.from_env()), dg.Definitions(jobs=[job]))
    return defs.resolve_job_def(JOB)


def step_windows(instance: dg.DagsterInstance, run_id: str) -> list[tuple[float, float]]:
    starts, ends = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            ends[event.step_key] = entry.timestamp
    return [(starts[step], ends[step]) for step in starts]


# A run in a process of its own: it loads the definitions, says it is ready, waits for the
# signal to go, then runs the job in process against the instance of DAGSTER_HOME.
RUNNER = """
import sys, time
from contextlib import contextmanager
from pathlib import Path
import dagster as dg
from orchestration.resources import Warehouse
from tests.test_concurrency import warehouse_job

opened = Warehouse.connect

@contextmanager
def recorded(self, read_only=True):  # when this process had the warehouse open
    with opened(self, read_only) as con:
        start = time.time()
        yield con
        end = time.time()
    with open(sys.argv[3], "a") as log:
        log.write(f"{start} {end}\\n")

Warehouse.connect = recorded
job = warehouse_job()
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.05)
with dg.DagsterInstance.get() as instance:
    result = job.execute_in_process(instance=instance, raise_on_error=False)
print(result.run_id, result.success)
"""


def test_two_runs_launched_at_once_both_succeed_one_step_at_a_time(
    paths: Paths, main_run, tmp_path: Path
) -> None:
    copy = copy_data_dir(paths, tmp_path / "data")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "orchestration" / "instance" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "FINSYNC_DATA_DIR": str(copy.data), "DAGSTER_HOME": str(home)}
    go, opens = tmp_path / "go", tmp_path / "warehouse_opens"
    ready = [tmp_path / f"ready-{n}" for n in (1, 2)]
    with dg.DagsterInstance.from_config(str(home)):
        pass  # create the instance's storage once, before two processes open it
    runs: list[subprocess.Popen] = []
    try:
        for flag in ready:  # load one after the other (dlt creates its pipeline dirs)...
            runs.append(
                subprocess.Popen(
                    [sys.executable, "-c", RUNNER, str(flag), str(go), str(opens)],
                    cwd=REPO_ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            deadline = time.monotonic() + 120
            while not flag.exists() and runs[-1].poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
        go.touch()  # ...then run both at once
        outputs = [run.communicate(timeout=180) for run in runs]
    finally:
        for run in runs:
            run.kill()
    results = [out.strip().splitlines()[-1].split() if out.strip() else err for out, err in outputs]
    assert [r[1] if isinstance(r, list) else r for r in results] == ["True", "True"]

    with dg.DagsterInstance.from_config(str(home)) as instance:
        windows = [w for run_id, _ in results for w in step_windows(instance, run_id)]
        slots = instance.event_log_storage.get_concurrency_info("warehouse").slot_count
    held = sorted(tuple(map(float, line.split())) for line in opens.read_text().splitlines())
    overlaps = [(a, b) for a, b in zip(held, held[1:], strict=False) if b[0] < a[1]]
    assert len(windows) == 4  # two warehouse steps per run
    assert len(held) == 4  # each opened the warehouse once
    assert overlaps == []  # one process has the warehouse open at a time
    assert slots == 1
