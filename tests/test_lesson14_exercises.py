"""Lesson 14's checked exercises accept right answers and refuse wrong ones without raising."""

import math

import numpy as np
import pytest
from lesson_exercises import accepts_right_refuses_wrong

from cnnteach.exercises import check, list_exercises

WRONG_KINDS = ["11", None, ..., {"w": 11}, True, float("nan"), object(), lambda: 1]


def test_lesson_14_has_its_exercises():
    assert set(list_exercises("14")) == {
        "14.snapped-width",
        "14.background-rois",
        "14.rcnn-passes",
        "14.bilinear",
        "14.rpn-labels",
    }


@pytest.mark.parametrize(
    "exercise_id, right, wrong",
    [
        (
            "14.snapped-width",
            [11, 11.0, np.int64(11), 15 - 5 + 1],
            [10.25, 41, 10, 12, 10.3, 0, 11.5],
        ),
        (
            "14.background-rois",
            [384, 384.0, np.int32(384), 16 * 32 * 0.75],
            [128, 8, 24, 512, 96, 383, 0],
        ),
        ("14.rcnn-passes", [20000, 2e4, np.int64(20000), 10 * 2000], [2000, 10, 2010, 200, 0]),
        (
            "14.rpn-labels",
            [[0, -1, 1, -1], (0, -1, 1, -1), np.array([0, -1, 1, -1]), [0.0, -1.0, 1.0, -1.0]],
            [
                [0, 0, 1, 1],
                [0, 0, 1, 0],
                [0, -1, -1, -1],
                [0, 1, 1, -1],
                [1, -1, 0, -1],
                [0, -1, 1],
                0,
            ],
        ),
    ],
)
def test_number_and_array_exercises(exercise_id, right, wrong):
    accepts_right_refuses_wrong(exercise_id, right, wrong + WRONG_KINDS)


def _right(grid, y, x):
    y0, x0 = math.floor(y), math.floor(x)
    y1, x1 = min(y0 + 1, grid.shape[0] - 1), min(x0 + 1, grid.shape[1] - 1)
    dy, dx = y - y0, x - x0
    top = grid[y0, x0] * (1 - dx) + grid[y0, x1] * dx
    bottom = grid[y1, x0] * (1 - dx) + grid[y1, x1] * dx
    return top * (1 - dy) + bottom * dy


def _with_scipy(grid, y, x):
    from scipy import ndimage

    return ndimage.map_coordinates(grid, [[y], [x]], order=1)[0]


def _with_tf(grid, y, x):
    import tensorflow as tf

    h, w = grid.shape
    box = [[y / (h - 1), x / (w - 1), y / (h - 1), x / (w - 1)]]
    return (
        tf.image.crop_and_resize(grid[None, :, :, None].astype("float64"), box, [0], (1, 1))
        .numpy()
        .item()
    )


def _swapped(grid, y, x):
    return _right(grid.T, y, x)


def _nearest(grid, y, x):
    return grid[int(round(y)), int(round(x))]


def _no_clip(grid, y, x):
    y0, x0 = math.floor(y), math.floor(x)
    dy, dx = y - y0, x - x0
    return (
        (1 - dy) * (1 - dx) * grid[y0, x0]
        + (1 - dy) * dx * grid[y0, x0 + 1]
        + dy * (1 - dx) * grid[y0 + 1, x0]
        + dy * dx * grid[y0 + 1, x0 + 1]
    )


def _weights_flipped(grid, y, x):
    y0, x0 = math.floor(y), math.floor(x)
    y1, x1 = min(y0 + 1, grid.shape[0] - 1), min(x0 + 1, grid.shape[1] - 1)
    dy, dx = y - y0, x - x0
    return (
        dy * dx * grid[y0, x0]
        + dy * (1 - dx) * grid[y0, x1]
        + (1 - dy) * dx * grid[y1, x0]
        + (1 - dy) * (1 - dx) * grid[y1, x1]
    )


def _placeholder(grid, y, x): ...


def test_bilinear_exercise():
    for right in (
        _right,
        _with_scipy,
        _with_tf,
        lambda g, y, x: np.float32(_right(g, y, x)),
        lambda g, y, x: np.array([_right(g, y, x)]),
    ):
        feedback = check("14.bilinear", right)
        assert feedback, feedback.message
    for wrong, hint in [
        (_swapped, "Rows go with y"),
        (_nearest, "nearest cell"),
        (_no_clip, "raised IndexError"),
        (_weights_flipped, "the right value is"),
        (lambda g, y, x: (1.0, 2.0), "one number"),
        (lambda g, y, x: "1.0", "right value"),
    ]:
        feedback = check("14.bilinear", wrong)
        assert not feedback and hint in feedback.message, (wrong, feedback.message)
    assert check("14.bilinear", _placeholder).status == "not attempted"
    assert not check("14.bilinear", 5)


def test_hints_teach():
    assert "rounds both ends" in check("14.snapped-width", 10.25).message
    assert "Both end cells" in check("14.snapped-width", 10).message
    assert "once per proposal" in check("14.rcnn-passes", 10).message
    assert "0.7" in check("14.rpn-labels", [0, 0, 1, 1]).message
    assert "ignored" in check("14.rpn-labels", [0, 1, 1, -1]).message
