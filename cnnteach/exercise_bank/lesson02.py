"""Checkers for lesson 02, shapes and scaling.

The solutions live in notebooks/02_shapes_and_scaling.ipynb.
"""

from __future__ import annotations

import functools

import numpy as np

from cnnteach.exercises import (
    call,
    exercise,
    expect_array,
    number_exercise,
    shape_exercise,
)


@functools.lru_cache(maxsize=1)
def _first_test_image() -> np.ndarray:
    from cnnteach.data import load_mnist

    _, (x_test, _) = load_mnist()
    return x_test[0]


# ----------------------------------------------------------------------------- 02.expand-dims-shape
shape_exercise(
    "02.expand-dims-shape",
    (5, 1, 28, 28),
    hints={
        (
            5,
            28,
            28,
            1,
        ): (
            "That is what axis=-1 (or [..., None]) gives; "
            "axis=1 puts the new axis right after the first one."
        ),
        (
            1,
            5,
            28,
            28,
        ): "That is axis=0. Axes are counted from 0, so axis=1 is the second position.",
        (
            5,
            28,
            1,
            28,
        ): "x_test[:5] has shape (5, 28, 28); the new axis of length 1 goes in at position 1.",
        (
            5,
            28,
            28,
        ): "x_test[:5] has shape (5, 28, 28); the new axis of length 1 goes in at position 1.",
    },
    otherwise=(
        "Start from the shape of x_test[:5], then insert "
        "a 1 at position 1 (positions count from 0)."
    ),
    explanation=(
        "expand_dims inserts a new axis of length 1 *at* the position you name. x_test[:5] has "
        "shape (5, 28, 28); a new axis at position 1 gives (5, 1, 28, 28): channels-first, which "
        "is not what Keras expects by default. axis=-1 would give channels-last (5, 28, 28, 1)."
    ),
)

# ----------------------------------------------------------------------------- 02.batch-numbers
number_exercise(
    "02.batch-numbers",
    32 * 28 * 28 * 3,
    integer=True,
    hints={
        32
        * 28
        * 28: "That counts one number per pixel; a colour pixel has three (red, green, blue).",
        28 * 28 * 3: "That is one colour image; the batch holds 32 of them.",
        32 * 28 * 3: "Multiply every axis of the shape (32, 28, 28, 3).",
    },
    otherwise=(
        "Write the batch's shape (batch, height, width, channels) and multiply its four numbers."
    ),
    explanation="Its shape is (32, 28, 28, 3), so it holds 32 * 28 * 28 * 3 = 75,264 numbers.",
)


# ----------------------------------------------------------------------------- 02.prepare
def _cases():
    rng = np.random.default_rng(2)
    dim = rng.integers(0, 120, size=(2, 28, 28), dtype=np.uint8)  # no pixel reaches 255
    return (
        rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8),
        np.full((1, 28, 28), 255, dtype=np.uint8),
        dim,
        np.zeros((3, 5, 7), dtype=np.uint8),
    )


@exercise(
    "02.prepare",
    explanation=(
        "`images[..., None].astype('float32') / 255` adds the channel axis last, converts to "
        "float32, and divides every pixel by the same 255, so that 255 becomes 1.0. Dividing by "
        "each image's own maximum would give the same grey different values in different images."
    ),
)
def _(prepare):
    for case in _cases():
        before = case.copy()
        result = expect_array(call(prepare, case))
        if not np.array_equal(case, before):
            return "Your function changed the images it was given; return a new array instead."
        n, h, w = case.shape
        if result.shape != (n, h, w, 1):
            if result.shape == (n, 1, h, w):
                return "That is channels-first; Keras expects the channel axis last: (N, H, W, 1)."
            return (
                f"For images of shape {case.shape} your function returned "
                f"{result.shape}; add one channel axis at the end."
            )
        want = case[..., None].astype(np.float64) / 255
        if not np.allclose(result, want, atol=1e-6):
            if np.allclose(result, case[..., None]):
                return "The shape is right, but the values still run from 0 to 255: divide by 255."
            if case.max() and np.allclose(result, case[..., None] / case.max(), atol=1e-6):
                return (
                    "Divide by 255, not by the images' own "
                    "maximum: every image must use the same scale."
                )
            return "Divide every pixel by 255 so that 0 stays 0 and 255 becomes 1.0."
        if result.dtype != np.float32:
            return (
                "The values are right, but the dtype is "
                f"{result.dtype}: convert with .astype('float32')."
            )
    return None


# ----------------------------------------------------------------------------- 02.one-image-batch
@exercise(
    "02.one-image-batch",
    explanation=(
        "A model always takes a batch, so one image needs a batch axis in front and a channel "
        "axis behind: `x_test[0][None, ..., "
        "None].astype('float32') / 255` has shape (1, 28, 28, 1)."
    ),
)
def _(answer):
    array = expect_array(answer, dtype_kind="n")
    image = _first_test_image()
    if array.shape in ((28, 28), (28, 28, 1)):
        return (
            f"Shape {array.shape} has no batch axis; a model "
            "expects (batch, 28, 28, 1), here (1, 28, 28, 1)."
        )
    if array.shape == (1, 28, 28):
        return "The batch axis is there, but the channel axis is missing: (1, 28, 28, 1)."
    if array.shape == (1, 1, 28, 28):
        return "That is channels-first; Keras expects the channel axis last: (1, 28, 28, 1)."
    if array.shape != (1, 28, 28, 1):
        return f"The shape must be (1, 28, 28, 1), but yours is {array.shape}."
    want = image[None, ..., None] / 255
    if np.allclose(array, want, atol=1e-6):
        return (
            None
            if array.dtype == np.float32
            else f"Right values, but dtype {array.dtype}: use .astype('float32')."
        )
    if np.allclose(array, image[None, ..., None]):
        return "The values still run from 0 to 255; divide by 255."
    return "Start from x_test[0] (the first test image, a 7), add the two axes, then scale."
