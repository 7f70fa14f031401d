"""Checkers for the lesson "How a network learns".

The solutions live in notebooks/04_how_a_network_learns.ipynb.
"""

from __future__ import annotations

import math

import numpy as np

from cnnteach.exercises import NotAttempted, exercise, expect_number


def _close(value: float, target: float, tol: float = 5e-4) -> bool:
    return math.isclose(value, target, rel_tol=0, abs_tol=tol)


def _rounded_too_far(value: float, target: float) -> bool:
    """A right value rounded to fewer than three decimals (e.g. -0.58 for -0.5833)."""
    return any(round(target, digits) == round(value, digits) == value for digits in (1, 2))


# ----------------------------------------------------------------------------- 04.dense-params
_INPUTS, _HIDDEN, _CLASSES = 784, 64, 10
_FIRST = _INPUTS * _HIDDEN + _HIDDEN
_SECOND = _HIDDEN * _CLASSES + _CLASSES


@exercise(
    "04.dense-params",
    explanation=(
        "Each Dense layer has (inputs x neurons) weights plus one bias per neuron: the first "
        "784 * 64 + 64 = 50,240, the second reads the 64 hidden outputs, 64 * 10 + 10 = 650; "
        "50,890 in all. ReLU and softmax have no parameters."
    ),
)
def _(answer):
    value = expect_number(answer, integer=True)
    total = _FIRST + _SECOND
    if value == total:
        return None
    if value == _INPUTS * _HIDDEN + _HIDDEN * _CLASSES:
        return "You counted the weights but not the biases: every neuron also has one bias."
    if value in (total - _HIDDEN, total - _CLASSES):
        return "One layer is missing its biases: every neuron of both layers has one bias."
    if value == _FIRST:
        return (
            "That is the first layer only; add the Dense(10) "
            "layer, which reads the 64 hidden outputs."
        )
    if value == _SECOND:
        return "That is the second layer only; add the Dense(64) layer, which reads the 784 pixels."
    if value == _FIRST + _INPUTS * _CLASSES + _CLASSES:
        return "The Dense(10) layer reads the 64 outputs of the hidden layer, not the 784 pixels."
    if value == _INPUTS * _CLASSES + _CLASSES:
        return (
            "That is a single Dense(10) on the pixels; this "
            "network has a hidden layer of 64 neurons first."
        )
    if value in (total + _HIDDEN, total + _CLASSES, total + _HIDDEN + _CLASSES):
        return (
            "Activations such as ReLU and softmax have no "
            "parameters; count only weights and biases."
        )
    return (
        "Count each layer as (inputs x neurons) weights "
        "plus one bias per neuron, then add the two layers."
    )


# ---------------------------------------------------------------------------- 04.predict-grad-shape
@exercise(
    "04.predict-grad-shape",
    explanation=(
        "images.T is (784, 32) and p - y_onehot is (32, 10), so the product is (784, 10): one "
        "number per weight, the shape of W. The batch size disappears in the sum over images."
    ),
)
def _(answer):
    if isinstance(answer, np.ndarray) or not isinstance(answer, (tuple, list)):
        return f"Give the shape as a tuple such as (2, 3), not a {type(answer).__name__}."
    shape = tuple(int(expect_number(v, integer=True)) for v in answer)
    if shape == (784, 10):
        return None
    if shape == (10, 784):
        return (
            "Rows first: images.T has 784 rows, so the "
            "gradient has the shape of W, (pixels, classes)."
        )
    if shape == (32, 10):
        return "That is the shape of p - y_onehot; multiplying by images.T sums over the 32 images."
    if shape in ((32, 784), (784, 32)):
        return (
            "That is the shape of the images (or their transpose); "
            "the product with p - y_onehot has one entry per weight."
        )
    if shape == (10,):
        return (
            "That is the shape of the bias gradient; the "
            "weight gradient has one entry per weight of W."
        )
    return (
        "(a, b) @ (b, c) has shape (a, c): work it out from "
        "images.T, (784, 32), and p - y_onehot, (32, 10)."
    )


# ----------------------------------------------------------------------------- 04.gradient-by-hand
_X_TINY = np.array([[1.0, 0.5], [0.2, 2.0]])
_LABELS_TINY = np.array([0, 2])


def _tiny_gradient(pixel: int, cls: int, divide_by: float = 2.0, sign: float = 1.0) -> float:
    p_minus_y = np.full((2, 3), 1 / 3) - np.eye(3)[_LABELS_TINY]
    return float(sign * (_X_TINY[:, pixel] * p_minus_y[:, cls]).sum() / divide_by)


@exercise(
    "04.gradient-by-hand",
    explanation=(
        "All scores are 0, so p = 1/3 for every class. For class 2, p - y is 1/3 for the first "
        "image (label 0) and 1/3 - 1 = -2/3 for the second (label 2). Pixel 1 is 0.5 and 2.0: "
        "(0.5 * 1/3 + 2.0 * (-2/3)) / 2 = -0.583. Negative: raising this weight lowers the loss."
    ),
)
def _(answer):
    value = expect_number(answer)
    right = _tiny_gradient(1, 2)
    if _close(value, right):
        return None
    if _rounded_too_far(value, right):
        return f"Right idea: give at least 3 decimals ({value} is rounded too far to check)."
    if _close(value, -right, 5e-3):
        return "The sign is flipped: the gradient uses p - y (probability minus label), not y - p."
    if _close(value, _tiny_gradient(1, 2, divide_by=1), 5e-3):
        return (
            "That is the sum over the two images; the loss "
            "is their mean, so divide by n = 2 images."
        )
    if _close(value, _tiny_gradient(1, 2, divide_by=3), 5e-3):
        return "You divided by 3, the number of classes; divide by n, the number of images (2)."
    if _close(value, _tiny_gradient(1, 2, divide_by=4), 5e-3):
        return "You divided by 4; the mean over the batch divides by the number of images only, 2."
    if _close(value, _tiny_gradient(0, 2), 5e-3):
        return (
            "That is the weight from pixel 0; W_tiny[1, 2] "
            "multiplies pixel 1, the second column of X_tiny."
        )
    for cls in (0, 1):
        if _close(value, _tiny_gradient(1, cls), 5e-3):
            return f"That is the gradient for class {cls}; W_tiny[1, 2] feeds the score of class 2."
    return (
        "For each image take pixel 1 times (p - y) for class 2, with p = 1/3 and y = 1 only for "
        "the image whose label is 2; then average over the two images."
    )


# ----------------------------------------------------------------------------- 04.diverging-rate
@exercise(
    "04.diverging-rate",
    explanation=(
        "w grows when |1 - 10 * rate| > 1. For a positive rate that means 1 - 10 * rate < -1, "
        "so rate > 0.2: two divided by the curvature 10. At exactly 0.2 w flips sign forever "
        "without growing; at 0.1 one step lands on the minimum."
    ),
)
def _(answer):
    value = expect_number(answer)
    if _close(value, 0.2):
        return None
    if value <= 0:
        return (
            "A learning rate is positive: a negative one steps "
            "uphill. Find where the factor 1 - 10 * rate passes -1."
        )
    if _close(value, 0.1):
        return (
            "At 0.1 the factor is 0: one step lands exactly on the minimum. Larger rates overshoot "
            "but still shrink w until the factor passes -1."
        )
    if _close(value, 0.4):
        return "The factor uses the gradient 10w, not the 5 in the loss: solve 1 - 10 * rate = -1."
    if _close(value, 2.0) or _close(value, 1.0):
        return (
            "Check the factor at your rate: at 0.25 it is "
            "already -1.5, so w grows. Solve 1 - 10 * rate = -1."
        )
    if 0.1 < value < 0.2:
        return (
            f"At {value:g} the factor 1 - 10 * rate is "
            f"{1 - 10 * value:+.2f}: w overshoots and changes sign, "
            "but it still shrinks. Go up until the factor reaches -1."
        )
    if 0.2 < value <= 1:
        return (
            f"{value:g} does diverge, but the question "
            "asks for the boundary: the rate at which the "
            "factor 1 - 10 * rate is exactly -1."
        )
    if value < 0.1:
        return (
            f"At {value:g} the factor is {1 - 10 * value:+.2f}, between "
            "0 and 1: w shrinks smoothly. Solve 1 - 10 * rate = -1."
        )
    return "w grows when |1 - 10 * rate| > 1: solve 1 - 10 * rate = -1 for the rate."


# ----------------------------------------------------------------------------- 04.sgd-step
def _log_softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _reference_gradients(W, b, images, labels):
    p_minus_y = np.exp(_log_softmax(images @ W + b)) - np.eye(W.shape[1])[labels]
    return images.T @ p_minus_y / len(images), p_minus_y.mean(axis=0)


def _sgd_cases():
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


def _step_factor(change: np.ndarray, reference: np.ndarray) -> float | None:
    """The c with change == c * reference, when there is one."""
    denominator = float((reference * reference).sum())
    if denominator == 0:
        return None
    c = float((change * reference).sum() / denominator)
    return c if np.allclose(change, c * reference, rtol=1e-6, atol=1e-9) else None


@exercise(
    "04.sgd-step",
    explanation=(
        "Compute the gradients on the batch, then step downhill: "
        "`grad_W, grad_b = gradients(W, b, images, labels)` and "
        "`return W - learning_rate * grad_W, b - "
        "learning_rate * grad_b`, where the weight gradient "
        "is images.T @ (p - y_onehot) / len(images) and "
        "the bias gradient is the mean of p - y_onehot."
    ),
)
def _(sgd_step):
    if not callable(sgd_step):
        return f"Give the function itself, sgd_step (no brackets), not a {type(sgd_step).__name__}."
    for W, b, images, labels, rate in _sgd_cases():
        grad_W, grad_b = _reference_gradients(W, b, images, labels)
        args = [W.copy(), b.copy(), images.copy(), labels.copy()]
        try:
            result = sgd_step(*args, rate)
        except Exception as exc:  # noqa: BLE001 (the learner's bug, reported with its input)
            return (
                f"Your function raised {type(exc).__name__}: {str(exc).strip()} "
                f"on input {_describe(W, images, labels, rate)}."
            )
        if result is None or result is ...:
            raise NotAttempted(
                "Your function returns None: replace the ... in its body, then run the cell again."
            )
        if not np.array_equal(args[2], images) or not np.array_equal(args[3], labels):
            return (
                "Your function changed the images or labels "
                "it was given; compute new arrays instead."
            )
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return "Return two things, the new weights and the new bias: `return new_W, new_b`."
        try:
            new_W = np.asarray(result[0], dtype=np.float64)
            new_b = np.asarray(result[1], dtype=np.float64)
        except (TypeError, ValueError):
            return "Return two numpy arrays, the new W and the new b."
        if new_W.shape != W.shape:
            return (
                f"The new W must have W's shape {W.shape}, not {new_W.shape} "
                f"(on input {_describe(W, images, labels, rate)})."
            )
        if new_b.shape != b.shape:
            return f"The new b must have b's shape {b.shape}, not {new_b.shape}."
        step_W, step_b = new_W - W, new_b - b
        want_W, want_b = -rate * grad_W, -rate * grad_b
        if np.allclose(new_W, W + want_W, rtol=1e-6, atol=1e-9) and np.allclose(
            new_b, b + want_b, rtol=1e-6, atol=1e-9
        ):
            continue
        if np.allclose(step_W, 0) and np.allclose(step_b, 0):
            return "Your W and b did not change: subtract learning_rate times each gradient."
        factor = _step_factor(step_W, want_W)
        if factor is not None and not math.isclose(factor, 1, rel_tol=1e-6):
            if math.isclose(factor, -1, rel_tol=1e-6):
                return (
                    "You stepped uphill: subtract learning_rate times "
                    "the gradient (W - rate * grad), don't add it."
                )
            if math.isclose(factor, len(images), rel_tol=1e-6) and len(images) > 1:
                return (
                    "Your step is len(images) times too big: the loss is a "
                    "mean, so divide the gradient by the number of images."
                )
            if math.isclose(factor, 1 / rate, rel_tol=1e-6):
                return "Multiply the gradient by learning_rate before subtracting it."
            if math.isclose(factor, len(images) / 10, rel_tol=1e-6):
                return "Divide by the number of images, len(images), not by the number of classes."
            if math.isclose(factor, len(images) / W.shape[0], rel_tol=1e-6):
                return "Divide by the number of images, len(images), not by the number of pixels."
            return (
                f"Your step for W is {factor:.3g} times the right one "
                f"(on input {_describe(W, images, labels, rate)})."
            )
        if factor is not None:  # W is right, so b is wrong
            if np.allclose(step_b, 0):
                return (
                    "W is right, but b did not change: update "
                    "the bias too, b - learning_rate * grad_b."
                )
            if np.allclose(step_b, -want_b):
                return (
                    "W is right, but b stepped uphill: subtract "
                    "learning_rate times the bias gradient."
                )
            return (
                "W is right, but not b: the bias gradient is "
                "the mean of p - y_onehot over the images."
            )
        return (
            "Your new W is not W - learning_rate * gradient. The weight gradient is "
            f"images.T @ (p - y_onehot) / len(images), with p the softmax of images @ W + b "
            f"(on input {_describe(W, images, labels, rate)})."
        )
    return None
