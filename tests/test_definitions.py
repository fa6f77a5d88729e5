"""The Dagster definitions: they load cleanly, and lineage is one graph from source to export."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.paths import Paths

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def defs(paths: Paths) -> dg.Definitions:
    from orchestration.graph import build

    return build(paths)


def test_definitions_load_without_a_warning(paths: Paths) -> None:
    """A fresh interpreter, every warning turned into an error, as `dagster dev` would load it."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-W",
            "ignore:sqlglotrs is deprecated:DeprecationWarning",
            "-W",
            "ignore:The `__fields__` attribute is deprecated:DeprecationWarning",
            "-c",
            "import dagster as dg; from orchestration.definitions import defs;"
            " dg.Definitions.validate_loadable(defs); defs.resolve_all_job_defs()",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stderr == ""


def test_lineage_runs_from_the_erp_to_the_fpa_export(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    upstream = dg.AssetSelection.assets(["exports", "fpa_actuals"]).upstream().resolve(graph)
    path = [
        ["raw_erp", "journal_items"],
        ["staging", "stg_erp__journal_items"],
        ["intermediate", "int_gl_journal_lines"],
        ["marts", "fct_gl_journal_lines"],
    ]
    assert {dg.AssetKey(key) for key in path} <= upstream
    source_system = dg.AssetKey(["sources", "erp"])
    assert source_system in graph.get(dg.AssetKey(["raw_erp", "journal_items"])).parent_keys


def test_every_dbt_source_is_a_dlt_asset(defs: dg.Definitions) -> None:
    """No raw table floats as an external asset: dbt's sources are the dlt assets' keys."""
    graph = defs.resolve_asset_graph()
    raw_keys = {key for key in graph.get_all_asset_keys() if key.path[0].startswith("raw_")}
    materializable = {key for key in raw_keys if graph.get(key).is_materializable}
    assert len(raw_keys) == 21  # 18 extract feeds + ERP journal changes, close calendar, events
    assert materializable == raw_keys


def test_every_step_that_opens_the_warehouse_shares_one_pool(defs: dg.Definitions) -> None:
    """DuckDB has one writer, and even a reader blocks another process's writer."""
    graph = defs.resolve_asset_graph()
    steps = [graph.get(key) for key in graph.get_all_asset_keys()]
    pools = [node.pools for node in steps if node.is_materializable]
    check_pools = [check.op.pool for check in defs.asset_checks or []]
    assert len(pools) > 40  # raw tables, dbt models and seeds, exports
    assert {frozenset(p) for p in pools} == {frozenset({"warehouse"})}
    assert set(check_pools) == {"warehouse"}
