"""Build the student edition of the lessons: solutions out, placeholders in, edits kept.

``cnnteach student OUT`` (or ``make student``) writes every lesson into ``OUT`` with:

- each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block replaced by one placeholder that
  runs: when the line before the block already is one (``answer = ...`` or ``...``), the block
  becomes the line ``# YOUR CODE HERE`` alone, so an answer typed under it is the one checked;
  otherwise it becomes ``# YOUR CODE HERE`` and ``...``;
- the outputs of exercise cells (and of ``solution(...)`` calls) cleared, cells tagged
  ``solution`` removed;
- the outputs of every code cell tagged ``answer-output`` cleared. **The rule for lesson
  authors:** tag ``answer-output`` the cell that reveals the answer of a "predict before you run"
  exercise (the code cell run after it) and every cell whose output is computed with a
  solution (a figure drawn with a solution's kernel, a value from a solution's function);
  ``tests/test_student.py`` checks both on every lesson;
- recall answers (``<details><summary>Answer</summary>...</details>`` in Markdown) removed.

Every file is written to a temporary file in ``OUT`` and renamed into place, under a lock
(``OUT/.cnnteach-student.lock``), so an interrupted or concurrent build never leaves half a
notebook. It never overwrites a notebook the student has edited: ``OUT/.cnnteach-student.json``
records the hash of every file it wrote and of its code and Markdown; a notebook whose code or
Markdown changed is kept and the new version written beside it as ``NAME.new.ipynb``, while a
notebook that was only run (outputs, execution counts, metadata) is replaced, and the report
says so.

``--no-solutions`` writes ``OUT/.cnnteach-no-solutions``; :func:`cnnteach.exercises.solution`
then says the instructor turned solutions off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cnnteach._files import pid_alive, write_atomic
from cnnteach.exercises import NO_SOLUTIONS_MARKER
from cnnteach.notebook_io import SOLUTION_RE, cell_source, dump_notebook

__all__ = [
    "BuildBusy",
    "BuildReport",
    "build_student_edition",
    "strip_solutions",
    "student_notebook",
]

MANIFEST = ".cnnteach-student.json"
LOCK = ".cnnteach-student.lock"
ANSWER_TAG = "answer-output"
MARKER = "# YOUR CODE HERE"
PLACEHOLDER = MARKER + "\n{indent}..."
# a line that is already a placeholder: ``answer = ...``, ``a, b = ...`` or ``...``, with a comment
PLACEHOLDER_LINE_RE = re.compile(
    r"^[ \t]*(?:[A-Za-z_][\w.]*(?:[ \t]*,[ "
    r"\t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*)?\.\.\.[ \t]*(?:#.*)?$"
)
MAX_NOTEBOOK_BYTES = 64 << 20
ANSWER_RE = re.compile(
    r"<details>\s*<summary>\s*(?:<b>)?\s*Answer.*?</details>\s*", re.DOTALL | re.IGNORECASE
)
EXERCISE_CALL_RE = re.compile(
    r"\b(check|solution)\("
)  # their stored outputs would give answers away


def strip_solutions(source: str) -> str:
    """Replace every nbgrader-style solution block in ``source`` with one placeholder that runs.

    When the line before a block is already a placeholder (``answer = ...``), the block becomes
    ``# YOUR CODE HERE`` alone, so that the cell has one ``...`` and an answer typed under the
    marker is the one checked; otherwise it becomes ``# YOUR CODE HERE`` and ``...``.

    Examples
    --------
    >>> code = ("answer = ...\\n### BEGIN SOLUTION\\nanswer = 28 * 28\\n### END SOLUTION\\n"
    ...         "check('01.x', answer)")
    >>> print(strip_solutions(code))
    answer = ...
    # YOUR CODE HERE
    check('01.x', answer)
    >>> print(strip_solutions("def f():\\n    ### BEGIN SOLUTION\\n"
    ...                       "    return 1\\n    ### END SOLUTION"))
    def f():
        # YOUR CODE HERE
        ...
    """

    def replace(match):
        indent = match.group(1)
        before = source[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if PLACEHOLDER_LINE_RE.match(before):
            return indent + MARKER
        return indent + PLACEHOLDER.format(indent=indent)

    return SOLUTION_RE.sub(replace, source)


def _tags(cell) -> list:
    metadata = cell.get("metadata")
    tags = metadata.get("tags", []) if isinstance(metadata, dict) else []
    return tags if isinstance(tags, list) else []


def _check_notebook(notebook) -> str | None:
    """What makes ``notebook`` (parsed JSON) unusable as a lesson, or None when it is fine."""
    if not isinstance(notebook, dict):
        return f"it holds a JSON {type(notebook).__name__}, not a notebook"
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        return "it has no list of cells"
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            return f"cell {number} is not a cell"
        source = cell.get("source", "")
        if not isinstance(source, str) and not (
            isinstance(source, list) and all(isinstance(s, str) for s in source)
        ):
            return f"cell {number} has a source that is not text"
        if not isinstance(cell.get("metadata", {}), dict):
            return f"cell {number} has metadata that is not an object"
    return None


def student_notebook(notebook: dict) -> dict:
    """Return the student version of a notebook (a dict as read from JSON).

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code",
    ...                  "source": "x = 1\\n### BEGIN SOLUTION\\nx = 2\\n### END SOLUTION",
    ...        "outputs": [{"output_type": "stream"}], "execution_count": 3, "metadata": {}}],
    ...       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    >>> cell = student_notebook(nb)["cells"][0]
    >>> cell["source"], cell["outputs"], cell["execution_count"]
    ('x = 1\\n# YOUR CODE HERE\\n...', [], None)
    """
    problem = _check_notebook(notebook)
    if problem:
        raise ValueError(f"this is not a lesson notebook: {problem}.")
    cells = []
    for cell in notebook["cells"]:
        cell = dict(cell)
        tags = _tags(cell)
        if "solution" in tags:
            continue
        source = cell_source(cell)
        if cell.get("cell_type") == "code":
            stripped = strip_solutions(source)
            if stripped != source or EXERCISE_CALL_RE.search(source) or ANSWER_TAG in tags:
                cell["outputs"] = []
                cell["execution_count"] = None
            cell["source"] = stripped
        elif cell.get("cell_type") == "markdown":
            cell["source"] = ANSWER_RE.sub("", source)
        cells.append(cell)
    result = dict(notebook)
    result["cells"] = cells
    return result


class BuildBusy(ValueError):
    """Another ``cnnteach student`` is building the same folder right now."""


@dataclass
class BuildReport:
    """What :func:`build_student_edition` did, file by file."""

    written: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    refreshed: list = field(default_factory=list)  # only run, not edited: replaced
    kept: list = field(default_factory=list)  # (student's file, new version written beside it)
    unchanged: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"wrote {p}" for p in self.written] + [f"updated {p}" for p in self.updated]
        out += [
            f"replaced {p.name} with the new version: it had only been run, not edited "
            f"(outputs and execution counts are not edits)"
            for p in self.refreshed
        ]
        out += [
            f"kept your edited {old.name}; the new version is {new.name}" for old, new in self.kept
        ]
        if self.unchanged:
            out.append(f"{len(self.unchanged)} notebook(s) already up to date")
        return out + list(self.notes)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sources_digest(notebook) -> str | None:
    """Hash of a notebook's cell types and sources: what counts as an edit; None if unreadable."""
    if _check_notebook(notebook):
        return None
    return _digest(
        json.dumps([[c["cell_type"], cell_source(c)] for c in notebook["cells"]]).encode("utf-8")
    )


def _regular_or_none(path: Path):
    """``os.stat_result`` of a regular file, None when absent; ValueError for anything else."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a FIFO or device)"
        raise ValueError(f"{path} is {what}: move it out of the way, then build again.")
    return info


def _read_json(path: Path, what: str):
    """Parse a JSON file of at most MAX_NOTEBOOK_BYTES; ValueError naming the file otherwise."""
    info = _regular_or_none(path)
    if info is None:
        raise ValueError(f"{path} does not exist: {what}.")
    if info.st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"{path} is {info.st_size:,} bytes, too large to be {what}.")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(
            f"{path} is not valid JSON ({type(exc).__name__}), so it is not {what}"
        ) from None


def _read_lesson(path: Path) -> dict:
    advice = (
        "fix it (open and save it in JupyterLab), or "
        "pass the course's notebooks/ folder with --from."
    )
    try:
        notebook = _read_json(path, "a lesson notebook")
    except ValueError as exc:
        raise ValueError(f"{str(exc).rstrip('.')}: {advice}") from None
    problem = _check_notebook(notebook)
    if problem:
        raise ValueError(f"{path} is not a lesson notebook ({problem}): {advice}")
    return notebook


def _load_manifest(out: Path) -> dict:
    """The build record: ``{"notebooks": {name: entry}, "solutions": bool}``; ValueError when
    damaged."""
    path = out / MANIFEST
    if _regular_or_none(path) is None:
        return {"notebooks": {}}
    advice = (
        f"move it aside (every notebook in {out} is then kept as the student's, and the new "
        f"versions are written beside them), then build again."
    )
    try:
        record = _read_json(path, "the record of a student build")
    except ValueError as exc:
        raise ValueError(f"{str(exc).rstrip('.')}: {advice}") from None
    if not isinstance(record, dict) or not isinstance(record.get("notebooks", {}), dict):
        kind = type(record).__name__ if not isinstance(record, dict) else "object of another shape"
        raise ValueError(  # noqa: TRY004 - the content, not the argument, is wrong
            f"{path} holds a JSON {kind}, not the record of a student build, so cnnteach cannot "
            f"tell which notebooks the student changed: {advice}"
        )
    if "notebooks" in record:
        raw, solutions = record["notebooks"], record.get("solutions", True) is not False
    else:  # the first format: name -> sha256 of the file
        raw, solutions = record, True
    entries = {}
    for name, entry in raw.items():
        if isinstance(entry, str):
            entry = {"sha256": entry}
        if isinstance(entry, dict) and isinstance(entry.get("sha256"), str):
            pending = entry.get("pending", [])
            entry["pending"] = (
                [p for p in pending if isinstance(p, str)] if isinstance(pending, list) else []
            )
            entries[name] = entry
    return {"notebooks": entries, "solutions": solutions}


def _save_manifest(out: Path, manifest: dict) -> None:
    write_atomic(
        out / MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")
    )


def _is_ours(entry, digest: str) -> bool:
    return isinstance(entry, dict) and (
        entry.get("sha256") == digest or digest in entry.get("pending", [])
    )


@contextlib.contextmanager
def _locked(out: Path, report: BuildReport):
    """Hold ``OUT/.cnnteach-student.lock`` (released by the system if the build dies)."""
    path = out / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            previous = int(os.pread(fd, 32, 0).split()[0]) if hasattr(os, "pread") else 0
        except (ValueError, IndexError, OSError):
            previous = 0
        try:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            who = f" (process {previous})" if previous else ""
            raise BuildBusy(
                f"{out} is being built by another `cnnteach student`{who}: wait until it "
                f"finishes, then run the command again."
            ) from None
        if previous and previous != os.getpid() and not pid_alive(previous):
            report.notes.append(
                f"took over the lock left by process {previous}, which is no longer running"
            )
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _as_folder(path, what: str) -> Path:
    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{what} takes a folder as a str or pathlib.Path, "
            f"not {type(path).__name__}: pass e.g. 'student'."
        )
    path = Path(path)
    if "\x00" in str(path):
        raise ValueError(
            f"{str(path)[:80]!r} contains a NUL character, so it is not a folder: type it again."
        )
    return path


def build_student_edition(out, source=None, *, solutions: bool = True) -> BuildReport:
    """Write the student edition of every lesson into ``out``, never losing a student's edits.

    Parameters
    ----------
    out : str or os.PathLike
        The folder to write; created if needed.
    source : str or os.PathLike, optional
        The lessons folder with solutions; defaults to the course's ``notebooks/``.
    solutions : bool, optional
        With False (``--no-solutions``), ``solution()`` in this edition says the instructor
        turned solutions off.

    Returns
    -------
    BuildReport

    Raises
    ------
    ValueError
        With one sentence naming the file and what to do: ``source`` has no lessons or a broken
        one, ``out`` is the lessons folder itself or cannot be written, its build record is
        damaged, or another build holds its lock (:class:`BuildBusy`).
    TypeError
        When ``out`` or ``source`` is not a str or path.

    Examples
    --------
    >>> build_student_edition("/tmp/x", source="/no/such/lessons")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: /no/such/lessons holds no lesson notebooks (NN_name.ipynb): pass the course's
        notebooks/ folder with --from.
    """
    from cnnteach.exercises import lessons_dir

    if not isinstance(solutions, bool):
        raise TypeError(
            f"build_student_edition() takes solutions=True or False, not {solutions!r}."
        )
    out = _as_folder(out, "build_student_edition()")
    source = _as_folder(source, "build_student_edition()") if source is not None else lessons_dir()
    try:
        return _build(out, source, solutions)
    except OSError as exc:
        where = exc.filename or out
        if exc.errno == 36:
            raise ValueError(
                f"{str(where)[:120]} is too long to be a path on this system: choose a shorter one."
            ) from None
        raise ValueError(
            f"{str(where)[:200]} cannot be written "
            f"({exc.strerror}): choose a folder you can write to, "
            f"or free some space, then build again."
        ) from None


def _build(out: Path, source, solutions: bool) -> BuildReport:
    lessons = sorted(source.glob("[0-9][0-9]_*.ipynb")) if source and source.is_dir() else []
    if not lessons:
        raise ValueError(
            f"{source} holds no lesson notebooks (NN_name.ipynb): "
            "pass the course's notebooks/ folder with --from."
        )
    if out.exists() and not out.is_dir():
        raise ValueError(
            f"{out} exists and is not a folder: choose a folder for the student edition."
        )
    if out.resolve() == source.resolve():
        raise ValueError(
            f"{out} is the lessons folder itself: choose another "
            "folder, or the solutions would be overwritten."
        )
    editions = [
        (lesson, student_notebook(_read_lesson(lesson))) for lesson in lessons
    ]  # all read first
    out.mkdir(parents=True, exist_ok=True)
    report = BuildReport()
    with _locked(out, report):
        manifest = _load_manifest(out)
        entries = manifest["notebooks"]
        for lesson, notebook in editions:
            data = dump_notebook(notebook).encode("utf-8")
            new, sources = _digest(data), _sources_digest(notebook)
            target = out / lesson.name
            if _regular_or_none(target) is None:
                report.written.append(target)
            else:
                current = target.read_bytes()
                digest = _digest(current)
                if digest == new:
                    report.unchanged.append(target)
                    entries[target.name] = {"sha256": new, "sources": sources, "pending": []}
                    continue
                if _is_ours(entries.get(target.name), digest):
                    report.updated.append(target)
                elif (
                    entries.get(target.name, {}).get("sources")
                    and _current_sources(current) == entries[target.name]["sources"]
                ):
                    report.refreshed.append(target)
                else:
                    target = _free_name(out, lesson, entries)
                    report.kept.append((out / lesson.name, target))
            _write_recorded(out, manifest, target, data, sources)
        _solutions_switch(out, manifest, solutions, report)
        _save_manifest(out, manifest)
    return report


def _current_sources(data: bytes) -> str | None:
    try:
        return _sources_digest(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, ValueError):
        return None


def _write_recorded(out: Path, manifest: dict, target: Path, data: bytes, sources) -> None:
    """Write ``target`` atomically; record its digest as pending before, and as done after."""
    entries = manifest["notebooks"]
    entry = entries.setdefault(target.name, {"sha256": "", "pending": []})
    entry.setdefault("pending", []).append(_digest(data))
    _save_manifest(out, manifest)
    write_atomic(target, data)
    entries[target.name] = {"sha256": _digest(data), "sources": sources, "pending": []}
    _save_manifest(out, manifest)


def _solutions_switch(out: Path, manifest: dict, solutions: bool, report: BuildReport) -> None:
    marker = out / NO_SOLUTIONS_MARKER
    if not solutions:
        write_atomic(
            marker, b"solution() is turned off in this edition (cnnteach student --no-solutions)\n"
        )
        manifest["solutions"] = False
        report.notes.append("solutions are turned off in this edition: solution() says so")
        return
    if _regular_or_none(marker) is not None:
        if manifest.get("solutions") is False:
            marker.unlink()
            report.notes.append("solutions are turned back on in this edition")
        else:
            report.notes.append(
                f"{marker.name} was not written by a build, so "
                "solution() stays off; delete it to turn solutions on"
            )
            return
    manifest["solutions"] = True


def _free_name(out: Path, lesson: Path, entries: dict) -> Path:
    """``NAME.new.ipynb``, or ``NAME.new-2.ipynb``... the first that holds no student edits."""
    n = 1
    while True:
        name = f"{lesson.stem}.new{'' if n == 1 else f'-{n}'}.ipynb"
        candidate = out / name
        if _regular_or_none(candidate) is None or _is_ours(
            entries.get(name), _digest(candidate.read_bytes())
        ):
            return candidate
        n += 1
