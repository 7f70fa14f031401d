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

import contextlib
import html
import importlib
import json
import os
import pkgutil
import re
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
    number_exercise,
    shape_exercise,
)
from cnnteach.notebook_io import SOLUTION_RE

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
        raise ValueError(f"exercise id {exercise_id!r} must look like '05.output-size'")

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
            f'<b style="color:{colour}">{STATUS_ICON[self.status]} {STATUS_TEXT[self.status]}</b>'
            f" <code>{html.escape(self.exercise_id)}</code>"
            + (f"<br>{html.escape(self.message)}" if self.message else "")
            + "</div>"
        )


def _log_check(feedback: Feedback) -> None:
    """Append a check's result as one JSON line to ``$CNNTEACH_CHECK_LOG`` (``cnnteach grade`` sets
    it)."""
    path = os.environ.get("CNNTEACH_CHECK_LOG")
    if path:
        record = {
            "id": feedback.exercise_id,
            "status": feedback.status,
            "message": feedback.message,
        }
        with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")


def _placeholder(answer) -> bool:
    return answer is ... or answer is None


def check(exercise_id, answer) -> Feedback:
    """Check an answer and return friendly feedback; never raises, whatever it is given.

    Parameters
    ----------
    exercise_id : str
        The exercise, e.g. ``"05.output-size"`` (see :func:`list_exercises`).
    answer : object
        Anything. ``...`` (the placeholder) or None counts as "Not attempted".

    Returns
    -------
    Feedback
        True only when the answer is right; its display says "Correct", "Not yet" with a
        hint that teaches, or "Not attempted".

    Examples
    --------
    >>> check("no.such-id", 3)  # doctest: +NORMALIZE_WHITESPACE
    ✗ Not yet (no.such-id): There is no exercise called 'no.such-id'; copy the id from the lesson,
        or see list_exercises().
    """
    try:
        _load_bank()
        key = exercise_id if isinstance(exercise_id, str) else repr(exercise_id)
        entry = _REGISTRY.get(key) if isinstance(exercise_id, str) else None
        if entry is None:
            return Feedback(
                key,
                "not yet",
                f"There is no exercise called {key!r}; copy the "
                "id from the lesson, or see list_exercises().",
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
                str(exc) or "Replace the ... with your answer, then run the cell again.",
            )
        except AnswerError as exc:  # the answer's kind is wrong: the message is the hint
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
            str(hint) if hint is not False else "That is not it yet; re-read the question.",
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


# ----------------------------------------------------------------------------- solutions
NO_SOLUTIONS_MARKER = ".cnnteach-no-solutions"  # written by `cnnteach student OUT --no-solutions`


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
        head = f"Solution to {self.exercise_id}"
        parts = [
            f"{'**' + head + ':**' if fence else head + ':'} {self.prompt}" if self.prompt else head
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
        if not path.is_file():  # a FIFO named like a lesson would block the read
            continue
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
                blocks = [_dedent(m.group(2), m.group(1)) for m in SOLUTION_RE.finditer(source)]
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
    try:
        turned_off = (Path.cwd() / NO_SOLUTIONS_MARKER).is_file()
    except OSError:
        turned_off = False
    if turned_off:
        return Solution(
            exercise_id,
            prompt or entry.prompt,
            notes=["Your instructor turned solutions off in this edition."],
        )
    notes = (
        []
        if code
        else [
            "(The worked code is not included in this edition of the course; ask your instructor.)"
        ]
    )
    return Solution(exercise_id, prompt or entry.prompt, code or "", entry.explanation, notes)
