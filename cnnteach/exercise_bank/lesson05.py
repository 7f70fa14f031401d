"""Checkers for lesson 05 (pooling and flatten)."""

import numpy as np

from cnnteach.exercises import call, exercise, expect_array, expect_number
from cnnteach.ops import avg_pool2d, max_pool2d

BY_HAND = np.array([[1, 3, 2, 0], [4, 6, 5, 1], [0, 2, 9, 3], [1, 1, 4, 8]], dtype=float)


@exercise(
    "05.pool-size",
    "MaxPooling2D(3) (stride 3, padding='valid') reads a 26×26 feature map: how many rows has its output?",
    explanation="floor((26 - 3) / 3) + 1 = floor(7.67) + 1 = 8; the 8 windows cover 24 rows and the last 2 are dropped.",
)
def _(answer):
    value = expect_number(answer)
    if value == 8:
        return None
    if value == 9:
        return "Rounding up would need a window hanging over the edge, which 'valid' does not allow: round down."
    if abs(value - 26 / 3) < 0.01 or abs(value - 23 / 3 - 1) < 0.01:
        return "Sizes are whole numbers: apply the floor."
    if value == 24:
        return "24 is for stride 1; Keras' pooling stride defaults to the pool size, 3."
    if value == 13:
        return "13 is for a 2×2 pool; this pool is 3×3."
    return "Use O = floor((I - K) / S) + 1 with I = 26, K = 3, S = 3."


@exercise(
    "05.max-pool-by-hand",
    "Max-pool the 4×4 array `grid` with 2×2 windows and stride 2, by hand: give the 2×2 result.",
    explanation="Top-left window [[1, 3], [4, 6]] -> 6; top-right [[2, 0], [5, 1]] -> 5; bottom-left [[0, 2], [1, 1]] -> 2; "
    "bottom-right [[9, 3], [4, 8]] -> 9.",
)
def _(answer):
    result = expect_array(answer, dtype_kind="n")
    expected = max_pool2d(BY_HAND[np.newaxis, :, :, np.newaxis])[0, :, :, 0]
    if result.shape != (2, 2):
        if result.shape == (3, 3):
            return "That is stride 1 (overlapping windows); the windows of MaxPooling2D(2) do not overlap."
        return f"Four 2×2 windows fit in a 4×4 grid, so the result is 2×2, not {result.shape}."
    if np.array_equal(result, expected):
        return None
    if np.allclose(result, avg_pool2d(BY_HAND[np.newaxis, :, :, np.newaxis])[0, :, :, 0]):
        return "Those are the averages; max pooling keeps the largest value of each window."
    if np.array_equal(result, expected.T):
        return "Rows and columns are swapped: the first row of the result comes from the first two rows of grid."
    mins = BY_HAND.reshape(2, 2, 2, 2).min(axis=(1, 3))
    if np.array_equal(result, mins):
        return "Those are the smallest values; take the largest of each window."
    return "Split grid into four 2×2 blocks (top-left, top-right, bottom-left, bottom-right) and keep the largest of each."


@exercise(
    "05.dense-params",
    "After Flatten turns 6×6×10 feature maps into a vector, how many parameters has Dense(100)?",
    explanation="6 × 6 × 10 = 360 inputs, each joined to 100 units, plus 100 biases: 360 × 100 + 100 = 36,100.",
)
def _(answer):
    value = expect_number(answer)
    if value == 36100:
        return None
    if value == 36000:
        return "Add one bias per unit."
    if value == 360:
        return "360 is the length of the flattened vector; every one of those inputs connects to each of the 100 units."
    if value in (3600, 3700):
        return "The flattened vector has 6 × 6 × 10 = 360 numbers: include the 10 maps."
    return "Inputs × units + units, with 6 × 6 × 10 inputs and 100 units."


@exercise(
    "05.predict-shift",
    "Predict before you run: a 4×4 map has one bright pixel at (1, 1); it moves one pixel right to (1, 2). "
    "How many of the four values of a 2×2, stride-2 max pooling change?",
    explanation="(1, 1) is in the top-left window and (1, 2) in the top-right one: the top-left value drops to 0 and the "
    "top-right one rises, so 2 of the 4 change. A move from (1, 0) to (1, 1) would have changed none: pooling absorbs "
    "only shifts that stay inside a window.",
)
def _(answer):
    value = expect_number(answer, integer=True)
    if value == 2:
        return None
    if value == 0:
        return "The pixel crosses the border between the top-left and the top-right window (columns 0-1 and 2-3)."
    if value == 1:
        return "The window the pixel leaves changes too, not only the one it enters."
    return "Find which 2×2 window holds (1, 1) and which holds (1, 2): rows 0-1 and columns 0-1, 2-3."


@exercise(
    "05.avg-pool-function",
    "Write avg_pool(x) for a 2-D array x: the average of each 2×2 block (stride 2), dropping a last odd row or column like Keras.",
    explanation="h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2; then x[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).",
)
def _(function):
    rng = np.random.default_rng(5)
    for shape in [(4, 4), (2, 6), (5, 7), (13, 13), (26, 26)]:
        x = rng.integers(0, 10, size=shape).astype(float)
        expected = avg_pool2d(x[np.newaxis, :, :, np.newaxis])[0, :, :, 0]
        result = expect_array(call(function, x.copy()), dtype_kind="n")
        if result.shape != expected.shape:
            if result.shape == (-(-shape[0] // 2), -(-shape[1] // 2)):
                return f"For a {shape} input you returned {result.shape}: drop the last row/column when the size is odd (like padding='valid')."
            return f"For a {shape} input the result should have shape {expected.shape}, yours has {result.shape}."
        if not np.allclose(result, expected):
            if np.allclose(result, max_pool2d(x[np.newaxis, :, :, np.newaxis])[0, :, :, 0]):
                return "That is max pooling; average pooling takes the mean of each block."
            return f"Wrong values for a {shape} input: each output is the mean of one 2×2 block."
    return None
