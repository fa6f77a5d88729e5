"""Alerts for the people who act on them: run failures, failed checks and freshness breaches,
routed by owner role to a sink that is configuration.

Roles follow who fixes what: the integration team owns the source systems and the raw
layer, the platform owner owns the pipeline in between and the runs, controllers own
the published finance products and their exports. The sink is a JSON-lines file by
default (`<data>/alerts/alerts.jsonl`); `FINSYNC_ALERT_WEBHOOK` sends every alert to a
webhook instead, and `FINSYNC_ALERT_WEBHOOK_<ROLE>` (e.g. `..._CONTROLLER`) overrides it
for one role.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.paths import Paths

CONTROLLER, INTEGRATION, PLATFORM = "controller", "integration", "platform"
ROLES = (CONTROLLER, INTEGRATION, PLATFORM)


def owner_role(key: dg.AssetKey) -> str:
    """Who answers for an asset: by its layer, the first part of its key."""
    layer = key.path[0]
    if layer == "sources" or layer.startswith("raw_"):
        return INTEGRATION
    if layer in {"marts", "exports", "quarantine", "reconciliation"}:
        return CONTROLLER
    return PLATFORM


def owner_team(key: dg.AssetKey) -> str:
    """The role as a Dagster owner, so the UI shows and filters who owns an asset."""
    return f"team:{owner_role(key)}"


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failure | check_failure | freshness_breach | reconciliation_break | restatement
    role: str
    subject: str
    message: str
    details: Mapping[str, object] = field(default_factory=dict)
    raised_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


@dataclass(frozen=True)
class AlertSink:
    """Where alerts go: a webhook per role when configured, else a JSON-lines file."""

    jsonl_path: Path
    webhooks: Mapping[str, str]

    @classmethod
    def from_env(cls, paths: Paths | None = None) -> AlertSink:
        paths = paths or Paths.from_env()
        default = os.environ.get("FINSYNC_ALERT_WEBHOOK", "")
        webhooks = {
            role: os.environ.get(f"FINSYNC_ALERT_WEBHOOK_{role.upper()}", default) for role in ROLES
        }
        return cls(
            jsonl_path=Path(
                os.environ.get("FINSYNC_ALERT_FILE", paths.data / "alerts" / "alerts.jsonl")
            ),
            webhooks={role: url for role, url in webhooks.items() if url},
        )

    def send(self, alert: Alert) -> str:
        """Deliver one alert; returns where it went."""
        body = json.dumps(asdict(alert), default=str, sort_keys=True)
        url = self.webhooks.get(alert.role)
        if url:
            request = urllib.request.Request(
                url, data=body.encode(), headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
            return url
        self.jsonl_path.parent.mkdir(parents=True, exist_ok=True)
        with self.jsonl_path.open("a") as sink:
            sink.write(body + "\n")
        return str(self.jsonl_path)


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[Alert]:
    """One alert per failed asset check of a run, routed to the checked asset's owner."""
    alerts = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        key = evaluation.asset_check_key
        metadata = {name: value.value for name, value in evaluation.metadata.items()}
        alerts.append(
            Alert(
                kind="check_failure",
                role=owner_role(key.asset_key),
                subject=key.to_user_string(),
                message=f"check {key.name} failed on {key.asset_key.to_user_string()}",
                details={
                    "run_id": run_id,
                    "severity": evaluation.severity.value,
                    "failed_rows": metadata.get("failed_rows"),
                },
            )
        )
    return alerts


def reconciliation_break_alerts(
    checkpoint: str, owner: str, blocking: bool, breaks: Iterable[Mapping[str, object]]
) -> list[Alert]:
    """One alert per break a checkpoint newly found, routed to the checkpoint's owner."""
    return [
        Alert(
            kind="reconciliation_break",
            role=owner,
            subject=f"{checkpoint} {b['entity']} {b['period']}",
            message=f"{checkpoint} does not tie for {b['entity']} {b['period']}:"
            f" {b['difference']} {b['unit']}" + (" (blocks the FP&A export)" if blocking else ""),
            details={"checkpoint": checkpoint, "blocking": blocking, **b},
        )
        for b in breaks
    ]


def restatement_alerts(postings: Iterable[Mapping[str, object]]) -> list[Alert]:
    """One alert per posting into a locked period, for the controller: its amount and the
    products whose numbers for that period it changes."""
    return [
        Alert(
            kind="restatement",
            role=CONTROLLER,
            subject=f"{p['entity_code']} {p['period_id']} document {p['document_number']}",
            message=f"posting into locked period {p['period_id']} of {p['entity_code']}:"
            f" {p['amount_functional']} {p['currency_functional']}; changes"
            f" {p['products_changed']}",
            details=dict(p),
        )
        for p in postings
    ]


def run_failure_alerts(instance: dg.DagsterInstance, run: dg.DagsterRun, error: str) -> list[Alert]:
    """The failed run for the platform owner, and each failed check for its owner."""
    run_alert = Alert(
        kind="run_failure",
        role=PLATFORM,
        subject=run.job_name,
        message=f"run {run.run_id} of {run.job_name} failed",
        details={"run_id": run.run_id, "error": error, "tags": dict(run.tags)},
    )
    return [run_alert, *failed_checks(instance, run.run_id)]


def freshness_breaches(
    instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey], already: Mapping[str, float]
) -> tuple[list[Alert], dict[str, float]]:
    """Alerts for assets whose freshness state turned FAIL since they were last alerted.

    The freshness daemon records each asset's state (what the UI shows); an asset is
    alerted once per breach, again only after it recovered and breached anew.
    """
    records = instance.get_freshness_state_records(list(keys))
    alerts, alerted = [], {}
    for key, record in records.items():
        if record.freshness_state.value != "FAIL":  # the enum is not exported by dagster
            continue
        name, since = key.to_user_string(), record.updated_at.timestamp()
        alerted[name] = since
        if already.get(name) == since:
            continue
        alerts.append(
            Alert(
                kind="freshness_breach",
                role=owner_role(key),
                subject=name,
                message=f"{name} is stale: it missed its freshness promise",
                details={"stale_since": record.updated_at.isoformat()},
            )
        )
    return alerts, alerted


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A failed run alerts the platform owner; its failed checks alert their owners.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
    sink = AlertSink.from_env()
    for alert in run_failure_alerts(
        context.instance, context.dagster_run, context.failure_event.message or ""
    ):
        sink.send(alert)


@dg.run_status_sensor(
    name="alert_on_failed_checks",
    run_status=dg.DagsterRunStatus.SUCCESS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A run that succeeded with failed (non-blocking) checks alerts each check's owner.",
)
def alert_on_failed_checks(context: dg.RunStatusSensorContext) -> None:
    sink = AlertSink.from_env()
    for alert in failed_checks(context.instance, context.dagster_run.run_id):
        sink.send(alert)


def freshness_alert_sensor(keys: Iterable[dg.AssetKey]) -> dg.SensorDefinition:
    """Alerts on freshness breaches of the given assets (those with a freshness policy)."""
    watched = sorted(keys, key=lambda key: key.to_user_string())

    @dg.sensor(
        name="alert_on_freshness_breach",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="A product that misses its freshness promise alerts its owner.",
    )
    def alert_on_freshness_breach(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        already = json.loads(context.cursor) if context.cursor else {}
        alerts, alerted = freshness_breaches(context.instance, watched, already)
        sink = AlertSink.from_env()
        for alert in alerts:
            sink.send(alert)
        context.update_cursor(json.dumps(alerted, sort_keys=True))
        return dg.SkipReason(f"{len(alerts)} freshness alert(s) sent, {len(alerted)} stale")

    return alert_on_freshness_breach
