"""Lesson 05's checked exercises accept right answers and refuse many wrong ones without raising."""

import math

import numpy as np
import pytest

from cnnteach.exercises import check, list_exercises

WRONG_KINDS = [
    "24",
    None,
    ...,
    [24],
    {"rows": 24},
    True,
    float("nan"),
    object(),
    lambda: 24,
    np.array([1, 2]),
]


def test_lesson_04_has_its_exercises():
    assert set(list_exercises("05")) == {
        "05.output-size",
        "05.stride-no-tile",
        "05.conv-params",
        "05.predict-same-stride",
        "05.horizontal-kernel",
        "05.output-size-function",
    }


@pytest.mark.parametrize(
    "exercise_id, right, wrong",
    [
        ("05.output-size", [24, 24.0, np.int64(24)], [23, 28, 26, 22, 25, -24, 0]),
        ("05.stride-no-tile", [13, np.float32(13)], [13.5, 14, 12, 12.5, 26, 1, 7]),
        ("05.conv-params", [1456, 1456.0], [160, 1440, 100, 1466, 0, 144]),
        (
            "05.predict-same-stride",
            [(32, 14, 14, 8), [32, 14, 14, 8], np.array([32, 14, 14, 8])],
            [
                (14, 14, 8),
                (32, 12, 12, 8),
                (32, 28, 28, 8),
                (32, 14, 14, 1),
                (1, 14, 14, 8),
                (32, 14, 8),
                (32, 7, 7, 8),
                14,
            ],
        ),
    ],
)
def test_number_and_shape_exercises(exercise_id, right, wrong):
    for answer in right:
        assert check(exercise_id, answer), (exercise_id, answer)
    for answer in wrong + WRONG_KINDS:
        feedback = check(exercise_id, answer)
        assert not feedback, (exercise_id, answer)
        assert feedback.message  # always says something useful


def test_specific_hints_teach():
    assert "floor" in check("05.stride-no-tile", 13.5).message
    assert "3 × 3 × 10" in check("05.conv-params", 160).message
    assert "bias" in check("05.conv-params", 1440).message
    assert "batch" in check("05.predict-same-stride", (14, 14, 8)).message
    assert "'same'" in check("05.output-size", 28).message


def test_horizontal_kernel():
    for right in (
        [[-1, -1, -1], [2, 2, 2], [-1, -1, -1]],
        [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
        np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]) * 0.5,
        [[0, 0, 0], [1, 1, 1], [-1, -1, -1]],
    ):
        assert check("05.horizontal-kernel", right), right
    vertical = np.array([[-1, 0, 1]] * 3)
    cases = {
        "vertical": (vertical, "left to right"),
        "zeros": (np.zeros((3, 3)), "gives 0"),
        "blur": (np.ones((3, 3)) / 9, "add up to 0"),
        "one weight": ([[0, 0, 0], [0, 1, 0], [0, 0, 0]], "add up to 0"),
        "diagonal": ([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], ""),
        "laplace": ([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], "vertical"),
    }
    for name, (kernel, hint) in cases.items():
        feedback = check("05.horizontal-kernel", kernel)
        assert not feedback, name
        assert hint in feedback.message, (name, feedback.message)
    for wrong in [
        np.ones((5, 5)),
        [[1, 2], [3, 4]],
        "kernel",
        [[np.inf, 0, 0], [0, 0, 0], [0, 0, 0]],
        3,
        None,
    ]:
        assert not check("05.horizontal-kernel", wrong)


def test_output_size_function():
    def right(i, k, s, p):
        return (i - k + 2 * p) // s + 1

    def no_floor(i, k, s, p):
        return (i - k + 2 * p) / s + 1

    def ceiling(i, k, s, p):
        return math.ceil((i - k + 2 * p) / s) + 1

    def no_padding(i, k, s, p):
        return (i - k) // s + 1

    def floats(i, k, s, p):
        return float((i - k + 2 * p) // s + 1)

    assert check("05.output-size-function", right)
    assert "//" in check("05.output-size-function", no_floor).message
    assert "rounds up" in check("05.output-size-function", ceiling).message
    assert not check("05.output-size-function", no_padding)
    assert "int" in check("05.output-size-function", floats).message
    assert check("05.output-size-function", lambda i, k, s, p: None).status == "not attempted"
    for wrong in [
        lambda i, k, s, p: 1 / 0,
        lambda: 26,
        26,
        "def f(): pass",
        lambda i, k, s, p: "26",
    ]:
        assert not check("05.output-size-function", wrong)


def test_a_shape_with_none_for_the_batch_gets_the_batch_size():
    feedback = check("05.predict-same-stride", (None, 14, 14, 8))
    assert (
        not feedback
        and "the batch here is 32" in feedback.message
        and "ragged" not in feedback.message
    )
    assert "the batch here is 32" in check("05.predict-same-stride", (None, 12, 12, 8)).message


def test_the_whole_training_set_is_not_a_shape():
    x_train = np.zeros((60000, 28, 28), dtype=np.uint8)
    feedback = check("05.predict-same-stride", x_train)
    assert not feedback and "whole training set" in feedback.message


def test_a_function_that_raises_is_reported_with_its_error_and_input():
    def output_size(i, k, s, p):
        return (i - k + 2 * p) // (s - 1) + 1

    feedback = check("05.output-size-function", output_size)
    assert not feedback
    assert feedback.message == (
        "Your function raised ZeroDivisionError: integer division "
        "or modulo by zero on input output_size(28, 3, 1, 0)."
    )
