"""Generate every extract of the demo enterprise and its manifest.

`generate(out, scale, seed)` is the whole job: master data and FX, then CRM and
payroll (the sub-ledgers journals are posted from), then the journals period by
period (written as they are made, so memory does not grow with scale), then
FP&A from the actuals. The manifest records row counts and control totals per
file so that loaders can prove source rows = loaded rows.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.random import PCG64, Generator, SeedSequence

from sandbox import fpa, master, regional
from sandbox.calendar import FISCAL_YEAR_START_MONTH, PERIODS
from sandbox.crm import make_crm
from sandbox.fx import decimal_to_minor, make_rates
from sandbox.journals import DOC_TYPES, JournalGenerator, Volumes
from sandbox.master import COMPANY_CODES, CURRENCIES, GROUP_CURRENCY
from sandbox.payroll import make_payroll

SYSTEMS = ("erp", "regional_erp", "payroll", "crm", "fpa")
_STREAMS = ("fx", "master", "crm", "payroll", "journals", "fpa")


def money(minor: int | np.integer) -> str:
    """Hundredths as an exact decimal string with two places."""
    v = int(minor)
    sign = "-" if v < 0 else ""
    whole, cents = divmod(abs(v), 100)
    return f"{sign}{whole}.{cents:02d}"


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def _json_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return f"{v:.2f}"
    return v


def write_jsonl(table: pa.Table, path: Path) -> None:
    """One JSON object per line; dates ISO, timestamps ISO UTC, amounts as strings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for batch in table.to_batches(max_chunksize=10_000):
            for row in batch.to_pylist():
                f.write(json.dumps({k: _json_value(v) for k, v in row.items()}, ensure_ascii=False))
                f.write("\n")


def _grouped(keys: Iterable[np.ndarray], amounts: dict[str, np.ndarray]) -> dict[str, Any]:
    """Control totals per key combination: rows and the sum of each amount."""
    keys = [np.asarray(k) for k in keys]
    label = keys[0].astype(str)
    for k in keys[1:]:
        label = np.char.add(np.char.add(label, "|"), k.astype(str))
    names, inv = np.unique(label, return_inverse=True)
    out: dict[str, Any] = {}
    for i, name in enumerate(names.tolist()):
        m = inv == i
        out[name] = {"rows": int(m.sum())} | {k: money(v[m].sum()) for k, v in amounts.items()}
    return out


def _minor(table: pa.Table, column: str) -> np.ndarray:
    return decimal_to_minor(table[column])


def _str(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(table[column].to_pylist(), dtype=object).astype(str)


def generate(out: Path, scale: float, seed: int) -> dict[str, Any]:
    """Write all extracts under `out` and return the manifest (also `out/manifest.json`)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    out = Path(out)
    for system in SYSTEMS:
        shutil.rmtree(out / system, ignore_errors=True)
    rngs = dict(
        zip(
            _STREAMS,
            (Generator(PCG64(s)) for s in SeedSequence(seed).spawn(len(_STREAMS))),
            strict=True,
        )
    )
    files: dict[str, dict[str, Any]] = {}

    def record(rel: str, table: pa.Table, totals: dict[str, Any] | None = None) -> None:
        files[rel] = {"rows": table.num_rows} | ({"control_totals": totals} if totals else {})

    def parquet(rel: str, table: pa.Table, totals: dict[str, Any] | None = None) -> None:
        _write_parquet(table, out / rel)
        record(rel, table, totals)

    # ---------------------------------------------------------------- master data, FX
    fx = make_rates(rngs["fx"])
    projects = master.make_projects(rngs["master"])
    parquet("erp/company_codes.parquet", master.company_codes_table())
    parquet("erp/financial_statement_items.parquet", master.financial_statement_items_table())
    parquet("erp/gl_accounts.parquet", master.gl_accounts_table())
    parquet("erp/cost_center_nodes.parquet", master.cost_center_nodes_table())
    parquet("erp/cost_centers.parquet", master.cost_centers_table())
    parquet("erp/products.parquet", master.products_table())
    parquet("erp/projects.parquet", projects.table)
    fx_table = fx.table()
    parquet("erp/fx_rates.parquet", fx_table)
    for rel, table in (
        ("regional_erp/plano_de_contas.csv", regional.accounts_table()),
        ("regional_erp/centros_de_custo.csv", regional.cost_centers_table()),
    ):
        regional.write_csv(table, out / rel)
        record(rel, table)

    # ---------------------------------------------------------------- sub-ledgers
    volumes = Volumes.for_scale(scale)
    crm = make_crm(rngs["crm"], fx, volumes.invoices, volumes.revenue)
    write_jsonl(crm.accounts, out / "crm/accounts.jsonl")
    record("crm/accounts.jsonl", crm.accounts)
    opps = crm.opportunities
    parquet(
        "crm/opportunities.parquet",
        opps,
        _grouped(
            [_str(opps, "Legal_Entity__c"), _str(opps, "StageName"), _str(opps, "CurrencyIsoCode")],
            {"Amount": _minor(opps, "Amount")},
        ),
    )
    del opps
    payroll = make_payroll(rngs["payroll"], scale, volumes.revenue)
    write_jsonl(payroll.workers, out / "payroll/workers.jsonl")
    record("payroll/workers.jsonl", payroll.workers)
    res = payroll.results
    parquet(
        "payroll/payroll_results.parquet",
        res,
        _grouped(
            [_str(res, "Company")],
            {k: _minor(res, k) for k in ("Gross_Earnings", "Employer_Taxes", "Benefits")},
        ),
    )

    # ---------------------------------------------------------------- journals, period by period
    journals = JournalGenerator(rngs["journals"], fx, volumes, crm, payroll, projects)
    actuals = []
    for period in PERIODS:
        pj = journals.period(period)
        actuals.append(pj.pl_actuals())
        erp = pj.erp_table(crm.account_ids, projects)
        cc = _minor(erp, "AmountInCompanyCodeCurrency")
        parquet(
            f"erp/journal_items/{period.key}.parquet",
            erp,
            _grouped(
                [_str(erp, "CompanyCode")],
                {
                    "debit_company_code_currency": np.maximum(cc, 0),
                    "credit_company_code_currency": np.maximum(-cc, 0),
                },
            ),
        )
        drop = regional.journal_table(pj)
        rel = f"regional_erp/drops/lancamentos_{period.yyyymm}.csv"
        regional.write_csv(drop, out / rel)
        record(
            rel,
            drop,
            _grouped(
                [_str(drop, "empresa")],
                {
                    "debito_brl": _minor(drop, "debito_brl"),
                    "credito_brl": _minor(drop, "credito_brl"),
                },
            ),
        )
        del pj, erp, drop

    # ---------------------------------------------------------------- FP&A
    versions = fpa.versions_table()
    write_jsonl(versions, out / "fpa/plan_versions.jsonl")
    record("fpa/plan_versions.jsonl", versions)
    plan = fpa.plan_lines_table(rngs["fpa"], actuals)
    parquet(
        "fpa/plan_lines.parquet",
        plan,
        _grouped([_str(plan, "Version"), _str(plan, "Entity")], {"Amount": _minor(plan, "Amount")}),
    )

    manifest = {
        "generator": "finsync sandbox",
        "seed": seed,
        "scale": scale,
        "fiscal_year_start_month": FISCAL_YEAR_START_MONTH,
        "periods": [p.key for p in PERIODS],
        "group_currency": GROUP_CURRENCY,
        "currencies": list(CURRENCIES),
        "companies": list(COMPANY_CODES),
        "document_types": list(DOC_TYPES),
        "journal_lines": {
            "erp": sum(v["rows"] for k, v in files.items() if k.startswith("erp/journal_items/")),
            "regional_erp": sum(
                v["rows"] for k, v in files.items() if k.startswith("regional_erp/drops/")
            ),
        },
        "files": dict(sorted(files.items())),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = about a million GL lines")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("data/sandbox"))
    parser.add_argument(
        "--write-seeds",
        type=Path,
        metavar="DIR",
        help="write the dbt mapping seeds map_regional_*.csv into DIR and exit",
    )
    args = parser.parse_args(argv)
    if args.write_seeds:
        regional.write_seeds(args.write_seeds)
        return
    manifest = generate(args.out, args.scale, args.seed)
    lines = manifest["journal_lines"]
    print(
        f"wrote {args.out}: {lines['erp']} ERP + {lines['regional_erp']} regional journal lines, "
        f"{len(manifest['files'])} files (seed {args.seed}, scale {args.scale})"
    )
