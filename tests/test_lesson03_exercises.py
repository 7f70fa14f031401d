"""Lesson 03's exercises: right answers pass, wrong answers of every kind are refused without an
exception (the notebook round trip is in test_exercises.py, for every lesson)."""

import math

import numpy as np
import pytest
from lesson_exercises import refused

from cnnteach.exercises import check, list_exercises

LESSON = "03"
IDS = ["03.categorical-shape", "03.cross-entropy", "03.one-hot", "03.one-hot-seven", "03.softmax"]


def test_the_lesson_registers_exactly_these_exercises():
    assert list_exercises(LESSON) == IDS


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
        ("03.categorical-shape", np.array([100, 10])),
        ("03.one-hot", lambda labels, num_classes=10: np.eye(num_classes)[labels]),
        (
            "03.one-hot",
            lambda labels, num_classes=10: (
                np.asarray(labels)[:, None] == np.arange(num_classes)
            ).astype(int),
        ),
        ("03.cross-entropy", -math.log(0.8)),
        ("03.cross-entropy", np.float32(0.2231)),
        ("03.cross-entropy", 0.223),
        ("03.cross-entropy", 0.2231),
        ("03.softmax", lambda z: np.exp(z - np.max(z)) / np.sum(np.exp(z - np.max(z)))),
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
    0,
    -1,
    7,
    3.5,
    float("nan"),
    float("inf"),
    True,
    1 + 2j,
    "0.223",
    "(100, 10)",
    "",
    [1, 2, 3],
    [7],
    [[0, 1], [1, 0]],
    (10, 100),
    range(10),
    {7},
    {"label": 7},
    np.zeros(10),
    np.ones(10),
    np.eye(10),
    np.array([]),
    np.array(["a"] * 10),
    object(),
    b"\x07",
    lambda *args: 0,
    lambda *args: "x",
    lambda *args: args,
    lambda z, *rest: z,
    raises,
    print,
    len,
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
    [
        ((10, 100), "Rows are examples"),
        ((100,), "integer labels"),
        ((100, 9), "ten classes"),
        ((100, 1), "ten classes"),
        ((1, 10), "one row"),
        ("(100, 10)", "tuple"),
        (np.zeros((100, 10)), "not a shape"),
    ],
)
def test_categorical_shape_hints(answer, hint):
    assert hint in refused("03.categorical-shape", answer).message


@pytest.mark.parametrize(
    "function, hint",
    [
        (lambda labels, num_classes=10: np.eye(num_classes)[labels].T, "transposed"),
        (lambda labels, num_classes=10: np.eye(10)[labels], "num_classes argument"),
        (
            lambda labels, num_classes=10: np.eye(num_classes)[np.asarray(labels) - 1],
            "must have their 1",
        ),
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
        (
            lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(keepdims=True)[None],
            "probabilities, not shape",
        ),
        (lambda z: None, "replace the ..."),
    ],
)
def test_softmax_hints(function, hint):
    assert hint in refused("03.softmax", function).message


@pytest.mark.parametrize("rounded", [0.22, 0.2])
def test_cross_entropy_rounded_to_two_decimals_is_the_right_idea_not_a_wrong_method(rounded):
    feedback = refused("03.cross-entropy", rounded)
    assert feedback.status == "not yet"
    assert feedback.message.startswith("Right idea: give at least 3 decimals"), feedback
    if rounded == 0.22:
        assert "log" not in feedback.message  # the method is not blamed
    else:  # 0.2 is also 1 - 0.8, a usual mistake: both are said, the rounding first
        assert "If you did not round: 1 - p" in feedback.message


def test_softmax_that_subtracts_the_minimum_is_refused():
    def subtracts_minimum(z):
        exps = np.exp(z - z.min())
        return exps / exps.sum()

    with np.errstate(all="ignore"):
        assert np.isnan(
            subtracts_minimum(np.array([-1000.0, 0.0, 1000.0]))
        ).any()  # the case that tells them apart
    feedback = refused("03.softmax", subtracts_minimum)
    assert "largest" in feedback.message and "not the smallest" in feedback.message


def test_softmax_reports_the_error_a_function_raises():
    def softmax(z):
        return np.exp(z) / undefined_name  # noqa: F821 - the learner's mistake

    feedback = refused("03.softmax", softmax)
    assert feedback.message.startswith(
        "Your function raised NameError: name 'undefined_name' is not defined on input softmax("
    )
    assert "You gave a function" not in feedback.message
