"""Lesson 13's checked exercises accept right answers and refuse wrong ones without raising."""

import numpy as np
import pytest
from lesson_exercises import accepts_right_refuses_wrong

from cnnteach.boxes import decode_boxes
from cnnteach.exercises import check, list_exercises

WRONG_KINDS = ["0.5", None, ..., {"p": 1}, True, float("nan"), object(), lambda: 1]


def test_lesson_13_has_its_exercises():
    assert set(list_exercises("13")) == {
        "13.anchor-count",
        "13.encode-by-hand",
        "13.decode",
        "13.positive-anchors",
        "13.mined-negatives",
    }


@pytest.mark.parametrize(
    "exercise_id, right, wrong",
    [
        (
            "13.anchor-count",
            [1536, 1536.0, np.int64(1536), 16 * 16 * 3 * 2],
            [256, 96, 128 * 128 * 6, 1296, 1280, 864, 0, 1536.5],
        ),
        (
            "13.encode-by-hand",
            [
                (0.2, 0.4, 0.0, 0.693),
                [0.2, 0.4, 0, np.log(2)],
                np.array([0.2, 0.4, 0.0, 0.6931]),
                (0.2, 0.4, 0.0, float(np.log(40 / 20))),
            ],
            [
                (4, 8, 0, 0.693),
                (0.2, 0.4, 1, 2),
                (0.2, 0.4, 0, 0.301),
                (0.2, -0.1, 0, 0.693),
                (0.4, 0.2, 0.693, 0),
                (0.2, 0.4, 0.693),
                (0.2, 0.4, 0, 0.7),
                0.2,
            ],
        ),
        (
            "13.positive-anchors",
            [
                [7, 7, 10, 1, 10],
                (7, 7, 10, 1, 10),
                np.array([7, 7, 10, 1, 10]),
                [7.0, 7.0, 10.0, 1.0, 10.0],
            ],
            [
                [7, 7, 10, -1, 10],
                [7, 7, 10, 10, 10],
                [7, 7, -1, 1, 10],
                [7, -1, 10, 1, 10],
                [7, 7, 10, 1],
                [7, 7, 10, 1, -1],
                [7.5, 7, 10, 1, 10],
                [1, 1, 10, 7, 10],
            ],
        ),
        ("13.mined-negatives", [69, 69.0, np.int64(69), 3 * 23], [92, 1200, 1223, 23, 46, 1131, 0]),
    ],
)
def test_number_and_array_exercises(exercise_id, right, wrong):
    accepts_right_refuses_wrong(exercise_id, right, wrong + WRONG_KINDS)


def _right_decode(anchor, deltas):
    aw, ah = anchor[2] - anchor[0], anchor[3] - anchor[1]
    cx, cy = anchor[0] + aw / 2 + deltas[0] * aw, anchor[1] + ah / 2 + deltas[1] * ah
    w, h = aw * np.exp(deltas[2]), ah * np.exp(deltas[3])
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _centre_size(anchor, deltas):
    x0, y0, x1, y1 = _right_decode(anchor, deltas)
    return ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)


def _linear_size(anchor, deltas):
    aw, ah = anchor[2] - anchor[0], anchor[3] - anchor[1]
    cx, cy = anchor[0] + aw / 2 + deltas[0] * aw, anchor[1] + ah / 2 + deltas[1] * ah
    w, h = aw * (1 + deltas[2]), ah * (1 + deltas[3])
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def _pixel_shift(anchor, deltas):
    aw, ah = anchor[2] - anchor[0], anchor[3] - anchor[1]
    cx, cy = anchor[0] + aw / 2 + deltas[0], anchor[1] + ah / 2 + deltas[1]
    w, h = aw * np.exp(deltas[2]), ah * np.exp(deltas[3])
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def _placeholder(anchor, deltas): ...


def test_decode_exercise():
    assert check("13.decode", _right_decode)
    assert check("13.decode", lambda a, d: decode_boxes(a, d))
    assert check("13.decode", lambda a, d: list(_right_decode(a, d)))
    assert check("13.decode", lambda a, d: np.asarray(_right_decode(a, d), "float32").astype(float))
    for wrong, hint in [
        (_centre_size, "corners"),
        (_linear_size, "logarithms"),
        (_pixel_shift, "anchor widths"),
        (lambda a, d: a, "expected"),
        (lambda a, d: (0, 0, 1), "4 numbers"),
    ]:
        feedback = check("13.decode", wrong)
        assert not feedback and hint in feedback.message, (wrong, feedback.message)
    assert check("13.decode", _placeholder).status == "not attempted"
    assert not check("13.decode", 5)


def test_hints_teach():
    assert "cells" in check("13.anchor-count", 256).message
    assert "anchor widths" in check("13.encode-by-hand", (4, 8, 0, 0.693)).message
    assert "best anchor" in check("13.positive-anchors", [7, 7, 10, -1, 10]).message
    assert "background, not ignored" in check("13.positive-anchors", [7, 7, -1, 1, 10]).message
    assert "positives too" in check("13.mined-negatives", 92).message
