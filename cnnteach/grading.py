"""Grade a class: run every submitted lesson notebook in a fresh kernel and record its checks.

``cnnteach grade SUBMISSIONS`` finds every ``*.ipynb`` under ``SUBMISSIONS`` (any layout) and
grades each one:

- **Who and which lesson.** The student is the part of the file name after its first hyphen
  (``05_pooling_and_flatten-alice.ipynb`` is alice's: lesson names never hold a hyphen);
  without a hyphen, the sub-folder the file is in, relative to ``SUBMISSIONS``
  (``alice/05_pooling_and_flatten.ipynb``, ``group1/alice/...`` gives ``group1/alice``); a file
  directly in ``SUBMISSIONS`` without a hyphen is named by its file name. The lesson is the one
  whose exercise ids the notebook's ``check("NN....", ...)`` calls name, or else the ``NN_``
  its file name starts with.
- **How.** The notebook is read into memory (the submission is only ever read), a copy is
  written into a new temporary working folder, and its cells run there in order in a fresh
  kernel of this Python (``python3``). Each cell may run ``timeout`` seconds, the whole notebook
  ``notebook_timeout``. A cell that raises is recorded and the next cell runs. A cell that
  runs too long is interrupted; when the kernel does not answer the interrupt (or dies), it is
  restarted and the cells that had run cleanly are run again to rebuild the state, then
  grading goes on with the next cell. Every ``check(...)`` call writes its result to a file
  named by ``CNNTEACH_CHECK_LOG`` (see :mod:`cnnteach.exercises`), so a result counts even when
  the student printed it or stored it in a variable.
- **What each kernel sees.** ``CNNTEACH_DATA`` points at a copy of MNIST made read-only with
  file permissions, ``CNNTEACH_MODELS`` at a private copy of the trained lesson model, and
  ``CNNTEACH_OFFLINE=1``. This protects the instructor's data, model and the submissions
  against accidents, not against a student who means harm: the code runs with your rights and
  can read and write anything you can (root ignores the permissions). For untrusted code, run
  the grader inside a container (see the README).

The results: one :class:`Grade` per notebook; :mod:`cnnteach.grade_report` writes them as
``grades.csv`` and an HTML class report.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Grade",
    "GradingError",
    "Submission",
    "find_submissions",
    "grade_class",
]

CHECK_LOG_ENV = "CNNTEACH_CHECK_LOG"
CHECK_CALL_RE = re.compile(r"""\bcheck\(\s*(?:exercise_id\s*=\s*)?["'](\d\d\.[a-z0-9-]+)["']""")
LESSON_NAME_RE = re.compile(r"^(\d\d)_")
STATUS_CELL = {"correct": "1", "not yet": "0", "not attempted": ""}
ERROR = "error"
GRACE = 10  # seconds an interrupted kernel has to answer before it is restarted


class GradingError(ValueError):
    """The grading itself cannot start or cannot write its results (one sentence says why)."""


@dataclass(frozen=True)
class Submission:
    """One notebook to grade: its path, the student and the lesson its file name gives."""

    path: Path
    student: str
    lesson_from_name: str | None


@dataclass
class Grade:
    """The grading of one notebook.

    Attributes
    ----------
    student, lesson : str
        Who submitted it and which lesson it is (``"03"``; empty when unknown).
    marks : dict
        Exercise id -> ``"1"``, ``"0"``, ``""`` (not attempted) or ``"error"``.
    hints : dict
        Exercise id -> the hint ``check`` gave for an answer that is not right yet.
    errors : dict
        Exercise id -> why its cell failed (``"timed out after 10 s"``, ``"NameError: ..."``).
    problem : str or None
        Why the notebook could not be graded at all (then ``marks`` are all ``"error"``).
    seconds : float
        How long its grading took.
    """

    path: Path
    student: str
    lesson: str
    marks: dict = field(default_factory=dict)
    hints: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    problem: str | None = None
    seconds: float = 0.0

    @property
    def score(self) -> int:
        """How many exercises are correct."""
        return sum(mark == "1" for mark in self.marks.values())

    @property
    def total(self) -> int:
        """How many exercises the lesson has."""
        return len(self.marks)

    @property
    def started(self) -> bool:
        """True when at least one exercise got an answer (right or not) or failed."""
        return any(mark != "" for mark in self.marks.values())


# ----------------------------------------------------------------------------- finding
def find_submissions(folder) -> list[Submission]:
    """Every notebook under ``folder`` (checkpoints and hidden folders skipped), with its student.

    Examples
    --------
    >>> find_submissions("/no/such/folder")
    Traceback (most recent call last):
    ...
    cnnteach.grading.GradingError: /no/such/folder is not a folder: pass the class's folder
    """
    root = Path(folder)
    if not root.is_dir():
        raise GradingError(f"{folder} is not a folder: pass the class's folder")
    found = []
    for path in sorted(root.rglob("*.ipynb")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue  # .ipynb_checkpoints, .git, ...
        found.append(_submission(path, relative))
    return found


def _submission(path: Path, relative: Path) -> Submission:
    stem = path.stem
    lesson_part, hyphen, student = stem.partition("-")
    if not (hyphen and student.strip()):
        folders = relative.parent.as_posix()
        student = folders if folders != "." else stem
    match = LESSON_NAME_RE.match(lesson_part)
    return Submission(path, student.strip(), match.group(1) if match else None)


# ----------------------------------------------------------------------------- reading
def _read_notebook(path: Path):
    """The notebook (nbformat v4 node), or raise GradingError with the reason it is not gradable."""
    import nbformat

    data = path.read_bytes()
    if not data.strip():
        raise GradingError(
            "the file is empty (0 bytes of notebook): ask the student to save it again from Jupyter"
        )
    try:
        text = data.decode("utf-8")
        raw = json.loads(text)
    except UnicodeDecodeError:
        raise GradingError(
            "the file is not UTF-8 text, so it is not a notebook: ask the student to re-save it"
        ) from None
    except json.JSONDecodeError as exc:
        raise GradingError(
            f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it is damaged "
            "or half-saved: ask the student to re-save it from Jupyter"
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise GradingError("the file is JSON but not a Jupyter notebook (it has no list of cells)")
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises many kinds for odd files
        raise GradingError(
            f"Jupyter cannot read this notebook ({type(exc).__name__}): "
            "ask the student to re-save it"
        ) from None
    if not any(
        cell.get("cell_type") == "code" and str(cell.get("source", "")).strip()
        for cell in notebook.cells
    ):
        raise GradingError("the notebook is empty: it has no code cells")
    return notebook


def _lesson_of(notebook, submission: Submission) -> str:
    """The lesson the notebook's check calls name (the most named), else the file name's."""
    named = collections.Counter(
        exercise_id.split(".")[0]
        for cell in notebook.cells
        if cell.get("cell_type") == "code"
        for exercise_id in CHECK_CALL_RE.findall(str(cell.get("source", "")))
    )
    if named:
        return named.most_common(1)[0][0]
    if submission.lesson_from_name:
        return submission.lesson_from_name
    raise GradingError(
        'this is not a cnnteach lesson: it has no check("NN.exercise-id", ...) call and its name '
        "does not start with a lesson number (NN_)"
    )


# ----------------------------------------------------------------------------- running
@dataclass
class _Settings:
    timeout: int
    notebook_timeout: int
    environment: dict
    model: Path | None = None  # the trained lesson model each kernel gets a copy of


def _cell_ids(cell) -> list[str]:
    if cell.get("cell_type") != "code":
        return []
    return CHECK_CALL_RE.findall(str(cell.get("source", "")))


async def _reply(kc, msg_id: str) -> dict:
    while True:
        msg = await kc.shell_channel.get_msg(timeout=None)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


async def _answers(client, grace: float) -> bool:
    """True when the kernel answers a kernel_info request within ``grace`` seconds."""
    try:
        if not await client.km.is_alive():
            return False
        return bool(await asyncio.wait_for(_reply(client.kc, client.kc.kernel_info()), grace))
    except (asyncio.TimeoutError, Exception):
        return False


async def _restart(client) -> None:
    """A new kernel process in the same working folder, with a new client."""
    with contextlib.suppress(Exception):
        client.kc.stop_channels()
    client.kc = None
    await client.km.restart_kernel(now=True)
    await client.async_start_new_kernel_client()


def _error_text(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            value = str(output.get("evalue", ""))
            return (
                f"{output.get('ename', 'Error')}: {value[:200]}"
                if value
                else output.get("ename", "Error")
            )
    return None


async def _execute(notebook, workdir: Path, settings: _Settings, environment: dict) -> dict:
    """Run every code cell; return exercise id -> why its cell failed, for cells that failed."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    client = NotebookClient(
        notebook,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": "", "traceback": []},
        record_timing=False,
        iopub_timeout=GRACE,
        startup_timeout=120,
        resources={"metadata": {"path": str(workdir)}},
    )
    failures: dict[str, str] = {}
    timeouts: dict[int, str] = {}  # cell index -> "timed out after N s", from nbclient's reply

    def on_cell_error(cell, cell_index, execute_reply):
        content = execute_reply.get("content", {})
        if content.get("ename") == "CellTimeoutError":
            timeouts[cell_index] = content.get("evalue", "timed out")

    client.on_cell_error = on_cell_error
    deadline = time.monotonic() + settings.notebook_timeout
    clean: list[int] = []  # cells that ran without an error, to replay after a restart
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # no kernel chatter
    async with client.async_setup_kernel(cwd=str(workdir), env=environment, **quiet):
        cells = notebook.cells
        index = 0
        while index < len(cells):
            cell = cells[index]
            if cell.get("cell_type") != "code" or "skip-execution" in cell.metadata.get("tags", []):
                index += 1
                continue
            left = deadline - time.monotonic()
            if left < 1:
                for later in cells[index:]:
                    for exercise_id in _cell_ids(later):
                        failures.setdefault(
                            exercise_id,
                            f"not run: the notebook's {settings.notebook_timeout} s limit "
                            "was reached",
                        )
                break
            limit = int(min(settings.timeout, left))
            client.timeout = max(1, limit)
            client.error_on_timeout = {
                "ename": "CellTimeoutError",
                "evalue": f"timed out after {client.timeout} s"
                + ("" if limit >= settings.timeout else " (the notebook's time limit)"),
                "traceback": [],
            }
            lost = None
            try:
                await client.async_execute_cell(cell, index)
            except DeadKernelError:
                lost = "the kernel died while this cell ran"
            timed_out = timeouts.pop(index, None)
            problem = lost or timed_out or _error_text(cell)
            if problem:
                for exercise_id in _cell_ids(cell):
                    failures.setdefault(exercise_id, problem)
            else:
                clean.append(index)
            if lost or (timed_out and not await _answers(client, GRACE)):
                await _restart(client)
                for earlier in clean:  # rebuild the state the later cells expect
                    replay_cell = copy.deepcopy(cells[earlier])
                    client.timeout = max(1, int(min(settings.timeout, deadline - time.monotonic())))
                    with contextlib.suppress(DeadKernelError):
                        await client.async_execute_cell(replay_cell, earlier)
            index += 1
    return failures


def _read_log(path: Path) -> dict[str, dict]:
    """The last check record of each exercise id in the log (unreadable lines skipped)."""
    last = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return last
    for line in lines:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            record = json.loads(line)
            if record.get("status") in STATUS_CELL:
                last[str(record["id"])] = record
    return last


def _private_copy(source: Path | None, target: Path, read_only: bool) -> Path | None:
    """Copy a file or a folder's files into ``target``; make them read-only if asked."""
    if source is None or not source.exists():
        return None
    target.mkdir(parents=True, exist_ok=True)
    files = [source] if source.is_file() else [p for p in source.iterdir() if p.is_file()]
    for path in files:
        shutil.copy2(path, target / path.name)
        if read_only:
            os.chmod(target / path.name, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    if read_only:
        os.chmod(
            target,
            stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH,
        )
    return target


def _remove(path: Path) -> None:
    """Delete a temporary tree, read-only files included (made writable first)."""

    def writable_then_retry(function, name, _exc):
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            os.chmod(name, stat.S_IRWXU)
            function(name)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=writable_then_retry)
    else:
        shutil.rmtree(path, onerror=writable_then_retry)


async def _grade_one(
    submission: Submission, number: int, scratch: Path, settings: _Settings
) -> Grade:
    from cnnteach.exercises import list_exercises

    start = time.monotonic()
    result = Grade(submission.path, submission.student, submission.lesson_from_name or "")
    try:
        notebook = _read_notebook(submission.path)
        result.lesson = _lesson_of(notebook, submission)
        ids = list_exercises(result.lesson)
        if not ids:
            raise GradingError(f"lesson {result.lesson} has no checked exercises to grade")
    except GradingError as exc:
        result.problem = str(exc)
        result.marks = {i: ERROR for i in list_exercises(result.lesson)} if result.lesson else {}
        result.seconds = time.monotonic() - start
        return result
    except OSError as exc:
        result.problem = f"the file cannot be read ({exc.strerror or exc})"
        result.seconds = time.monotonic() - start
        return result
    job = scratch / f"notebook-{number}"
    workdir = job / "work"
    workdir.mkdir(parents=True)
    log = job / "checks.jsonl"
    models = job / "models"
    _private_copy(settings.model, models, read_only=False)
    environment = {**settings.environment, CHECK_LOG_ENV: str(log), "CNNTEACH_MODELS": str(models)}
    (workdir / submission.path.name).write_bytes(submission.path.read_bytes())  # the temporary copy
    try:
        failures = await _execute(notebook, workdir, settings, environment)
    except (
        Exception
    ) as exc:  # the kernel could not start, or nbclient broke: say so, never a traceback
        failures = {i: f"the notebook could not be run ({type(exc).__name__}: {exc})" for i in ids}
    records = _read_log(log)
    for exercise_id in ids:
        record = records.get(exercise_id)
        if record is not None:
            result.marks[exercise_id] = STATUS_CELL[record["status"]]
            if record["status"] == "not yet":
                result.hints[exercise_id] = str(record.get("message", ""))
        elif exercise_id in failures:
            result.marks[exercise_id] = ERROR
            result.errors[exercise_id] = failures[exercise_id]
        else:
            result.marks[exercise_id] = ""
    result.seconds = time.monotonic() - start
    return result


class _Progress:
    """A one-line progress bar on stderr (one line per notebook when stderr is not a terminal)."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def step(self, grade: Grade) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        filled = round(30 * self.done / max(self.total, 1))
        line = (
            f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} notebooks "
            f"{elapsed:.0f} s  {grade.student} {grade.lesson}: "
            + (grade.problem.split(":")[0] if grade.problem else f"{grade.score}/{grade.total}")
        )
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _environment(scratch: Path) -> tuple[dict, Path | None]:
    """The kernels' environment (read-only MNIST copy, offline) and the trained model, if any."""
    from cnnteach.data import DataError, find_mnist
    from cnnteach.storage import default_model_path

    environment = dict(os.environ)
    environment["CNNTEACH_OFFLINE"] = "1"
    environment.pop("MPLBACKEND", None)
    try:
        source = find_mnist()
    except DataError:
        source = None
    if source is not None and source.location is not None:
        if source.kind == "npz":
            location = (
                source.location if source.location.is_file() else source.location / "mnist.npz"
            )
            data = _private_copy(location, scratch / "mnist", read_only=True)
        else:
            data = _private_copy(source.location, scratch / "mnist", read_only=True)
        if data is not None:
            environment["CNNTEACH_DATA"] = str(data)
    model = default_model_path()
    return environment, model if model.is_file() else None


def grade_class(
    folder,
    *,
    timeout: int = 60,
    notebook_timeout: int | None = None,
    jobs: int | None = None,
    progress=None,
) -> list[Grade]:
    """Grade every notebook under ``folder``, ``jobs`` kernels at a time; never modifies them.

    Parameters
    ----------
    folder : str or os.PathLike
        The submissions (any layout; see the module's docstring for how students are named).
    timeout : int, default 60
        Seconds one cell may run before it is interrupted (and its exercise marked ``error``).
    notebook_timeout : int, optional
        Seconds one notebook may run in all; default 20 times ``timeout``.
    jobs : int, optional
        How many notebooks run at once; default: the number of CPU cores.
    progress : file, optional
        Where the progress bar goes (default stderr); ``False`` for none.

    Returns
    -------
    list of Grade
        One per notebook, sorted by lesson then student.

    Examples
    --------
    >>> grade_class("/no/such/folder")
    Traceback (most recent call last):
    ...
    cnnteach.grading.GradingError: /no/such/folder is not a folder: pass the class's folder
    """
    submissions = find_submissions(folder)
    for name, value in (
        ("timeout", timeout),
        ("notebook timeout", notebook_timeout),
        ("jobs", jobs),
    ):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise GradingError(f"the {name} must be a whole number of at least 1, got {value!r}")
    if not submissions:
        raise GradingError(
            f"{folder} holds no notebooks (*.ipynb): give the folder of the students' notebooks"
        )
    settings_timeout = notebook_timeout or 20 * timeout
    jobs = jobs or os.cpu_count() or 1
    bar = None if progress is False else _Progress(len(submissions), progress)
    scratch = Path(tempfile.mkdtemp(prefix="cnnteach-grade-"))
    try:
        settings = _Settings(timeout, settings_timeout, *_environment(scratch))
        results = asyncio.run(_grade_all(submissions, scratch, settings, jobs, bar))
    finally:
        _remove(scratch)
    return sorted(results, key=lambda g: (g.lesson, g.student, str(g.path)))


async def _grade_all(submissions, scratch, settings, jobs, bar) -> list[Grade]:
    gate = asyncio.Semaphore(jobs)

    async def one(number, submission):
        async with gate:
            grade = await _grade_one(submission, number, scratch, settings)
        if bar is not None:
            bar.step(grade)
        return grade

    return list(await asyncio.gather(*(one(n, s) for n, s in enumerate(submissions))))
