"""`make bench` (`python -m bench --scale 1 --scale 10`): finsync against the floor.

For each scale, in `data/bench/scale-<scale>/` (wiped first, so every build is from
scratch), in this order, each in a process of its own:
  1. generate the demo enterprise's extracts;
  2. the floor: `floor.sql`, plain DuckDB on the same extract files;
  3. the naive alternative: `naive_pandas.py`;
  4. dbt's parse of the project for this data dir, as `make` makes it for data/ (setup,
     timed apart: bench/dbt_parse.py);
  5. finsync's full build: the main job through the simulated APIs (ingest,
     dbt build with its tests, Pandera checks, exports). The simulators serve from a
     process of the bench's, unmeasured: they are the vendors' systems (bench/systems.py);
  6. the agreement check: the floor and pandas published finsync's numbers;
  7. finsync's incremental run after one business day of new postings;
  8. the same daily job again, nothing new in the sources: the daily run's fixed cost;
  9. finsync's smallest run, one small mart: what any run costs before its work;
 10. finsync's full build again with its raw layer in a Parquet lake (`lake/`, a data dir
     of its own on the same extracts, the systems served afresh; its dbt parse is setup).
The floor and pandas run again right after finsync's full build (5., 6.), in mirror order
(pandas, then the floor): the machine is shared and its speed drifts, within a bench as
across days (scale 10: the floor took 45.7 s in one bench, 70.0 s in a later one), so the
ratios are to the mean of a contender's two runs, which a drift during the bench weighs
on as on finsync's build between them.
Prints one table per scale and writes every figure, with the commit measured, to
`data/bench/<timestamp>.json` and `data/bench/latest.json` (`bench.compare` sets two
side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.agreement import disagreements, missing_columns
from bench.figures import describe
from bench.floor import PHASES
from bench.measure import Measured, measure
from bench.systems import ServedEnterprise
from ingest.lake import LAKE_URL
from orchestration.paths import REPO_ROOT, Paths

SEED = 7
# the daily job after one business day, then again with nothing new
DAILY = ("incremental", "unchanged")
SMALLEST = "smallest"  # one small mart: process, Dagster's run and dbt's start
LAKE = "lake"  # the full build with the raw layer in a Parquet lake (ingest/lake.py)
RUNS = ("full", *DAILY, SMALLEST, LAKE)
INSTANCE_CONFIG = REPO_ROOT / "orchestration" / "instance" / "dagster.yaml"
AGAIN = "_again"  # the floor's and pandas' second runs, after finsync's full build
# every measured run, in the order the bench makes them, with its label in the tables
RUN_LABELS = {
    "generation": "generation (not in the build)",
    "floor": "floor: one DuckDB SQL script",
    "pandas": "naive: pandas",
    "dbt_parse": "dbt parse (setup, as make does)",
    "finsync_full": "finsync full build",
    "pandas" + AGAIN: "naive: pandas again, after it",
    "floor" + AGAIN: "floor again, after it",
    "finsync_incremental": "finsync incremental (one day)",
    "finsync_unchanged": "finsync daily job, nothing new",
    f"finsync_{SMALLEST}": "finsync smallest run: one mart",
    f"finsync_{LAKE}": "finsync full build, lake raw",
}
PER_RUN = {"dbt_parse", f"finsync_{SMALLEST}"}  # no lines/s: their work is not per line


def bench_scale(scale: float, root: Path) -> dict:
    data = root / f"scale-{scale:g}"
    shutil.rmtree(data, ignore_errors=True)
    (data / "dagster").mkdir(parents=True)
    shutil.copy(INSTANCE_CONFIG, data / "dagster" / "dagster.yaml")
    env = {**os.environ, "FINSYNC_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster")}
    py = [sys.executable, "-m"]
    logs = data / "logs"

    done: dict[str, dict[str, float]] = {}

    def timed(name: str, argv: list[str], env: dict[str, str] = env) -> Measured:
        print(f"  {name} ...", flush=True)
        measured = measure(py + argv, env, logs / f"{name}.log")
        print(
            f"  {name}: {measured.seconds:.1f} s, {measured.peak_rss / 2**20:,.0f} MiB", flush=True
        )
        # figures so far, in case a later contender fails or the run is stopped
        done[name] = {"seconds": measured.seconds, "peak_rss": measured.peak_rss}
        (data / "partial.json").write_text(json.dumps(done, indent=2))
        return measured

    paths = Paths(data)
    runs = {
        "generation": timed(
            "generation",
            ["sandbox", "--scale", f"{scale:g}", "--seed", str(SEED), "--out", str(paths.extracts)],
        ),
        "floor": timed("floor", ["bench.floor", str(data)]),
        "pandas": timed("pandas", ["bench.naive_pandas", str(data)]),
        "dbt_parse": timed("dbt_parse", ["bench.dbt_parse"]),
    }
    phases = data / "floor" / "phases.json"
    first_phases = json.loads(phases.read_text())  # the floor's second run writes its own
    with ServedEnterprise(paths.extracts) as systems:
        env.update(systems.env())
        runs["finsync_full"] = timed(
            "finsync_full", ["bench.finsync", "full", str(data / "full.json")]
        )
        agreement = disagreements(data)
        unpublished = missing_columns(data)
        full = describe(paths, json.loads((data / "full.json").read_text()), runs["finsync_full"])
        # in mirror order: pandas, then the floor
        runs["pandas" + AGAIN] = timed("pandas" + AGAIN, ["bench.naive_pandas", str(data)])
        runs["floor" + AGAIN] = timed("floor" + AGAIN, ["bench.floor", str(data)])
        again = json.loads(phases.read_text())
        floor_phases = {phase: (first_phases[phase] + again[phase]) / 2 for phase in PHASES}
        changes, today = systems.advance_business_day()
        for phase in DAILY:
            runs[f"finsync_{phase}"] = timed(
                f"finsync_{phase}",
                ["bench.finsync", phase, str(data / f"{phase}.json"), f"--day={today:%Y-%m-%d}"],
            )
        runs[f"finsync_{SMALLEST}"] = timed(
            f"finsync_{SMALLEST}", ["bench.finsync", SMALLEST, str(data / f"{SMALLEST}.json")]
        )
    lake = Paths(data / LAKE)
    (lake.data / "dagster").mkdir(parents=True)
    shutil.copy(INSTANCE_CONFIG, lake.data / "dagster" / "dagster.yaml")
    lake.extracts.symlink_to(paths.extracts)
    in_lake = {
        **env,
        "FINSYNC_DATA_DIR": str(lake.data),
        "DAGSTER_HOME": str(lake.data / "dagster"),
        LAKE_URL: str(lake.data / "lake"),
    }
    runs["dbt_parse_lake"] = timed("dbt_parse_lake", ["bench.dbt_parse"], in_lake)
    with ServedEnterprise(paths.extracts) as systems:  # as they were before the day
        in_lake.update(systems.env())
        runs[f"finsync_{LAKE}"] = timed(
            f"finsync_{LAKE}", ["bench.finsync", "full", str(data / f"{LAKE}.json")], in_lake
        )
    later = {
        phase: describe(
            lake if phase == LAKE else paths,
            json.loads((data / f"{phase}.json").read_text()),
            runs[f"finsync_{phase}"],
        )
        for phase in RUNS[1:]
    }
    later["incremental"]["changes"] = changes
    return {
        "scale": scale,
        "gl_lines": full["gl_lines"],
        "runs": {
            name: {"seconds": m.seconds, "peak_rss": m.peak_rss, "cpu_s": m.cpu_seconds}
            for name, m in runs.items()
        },
        "full": full,
        **later,
        "floor_phases": floor_phases,
        "disagreements": agreement,
        "missing_columns": unpublished,
    }


INGEST = "ingest "
DBT = "dbt build (transform and tests)"
EXPORTS = "exports (FP&A, BI files, published copy)"


def layer_of(step: str) -> str:
    """The layer a step of the main job belongs to, for the per-layer figures."""
    if step.startswith("load_"):
        return INGEST + step.removeprefix("load_")
    if step == "dbt_models":
        return DBT
    if step.endswith(("_contract", "_contracts")) or "ties_to" in step:
        return "checks (Pandera contracts, ties)"
    if step.startswith("reconciliation__"):
        return "reconciliation, status page"
    return EXPORTS


def layers(run: dict) -> dict[str, tuple[float, int, float]]:
    """Seconds, peak tree RSS and CPU seconds per layer of a finsync run: the process's
    start (imports, until the job starts) and exit, each layer's steps, Dagster between
    steps, and dbt's busy time (RSS and CPU 0 where not measured apart)."""
    steps, peaks, cpu = run["steps"], run["step_peak_rss"], run["step_cpu_s"]
    out: dict[str, tuple[float, int, float]] = {
        "process start and exit": (run["process_s"] - run["job_s"], 0, 0.0)
    }
    for step in sorted(steps, key=layer_of):
        seconds, peak, used = out.get(layer_of(step), (0.0, 0, 0.0))
        out[layer_of(step)] = (
            seconds + steps[step],
            max(peak, peaks.get(step, 0)),
            used + cpu.get(step, 0.0),
        )
    out["Dagster (run start, between steps)"] = (run["job_s"] - sum(steps.values()), 0, 0.0)
    for layer, seconds in sorted(run["dbt_layers"].items()):
        if layer not in {"elapsed", "main", "exposure"}:
            out[f"  dbt {layer} (busy, 2 threads)"] = (seconds, 0, 0.0)
    return out


def against_floor(result: dict) -> list[str]:
    """The full build's layers set against the floor's phases that do the same work (the
    mean of its two runs); what finsync does beyond it (process start, checks,
    reconciliation, Dagster) on a line."""
    by_layer = {name: seconds for name, (seconds, _, _) in layers(result["full"]).items()}
    finsync = {
        "load": sum(s for name, s in by_layer.items() if name.startswith(INGEST)),
        "products": by_layer.get(DBT, 0.0),
        "exports": by_layer.get(EXPORTS, 0.0),
    }
    floor = result["floor_phases"]
    names = {
        "load": "load | ingest through the APIs",
        "products": "products | dbt build with its tests",
        "exports": "exports | exports",
    }
    beyond = result["runs"]["finsync_full"]["seconds"] - sum(finsync.values())
    return [
        f"  {'full build against the floor, by phase':<40}{'floor s':>9}{'finsync s':>11}"
        f"{'ratio':>8}",
        *(
            f"    {names[phase]:<38}{floor[phase]:>9.1f}{finsync[phase]:>11.1f}"
            f"{finsync[phase] / floor[phase]:>7.1f}x"
            for phase in PHASES
        ),
        f"    {'finsync alone (start, checks, recon, Dagster)':<47}{beyond:>11.1f}",
        "",
    ]


def by_layer(result: dict) -> list[str]:
    """Seconds per layer of the four runs side by side, and the full build's peak memory
    and cores kept busy (CPU seconds over wall seconds, of the machine's): what a day's
    data adds is the incremental run's time over the unchanged one's, and the smallest
    run's layers are what any run pays before its work."""
    runs = {phase: layers(result[phase]) for phase in RUNS}
    names = list(dict.fromkeys(name for phase in RUNS for name in runs[phase]))
    out = [
        f"  {'by layer (s)':<42}{'full':>7}{'day':>7}{'nothing':>9}{'least':>7}{'lake':>7}"
        f"{'full MiB':>10}{'cores':>7}"
    ]
    for name in names:
        seconds = "".join(
            f"{runs[phase][name][0]:>{width}.1f}" if name in runs[phase] else f"{'-':>{width}}"
            for phase, width in zip(RUNS, (7, 7, 9, 7, 7), strict=True)
        )
        wall, peak, cpu = runs["full"].get(name, (0.0, 0, 0.0))
        memory = f"{peak / 2**20:>10,.0f}" if peak else f"{'':>10}"
        cores = f"{cpu / wall:>7.2f}" if cpu and wall else ""
        out.append(f"    {name:<40}{seconds}{memory}{cores}".rstrip())
    return out


def bracketed(runs: dict, contender: str) -> float:
    """A contender's seconds for the ratios: the mean of its runs before and after
    finsync's full build."""
    return (runs[contender]["seconds"] + runs[contender + AGAIN]["seconds"]) / 2


def targets(result: dict) -> dict[str, float]:
    """The ratios the issue's targets are stated in: to the contenders' means, and the
    daily and smallest runs as shares of the full build."""
    runs = result["runs"]
    full, lake = runs["finsync_full"]["seconds"], runs[f"finsync_{LAKE}"]["seconds"]
    floor, pandas = bracketed(runs, "floor"), bracketed(runs, "pandas")
    return {
        "finsync full / floor": full / floor,
        "lake raw / floor": lake / floor,
        "finsync full / pandas": full / pandas,
        "lake raw / pandas": lake / pandas,
        "incremental day / full": runs["finsync_incremental"]["seconds"] / full,
        "nothing new / full": runs["finsync_unchanged"]["seconds"] / full,
        "smallest run / full": runs[f"finsync_{SMALLEST}"]["seconds"] / full,
    }


def table(result: dict) -> str:
    runs = result["runs"]
    lines_ = result["gl_lines"]
    floor, pandas = bracketed(runs, "floor"), bracketed(runs, "pandas")
    ratio = targets(result)

    def row(name: str, key: str) -> str:
        seconds, rss = runs[key]["seconds"], runs[key]["peak_rss"]
        rate = f"{lines_ / seconds:>12,.0f}" if lines_ and key not in PER_RUN else f"{'':>12}"
        cores = runs[key]["cpu_s"] / seconds
        return f"  {name:<34}{seconds:>9.1f}{rss / 2**20:>11,.0f}{rate}{cores:>7.2f}"

    failed = [
        f"  {phase} run FAILED steps: {', '.join(result[phase]['failed_steps'])}"
        for phase in RUNS
        if result[phase]["failed_steps"]
    ] + [
        f"  {phase} run: checks failed: {', '.join(result[phase]['failed_checks'])}"
        for phase in RUNS
        if result[phase]["failed_checks"]
    ]
    out = [
        f"scale {result['scale']:g}: {lines_:,} GL journal lines",
        *failed,
        f"  {'':<34}{'wall s':>9}{'peak MiB':>11}{'lines/s':>12}{'cores':>7}",
        *(row(label, key) for key, label in RUN_LABELS.items()),
        "",
        f"  finsync / floor   {ratio['finsync full / floor']:6.1f}x   (lake raw:"
        f" {ratio['lake raw / floor']:.1f}x; the floor's mean of its two runs, {floor:.1f} s)",
        f"  finsync / pandas  {ratio['finsync full / pandas']:6.2f}x   (lake raw:"
        f" {ratio['lake raw / pandas']:.2f}x; pandas' mean, {pandas:.1f} s)",
        f"  incremental / full  {ratio['incremental day / full']:6.1%}   (nothing new:"
        f" {ratio['nothing new / full']:.1%}; smallest run: {ratio['smallest run / full']:.1%})",
        "",
        *against_floor(result),
    ]
    out += by_layer(result)
    for contender, problems in result["disagreements"].items():
        verdict = "agrees with finsync's marts" if not problems else "DISAGREES"
        out.append(f"  {contender}: {verdict}")
        out += [f"    {p}" for p in problems]
        out += [
            f"    without {', '.join(columns)} of {product}"
            for product, columns in result["missing_columns"][contender].items()
        ]
    return "\n".join(out)


def commit() -> dict | None:
    """The code measured: HEAD and whether the tree had changes to tracked files, so that
    `bench.compare` can name what two benches ran (None outside a git checkout)."""
    try:
        sha, changes = (
            subprocess.run(
                ["git", "-C", str(REPO_ROOT), *argv], capture_output=True, text=True, check=True
            ).stdout.strip()
            for argv in (["rev-parse", "HEAD"], ["status", "--porcelain", "--untracked-files=no"])
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"sha": sha, "dirty": bool(changes)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, action="append")
    args = parser.parse_args()
    root = Paths.from_env().data / "bench"
    root.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    report = {
        "started_at": started.isoformat(),
        "commit": commit(),
        "machine": {
            "cpus": psutil.cpu_count(),
            "memory_bytes": psutil.virtual_memory().total,
            "load_average_1m": os.getloadavg()[0],
            "python": platform.python_version(),
        },
        "scales": [],
    }
    for scale in args.scale or [1.0, 10.0]:
        print(f"scale {scale:g}: measuring in {root / f'scale-{scale:g}'}", flush=True)
        result = bench_scale(scale, root)
        report["scales"].append(result)
        print(table(result), flush=True)
    report["machine"]["load_average_1m_at_end"] = os.getloadavg()[0]
    text = json.dumps(report, indent=2, default=str)
    (root / f"{started:%Y%m%dT%H%M%SZ}.json").write_text(text)
    (root / "latest.json").write_text(text)
    print(f"figures: {root / 'latest.json'}")
    failed = any(
        any(r["disagreements"].values()) or any(r[phase]["failed_steps"] for phase in RUNS)
        for r in report["scales"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
