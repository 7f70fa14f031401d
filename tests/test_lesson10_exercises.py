"""Lesson 10's checked exercises accept right answers and refuse wrong ones without raising."""

import numpy as np
import pytest
from lesson_exercises import accepts_right_refuses_wrong

from cnnteach.exercises import check, list_exercises

WRONG_KINDS = ["144", None, ..., [144], {"n": 144}, True, float("nan"), object(), lambda: 144]


def test_lesson_09_has_its_exercises():
    assert set(list_exercises("10")) == {
        "10.feature-map-shape",
        "10.filter-response",
        "10.occlude",
        "10.occlusion-count",
    }


@pytest.mark.parametrize(
    "exercise_id, right, wrong",
    [
        (
            "10.feature-map-shape",
            [(11, 11, 32), [11, 11, 32], np.array([11, 11, 32])],
            [(1, 11, 11, 32), (13, 13, 32), (5, 5, 32), (11, 11, 16), (26, 26, 16), (11, 32), 11],
        ),
        ("10.occlusion-count", [144, 144.0, np.int64(144)], [145, 12, 121, 529, 0, 143.5]),
    ],
)
def test_number_and_shape_exercises(exercise_id, right, wrong):
    accepts_right_refuses_wrong(exercise_id, right, wrong + WRONG_KINDS)


def test_shape_hints_teach():
    assert "batch" in check("10.feature-map-shape", (1, 11, 11, 32)).message
    assert "pool_1" in check("10.feature-map-shape", (13, 13, 32)).message
    assert "original" in check("10.occlusion-count", 145).message
    assert "batch axis" in check("10.feature-map-shape", (None, 11, 11, 32)).message
    assert (
        "whole training set"
        in check("10.feature-map-shape", np.zeros((60000, 28, 28), np.uint8)).message
    )


def test_filter_response():
    def right(window, kernel, bias):
        return max(float((window * kernel).sum() + bias), 0.0)

    assert check("10.filter-response", right)
    assert check("10.filter-response", lambda w, k, b: np.maximum(np.sum(w * k) + b, 0))
    no_relu = check("10.filter-response", lambda w, k, b: (w * k).sum() + b)
    assert not no_relu and "ReLU" in no_relu.message
    no_bias = check("10.filter-response", lambda w, k, b: max((w * k).sum(), 0))
    assert not no_bias and "bias" in no_bias.message
    matmul = check("10.filter-response", lambda w, k, b: max((w @ k).sum() + b, 0))
    assert not matmul and "element-wise" in matmul.message
    assert not check("10.filter-response", lambda w, k, b: None)
    assert not check("10.filter-response", 3)


def test_occlude():
    def right(image, row, col, size):
        out = image.copy()
        out[row : row + size, col : col + size] = 0
        return out

    def in_place(image, row, col, size):
        image[row : row + size, col : col + size] = 0
        return image

    def swapped(image, row, col, size):
        out = image.copy()
        out[col : col + size, row : row + size] = 0
        return out

    assert check("10.occlude", right)
    feedback = check("10.occlude", in_place)
    assert not feedback and "copy" in feedback.message
    feedback = check("10.occlude", swapped)
    assert not feedback and "rows come first" in feedback.message
    assert not check("10.occlude", lambda image, row, col, size: image.copy())
    assert not check("10.occlude", lambda image, row, col, size: ...)
