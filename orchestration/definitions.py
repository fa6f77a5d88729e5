"""The code location Dagster loads (`make dev`, the webserver, deploy/): finsync's graph
on the data dir of the environment (orchestration/graph.py builds it)."""

from orchestration.graph import build
from orchestration.paths import Paths

defs = build(Paths.from_env())
