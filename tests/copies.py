"""A private copy of the session's data dir, for tests that break or republish data:
the session's warehouse and exports stay as the main job left them for everyone else."""

import shutil
from pathlib import Path

from orchestration.paths import Paths


def copy_data_dir(paths: Paths, target: Path) -> Paths:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(paths.warehouse, target / paths.warehouse.name)
    shutil.copytree(paths.exports, target / "exports")
    return Paths(target)
