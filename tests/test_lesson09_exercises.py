"""Lesson 09's checked exercises accept right answers and refuse wrong ones without raising."""

import numpy as np

from cnnteach.exercises import check, list_exercises

WRONG_KINDS = ["[1, 0, 2]", None, ..., {"n": 1}, True, float("nan"), object(), lambda: 1]


def test_lesson_08_has_its_exercises():
    assert set(list_exercises("09")) == {
        "09.argmax-rows",
        "09.accuracy-from-matrix",
        "09.digit-recall",
        "09.invert-picture",
    }


def test_argmax_rows():
    for right in ([1, 0, 2], (1, 0, 2), np.array([1, 0, 2])):
        assert check("09.argmax-rows", right)
    for wrong, word in (
        ([1, 0, 0], "row"),
        ([0.7, 0.6, 0.6], "position"),
        ([2, 1, 3], "0"),
        (1, "three"),
    ):
        feedback = check("09.argmax-rows", wrong)
        assert not feedback and word in feedback.message, (wrong, feedback)
    for wrong in WRONG_KINDS:
        assert not check("09.argmax-rows", wrong)


def test_accuracy_from_matrix():
    assert check("09.accuracy-from-matrix", lambda m: np.trace(m) / np.sum(m))
    assert check("09.accuracy-from-matrix", lambda m: np.diag(m).sum() / m.sum())
    assert (
        "percentage"
        in check("09.accuracy-from-matrix", lambda m: 100 * np.trace(m) / m.sum()).message
    )
    assert "divide" in check("09.accuracy-from-matrix", lambda m: np.trace(m)).message
    assert "error" in check("09.accuracy-from-matrix", lambda m: 1 - np.trace(m) / m.sum()).message
    assert not check("09.accuracy-from-matrix", lambda m: m[0, 0] / m[0].sum())
    assert check("09.accuracy-from-matrix", lambda m: ...).status == "not attempted"


def test_digit_recall():
    assert check("09.digit-recall", lambda m, d: m[d, d] / m[d].sum())
    assert "column" in check("09.digit-recall", lambda m, d: m[d, d] / m[:, d].sum()).message
    assert "overall" in check("09.digit-recall", lambda m, d: np.trace(m) / m.sum()).message
    assert not check("09.digit-recall", lambda m, d: m[d, d])


def test_invert_picture():
    assert check("09.invert-picture", lambda p: 255 - p)
    assert check("09.invert-picture", lambda p: np.invert(p))
    assert "uint8" in check("09.invert-picture", lambda p: 1 - p / 255).message
    assert "Negating" in check("09.invert-picture", lambda p: -p).message
    assert "uint8" in check("09.invert-picture", lambda p: 255 - p.astype(np.int64)).message
    assert not check("09.invert-picture", lambda p: p)
