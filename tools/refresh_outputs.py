"""Re-execute lessons in a fresh kernel and store their outputs (``make outputs``).

Stored outputs are never hand-saved: this script runs each notebook top to bottom in a new
kernel from its own folder, drops widget state (its ids change every run), then normalises the
file with ``nbstripout --keep-output --keep-count``, which keeps what nbval needs.

It also writes the lesson's runtime, so that no runtime is ever typed by hand: the
"**Runtime:** about N s" line of the first cell gets N = the measured fresh-kernel time (kernel
start to last cell, as :func:`refresh` measures it) rounded *up* to the next multiple of 5 s
(``runtime_seconds``: 41.2 s -> 45 s, 45.0 s -> 45 s, 0.3 s -> 5 s). The rest of the line is kept.
The number is what this machine measured: refresh on a quiet machine, or the line reports the load.

Usage: python tools/refresh_outputs.py [notebooks/05_convolution.ipynb ...]
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from cnnteach.notebook_io import strip_tensorflow_log

ROOT = Path(__file__).resolve().parent.parent


def drop_tensorflow_log(notebook) -> None:
    """Remove TensorFlow's C++ log lines from stored stderr (see cnnteach.notebook_io)."""
    strip_tensorflow_log(notebook)


RUNTIME = re.compile(r"(\*\*Runtime:\*\* about )(\d+)( s\b)")


def runtime_seconds(seconds: float) -> int:
    """Round a measured runtime up to the next multiple of 5 s (at least 5 s)."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a runtime must be a finite number of seconds >= 0, got {seconds!r}")
    return max(5, 5 * math.ceil(round(seconds, 6) / 5))


def first_cell_with_runtime(notebook, name: str = "the lesson"):
    """The first cell, checked to hold exactly one "**Runtime:** about N s" line."""
    cell = notebook.cells[0] if notebook.cells else None
    if cell is None or cell.cell_type != "markdown" or len(RUNTIME.findall(cell.source)) != 1:
        raise ValueError(
            f"{name}: the first cell must be Markdown with one '**Runtime:** about N s' line "
            "(see CONTRIBUTING.md, lesson shape); add it, and this tool fills in N"
        )
    return cell


def write_runtime(notebook, seconds: float, name: str = "the lesson") -> int:
    """Write the measured runtime (rounded up to 5 s) into the first cell; return the number
    written."""
    cell = first_cell_with_runtime(notebook, name)
    rounded = runtime_seconds(seconds)
    cell.source = RUNTIME.sub(lambda m: f"{m.group(1)}{rounded}{m.group(3)}", cell.source)
    return rounded


def refresh(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    first_cell_with_runtime(notebook, str(path))  # fail before minutes of work, not after
    client = NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    notebook.metadata.pop("widgets", None)
    drop_tensorflow_log(notebook)
    write_runtime(notebook, elapsed, str(path))
    nbformat.write(notebook, path)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nbstripout",
            "--keep-output",
            "--keep-count",
            str(path),
        ],
        check=True,
    )
    return elapsed


def setup_environment() -> None:
    """The environment a lesson kernel inherits: local MNIST, inline figures, a models folder."""
    shared = ROOT.parent / "shared" / "data" / "mnist"
    if "CNNTEACH_DATA" not in os.environ and shared.is_dir():
        os.environ["CNNTEACH_DATA"] = str(shared)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    # Lesson 08 trains and saves the model that 08-10 load: keep it out of the user's own folder.
    if "CNNTEACH_MODELS" not in os.environ:
        os.environ["CNNTEACH_MODELS"] = tempfile.mkdtemp(prefix="cnnteach-models-")


def main(argv: list[str]) -> int:
    setup_environment()
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"executing {path} ...", flush=True)
        try:
            seconds = refresh(path)
        except Exception as exc:  # report which lesson failed, in one line, and stop
            print(
                f"FAILED {path}: {type(exc).__name__}: "
                f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            )
            return 1
        print(f"  done in {seconds:.1f} s (runtime line: about {runtime_seconds(seconds)} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
