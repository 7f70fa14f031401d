"""Checked exercises: instant, friendly feedback that can never crash a lesson.

A lesson's exercise cell looks like this (the solution is marked the nbgrader way, and
``cnnteach student`` replaces it with a placeholder that runs)::

    answer = ...  # replace ... with your answer
    ### BEGIN SOLUTION
    answer = 28 * 28
    ### END SOLUTION
    check("01.pixel-count", answer)

Exercises are defined in ``cnnteach/exercise_bank/lessonNN.py`` with the :func:`exercise`
decorator. A checker receives the learner's answer and returns ``None`` when it is right or
a hint (a string that teaches) when it is not; it may raise anything, which :func:`check`
turns into "Not yet".
"""

from __future__ import annotations

import contextlib
import html
import importlib
import json
import os
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = [
    "Feedback",
    "NotAttempted",
    "call",
    "check",
    "exercise",
    "expect_array",
    "expect_number",
    "list_exercises",
    "solution",
]


class NotAttempted(Exception):
    """Raised by a checker when the answer is still the placeholder."""


@dataclass(frozen=True)
class Exercise:
    """One registered exercise."""

    id: str
    prompt: str
    checker: Callable
    explanation: str = ""

    @property
    def lesson(self) -> str:
        return self.id.split(".", 1)[0]


_REGISTRY: dict[str, Exercise] = {}
_LOADED = False

STATUS_TEXT = {"correct": "Correct", "not yet": "Not yet", "not attempted": "Not attempted"}
STATUS_ICON = {"correct": "✓", "not yet": "✗", "not attempted": "✎"}
STATUS_COLOUR = {"correct": "#1a7f37", "not yet": "#b35900", "not attempted": "#57606a"}


def exercise(exercise_id: str, prompt: str, explanation: str = ""):
    """Register a checker for ``exercise_id`` (a decorator used in ``exercise_bank``).

    Parameters
    ----------
    exercise_id : str
        ``"NN.short-name"``, where NN is the lesson number.
    prompt : str
        The question in one sentence.
    explanation : str, optional
        Why the answer is what it is, shown by :func:`solution` under the worked code.

    Examples
    --------
    >>> @exercise("00.demo-double", "Give 2 * 21.")
    ... def _(answer):
    ...     return None if expect_number(answer) == 42 else "Multiply 2 by 21."
    >>> bool(check("00.demo-double", 42)), bool(check("00.demo-double", "42"))
    (True, False)
    """
    if not re.fullmatch(r"\d\d\.[a-z0-9-]+", exercise_id):
        raise ValueError(f"exercise id {exercise_id!r} must look like '04.output-size'")

    def register(checker):
        if exercise_id in _REGISTRY and _REGISTRY[exercise_id].checker.__module__ != checker.__module__:
            raise ValueError(f"exercise id {exercise_id!r} is registered twice")
        _REGISTRY[exercise_id] = Exercise(exercise_id, prompt, checker, explanation)
        return checker

    return register


def _load_bank() -> None:
    """Import every module of ``cnnteach.exercise_bank`` once (they only register checkers)."""
    global _LOADED
    if _LOADED:
        return
    from cnnteach import exercise_bank

    for module in sorted(pkgutil.iter_modules(exercise_bank.__path__), key=lambda m: m.name):
        importlib.import_module(f"cnnteach.exercise_bank.{module.name}")
    _LOADED = True


def list_exercises(lesson: str | None = None) -> list[str]:
    """Return the ids of every exercise, or of one lesson's (``lesson="04"``), sorted.

    Examples
    --------
    >>> all(len(i.split(".")[0]) == 2 for i in list_exercises())
    True
    """
    _load_bank()
    ids = sorted(i for i in _REGISTRY if not i.startswith("00.demo"))
    return [i for i in ids if lesson is None or i.split(".")[0] == f"{int(lesson):02d}"]


# ----------------------------------------------------------------------------- feedback
@dataclass
class Feedback:
    """The result of :func:`check`: true when right; displaying it shows the feedback.

    Examples
    --------
    >>> fb = Feedback("01.demo", "not yet", "Count the rows, then the columns.")
    >>> bool(fb)
    False
    >>> fb
    ✗ Not yet (01.demo): Count the rows, then the columns.
    """

    exercise_id: str
    status: str
    message: str = ""

    def __post_init__(self) -> None:
        _log_check(self)

    def __bool__(self) -> bool:
        return self.status == "correct"

    @property
    def correct(self) -> bool:
        return bool(self)

    def __repr__(self) -> str:
        text = f"{STATUS_ICON[self.status]} {STATUS_TEXT[self.status]} ({self.exercise_id})"
        return f"{text}: {self.message}" if self.message else text

    def _repr_html_(self) -> str:
        colour = STATUS_COLOUR[self.status]
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px;margin:2px 0">'
            f"<b style=\"color:{colour}\">{STATUS_ICON[self.status]} {STATUS_TEXT[self.status]}</b>"
            f" <code>{html.escape(self.exercise_id)}</code>"
            + (f"<br>{html.escape(self.message)}" if self.message else "")
            + "</div>"
        )


def _log_check(feedback: Feedback) -> None:
    """Append a check's result as one JSON line to ``$CNNTEACH_CHECK_LOG`` (``cnnteach grade`` sets it)."""
    path = os.environ.get("CNNTEACH_CHECK_LOG")
    if path:
        record = {"id": feedback.exercise_id, "status": feedback.status, "message": feedback.message}
        with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")


def _placeholder(answer) -> bool:
    return answer is ... or answer is None


def check(exercise_id, answer) -> Feedback:
    """Check an answer and return friendly feedback; never raises, whatever it is given.

    Parameters
    ----------
    exercise_id : str
        The exercise, e.g. ``"04.output-size"`` (see :func:`list_exercises`).
    answer : object
        Anything. ``...`` (the placeholder) or None counts as "Not attempted".

    Returns
    -------
    Feedback
        True only when the answer is right; its display says "Correct", "Not yet" with a
        hint that teaches, or "Not attempted".

    Examples
    --------
    >>> check("no.such-id", 3)
    ✗ Not yet (no.such-id): There is no exercise called 'no.such-id'; copy the id from the lesson, or see list_exercises().
    """
    try:
        _load_bank()
        key = exercise_id if isinstance(exercise_id, str) else repr(exercise_id)
        entry = _REGISTRY.get(key) if isinstance(exercise_id, str) else None
        if entry is None:
            return Feedback(
                key, "not yet",
                f"There is no exercise called {key!r}; copy the id from the lesson, or see list_exercises().",
            )
        if _placeholder(answer):
            return Feedback(key, "not attempted", "Replace the ... with your answer, then run the cell again.")
        try:
            hint = entry.checker(answer)
        except NotAttempted as exc:
            return Feedback(key, "not attempted", str(exc) or "Replace the ... with your answer, then run the cell again.")
        except Exception as exc:  # a wrong kind of answer is simply wrong
            return Feedback(key, "not yet", f"Checking your answer raised {type(exc).__name__}: {exc}. {_kind_hint(answer)}")
        if hint is None or hint is True:
            return Feedback(key, "correct", "Well done.")
        return Feedback(key, "not yet", str(hint) if hint is not False else "That is not it yet; re-read the question.")
    except BaseException as exc:  # pragma: no cover - last line of defence (KeyboardInterrupt passes)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return Feedback(str(exercise_id), "not yet", f"The checker could not read this answer ({type(exc).__name__}).")


def _kind_hint(answer) -> str:
    return f"You gave a {type(answer).__name__}; re-read what kind of answer the question asks for."


# ----------------------------------------------------------------------------- checker helpers
def expect_number(answer, *, integer: bool = False) -> float:
    """Return ``answer`` as a float, or raise ValueError with a hint if it is not a number.

    Accepts Python and numpy numbers and 0-d arrays; rejects strings, bools and sequences.

    Examples
    --------
    >>> expect_number(np.int64(7))
    7.0
    >>> expect_number("7")
    Traceback (most recent call last):
    ...
    ValueError: expected a number, got the str '7' (remove the quotes)
    """
    if isinstance(answer, (bool, np.bool_)):
        raise ValueError("expected a number, got True/False")
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        answer = answer.item()
    if isinstance(answer, str):
        raise ValueError(f"expected a number, got the str {answer!r} (remove the quotes)")
    if not isinstance(answer, (int, float, np.integer, np.floating)):
        raise ValueError(f"expected a number, got a {type(answer).__name__}")
    value = float(answer)
    if not np.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    if integer and value != int(value):
        raise ValueError(f"expected a whole number, got {value}")
    return value


def expect_array(answer, shape=None, *, dtype_kind: str | None = None) -> np.ndarray:
    """Return ``answer`` as a numpy array of the given shape, or raise ValueError with a hint.

    Parameters
    ----------
    answer : object
        An array-like (list, tuple, numpy array, Keras/TensorFlow tensor).
    shape : tuple, optional
        The required shape.
    dtype_kind : str, optional
        Required numpy dtype kind, e.g. ``"f"`` for floats; ``"n"`` accepts any number.

    Examples
    --------
    >>> expect_array([[1, 2], [3, 4]], (2, 2)).sum()
    np.int64(10)
    >>> expect_array([1, 2, 3], (2, 2))
    Traceback (most recent call last):
    ...
    ValueError: expected shape (2, 2), got shape (3,)
    """
    if isinstance(answer, (str, bytes, dict, set)) or callable(answer) and not hasattr(answer, "__array__"):
        raise ValueError(f"expected an array, got a {type(answer).__name__}")
    try:
        array = np.asarray(answer)
    except Exception as exc:
        raise ValueError(f"expected an array, got something numpy cannot read ({exc})") from None
    if array.dtype == object:
        raise ValueError("expected an array of numbers, got ragged or mixed data")
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(f"expected shape {tuple(shape)}, got shape {array.shape}")
    if dtype_kind == "n" and array.dtype.kind not in "biuf":
        raise ValueError(f"expected numbers, got dtype {array.dtype}")
    if dtype_kind and dtype_kind != "n" and array.dtype.kind != dtype_kind:
        raise ValueError(f"expected dtype kind {dtype_kind!r}, got dtype {array.dtype}")
    return array


def call(function, *args, **kwargs):
    """Call a learner's function; raise :class:`NotAttempted` when it still returns the placeholder.

    Examples
    --------
    >>> call(lambda x: x + 1, 1)
    2
    >>> call(lambda: None)
    Traceback (most recent call last):
    ...
    cnnteach.exercises.NotAttempted: Your function returns None: replace the ... in its body, then run the cell again.
    """
    if not callable(function):
        raise ValueError(f"expected a function, got a {type(function).__name__}")
    result = function(*args, **kwargs)
    if _placeholder(result):
        raise NotAttempted("Your function returns None: replace the ... in its body, then run the cell again.")
    return result


# ----------------------------------------------------------------------------- solutions
SOLUTION_RE = re.compile(r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)


def lessons_dir() -> Path | None:
    """The folder of the lessons with their solutions, or None in a student edition.

    Examples
    --------
    >>> d = lessons_dir()
    >>> d is None or d.name == "notebooks"
    True
    """
    import os

    env = os.environ.get("CNNTEACH_LESSONS")
    candidate = Path(env) if env else Path(__file__).resolve().parent.parent / "notebooks"
    return candidate if candidate.is_dir() else None


@dataclass
class Solution:
    """A worked solution; displays as Markdown in Jupyter and as text elsewhere."""

    exercise_id: str
    prompt: str
    code: str = ""
    explanation: str = ""
    notes: list = field(default_factory=list)

    def _text(self, fence: bool) -> str:
        parts = [f"Solution to {self.exercise_id}: {self.prompt}"]
        if self.code:
            parts.append(f"```python\n{self.code}\n```" if fence else self.code)
        if self.explanation:
            parts.append(self.explanation)
        parts.extend(self.notes)
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return self._text(fence=False)

    def _repr_markdown_(self) -> str:
        return "**" + self._text(fence=True).replace(":", ":**", 1)


def _solution_code(exercise_id: str) -> str | None:
    folder = lessons_dir()
    if folder is None:
        return None
    lesson = exercise_id.split(".")[0]
    pattern = re.compile(r"check\(\s*['\"]" + re.escape(exercise_id) + r"['\"]")
    for path in sorted(folder.glob(f"{lesson}_*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        for cell in cells:
            source = "".join(cell.get("source", ""))
            if cell.get("cell_type") == "code" and pattern.search(source):
                blocks = [_dedent(m.group(2), m.group(1)) for m in SOLUTION_RE.finditer(source)]
                if blocks:
                    return "\n".join(b.rstrip("\n") for b in blocks)
    return None


def _dedent(block: str, indent: str) -> str:
    return "\n".join(line[len(indent):] if line.startswith(indent) else line for line in block.splitlines())


def solution(exercise_id) -> Solution:
    """Show the worked solution of an exercise, for learners who choose to look.

    The code is read from the lesson notebook itself (the single source of answers); a
    student edition built with ``cnnteach student`` has no solutions to show.

    Examples
    --------
    >>> solution("no.such-id")
    Solution to no.such-id: There is no exercise called 'no.such-id'; see list_exercises().
    """
    _load_bank()
    entry = _REGISTRY.get(exercise_id) if isinstance(exercise_id, str) else None
    if entry is None:
        return Solution(str(exercise_id), f"There is no exercise called {exercise_id!r}; see list_exercises().")
    code = _solution_code(exercise_id)
    notes = [] if code else ["(The worked code is not included in this edition of the course; ask your instructor.)"]
    return Solution(exercise_id, entry.prompt, code or "", entry.explanation, notes)
