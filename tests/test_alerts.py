"""Alerts: run failures, failed checks and freshness breaches reach the owner's role,
through a JSON-lines file by default or a webhook when one is configured."""

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

from orchestration.alerts import (
    CONTROLLER,
    INTEGRATION,
    PLATFORM,
    Alert,
    AlertSink,
    alert_on_failed_checks,
    alert_on_run_failure,
    freshness_alert_sensor,
    owner_role,
)
from orchestration.paths import REPO_ROOT, Paths

TRIAL_BALANCE = dg.AssetKey(["marts", "trial_balance"])


@pytest.fixture
def alert_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("FINSYNC_ALERT_FILE", str(path))
    for name in ("", "_CONTROLLER", "_INTEGRATION", "_PLATFORM"):
        monkeypatch.delenv(f"FINSYNC_ALERT_WEBHOOK{name}", raising=False)
    return path


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize(
    ("key", "role"),
    [
        (["sources", "erp"], INTEGRATION),
        (["raw_erp", "journal_items"], INTEGRATION),
        (["staging", "stg_erp__journal_items"], PLATFORM),
        (["intermediate", "int_fx_rates"], PLATFORM),
        (["marts", "trial_balance"], CONTROLLER),
        (["exports", "fpa_actuals"], CONTROLLER),
    ],
)
def test_alerts_go_to_the_role_that_owns_the_asset(key: list[str], role: str) -> None:
    assert owner_role(dg.AssetKey(key)) == role


def test_the_default_sink_is_a_json_lines_file(alert_file: Path) -> None:
    sink = AlertSink.from_env(Paths(alert_file.parent))
    where = sink.send(Alert("check_failure", CONTROLLER, "marts/x:contract", "failed"))
    sink.send(Alert("run_failure", PLATFORM, "finsync_main", "failed"))
    alerts = read(alert_file)
    assert where == str(alert_file)
    assert [(a["kind"], a["role"]) for a in alerts] == [
        ("check_failure", CONTROLLER),
        ("run_failure", PLATFORM),
    ]


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A webhook receiver on loopback that keeps what it is sent."""
    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", received
    server.shutdown()
    server.server_close()


def test_a_webhook_set_for_a_role_receives_that_roles_alerts(
    alert_file: Path, webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = webhook
    monkeypatch.setenv("FINSYNC_ALERT_WEBHOOK_CONTROLLER", url)
    sink = AlertSink.from_env()
    sink.send(Alert("freshness_breach", CONTROLLER, "marts/trial_balance", "stale"))
    sink.send(Alert("run_failure", PLATFORM, "finsync_main", "failed"))
    assert [(a["kind"], a["subject"]) for a in received] == [
        ("freshness_breach", "marts/trial_balance")
    ]
    assert [a["kind"] for a in read(alert_file)] == ["run_failure"]


def test_one_webhook_for_all_roles(alert_file: Path, webhook, monkeypatch) -> None:
    url, received = webhook
    monkeypatch.setenv("FINSYNC_ALERT_WEBHOOK", url)
    sink = AlertSink.from_env()
    for role in (CONTROLLER, INTEGRATION, PLATFORM):
        sink.send(Alert("check_failure", role, "x", "failed"))
    assert [a["role"] for a in received] == [CONTROLLER, INTEGRATION, PLATFORM]
    assert not alert_file.exists()


# A small graph with finsync's keys: a product whose blocking check fails, and a raw
# feed whose warning check fails, so that runs fail (or not) for real.
@dg.asset(key=TRIAL_BALANCE)
def trial_balance() -> None:
    pass


@dg.asset(key=["exports", "reporting_trial_balance"], deps=[TRIAL_BALANCE])
def reporting_trial_balance() -> None:
    pass


@dg.asset_check(asset=TRIAL_BALANCE, name="contract", blocking=True)
def trial_balance_contract() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, metadata={"failed_rows": 3})


@dg.asset(key=["raw_crm", "opportunities"])
def opportunities() -> None:
    pass


@dg.asset_check(asset=dg.AssetKey(["raw_crm", "opportunities"]), name="contract")
def opportunities_contract() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.WARN, metadata={"failed_rows": 2}
    )


SMALL = dg.Definitions(
    assets=[trial_balance, reporting_trial_balance, opportunities],
    asset_checks=[trial_balance_contract, opportunities_contract],
)


def run_of(instance: dg.DagsterInstance, *assets) -> dg.ExecuteInProcessResult:
    job = dg.define_asset_job("small", selection=dg.AssetSelection.assets(*assets))
    defs = dg.Definitions.merge(SMALL, dg.Definitions(jobs=[job]))
    return defs.resolve_job_def("small").execute_in_process(instance=instance, raise_on_error=False)


def test_a_failed_run_alerts_the_platform_owner_and_the_failed_checks_owner(
    alert_file: Path,
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_of(instance, trial_balance, reporting_trial_balance)
        run = instance.get_run_by_id(result.run_id)
        [failure] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure",
            dagster_event=failure.dagster_event,
            dagster_instance=instance,
            dagster_run=run,
        ).for_run_failure()
        alert_on_run_failure(context)
    alerts = read(alert_file)
    assert not result.success
    assert [(a["kind"], a["role"], a["subject"]) for a in alerts] == [
        ("run_failure", PLATFORM, "small"),
        ("check_failure", CONTROLLER, "marts/trial_balance:contract"),
    ]
    assert alerts[1]["details"]["failed_rows"] == 3


def test_a_successful_run_with_a_failed_warning_check_alerts_its_owner(alert_file: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_of(instance, opportunities)
        run = instance.get_run_by_id(result.run_id)
        [success] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_failed_checks",
            dagster_event=success.dagster_event,
            dagster_instance=instance,
            dagster_run=run,
        )
        alert_on_failed_checks(context)
    alerts = read(alert_file)
    assert result.success
    assert [(a["kind"], a["role"], a["subject"]) for a in alerts] == [
        ("check_failure", INTEGRATION, "raw_crm/opportunities:contract")
    ]
    assert alerts[0]["details"] == {"failed_rows": 2, "run_id": run.run_id, "severity": "WARN"}


def test_a_stale_product_is_alerted_to_its_owner_once_per_breach(alert_file: Path) -> None:
    sensor = freshness_alert_sensor([TRIAL_BALANCE])
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(
            FreshnessStateChange(
                key=TRIAL_BALANCE,
                previous_state=FreshnessState.PASS,
                new_state=FreshnessState.FAIL,
                state_change_timestamp=time.time(),
            )
        )
        context = dg.build_sensor_context(instance=instance)
        sensor(context)
        again = dg.build_sensor_context(instance=instance, cursor=context.cursor)
        sensor(again)
    alerts = read(alert_file)
    assert [(a["kind"], a["role"], a["subject"]) for a in alerts] == [
        ("freshness_breach", CONTROLLER, "marts/trial_balance")
    ]


def test_the_freshness_daemon_marks_a_late_product_stale_and_the_owner_hears_of_it(
    paths: Paths, alert_file: Path
) -> None:
    """The real daemon on the real definitions: trial balance materialized, then two days
    pass without a refresh; its daily promise fails, which the UI shows and alerts report."""
    from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
    from dagster._core.workspace.load_target import ModuleTarget
    from dagster._daemon.freshness import FreshnessDaemon

    target = ModuleTarget(
        module_name="orchestration.definitions",
        attribute="defs",
        working_directory=str(REPO_ROOT),
        location_name="finsync",
    )
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(TRIAL_BALANCE))
        with create_test_daemon_workspace_context(target, instance) as workspace:
            daemon = FreshnessDaemon()
            list(daemon.run_iteration(workspace))
            fresh = instance.get_freshness_state_records([TRIAL_BALANCE])[TRIAL_BALANCE]
            with freeze_time(datetime.now().astimezone() + timedelta(days=2)):
                list(daemon.run_iteration(workspace))
            stale = instance.get_freshness_state_records([TRIAL_BALANCE])[TRIAL_BALANCE]
        freshness_alert_sensor([TRIAL_BALANCE])(dg.build_sensor_context(instance=instance))
    assert fresh.freshness_state == FreshnessState.PASS
    assert stale.freshness_state == FreshnessState.FAIL
    assert [(a["kind"], a["subject"]) for a in read(alert_file)] == [
        ("freshness_breach", "marts/trial_balance")
    ]
