"""The deployment for many machines (deploy/): the same definitions load with the
Kubernetes or the Celery executor configured from the repository's files, every job
resolves with it, and the Helm values agree with the files they point at.

Nothing here reaches a cluster or a broker (there is none on this machine): the
definitions and the executor configuration are loaded and validated as a code server
would, in a fresh interpreter with every warning an error.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
# what the executors' files read from the environment on a real deployment
DEPLOYMENT_ENV = {
    "DAGSTER_CELERY_BROKER_URL": "redis://redis:6379/0",
    "DAGSTER_CELERY_BACKEND_URL": "redis://redis:6379/1",
}

LOAD = """
import json, runpy
import dagster as dg
defs = runpy.run_path("deploy/definitions.py")["defs"]
dg.Definitions.validate_loadable(defs)
jobs = {}
for job in defs.resolve_all_job_defs():
    config = dg.validate_run_config(job, {})["execution"]
    jobs[job.name] = {"executor": job.executor_def.name, "config": config}
print(json.dumps(jobs))
"""


def load(executor: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-W",
            "ignore:sqlglotrs is deprecated:DeprecationWarning",
            "-W",
            "ignore:The `__fields__` attribute is deprecated:DeprecationWarning",
            "-c",
            LOAD,
        ],  # fmt: skip
        cwd=REPO,
        env={
            **os.environ,
            **DEPLOYMENT_ENV,
            "FINSYNC_DATA_DIR": str(tmp_path),
            "FINSYNC_EXECUTOR": executor,
        },
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("executor", "setting", "value"),
    [
        ("k8s", "max_concurrent", 8),
        ("celery", "broker", DEPLOYMENT_ENV["DAGSTER_CELERY_BROKER_URL"]),
    ],
)
def test_every_job_resolves_with_the_configured_executor(
    executor: str, setting: str, value: object, tmp_path: Path
) -> None:
    loaded = load(executor, tmp_path)
    assert loaded.returncode == 0, loaded.stderr[-4000:]
    jobs = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert {"finsync_main", "daily_actuals_sync", "weekly_forecast_refresh"} <= set(jobs)
    name = f"finsync_{executor}"
    for job, resolved in jobs.items():
        assert resolved["executor"] == name, job
        # the run config the executor will get: the repository's file, validated
        assert resolved["config"][name][setting] == value, job


def test_an_unknown_executor_is_refused_by_name(tmp_path: Path) -> None:
    loaded = load("slurm", tmp_path)
    assert loaded.returncode != 0
    assert "FINSYNC_EXECUTOR='slurm': choose one of ['celery', 'k8s']" in loaded.stderr


def test_a_misspelt_executor_setting_fails_validation(tmp_path: Path) -> None:
    """The executor files are checked against the executor's schema, not trusted."""
    deploy = tmp_path / "repo" / "deploy"
    (deploy / "k8s").mkdir(parents=True)
    (deploy / "definitions.py").write_text((DEPLOY / "definitions.py").read_text())
    (deploy / "k8s" / "executor.yaml").write_text("execution:\n  config:\n    max_concurent: 8\n")
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD.replace("deploy/definitions.py", str(deploy / "definitions.py")),
        ],
        cwd=REPO,
        env={**os.environ, "FINSYNC_DATA_DIR": str(tmp_path), "FINSYNC_EXECUTOR": "k8s"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode != 0
    assert "max_concurent" in loaded.stderr


def test_helm_values_run_the_deploy_definitions_on_the_shared_volume() -> None:
    values = yaml.safe_load((DEPLOY / "k8s" / "values.yaml").read_text())
    [location] = values["dagster-user-deployments"]["deployments"]
    args = location["dagsterApiGrpcArgs"]
    source = Path(args[args.index("--python-file") + 1])
    workdir = Path(args[args.index("--working-directory") + 1])
    assert source.relative_to(workdir) == Path("deploy/definitions.py")
    env = {item["name"]: item["value"] for item in location["env"]}
    assert env["FINSYNC_EXECUTOR"] == "k8s"
    claim = yaml.safe_load((DEPLOY / "k8s" / "data-volume.yaml").read_text())
    assert "ReadWriteMany" in claim["spec"]["accessModes"]
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    for pod in (location, launcher):
        [volume] = pod["volumes"]
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        [mount] = pod["volumeMounts"]
        assert mount["mountPath"] == env["FINSYNC_DATA_DIR"]


def test_distributed_instances_keep_the_one_warehouse_writer_rule() -> None:
    local = yaml.safe_load((REPO / "orchestration" / "instance" / "dagster.yaml").read_text())
    celery = yaml.safe_load((DEPLOY / "celery" / "dagster.yaml").read_text())
    helm = yaml.safe_load((DEPLOY / "k8s" / "values.yaml").read_text())["concurrency"]
    assert celery["concurrency"]["pools"] == local["concurrency"]["pools"]
    assert helm["pools"] == {
        "defaultLimit": local["concurrency"]["pools"]["default_limit"],
        "granularity": local["concurrency"]["pools"]["granularity"],
    }


def test_celery_workers_read_the_executor_file_the_definitions_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`dagster-celery worker start -y deploy/celery/executor.yaml` must reach the broker
    the runs send steps to: the worker CLI's own reading of the file."""
    from dagster_celery.cli import get_validated_config

    for name, value in DEPLOYMENT_ENV.items():
        monkeypatch.setenv(name, value)
    config = get_validated_config(str(DEPLOY / "celery" / "executor.yaml"))
    assert config["broker"] == DEPLOYMENT_ENV["DAGSTER_CELERY_BROKER_URL"]
    assert config["backend"] == DEPLOYMENT_ENV["DAGSTER_CELERY_BACKEND_URL"]
