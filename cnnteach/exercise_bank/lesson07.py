"""Checkers for lesson 07 (building the model)."""

from cnnteach.arithmetic import conv2d_params, dense_params
from cnnteach.exercises import (
    call,
    exercise,
    expect_number,
    number_exercise,
    shape_exercise,
)

number_exercise(
    "07.rgb-conv-params",
    5 * 5 * 3 * 32 + 32,
    hints={
        832: "A filter reads all 3 colour channels, so it has 5 × 5 × 3 weights, not 5 × 5.",
        800: (
            "A filter reads all 3 colour channels (5 × 5 × "
            "3 weights), and each filter has a bias too."
        ),
        2400: "Close: add one bias per filter.",
        2403: "There is one bias per filter (32), not one per channel.",
        320: "That is a 3 × 3 kernel on one channel; this one is 5 × 5 on three channels.",
    },
    otherwise="Use K × K × C_in × filters + filters with K = 5, C_in = 3, filters = 32.",
    explanation=(
        "Each of the 32 filters has 5 × 5 × 3 weights (one per kernel "
        "cell per input channel) and one bias: 5·5·3·32 + 32 = 2,432."
    ),
)

number_exercise(
    "07.dense-after-change",
    6 * 6 * 16 * 100 + 100,
    hints={
        36100: "That is the original layer; with 16 filters, Flatten gives 6 × 6 × 16 numbers.",
        57600: "Close: add the 100 biases.",
        270500: "Two pooling layers make the maps 6 × 6, not 13 × 13.",
        1082600: "The maps are pooled twice: 26 → 13 → 6.",
    },
    otherwise=(
        "Flatten gives 6 × 6 × 16 numbers; a Dense layer has inputs × units + units parameters."
    ),
    explanation=(
        "The maps are still 6 × 6 after two poolings, now with 16 "
        "channels: 6·6·16 = 576 inputs, so 576·100 + 100 = 57,700."
    ),
)

shape_exercise(
    "07.predict-shape",
    (12, 12, 8),
    axes=("rows", "columns", "channels"),
    hints={
        lambda s: (
            len(s) == 4 and s[0] in (1, -1)
        ): "Leave out the batch axis: give (rows, columns, channels) of one image.",
        lambda s: len(s) != 3: "Give three numbers: (rows, columns, channels).",
        lambda s: (
            s[:2] == (24, 24)
        ): "That is after the convolution; MaxPooling2D(2) then halves rows and columns.",
        lambda s: (
            s[:2] == (13, 13)
        ): "A 5 × 5 kernel with 'valid' padding gives 28 - 5 + 1 = 24, not 26; then pool.",
        lambda s: (
            s[:2] == (14, 14)
        ): "'valid' padding shrinks the image: 28 - 5 + 1 = 24 before pooling.",
        lambda s: (
            s[2] != 8
        ): "The number of channels is the number of filters, and pooling keeps it.",
    },
    otherwise=(
        "Use floor((I - K) / S) + 1 for the convolution, then halve for the pooling (with a floor)."
    ),
    explanation=(
        "floor((28 - 5) / 1) + 1 = 24 rows and columns with "
        "8 channels; pooling halves the sides: (12, 12, 8)."
    ),
)


@exercise(
    "07.blog-params-function",
    explanation=(
        "conv: 3·3·1·f + f; Flatten gives 6·6·f numbers, so "
        "Dense(100) has 36·f·100 + 100; the output layer 100·10 + 10."
    ),
)
def _(blog_params):
    for filters in (10, 1, 4, 16, 32):
        expected = (
            conv2d_params(3, 1, filters) + dense_params(36 * filters, 100) + dense_params(100, 10)
        )
        got = expect_number(call(blog_params, filters))
        if got != expected:
            if filters == 10 and got == 37210 or got == blog_params(10) and filters != 10:
                return (
                    f"blog_params({filters}) gave {got:g}; it must "
                    f"depend on filters (expected {expected:,})."
                )
            return (
                f"blog_params({filters}) gave {got:g}, expected "
                f"{expected:,}. Remember that Flatten gives "
                "6 × 6 × filters numbers, so the first Dense layer grows with the filters too."
            )
    return None
