"""Changes to a warehouse copy's raw layer as the source systems would make them, for
tests that run dbt again over them."""

import duckdb


def double_erp_document(
    con: duckdb.DuckDBPyConnection, company: str, year: int, document: str
) -> None:
    """Every line of a group ERP document doubled in both currencies (the document still
    balances, its period's balances move), as a new version in a load after every load
    staged (what dlt writes for a changed line)."""
    con.execute(
        "update raw_erp.journal_items set"
        " amount_in_company_code_currency = 2 * amount_in_company_code_currency,"
        " amount_in_transaction_currency = 2 * amount_in_transaction_currency,"
        " _dlt_load_id = cast(epoch(now()) as varchar)"
        " where company_code = ? and fiscal_year = ? and accounting_document = ?",
        [company, year, document],
    )
