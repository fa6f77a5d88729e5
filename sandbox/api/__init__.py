"""The demo enterprise's source systems as HTTP APIs on loopback.

`Enterprise(extracts)` serves the generated extracts through four simulators
(ERP, payroll, CRM, FP&A), each in its vendor's shape. Time passes on demand
(`advance_business_day`): new postings, changed and deleted records, close
milestones, so that an incremental run has work. `env()` is how a client finds
them: base URLs and client credentials as dlt config variables.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import numpy as np

from sandbox.api.crm import CrmApi
from sandbox.api.erp import ErpApi
from sandbox.api.fpa import FpaApi
from sandbox.api.payroll import PayrollApi
from sandbox.api.service import Service
from sandbox.calendar import add_business_days

__all__ = ["CrmApi", "Enterprise", "ErpApi", "FpaApi", "PayrollApi", "Service"]


class Enterprise:
    def __init__(self, extracts: Path, max_requests_per_second: float = 200.0) -> None:
        options = {"max_requests_per_second": max_requests_per_second}
        self.erp = ErpApi(extracts, **options)
        self.payroll = PayrollApi(extracts, **options)
        self.crm = CrmApi(extracts, **options)
        self.fpa = FpaApi(extracts, **options)
        self.services: dict[str, Service] = {
            s.name: s for s in (self.erp, self.payroll, self.crm, self.fpa)
        }

    def start(self) -> Enterprise:
        for service in self.services.values():
            service.start()
        return self

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()

    def __enter__(self) -> Enterprise:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """dlt config as environment variables: `SOURCES__<SYSTEM>__BASE_URL` and credentials."""
        out = {}
        for name, service in self.services.items():
            prefix = f"SOURCES__{name.upper()}__"
            out[prefix + "BASE_URL"] = service.base_url
            out[prefix + "CLIENT_ID"] = service.client_id
            out[prefix + "CLIENT_SECRET"] = service.client_secret
        return out

    def advance_business_day(self) -> dict[str, dict[str, int]]:
        """Move every system's clock to the next business day; returns records changed."""
        today = int(np.datetime64(self.erp.today, "D").astype(np.int64))
        day = int(add_business_days(np.array([today + 1]), 0)[0])
        changes = {name: service.advance(day) for name, service in self.services.items()}
        self.erp.today = np.datetime64(day, "D").item()
        return changes
