"""Checkers for lesson 04, how a network learns.

The solutions live in notebooks/04_how_a_network_learns.ipynb.
"""

from __future__ import annotations

import math

import numpy as np

from cnnteach._answers import rounding_hint
from cnnteach.exercises import (
    AnswerError,
    NotAttempted,
    call,
    exercise,
    expect_number,
    number_exercise,
    shape_exercise,
)

#: Arrays of this lesson a learner may pass by mistake, by their number of rows.
_LESSON_ARRAYS = {
    50000: "X or y, the 50,000 training images or their labels",
    20000: "the first 20,000 training images or their labels",
    10000: "X_val or y_val, the 10,000 held-back images or their labels",
}


def _array_note(answer) -> str | None:
    """One sentence for a whole array given where a number or a shape is asked, or None."""
    if not isinstance(answer, np.ndarray) or answer.ndim == 0:
        return None
    if answer.ndim == 1 and answer.size <= 8 and answer.dtype.kind in "iuf":
        return None  # a short 1-D array may be a shape: the shape reader decides
    rows = _LESSON_ARRAYS.get(answer.shape[0])
    which = f" (that is {rows})" if rows and answer.ndim >= 1 else ""
    return f"That is an array of {answer.size} values{which}, not the answer asked for"


def _with_notes(checker, exercise_id: str, explanation: str, wanted: str):
    """Register ``checker`` again behind the lesson's notes on whole arrays and nested lists."""

    @exercise(exercise_id, explanation=explanation)
    def _(answer):
        note = _array_note(answer)
        if note:
            return f"{note}: give {wanted}."
        return checker(answer)

    return _


# ----------------------------------------------------------------------------- 04.dense-params
_INPUTS, _HIDDEN, _CLASSES = 784, 64, 10
_FIRST = _INPUTS * _HIDDEN + _HIDDEN
_SECOND = _HIDDEN * _CLASSES + _CLASSES
_TOTAL = _FIRST + _SECOND
_DENSE_EXPLANATION = (
    "Each Dense layer has (inputs x neurons) weights plus one bias per neuron: the first "
    "784 * 64 + 64 = 50,240, the second reads the 64 hidden outputs, 64 * 10 + 10 = 650; "
    "50,890 in all. ReLU and softmax have no parameters."
)
_dense_params = number_exercise(
    "04.dense-params",
    _TOTAL,
    integer=True,
    hints={
        _INPUTS * _HIDDEN + _HIDDEN * _CLASSES: (
            "You counted the weights but not the biases: every neuron also has one bias."
        ),
        (_TOTAL - _HIDDEN, _TOTAL - _CLASSES): (
            "One layer is missing its biases: every neuron of both layers has one bias."
        ),
        _FIRST: (
            "That is the first layer only; add the Dense(10) layer, which reads the 64 hidden "
            "outputs."
        ),
        _SECOND: (
            "That is the second layer only; add the Dense(64) layer, which reads the 784 pixels."
        ),
        _FIRST + _INPUTS * _CLASSES + _CLASSES: (
            "The Dense(10) layer reads the 64 outputs of the hidden layer, not the 784 pixels."
        ),
        _INPUTS * _CLASSES + _CLASSES: (
            "That is a single Dense(10) on the pixels; this network has a hidden layer of 64 "
            "neurons first."
        ),
        (_TOTAL + _HIDDEN, _TOTAL + _CLASSES, _TOTAL + _HIDDEN + _CLASSES): (
            "Activations such as ReLU and softmax have no parameters; count only weights and "
            "biases."
        ),
    },
    otherwise=(
        "Count each layer as (inputs x neurons) weights plus one bias per neuron, then add the "
        "two layers."
    ),
    explanation=_DENSE_EXPLANATION,
)
_with_notes(_dense_params, "04.dense-params", _DENSE_EXPLANATION, "one whole number")


# ---------------------------------------------------------------------------- 04.predict-grad-shape
_SHAPE_EXPLANATION = (
    "images.T is (784, 32) and p - y_onehot is (32, 10), so the product is (784, 10): one "
    "number per weight, the shape of W. The batch size disappears in the sum over images."
)
_grad_shape = shape_exercise(
    "04.predict-grad-shape",
    (784, 10),
    hints={
        (10, 784): (
            "Rows first: images.T has 784 rows, so the gradient has the shape of W, "
            "(pixels, classes)."
        ),
        (32, 10): (
            "That is the shape of p - y_onehot; multiplying by images.T sums over the 32 images."
        ),
        (32, 784): (
            "That is the shape of the images; the product with p - y_onehot has one entry per "
            "weight."
        ),
        (784, 32): (
            "That is the shape of images.T; the product with p - y_onehot has one entry per weight."
        ),
        (10,): (
            "That is the shape of the bias gradient; the weight gradient has one entry per weight "
            "of W."
        ),
    },
    otherwise=(
        "(a, b) @ (b, c) has shape (a, c): work it out from images.T, (784, 32), and p - "
        "y_onehot, (32, 10)."
    ),
    axes=("rows", "columns"),
    explanation=_SHAPE_EXPLANATION,
)


@exercise("04.predict-grad-shape", explanation=_SHAPE_EXPLANATION)
def _(answer):
    if isinstance(answer, np.ndarray) and (answer.ndim != 1 or answer.size > 8):
        note = _array_note(answer) or "That is an array"
        return (
            f"{note.replace(', not the answer asked for', '')}, not its shape: write the shape as "
            "a tuple such as (2, 3)."
        )
    if isinstance(answer, (list, tuple)) and any(isinstance(v, (list, tuple)) for v in answer):
        return "Your shape has a list inside a list: write it as one flat tuple such as (2, 3)."
    return _grad_shape(answer)


# ----------------------------------------------------------------------------- 04.gradient-by-hand
_X_TINY = np.array([[1.0, 0.5], [0.2, 2.0]])
_LABELS_TINY = np.array([0, 2])


def _tiny_gradient(
    pixel: int = 1, cls: int = 2, divide_by: float = 2.0, p: float = 1 / 3, with_y: bool = True
) -> float:
    p_minus_y = np.full((2, 3), p) - (np.eye(3)[_LABELS_TINY] if with_y else 0)
    return float((_X_TINY[:, pixel] * p_minus_y[:, cls]).sum() / divide_by)


_RIGHT_TINY = _tiny_gradient()  # -7/12


def _near(value: float, target: float, tol: float = 5e-3) -> bool:
    return math.isclose(value, target, rel_tol=0, abs_tol=tol)


@exercise(
    "04.gradient-by-hand",
    explanation=(
        "All scores are 0, so p = 1/3 for every class. For class 2, p - y is 1/3 for the first "
        "image (label 0) and 1/3 - 1 = -2/3 for the second (label 2). Pixel 1 (the second "
        "column of X_tiny) is 0.5 and 2.0: (0.5 * 1/3 + 2.0 * (-2/3)) / 2 = -7/12 = -0.583. "
        "Negative: raising this weight lowers the loss."
    ),
)
def _(answer):
    if isinstance(answer, np.ndarray) and answer.shape == (2, 3):
        return (
            "That is the whole gradient of W_tiny; the question asks for one entry of it: take "
            "[1, 2]."
        )
    note = _array_note(answer)
    if note:
        return f"{note}: give one number."
    value = expect_number(answer)
    if _near(value, _RIGHT_TINY, 1e-3):
        return None
    rounded = rounding_hint(value, _RIGHT_TINY)
    if rounded:
        return rounded
    if _near(value, -_RIGHT_TINY):
        return "The sign is flipped: the gradient uses p - y (probability minus label), not y - p."
    if _near(value, _tiny_gradient(divide_by=1)):
        return (
            "That is the sum over the two images; the loss is their mean, so divide by n = 2 "
            "images."
        )
    if _near(value, _tiny_gradient(divide_by=3)):
        return "You divided by 3, the number of classes; divide by n, the number of images (2)."
    if _near(value, _tiny_gradient(divide_by=4)):
        return "You divided by 4; the mean over the batch divides by the number of images only, 2."
    if _near(value, _tiny_gradient(pixel=0)):
        return (
            "That is the weight from pixel 0; W_tiny[1, 2] multiplies pixel 1, the second column "
            "of "
            "X_tiny (counting starts at 0)."
        )
    if _near(value, _tiny_gradient(with_y=False)):
        return (
            "Either that is the gradient for class 1, or you left out y: the formula uses p - y, "
            "with y = 1 for class 2 only on the image labelled 2."
        )
    for cls in (0, 1):
        if _near(value, _tiny_gradient(cls=cls)):
            return f"That is the gradient for class {cls}; W_tiny[1, 2] feeds the score of class 2."
    if _near(value, _RIGHT_TINY, 0.02):
        return (
            "Close: keep p = 1/3 exact (or at least 4 decimals, 0.3333) in the working; "
            "0.33 or 0.67 moves the result."
        )
    return (
        "For each image take pixel 1 (the second column of X_tiny) times (p - y) for class 2, "
        "with p = 1/3 and y = 1 only for the image whose label is 2; then average over the two "
        "images."
    )


# ----------------------------------------------------------------------------- 04.diverging-rate
_RATE_EXPLANATION = (
    "w grows when |1 - 10 * rate| > 1. For a positive rate that means 1 - 10 * rate < -1, "
    "so rate > 0.2: two divided by the curvature 10. At exactly 0.2 w flips sign forever "
    "without growing; at 0.1 one step lands on the minimum."
)
_diverging_rate = number_exercise(
    "04.diverging-rate",
    0.2,
    hints={
        lambda v: v <= 0: (
            "A learning rate is positive: a negative one steps uphill. Find where the factor "
            "1 - 10 * rate passes -1."
        ),
        0.1: (
            "At 0.1 the factor is 0: one step lands exactly on the minimum. Larger rates overshoot "
            "but still shrink w until the factor passes -1."
        ),
        0.4: "The factor uses the gradient 10w, not the 5 in the loss: solve 1 - 10 * rate = -1.",
        (1.0, 2.0): (
            "Check the factor at your rate: at 0.25 it is already -1.5, so w grows. "
            "Solve 1 - 10 * rate = -1."
        ),
        lambda v: 0.1 < v < 0.2: (
            "Between 0.1 and 0.2 the factor 1 - 10 * rate lies between 0 and -1: w overshoots and "
            "changes sign, but it still shrinks. Go up until the factor reaches -1."
        ),
        lambda v: 0.2 < v <= 1: (
            "That rate does diverge, but the question asks for the boundary: the rate at which the "
            "factor 1 - 10 * rate is exactly -1."
        ),
        lambda v: 0 < v < 0.1: (
            "Below 0.1 the factor 1 - 10 * rate lies between 0 and 1: w shrinks smoothly. "
            "Solve 1 - 10 * rate = -1."
        ),
    },
    otherwise="w grows when |1 - 10 * rate| > 1: solve 1 - 10 * rate = -1 for the rate.",
    explanation=_RATE_EXPLANATION,
)
_with_notes(_diverging_rate, "04.diverging-rate", _RATE_EXPLANATION, "one number")


# ----------------------------------------------------------------------------- 04.sgd-step
def _log_softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _reference_gradients(W, b, images, labels, softmax: bool = True):
    scores = images @ W + b
    p = np.exp(_log_softmax(scores)) if softmax else scores
    p_minus_y = p - np.eye(W.shape[1])[labels]
    return images.T @ p_minus_y / len(images), p_minus_y.mean(axis=0)


def _sgd_cases():
    """Hidden inputs: several batch sizes, numbers of pixels and rates."""
    rng = np.random.default_rng(2024)
    cases = []
    for n, features, rate in ((32, 784, 0.5), (5, 20, 0.1), (1, 12, 2.0), (7, 30, 0.05)):
        W = rng.normal(0, 0.1, (features, 10))
        b = rng.normal(0, 0.1, 10)
        images = rng.uniform(0, 1, (n, features))
        labels = rng.integers(0, 10, n)
        cases.append((W, b, images, labels, rate))
    return cases


def _describe(W, images, labels, rate) -> str:
    return (
        f"W of shape {W.shape}, images of shape {images.shape}, labels of shape {labels.shape}, "
        f"learning_rate={rate}"
    )


def _close(a, b) -> bool:
    """Equal up to float32 rounding: a step computed in float32 is right."""
    return bool(np.allclose(a, b, rtol=1e-4, atol=1e-7))


def _step_factor(change: np.ndarray, reference: np.ndarray) -> float | None:
    """The c with change == c * reference, when there is one."""
    denominator = float((reference * reference).sum())
    if denominator == 0:
        return None
    c = float((change * reference).sum() / denominator)
    return c if _close(change, c * reference) else None


def _empty_body(function) -> bool:
    """True for a function whose body is still only the placeholder (``...`` or ``pass``)."""
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    arguments = code.co_argcount + code.co_kwonlyargcount
    return not code.co_names and code.co_nlocals <= arguments and len(code.co_code) <= 16


@exercise(
    "04.sgd-step",
    explanation=(
        "Compute the gradients on the batch, then step downhill: with p the softmax of "
        "images @ W + b, the weight gradient is images.T @ (p - y_onehot) / len(images) and the "
        "bias gradient is the mean of p - y_onehot over the images; return "
        "W - learning_rate * grad_W, b - learning_rate * grad_b. New arrays, so that the caller's "
        "W and b stay as they were."
    ),
)
def _(sgd_step):
    if not callable(sgd_step):
        return f"Give the function itself, sgd_step (no brackets), not a {type(sgd_step).__name__}."
    for W, b, images, labels, rate in _sgd_cases():
        grad_W, grad_b = _reference_gradients(W, b, images, labels)
        args = [W.copy(), b.copy(), images.copy(), labels.copy()]
        try:
            result = call(sgd_step, *args, rate)
        except NotAttempted:
            if _empty_body(sgd_step):
                raise
            return "Your function returns None: end it with `return new_W, new_b`."
        except AnswerError as exc:
            return f"{str(exc)[:1].upper()}{str(exc)[1:]}."
        if not np.array_equal(args[2], images) or not np.array_equal(args[3], labels):
            return (
                "Your function changed the images or labels it was given; compute new arrays "
                "instead."
            )
        if not np.array_equal(args[0], W) or not np.array_equal(args[1], b):
            return (
                "Your function changed the W or b it was given (`W -= ...` overwrites the caller's "
                "weights): compute new arrays instead, `new_W = W - learning_rate * grad_W`."
            )
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return "Return two things, the new weights and the new bias: `return new_W, new_b`."
        try:
            new_W = np.asarray(result[0], dtype=np.float64)
            new_b = np.asarray(result[1], dtype=np.float64)
        except (TypeError, ValueError):
            return "Return two numpy arrays, the new W and the new b."
        if new_W.shape == b.shape and new_b.shape == W.shape:
            return "Right pieces, wrong order: return the new W first, then the new b."
        if new_W.shape != W.shape:
            return (
                f"The new W must have W's shape {W.shape}, not {new_W.shape} (on input "
                f"{_describe(W, images, labels, rate)})."
            )
        if new_b.shape != b.shape:
            return f"The new b must have b's shape {b.shape}, not {new_b.shape}."
        want_W, want_b = -rate * grad_W, -rate * grad_b
        if _close(new_W, W + want_W) and _close(new_b, b + want_b):
            continue
        if _close(new_W, grad_W) and _close(new_b, grad_b):
            return (
                "You returned the gradients; return the new weights, W - learning_rate * grad_W "
                "and b - learning_rate * grad_b."
            )
        if _close(new_W, want_W) and _close(new_b, want_b):
            return "You returned the step alone; add it to the weights: W - learning_rate * grad_W."
        step_W, step_b = new_W - W, new_b - b
        if _close(step_W, 0) and _close(step_b, 0):
            return "Your W and b did not change: subtract learning_rate times each gradient."
        once_W, once_b = W + want_W, b + want_b
        again_W, again_b = _reference_gradients(once_W, once_b, images, labels)
        if _close(new_W, once_W - rate * again_W) and _close(new_b, once_b - rate * again_b):
            return "You took two steps on the batch; sgd_step takes one."
        raw_W, raw_b = _reference_gradients(W, b, images, labels, softmax=False)
        if _close(new_W, W - rate * raw_W):
            return (
                "p must be probabilities: apply softmax to the scores images @ W + b before "
                "subtracting the one-hot labels."
            )
        factor = _step_factor(step_W, want_W)
        if factor is not None and not math.isclose(factor, 1, rel_tol=1e-4):
            if math.isclose(factor, -1, rel_tol=1e-4):
                return (
                    "You stepped uphill: subtract learning_rate times the gradient (W - rate * "
                    "grad), don't add it."
                )
            if math.isclose(factor, len(images), rel_tol=1e-4) and len(images) > 1:
                return (
                    "Your step is len(images) times too big: the loss is a mean, so divide the "
                    "gradient by the number of images."
                )
            if math.isclose(factor, 1 / rate**2, rel_tol=1e-4):
                return "Multiply the gradient by learning_rate; don't divide by it."
            if math.isclose(factor, 1 / rate, rel_tol=1e-4):
                return "Multiply the gradient by learning_rate before subtracting it."
            if math.isclose(factor, len(images) / 10, rel_tol=1e-4):
                return "Divide by the number of images, len(images), not by the number of classes."
            if math.isclose(factor, len(images) / W.shape[0], rel_tol=1e-4):
                return "Divide by the number of images, len(images), not by the number of pixels."
            return (
                f"Your step for W is {factor:.3g} times the right one (on input "
                f"{_describe(W, images, labels, rate)})."
            )
        if factor is not None:  # W is right, so b is wrong
            if _close(step_b, 0):
                return (
                    "W is right, but b did not change: update the bias too, b - learning_rate * "
                    "grad_b."
                )
            if _close(step_b, -want_b):
                return (
                    "W is right, but b stepped uphill: subtract learning_rate times the bias "
                    "gradient."
                )
            return (
                "W is right, but not b: the bias gradient is the mean of p - y_onehot over the "
                "images."
            )
        return (
            "Your new W is not W - learning_rate * gradient. The weight gradient is "
            f"images.T @ (p - y_onehot) / len(images), with p the softmax of images @ W + b "
            f"(on input {_describe(W, images, labels, rate)})."
        )
    return None
