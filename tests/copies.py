"""A private copy of the session's data dir, for tests that break or republish data:
the session's warehouse and exports stay as the main job left them for everyone else."""

import shutil
from pathlib import Path

from orchestration.paths import Paths, marts_file


def copy_warehouse(warehouse: Path, target: Path) -> Path:
    """The warehouse file and the marts' file beside it, copied into the folder `target`;
    returns the copy of the warehouse."""
    for source in (warehouse, marts_file(warehouse)):
        shutil.copy2(source, target / source.name)
    return target / warehouse.name


def copy_data_dir(paths: Paths, target: Path) -> Paths:
    target.mkdir(parents=True, exist_ok=True)
    copy_warehouse(paths.warehouse, target)
    shutil.copytree(paths.exports, target / "exports")
    return Paths(target)
