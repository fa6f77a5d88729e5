"""The dbt project as Dagster assets, keyed `<schema>/<model>`, with dbt tests as asset checks."""

import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging.version import Version

from orchestration.automation import follows_inputs
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.partitions import backfilled_period
from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.resources import Warehouse, warehouse_lock

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR)
RUNS = "runs"  # in a data dir's dbt folder: each dbt invocation's artifacts (its target path)
DBT_RUNS_KEPT = 30


class InstalledDbt(DbtCliResource):
    """dbt as installed beside Dagster. dagster-dbt asks `dbt --version` before every
    invocation, and dbt answers only after asking PyPI for the latest dbt-core and each
    adapter: 53 s of a dbt step's wall time on this machine behind its proxy, 2-4 s with a
    fast network. The dbt that runs is the installed package, so its version is read
    from the package metadata instead. It runs as `finsync-dbt` (`dbt_cli`): dbt's command
    line without the log lines it would drop, exiting without a last garbage collection."""

    def __init__(self, project_dir: DbtProject, **kwargs: Any) -> None:
        kwargs.setdefault("dbt_executable", str(Path(sys.executable).with_name("finsync-dbt")))
        super().__init__(project_dir=project_dir, **kwargs)

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        """No dbt adapter in the Dagster process. Before every invocation dagster-dbt loads
        dbt's profile, adapter and every macro here (about 2 s of CPU beside dbt's own
        start, py-spy) only to fetch row counts and column metadata, which finsync does not
        ask for (`fetch_row_counts` leaves a DuckDB connection open that blocks the next
        writer); without an adapter dagster-dbt skips them, as it does for dbt Fusion."""
        return None


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse: sources are the dlt tables (`raw_erp/journal_items`),
    models and seeds are `<schema>/<name>` and grouped by layer. Models follow their
    inputs (declarative automation); freshness and owners are mapped over every spec in
    `definitions.py`, because dagster-dbt ignores freshness set in dbt's `meta`."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey([props["schema"], props["name"]]))
        key = dg.AssetKey([props["schema"], props["name"]])
        return spec.replace_attributes(
            key=key, group_name=props["schema"], automation_condition=follows_inputs(key)
        )


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=WarehouseTranslator(),
    pool=WAREHOUSE_POOL,
)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse
) -> Iterator:
    """`dbt build`: seeds, models and their data tests, in dependency order. In a backfill
    of a fiscal period, the GL models rebuild that period's rows only (dbt var `period`).
    Unit tests pin the SQL's logic on given rows, not the data: they run with the test
    suite (tests/test_dbt_unit.py), as dbt recommends, not on every production build.
    dagster-dbt writes dbt's lines to the step's output, which the UI shows as plain text:
    without colour codes there (an analyst's own dbt in a terminal keeps them)."""
    args = ["build", "--exclude-resource-type", "unit_test", "--no-use-colors"]
    if period := backfilled_period(context.run):
        args += ["--vars", json.dumps({"period": period})]
    data_dir = Path(warehouse.path).parent
    # dagster-dbt's own naming, in the data dir: `dbt_artifacts` finds a run's by it
    op = context.op_execution_context.op
    invocation_id = f"{op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    target = Paths(data_dir).dbt / RUNS / invocation_id
    reuse_partial_parse(data_dir, target)
    with warehouse_lock(Path(warehouse.path)):
        with data_dir_of(Path(warehouse.path)):
            # the op context: dagster-dbt reads `context.op`, deprecated on the asset context
            invocation = dbt.cli(args, context=context.op_execution_context, target_path=target)
        try:
            yield from invocation.stream()
        finally:
            keep_partial_parse(target, data_dir)
            prune_dbt_runs(data_dir)


def dbt_runs(data_dir: Path, pattern: str = "*") -> list[Path]:
    """The artifact folders of the dbt invocations on this data dir whose name matches
    `pattern`, oldest first (none before dbt's first run here)."""
    return sorted(
        (run for run in (Paths(data_dir).dbt / RUNS).glob(pattern) if run.is_dir()),
        key=lambda run: run.stat().st_mtime,
    )


def dbt_artifacts(data_dir: Path, run_id: str) -> Path | None:
    """The folder of the artifacts of a Dagster run's dbt build on this data dir: its
    `run_results.json`, `manifest.json`, `dbt.log` and compiled SQL (None once pruned)."""
    found = dbt_runs(data_dir, f"{dbt_models.op.name}-{run_id[:7]}-*")
    return found[-1] if found else None


def prune_dbt_runs(data_dir: Path, keep: int = DBT_RUNS_KEPT) -> None:
    """Keep the artifacts of the latest `keep` dbt invocations on this data dir. Each holds
    4-16 MB (the manifest, the saved parse, every node's SQL): kept for every run, a daily
    schedule would grow the disk by gigabytes a year."""
    for run in dbt_runs(data_dir)[:-keep]:
        shutil.rmtree(run, ignore_errors=True)


def partial_parse_of(data_dir: Path) -> Path:
    return Paths(data_dir).dbt / "partial_parse.msgpack"


def reuse_partial_parse(data_dir: Path, target: Path) -> None:
    """Start dbt from the parse its last run on this data dir saved. dbt reparses the
    whole project (4-5 s here) when the profile it parsed with differs, and the profile
    holds the warehouse's path: the project's own `target/partial_parse.msgpack`, which
    dagster-dbt copies into every invocation, is only of use to the default data dir.
    dbt still checks every file, var and the profile against the saved parse, so a
    stale one costs a reparse, never a wrong manifest."""
    saved = partial_parse_of(data_dir)
    if saved.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved, target / saved.name)


def keep_partial_parse(target: Path, data_dir: Path) -> None:
    """Save the invocation's parse for the next run on this data dir (whole or not at all)."""
    parsed = target / "partial_parse.msgpack"
    if not parsed.exists():
        return
    saved = partial_parse_of(data_dir)
    saved.parent.mkdir(parents=True, exist_ok=True)
    draft = saved.with_name(f".{saved.name}.{os.getpid()}")
    shutil.copyfile(parsed, draft)
    draft.replace(saved)


@contextmanager
def data_dir_of(warehouse: Path) -> Iterator[None]:
    """dbt's profile finds the warehouse through `FINSYNC_DATA_DIR`: point it at this
    definitions' warehouse while dbt starts (its subprocess copies the environment), so
    that a run on another data dir (a test's copy) builds that warehouse, not the default."""
    before = os.environ.get("FINSYNC_DATA_DIR")
    os.environ["FINSYNC_DATA_DIR"] = str(warehouse.parent)
    try:
        yield
    finally:
        if before is None:
            del os.environ["FINSYNC_DATA_DIR"]
        else:
            os.environ["FINSYNC_DATA_DIR"] = before
