"""How fast do the lessons 05 and 06 explorers answer a slider? Median update time on a 28x28 digit.

Each explorer is built once (no display needed), then its sliders are moved through a fixed
cycle of settings, possible and impossible ones, and every update callback (pure step,
figure update, PNG render, read-out) is timed. The goal for a live demo is a median of at
most 50 ms. The last line is JSON.

Usage: python bench/widget_update.py [--updates 60]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import time

GOAL_MS = 50.0


def timed_updates(explorer, changes, count: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each update (CPU time shows the cost without other
    processes' load)."""
    wall, cpu = [], []
    for name, value in itertools.islice(itertools.cycle(changes), count):
        widget = explorer.controls[name]
        if widget.value == value:
            continue
        start, start_cpu = time.perf_counter(), time.process_time()
        widget.value = value  # runs the update callback synchronously
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("CNNTEACH_OFFLINE", "1")
    import matplotlib

    matplotlib.use("Agg")
    from cnnteach.data import load_mnist
    from cnnteach.explorers import conv_explorer, pool_explorer

    (x_train, _), _ = load_mnist()
    digit = x_train[0] / 255.0
    conv_changes = [
        ("col", 9),
        ("col", 10),
        ("row", 9),
        ("kernel", 5),
        ("stride", 2),
        ("padding", 1),
        ("kernel", 29),
        ("padding", 0),
        ("kernel", 3),
        ("stride", 1),
        ("row", 8),
        ("col", 12),
    ]
    pool_changes = [
        ("col", 4),
        ("col", 5),
        ("row", 4),
        ("pool", 3),
        ("stride", 3),
        ("pool", 29),
        ("padding", "same"),
        ("padding", "valid"),
        ("pool", 2),
        ("stride", 2),
        ("row", 3),
    ]
    results = {}
    for name, build, changes in [
        ("conv", conv_explorer, conv_changes),
        ("pool", pool_explorer, pool_changes),
    ]:
        start = time.perf_counter()
        explorer = build(digit)
        build_ms = (time.perf_counter() - start) * 1000
        wall, cpu = timed_updates(explorer, changes, args.updates)
        results[name] = {
            "build_ms": round(build_ms, 1),
            "median_ms": round(statistics.median(wall), 1),
            "p90_ms": round(sorted(wall)[int(0.9 * (len(wall) - 1))], 1),
            "median_cpu_ms": round(statistics.median(cpu), 1),
            "updates": len(wall),
        }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(
        f"explorer update callback on a 28x28 digit (goal: median <= {GOAL_MS:.0f} ms)"
        + (f"; load average {load:.1f} on {os.cpu_count()} CPUs" if load is not None else "")
    )
    for name, r in results.items():
        verdict = "meets the goal" if r["median_ms"] <= GOAL_MS else "MISSES the goal"
        print(
            f"{name}_explorer: median {r['median_ms']:.1f} ms (CPU {r['median_cpu_ms']:.1f} ms), "
            f"90th percentile {r['p90_ms']:.1f} ms over {r['updates']} updates "
            f"(built in {r['build_ms']:.0f} ms): {verdict}"
        )
    worst = max(r["median_ms"] for r in results.values())
    print(json.dumps({"goal_ms": GOAL_MS, "ok": worst <= GOAL_MS, "load_average": load, **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
