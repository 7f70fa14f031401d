"""Lesson notebooks as files: read, write atomically, find exercise cells, drop TensorFlow's log.

One place for notebook JSON, used by the student edition, the exercise checker, the tools in
``tools/`` and the tests. Notebooks are plain dicts (the JSON as it is on disk); nothing here
imports nbformat, so the module is light.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cnnteach._files import write_atomic

__all__ = [
    "CHECK_RE",
    "LESSON_GLOB",
    "SOLUTION_RE",
    "TF_LOG_LINE",
    "NotebookError",
    "cell_source",
    "dump_notebook",
    "exercise_cells",
    "lesson_paths",
    "read_notebook",
    "strip_tensorflow_log",
    "write_notebook",
]

#: The lesson files: two digits, an underscore, a name.
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
#: A solution block, marked the nbgrader way; group 1 is its indent, group 2 its code.
SOLUTION_RE = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S
)
#: A checked exercise call; group 1 is the exercise id.
CHECK_RE = re.compile(r"""\bcheck\(\s*["'](\d\d\.[a-z0-9-]+)["']""")
#: TensorFlow's C++ start-up log lines (absl/glog format) that land in a kernel's stderr.
TF_LOG_LINE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\]"
    r"|To enable the following instructions:"
)


class NotebookError(Exception):
    """A file is not a readable notebook; the message names the file and what to do."""


def cell_source(cell: dict) -> str:
    """A cell's source as one string (on disk it may be a list of lines).

    Examples
    --------
    >>> cell_source({"source": ["a = 1\\n", "b = 2"]})
    'a = 1\\nb = 2'
    """
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def read_notebook(path) -> dict:
    """Read a notebook file as a dict, or raise :class:`NotebookError` in one sentence.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad.ipynb"
    >>> _ = bad.write_text("{not json")
    >>> read_notebook(bad)  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cnnteach.notebook_io.NotebookError: ...bad.ipynb is not a notebook (not valid JSON at line 1):
        ...
    """
    path = Path(path)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "missing, or not a regular file"
        raise NotebookError(f"{path} is {what}: pass the path of an .ipynb file.")
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(
            f"{path} is not a notebook (not UTF-8 text): pass an .ipynb file."
        ) from None
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{path} is not a notebook (not valid JSON at line {exc.lineno}): "
            "open it in JupyterLab, or take a fresh copy of the lesson."
        ) from None
    except OSError as exc:
        raise NotebookError(
            f"{path} cannot be read ({exc.strerror}): check its permissions."
        ) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError(
            f"{path} is not a notebook (no list of cells): take a fresh copy of the lesson."
        )
    return notebook


def dump_notebook(notebook: dict) -> str:
    """Serialise exactly as ``nbformat.write`` (and so nbstripout) does.

    Examples
    --------
    >>> dump_notebook({"cells": [], "nbformat": 4})
    '{\\n "cells": [],\\n "nbformat": 4\\n}\\n'
    """
    text = json.dumps(
        notebook, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False
    )
    return text + "\n"


def write_notebook(path, notebook: dict) -> Path:
    """Write a notebook atomically, serialised as :func:`dump_notebook` does."""
    write_atomic(path, dump_notebook(notebook).encode("utf-8"))
    return Path(path)


def exercise_cells(notebook: dict) -> list[tuple[int, str]]:
    """Every checked exercise of a notebook as ``(cell index, exercise id)``, in order.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "source": 'check("01.pixel-count", answer)'}]}
    >>> exercise_cells(nb)
    [(0, '01.pixel-count')]
    """
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") == "code":
            found += [(index, m.group(1)) for m in CHECK_RE.finditer(cell_source(cell))]
    return found


def strip_tensorflow_log(notebook: dict) -> dict:
    """Drop TensorFlow's C++ log lines from stored stderr, and stderr outputs left empty.

    Works on plain dicts and on nbformat's NotebookNode alike; returns the same notebook.

    Examples
    --------
    >>> log = "I0000 00:00:1.5 123 cpu_feature_guard.cc:1] noise\\nreal warning\\n"
    >>> nb = {"cells": [{"outputs": [{"output_type": "stream", "name": "stderr", "text": log}]}]}
    >>> strip_tensorflow_log(nb)["cells"][0]["outputs"][0]["text"]
    'real warning\\n'
    """
    for cell in notebook.get("cells", []):
        if "outputs" not in cell:
            continue
        kept = []
        for output in cell["outputs"]:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = output["text"]
                text = "".join(text) if isinstance(text, list) else text
                lines = [
                    line for line in text.splitlines(keepends=True) if not TF_LOG_LINE.match(line)
                ]
                if not "".join(lines).strip():
                    continue
                output["text"] = "".join(lines)
            kept.append(output)
        cell["outputs"] = kept
    return notebook


def lesson_paths(folder) -> list[Path]:
    """The lesson notebooks of a folder, in lesson order."""
    return sorted(Path(folder).glob(LESSON_GLOB))
