"""Checkers for lesson 01, pixels as numbers.

The solutions live in notebooks/01_pixels_as_numbers.ipynb.
"""

from __future__ import annotations

import functools
import struct

import numpy as np

from cnnteach.exercises import call, exercise, expect_array, number_exercise

#: Facts of the canonical MNIST files (cnnteach.data verifies every byte against the published MD5).
TRAIN_IMAGES = 60000
IMAGE_SIDE = 28
SEVENS_IN_TRAIN = 6265
SEVENS_IN_TEST = 1028
TRAIN_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)


@functools.lru_cache(maxsize=1)
def _mnist():
    from cnnteach.data import load_mnist

    return load_mnist()


@functools.lru_cache(maxsize=1)
def _mean_three() -> np.ndarray:
    (x_train, y_train), _ = _mnist()
    return x_train[y_train == 3].mean(axis=0)


# ----------------------------------------------------------------------------- 01.image-bytes
_PIXELS = TRAIN_IMAGES * IMAGE_SIDE * IMAGE_SIDE

number_exercise(
    "01.image-bytes",
    _PIXELS,
    integer=True,
    hints={
        IMAGE_SIDE * IMAGE_SIDE: "That is one image; x_train holds 60,000 of them.",
        **{
            _PIXELS * n: f"That is {n} bytes per pixel; a uint8 takes exactly one byte."
            for n in (8, 4, 2)
        },
        _PIXELS
        + 16: "That is the size of the IDX file, header included; the array holds only the pixels.",
    },
    otherwise=(
        "Count the pixels (images x rows x columns), then ask how many bytes one uint8 pixel takes."
    ),
    explanation=(
        "Each pixel is a uint8, one byte, and there are 60,000 images of 28 x 28 pixels: "
        "60000 * 28 * 28 = 47,040,000 bytes, about 45 MiB. The IDX file holds exactly these "
        "bytes after its 16-byte header."
    ),
)

# ----------------------------------------------------------------------------- 01.count-sevens
number_exercise(
    "01.count-sevens",
    SEVENS_IN_TRAIN,
    integer=True,
    hints={
        SEVENS_IN_TEST: "That is the number of 7s in the test set; count them in y_train.",
        **{
            count: f"That is how many {digit}s there are; compare y_train with 7."
            for digit, count in enumerate(TRAIN_COUNTS)
            if digit != 7
        },
        7: (
            "7 is the label itself; count the images whose "
            "label equals 7, e.g. with np.sum(y_train == 7)."
        ),
    },
    otherwise="Compare y_train with 7 and count the True values, e.g. with np.sum.",
    explanation=(
        "`np.sum(y_train == 7)` counts them (a comparison gives True/False, and True counts as 1)."
    ),
)


# ----------------------------------------------------------------------------- 01.mean-three
@exercise(
    "01.mean-three",
    explanation=(
        "Select the threes with a Boolean mask, then average over the first axis (the images): "
        "`x_train[y_train == 3].mean(axis=0)`."
    ),
)
def _(answer):
    array = expect_array(answer, dtype_kind="n")
    if array.shape == (IMAGE_SIDE,):
        return (
            "That is one row; average over the images (axis=0) so that all 28 x 28 pixels remain."
        )
    if array.shape != (IMAGE_SIDE, IMAGE_SIDE):
        return (
            "The average image has shape (28, 28), but yours "
            f"has shape {array.shape}: average over axis 0 only."
        )
    want = _mean_three()
    if np.allclose(array, want, atol=1e-3):
        return None
    (x_train, _), _ = _mnist()
    if np.allclose(array * 255, want, atol=1e-2):
        return "Your image is on the 0-1 scale; keep the original 0-255 pixel values."
    if np.allclose(array, x_train.mean(axis=0), atol=1e-3):
        return (
            "That is the average of every digit; keep only "
            "the images whose label is 3 (y_train == 3)."
        )
    if np.allclose(array, np.floor(want)) or np.allclose(array, np.round(want)):
        return "Keep the fractions: the mean of whole numbers need not be a whole number."
    return "Select the images whose label is 3, then take the mean over axis 0 (the image axis)."


# ----------------------------------------------------------------------------- 01.invert
_INVERT_CASES = (
    np.array([[0, 255], [128, 1]], dtype=np.uint8),
    np.arange(256, dtype=np.uint8).reshape(16, 16),
    np.random.default_rng(1).integers(0, 256, size=(28, 28), dtype=np.uint8),
    np.random.default_rng(2).integers(0, 256, size=(3, 28, 28), dtype=np.uint8),
)


@exercise(
    "01.invert",
    explanation=(
        "`255 - image` maps 0 to 255 and 255 to 0 and stays uint8. Beware `-image`: uint8 "
        "arithmetic wraps around, so -1 becomes 255 and every value is off by one."
    ),
)
def _(invert):
    for case in _INVERT_CASES:
        before = case.copy()
        result = expect_array(call(invert, case))
        if not np.array_equal(case, before):
            return "Your function changed the image it was given; return a new array instead."
        if result.shape != case.shape:
            return (
                f"For an image of shape {case.shape} your function "
                f"returned shape {result.shape}; keep the shape."
            )
        want = 255 - case.astype(np.int64)
        if not np.array_equal(result.astype(np.int64), want):
            if np.array_equal(result.astype(np.int64), (-case.astype(np.int64)) % 256):
                return (
                    "-image wraps around in uint8 (0 stays 0, 1 "
                    "becomes 255); subtract from 255 instead."
                )
            if np.allclose(result, 1 - case / 255) or np.allclose(
                result, 1 - case.astype(np.int64)
            ):
                return "These pixels run from 0 to 255, not 0 to 1: subtract from 255."
            return (
                "Black (0) must become white (255) and white black; every value v becomes 255 - v."
            )
        if result.dtype != np.uint8:
            return (
                "The values are right, but the dtype is "
                f"{result.dtype}; return uint8 like the input."
            )
    return None


# ----------------------------------------------------------------------------- 01.idx-shape
def _header(*dims, code=0x08) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


_IDX_CASES = (
    (_header(60000, 28, 28) + bytes(40), (60000, 28, 28)),
    (_header(60000) + bytes([5, 0, 4, 1]), (60000,)),
    (_header(10000, 28, 28), (10000, 28, 28)),
    (_header(2, 3) + bytes(6), (2, 3)),
    (_header(3, 300, 70000, 2) + bytes(12), (3, 300, 70000, 2)),
)


@exercise(
    "01.idx-shape",
    explanation=(
        "Byte 3 of the magic number is the number of dimensions n; then come n sizes, each 4 "
        "bytes, big-endian: `tuple(int.from_bytes(data[4 + "
        "4*i : 8 + 4*i], 'big') for i in range(data[3]))`."
    ),
)
def _(idx_shape):
    for data, want in _IDX_CASES:
        result = call(idx_shape, data)
        try:
            got = tuple(int(v) for v in result)
        except TypeError:
            return (
                "Return a tuple of whole numbers, like (60000, 28, "
                f"28); yours returned a {type(result).__name__}."
            )
        if got == want:
            continue
        little = tuple(
            int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "little") for i in range(len(want))
        )
        if got == little:
            return (
                "IDX sizes are big-endian (most significant "
                "byte first): use int.from_bytes(..., 'big')."
            )
        if len(got) != len(want):
            return (
                f"For a header with {len(want)} dimension(s) you returned {len(got)} numbers: "
                f"read how many sizes follow from byte 3 (data[3])."
            )
        return (
            f"For a file of shape {want} you returned {got}: "
            "the sizes start at byte 4, four bytes each."
        )
    return None
