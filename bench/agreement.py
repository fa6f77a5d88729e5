"""Do the contenders publish finsync's numbers? Row counts and totals per product.

A comparison of times is honest only if the work is the same: for each published
product, the floor and the pandas script must have as many rows as finsync's mart
and the same sum of absolute amounts (the floor exactly, in decimals; pandas, which
computes in floats, to within a cent per row). The planning tool's import files
(actuals, workforce, pipeline) are compared likewise with finsync's files.

Rows and totals, not values: finsync counts workforce headcount by pseudonymous
employee keys (an HMAC under a secret the contenders do not have) and reports a cost
center's owner as of the period's end from its snapshot history; the contenders count
worker ids and take today's owner. Neither changes a row or an amount, so the counts
and sums compared here (headcount among them) must still be equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.paths import Paths

# product -> (finsync mart, amount columns compared)
PRODUCTS = {
    "gl_lines": ("fct_gl_journal_lines", ("amount_functional", "amount_group")),
    "trial_balance": ("trial_balance", ("closing_functional", "closing_group", "movement_group")),
    "income_statement": ("income_statement", ("amount_period_group", "amount_ytd_group")),
    "balance_sheet": ("balance_sheet", ("balance_group",)),
    "consolidation_eliminations": (
        "consolidation_eliminations",
        ("amount_period_group", "amount_closing_group"),
    ),
    "consolidated_income_statement": (
        "consolidated_income_statement",
        ("amount_period_group", "amount_ytd_group"),
    ),
    "consolidated_balance_sheet": ("consolidated_balance_sheet", ("balance_group",)),
    "workforce_cost_drivers": (
        "workforce_cost_drivers",
        ("headcount", "gross_earnings_functional", "employer_taxes_functional")
        + ("benefits_functional", "workforce_cost_functional"),
    ),
    "revenue_pipeline_drivers": (
        "revenue_pipeline_drivers",
        ("amount_pipeline_txn", "amount_weighted_pipeline_txn", "amount_commit_txn"),
    ),
    "fct_plan": ("fct_plan", ("amount_functional",)),
    "budget_vs_actual": (
        "budget_vs_actual",
        ("amount_actual_functional", "amount_budget_functional", "amount_forecast_functional")
        + ("amount_actual_ytd_functional", "amount_budget_ytd_functional")
        + ("amount_forecast_ytd_functional",),
    ),
}


# the planning tool's import files, which no mart holds: finsync's and pandas' files under
# exports/fpa, the floor's (hive folders of DuckDB's partitioned copy), the columns summed
FPA_FILES = {
    "fpa_actuals": ("actuals/*.csv", "actuals/*/*.csv", ("Amount", "Amount_Group")),
    "fpa_workforce": (
        "workforce/*.csv",
        "workforce/*/*.csv",
        ("Headcount", "Gross_Earnings", "Employer_Taxes", "Benefits", "Workforce_Cost"),
    ),
    "fpa_pipeline": (
        "pipeline.csv",
        "pipeline.csv",
        ("Open_Opportunities", "Pipeline", "Weighted_Pipeline", "Commit"),
    ),
}


def totals(con: duckdb.DuckDBPyConnection, relation: str, columns: tuple[str, ...]) -> list:
    sums = ", ".join(f"sum(abs({column}))" for column in columns)
    return list(con.execute(f"select count(*), {sums} from {relation}").fetchone())


@contextmanager
def _attached(data: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with finsync's marts (`finsync`) and the floor's database (`floor`)."""
    with duckdb.connect() as con:
        con.execute("attach ? as finsync (read_only)", [str(Paths(data).marts)])
        con.execute("attach ? as floor (read_only)", [str(data / "floor" / "floor.duckdb")])
        yield con


def disagreements(data: Path) -> dict[str, list[str]]:
    """Per contender, the products whose rows or totals differ from finsync's marts (and,
    for the planning tool's files, from finsync's exports)."""
    found: dict[str, list[str]] = {"floor": [], "pandas": []}
    with _attached(data) as con:
        for product, (mart, columns) in PRODUCTS.items():
            expected = totals(con, f"finsync.marts.{mart}", columns)
            floor = totals(con, f"floor.{product}", columns)
            pandas = totals(con, f"read_parquet('{_pandas_file(data, product)}')", columns)
            _compare(found, product, expected, floor, pandas)
        for product, (files, floor_files, columns) in FPA_FILES.items():
            types = "{" + ", ".join(f"'{c}': 'decimal(18, 2)'" for c in columns) + "}"

            def csv(root: Path, pattern: str, types: str = types) -> str:
                return f"read_csv('{root / 'exports' / 'fpa' / pattern}', types = {types})"

            expected = totals(con, csv(data, files), columns)
            floor = totals(con, csv(data / "floor", floor_files), columns)
            pandas = totals(con, csv(data / "pandas", files), columns)
            _compare(found, product, expected, floor, pandas)
    return found


LINEAGE = ("_built_at", "_staged_load_id")  # finsync's own bookkeeping, no contender's


def missing_columns(data: Path) -> dict[str, dict[str, list[str]]]:
    """Per contender, the columns of finsync's products (its lineage aside) that the
    contender's do not have: rows and totals compare what they publish, this says what
    they leave out. The floor's products and pandas' have them all."""
    found: dict[str, dict[str, list[str]]] = {"floor": {}, "pandas": {}}
    with _attached(data) as con:
        for product, (mart, _) in PRODUCTS.items():
            theirs = {
                "floor": f"floor.{product}",
                "pandas": f"read_parquet('{_pandas_file(data, product)}')",
            }
            expected = _columns(con, f"finsync.marts.{mart}")
            for contender, relation in theirs.items():
                missing = [c for c in expected if c not in _columns(con, relation)]
                if missing:
                    found[contender][product] = missing
    return found


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [
        name
        for name, *_ in con.execute(f"describe select * from {relation}").fetchall()
        if name not in LINEAGE
    ]


def _compare(found: dict[str, list[str]], product: str, expected: list, floor: list, pandas: list):
    if floor != expected:
        found["floor"].append(f"{product}: {floor} != {expected}")
    rows = expected[0]
    pairs = zip(pandas[1:], expected[1:], strict=True)
    off = [abs(Decimal(str(a or 0)) - (b or 0)) for a, b in pairs]
    if pandas[0] != rows or any(d > Decimal("0.01") * rows for d in off):
        found["pandas"].append(f"{product}: {pandas} != {expected}")


def _pandas_file(data: Path, product: str) -> Path:
    if product == "gl_lines":
        return data / "pandas" / "exports" / "reporting" / "gl_lines" / "*.parquet"
    return data / "pandas" / f"{product}.parquet"
