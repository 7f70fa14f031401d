"""Lesson 06's checked exercises accept right answers and refuse many wrong ones without raising."""

import numpy as np
import pytest

from cnnteach.exercises import check, list_exercises

WRONG_KINDS = ["8", None, ..., [8], {"a": 1}, True, float("inf"), object(), lambda: 8, np.zeros(3)]


def test_lesson_05_has_its_exercises():
    assert set(list_exercises("06")) == {
        "06.pool-size",
        "06.max-pool-by-hand",
        "06.dense-params",
        "06.predict-shift",
        "06.avg-pool-function",
    }


@pytest.mark.parametrize(
    "exercise_id, right, wrong",
    [
        ("06.pool-size", [8, 8.0], [9, 26 / 3, 24, 13, 7, 0, -8]),
        ("06.dense-params", [36100, np.int64(36100)], [36000, 360, 3600, 3700, 37210, 1010]),
        ("06.predict-shift", [2, 2.0], [0, 1, 3, 4, 2.5]),
    ],
)
def test_number_exercises(exercise_id, right, wrong):
    for answer in right:
        assert check(exercise_id, answer), (exercise_id, answer)
    for answer in wrong + WRONG_KINDS:
        feedback = check(exercise_id, answer)
        assert not feedback and feedback.message, (exercise_id, answer)


def test_max_pool_by_hand():
    assert check("06.max-pool-by-hand", [[6, 5], [2, 9]])
    assert check("06.max-pool-by-hand", np.array([[6.0, 5.0], [2.0, 9.0]]))
    hints = {
        "averages": [[3.5, 2.0], [1.0, 6.0]],
        "swapped": [[6, 2], [5, 9]],
        "smallest": [[1, 0], [0, 3]],
        "stride 1": np.zeros((3, 3)),
        "2×2": [6, 5, 2, 9],
    }
    for hint, answer in hints.items():
        feedback = check("06.max-pool-by-hand", answer)
        assert not feedback and hint in feedback.message, (hint, feedback.message)
    for wrong in [[[6, 5], [2, 8]], [[9]], "6 5 2 9", 9] + WRONG_KINDS:
        assert not check("06.max-pool-by-hand", wrong)


def test_avg_pool_function():
    def right(x):
        h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
        return x[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    def max_pool(x):
        h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
        return x[:h, :w].reshape(h // 2, 2, w // 2, 2).max(axis=(1, 3))

    def keeps_odd(x):
        x = np.pad(x, ((0, x.shape[0] % 2), (0, x.shape[1] % 2)))
        return right(x)

    def sums(x):
        return right(x) * 4

    assert check("06.avg-pool-function", right)
    assert "max pooling" in check("06.avg-pool-function", max_pool).message
    assert "drop the last row" in check("06.avg-pool-function", keeps_odd).message
    assert not check("06.avg-pool-function", sums)
    assert check("06.avg-pool-function", lambda x: None).status == "not attempted"
    for wrong in [
        lambda x: x,
        lambda x: x.mean(),
        lambda: 0,
        lambda x: "pooled",
        3,
        lambda x: 1 / 0,
    ]:
        assert not check("06.avg-pool-function", wrong)
