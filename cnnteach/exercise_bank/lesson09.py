"""Checkers for lesson 09 (inside the trained network)."""

import numpy as np

from cnnteach.exercises import call, exercise, expect_array, expect_number


@exercise(
    "09.feature-map-shape",
    "Predict the shape of the lesson model's second convolution output (conv_2) for one digit: (rows, columns, channels).",
    explanation=(
        "28 → conv_1 (3×3, valid) 26 → pool_1 13 → conv_2 (3×3, valid) 11; conv_2 has 32 filters, "
        "so each digit gives 11 × 11 × 32."
    ),
)
def _(answer):
    shape = tuple(int(v) for v in expect_array(answer, dtype_kind="n").ravel())
    if shape == (11, 11, 32):
        return None
    if len(shape) == 4:
        return "Leave out the batch axis: the question is about one digit, (rows, columns, channels)."
    if len(shape) != 3:
        return "Give three numbers: (rows, columns, channels)."
    if shape[:2] == (13, 13):
        return "13 is pool_1's output; conv_2 then loses one row at each edge with a 3×3 'valid' kernel."
    if shape[:2] == (5, 5):
        return "5 × 5 is after pool_2; the question asks about conv_2, before that pooling."
    if shape[:2] == (11, 11):
        return "The size is right; the channels are the number of filters of conv_2."
    if shape[2] == 16:
        return "16 is conv_1's number of filters; conv_2 has its own."
    return "Follow the sizes: 28, then conv_1 (−2), pool_1 (÷2, floor), conv_2 (−2)."


def _reference_response(window, kernel, bias):
    return max(float(np.sum(np.asarray(window, float) * np.asarray(kernel, float)) + bias), 0.0)


@exercise(
    "09.filter-response",
    "Write filter_response(window, kernel, bias): the value one first-layer filter with ReLU gives for one 3×3 window.",
    explanation="Multiply window and kernel cell by cell, add everything and the bias, then apply ReLU: max(sum + bias, 0).",
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
            return f"For a window of {window.round(2).tolist()} you gave {got:.4f}, expected {want:.4f}."
    return None


@exercise(
    "09.occlude",
    "Write occlude(image, row, col, size): a copy of image with the size×size square whose top-left corner is (row, col) set to 0.",
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
        want[row:row + size, col:col + size] = 0
        if not np.array_equal(got, want):
            if np.array_equal(got.T, want) or int((got == 0).sum()) == size * size and not np.array_equal(got, want):
                return "The square is in the wrong place: rows come first, image[row:row + size, col:col + size]."
            return f"occlude(image, {row}, {col}, {size}) should zero exactly image[{row}:{row + size}, {col}:{col + size}]."
    return None


@exercise(
    "09.occlusion-count",
    "How many occluded copies of a 28×28 digit does occlusion_sensitivity send to predict with patch=6 and stride=2 (not counting the original)?",
    explanation="Along each axis the square fits (28 − 6) // 2 + 1 = 12 times (the convolution formula again), so 12 × 12 = 144 copies.",
)
def _(answer):
    value = expect_number(answer, integer=True)
    if value == 144:
        return None
    if value == 145:
        return "Close: leave out the unoccluded original."
    if value == 12:
        return "That is one axis; the square moves along rows and columns."
    if value in (121, 11 * 11):
        return "Do not forget the + 1 of the first position: (28 − 6) // 2 + 1."
    if value in (23 * 23, 529):
        return "That is stride 1; with stride 2 the square jumps two pixels."
    return "Count positions per axis with floor((28 − 6) / 2) + 1, then square it."
