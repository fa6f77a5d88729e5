"""`make bench-compare` (`python -m bench.compare [OLD [NEW]]`): two benches side by side.

Each `make bench` writes its figures to `data/bench/<timestamp>.json`; this prints two of
them (by default the two newest; one path given: that one against the newest) scale by
scale: every run's wall time and peak memory with new over old, the ratios the
targets are stated in, and the seconds per layer of finsync's runs. The machine's speed
drifts by the hour: when the floor's and pandas' code is the same in both benches, their
new/old is the machine's, and finsync's is to be read against it, not against 1.00x.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.__main__ import RUN_LABELS, layers, targets
from orchestration.paths import Paths

# the finsync runs whose layers are set side by side, with their column names
LAYER_RUNS = {"full": "full", "incremental": "day", "unchanged": "nothing new"}


def ratios(scale: dict) -> dict[str, str]:
    """The bench's target ratios, formatted, and the full build's peak."""
    shown = {
        name: f"{value:.1%}" if name.endswith("/ full") else f"{value:.2f}x"
        for name, value in targets(scale).items()
    }
    return {
        **shown,
        "full build's peak GiB": f"{scale['runs']['finsync_full']['peak_rss'] / 2**30:.2f}",
    }


def change(old: float, new: float) -> str:
    return f"{new / old:>9.2f}x" if old else f"{'-':>10}"


def compared_scale(old: dict, new: dict) -> list[str]:
    out = [
        f"scale {new['scale']:g}: {old['gl_lines']:,} -> {new['gl_lines']:,} GL journal lines",
        f"  {'wall s':<44}{'old':>9}{'new':>9}{'new/old':>10}{'old MiB':>10}{'new MiB':>10}",
    ]
    for key, name in RUN_LABELS.items():
        was, now = old["runs"].get(key), new["runs"].get(key)
        if was is None or now is None:
            out.append(f"    {name:<42}  only in the {'new' if was is None else 'old'} bench")
            continue
        out.append(
            f"    {name:<42}{was['seconds']:>9.1f}{now['seconds']:>9.1f}"
            f"{change(was['seconds'], now['seconds'])}"
            f"{was['peak_rss'] / 2**20:>10,.0f}{now['peak_rss'] / 2**20:>10,.0f}"
        )
    out += ["", f"  {'targets':<44}{'old':>9}{'new':>9}"]
    now = ratios(new)
    for name, was in ratios(old).items():
        out.append(f"    {name:<42}{was:>9}{now[name]:>9}")
    header = "".join(f"{column:>16}" for column in LAYER_RUNS.values())
    out += ["", f"  {'by layer (s), old -> new':<44}{header}"]
    before = {phase: layers(old[phase]) for phase in LAYER_RUNS}
    after = {phase: layers(new[phase]) for phase in LAYER_RUNS}
    names = dict.fromkeys(name for run in (*before.values(), *after.values()) for name in run)
    for name in names:
        cells = "".join(
            f"{layer_seconds(before[phase], name):>7} -> {layer_seconds(after[phase], name):>5}"
            for phase in LAYER_RUNS
        )
        out.append(f"    {name:<42}{cells}")
    return out


def layer_seconds(run: dict[str, tuple[float, int, float]], layer: str) -> str:
    return f"{run[layer][0]:.1f}" if layer in run else "-"


def source(report: dict, path: Path) -> str:
    commit = report.get("commit") or {}
    code = commit.get("sha", "")[:7] or "commit not recorded"
    dirty = ", with uncommitted changes" if commit.get("dirty") else ""
    return f"{path.name} ({code}{dirty}; load {report['machine']['load_average_1m']:.2f})"


def compared(old: dict, new: dict, old_path: Path, new_path: Path) -> str:
    """Both benches scale by scale; a scale measured in one bench only is named."""
    out = [f"old: {source(old, old_path)}", f"new: {source(new, new_path)}", ""]
    by_scale = {s["scale"]: s for s in old["scales"]}
    for scale in new["scales"]:
        if scale["scale"] in by_scale:
            out += [*compared_scale(by_scale.pop(scale["scale"]), scale), ""]
        else:
            out.append(f"scale {scale['scale']:g}: only in the new bench")
    out += [f"scale {scale:g}: only in the old bench" for scale in by_scale]
    return "\n".join(out).rstrip()


def benches(root: Path) -> list[Path]:
    """The bench's timestamped reports, oldest first (`latest.json` is the newest's copy)."""
    return sorted(path for path in root.glob("*.json") if path.name != "latest.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="OLD [NEW]: bench JSON files")
    args = parser.parse_args(argv)
    if len(args.paths) > 2:
        parser.error("give at most two benches: OLD [NEW]")
    found = benches(Paths.from_env().data / "bench")
    if len(args.paths) == 2:
        chosen = args.paths
    elif args.paths:
        chosen = [args.paths[0], *found[-1:]]
    else:
        chosen = found[-2:]
    if len(chosen) < 2 or chosen[0] == chosen[1]:
        parser.error(f"need two benches to compare; data/bench has {len(found)}")
    old_path, new_path = chosen
    old, new = (json.loads(p.read_text()) for p in (old_path, new_path))
    try:
        print(compared(old, new, old_path, new_path))
    except KeyError as missing:  # the bench's figures have grown over time
        parser.error(f"a bench without {missing} was made by an older bench: compare it by hand")
    return 0


if __name__ == "__main__":
    sys.exit(main())
