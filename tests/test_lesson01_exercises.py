"""Lesson 01's exercises: right answers pass, wrong answers of every kind are refused without an
exception (the notebook round trip is in test_exercises.py, for every lesson)."""

import struct

import numpy as np
import pytest
from lesson_exercises import refused

from cnnteach.data import DataError, load_mnist
from cnnteach.exercises import check, list_exercises

LESSON = "01"
IDS = ["01.count-sevens", "01.idx-shape", "01.image-bytes", "01.invert", "01.mean-three"]


@pytest.fixture(scope="module")
def mnist():
    try:
        return load_mnist()
    except DataError as exc:  # only where no copy of MNIST exists at all
        pytest.skip(f"MNIST is not available: {exc}")


def test_the_lesson_registers_exactly_these_exercises():
    assert list_exercises(LESSON) == IDS


# ----------------------------------------------------------------------------- right answers
def idx_shape_with_struct(data):
    return struct.unpack(f">{data[3]}I", data[4 : 4 + 4 * data[3]])


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("01.image-bytes", 47_040_000),
        ("01.image-bytes", np.int64(47_040_000)),
        ("01.image-bytes", 47_040_000.0),
        ("01.count-sevens", 6265),
        ("01.count-sevens", np.int64(6265)),
        ("01.count-sevens", np.array(6265)),
        ("01.invert", lambda image: 255 - image),
        ("01.invert", np.invert),
        ("01.invert", lambda image: (255 - image.astype(int)).astype(np.uint8)),
        (
            "01.idx-shape",
            lambda data: tuple(
                int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(data[3])
            ),
        ),
        ("01.idx-shape", idx_shape_with_struct),
        ("01.idx-shape", lambda data: list(np.frombuffer(data[4 : 4 + 4 * data[3]], dtype=">u4"))),
    ],
)
def test_right_answers_are_accepted(exercise_id, answer):
    feedback = check(exercise_id, answer)
    assert feedback, feedback


def test_mean_three_accepts_any_float_dtype_and_a_list(mnist):
    (x_train, y_train), _ = mnist
    mean = x_train[y_train == 3].mean(axis=0)
    for answer in (
        mean,
        mean.astype(np.float32),
        mean.tolist(),
        np.mean(x_train[y_train == 3], axis=0),
    ):
        assert check("01.mean-three", answer)


# ----------------------------------------------------------------------------- wrong answers
def raises(*args):
    raise RuntimeError("boom")


JUNK = [
    0,
    -1,
    1,
    3.5,
    784,
    float("nan"),
    float("inf"),
    True,
    False,
    1 + 2j,
    "47040000",
    "6265",
    "",
    b"\x00",
    [1, 2, 3],
    [[1, 2], [3]],
    (60000, 28, 28),
    range(3),
    {1, 2},
    {"answer": 6265},
    np.zeros((3, 3)),
    np.zeros((28, 28, 1)),
    np.zeros((2, 28, 28), dtype=np.uint8),
    np.array([]),
    np.array(["a", "b"]),
    np.zeros(28),
    object(),
    lambda *args: 0,
    lambda *args: "x",
    lambda *args: [1],
    lambda *args: args,
    raises,
    print,
    len,
]


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("answer", JUNK, ids=lambda a: type(a).__name__)
def test_junk_is_refused_without_an_exception(exercise_id, answer, mnist):
    refused(exercise_id, answer)


@pytest.mark.parametrize("exercise_id", IDS)
def test_placeholders_are_not_attempted(exercise_id):
    assert check(exercise_id, ...).status == "not attempted"
    assert check(exercise_id, None).status == "not attempted"


@pytest.mark.parametrize(
    "answer, hint",
    [
        (784, "one image"),
        (47_040_000 * 8, "8 bytes per pixel"),
        (47_040_016, "header"),
        (47_040_001, "Count the pixels"),
        ("47040000", "remove the quotes"),
    ],
)
def test_image_bytes_hints(answer, hint):
    assert hint in refused("01.image-bytes", answer).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (1028, "test set"),
        (6742, "how many 1s"),
        (7, "label itself"),
        (6266, "Compare y_train with 7"),
        (6265.5, "whole number"),
    ],
)
def test_count_sevens_hints(answer, hint):
    assert hint in refused("01.count-sevens", answer).message


def test_mean_three_hints(mnist):
    (x_train, y_train), _ = mnist
    mean = x_train[y_train == 3].mean(axis=0)
    assert "0-1 scale" in refused("01.mean-three", mean / 255).message
    assert "average of every digit" in refused("01.mean-three", x_train.mean(axis=0)).message
    assert "fractions" in refused("01.mean-three", np.round(mean)).message
    assert "shape (28, 28)" in refused("01.mean-three", mean[None]).message
    assert "one row" in refused("01.mean-three", mean[0]).message
    assert (
        "Select the images" in refused("01.mean-three", x_train[y_train == 8].mean(axis=0)).message
    )
    assert "Not yet" in repr(refused("01.mean-three", x_train[y_train == 3]))


def mutating_invert(image):
    image[...] = 255 - image
    return image


@pytest.mark.parametrize(
    "function, hint",
    [
        (lambda image: -image, "wraps around"),
        (lambda image: 1 - image / 255, "0 to 255, not 0 to 1"),
        (lambda image: 255 - image.astype(np.int64), "dtype is int64"),
        (lambda image: 255.0 - image, "dtype is float64"),
        (lambda image: image, "every value v becomes 255 - v"),
        (lambda image: (255 - image).ravel(), "keep the shape"),
        (mutating_invert, "changed the image"),
        (lambda image: None, "replace the ..."),
    ],
)
def test_invert_hints(function, hint):
    assert hint in refused("01.invert", function).message


@pytest.mark.parametrize(
    "function, hint",
    [
        (
            lambda data: tuple(
                int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "little") for i in range(data[3])
            ),
            "big-endian",
        ),
        (lambda data: (60000, 28, 28), "data[3]"),
        (
            lambda data: tuple(
                int.from_bytes(data[4 * i : 4 + 4 * i], "big") for i in range(data[3])
            ),
            "start at byte 4",
        ),
        (lambda data: 60000, "tuple of whole numbers"),
        (lambda data: None, "replace the ..."),
    ],
)
def test_idx_shape_hints(function, hint):
    assert hint in refused("01.idx-shape", function).message
