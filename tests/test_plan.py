"""Plans back from the planning tool: every version is kept with its status, only approved
ones feed budget vs actual, a new forecast never overwrites an older one, and a bad send,
served by the FP&A simulator itself, is refused whole with an error naming the row."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingest import fpa
from ingest.pipelines import load
from orchestration.paths import DBT_PROJECT_DIR, Paths
from sandbox.api import Enterprise
from sandbox.api.fpa import FpaApi
from sandbox.api.tables import records
from tests.conftest import query
from tests.copies import copy_data_dir

DBT = str(Path(sys.executable).with_name("dbt"))  # the environment's dbt, on PATH or not
NEW = "FC3_FY2026"


@dataclass
class Planning:
    data: Paths
    systems: Enterprise

    def load(self) -> None:
        load("fpa", self.data.extracts, self.data.warehouse, self.data.dlt)

    def raw(self) -> tuple[int, int, int]:
        [counts] = query(
            self.data,
            "select (select count(*) from raw_fpa.plan_versions),"
            " (select count(*) from raw_fpa.plan_lines),"
            " (select coalesce(sum(amount), 0) from raw_fpa.plan_lines)",
        )
        return counts


@pytest.fixture(scope="module")
def planning(
    paths: Paths, main_run, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Planning]:
    """A copy of the session's warehouse and dlt state, and simulators of its own, so that
    what the planning tool sends here reaches no other test."""
    data = copy_data_dir(paths, tmp_path_factory.mktemp("plans") / "data")
    shutil.copytree(paths.dlt, data.dlt)
    with Enterprise(paths.extracts) as systems, pytest.MonkeyPatch.context() as env:
        for name, value in systems.env().items():
            env.setenv(name, value)
        yield Planning(data, systems)


def lines_of(planning: Planning, version: str, limit: int | None = None) -> list[dict]:
    rows = query(
        planning.data,
        "select entity, account, cost_center, month, currency, cast(amount as varchar)"
        " from raw_fpa.plan_lines where version = ? order by all"
        + (f" limit {int(limit)}" if limit else ""),
        [version],
    )
    return [
        {
            "Version": NEW,
            "Entity": entity,
            "Account": account,
            "Cost_Center": cost_center,
            "Month": month,
            "Currency": currency,
            "Amount": amount,
        }
        for entity, account, cost_center, month, currency, amount in rows
    ]


def forecast(submitted: str, status: str = "Draft") -> dict:
    return {
        "Version": NEW,
        "Version_Name": "Forecast 3 FY2026 (9+3)",
        "Version_Type": "Forecast",
        "Fiscal_Year": 2026,
        "Status": status,
        "Submitted_At": submitted,
    }


def test_every_version_is_kept_and_only_approved_ones_feed_budget_vs_actual(
    paths: Paths, main_run
) -> None:
    versions = query(
        paths,
        "select plan_version_code, plan_version_status, is_reporting_version, count(*)"
        " from marts.fct_plan group by all order by 1",
    )
    reported = query(
        paths,
        "select distinct fiscal_year, budget_version_code, forecast_version_code"
        " from marts.budget_vs_actual order by 1",
    )
    [(budget, planned)] = query(
        paths,
        "select (select sum(amount_budget_functional) from marts.budget_vs_actual"
        "   where fiscal_year = 2026),"
        " (select sum(amount_functional) from marts.fct_plan"
        "   where plan_version_code = 'BUD_FY2026'"
        "   and period_id in (select period_id from marts.dim_fiscal_period))",
    )
    assert [row[:3] for row in versions] == [
        ("BUD_FY2025", "approved", True),
        ("BUD_FY2026", "approved", True),
        ("FC1_FY2026", "approved", True),
        ("FC2_FY2026", "submitted", False),  # newer, but not approved: it does not report
    ]
    assert all(lines > 0 for *_, lines in versions)
    assert reported == [(2025, "BUD_FY2025", None), (2026, "BUD_FY2026", "FC1_FY2026")]
    assert budget == planned != 0


BAD_SENDS = {
    "unknown entity": (
        lambda lines: [lines[0], {**lines[1], "Entity": "ZZ99"}, lines[2]],
        "(Version='FC3_FY2026', Entity='ZZ99', Account=",
        "unknown entity 'ZZ99'",
    ),
    "unknown account": (
        lambda lines: [lines[0], lines[1], {**lines[2], "Account": "999999"}],
        "Account='999999'",
        "unknown account '999999'",
    ),
    "duplicate key": (
        lambda lines: [*lines, lines[1]],
        "(Version='FC3_FY2026', Entity=",
        "duplicate key",
    ),
    "non-numeric amount": (
        lambda lines: [{**lines[0], "Amount": "12,5O"}, lines[1], lines[2]],
        "(Version='FC3_FY2026', Entity=",
        "amount '12,5O' is not a number",
    ),
}


@pytest.mark.parametrize("case", BAD_SENDS)
def test_a_bad_send_is_refused_naming_the_row_and_loads_nothing(
    planning: Planning, case: str
) -> None:
    change, row, reason = BAD_SENDS[case]
    before = planning.raw()
    planning.systems.fpa.send(
        forecast("2025-12-12T10:00:00.000000Z"), change(lines_of(planning, "FC2_FY2026", 3))
    )
    try:
        with pytest.raises(PipelineStepFailed) as refused:
            planning.load()
    finally:
        planning.systems.fpa.withdraw()
    message = str(refused.value)
    assert "plan send refused, nothing loaded" in message
    assert reason in message
    assert "plan line " in message and row in message  # which row, by its key
    assert planning.raw() == before  # not the good lines, not the version row


def test_a_version_older_than_the_current_one_is_refused(planning: Planning) -> None:
    """A forecast submitted before FC2 (the current forecast of FY2026), sent today."""
    before = planning.raw()
    planning.systems.fpa.send(
        forecast("2025-09-01T10:00:00.000000Z"),
        lines_of(planning, "FC2_FY2026", 3),
        changed_at="2026-01-05T09:00:00.000000Z",
    )
    try:
        with pytest.raises(PipelineStepFailed, match="older than the current forecast FC2_FY2026"):
            planning.load()
    finally:
        planning.systems.fpa.withdraw()
    assert planning.raw() == before


def test_a_new_forecast_loads_beside_the_older_ones_and_reports_once_approved(
    planning: Planning, tmp_path: Path
) -> None:
    older = query(
        planning.data,
        "select version, count(*), sum(amount) from raw_fpa.plan_lines group by all order by 1",
    )
    lines = [
        {
            **line,
            "Amount": str((Decimal(line["Amount"]) * Decimal("1.1")).quantize(Decimal("0.01"))),
        }
        for line in lines_of(planning, "FC2_FY2026")
    ]
    planning.systems.fpa.send(forecast("2025-12-12T10:00:00.000000Z", "Approved"), lines)
    try:
        planning.load()
    finally:
        planning.systems.fpa.withdraw()
    after = query(
        planning.data,
        "select version, count(*), sum(amount) from raw_fpa.plan_lines group by all order by 1",
    )
    [(leaked,)] = query(
        planning.data,
        "select count(*) from raw_fpa.plan_lines where entity = 'ZZ99' or account = '999999'",
    )
    build = subprocess.run(
        [
            DBT, "--no-use-colors", "build", "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"),
            "--select", "stg_fpa__plan_versions", "stg_fpa__plan_lines", "int_plan_lines",
            "fct_plan", "budget_vs_actual",
        ],
        env={**os.environ, "FINSYNC_DATA_DIR": str(planning.data.data)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    reporting = query(
        planning.data,
        "select plan_version_code, plan_version_status, is_reporting_version"
        " from marts.fct_plan where fiscal_year = 2026 group by all order by 1",
    )
    [(forecast_version,)] = query(
        planning.data,
        "select distinct forecast_version_code from marts.budget_vs_actual"
        " where fiscal_year = 2026",
    )
    assert after == [*older, (NEW, len(lines), sum(Decimal(line["Amount"]) for line in lines))]
    assert leaked == 0  # nothing of the refused sends came back with the good one
    assert build.returncode == 0, build.stdout[-3000:]
    assert reporting == [
        ("BUD_FY2026", "approved", True),
        ("FC1_FY2026", "approved", False),  # kept, no longer the reporting forecast
        ("FC2_FY2026", "submitted", False),
        (NEW, "approved", True),
    ]
    assert forecast_version == NEW


# lines a column check must not pass: each breaks a rule, or needs Python's reading
LINES_TO_READ_ONE_BY_ONE = {
    "unknown version": lambda line: {**line, "Version": "FC9_FY2026"},
    "unknown entity": lambda line: {**line, "Entity": "ZZ99"},
    "unknown account": lambda line: {**line, "Account": "999999"},
    "empty cost center": lambda line: {**line, "Cost_Center": ""},
    "no cost center": lambda line: {k: v for k, v in line.items() if k != "Cost_Center"},
    "month not a month": lambda line: {**line, "Month": "April 25"},
    "month with a newline": lambda line: {**line, "Month": line["Month"] + "\n"},
    "month with other digits": lambda line: {**line, "Month": "Apr \u0662\u0665"},
    "amount with three decimals": lambda line: {**line, "Amount": "12.345"},
    "amount not a number": lambda line: {**line, "Amount": "12,5O"},
    "amount infinite": lambda line: {**line, "Amount": "Infinity"},
    "amount as a JSON number": lambda line: {**line, "Amount": 12.5},
    "amount as a JSON boolean": lambda line: {**line, "Amount": True},
    "amount missing": lambda line: {**line, "Amount": None},
    "change time without a zone": lambda line: {**line, "Last_Updated": "2025-12-12T10:00:00"},
    "change time missing": lambda line: {**line, "Last_Updated": None},
    "entity as a JSON number": lambda line: {**line, "Entity": 1000},
}


def test_a_send_checked_by_column_loads_what_line_by_line_would_and_defers_any_doubt(
    paths: Paths,
) -> None:
    """The column check (`lines_in_bulk`) types a good send exactly as the line-by-line
    check does, and hands every doubtful send to it, which names the bad line or, for an
    amount sent as a JSON number, loads it."""
    served = FpaApi(paths.extracts).tables
    versions, lines = records(served["versions"].data), records(served["lines"].data)
    known = {version["Version"] for version in versions}
    entities, accounts = {line["Entity"] for line in lines}, {line["Account"] for line in lines}

    problems, rows = fpa.checked_lines(lines, known, entities, accounts)
    bulk = fpa.lines_in_bulk(lines, known, entities, accounts)
    assert problems == [] and len(rows) == len(lines) > 1000
    assert bulk is not None and bulk.equals(fpa.table(rows, fpa.LINES, fpa.LINE_KEY))
    assert fpa.validate(versions, lines, {}, entities, accounts)[1].equals(bulk)

    assert fpa.lines_in_bulk([*lines, lines[7]], known, entities, accounts) is None
    for case, change in LINES_TO_READ_ONE_BY_ONE.items():
        send = [*lines[:5], change(lines[5]), *lines[6:]]
        assert fpa.lines_in_bulk(send, known, entities, accounts) is None, case
        problems, rows = fpa.checked_lines(send, known, entities, accounts)
        if problems:
            assert [p.split(":")[0] for p in problems] == [
                fpa.describe("plan line", 6, send[5], fpa.LINE_KEY)
            ], case
            with pytest.raises(fpa.PlanRejected, match="plan line 6 "):
                fpa.validate(versions, send, {}, entities, accounts)
        else:  # read by Python: the line loads
            assert len(rows) == len(lines) and case == "amount as a JSON number", case
