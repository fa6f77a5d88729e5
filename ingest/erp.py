"""Group ERP (S/4HANA-like): master data and the bulk journal history as Parquet."""

from __future__ import annotations

from pathlib import Path

import dlt

from ingest.extracts import read_parquet
from ingest.resources import files_resource
from sandbox import schemas

MASTER_TABLES = {
    "company_codes": (schemas.COMPANY_CODES, ["company_code"]),
    "financial_statement_items": (schemas.FINANCIAL_STATEMENT_ITEMS, ["financial_statement_item"]),
    "gl_accounts": (schemas.GL_ACCOUNTS, ["gl_account"]),
    "cost_center_nodes": (schemas.COST_CENTER_NODES, ["node"]),
    "cost_centers": (schemas.COST_CENTERS, ["cost_center"]),
    "products": (schemas.PRODUCTS, ["product"]),
    "projects": (schemas.PROJECTS, ["project"]),
    "fx_rates": (
        schemas.FX_RATES,
        ["exchange_rate_type", "from_currency", "to_currency", "valid_from"],
    ),
}

JOURNAL_KEY = ["company_code", "fiscal_year", "accounting_document", "ledger_gl_line_item"]


@dlt.source(name="erp", max_table_nesting=0)
def erp(extracts_dir: str = dlt.config.value):
    """Master data files and one bulk journal file per fiscal period."""
    root = Path(extracts_dir) / "erp"
    for name, (schema, key) in MASTER_TABLES.items():
        yield files_resource(name, root, f"{name}.parquet", read_parquet, schema, key)
    yield files_resource(
        "journal_items",
        root / "journal_items",
        "*.parquet",
        read_parquet,
        schemas.JOURNAL_ITEMS,
        JOURNAL_KEY,
    )
