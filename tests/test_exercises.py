"""cnnteach.exercises: check never raises, wrong answers are refused,
solutions come from the lessons.
"""

from __future__ import annotations

import builtins
import functools
import itertools
import json
import re

import lesson_exercises
import numpy as np
import pytest

from cnnteach import exercises
from cnnteach.exercises import (
    Feedback,
    call,
    check,
    exercise,
    expect_array,
    expect_number,
    list_exercises,
    solution,
)
from cnnteach.student import strip_solutions


@exercise("00.demo-square", "Write square(x).", explanation="Multiply x by itself.")
def _square(answer):
    fn = answer
    return (
        None
        if exercises.call(fn, 3) == 9 and exercises.call(fn, -2) == 4
        else "square(3) should be 9."
    )


@exercise("00.demo-shape", "Give the shape of one batch.")
def _shape(answer):
    return None if tuple(answer) == (1, 28, 28, 1) else "A batch of one image with one channel."


@exercise("00.demo-vector", "Give the one-hot vector for 3.")
def _vector(answer):
    expect_array(answer, (10,), dtype_kind="n")
    return None if np.array_equal(answer, np.eye(10)[3]) else "A one sits at index 3."


WRONG_ANSWERS = [
    0,
    -1,
    3.5,
    10**100,
    float("nan"),
    float("inf"),
    True,
    "784",
    "",
    b"bytes",
    [],
    [1, 2],
    (28, 28),
    {"a": 1},
    {1, 2},
    np.zeros((2, 2)),
    np.array("text"),
    np.array([1, "a"], dtype=object),
    object(),
    lambda: None,
    lambda x: x,
    print,
    type,
    Exception("boom"),
    np.float64("nan"),
    range(10),
    slice(3),
]


class Exploding:
    """An answer whose every method raises."""

    def __getattr__(self, name):
        raise RuntimeError("boom")

    def __eq__(self, other):
        raise RuntimeError("boom")

    def __iter__(self):
        raise RuntimeError("boom")

    def __array__(self, *args, **kwargs):
        raise RuntimeError("boom")

    def __call__(self, *args):
        raise RuntimeError("boom")


def test_right_answers_are_accepted():
    assert check("00.demo-square", lambda x: x * x)
    assert check("00.demo-shape", (1, 28, 28, 1))
    assert check("00.demo-shape", np.zeros((1, 28, 28, 1)).shape)
    assert check("00.demo-vector", np.eye(10)[3])
    assert check("00.demo-vector", [0, 0, 0, 1, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("exercise_id", ["00.demo-square", "00.demo-shape", "00.demo-vector"])
@pytest.mark.parametrize("wrong", WRONG_ANSWERS + [Exploding()], ids=lambda a: type(a).__name__)
def test_wrong_answers_of_every_kind_are_refused_without_raising(exercise_id, wrong):
    feedback = check(exercise_id, wrong)
    assert isinstance(feedback, Feedback)
    assert not feedback and feedback.status in ("not yet", "not attempted")  # never "correct"
    assert feedback.message and "Correct" not in repr(feedback)


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholder_is_not_attempted(placeholder):
    feedback = check("00.demo-shape", placeholder)
    assert not feedback and feedback.status == "not attempted" and "Not attempted" in repr(feedback)


def test_function_still_returning_placeholder_is_not_attempted():
    def square(x): ...

    assert check("00.demo-square", square).status == "not attempted"


def test_unknown_or_odd_ids_never_raise():
    for odd in ["nope", 42, None, ["01.x"], Exploding()]:
        feedback = check(odd, 1)
        assert not feedback and "no exercise called" in feedback.message


def test_feedback_displays_in_text_and_html():
    good, bad = check("00.demo-shape", (1, 28, 28, 1)), check("00.demo-shape", (28, 28))
    assert repr(good).startswith("✓ Correct (00.demo-shape)")
    assert "A batch of one image" in repr(bad)
    assert (
        "Correct" in good._repr_html_() and "&lt;" in Feedback("x", "not yet", "<b>")._repr_html_()
    )


def test_expect_helpers():
    assert expect_number(np.float32(2.5)) == 2.5
    with pytest.raises(ValueError, match="whole number"):
        expect_number(2.5, integer=True)
    with pytest.raises(ValueError, match="True/False"):
        expect_number(True)
    with pytest.raises(ValueError, match="expected shape"):
        expect_array(np.zeros(3), (4,))
    with pytest.raises(ValueError, match="ragged|cannot read"):
        expect_array([[1], [1, 2]])


def test_expect_number_reads_tensorflow_tensors_and_names_kinds_with_the_right_article():
    tf = pytest.importorskip("tensorflow")
    assert expect_number(tf.constant(14432), integer=True) == 14432
    assert expect_number(tf.constant(3.0) / 0.7) == pytest.approx(3 / 0.7)
    assert expect_number(np.array(10)) == 10
    with pytest.raises(ValueError, match="one number, got an array of shape"):
        expect_number(tf.constant([10, 2]))
    for flag in (np.array(True), tf.constant(True)):
        with pytest.raises(ValueError, match="True/False"):
            expect_number(flag)
    with pytest.raises(ValueError, match="got an object$"):
        expect_number(object())
    with pytest.raises(ValueError, match="got a list$"):
        expect_number([1])
    with pytest.raises(ValueError, match="got an int:"):
        call(3)


def test_registry_ids_are_well_formed_and_lessons_are_sorted():
    ids = list_exercises()
    assert ids == sorted(ids) and all("." in i for i in ids)
    assert all(i.startswith("05.") for i in list_exercises("05"))
    with pytest.raises(ValueError, match="must look like"):
        exercise("bad id", "x")


def test_solution_reads_the_worked_code_from_the_lesson(tmp_path, monkeypatch):
    lesson = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": (
                    "def square(x):\n    ### BEGIN SOLUTION\n    "
                    "return x * x\n    ### END SOLUTION\n"
                    "check('00.demo-square', square)"
                ),
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "00_demo.ipynb").write_text(json.dumps(lesson))
    monkeypatch.setenv("CNNTEACH_LESSONS", str(tmp_path))
    shown = solution("00.demo-square")
    assert shown.code == "return x * x"
    assert "Multiply x by itself." in repr(shown) and "```python" in shown._repr_markdown_()
    monkeypatch.setenv("CNNTEACH_LESSONS", str(tmp_path / "student-edition-has-none"))
    assert "not included in this edition" in repr(solution("00.demo-square"))
    assert "no exercise called" in repr(solution("99.nope"))


# -------------------------------------------------------------------- fairness rules, built in once
number_demo = exercises.number_exercise(
    "00.demo-iou",
    1 / 7,
    hints={0.25: "Divide by the union, not by one box."},
    otherwise="Intersection / union.",
)
exercises.shape_exercise(
    "00.demo-batch-shape",
    (32, 14, 14, 8),
    axes=("images", "rows", "columns", "channels"),
    hints={lambda s: s[1:3] == (12, 12): "That is padding='valid'."},
    otherwise="Rows: ceil(28 / 2).",
)


@pytest.mark.parametrize(
    "right", [1 / 7, 0.143, 0.1429, np.float32(1 / 7), np.array(1 / 7), 100 / 700]
)
def test_a_number_written_naturally_is_accepted(right):
    assert check("00.demo-iou", right)


@pytest.mark.parametrize("rounded", [0.14, 0.1])
def test_a_number_rounded_too_far_is_told_to_give_3_decimals_not_blamed(rounded):
    feedback = check("00.demo-iou", rounded)
    assert feedback.status == "not yet"
    assert feedback.message.startswith("Right idea: give at least 3 decimals"), feedback


@pytest.mark.parametrize(
    "wrong, hint", [(0.25, "union"), (0.2, "Intersection / union"), (0.15, "Intersection")]
)
def test_a_wrong_number_is_refused_with_its_hint(wrong, hint):
    feedback = check("00.demo-iou", wrong)
    assert not feedback and hint in feedback.message and "Right idea" not in feedback.message


def test_a_hint_that_would_refuse_the_right_answer_is_an_error():
    with pytest.raises(ValueError, match="refuse the right answer"):
        exercises.number_exercise("00.demo-bad", 0.5, hints={0.5004: "no"})


def test_a_shape_with_none_for_the_batch_gets_the_batch_size():
    feedback = check("00.demo-batch-shape", (None, 14, 14, 8))
    assert not feedback and "the batch here is 32" in feedback.message
    assert "ragged" not in feedback.message and "mixed" not in feedback.message
    wrong_too = check("00.demo-batch-shape", (None, 12, 12, 8))
    assert "the batch here is 32" in wrong_too.message and "padding='valid'" in wrong_too.message


@pytest.mark.parametrize(
    "right", [(32, 14, 14, 8), [32, 14, 14, 8], np.array([32, 14, 14, 8]), (32.0, 14, 14, 8)]
)
def test_a_shape_written_naturally_is_accepted(right):
    assert check("00.demo-batch-shape", right)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        ((8, 14, 14, 32), "wrong order"),
        ((14, 14, 8), "Give 4 numbers"),
        ("(32, 14, 14, 8)", "without quotes"),
        (32, "one number"),
        ([32] * 100, "100 numbers"),
    ],
)
def test_a_wrong_shape_is_refused_with_a_hint(wrong, hint):
    feedback = check("00.demo-batch-shape", wrong)
    assert not feedback and hint in feedback.message, feedback


def test_huge_answers_are_refused_without_being_read():
    x_train = np.zeros((60000, 28, 28), dtype=np.uint8)
    feedback = check("00.demo-batch-shape", x_train)
    assert not feedback and "whole training set" in feedback.message
    assert "whole training set" in check("00.demo-iou", x_train).message
    for endless in (itertools.count(), (i for i in itertools.count())):
        assert not check("00.demo-batch-shape", endless) and not check("00.demo-iou", endless)
        assert "iterator" in check("00.demo-vector", endless).message


def test_a_function_that_raises_is_reported_with_its_error_and_input():
    def square(x):
        return x / 0

    feedback = check("00.demo-square", square)
    assert not feedback
    assert (
        feedback.message
        == "Your function raised ZeroDivisionError: division by zero on input square(3)."
    )
    assert "You gave a function" not in feedback.message
    assert "on input your_function(3)" in check("00.demo-square", lambda x: [][x]).message


# --------------------------------------------------------------------- every lesson: one round trip
LESSON_CELLS = [
    cell
    for path in lesson_exercises.lessons()
    for cell in lesson_exercises.exercise_cells(path).values()
]
#: Exercises whose solution reads a value the lesson builds (checked through the stored output
#: instead).
NEEDS_LESSON_STATE = {"12.dense-as-conv": {"fcn"}}
MNIST_NAMES = {"x_train", "y_train", "x_test", "y_test"}


@functools.cache
def _setup_imports(notebook):
    return lesson_exercises.setup_imports(notebook)


def _namespace(cell) -> dict:
    namespace = dict(_setup_imports(cell.notebook))
    if lesson_exercises.free_names(cell.source) & MNIST_NAMES:
        from cnnteach.data import DataError, load_mnist

        try:
            (x_train, y_train), (x_test, y_test) = load_mnist()
        except DataError as exc:  # only where no copy of MNIST exists at all
            pytest.skip(f"MNIST is not available: {exc}")
        namespace.update(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return namespace


def test_every_registered_exercise_has_one_cell_in_its_lesson():
    assert sorted(cell.exercise_id for cell in LESSON_CELLS) == list_exercises()


@pytest.mark.parametrize("cell", LESSON_CELLS, ids=lambda cell: cell.exercise_id)
def test_round_trip_solution_is_correct_and_placeholder_is_not_attempted(cell):
    namespace = _namespace(cell)
    placeholder = lesson_exercises.run_cell(strip_solutions(cell.source), namespace, cell.notebook)
    assert [f.status for f in placeholder] == ["not attempted"], placeholder
    missing = (
        lesson_exercises.free_names(cell.source) - set(namespace) - set(dir(builtins)) - {"check"}
    )
    assert missing == NEEDS_LESSON_STATE.get(cell.exercise_id, set()), (
        f"the solution needs {missing}"
    )
    if missing:  # the lesson's own run, stored in the notebook, checked it
        shown = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)
        assert shown.startswith(f"✓ Correct ({cell.exercise_id})"), shown
        return
    solved = lesson_exercises.run_cell(cell.source, namespace, cell.notebook)
    assert [f.status for f in solved] == ["correct"], solved


# ----------------------------------------------------------------------------- one place per prompt
def test_each_question_is_written_once_in_its_lesson_and_solution_shows_it():
    for cell in LESSON_CELLS:
        assert cell.prompt, (
            f"{cell.exercise_id}: the Markdown cell right "
            "before its exercise cell asks the question, "
            "starting '**Exercise N.**'"
        )
        assert exercises._REGISTRY[cell.exercise_id].prompt == "", (
            f"{cell.exercise_id}: the question is written in the "
            "lesson; remove the prompt from the exercise bank"
        )
        assert solution(cell.exercise_id).prompt == cell.prompt


@pytest.mark.parametrize("path", lesson_exercises.lessons(), ids=lambda p: p.stem)
def test_exercises_are_numbered_in_order(path):
    cells = sorted(lesson_exercises.exercise_cells(path).values(), key=lambda c: c.index)
    markers = [exercises.PROMPT_RE.findall(c.markdown)[-1] for c in cells if c.prompt]
    numbers = [
        int(re.match(r"\*\*Exercise (\d+)", m).group(1))
        for m in markers
        if re.match(r"\*\*Exercise \d", m)
    ]
    if len(cells) > 1:
        assert numbers == list(range(1, len(cells) + 1)), markers


@pytest.mark.parametrize("path", lesson_exercises.lessons(), ids=lambda p: p.stem)
def test_solution_is_imported_wherever_a_lesson_mentions_it(path):
    if any("solution(" in c["source"] for c in lesson_exercises.read_cells(path)):
        assert "solution" in _setup_imports(path), (
            f"{path.name} mentions solution() but its Setup cell does not import it"
        )


X_TRAIN_LIKE = np.zeros((60000, 28, 28), dtype=np.uint8)


def _raises(*args):
    raise RuntimeError("boom")


@pytest.mark.parametrize("exercise_id", list_exercises())
def test_every_exercise_bounds_huge_answers_and_names_what_a_function_raised(exercise_id):
    for answer in (X_TRAIN_LIKE, itertools.count(), (i for i in itertools.count())):
        feedback = check(exercise_id, answer)  # returns at once: nothing is read in full
        assert not feedback and feedback.message, (exercise_id, feedback)
    feedback = check(exercise_id, _raises)
    assert not feedback and "You gave a function" not in feedback.message
    if feedback.message.startswith("Your function raised"):
        assert "RuntimeError: boom on input _raises(" in feedback.message
