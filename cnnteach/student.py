"""Build the student edition of the lessons: solutions out, placeholders in, edits kept.

``cnnteach student OUT`` (or ``make student``) writes every lesson into ``OUT`` with:

- each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block replaced by a placeholder that
  runs (``# YOUR CODE HERE`` and ``...``), so :func:`cnnteach.exercises.check` reports
  "Not attempted" rather than an error;
- the outputs of exercise cells (and of ``solution(...)`` calls) cleared, cells tagged ``solution`` removed;
- recall answers (``<details><summary>Answer</summary>...</details>`` in Markdown) removed.

It never overwrites a notebook the student has changed: ``OUT/.cnnteach-student.json`` records
the hash of every file it wrote; a file whose content no longer matches is kept, and the new
version is written beside it as ``NAME.new.ipynb``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from cnnteach.exercises import SOLUTION_RE

__all__ = ["BuildReport", "build_student_edition", "strip_solutions"]

MANIFEST = ".cnnteach-student.json"
PLACEHOLDER = "# YOUR CODE HERE\n{indent}..."
ANSWER_RE = re.compile(r"<details>\s*<summary>\s*(?:<b>)?\s*Answer.*?</details>\s*", re.S | re.I)
EXERCISE_CALL_RE = re.compile(r"\b(check|solution)\(")  # their stored outputs would give answers away


def strip_solutions(source: str) -> str:
    """Replace every nbgrader-style solution block in ``source`` with a placeholder that runs.

    Examples
    --------
    >>> code = "answer = ...\\n### BEGIN SOLUTION\\nanswer = 28 * 28\\n### END SOLUTION\\ncheck('01.x', answer)"
    >>> print(strip_solutions(code))
    answer = ...
    # YOUR CODE HERE
    ...
    check('01.x', answer)
    """
    return SOLUTION_RE.sub(lambda m: m.group(1) + PLACEHOLDER.format(indent=m.group(1)), source)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def student_notebook(notebook: dict) -> dict:
    """Return the student version of a notebook (a dict as read from JSON).

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "source": "x = 1\\n### BEGIN SOLUTION\\nx = 2\\n### END SOLUTION",
    ...        "outputs": [{"output_type": "stream"}], "execution_count": 3, "metadata": {}}],
    ...       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    >>> cell = student_notebook(nb)["cells"][0]
    >>> cell["source"], cell["outputs"], cell["execution_count"]
    ('x = 1\\n# YOUR CODE HERE\\n...', [], None)
    """
    cells = []
    for cell in notebook.get("cells", []):
        cell = dict(cell)
        tags = cell.get("metadata", {}).get("tags", [])
        if "solution" in tags:
            continue
        source = _source(cell)
        if cell.get("cell_type") == "code":
            stripped = strip_solutions(source)
            if stripped != source or EXERCISE_CALL_RE.search(source):
                cell["outputs"] = []
                cell["execution_count"] = None
            cell["source"] = stripped
        elif cell.get("cell_type") == "markdown":
            cell["source"] = ANSWER_RE.sub("", source)
        cells.append(cell)
    result = dict(notebook)
    result["cells"] = cells
    return result


@dataclass
class BuildReport:
    """What :func:`build_student_edition` did, file by file."""

    written: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    kept: list = field(default_factory=list)  # (student's file, new version written beside it)
    unchanged: list = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"wrote {p}" for p in self.written] + [f"updated {p}" for p in self.updated]
        out += [f"kept your edited {old.name}; the new version is {new.name}" for old, new in self.kept]
        if self.unchanged:
            out.append(f"{len(self.unchanged)} notebook(s) already up to date")
        return out


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dump(notebook: dict) -> bytes:
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def build_student_edition(out, source=None) -> BuildReport:
    """Write the student edition of every lesson into ``out``, never losing a student's edits.

    Parameters
    ----------
    out : str or os.PathLike
        The folder to write; created if needed.
    source : str or os.PathLike, optional
        The lessons folder with solutions; defaults to the course's ``notebooks/``.

    Returns
    -------
    BuildReport

    Raises
    ------
    ValueError
        When ``source`` has no lessons, or ``out`` is the lessons folder itself.

    Examples
    --------
    >>> build_student_edition("/tmp/x", source="/no/such/lessons")
    Traceback (most recent call last):
    ...
    ValueError: /no/such/lessons holds no lesson notebooks (NN_name.ipynb): pass the course's notebooks/ folder with --from
    """
    from cnnteach.exercises import lessons_dir

    source = Path(source) if source else lessons_dir()
    lessons = sorted(source.glob("[0-9][0-9]_*.ipynb")) if source and source.is_dir() else []
    if not lessons:
        raise ValueError(f"{source} holds no lesson notebooks (NN_name.ipynb): pass the course's notebooks/ folder with --from")
    out = Path(out)
    if out.resolve() == source.resolve():
        raise ValueError(f"{out} is the lessons folder itself: choose another folder, or the solutions would be overwritten")
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    report = BuildReport()
    for lesson in lessons:
        data = _dump(student_notebook(json.loads(lesson.read_text(encoding="utf-8"))))
        target = out / lesson.name
        if not target.exists():
            report.written.append(target)
        else:
            current = _digest(target.read_bytes())
            if current == _digest(data):
                report.unchanged.append(target)
                manifest[lesson.name] = current
                continue
            if manifest.get(lesson.name) == current:
                report.updated.append(target)
            else:
                target = _free_name(out, lesson, manifest)
                report.kept.append((out / lesson.name, target))
        target.write_bytes(data)
        manifest[target.name] = _digest(data)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return report


def _free_name(out: Path, lesson: Path, manifest: dict) -> Path:
    """``NAME.new.ipynb``, or ``NAME.new-2.ipynb``... the first that holds no student edits."""
    n = 1
    while True:
        name = f"{lesson.stem}.new{'' if n == 1 else f'-{n}'}.ipynb"
        candidate = out / name
        if not candidate.exists() or manifest.get(name) == _digest(candidate.read_bytes()):
            return candidate
        n += 1
