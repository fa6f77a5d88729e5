"""finsync's definitions for many machines: the same assets, checks and jobs as
`orchestration.definitions`, with each step of a run executed on its own machine.

`FINSYNC_EXECUTOR` chooses how: `k8s` (dagster-k8s: one Kubernetes Job per step) or
`celery` (dagster-celery: one Celery task per step, on any worker host). The executor's
settings are `deploy/<executor>/executor.yaml`, the instance's `deploy/<executor>/dagster.yaml`.
Code servers load this file instead of the package module (deploy/README.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import yaml
from dagster_celery import celery_executor
from dagster_k8s import k8s_job_executor

from orchestration.graph import build
from orchestration.paths import Paths

DEPLOY = Path(__file__).resolve().parent
EXECUTORS = {"k8s": k8s_job_executor, "celery": celery_executor}


def executor(name: str) -> dg.ExecutorDefinition:
    """The named executor, configured from its file in the repository."""
    if name not in EXECUTORS:
        raise ValueError(f"FINSYNC_EXECUTOR={name!r}: choose one of {sorted(EXECUTORS)}")
    config = yaml.safe_load((DEPLOY / name / "executor.yaml").read_text())["execution"]["config"]
    return EXECUTORS[name].configured(config, name=f"finsync_{name}")


def distributed(paths: Paths, name: str) -> dg.Definitions:
    """Every job of finsync, run by `name`'s executor; nothing else changes."""
    return dg.Definitions.merge(build(paths), dg.Definitions(executor=executor(name)))


defs = distributed(Paths.from_env(), os.environ.get("FINSYNC_EXECUTOR", "k8s"))
