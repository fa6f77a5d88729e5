"""Sensors that start loads when a source system has something new: a file in a
landing folder, or a close milestone the ERP reached.

- `landing_sensor`: a new regional ERP drop (CSV) starts the regional load; a new bulk
  extract part of the group ERP starts the ERP load. Files are known by content hash
  (`ingest.landing`, as the loads know them): the hashes seen live in the sensor
  cursor, and the run key is made of the new hashes, so a file dropped again, under
  any name, starts nothing.
- `close_milestone_sensor`: polls the ERP's close milestone events through its API
  (bearer token from dlt secrets, as the loads get theirs) and, for new events,
  loads the close tables and refreshes everything downstream of them. The cursor is
  the latest event time and the events seen at that time: the API is asked for
  events at or after it, so an event stamped with the same second is not missed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import dagster as dg
import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from ingest.api import ClientCredentials, RequestLog, page_holds, raise_for_status
from ingest.erp import ROOT
from ingest.landing import UnsafeFileName, new_files
from ingest.rest import EPOCH, vendor_time
from orchestration.paths import Paths

# system -> (landing folder under the extracts, file pattern)
LANDINGS = {
    "regional_erp": ("regional_erp/drops", "lancamentos_*.csv"),
    "erp": ("erp/journal_items", "*.parquet"),
}
load_jobs = {
    system: dg.define_asset_job(
        f"{system}_load",
        selection=dg.AssetSelection.key_prefixes([f"raw_{system}"]),
        description=f"Load raw_{system}; models downstream follow by declarative automation.",
    )
    for system in LANDINGS
}

CLOSE_TABLES = [
    dg.AssetKey(["raw_erp", "close_calendar"]),
    dg.AssetKey(["raw_erp", "close_milestone_events"]),
]
# staging, marts and reconciliation follow; publishing exports is the schedules' business
close_refresh = dg.AssetSelection.assets(
    *CLOSE_TABLES
).downstream() - dg.AssetSelection.key_prefixes(["exports"])


def landing_sensor(paths: Paths) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_sensor",
        jobs=list(load_jobs.values()),
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="New regional ERP drops and ERP bulk extract parts start their load.",
    )
    def sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        seen: dict[str, dict[str, str]] = json.loads(context.cursor or "{}")
        requests = []
        for system, (folder, pattern) in LANDINGS.items():
            known = seen.setdefault(system, {})
            new = {}
            try:
                for landed in new_files(paths.extracts / folder, pattern, known):
                    new[landed.sha256] = landed.path.name
            except UnsafeFileName as error:
                # the load refuses it and fails loudly: start it, once per refused name
                new[f"refused:{error}"] = str(error)
            if new:
                known.update(new)
                requests.append(
                    dg.RunRequest(
                        run_key=f"{system}:{_digest(sorted(new))}",
                        job_name=load_jobs[system].name,
                        tags={"landed_files": ", ".join(sorted(new.values()))[:1000]},
                    )
                )
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))

    return sensor


@dg.sensor(
    name="close_milestone_sensor",
    target=close_refresh,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="The ERP reached a close milestone: load the close tables, refresh close status.",
)
def close_milestone_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    cursor = json.loads(context.cursor or "{}")
    since = cursor.get("since", vendor_time(EPOCH))
    at_since = set(cursor.get("events", []))
    events = [e for e in milestone_events(since) if e["EventID"] not in at_since]
    if not events:
        return dg.SensorResult(skip_reason=f"no close milestone reached since {since}")
    latest = max(e["LastChangeDateTime"] for e in events)
    ids = [e["EventID"] for e in events if e["LastChangeDateTime"] == latest]
    if latest == since:
        ids += at_since
    reached = sorted(f"{e['CompanyCode']} {e['Milestone']}" for e in events)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"close:{_digest(sorted(e['EventID'] for e in events))}",
                tags={"close_milestones": ", ".join(reached)[:1000]},
            )
        ],
        cursor=json.dumps({"since": latest, "events": sorted(ids)}),
    )


def milestone_events(since: str) -> list[dict]:
    """The ERP's milestone events changed at or after `since` (a vendor timestamp)."""
    datetime.fromisoformat(since.replace("Z", "+00:00"))  # refuse a corrupt cursor early
    base_url = dlt.config["sources.erp.base_url"]
    client = RESTClient(
        base_url=base_url,
        auth=ClientCredentials(token_url=f"{base_url}/oauth/token", system="erp"),
        paginator=JSONLinkPaginator(next_url_path="['@odata.nextLink']"),
        session=RequestLog().session(),
    )
    pages = client.paginate(
        f"{ROOT}/CloseMilestoneEvents",
        params={"$filter": f"LastChangeDateTime ge {since}"},
        data_selector="value",
        hooks={"response": [raise_for_status, page_holds(("value", list))]},
    )
    return [event for page in pages for event in page]


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def sensors(paths: Paths) -> list[dg.SensorDefinition]:
    return [landing_sensor(paths), close_milestone_sensor]
