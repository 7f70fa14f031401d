"""cnnteach.exercises: check never raises, wrong answers are refused, solutions come from the lessons."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnteach import exercises
from cnnteach.exercises import Feedback, check, exercise, expect_array, expect_number, list_exercises, solution


@exercise("00.demo-square", "Write square(x).", explanation="Multiply x by itself.")
def _square(answer):
    fn = answer
    return None if exercises.call(fn, 3) == 9 and exercises.call(fn, -2) == 4 else "square(3) should be 9."


@exercise("00.demo-shape", "Give the shape of one batch.")
def _shape(answer):
    return None if tuple(answer) == (1, 28, 28, 1) else "A batch of one image with one channel."


@exercise("00.demo-vector", "Give the one-hot vector for 3.")
def _vector(answer):
    expect_array(answer, (10,), dtype_kind="n")
    return None if np.array_equal(answer, np.eye(10)[3]) else "A one sits at index 3."


WRONG_ANSWERS = [
    0, -1, 3.5, 10**100, float("nan"), float("inf"), True, "784", "", b"bytes", [], [1, 2], (28, 28),
    {"a": 1}, {1, 2}, np.zeros((2, 2)), np.array("text"), np.array([1, "a"], dtype=object), object(),
    lambda: None, lambda x: x, print, type, Exception("boom"), np.float64("nan"), range(10), slice(3),
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
    def square(x):
        ...

    assert check("00.demo-square", square).status == "not attempted"


def test_unknown_or_odd_ids_never_raise():
    for odd in ["nope", 42, None, ["01.x"], Exploding()]:
        feedback = check(odd, 1)
        assert not feedback and "no exercise called" in feedback.message


def test_feedback_displays_in_text_and_html():
    good, bad = check("00.demo-shape", (1, 28, 28, 1)), check("00.demo-shape", (28, 28))
    assert repr(good).startswith("✓ Correct (00.demo-shape)")
    assert "A batch of one image" in repr(bad)
    assert "Correct" in good._repr_html_() and "&lt;" in Feedback("x", "not yet", "<b>")._repr_html_()


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


def test_registry_ids_are_well_formed_and_lessons_are_sorted():
    ids = list_exercises()
    assert ids == sorted(ids) and all("." in i for i in ids)
    assert all(i.startswith("04.") for i in list_exercises("04"))
    with pytest.raises(ValueError, match="must look like"):
        exercise("bad id", "x")


def test_solution_reads_the_worked_code_from_the_lesson(tmp_path, monkeypatch):
    lesson = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": (
            "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION\n"
            "check('00.demo-square', square)")}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    (tmp_path / "00_demo.ipynb").write_text(json.dumps(lesson))
    monkeypatch.setenv("CNNTEACH_LESSONS", str(tmp_path))
    shown = solution("00.demo-square")
    assert shown.code == "return x * x"
    assert "Multiply x by itself." in repr(shown) and "```python" in shown._repr_markdown_()
    monkeypatch.setenv("CNNTEACH_LESSONS", str(tmp_path / "student-edition-has-none"))
    assert "not included in this edition" in repr(solution("00.demo-square"))
    assert "no exercise called" in repr(solution("99.nope"))
