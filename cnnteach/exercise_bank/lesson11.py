"""Checkers for lesson 11, modern building blocks (questions and solutions live in the notebook)."""

from __future__ import annotations

import re

import numpy as np

from cnnteach.exercises import (
    AnswerError,
    call,
    exercise,
    expect_array,
    expect_number,
    number_exercise,
)

_PAIR = "give the size as one number, such as 10, or (size, jump) as a pair, such as (10, 2)"


def _plain(answer):
    """A TensorFlow tensor as a numpy array; anything else unchanged."""
    if hasattr(answer, "numpy") and not isinstance(answer, np.ndarray):
        try:
            return np.asarray(answer.numpy())
        except Exception:  # noqa: BLE001 - not a tensor after all
            return answer
    return answer


def _size_and_jump(answer):
    """(size, jump) from a number (jump None) or a pair such as (10, 2); AnswerError otherwise."""
    answer = _plain(answer)
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        return expect_number(answer, integer=True), None
    if isinstance(answer, (tuple, list, np.ndarray)):
        values = expect_array(answer, dtype_kind="n")
        if values.shape != (2,):
            raise AnswerError(f"{_PAIR}; yours has shape {values.shape}")
        size, jump = (expect_number(v, integer=True) for v in values)
        return size, jump
    return expect_number(answer, integer=True), None


# ---------------------------------------------------------------- 11.stack-receptive-field
@exercise(
    "11.stack-receptive-field",
    explanation=(
        "Start at (1, 1); each layer adds (k - 1) × jump, then multiplies the jump by its stride: "
        "3 and 5 after the two convolutions, 6 after the pooling (jump 2), 6 + 2 × 2 = 10 after "
        "the last convolution."
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
            "11 comes from either of two slips. Adding the kernel sizes (3 + 3 + 2 + 3) counts the "
            "overlap of neighbouring windows twice: start from 1 and let each layer add "
            "(k - 1) × jump. Multiplying the jump by the pooling's stride before growing the size "
            "makes the pooling add 2 instead of 1: grow the size with the jump from before, then "
            "multiply the jump."
        )
    if size == 7:
        return (
            "The pooling layer counts too: its 2 × 2 window adds (2 - 1) × 1 pixel, and its stride "
            "doubles the jump for the convolution after it."
        )
    return (
        "Start from size 1 and jump 1; each layer adds (k - 1) × jump, then multiplies the jump "
        "by its stride."
    )


# ---------------------------------------------------------------- 11.receptive-field-function
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


def _no_jump(pairs):
    """The size a learner gets by adding k - 1 per layer and forgetting the jump."""
    return 1 + sum(k - 1 for k, _ in pairs)


def _late_jump(pairs):
    """The size a learner gets by multiplying the jump first, then growing the size."""
    size, jump = 1, 1
    for k, s in pairs:
        jump *= s
        size += (k - 1) * jump
    return size


def _show(pair):
    return "(" + ", ".join(f"{v:g}" for v in pair) + ")"


@exercise(
    "11.receptive-field-function",
    explanation=(
        "Loop over the pairs and update both numbers in the right order: the size grows with "
        "the jump of the layers before, then the jump takes this layer's stride. "
        "cnnteach.arithmetic.receptive_field does the same and also reads Keras models."
    ),
)
def _(grow):
    results = {}
    for pairs in _STACKS:
        result = _plain(call(grow, [tuple(p) for p in pairs]))
        want = _reference(pairs)
        if isinstance(result, np.ndarray) and result.ndim == 0:
            result = result.item()
        if not isinstance(result, (tuple, list, np.ndarray)):
            if (
                isinstance(result, (int, float, np.number))
                and not isinstance(result, (bool, np.bool_))
                and expect_number(result) == want[0]
            ):
                return "That is the size alone; return both numbers, (size, jump)."
            kind = type(result).__name__
            article = "an" if kind[:1].lower() in "aeiou" else "a"
            return (
                f"Return a pair (size, jump), for example (6, 4); yours returned {article} {kind}."
            )
        got = tuple(float(v) for v in expect_array(result, dtype_kind="n").ravel())
        if len(got) != 2:
            return f"Return two numbers, (size, jump); for {pairs} yours returned {len(got)}."
        results[tuple(pairs)] = (got, want)
    wrong = {pairs: gw for pairs, gw in results.items() if gw[0] != gw[1]}
    if not wrong:
        return None
    if list(wrong) == [()]:
        return "For an empty list each pixel sees only itself: start from (1, 1)."
    if all(got == want[::-1] for got, want in results.values()):
        return "Right numbers, wrong order: return (size, jump), the size first."
    if all(got[0] == _no_jump(pairs) for pairs, (got, _) in results.items()):
        pairs = next(p for p in wrong if results[p][0][0] != results[p][1][0])
        return (
            f"For {list(pairs)} you add k - 1 per layer but forget the jump: after a stride, each "
            "step of the next window moves several input pixels, so add (k - 1) * j."
        )
    jumps_wrong = [p for p, (got, want) in wrong.items() if got[1] != want[1]]
    if jumps_wrong:
        pairs = jumps_wrong[0]
        got, want = results[pairs]
        return (
            f"Check the jump first: it is the product of the strides, j = j * s, so for "
            f"{list(pairs)} it is {want[1]}; yours gave {got[1]:g}."
        )
    if all(got[0] == want[0] - 1 for got, want in results.values()):
        return (
            "Your sizes are one short: a single pixel already sees itself, so start the size at "
            "1, not 0."
        )
    if all(got[0] == _late_jump(pairs) for pairs, (got, _) in results.items()):
        return (
            "Update the size with the jump from before this layer's stride, then multiply the jump."
        )
    pairs, (got, want) = next(iter(wrong.items()))
    return f"For {list(pairs)} the answer is {want}, yours gave {_show(got)}."


# ---------------------------------------------------------------- 11.residual-params
_FIRST, _SECOND, _PROJECTION = 9 * 16 * 32 + 32, 9 * 32 * 32 + 32, 16 * 32 + 32
_BIASES = (
    "Each of the three convolutions has one bias per filter, 32 each (the projection too); "
    "count k × k × channels in × filters + filters for every one."
)

number_exercise(
    "11.residual-params",
    _FIRST + _SECOND + _PROJECTION,
    integer=True,
    hints={
        _FIRST + _SECOND: (
            "The channels differ (16 in, 32 out), so the shortcut needs the 1 × 1 projection, "
            "and it has 16 × 32 weights plus 32 biases."
        ),
        (
            _FIRST + _SECOND + _PROJECTION - 32,
            _FIRST + _SECOND + _PROJECTION - 64,
            _FIRST + _SECOND + _PROJECTION - 96,
        ): _BIASES,
        _FIRST + _SECOND + _FIRST: (
            "The projection is a 1 × 1 convolution: 1 × 1 × 16 weights per filter, not 3 × 3 × 16."
        ),
        2 * _SECOND + _PROJECTION: (
            "The first convolution reads the block's 16 input channels, not 32: "
            "3 × 3 × 16 weights per filter."
        ),
        2 * _FIRST + _PROJECTION: (
            "The second convolution reads the 32 channels the first one made, not the block's 16: "
            "3 × 3 × 32 weights per filter."
        ),
        (9 * 32 + 32) + _SECOND + (32 + 32): (
            "Every filter reads all its input channels: multiply by 16 (or 32) input channels."
        ),
    },
    otherwise=(
        "Count each convolution as k × k × channels in × filters + filters (a bias per filter), "
        "and add the three; the Add has no parameters."
    ),
    explanation=(
        "3 × 3 × 16 × 32 + 32 = 4,640 for the first convolution, 3 × 3 × 32 × 32 + 32 = 9,248 for "
        "the second, 1 × 1 × 16 × 32 + 32 = 544 for the projection: 14,432. The Add has none."
    ),
)


# ---------------------------------------------------------------- 11.dropout-kept-value
number_exercise(
    "11.dropout-kept-value",
    3.0 / 0.7,
    hints={
        3.0: (
            "Keras scales during training: it divides the units it keeps by 1 - rate, so that "
            "the expected output stays what it would be without dropout."
        ),
        3.0 * 0.7: (
            "Multiplying by the keep probability is what the 2014 dropout paper did to the weights "
            "at test time; Keras instead divides the kept units by (1 - rate) during training."
        ),
        3.0 / 0.3: "Divide by the probability of keeping a unit, 1 - 0.3 = 0.7, not by the rate.",
        3.0 * 1.3: "The scale is 1 / (1 - rate), which is not 1 + rate: divide 3.0 by 0.7.",
        0: "This unit was kept, so it is not 0; kept units are divided by (1 - rate).",
        4: (
            "Right idea if you rounded: give at least 3 decimals (4 is rounded to a whole "
            "number), or the exact expression."
        ),
    },
    otherwise="A kept unit is divided by the probability of keeping it, 1 - rate.",
    explanation=(
        "Keras divides the units it keeps by 1 - rate during training, so that the expected output "
        "stays 3.0: 3.0 / 0.7 = 4.286. At inference it outputs 3.0 unchanged."
    ),
)


# ---------------------------------------------------------------- 11.six-nine
_OPTIONS = {
    "a": "randomtranslation(0.2,0.2)",
    "b": "randomzoom(0.2)",
    "c": "randomrotation(0.5)",
    "d": "randomrotation(0.02)",
}
_CHOICES = {
    "a": "Shifting moves a digit but never turns it: a shifted 6 still looks like a 6.",
    "b": "Zooming changes the size of a digit, not which way up it is.",
}


def _small_turn(factor: float) -> str:
    return (
        f"RandomRotation({factor:g}) turns by at most {factor:g} of a full turn, "
        f"±{factor * 360:g}°: the small tilts of handwriting. A 6 needs about half a turn to "
        "look like a 9."
    )


def _option(text: str) -> str | None:
    """The letter a learner meant: 'c', 'c.', "'c'", 'option c', '(c) RandomRotation(0.5)', or the
    layer itself ('layers.RandomRotation(0.5)'); None when it names none of the four."""
    text = re.sub(r"\s+", "", text.lower()).strip("'\"`.:;!")
    text = re.sub(r"^(option|answer)", "", text)
    text = re.sub(r"(keras\.)?(layers\.)", "", text)
    match = re.fullmatch(r"\(?([a-z])\)?[.:]?(.*)", text)
    if match and (match.group(2) in ("", _OPTIONS.get(match.group(1)))):
        return match.group(1)
    for letter, layer in _OPTIONS.items():
        if text == layer:
            return letter
    return None


@exercise(
    "11.six-nine",
    explanation=(
        "RandomRotation(0.5) turns each image by up to half a turn either way (0.5 × 360° = 180°), "
        "and a 6 turned by 180° looks like a 9: the training set would then label 9-like shapes as "
        "6 and 6-like ones as 9. Augment only with changes that keep the label."
    ),
)
def _(answer):
    if not isinstance(answer, str):
        kind = type(answer).__name__
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        return f"Give one letter as a string, such as 'a'; you gave {article} {kind}."
    letter = _option(answer)
    if letter == "c":
        return None
    if letter == "d":
        return _small_turn(0.02)
    if letter in _CHOICES:
        return _CHOICES[letter]
    turn = re.fullmatch(
        r"(?:layers\.)?randomrotation\(([0-9.]+)\)", re.sub(r"\s+", "", answer.lower())
    )
    if turn:
        try:
            factor = float(turn.group(1))
        except ValueError:
            factor = None
        if factor is not None and factor < 0.25:
            return _small_turn(factor)
    return "Give one of the letters a, b, c or d."
