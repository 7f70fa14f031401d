"""Checked exercises: instant, friendly feedback that can never crash a lesson.

A lesson's exercise is a Markdown cell that asks the question (``**Exercise N.** ...``, the
one place the prompt is written) and the code cell after it. The solution is marked the
nbgrader way, and ``cnnteach student`` replaces it with a placeholder that runs::

    answer = ...  # replace ... with your answer
    ### BEGIN SOLUTION
    answer = 28 * 28
    ### END SOLUTION
    check("01.pixel-count", answer)

Checkers live in ``cnnteach/exercise_bank/lessonNN.py``. Most are data:
:func:`number_exercise` and :func:`shape_exercise` take the right answer and a table of
hints for the usual wrong ones. A custom checker uses the :func:`exercise` decorator: it
receives the answer and returns ``None`` when it is right or a hint (a string that teaches)
when it is not. Whatever a checker raises, :func:`check` turns into "Not yet".
"""

from __future__ import annotations

import html
import importlib
import json
import pkgutil
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cnnteach._answers import (
    AnswerError,
    NotAttempted,
    call,
    expect_array,
    expect_number,
    expect_shape,
    rounding_hint,
)

__all__ = [
    "AnswerError",
    "Feedback",
    "NotAttempted",
    "call",
    "check",
    "exercise",
    "expect_array",
    "expect_number",
    "expect_shape",
    "list_exercises",
    "number_exercise",
    "shape_exercise",
    "solution",
]


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

STATUS_TEXT = {
    "correct": "Correct",
    "not yet": "Not yet",
    "not attempted": "Not attempted",
}
STATUS_ICON = {"correct": "✓", "not yet": "✗", "not attempted": "✎"}
STATUS_COLOUR = {"correct": "#1a7f37", "not yet": "#b35900", "not attempted": "#57606a"}


def exercise(exercise_id: str, prompt: str = "", explanation: str = ""):
    """Register a checker for ``exercise_id`` (a decorator used in ``exercise_bank``).

    Parameters
    ----------
    exercise_id : str
        ``"NN.short-name"``, where NN is the lesson number.
    prompt : str, optional
        Leave it empty for a lesson's exercise: the question is written once, in the lesson's
        Markdown cell before the exercise cell, and :func:`solution` reads it from there.
        (Accepted for demos and for older banks; a test keeps lesson banks free of prompts.)
    explanation : str, optional
        Why the answer is what it is, shown by :func:`solution` under the worked code.

    Examples
    --------
    >>> @exercise("00.demo-double")
    ... def _(answer):
    ...     return None if expect_number(answer) == 42 else "Multiply 2 by 21."
    >>> bool(check("00.demo-double", 42)), bool(check("00.demo-double", "42"))
    (True, False)
    """
    if not re.fullmatch(r"\d\d\.[a-z0-9-]+", exercise_id):
        raise ValueError(f"exercise id {exercise_id!r} must look like '04.output-size'")

    def register(checker):
        if (
            exercise_id in _REGISTRY
            and _REGISTRY[exercise_id].checker.__module__ != checker.__module__
        ):
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

    for module in sorted(
        pkgutil.iter_modules(exercise_bank.__path__), key=lambda m: m.name
    ):
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
            f'<b style="color:{colour}">{STATUS_ICON[self.status]} {STATUS_TEXT[self.status]}</b>'
            f" <code>{html.escape(self.exercise_id)}</code>"
            + (f"<br>{html.escape(self.message)}" if self.message else "")
            + "</div>"
        )


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
                key,
                "not yet",
                f"There is no exercise called {key!r}; copy the id from the lesson, or see list_exercises().",
            )
        if _placeholder(answer):
            return Feedback(
                key,
                "not attempted",
                "Replace the ... with your answer, then run the cell again.",
            )
        try:
            hint = entry.checker(answer)
        except NotAttempted as exc:
            return Feedback(
                key,
                "not attempted",
                str(exc)
                or "Replace the ... with your answer, then run the cell again.",
            )
        except (
            AnswerError
        ) as exc:  # the answer's kind is wrong: the message is the hint
            return Feedback(key, "not yet", _sentence(str(exc)))
        except Exception as exc:  # noqa: BLE001 - anything else the checker met is simply "not yet"
            return Feedback(
                key,
                "not yet",
                f"Checking your answer raised {type(exc).__name__}: {exc}. {_kind_hint(answer)}",
            )
        if hint is None or hint is True:
            return Feedback(key, "correct", "Well done.")
        return Feedback(
            key,
            "not yet",
            str(hint)
            if hint is not False
            else "That is not it yet; re-read the question.",
        )
    except (
        BaseException
    ) as exc:  # pragma: no cover - last line of defence (KeyboardInterrupt passes)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return Feedback(
            str(exercise_id),
            "not yet",
            f"The checker could not read this answer ({type(exc).__name__}).",
        )


def _kind_hint(answer) -> str:
    if callable(answer):
        return "Re-read what your function should return."
    return f"You gave a {type(answer).__name__}; re-read what kind of answer the question asks for."


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


# ----------------------------------------------------------------------------- declarative checkers
def _number_matches(key, value: float, tolerance: float) -> bool:
    if callable(key):
        return bool(key(value))
    if isinstance(key, (tuple, list, set, frozenset)):
        return any(_number_matches(k, value, tolerance) for k in key)
    relative = 0.0 if float(key).is_integer() else 1e-3 * abs(key)
    return abs(value - key) <= max(tolerance, relative, 1e-9)


def number_exercise(
    exercise_id: str,
    answer: float,
    *,
    hints: dict | None = None,
    otherwise: str = "That is not it yet; re-read the question.",
    integer: bool = False,
    tolerance: float | None = None,
    explanation: str = "",
):
    """Register an exercise whose answer is one number, with hints for the usual wrong ones.

    The fairness rules are built in: any number type is read (``24``, ``24.0``,
    ``np.int64(24)``, a 0-d array); a non-integer answer is accepted within ``tolerance``, so
    3 decimals are enough; the answer rounded to 1 or 2 decimals gets "Right idea: give at
    least 3 decimals", never only a hint about the method (when a usual mistake gives the same
    number, both are said); a string, array or function gets one
    sentence that says what kind of answer is wanted.

    Parameters
    ----------
    exercise_id : str
        ``"NN.short-name"``; the question itself is written in the lesson.
    answer : float
        The right value (an expression such as ``-math.log(0.8)`` is best).
    hints : dict, optional
        ``{wrong: hint}``, tried in order. A key is a number (matched within ``tolerance`` or
        0.1 %), a tuple of numbers (any of them), or a function of the value that returns True.
    otherwise : str
        The hint for any other wrong number.
    integer : bool
        The answer is a whole number (a count): other values get a hint saying so.
    tolerance : float, optional
        Accepted distance from ``answer``: 0 for a whole-number answer, else 1e-3.
    explanation : str, optional
        Shown by :func:`solution` under the worked code.

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> _ = number_exercise("00.demo-ln", -math.log(0.8), hints={0.2: "1 - p is not it."},
    ...                     otherwise="Take minus the natural logarithm.")
    >>> [check("00.demo-ln", a).status for a in (0.2231, np.float32(0.223), 0.2)]
    ['correct', 'correct', 'not yet']
    >>> check("00.demo-ln", 0.22).message
    'Right idea: give at least 3 decimals (0.22 is rounded too far), or the exact expression.'
    """
    answer = float(answer)
    hints = dict(hints or {})
    if tolerance is None:
        tolerance = 0.0 if answer.is_integer() else 1e-3
    for key in hints:
        if not callable(key) and _number_matches(key, answer, tolerance):
            raise ValueError(
                f"{exercise_id}: the hint for {key!r} would refuse the right answer"
            )

    def checker(given):
        value = expect_number(given)
        if abs(value - answer) <= max(tolerance, 1e-9):
            return None
        hint = next(
            (h for key, h in hints.items() if _number_matches(key, value, tolerance)),
            None,
        )
        rounded = None if integer else rounding_hint(value, answer)
        if (
            rounded and hint
        ):  # e.g. 0.2: -ln(0.8) rounded to 1 decimal, or the mistake 1 - p
            return f"{rounded} If you did not round: {hint}"
        if rounded or hint:
            return rounded or hint
        if integer and not value.is_integer():
            return f"The answer is a whole number (a count), and {value:g} is not. {otherwise}"
        return otherwise

    checker.__module__ = sys._getframe(1).f_globals.get("__name__", __name__)
    exercise(exercise_id, explanation=explanation)(checker)
    return checker


def _shape_matches(key, shape: tuple) -> bool:
    if callable(key):
        try:
            return bool(key(shape))
        except (IndexError, TypeError, ValueError):
            return False
    return tuple(key) == shape


def shape_exercise(
    exercise_id: str,
    answer: tuple,
    *,
    hints: dict | None = None,
    otherwise: str = "That is not it yet; re-read the question.",
    axes: tuple | None = None,
    explanation: str = "",
):
    """Register an exercise whose answer is a shape, with hints for the usual wrong ones.

    Built in: a tuple, list, Keras shape or short array of whole numbers is read as a shape;
    a ``None`` (as Keras prints the batch) gets "the batch here is N"; a whole array (such as
    ``x_train``), an iterator or a string gets one sentence and is never read in full; the
    right numbers in the wrong order and a wrong number of axes get their own hints.

    Parameters
    ----------
    exercise_id : str
        ``"NN.short-name"``; the question itself is written in the lesson.
    answer : tuple of int
        The right shape.
    hints : dict, optional
        ``{wrong: hint}``, tried in order: a key is a shape (a tuple) or a function of the
        shape that returns True (one that raises IndexError counts as False).
    otherwise : str
        The hint for any other wrong shape.
    axes : tuple of str, optional
        The axes' names, e.g. ``("images", "rows", "columns", "channels")``, used in hints.
    explanation : str, optional
        Shown by :func:`solution` under the worked code.

    Examples
    --------
    >>> _ = shape_exercise("00.demo-conv-shape", (32, 14, 14, 8),
    ...                    hints={lambda s: s[1:3] == (12, 12): "That is padding='valid'."},
    ...                    axes=("batch", "rows", "columns", "channels"))
    >>> [check("00.demo-conv-shape", a).status for a in ((32, 14, 14, 8), [32, 14, 14, 8], (32, 12, 12, 8))]
    ['correct', 'correct', 'not yet']
    >>> check("00.demo-conv-shape", (None, 14, 14, 8)).message
    'None is how Keras prints a batch of any size; the batch here is 32: write 32 instead of None.'
    """
    answer = tuple(int(v) for v in answer)
    hints = dict(hints or {})
    names = tuple(axes) if axes else tuple(f"axis {i}" for i in range(len(answer)))

    def judge(shape: tuple) -> str | None:
        if shape == answer:
            return None
        for key, hint in hints.items():
            if _shape_matches(key, shape):
                return hint
        if sorted(shape) == sorted(answer):
            return (
                "Right numbers, wrong order: the axes are (" + ", ".join(names) + ")."
            )
        if len(shape) != len(answer):
            return (
                f"Give {len(answer)} numbers, one per axis: (" + ", ".join(names) + ")."
            )
        return otherwise

    def checker(given):
        shape = expect_shape(given)
        if None not in shape:
            return judge(shape)
        if len(shape) != len(
            answer
        ):  # e.g. (None, 11, 11, 32) where one image's shape is asked
            return judge(tuple(1 if v is None else v for v in shape))
        filled = tuple(a if v is None else v for v, a in zip(shape, answer))
        missing = [i for i, v in enumerate(shape) if v is None]
        said = "; ".join(
            f"the batch here is {answer[i]}"
            if i == 0
            else f"the {names[i]} here is {answer[i]}"
            for i in missing
        )
        first = (
            "None is how Keras prints a batch of any size"
            if missing == [0]
            else "None is a size Keras does not know yet"
        )
        message = f"{first}; {said}: write {' and '.join(str(answer[i]) for i in missing)} instead of None."
        rest = judge(filled)
        return message if rest is None else f"{message} {rest}"

    checker.__module__ = sys._getframe(1).f_globals.get("__name__", __name__)
    exercise(exercise_id, explanation=explanation)(checker)
    return checker


# ----------------------------------------------------------------------------- solutions
SOLUTION_RE = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


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
    candidate = (
        Path(env) if env else Path(__file__).resolve().parent.parent / "notebooks"
    )
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
        head = f"Solution to {self.exercise_id}"
        parts = [
            f"{'**' + head + ':**' if fence else head + ':'} {self.prompt}"
            if self.prompt
            else head
        ]
        if self.code:
            parts.append(f"```python\n{self.code}\n```" if fence else self.code)
        if self.explanation:
            parts.append(self.explanation)
        parts.extend(self.notes)
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return self._text(fence=False)

    def _repr_markdown_(self) -> str:
        return self._text(fence=True)


#: The start of an exercise's question in the Markdown cell before its exercise cell.
PROMPT_RE = re.compile(r"^\*\*Exercise\b[^*]*\*\*[ \t]*", re.MULTILINE)


def exercise_prompt(markdown: str) -> str | None:
    """The question in a lesson's Markdown cell: the text from its last ``**Exercise N.**`` on.

    Examples
    --------
    >>> exercise_prompt("## Exercises\\n\\n**Exercise 1 (predict before you run).** How many rows?")
    'How many rows?'
    >>> exercise_prompt("## Summary") is None
    True
    """
    starts = list(PROMPT_RE.finditer(markdown))
    return markdown[starts[-1].end() :].strip() if starts else None


def _from_lesson(exercise_id: str) -> tuple[str | None, str | None]:
    """The question and the worked code of an exercise, read from its lesson (None if absent)."""
    folder = lessons_dir()
    if folder is None:
        return None, None
    lesson = exercise_id.split(".")[0]
    pattern = re.compile(r"check\(\s*['\"]" + re.escape(exercise_id) + r"['\"]")
    for path in sorted(folder.glob(f"{lesson}_*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        for number, cell in enumerate(cells):
            source = "".join(cell.get("source", ""))
            if (
                cell.get("cell_type") == "code"
                and SOLUTION_RE.search(source)
                and pattern.search(source)
            ):
                blocks = [
                    _dedent(m.group(2), m.group(1))
                    for m in SOLUTION_RE.finditer(source)
                ]
                before = cells[number - 1] if number else {}
                prompt = (
                    exercise_prompt("".join(before.get("source", "")))
                    if before.get("cell_type") == "markdown"
                    else None
                )
                return prompt, "\n".join(b.rstrip("\n") for b in blocks)
    return None, None


def _dedent(block: str, indent: str) -> str:
    return "\n".join(line.removeprefix(indent) for line in block.splitlines())


def solution(exercise_id) -> Solution:
    """Show the worked solution of an exercise, for learners who choose to look.

    The question and the code are read from the lesson notebook itself (the single source of
    questions and answers); a student edition built with ``cnnteach student`` has no code to show.

    Examples
    --------
    >>> solution("no.such-id")
    Solution to no.such-id: There is no exercise called 'no.such-id'; see list_exercises().
    """
    _load_bank()
    entry = _REGISTRY.get(exercise_id) if isinstance(exercise_id, str) else None
    if entry is None:
        return Solution(
            str(exercise_id),
            f"There is no exercise called {exercise_id!r}; see list_exercises().",
        )
    prompt, code = _from_lesson(exercise_id)
    notes = (
        []
        if code
        else [
            "(The worked code is not included in this edition of the course; ask your instructor.)"
        ]
    )
    return Solution(
        exercise_id, prompt or entry.prompt, code or "", entry.explanation, notes
    )
