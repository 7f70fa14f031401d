"""Checkers for lesson 06 (building the model)."""

from cnnteach.arithmetic import conv2d_params, dense_params
from cnnteach.exercises import call, exercise, expect_array, expect_number


@exercise(
    "06.rgb-conv-params",
    "How many trainable parameters has Conv2D(32, 5) when it reads RGB images (3 channels)?",
    explanation="Each of the 32 filters has 5 × 5 × 3 weights (one per kernel cell per input channel) and one bias: 5·5·3·32 + 32 = 2,432.",
)
def _(answer):
    value = expect_number(answer)
    if value == 2432:
        return None
    hints = {
        832.0: "A filter reads all 3 colour channels, so it has 5 × 5 × 3 weights, not 5 × 5.",
        800.0: "A filter reads all 3 colour channels (5 × 5 × 3 weights), and each filter has a bias too.",
        2400.0: "Close: add one bias per filter.",
        2403.0: "There is one bias per filter (32), not one per channel.",
        320.0: "That is a 3 × 3 kernel on one channel; this one is 5 × 5 on three channels.",
    }
    return hints.get(value, "Use K × K × C_in × filters + filters with K = 5, C_in = 3, filters = 32.")


@exercise(
    "06.dense-after-change",
    "With Conv2D(16, 3) instead of Conv2D(10, 3) in the 2019 model, how many parameters has the first Dense(100) layer?",
    explanation="The maps are still 6 × 6 after two poolings, now with 16 channels: 6·6·16 = 576 inputs, so 576·100 + 100 = 57,700.",
)
def _(answer):
    value = expect_number(answer)
    if value == 57700:
        return None
    hints = {
        36100.0: "That is the original layer; with 16 filters, Flatten gives 6 × 6 × 16 numbers.",
        57600.0: "Close: add the 100 biases.",
        270500.0: "Two pooling layers make the maps 6 × 6, not 13 × 13.",
        1082600.0: "The maps are pooled twice: 26 → 13 → 6.",
    }
    return hints.get(value, "Flatten gives 6 × 6 × 16 numbers; a Dense layer has inputs × units + units parameters.")


@exercise(
    "06.predict-shape",
    "What is the output shape (rows, columns, channels) of Conv2D(8, 5) then MaxPooling2D(2) on a 28 × 28 × 1 image?",
    explanation="floor((28 - 5) / 1) + 1 = 24 rows and columns with 8 channels; pooling halves the sides: (12, 12, 8).",
)
def _(answer):
    shape = expect_array(answer, dtype_kind="n").ravel()
    if shape.size == 4 and shape[0] in (1, -1):
        return "Leave out the batch axis: give (rows, columns, channels) of one image."
    if shape.size != 3:
        return "Give three numbers: (rows, columns, channels)."
    rows, cols, channels = (float(v) for v in shape)
    if (rows, cols, channels) == (12, 12, 8):
        return None
    if (rows, cols) == (24, 24):
        return "That is after the convolution; MaxPooling2D(2) then halves rows and columns."
    if (rows, cols) == (13, 13):
        return "A 5 × 5 kernel with 'valid' padding gives 28 - 5 + 1 = 24, not 26; then pool."
    if (rows, cols) == (14, 14):
        return "'valid' padding shrinks the image: 28 - 5 + 1 = 24 before pooling."
    if channels != 8:
        return "The number of channels is the number of filters, and pooling keeps it."
    return "Use floor((I - K) / S) + 1 for the convolution, then halve for the pooling (with a floor)."


@exercise(
    "06.blog-params-function",
    "Write blog_params(filters): the parameters of the 2019 network whose convolution has `filters` filters.",
    explanation="conv: 3·3·1·f + f; Flatten gives 6·6·f numbers, so Dense(100) has 36·f·100 + 100; the output layer 100·10 + 10.",
)
def _(blog_params):
    for filters in (10, 1, 4, 16, 32):
        expected = conv2d_params(3, 1, filters) + dense_params(36 * filters, 100) + dense_params(100, 10)
        got = expect_number(call(blog_params, filters))
        if got != expected:
            if filters == 10 and got == 37210 or got == blog_params(10) and filters != 10:
                return f"blog_params({filters}) gave {got:g}; it must depend on filters (expected {expected:,})."
            return (
                f"blog_params({filters}) gave {got:g}, expected {expected:,}. Remember that Flatten gives "
                "6 × 6 × filters numbers, so the first Dense layer grows with the filters too."
            )
    return None
