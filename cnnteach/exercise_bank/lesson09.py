"""Checkers for lesson 09 (evaluating and predicting)."""

import numpy as np

from cnnteach.exercises import call, exercise, expect_array, expect_number


@exercise(
    "09.argmax-rows",
    explanation=(
        "axis=-1 picks the position of the largest value "
        "within each row: 0.7 at 1, 0.6 at 0, 0.6 at 2."
    ),
)
def _(answer):
    values = expect_array(answer, dtype_kind="n").ravel()
    if values.size == 1:
        return "With axis=-1 there is one answer per row, so three numbers."
    if values.size != 3:
        return "Give one position per row: three numbers."
    values = values.tolist()
    if values == [1, 0, 2]:
        return None
    if values == [1, 0, 0] or values == [0, 0, 2]:
        return "axis=-1 compares the numbers within a row (across), not within a column (down)."
    if values == [0.7, 0.6, 0.6]:
        return "That is the largest value (np.max); argmax gives its position."
    if values == [2, 1, 3]:
        return "Positions count from 0."
    return "For each row, find where its largest value sits, counting from 0."


def _random_matrices():
    rng = np.random.default_rng(8)
    small = rng.integers(0, 20, size=(3, 3)) + np.diag([50, 40, 30])
    big = rng.integers(0, 5, size=(10, 10)) + np.diag(rng.integers(900, 1100, size=10))
    lopsided = np.array([[5, 5], [0, 90]])
    return [small, big, lopsided]


@exercise(
    "09.accuracy-from-matrix",
    explanation="The right answers are on the diagonal: np.trace(matrix) / matrix.sum().",
)
def _(accuracy_from):
    for matrix in _random_matrices():
        expected = np.trace(matrix) / matrix.sum()
        got = expect_number(call(accuracy_from, matrix.copy()))
        if np.isclose(got, expected, rtol=1e-9):
            continue
        if np.isclose(got, expected * 100):
            return "Give a share between 0 and 1, not a percentage."
        if np.isclose(got, np.trace(matrix)):
            return (
                "That is the number of right answers; divide by "
                "the number of images (the sum of all cells)."
            )
        if np.isclose(got, 1 - expected):
            return "That is the error rate; the right answers are on the diagonal."
        return f"For {matrix.tolist()} the accuracy is {expected:.4f}, you returned {got:.4f}."
    return None


@exercise(
    "09.digit-recall",
    explanation=(
        "Row `digit` holds every image of that digit: matrix[digit, digit] / matrix[digit].sum()."
    ),
)
def _(digit_recall):
    for matrix in _random_matrices():
        for digit in range(len(matrix)):
            expected = matrix[digit, digit] / matrix[digit].sum()
            got = expect_number(call(digit_recall, matrix.copy(), digit))
            if np.isclose(got, expected, rtol=1e-9):
                continue
            if np.isclose(got, matrix[digit, digit] / matrix[:, digit].sum()):
                return (
                    "You divided by the column (images *predicted* "
                    "as that digit); rows are the true digits."
                )
            if np.isclose(got, np.trace(matrix) / matrix.sum()):
                return "That is the overall accuracy; use only the row of `digit`."
            return (
                f"For the digit {digit} of {matrix.tolist()} the "
                f"answer is {expected:.4f}, you returned {got:.4f}."
            )
    return None


@exercise(
    "09.invert-picture",
    explanation="255 - picture maps 0 to 255 and 255 to 0; keep the dtype uint8.",
)
def _(invert):
    rng = np.random.default_rng(9)
    picture = rng.integers(0, 256, size=(12, 9), dtype=np.uint8)
    picture[0, 0], picture[0, 1] = 0, 255
    out = expect_array(call(invert, picture.copy()))
    if out.shape != picture.shape:
        return f"Keep the shape {picture.shape}; got {out.shape}."
    expected = 255 - picture
    if out.dtype.kind == "f" and np.allclose(out, 1 - picture / 255):
        return "Keep 0-255 uint8 pixels: 255 - picture."
    if np.array_equal(out.astype(np.int64), -picture.astype(np.int64)) or np.array_equal(
        out, (-picture.astype(np.int64)).astype(out.dtype)
    ):
        return "Negating is not inverting: 255 - picture keeps the values in 0-255."
    if not np.array_equal(out.astype(np.int64), expected.astype(np.int64)):
        return "Black (0) must become white (255) and white black: 255 - picture."
    if out.dtype != np.uint8:
        return f"Return uint8 like the input, got {out.dtype}."
    return None
