"""Wall time and peak memory of a child process and everything it starts."""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss: int  # bytes, summed over the process tree at its largest sample
    samples: list[tuple[float, int]]  # (epoch seconds, tree RSS bytes) every SAMPLE_SECONDS

    def peak_between(self, start: float, end: float) -> int:
        """The largest sample from `start` to `end` (epoch seconds): a step's peak."""
        return max((rss for at, rss in self.samples if start <= at <= end), default=0)


class ContenderFailed(RuntimeError):
    """A contender exited with an error: its figures would mean nothing."""


def measure(argv: list[str], env: dict[str, str], log: Path) -> Measured:
    """Run `argv`, sampling the resident memory of its process tree every 50 ms.

    psutil sums RSS over the tree (dbt runs as a subprocess of the Dagster run), which
    counts shared pages once per process: an upper bound, the honest side to err on.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        started = time.perf_counter()
        process = psutil.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        samples = []
        while process.poll() is None:
            samples.append((time.time(), _tree_rss(process)))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
    if process.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-30:])
        raise ContenderFailed(f"{' '.join(argv)} exited {process.returncode}:\n{tail}")
    peak = max((rss for _, rss in samples), default=0)
    return Measured(seconds=seconds, peak_rss=peak, samples=samples)


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return total
