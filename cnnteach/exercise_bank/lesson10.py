"""Checkers for lesson 10 (inside the trained network)."""

import numpy as np

from cnnteach.exercises import (
    call,
    exercise,
    expect_array,
    expect_number,
    number_exercise,
    shape_exercise,
)

shape_exercise(
    "10.feature-map-shape",
    (11, 11, 32),
    axes=("rows", "columns", "channels"),
    hints={
        lambda s: (
            len(s) == 4
        ): "Leave out the batch axis: the question is about one digit, (rows, columns, channels).",
        lambda s: len(s) != 3: "Give three numbers: (rows, columns, channels).",
        lambda s: s[:2] == (13, 13): (
            "13 is pool_1's output; conv_2 then loses one "
            "row at each edge with a 3×3 'valid' kernel."
        ),
        lambda s: (
            s[:2] == (5, 5)
        ): "5 × 5 is after pool_2; the question asks about conv_2, before that pooling.",
        lambda s: (
            s[:2] == (11, 11)
        ): "The size is right; the channels are the number of filters of conv_2.",
        lambda s: s[2] == 16: "16 is conv_1's number of filters; conv_2 has its own.",
    },
    otherwise="Follow the sizes: 28, then conv_1 (−2), pool_1 (÷2, floor), conv_2 (−2).",
    explanation=(
        "28 → conv_1 (3×3, valid) 26 → pool_1 13 → conv_2 (3×3, valid) 11; conv_2 has 32 filters, "
        "so each digit gives 11 × 11 × 32."
    ),
)


def _reference_response(window, kernel, bias):
    return max(float(np.sum(np.asarray(window, float) * np.asarray(kernel, float)) + bias), 0.0)


@exercise(
    "10.filter-response",
    explanation=(
        "Multiply window and kernel cell by cell, add everything "
        "and the bias, then apply ReLU: max(sum + bias, 0)."
    ),
)
def _(function):
    rng = np.random.default_rng(9)
    cases = [(rng.random((3, 3)), rng.normal(size=(3, 3)), float(rng.normal())) for _ in range(6)]
    cases.append((np.ones((3, 3)), -np.ones((3, 3)), 0.5))  # negative: ReLU gives 0
    cases.append((np.zeros((3, 3)), np.ones((3, 3)), 0.25))  # blank window: only the bias
    for window, kernel, bias in cases:
        got = expect_number(np.asarray(call(function, window, kernel, bias)).squeeze())
        want = _reference_response(window, kernel, bias)
        if not np.isclose(got, want, atol=1e-6):
            raw = float(np.sum(window * kernel) + bias)
            if np.isclose(got, raw, atol=1e-6):
                return "Apply the ReLU: negative sums become 0."
            if np.isclose(got, max(float(np.sum(window * kernel)), 0.0), atol=1e-6):
                return "Add the bias before the ReLU."
            if np.isclose(got, max(float(np.sum(window @ kernel)) + bias, 0.0), atol=1e-6):
                return "Use element-wise products (window * kernel), not a matrix product."
            return (
                f"For a window of {window.round(2).tolist()} "
                f"you gave {got:.4f}, expected {want:.4f}."
            )
    return None


@exercise(
    "10.occlude",
    explanation=(
        "Copy first (image.copy()), then assign 0 to the slice [row:row + size, col:col + size]; "
        "numpy slicing stops at the edge, so a square hanging over the border is simply cut."
    ),
)
def _(function):
    rng = np.random.default_rng(90)
    image = rng.integers(1, 256, size=(28, 28)).astype(np.uint8)
    original = image.copy()
    for row, col, size in [(0, 0, 6), (10, 12, 4), (25, 25, 6), (3, 20, 1)]:
        got = expect_array(call(function, image, row, col, size), (28, 28))
        if not np.array_equal(image, original):
            return "Your function changed the image it was given: work on image.copy()."
        want = original.copy()
        want[row : row + size, col : col + size] = 0
        if not np.array_equal(got, want):
            if (
                np.array_equal(got.T, want)
                or int((got == 0).sum()) == size * size
                and not np.array_equal(got, want)
            ):
                return (
                    "The square is in the wrong place: rows come "
                    "first, image[row:row + size, col:col + size]."
                )
            return (
                f"occlude(image, {row}, {col}, {size}) should zero "
                f"exactly image[{row}:{row + size}, {col}:{col + size}]."
            )
    return None


number_exercise(
    "10.occlusion-count",
    ((28 - 6) // 2 + 1) ** 2,
    integer=True,
    hints={
        145: "Close: leave out the unoccluded original.",
        12: "That is one axis; the square moves along rows and columns.",
        121: "Do not forget the + 1 of the first position: (28 − 6) // 2 + 1.",
        529: "That is stride 1; with stride 2 the square jumps two pixels.",
    },
    otherwise="Count positions per axis with floor((28 − 6) / 2) + 1, then square it.",
    explanation=(
        "Along each axis the square fits (28 − 6) // 2 + 1 = 12 times "
        "(the convolution formula again), so 12 × 12 = 144 copies."
    ),
)
