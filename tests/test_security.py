"""API credentials: the simulators refuse what a real system refuses, and no secret or
token of a real load shows anywhere a person or a log collector could read it."""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import requests
from dagster_dlt import DagsterDltResource
from dlt.pipeline.exceptions import PipelineStepFailed

from ingest.pipelines import load, pipeline
from orchestration.ingest import raw_assets
from orchestration.paths import Paths
from sandbox.api import Enterprise
from sandbox.generate import generate

WORKERS = "/ccx/api/payroll/v1/finsync/workers"
KNOWN_SECRET = "s3cr3t-Known-Client-Secret-7f2a9c"


@pytest.fixture(scope="module")
def enterprise(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Paths, Enterprise]]:
    paths = Paths(tmp_path_factory.mktemp("security"))
    generate(paths.extracts, scale=0.005, seed=3)
    with pytest.MonkeyPatch.context() as env, Enterprise(paths.extracts) as systems:
        systems.payroll.client_secret = KNOWN_SECRET
        for name, value in systems.env().items():
            env.setenv(name, value)
        yield paths, systems


def token(systems: Enterprise, system: str) -> str:
    service = systems.services[system]
    reply = requests.post(
        f"{service.base_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": service.client_id,
            "client_secret": service.client_secret,
        },
        timeout=10,
    )
    return reply.json()["access_token"]


def get(systems: Enterprise, bearer: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return requests.get(f"{systems.payroll.base_url}{WORKERS}", headers=headers, timeout=10)


# ---------------------------------------------------------------- refusals


def test_the_simulators_refuse_no_token_an_expired_one_and_another_systems(
    enterprise: tuple[Paths, Enterprise],
) -> None:
    _, systems = enterprise
    assert get(systems, token(systems, "payroll")).status_code == 200
    assert get(systems, None).status_code == 401
    assert get(systems, "made-up-token").status_code == 401
    assert get(systems, token(systems, "crm")).status_code == 401
    systems.payroll.token_seconds = 0
    try:
        expired = token(systems, "payroll")
    finally:
        systems.payroll.token_seconds = 3600
    refused = get(systems, expired)
    assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, "Bearer")
    wrong = requests.post(
        f"{systems.payroll.base_url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "finsync-payroll"}
        | {"client_secret": systems.crm.client_secret},
        timeout=10,
    )
    assert wrong.status_code == 401


# ---------------------------------------------------------------- nothing leaks


def test_no_secret_or_token_in_output_logs_trace_or_dagster_events(
    enterprise: tuple[Paths, Enterprise],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real materialization of the payroll load with every logger at DEBUG; then the
    secret and each token the simulator issued are looked for in everything it left."""
    paths, systems = enterprise
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    asset = next(a for a in raw_assets(paths) if a.op.name == "load_payroll")
    with dg.instance_for_test() as instance:
        result = dg.materialize([asset], resources={"dlt": DagsterDltResource()}, instance=instance)
        assert result.success
        events = [repr(entry) for entry in instance.all_logs(result.run_id)]
    rows = [
        e.materialization.metadata["rows_loaded"].value
        for e in result.get_asset_materialization_events()
    ]
    assert sum(rows) > 100  # it did load: the scan below looks at a real run
    tokens = list(systems.payroll._tokens)
    assert tokens
    trace = pipeline("payroll", paths.warehouse, paths.dlt).last_trace
    captured = capfd.readouterr()
    haystacks = {
        "stdout": captured.out,
        "stderr": captured.err,
        "logging": "\n".join(r.getMessage() for r in caplog.records),
        "dlt trace": json.dumps(trace.asdict(), default=str) + trace.asstr(verbosity=1),
        "dagster events": "\n".join(events),
        "dlt working dir": _files_text(paths.dlt),
    }
    assert len(haystacks["dagster events"]) > 1000 and len(haystacks["logging"]) > 100
    for needle in [KNOWN_SECRET, *tokens]:
        leaked = [where for where, text in haystacks.items() if needle in text]
        assert leaked == [], f"a credential shows in {leaked}"


def test_a_refused_client_fails_with_an_error_that_holds_no_secret(
    enterprise: tuple[Paths, Enterprise], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, _ = enterprise
    wrong = KNOWN_SECRET[::-1]
    monkeypatch.setenv("SOURCES__PAYROLL__CLIENT_SECRET", wrong)
    with pytest.raises(PipelineStepFailed) as failed:
        load("payroll", paths.extracts, tmp_path / "w.duckdb", tmp_path / "dlt")
    message = "".join(str(e) for e in _chain(failed.value))
    assert "401 Client Error" in message and "/oauth/token" in message
    assert wrong not in message and KNOWN_SECRET not in message


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def _files_text(root: Path) -> str:
    """Every file dlt keeps (state, schemas, packages, the pickled trace) as text."""
    parts = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".pickle":
                data = repr(pickle.loads(data)).encode()
            parts.append(data.decode("utf-8", errors="replace"))
    return "\n".join(parts)
