"""Ingest alone (dlt into DuckDB, no Dagster): re-deliveries, drops and refused files."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingest.landing import UnsafeFileName, safe_path
from ingest.pipelines import SOURCES, load
from sandbox.api import Enterprise
from sandbox.generate import generate


class Lake:
    def __init__(self, root: Path) -> None:
        self.extracts = root / "sandbox"
        self.warehouse = root / "warehouse.duckdb"
        self.dlt = root / "dlt"
        self.drops = self.extracts / "regional_erp" / "drops"

    def load(self, system: str):
        return load(system, self.extracts, self.warehouse, self.dlt)

    def count(self, table: str) -> int:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lake]:
    lake = Lake(tmp_path)
    generate(lake.extracts, scale=0.005, seed=11)
    with Enterprise(lake.extracts) as systems:
        for name, value in systems.env().items():
            monkeypatch.setenv(name, value)
        yield lake


def test_reloading_unchanged_extracts_loads_nothing(lake: Lake) -> None:
    first = {system: lake.load(system) for system in SOURCES}
    counts = lake.count("raw_erp.journal_items"), lake.count("raw_regional_erp.journal_lines")
    again = {system: lake.load(system) for system in SOURCES}
    assert all(info.loads_ids for info in first.values())
    assert [system for system, info in again.items() if info.loads_ids] == []
    assert (
        lake.count("raw_erp.journal_items"),
        lake.count("raw_regional_erp.journal_lines"),
    ) == counts


def test_a_drop_delivered_twice_under_another_name_is_loaded_once(lake: Lake) -> None:
    lake.load("regional_erp")
    before = lake.count("raw_regional_erp.journal_lines")
    shutil.copy(
        lake.drops / "lancamentos_2024-04.csv", lake.drops / "lancamentos_2024-04_resent.csv"
    )
    info = lake.load("regional_erp")
    assert info.loads_ids == []
    assert lake.count("raw_regional_erp.journal_lines") == before > 0


def test_a_corrected_drop_replaces_its_rows_instead_of_adding_them(lake: Lake) -> None:
    lake.load("regional_erp")
    before = lake.count("raw_regional_erp.journal_lines")
    drop = lake.drops / "lancamentos_2024-05.csv"
    header, first, *rest = drop.read_text(encoding="utf-8").splitlines()
    columns = header.split(";")
    fields = first.split(";")
    fields[columns.index("historico")] = "corrigido"
    drop.write_text("\n".join([header, ";".join(fields), *rest]) + "\n", encoding="utf-8")
    lake.load("regional_erp")
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        corrected = con.execute(
            "select count(*) from raw_regional_erp.journal_lines where historico = 'corrigido'"
        ).fetchone()[0]
    assert lake.count("raw_regional_erp.journal_lines") == before
    assert corrected == 1


def test_a_file_name_escaping_the_landing_folder_is_refused(lake: Lake, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    shutil.copy(lake.drops / "lancamentos_2024-04.csv", outside)
    (lake.drops / "lancamentos_9999-99.csv").symlink_to(outside)
    with pytest.raises(UnsafeFileName, match="escapes"):
        safe_path(lake.drops, "../../outside.csv")
    with pytest.raises(PipelineStepFailed, match="refused file name 'lancamentos_9999-99.csv'"):
        lake.load("regional_erp")


def test_a_drop_with_a_wrong_type_is_refused_naming_the_file_and_raw_stays_as_it_was(
    lake: Lake,
) -> None:
    lake.load("regional_erp")
    before = lake.count("raw_regional_erp.journal_lines")
    header, first, *rest = (lake.drops / "lancamentos_2024-06.csv").read_text().splitlines()
    fields = first.split(";")
    fields[header.split(";").index("valor_moeda")] = "doze"
    bad = lake.drops / "lancamentos_2026-04.csv"
    bad.write_text("\n".join([header, ";".join(fields), *rest]) + "\n", encoding="utf-8")
    with pytest.raises(
        PipelineStepFailed, match="lancamentos_2026-04.csv: .* invalid value 'doze'"
    ):
        lake.load("regional_erp")
    assert lake.count("raw_regional_erp.journal_lines") == before
