"""Checkers for lesson 06 (pooling and flatten)."""

import numpy as np

from cnnteach.exercises import call, exercise, expect_array, number_exercise
from cnnteach.ops import avg_pool2d, max_pool2d

BY_HAND = np.array([[1, 3, 2, 0], [4, 6, 5, 1], [0, 2, 9, 3], [1, 1, 4, 8]], dtype=float)


number_exercise(
    "06.pool-size",
    8,
    hints={
        9: (
            "Rounding up would need a window hanging over the "
            "edge, which 'valid' does not allow: round down."
        ),
        (26 / 3, 23 / 3 + 1): "Sizes are whole numbers: apply the floor.",
        24: "24 is for stride 1; Keras' pooling stride defaults to the pool size, 3.",
        13: "13 is for a 2×2 pool; this pool is 3×3.",
    },
    otherwise="Use O = floor((I - K) / S) + 1 with I = 26, K = 3, S = 3.",
    explanation=(
        "floor((26 - 3) / 3) + 1 = floor(7.67) + 1 = 8; the "
        "8 windows cover 24 rows and the last 2 are dropped."
    ),
)


@exercise(
    "06.max-pool-by-hand",
    explanation="Top-left window [[1, 3], [4, 6]] -> 6; top-right [[2, "
    "0], [5, 1]] -> 5; bottom-left [[0, 2], [1, 1]] -> 2; "
    "bottom-right [[9, 3], [4, 8]] -> 9.",
)
def _(answer):
    result = expect_array(answer, dtype_kind="n")
    expected = max_pool2d(BY_HAND[np.newaxis, :, :, np.newaxis])[0, :, :, 0]
    if result.shape != (2, 2):
        if result.shape == (3, 3):
            return (
                "That is stride 1 (overlapping windows); the "
                "windows of MaxPooling2D(2) do not overlap."
            )
        return f"Four 2×2 windows fit in a 4×4 grid, so the result is 2×2, not {result.shape}."
    if np.array_equal(result, expected):
        return None
    if np.allclose(result, avg_pool2d(BY_HAND[np.newaxis, :, :, np.newaxis])[0, :, :, 0]):
        return "Those are the averages; max pooling keeps the largest value of each window."
    if np.array_equal(result, expected.T):
        return (
            "Rows and columns are swapped: the first row of "
            "the result comes from the first two rows of grid."
        )
    mins = BY_HAND.reshape(2, 2, 2, 2).min(axis=(1, 3))
    if np.array_equal(result, mins):
        return "Those are the smallest values; take the largest of each window."
    return (
        "Split grid into four 2×2 blocks (top-left, top-right, "
        "bottom-left, bottom-right) and keep the largest of each."
    )


number_exercise(
    "06.dense-params",
    6 * 6 * 10 * 100 + 100,
    hints={
        36000: "Add one bias per unit.",
        360: (
            "360 is the length of the flattened vector; every one "
            "of those inputs connects to each of the 100 units."
        ),
        (
            3600,
            3700,
        ): "The flattened vector has 6 × 6 × 10 = 360 numbers: include the 10 maps.",
    },
    otherwise="Inputs × units + units, with 6 × 6 × 10 inputs and 100 units.",
    explanation=(
        "6 × 6 × 10 = 360 inputs, each joined to 100 "
        "units, plus 100 biases: 360 × 100 + 100 = 36,100."
    ),
)

number_exercise(
    "06.predict-shift",
    2,
    integer=True,
    hints={
        0: (
            "The pixel crosses the border between the top-left "
            "and the top-right window (columns 0-1 and 2-3)."
        ),
        1: "The window the pixel leaves changes too, not only the one it enters.",
    },
    otherwise=(
        "Find which 2×2 window holds (1, 1) and which holds (1, 2): rows 0-1 and columns 0-1, 2-3."
    ),
    explanation="(1, 1) is in the top-left window and (1, 2) in the "
    "top-right one: the top-left value drops to 0 and the "
    "top-right one rises, so 2 of the 4 change. A move from (1, "
    "0) to (1, 1) would have changed none: pooling absorbs "
    "only shifts that stay inside a window.",
)


@exercise(
    "06.avg-pool-function",
    explanation=(
        "h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2; then "
        "x[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))."
    ),
)
def _(function):
    rng = np.random.default_rng(5)
    for shape in [(4, 4), (2, 6), (5, 7), (13, 13), (26, 26)]:
        x = rng.integers(0, 10, size=shape).astype(float)
        expected = avg_pool2d(x[np.newaxis, :, :, np.newaxis])[0, :, :, 0]
        result = expect_array(call(function, x.copy()), dtype_kind="n")
        if result.shape != expected.shape:
            if result.shape == (-(-shape[0] // 2), -(-shape[1] // 2)):
                return (
                    f"For a {shape} input you returned {result.shape}: drop the "
                    "last row/column when the size is odd (like padding='valid')."
                )
            return (
                f"For a {shape} input the result should have shape "
                f"{expected.shape}, yours has {result.shape}."
            )
        if not np.allclose(result, expected):
            if np.allclose(result, max_pool2d(x[np.newaxis, :, :, np.newaxis])[0, :, :, 0]):
                return "That is max pooling; average pooling takes the mean of each block."
            return f"Wrong values for a {shape} input: each output is the mean of one 2×2 block."
    return None
