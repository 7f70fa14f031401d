"""Does every lesson fit the live-demo budget? Each lesson's fresh-kernel time and its slowest cell.

The budget (CONTRIBUTING.md): a lesson runs in at most 45 s in a fresh kernel on a 2-core
laptop CPU, and no cell takes over 15 s. This script runs each lesson top to bottom in a new
kernel, as ``tools/refresh_outputs.py`` does, but on an in-memory copy with nbclient's
``record_timing`` on: the stored notebook is never written. The total is the wall time from
kernel start to the last cell; a cell's time runs from the kernel receiving it to its reply.

Lessons run in the order given. Lesson 08 trains and saves the model that 08 and later load;
the models folder is ``$CNNTEACH_MODELS`` if set, else a fresh temporary folder, so run 07
before them (or point ``CNNTEACH_MODELS`` at a folder holding the model), or 08 pays for
training it. On a shared or busy machine every figure is inflated: compare lessons measured
in the same run. The last line is JSON::

    {"lessons": {"00": {"total_s": ..., "slowest_cell_s": ..., "slowest_cell": ...}, ...}}

Usage: python bench/lesson_runtimes.py [00 07 notebooks/12_toward_detection.ipynb ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import refresh_outputs  # noqa: E402 (tools/ must be on sys.path first, see the line above)

BUDGET_TOTAL_S, BUDGET_CELL_S = 45.0, 15.0


def lesson_paths(names: list[str]) -> list[Path]:
    """Lesson notebooks from numbers ("07") or paths; all lessons when none are given."""
    folder = ROOT / "notebooks"
    if not names:
        return sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    paths = []
    for name in names:
        path = Path(name)
        if not path.suffix:
            found = sorted(folder.glob(f"{name}_*.ipynb"))
            if len(found) != 1:
                raise SystemExit(
                    f"no single lesson numbered {name!r} in "
                    f"{folder}: give a number such as 07, or a path"
                )
            path = found[0]
        if not path.is_file():
            raise SystemExit(
                f"{path} does not exist: give a lesson number such as 07, or a notebook path"
            )
        paths.append(path)
    return paths


def cell_seconds(cell) -> float:
    """Seconds between the kernel receiving a cell and its reply (nbclient's recorded timing)."""
    timing = cell.metadata.get("execution", {})
    start = timing.get("iopub.execute_input") or timing.get("iopub.status.busy")
    end = timing.get("shell.execute_reply") or timing.get("iopub.status.idle")
    if not (start and end):
        return 0.0
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def run_lesson(path: Path) -> dict:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)  # a copy in memory: never written back
    client = NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=True,
    )
    start = time.perf_counter()
    client.execute()
    total = time.perf_counter() - start
    timed = [(cell_seconds(c), i) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    slowest, index = max(timed, default=(0.0, None))
    return {
        "total_s": round(total, 1),
        "slowest_cell_s": round(slowest, 1),
        "slowest_cell": index,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "lessons", nargs="*", help="lesson numbers (07) or notebook paths; default all"
    )
    args = parser.parse_args(argv)
    paths = lesson_paths(args.lessons)
    refresh_outputs.setup_environment()
    results = {}
    for path in paths:
        result = run_lesson(path)
        results[path.name[:2]] = result
        over = []
        if result["total_s"] > BUDGET_TOTAL_S:
            over.append(f"total over {BUDGET_TOTAL_S:.0f} s")
        if result["slowest_cell_s"] > BUDGET_CELL_S:
            over.append(f"a cell over {BUDGET_CELL_S:.0f} s")
        print(
            f"{path.name:<36} total {result['total_s']:6.1f} s   "
            f"slowest cell {result['slowest_cell_s']:5.1f} s"
            f" (cell {result['slowest_cell']})"
            + (f"   OVER BUDGET: {', '.join(over)}" if over else ""),
            flush=True,
        )
    print(json.dumps({"lessons": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
