"""A second small enterprise with breaks injected into its ERP extracts, run once through the
main job for the session (the `broken_enterprise` fixture in conftest):

- DE01's payroll run of FY2025 P04 is missing from the GL (its PR document is dropped);
- DE01's leg of the FY2025 P05 intercompany fee is missing (US01's leg stays);
- FR01 posts a vendor invoice into FY2025 P02 a month after the period was locked.

The ERP's API serves the same extracts, so the ERP's own trial balance still ties to what
is loaded: only the sub-ledger, intercompany and close checkpoints may break. What each
break should amount to is measured from the extracts before they are changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from orchestration.jobs import MAIN_JOB
from orchestration.paths import Paths
from sandbox.api import Enterprise
from sandbox.generate import generate

PAYROLL_ACCOUNTS = ("600000", "601000", "602000")
LATE_DOCUMENT = "5199999999"
LATE_CHANGE = datetime(2024, 7, 10, 9, 0, tzinfo=UTC)  # FY2025 P02 locked on 2024-06-06


@dataclass
class BrokenEnterprise:
    paths: Paths
    instance: dg.DagsterInstance
    run: dg.ExecuteInProcessResult
    missing_payroll_expense: Decimal  # DE01 2025-P04, EUR
    one_sided_fee: Decimal  # US01's fee revenue to DE01 in 2025-P05, USD, as a credit
    late_posting_debits: Decimal  # FR01 2025-P02, EUR
    alerts: Path


def _amount(table: pa.Table, column: str = "AmountInCompanyCodeCurrency") -> Decimal:
    return Decimal(str(pc.sum(table[column]).as_py() or 0))


def inject(extracts: Path) -> dict[str, Decimal]:
    """Change the ERP's journal extracts in place; returns what each break amounts to."""
    journals = extracts / "erp" / "journal_items"
    field = pc.field

    p04 = pq.read_table(journals / "2025-004.parquet")
    payrun = (field("CompanyCode") == "DE01") & (field("AccountingDocumentType") == "PR")
    expense = p04.filter(payrun & field("GLAccount").isin(PAYROLL_ACCOUNTS))
    pq.write_table(p04.filter(~payrun), journals / "2025-004.parquet")

    p05 = pq.read_table(journals / "2025-005.parquet")
    fee = p05.filter(
        (field("CompanyCode") == "US01")
        & (field("PartnerCompany") == "DE01")
        & (field("AccountingDocumentType") == "IC")
        & (field("GLAccount") == "480000")
    )
    de01_leg = (field("CompanyCode") == "DE01") & (field("AccountingDocumentType") == "IC")
    pq.write_table(p05.filter(~de01_leg), journals / "2025-005.parquet")

    p02 = pq.read_table(journals / "2025-002.parquet")
    invoices = p02.filter(
        (field("CompanyCode") == "FR01") & (field("AccountingDocumentType") == "KR")
    )
    first = invoices.filter(field("AccountingDocument") == invoices["AccountingDocument"][0])
    late = first.set_column(
        first.schema.get_field_index("AccountingDocument"),
        "AccountingDocument",
        pa.array([LATE_DOCUMENT] * len(first)),
    ).set_column(
        first.schema.get_field_index("LastChangeDateTime"),
        "LastChangeDateTime",
        pa.array([LATE_CHANGE] * len(first), first.schema.field("LastChangeDateTime").type),
    )
    pq.write_table(pa.concat_tables([p02, late]), journals / "2025-002.parquet")
    debits = late.filter(pc.greater(late["AmountInCompanyCodeCurrency"], 0))
    return {
        "missing_payroll_expense": _amount(expense),
        "one_sided_fee": -_amount(fee, "AmountInTransactionCurrency"),
        "late_posting_debits": _amount(debits),
    }


def run_broken_enterprise(
    data: Path, instance: dg.DagsterInstance, scale: float, seed: int
) -> BrokenEnterprise:
    """Generate, inject, serve the changed extracts and run the main job once. The
    environment (data dir for dbt, source URLs, alert file) is this enterprise's only
    for the run: the session's own enterprise keeps it otherwise."""
    from orchestration.graph import build

    paths = Paths(data)
    generate(paths.extracts, scale=scale, seed=seed)
    amounts = inject(paths.extracts)
    alerts = data / "alerts.jsonl"
    with pytest.MonkeyPatch.context() as env, Enterprise(paths.extracts) as systems:
        env.setenv("FINSYNC_DATA_DIR", str(data))
        env.setenv("FINSYNC_ALERT_FILE", str(alerts))
        for name, value in systems.env().items():
            env.setenv(name, value)
        run = (
            build(paths)
            .resolve_job_def(MAIN_JOB)
            .execute_in_process(instance=instance, raise_on_error=False)
        )
    return BrokenEnterprise(paths=paths, instance=instance, run=run, alerts=alerts, **amounts)
