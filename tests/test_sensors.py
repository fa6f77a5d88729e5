"""The sensors against real files in a landing folder and the real ERP simulator."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from orchestration.paths import Paths
from orchestration.resources import open_warehouse
from sandbox.api import Enterprise
from sandbox.generate import generate


@pytest.fixture(scope="module")
def enterprise(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Paths, Enterprise]]:
    paths = Paths(tmp_path_factory.mktemp("sensors"))
    generate(paths.extracts, scale=0.005, seed=5)
    with pytest.MonkeyPatch.context() as env, Enterprise(paths.extracts) as systems:
        env.setenv("FINSYNC_DATA_DIR", str(paths.data))
        for name, value in systems.env().items():
            env.setenv(name, value)
        yield paths, systems


@pytest.fixture(scope="module")
def defs(enterprise: tuple[Paths, Enterprise]) -> dg.Definitions:
    from orchestration.graph import build  # after FINSYNC_DATA_DIR is set

    return build(enterprise[0])


def tick(defs: dg.Definitions, name: str, cursor: str | None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def(name)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor)
        result = sensor(context)
    return result


def test_a_new_drop_starts_the_regional_load_once_and_a_redrop_starts_nothing(
    enterprise: tuple[Paths, Enterprise], defs: dg.Definitions
) -> None:
    paths, _ = enterprise
    drops = paths.extracts / "regional_erp" / "drops"
    first = tick(defs, "landing_sensor", None)
    assert sorted(r.job_name for r in first.run_requests) == ["erp_load", "regional_erp_load"]
    known = json.loads(first.cursor)
    assert len(known["regional_erp"]) == len(list(drops.glob("lancamentos_*.csv"))) > 10
    assert tick(defs, "landing_sensor", first.cursor).run_requests == []

    shutil.copy(drops / "lancamentos_2024-04.csv", drops / "lancamentos_2024-04_resent.csv")
    assert tick(defs, "landing_sensor", first.cursor).run_requests == []

    # a new drop: the first journal of May 2024 again, under a new document number
    header, *lines = (drops / "lancamentos_2024-05.csv").read_text(encoding="utf-8").splitlines()
    number = header.split(";").index("numero_lancamento")
    rows = [line.split(";") for line in lines]
    journal = [
        r[:number] + ["99" + r[number]] + r[number + 1 :]
        for r in rows
        if r[number] == rows[0][number]
    ]
    (drops / "lancamentos_2026-07.csv").write_text(
        "\n".join([header, *(";".join(r) for r in journal)]) + "\n", encoding="utf-8"
    )
    new = tick(defs, "landing_sensor", first.cursor)
    (request,) = new.run_requests
    assert request.job_name == "regional_erp_load"
    assert request.tags["landed_files"] == "lancamentos_2026-07.csv"
    again = tick(defs, "landing_sensor", first.cursor)  # the same tick evaluated twice
    assert again.run_requests[0].run_key == request.run_key  # so Dagster starts it once
    assert tick(defs, "landing_sensor", new.cursor).run_requests == []

    # and the requested run loads exactly the new drop's rows into raw
    with dg.instance_for_test() as instance:
        job = defs.resolve_job_def(request.job_name)
        assert job.execute_in_process(instance=instance, tags=request.tags).success
    with open_warehouse(paths.warehouse) as con:
        (loaded,) = con.execute(
            "select count(*) from raw_regional_erp.journal_lines"
            " where _file_name = 'lancamentos_2026-07.csv'"
        ).fetchone()
    assert loaded == len(journal) > 1


def test_a_new_bulk_extract_part_starts_the_erp_load(
    enterprise: tuple[Paths, Enterprise], defs: dg.Definitions
) -> None:
    paths, _ = enterprise
    cursor = tick(defs, "landing_sensor", None).cursor
    parts = paths.extracts / "erp" / "journal_items"
    last = sorted(parts.glob("*.parquet"))[-1]
    pq.write_table(pq.read_table(last).slice(0, 10), parts / "2099-001.parquet")
    try:
        (request,) = tick(defs, "landing_sensor", cursor).run_requests
    finally:
        (parts / "2099-001.parquet").unlink()
    assert (request.job_name, request.tags["landed_files"]) == ("erp_load", "2099-001.parquet")


def test_a_close_milestone_requests_the_close_tables_and_their_downstream(
    enterprise: tuple[Paths, Enterprise], defs: dg.Definitions
) -> None:
    _, systems = enterprise
    first = tick(defs, "close_milestone_sensor", None)
    assert len(first.run_requests) == 1
    cursor = json.loads(first.cursor)
    events = systems.erp.tables["CloseMilestoneEvents"]
    assert cursor["since"] == events.max_cursor().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert tick(defs, "close_milestone_sensor", first.cursor).run_requests == []

    reached = 0
    while not reached:
        reached = systems.advance_business_day()["erp"]["CloseMilestoneEvents"]
    (request,) = tick(defs, "close_milestone_sensor", first.cursor).run_requests
    assert len(request.tags["close_milestones"].split(", ")) == reached
    later = tick(defs, "close_milestone_sensor", first.cursor).cursor

    # an event stamped with the very instant of the cursor, reported late, still counts
    latest = events.data.filter(pc.field("LastChangeDateTime") == events.max_cursor())
    late = latest.slice(0, 1).set_column(0, "EventID", pa.array(["LATE-EVENT"]))
    events.upsert(late)
    late_tick = tick(defs, "close_milestone_sensor", later)
    (late_request,) = late_tick.run_requests
    assert late_request.tags["close_milestones"].count(",") == 0  # that one event alone
    assert tick(defs, "close_milestone_sensor", late_tick.cursor).run_requests == []

    target = defs.get_repository_def().get_sensor_def("close_milestone_sensor").job
    graph = defs.resolve_asset_graph()
    targets = {k.to_user_string() for k in target.selection.resolve(graph)}
    assert {
        "raw_erp/close_calendar",
        "raw_erp/close_milestone_events",
        "staging/stg_erp__close_milestone_events",
        "marts/close_status",
    } <= targets
    assert not any(t.startswith(("exports/", "raw_erp/journal")) for t in targets)
