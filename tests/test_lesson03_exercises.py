"""Lesson 03's exercises: right answers pass, wrong answers of every kind are refused without an
exception, and the solutions stored in the notebook pass their own checkers."""

import math
from pathlib import Path

import numpy as np
import pytest

from cnnteach.exercises import check, list_exercises, solution
from cnnteach.student import strip_solutions

import lesson_exercises
from lesson_exercises import refused

LESSON = "03"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_labels_and_one_hot.ipynb"
IDS = ["03.categorical-shape", "03.cross-entropy", "03.one-hot", "03.one-hot-seven", "03.softmax"]
NAMESPACE = {"np": np}  # the exercise cells need nothing else from the lesson


def exercise_cells() -> dict:
    return lesson_exercises.exercise_cells(NOTEBOOK)


def run_cell(source: str, namespace: dict) -> list:
    return lesson_exercises.run_cell(source, namespace, NOTEBOOK)

# ----------------------------------------------------------------------------- the notebook
def test_the_notebook_checks_exactly_the_registered_exercises():
    assert sorted(exercise_cells()) == list_exercises(LESSON) == IDS


@pytest.mark.parametrize("exercise_id", IDS)
def test_stored_solution_passes_its_own_checker(exercise_id):
    shown = solution(exercise_id)
    assert shown.code.strip() and shown.prompt
    source = exercise_cells()[exercise_id]
    assert shown.code.strip().splitlines()[0].strip() in source
    feedback = run_cell(source, NAMESPACE)
    assert len(feedback) == 1 and feedback[0], feedback


@pytest.mark.parametrize("exercise_id", IDS)
def test_student_placeholder_runs_and_is_not_attempted(exercise_id):
    feedback = run_cell(strip_solutions(exercise_cells()[exercise_id]), NAMESPACE)
    assert len(feedback) == 1 and feedback[0].status == "not attempted", feedback


# ----------------------------------------------------------------------------- right answers
def softmax_2(scores):
    z = np.asarray(scores, dtype=np.float64)
    return np.exp(z - np.log(np.sum(np.exp(z - z.max()))) - z.max())


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("03.one-hot-seven", [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
        ("03.one-hot-seven", np.eye(10)[7]),
        ("03.one-hot-seven", np.eye(10, dtype=np.float32)[[7]]),
        ("03.one-hot-seven", np.arange(10) == 7),
        ("03.categorical-shape", (100, 10)),
        ("03.categorical-shape", [100, 10]),
        ("03.one-hot", lambda labels, num_classes=10: np.eye(num_classes)[labels]),
        ("03.one-hot", lambda labels, num_classes=10: (np.asarray(labels)[:, None] == np.arange(num_classes)).astype(int)),
        ("03.cross-entropy", -math.log(0.8)),
        ("03.cross-entropy", np.float32(0.2231)),
        ("03.cross-entropy", 0.223),
        ("03.softmax", lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum()),
        ("03.softmax", softmax_2),
    ],
)
def test_right_answers_are_accepted(exercise_id, answer):
    feedback = check(exercise_id, answer)
    assert feedback, feedback


# ----------------------------------------------------------------------------- wrong answers
def raises(*args):
    raise RuntimeError("boom")


JUNK = [
    0, -1, 7, 3.5, float("nan"), float("inf"), True, 1 + 2j, "0.223", "(100, 10)", "",
    [1, 2, 3], [7], [[0, 1], [1, 0]], (10, 100), range(10), {7}, {"label": 7},
    np.zeros(10), np.ones(10), np.eye(10), np.array([]), np.array(["a"] * 10), object(), b"\x07",
    lambda *args: 0, lambda *args: "x", lambda *args: args, lambda z, *rest: z, raises, print, len,
]


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("answer", JUNK, ids=lambda a: type(a).__name__)
def test_junk_is_refused_without_an_exception(exercise_id, answer):
    refused(exercise_id, answer)


@pytest.mark.parametrize("exercise_id", IDS)
def test_placeholders_are_not_attempted(exercise_id):
    assert check(exercise_id, ...).status == "not attempted"
    assert check(exercise_id, None).status == "not attempted"


@pytest.mark.parametrize(
    "answer, hint",
    [
        (np.eye(10)[6], "indices count from 0"),
        (np.eye(10)[8], "indices count from 0"),
        (np.eye(10)[3], "one-hot vector of 3"),
        (np.eye(9)[7], "exactly ten entries"),
        (np.eye(10)[[7, 7]], "exactly ten entries"),
        ([0, 0, 0, 0, 0, 0, 0, 2, 0, 0], "Exactly one entry is 1"),
        (np.eye(10)[7] + np.eye(10)[1], "Exactly one entry is 1"),
        (["0"] * 10, "numbers"),
    ],
)
def test_one_hot_seven_hints(answer, hint):
    assert hint in refused("03.one-hot-seven", answer).message


@pytest.mark.parametrize(
    "answer, hint",
    [((10, 100), "Rows are examples"), ((100,), "integer labels"), ((100, 9), "ten classes"), ((100, 1), "ten classes"),
     ((1, 10), "one row"), (np.array([100, 10]), "tuple")],
)
def test_categorical_shape_hints(answer, hint):
    assert hint in refused("03.categorical-shape", answer).message


@pytest.mark.parametrize(
    "function, hint",
    [
        (lambda labels, num_classes=10: np.eye(num_classes)[labels].T, "transposed"),
        (lambda labels, num_classes=10: np.eye(10)[labels], "num_classes argument"),
        (lambda labels, num_classes=10: np.eye(num_classes)[np.asarray(labels) - 1], "must have their 1"),
        (lambda labels, num_classes=10: np.asarray(labels), "the shape must be"),
        (lambda labels, num_classes=10: None, "replace the ..."),
    ],
)
def test_one_hot_hints(function, hint):
    assert hint in refused("03.one-hot", function).message


def test_one_hot_refuses_a_function_that_changes_its_input():
    def sorting(labels, num_classes=10):
        labels.sort()
        return np.eye(num_classes)[labels]

    assert "changed the labels" in refused("03.one-hot", sorting).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (math.log(0.8), "minus that logarithm"),
        (-math.log10(0.8), "base 10"),
        (-math.log2(0.8), "base 2"),
        (0.2, "1 - p"),
        (0.8, "-log(p)"),
        ("0.223", "remove the quotes"),
    ],
)
def test_cross_entropy_hints(answer, hint):
    assert hint in refused("03.cross-entropy", answer).message


@pytest.mark.parametrize(
    "function, hint",
    [
        (lambda z: np.exp(z) / np.exp(z).sum(), "overflow"),
        (lambda z: z / z.sum(), "exponentiate them first"),
        (lambda z: np.exp(z - z.max()), "add up to 1"),
        (lambda z: np.full(len(z), 1 / len(z)), "not softmax"),
        (lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(keepdims=True)[None], "probabilities, not shape"),
        (lambda z: None, "replace the ..."),
    ],
)
def test_softmax_hints(function, hint):
    assert hint in refused("03.softmax", function).message
