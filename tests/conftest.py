"""One small demo enterprise, run once through the real Dagster job for the whole session.

Everything is real: the generator writes extracts, dlt loads them into DuckDB, dbt
builds and tests the project, the export assets write files. Only the scale is small.
"""

from collections.abc import Iterator

import dagster as dg
import pytest

from orchestration.jobs import MAIN_JOB
from orchestration.paths import Paths
from orchestration.resources import open_warehouse
from sandbox.api import Enterprise
from sandbox.generate import generate

# Two texts DuckDB's `hash` cannot tell apart (characters 7 and 23 differ): the row digests
# of the exports and the regional lines' fingerprints must (publish.row_digest).
HASHED_ALIKE = ("erp|US01|2025|9000002099|2", "erp|US02|2025|9000002090|2")

SCALE, SEED = 0.02, 7


@pytest.fixture(scope="session")
def paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Paths]:
    """A data dir of its own; dbt, run as a subprocess, finds it through the environment.
    The source systems' APIs serve the same enterprise on loopback for the session."""
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINSYNC_DATA_DIR", str(data))
        paths = Paths(data)
        generate(paths.extracts, scale=SCALE, seed=SEED)
        with Enterprise(paths.extracts) as systems:
            for name, value in systems.env().items():
                env.setenv(name, value)
            yield paths


def run_main_job(paths: Paths) -> dg.ExecuteInProcessResult:
    from orchestration.graph import build  # after FINSYNC_DATA_DIR is set

    with dg.DagsterInstance.ephemeral() as instance:
        return (
            build(paths)
            .resolve_job_def(MAIN_JOB)
            .execute_in_process(instance=instance, raise_on_error=False)
        )


@pytest.fixture(scope="session")
def main_run(paths: Paths) -> dg.ExecuteInProcessResult:
    return run_main_job(paths)


def query(paths: Paths, sql: str, params: list | None = None) -> list[tuple]:
    """Read the warehouse and let go of it: an open connection would block the next run."""
    with open_warehouse(paths.warehouse) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def broken_enterprise(tmp_path_factory: pytest.TempPathFactory):
    """A second small enterprise with reconciliation breaks injected, run once (tests/breaks.py)."""
    from tests.breaks import run_broken_enterprise

    with dg.DagsterInstance.ephemeral() as instance:
        yield run_broken_enterprise(
            tmp_path_factory.mktemp("broken"), instance, scale=SCALE, seed=SEED
        )
