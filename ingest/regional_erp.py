"""Regional ERP of the acquired entity: CSV file drops in a landing folder."""

from __future__ import annotations

from pathlib import Path

import dlt

from ingest.extracts import read_regional_csv
from ingest.resources import files_resource
from sandbox import schemas


@dlt.source(name="regional_erp", max_table_nesting=0)
def regional_erp(extracts_dir: str = dlt.config.value):
    """Local chart, local cost centers and monthly journal drops, named as the system names them.

    Debit and credit are both amounts of the functional currency, one of them zero: a
    negative one is refused (the sign is in the column, not the number)."""
    root = Path(extracts_dir) / "regional_erp"
    yield files_resource(
        "accounts",
        root,
        "plano_de_contas.csv",
        read_regional_csv,
        schemas.REGIONAL_ACCOUNTS,
        ["conta"],
    )
    yield files_resource(
        "cost_centers",
        root,
        "centros_de_custo.csv",
        read_regional_csv,
        schemas.REGIONAL_COST_CENTERS,
        ["centro_custo"],
    )
    yield files_resource(
        "journal_lines",
        root / "drops",
        "lancamentos_*.csv",
        read_regional_csv,
        schemas.REGIONAL_JOURNAL_LINES,
        ["empresa", "numero_lancamento", "linha"],
        non_negative=("debito_brl", "credito_brl"),
    )
