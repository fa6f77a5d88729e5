"""Wall time, peak memory and CPU time of a child process and everything it starts."""

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
    # (epoch seconds, tree RSS bytes, tree CPU seconds so far) every SAMPLE_SECONDS
    samples: list[tuple[float, int, float]]

    def peak_between(self, start: float, end: float) -> int:
        """The largest sample from `start` to `end` (epoch seconds): a step's peak."""
        return max((rss for at, rss, _ in self.samples if start <= at <= end), default=0)

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds the tree used until its last sample."""
        return self.samples[-1][2] if self.samples else 0.0

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds the tree used from `start` to `end` (epoch seconds): over the wall
        time, how many cores a step kept busy."""
        during = [cpu for at, _, cpu in self.samples if start <= at <= end]
        return during[-1] - during[0] if len(during) > 1 else 0.0


class ContenderFailed(RuntimeError):
    """A contender exited with an error: its figures would mean nothing."""


def measure(argv: list[str], env: dict[str, str], log: Path) -> Measured:
    """Run `argv`, sampling the resident memory and CPU time of its process tree every 50 ms.

    psutil sums RSS over the tree (dbt runs as a subprocess of the Dagster run), which
    counts shared pages once per process: an upper bound, the honest side to err on.
    CPU time is the tree's user and system time, with that of the children each member
    has waited for (dbt's, once it exits).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        started = time.perf_counter()
        process = psutil.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        samples = []
        while process.poll() is None:
            rss, cpu = _tree_usage(process)
            # a child that exited and is not yet waited for counts nowhere for a sample
            cpu = max(cpu, samples[-1][2]) if samples else cpu
            samples.append((time.time(), rss, cpu))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
    if process.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-30:])
        raise ContenderFailed(f"{' '.join(argv)} exited {process.returncode}:\n{tail}")
    peak = max((rss for _, rss, _ in samples), default=0)
    return Measured(seconds=seconds, peak_rss=peak, samples=samples)


def _tree_usage(process: psutil.Process) -> tuple[int, float]:
    """The tree's resident memory (bytes) and CPU time so far (seconds)."""
    rss, cpu = 0, 0.0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0.0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess), member.oneshot():
            rss += member.memory_info().rss
            times = member.cpu_times()
            cpu += times.user + times.system + times.children_user + times.children_system
    return rss, cpu
