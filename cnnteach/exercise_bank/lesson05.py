"""Checkers for lesson 05 (convolution)."""

import numpy as np

from cnnteach.arithmetic import conv_output_size
from cnnteach.exercises import (
    call,
    exercise,
    expect_array,
    expect_number,
    number_exercise,
    shape_exercise,
)
from cnnteach.ops import conv2d

number_exercise(
    "05.output-size",
    24,
    hints={
        23: "You forgot the + 1: the first position counts too.",
        28: "That is what padding='same' would give; 'valid' adds no zeros, so the output shrinks.",
        26: "26 is for a 3×3 kernel; this one is 5×5.",
        22: "The kernel loses K - 1 = 4 rows, not 2 × (K - 1).",
    },
    otherwise="Use O = floor((I - K + 2P) / S) + 1 with I = 28, K = 5, P = 0, S = 1.",
    explanation=(
        "floor((28 - 5 + 2×0) / 1) + 1 = 24: a 5-wide window fits in 24 positions along 28 pixels."
    ),
)

number_exercise(
    "05.stride-no-tile",
    13,
    hints={
        13.5: "Sizes are whole numbers: the formula has a floor, floor(25 / 2) = 12, then + 1.",
        14: (
            "You rounded up; a window cannot hang over the "
            "edge with 'valid' padding, so round down (floor)."
        ),
        (12, 12.5): "Do not forget the + 1 for the first window.",
        26: "That is stride 1; with stride 2 the window jumps two pixels each time.",
    },
    otherwise="Use O = floor((I - K + 2P) / S) + 1 with I = 28, K = 3, P = 0, S = 2.",
    explanation=(
        "floor((28 - 3) / 2) + 1 = floor(12.5) + 1 = 13; the 13 "
        "windows cover 27 rows and the last row is never read."
    ),
)

number_exercise(
    "05.conv-params",
    3 * 3 * 10 * 16 + 16,
    hints={
        160: "A filter looks at all 10 input channels, so it has 3 × 3 × 10 weights, not 3 × 3.",
        1440: "Close: add one bias per filter.",
        100: (
            "That is the 2019 model's first layer (1 input channel, "
            "10 filters); here there are 10 channels and 16 filters."
        ),
    },
    otherwise=(
        "Count kernel rows × kernel columns × input "
        "channels × filters, then add one bias per filter."
    ),
    explanation=(
        "Each of the 16 filters has 3 × 3 × 10 weights (one per kernel "
        "cell per input channel) and one bias: 3·3·10·16 + 16 = 1,456."
    ),
)

shape_exercise(
    "05.predict-same-stride",
    (32, 14, 14, 8),
    axes=("images", "rows", "columns", "channels"),
    hints={
        lambda s: (
            len(s) == 3
        ): "Keep the batch axis: a Keras layer's output starts with the number of images.",
        lambda s: len(s) != 4: "A Conv2D output has four axes: (images, rows, columns, channels).",
        lambda s: (
            s[1:3] == (12, 12)
        ): "12 is what padding='valid' gives; with 'same' it is ceil(28 / 2).",
        lambda s: (
            s[1:3] == (28, 28)
        ): "'same' keeps 28 only with stride 1; stride 2 halves it (rounding up).",
        lambda s: s[3] != 8: "The output has one channel per filter, and there are 8 filters.",
        lambda s: s[0] != 32: "The batch size does not change: 32 images in, 32 maps out.",
    },
    otherwise="Rows and columns: ceil(28 / 2) with 'same'; channels: one per filter.",
    explanation=(
        "'same' with stride 2 gives ceil(28 / 2) = 14 rows and columns; the batch "
        "stays 32 and each of the 8 filters gives one channel: (32, 14, 14, 8)."
    ),
)


HORIZONTAL = np.zeros((9, 9))
HORIZONTAL[4, :] = 1.0
VERTICAL = HORIZONTAL.T.copy()
FLAT = np.ones((9, 9))


def _response(kernel, image):
    return conv2d(image[np.newaxis, :, :, np.newaxis], kernel[:, :, np.newaxis, np.newaxis])[
        0, :, :, 0
    ]


@exercise(
    "05.horizontal-kernel",
    explanation="For example [[-1, -1, -1], [2, 2, 2], [-1, -1, -1]] "
    "or [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]: the weights "
    "change from top to bottom but not from left to right, and they add up to 0.",
)
def _(answer):
    kernel = expect_array(answer, (3, 3), dtype_kind="n").astype(float)
    if not np.all(np.isfinite(kernel)):
        return "Use finite numbers only."
    horizontal = np.abs(_response(kernel, HORIZONTAL)).max()
    vertical = np.abs(_response(kernel, VERTICAL)).max()
    flat = np.abs(_response(kernel, FLAT)).max()
    if horizontal < 1e-9:
        if vertical > 1e-9:
            return (
                "This kernel answers vertical strokes: its weights change from "
                "left to right. Make them change from top to bottom instead."
            )
        return "This kernel gives 0 on a horizontal stroke: give the rows different weights."
    if flat > 0.1 * horizontal:
        return (
            "It also answers flat areas: make the nine weights "
            "add up to 0, so plain brightness cancels out."
        )
    if vertical > 0.25 * horizontal:
        return (
            "It answers vertical strokes almost as strongly: "
            "give all three weights of a row the same value."
        )
    return None


@exercise(
    "05.output-size-function",
    explanation="return (i - k + 2 * p) // s + 1  (// is floor division for non-negative numbers).",
)
def _(function):
    cases = [
        (28, 3, 1, 0),
        (28, 3, 2, 0),
        (28, 5, 1, 2),
        (13, 2, 2, 0),
        (7, 3, 3, 1),
        (28, 5, 3, 0),
        (10, 10, 1, 0),
    ]
    for i, k, s, p in cases:
        result = call(function, i, k, s, p)
        expected = conv_output_size(i, k, s, p)
        got = expect_number(result)
        if got != expected:
            if got == (i - k + 2 * p) / s + 1:
                return (
                    f"output_size({i}, {k}, {s}, {p}) gave {got}: round "
                    "down with // (or math.floor) before adding 1."
                )
            if got == -(-(i - k + 2 * p) // s) + 1:
                return (
                    f"output_size({i}, {k}, {s}, {p}) gave {got}: "
                    "that rounds up; the formula rounds down."
                )
            return (
                f"output_size({i}, {k}, {s}, {p}) should be {expected}, your function gave {got}."
            )
    if not isinstance(call(function, 28, 3, 2, 0), (int, np.integer)):
        return "Return a whole number (an int), e.g. with // instead of /."
    return None
