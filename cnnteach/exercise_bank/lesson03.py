"""Checkers for lesson 03, labels and one-hot.

The solutions live in notebooks/03_labels_and_one_hot.ipynb.
"""

from __future__ import annotations

import math

import numpy as np

from cnnteach.exercises import (
    call,
    exercise,
    expect_array,
    number_exercise,
    shape_exercise,
)


# ----------------------------------------------------------------------------- 03.one-hot-seven
@exercise(
    "03.one-hot-seven",
    explanation=(
        "Ten entries, all 0 except a 1 at index 7 (the eighth entry, since counting starts at 0)."
    ),
)
def _(answer):
    array = expect_array(answer)
    if array.dtype.kind not in "biuf":
        return "Give numbers, such as [0, 0, 1, ...], not text."
    if array.ndim == 0:
        return "That is a single number; a one-hot label is a row of ten numbers."
    if array.shape == (1, 10):
        array = array[0]
    if array.ndim != 1 or array.size != 10:
        return (
            "A one-hot label for ten classes has exactly "
            f"ten entries; yours has shape {array.shape}."
        )
    values = array.astype(np.float64)
    if not np.all((values == 0) | (values == 1)) or values.sum() != 1:
        return "Exactly one entry is 1 and the other nine are 0."
    hot = int(np.argmax(values))
    if hot == 7:
        return None
    if hot in (6, 8):
        return f"Your 1 is at index {hot}; indices count from 0, so label 7 sits at index 7."
    return f"Your 1 is at index {hot}, which is the one-hot vector of {hot}; put it at index 7."


# ----------------------------------------------------------------------------- 03.categorical-shape
shape_exercise(
    "03.categorical-shape",
    (100, 10),
    hints={
        (10, 100): "Rows are examples: each of the 100 labels becomes one row of 10.",
        (
            100,
        ): "That is the shape of the integer labels; each label becomes a whole row of numbers.",
        lambda s: (
            s in ((100, 9), (100, 1))
        ): "Count the classes: the digits 0 to 9 are ten classes, so ten columns.",
    },
    otherwise="Each label becomes one row with one column per class.",
    explanation="Each of the 100 labels becomes a row of 10 numbers, one per class: (100, 10).",
)


# ----------------------------------------------------------------------------- 03.one-hot
_ONE_HOT_CASES = (
    (np.array([5, 0, 4, 1, 9]), 10),
    (np.array([2, 2, 0], dtype=np.uint8), 3),
    (np.array([7]), 10),
    (np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 0]), 10),
    (np.array([3, 1]), 6),
)


@exercise(
    "03.one-hot",
    explanation=(
        "Row i of the identity matrix np.eye(num_classes) is the one-hot vector of class i, so "
        "indexing it with the labels picks one row per label: `np.eye(num_classes)[labels]`. "
        "The reverse is np.argmax(rows, axis=1)."
    ),
)
def _(one_hot):
    for labels, classes in _ONE_HOT_CASES:
        before = labels.copy()
        result = expect_array(
            call(one_hot, labels, classes) if classes != 10 else call(one_hot, labels),
            dtype_kind="n",
        )
        if not np.array_equal(labels, before):
            return "Your function changed the labels it was given; build a new array instead."
        want = np.eye(classes)[labels]
        if result.shape == want.shape[::-1] and want.shape[0] != want.shape[1]:
            return "Your array is transposed: one row per label, one column per class."
        if result.shape != want.shape:
            if classes != 10 and result.shape == (len(labels), 10):
                return "Use the num_classes argument instead of always making ten columns."
            return (
                f"For {len(labels)} labels and {classes} classes the "
                f"shape must be {want.shape}, not {result.shape}."
            )
        if not np.array_equal(result, want):
            return (
                f"For labels {labels.tolist()} the rows must have their "
                f"1 at those positions: {want.astype(int).tolist()}."
            )
    return None


# ----------------------------------------------------------------------------- 03.cross-entropy
def _log_base(base):
    return lambda v: math.isclose(abs(v), -math.log(0.8, base), abs_tol=1e-3)


number_exercise(
    "03.cross-entropy",
    -math.log(0.8),
    hints={
        math.log(
            0.8
        ): "The logarithm of a probability is negative; the loss is minus that logarithm.",
        _log_base(10): "That uses log base 10; Keras uses the natural logarithm (np.log).",
        _log_base(2): "That uses log base 2; Keras uses the natural logarithm (np.log).",
        0.2: "1 - p is not the cross-entropy: take minus the natural logarithm of p.",
    },
    otherwise=(
        "Only the right class counts with a one-hot "
        "label: the loss is -log(p) for its probability p."
    ),
    explanation=(
        "With a one-hot label every term but the right class's is zero, so the loss is "
        "-ln(0.8) = 0.223 (natural logarithm, as Keras uses)."
    ),
)


# ----------------------------------------------------------------------------- 03.softmax
_SOFTMAX_CASES = (
    np.array([1.0, 2.0, 3.0]),
    np.array([0.0, 0.0, 0.0, 0.0]),
    np.array([-2.0, 0.5, 4.0, 1.0, 0.0, -1.0, 2.0, 3.0, -3.0, 0.2]),
    np.array([1000.0, 1001.0, 1002.0]),
    np.array([-1000.0, 0.0, 1000.0]),  # subtracting the minimum overflows here
)


def _reference_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


@exercise(
    "03.softmax",
    explanation=(
        "Exponentiate, then divide by the sum. Subtracting the largest score first changes "
        "nothing mathematically but keeps np.exp from overflowing: "
        "`e = np.exp(scores - scores.max()); return e / e.sum()`."
    ),
)
def _(softmax):
    for scores in _SOFTMAX_CASES:
        with np.errstate(all="ignore"):
            result = expect_array(call(softmax, scores.copy()), dtype_kind="n")
        want = _reference_softmax(scores)
        if result.shape != scores.shape:
            return (
                f"For {scores.size} scores return {scores.size} "
                f"probabilities, not shape {result.shape}."
            )
        if not np.all(np.isfinite(result)):
            if scores.min() < 0:
                return (
                    f"For the scores {scores.tolist()} your function "
                    "gives nan or inf: subtract the largest "
                    "score (scores.max()), not the smallest, so that no exponent is above 0."
                )
            return (
                "Large scores such as 1000 overflow np.exp: "
                "subtract scores.max() before exponentiating."
            )
        if not np.allclose(result, want, atol=1e-6):
            if np.allclose(result, scores / scores.sum()) if scores.sum() else False:
                return "Dividing the scores by their sum is not softmax: exponentiate them first."
            if np.allclose(result.sum(), 1.0):
                return (
                    "Your values add up to 1 but are not softmax: "
                    "exp(score) / sum of exp(all scores)."
                )
            return (
                "Divide each exponentiated score by the sum "
                "of all of them, so that they add up to 1."
            )
    return None
