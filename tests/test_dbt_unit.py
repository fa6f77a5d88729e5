"""The dbt project's unit tests: the tricky SQL (quarantine, translation, eliminations,
intercompany matching, small-group folding) on a few given rows.

The Dagster job's `dbt build` leaves them out (orchestration/transform.py): they prove
the SQL, not the day's data, so they run here, as dbt recommends, in CI. dbt reads the
column types of a unit test's inputs from the warehouse, so they run against a copy of
the session's warehouse, which the main job built.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestration.paths import DBT_PROJECT_DIR, Paths
from tests.conftest import HASHED_ALIKE
from tests.copies import copy_warehouse

DBT = str(Path(sys.executable).with_name("dbt"))  # the environment's dbt, on PATH or not


def unit_tests_in_project() -> set[str]:
    """The unit tests the project's YAML declares, by name."""
    return {
        test["name"]
        for schema in DBT_PROJECT_DIR.joinpath("models").rglob("*.yml")
        for test in (yaml.safe_load(schema.read_text()) or {}).get("unit_tests", [])
    }


@pytest.fixture(scope="module")
def unit_run(paths: Paths, main_run, tmp_path_factory: pytest.TempPathFactory) -> dict:
    assert main_run.is_node_success("dbt_models")  # the relations the fixtures' types come from
    data = tmp_path_factory.mktemp("unit")
    copy_warehouse(paths.warehouse, data)
    target = data / "target"
    build = subprocess.run(
        [
            DBT, "--no-use-colors", "test", "--select", "test_type:unit",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--log-path", str(data / "logs"),
        ],
        env={**os.environ, "FINSYNC_DATA_DIR": str(data)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {"returncode": build.returncode, "stdout": build.stdout, "results": results}


def test_every_unit_test_of_the_project_passes(unit_run: dict) -> None:
    assert unit_run["returncode"] == 0, unit_run["stdout"][-3000:]
    ran = {
        r["unique_id"].split(".")[-1]: r["status"]
        for r in unit_run["results"]
        if r["unique_id"].startswith("unit_test.")  # not the on-run-start hook
    }
    assert set(ran) == unit_tests_in_project()
    assert set(ran.values()) == {"pass"}


def test_a_regional_line_edited_to_text_duckdb_hashes_alike_changes_its_fingerprint(
    tmp_path: Path,
) -> None:
    """int_gl_journal_lines rebuilds a period whose regional lines' fingerprints changed: an
    edit DuckDB's own `hash` misses (two characters of one text) changes `row_fingerprint`."""
    alike = [f"'{text}'" for text in HASHED_ALIKE]
    amount = "cast(1.5 as decimal(18, 2))"
    inline = (
        f"select hash({alike[0]}) = hash({alike[1]}) as hash_alike,"
        f" {{{{ row_fingerprint([\"{alike[0]}\", '{amount}']) }}}}"
        f" = {{{{ row_fingerprint([\"{alike[1]}\", '{amount}']) }}}} as fingerprint_alike"
    )
    shown = subprocess.run(
        [
            DBT, "--no-use-colors", "--quiet", "show", "--inline", inline, "--output", "json",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        ],
        env={**os.environ, "FINSYNC_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    [row] = json.loads(shown.stdout)["show"]
    assert row == {"hash_alike": True, "fingerprint_alike": False}
