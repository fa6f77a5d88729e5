"""Where finsync reads and writes, from one setting: `FINSYNC_DATA_DIR`.

dbt's profile reads the same variable, so Dagster, dlt and dbt always agree on
which warehouse file they share.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


@dataclass(frozen=True)
class Paths:
    data: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(Path(os.environ.get("FINSYNC_DATA_DIR", REPO_ROOT / "data")).resolve())

    @property
    def extracts(self) -> Path:
        return self.data / "sandbox"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse.duckdb"

    @property
    def marts(self) -> Path:
        """The marts' own DuckDB file, attached to every warehouse connection (see
        `orchestration.resources.open_warehouse`)."""
        return marts_file(self.warehouse)

    @property
    def dlt(self) -> Path:
        return self.data / "dlt"

    @property
    def exports(self) -> Path:
        return self.data / "exports"

    @property
    def dbt(self) -> Path:
        """dbt's state for this warehouse: its saved parse, and each run's artifacts."""
        return self.data / "dbt"


def marts_file(warehouse: Path) -> Path:
    """The marts' file beside a warehouse file: dbt's profile names the same one."""
    return warehouse.with_name("marts.duckdb")
