"""Checkers for lesson 11, modern building blocks.

The solutions live in notebooks/11_modern_building_blocks.ipynb.
"""

from __future__ import annotations

import math

import numpy as np

from cnnteach.exercises import call, exercise, expect_array, expect_number


def _size_and_jump(answer):
    """(size, jump) from a number (jump None) or a pair such as (10, 2); raises ValueError
    otherwise."""
    if isinstance(answer, (tuple, list, np.ndarray)) and not isinstance(answer, str):
        values = expect_array(answer, dtype_kind="n")
        if values.shape != (2,):
            raise ValueError("give the size as one number, or (size, jump) as a pair")
        size, jump = (expect_number(v.item(), integer=True) for v in values)
        return size, jump
    return expect_number(answer, integer=True), None


# ------------------------------------------------------------------------- 11.stack-receptive-field
@exercise(
    "11.stack-receptive-field",
    "Conv2D 3 × 3, Conv2D 3 × 3, MaxPooling2D 2 × 2 "
    "(stride 2), Conv2D 3 × 3 (the convolutions with "
    "stride 1): how many input pixels wide is the receptive field of one output position?",
    explanation=(
        "Start at (1, 1); each layer adds (k - 1) × jump, then multiplies the jump by its stride: "
        "3 and 5 after the two convolutions, 6 after the "
        "pooling (jump 2), 6 + 2 × 2 = 10 after the "
        "last convolution."
    ),
)
def _(answer):
    size, jump = _size_and_jump(answer)
    if size == 10 and jump in (None, 2):
        return None
    if size == 10:
        return "The size is right; the jump is the product of the strides, 1 × 1 × 2 × 1 = 2."
    if (size, jump) == (2, 10):
        return "Give (size, jump) in that order: the size first."
    if size == 8:
        return (
            "After the pooling, neighbouring positions are 2 pixels apart (the jump is 2), so the "
            "last 3 × 3 convolution adds (3 - 1) × 2 = 4 pixels, not 2."
        )
    if size == 11:
        return (
            "Adding the kernel sizes counts the overlap "
            "of neighbouring windows twice: start from 1 "
            "and let each layer add (k - 1) × jump."
        )
    if size == 7:
        return (
            "The pooling layer counts too: its 2 × 2 window adds (2 - 1) × 1 pixel, and its stride "
            "doubles the jump for the convolution after it."
        )
    return (
        "Start from size 1 and jump 1; each layer adds (k - "
        "1) × jump, then multiplies the jump by its stride."
    )


# ---------------------------------------------------------------------- 11.receptive-field-function
_STACKS = (
    [(3, 1), (2, 2), (2, 2)],
    [(3, 1), (3, 1)],
    [(7, 2), (3, 2), (3, 1)],
    [(3, 2), (3, 2), (3, 2)],
    [(1, 2), (3, 1)],
    [(5, 1)],
    [],
)


def _reference(pairs):
    size, jump = 1, 1
    for k, s in pairs:
        size, jump = size + (k - 1) * jump, jump * s
    return size, jump


@exercise(
    "11.receptive-field-function",
    "Write grow(pairs): for a list of (kernel_size, stride) pairs return (size, jump), "
    "starting from (1, 1) with r = r + (k - 1) * j, then j = j * s.",
    explanation=(
        "Loop over the pairs and update both numbers in the right order: the size grows with "
        "the jump of the layers before, then the jump takes this layer's stride. "
        "cnnteach.arithmetic.receptive_field does the same and also reads Keras models."
    ),
)
def _(grow):
    for pairs in _STACKS:
        result = call(grow, [tuple(p) for p in pairs])
        want = _reference(pairs)
        if not isinstance(result, (tuple, list, np.ndarray)):
            if isinstance(result, (int, float, np.number)) and expect_number(result) == want[0]:
                return "That is the size alone; return both numbers, (size, jump)."
            return (
                "Return a pair (size, jump), for example (6, "
                f"4); yours returned a {type(result).__name__}."
            )
        got = tuple(float(v) for v in expect_array(result, dtype_kind="n").ravel())
        if got == want:
            continue
        if not pairs:
            return "For an empty list each pixel sees only itself: start from (1, 1)."
        if len(got) == 2 and got[1] == want[1] and got[0] == want[0] - 1:
            return (
                "Your sizes are one short: a single pixel already "
                "sees itself, so start the size at 1, not 0."
            )
        if len(got) == 2 and got[0] == sum(k - 1 for k, _ in pairs) + 1:
            return (
                f"For {pairs} you add k - 1 per layer but forget the jump: after a stride, each "
                "step of the next window moves several input pixels, so add (k - 1) * j."
            )
        if len(got) == 2 and got[0] == _late_jump(pairs):
            return (
                "Update the size with the jump from before "
                "this layer's stride, then multiply the jump."
            )
        return f"For {pairs} the answer is {want}, yours gave {got}."
    return None


def _late_jump(pairs):
    """The size a learner gets by multiplying the jump first, then growing the size."""
    size, jump = 1, 1
    for k, s in pairs:
        jump *= s
        size += (k - 1) * jump
    return size


# ----------------------------------------------------------------------------- 11.residual-params
@exercise(
    "11.residual-params",
    "A residual block takes 16 channels to 32: Conv2D(32, 3), Conv2D(32, 3) and a 1 × 1 "
    "projection Conv2D(32, 1) on the shortcut, all with biases. How many parameters has it?",
    explanation=(
        "3 × 3 × 16 × 32 + 32 = 4,640 for the first convolution, 3 × 3 × 32 × 32 + 32 = 9,248 for "
        "the second, 1 × 1 × 16 × 32 + 32 = 544 for the projection: 14,432. The Add has none."
    ),
)
def _(answer):
    value = expect_number(answer, integer=True)
    first, second, projection = 9 * 16 * 32 + 32, 9 * 32 * 32 + 32, 16 * 32 + 32
    if value == first + second + projection:
        return None
    if value == first + second:
        return (
            "The channels differ (16 in, 32 out), so the shortcut needs the 1 × 1 projection, "
            "and it has 16 × 32 weights plus 32 biases."
        )
    if value == first + second + projection - 3 * 32:
        return "Each of the three convolutions also has one bias per filter: 32 each."
    if value == first + second + first:
        return (
            "The projection is a 1 × 1 convolution: 1 × 1 × 16 weights per filter, not 3 × 3 × 16."
        )
    if value == 2 * second + projection:
        return (
            "The first convolution reads the block's 16 input "
            "channels, not 32: 3 × 3 × 16 weights per filter."
        )
    if value == (9 * 32 + 32) + second + (32 + 32):
        return "Every filter reads all its input channels: multiply by 16 (or 32) input channels."
    return "Count each convolution as k × k × channels in × filters + filters, and add the three."


# ---------------------------------------------------------------------------- 11.dropout-kept-value
@exercise(
    "11.dropout-kept-value",
    "During training, layers.Dropout(0.3) keeps a unit whose input is 3.0. What does it output? "
    "(Give at least 3 decimals.)",
    explanation=(
        "Keras divides the units it keeps by 1 - rate during training, so that the expected output "
        "stays 3.0: 3.0 / 0.7 = 4.286. At inference it outputs 3.0 unchanged."
    ),
)
def _(answer):
    value = expect_number(answer)
    right = 3.0 / 0.7
    if math.isclose(value, right, abs_tol=1e-3):
        return None
    if math.isclose(value, right, abs_tol=0.01):
        return "Right idea: give at least 3 decimals (3.0 / 0.7 to three places)."
    if math.isclose(value, 3.0):
        return (
            "Keras scales during training: it divides the units it keeps by 1 - rate, so that "
            "the expected output stays what it would be without dropout."
        )
    if math.isclose(value, 3.0 * 0.7, abs_tol=1e-3):
        return (
            "Multiplying by the keep probability is what the 2014 dropout paper did to the weights "
            "at test time; Keras instead divides the kept units by (1 - rate) during training."
        )
    if math.isclose(value, 3.0 / 0.3, abs_tol=1e-3):
        return "Divide by the probability of keeping a unit, 1 - 0.3 = 0.7, not by the rate."
    if math.isclose(value, 3.0 * 1.3, abs_tol=1e-3):
        return "The scale is 1 / (1 - rate), which is not 1 + rate: divide 3.0 by 0.7."
    if value == 0:
        return "This unit was kept, so it is not 0; kept units are divided by (1 - rate)."
    return "A kept unit is divided by the probability of keeping it, 1 - rate."


# ----------------------------------------------------------------------------- 11.six-nine
_CHOICES = {
    "a": "Shifting moves a digit but never turns it: a shifted 6 still looks like a 6.",
    "b": "Zooming changes the size of a digit, not which way up it is.",
    "d": (
        "RandomRotation(0.02) turns by at most 0.02 of a full turn, ±7.2°: the small tilts of "
        "handwriting. A 6 needs about half a turn to look like a 9."
    ),
}


@exercise(
    "11.six-nine",
    "Which augmentation would break a classifier that "
    "tells 6 from 9: (a) RandomTranslation(0.2, 0.2), "
    "(b) RandomZoom(0.2), (c) RandomRotation(0.5), (d) RandomRotation(0.02)? Give the letter.",
    explanation=(
        "RandomRotation(0.5) turns each image by up to half a turn either way (0.5 × 360° = 180°), "
        "and a 6 turned by 180° looks like a 9: the "
        "training set would then label 9-like shapes as 6 "
        "and 6-like ones as 9. Augment only with changes that keep the label."
    ),
)
def _(answer):
    if not isinstance(answer, str):
        return f"Give one letter as a string, such as 'a'; you gave a {type(answer).__name__}."
    letter = answer.strip().strip("()").strip().lower()
    if letter.startswith("randomrotation(0.5") or letter == "c":
        return None
    if letter in _CHOICES:
        return _CHOICES[letter]
    return "Give one of the letters a, b, c or d."
