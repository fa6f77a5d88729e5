"""`make dev`: the Dagster UI on finsync's definitions, with the demo enterprise's
systems serving on loopback so that runs launched from the UI reach their APIs."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from orchestration.paths import Paths
from orchestration.run import ensure_demo_enterprise
from sandbox.api import Enterprise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args, dg_args = parser.parse_known_args()
    paths = Paths.from_env()
    ensure_demo_enterprise(paths, args.scale, args.seed)
    with Enterprise(paths.extracts) as systems:
        for name, url in sorted(systems.env().items()):
            if name.endswith("BASE_URL"):
                print(f"{name.split('__')[1].lower():<8} serving on {url}")
        dg = Path(sys.executable).with_name("dg")
        try:
            return subprocess.call([str(dg), "dev", *dg_args], env={**os.environ, **systems.env()})
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
