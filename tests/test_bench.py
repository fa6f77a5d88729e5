"""The bench's contenders do finsync's work: the floor and the pandas script, run on the
test enterprise's extracts as `make bench` runs them (each in a process of its own),
publish the rows and totals of the main job's marts and files, with finsync's columns.
Not timed: `make bench` measures; this keeps a change to finsync's products from leaving
the contenders behind unnoticed until the next bench.
"""

import json
import subprocess
import sys

import dagster as dg

from bench.agreement import disagreements, missing_columns
from bench.floor import PHASES
from orchestration.paths import REPO_ROOT, Paths


def test_the_floor_and_pandas_publish_finsyncs_numbers(
    paths: Paths, main_run: dg.ExecuteInProcessResult
) -> None:
    assert main_run.success
    for contender in ("bench.floor", "bench.naive_pandas"):
        subprocess.run(
            [sys.executable, "-m", contender, str(paths.data)], cwd=REPO_ROOT, check=True
        )

    assert disagreements(paths.data) == {"floor": [], "pandas": []}
    # the floor publishes every column finsync does (its lineage aside); pandas the GL
    # lines' (the bulk of its work), not yet some small statements' labels
    missing = missing_columns(paths.data)
    assert missing["floor"] == {}
    assert "gl_lines" not in missing["pandas"]
    # the floor's statements fall in its three phases, and each phase does some work
    phases = json.loads((paths.data / "floor" / "phases.json").read_text())
    assert set(phases) == set(PHASES)
    assert all(seconds > 0 for seconds in phases.values())
