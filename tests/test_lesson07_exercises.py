"""Lesson 07's checked exercises accept right answers and refuse wrong ones without raising."""

import numpy as np
import pytest
from lesson_exercises import accepts_right_refuses_wrong

from cnnteach.exercises import check, list_exercises

WRONG_KINDS = ["2432", None, ..., [2432], {"n": 1}, True, float("nan"), object(), lambda: 1]


def test_lesson_06_has_its_exercises():
    assert set(list_exercises("07")) == {
        "07.rgb-conv-params",
        "07.dense-after-change",
        "07.predict-shape",
        "07.blog-params-function",
    }


@pytest.mark.parametrize(
    "exercise_id, right, wrong",
    [
        (
            "07.rgb-conv-params",
            [2432, 2432.0, np.int64(2432)],
            [832, 800, 2400, 2403, 320, 0, -2432],
        ),
        (
            "07.dense-after-change",
            [57700, np.float64(57700)],
            [36100, 57600, 270500, 1082600, 57710],
        ),
        (
            "07.predict-shape",
            [(12, 12, 8), [12, 12, 8], np.array([12, 12, 8])],
            [(24, 24, 8), (13, 13, 8), (14, 14, 8), (12, 12, 1), (1, 12, 12, 8), (12, 8), 12],
        ),
    ],
)
def test_number_and_shape_exercises(exercise_id, right, wrong):
    accepts_right_refuses_wrong(exercise_id, right, wrong + WRONG_KINDS)


def test_hints_teach():
    assert "3 colour channels" in check("07.rgb-conv-params", 832).message
    assert "bias" in check("07.rgb-conv-params", 2400).message
    assert "batch" in check("07.predict-shape", (1, 12, 12, 8)).message
    assert "pool" in check("07.predict-shape", (24, 24, 8)).message.lower()


def test_blog_params_function():
    def right(filters):
        return 10 * filters + 3600 * filters + 100 + 1010

    assert check("07.blog-params-function", right)
    assert not check("07.blog-params-function", lambda f: 37210)
    assert not check(
        "07.blog-params-function", lambda f: 9 * f + f + 36 * f * 100 + 100
    )  # output layer missing
    assert not check(
        "07.blog-params-function", lambda f: 9 * f + 169 * f * 100 + 1110
    )  # one pooling only
    assert check("07.blog-params-function", lambda f: ...).status == "not attempted"
    assert not check("07.blog-params-function", "37210")


def test_the_model_agrees_with_the_checker():
    pytest.importorskip("keras")
    from cnnteach.models import blog_model

    assert check(
        "07.blog-params-function", lambda f: 37210 if f == 10 else 10 * f + 3600 * f + 1110
    )
    assert blog_model().count_params() == 37210
