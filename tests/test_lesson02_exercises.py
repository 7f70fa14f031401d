"""Lesson 02's exercises: right answers pass, wrong answers of every kind are refused without an
exception (the notebook round trip is in test_exercises.py, for every lesson)."""

import numpy as np
import pytest
from lesson_exercises import refused

from cnnteach.data import DataError, load_mnist
from cnnteach.exercises import check, list_exercises

LESSON = "02"
IDS = ["02.batch-numbers", "02.expand-dims-shape", "02.one-image-batch", "02.prepare"]


@pytest.fixture(scope="module")
def mnist():
    try:
        return load_mnist()
    except DataError as exc:  # only where no copy of MNIST exists at all
        pytest.skip(f"MNIST is not available: {exc}")


@pytest.fixture(scope="module")
def first_test_image(mnist):
    return mnist[1][0][0]


def test_the_lesson_registers_exactly_these_exercises():
    assert list_exercises(LESSON) == IDS


# ----------------------------------------------------------------------------- right answers
@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("02.expand-dims-shape", (5, 1, 28, 28)),
        ("02.expand-dims-shape", [5, 1, 28, 28]),
        ("02.expand-dims-shape", np.array([5, 1, 28, 28])),
        ("02.expand-dims-shape", np.expand_dims(np.zeros((5, 28, 28)), axis=1).shape),
        ("02.batch-numbers", 75264),
        ("02.batch-numbers", np.int64(75264)),
        ("02.prepare", lambda images: images[..., None].astype("float32") / 255),
        (
            "02.prepare",
            lambda images: np.expand_dims(images, -1).astype(np.float32) / np.float32(255),
        ),
        ("02.prepare", lambda images: (images / 255).astype("float32").reshape(*images.shape, 1)),
    ],
)
def test_right_answers_are_accepted(exercise_id, answer):
    feedback = check(exercise_id, answer)
    assert feedback, feedback


def test_one_image_batch_accepts_every_spelling(first_test_image):
    image = first_test_image
    for answer in (
        image[None, ..., None].astype("float32") / 255,
        np.expand_dims(image, (0, -1)).astype(np.float32) / 255,
        (image.astype("float32") / 255).reshape(1, 28, 28, 1),
    ):
        assert check("02.one-image-batch", answer)


# ----------------------------------------------------------------------------- wrong answers
def raises(*args):
    raise RuntimeError("boom")


JUNK = [
    0,
    -1,
    3.5,
    75264.5,
    float("nan"),
    True,
    1 + 2j,
    "(5, 1, 28, 28)",
    "75264",
    "",
    [1, 2, 3],
    [5, 28, 28, 1],
    (1, 28, 28, 1),
    (5, "1", 28, 28),
    ("a",),
    range(4),
    {5, 1},
    {"shape": (5, 1, 28, 28)},
    np.zeros((28, 28)),
    np.zeros((1, 28, 28, 1)),
    np.ones((1, 28, 28, 1), dtype=np.float32),
    np.array([]),
    np.array(["a"]),
    object(),
    b"bytes",
    lambda *args: 0,
    lambda *args: "x",
    lambda *args: args,
    lambda images: images,
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
        ((5, 28, 28, 1), "axis=-1"),
        ((1, 5, 28, 28), "axis=0"),
        ((5, 28, 28), "position 1"),
        ((5, 28, 1, 28), "position 1"),
        ((5, 2, 28, 28), "Start from the shape"),
        (np.zeros((5, 1, 28, 28)), "not a shape"),
        ((None, 1, 28, 28), "the batch here is 5"),
        ("(5, 1, 28, 28)", "tuple"),
    ],
)
def test_expand_dims_shape_hints(answer, hint):
    assert hint in refused("02.expand-dims-shape", answer).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (32 * 28 * 28, "three"),
        (28 * 28 * 3, "32 of them"),
        (32 * 28 * 3, "every axis"),
        (1, "four numbers"),
    ],
)
def test_batch_numbers_hints(answer, hint):
    assert hint in refused("02.batch-numbers", answer).message


def mutating_prepare(images):
    images //= 2
    return images[..., None].astype("float32") / 127.5


@pytest.mark.parametrize(
    "function, hint",
    [
        (lambda images: images[..., None] / 255, "dtype is float64"),
        (lambda images: images[..., None].astype("float32"), "still run from 0 to 255"),
        (
            lambda images: images[..., None].astype("float32") / images.max(),
            "not by the images' own maximum",
        ),
        (lambda images: images[:, None].astype("float32") / 255, "channels-first"),
        (lambda images: images.astype("float32") / 255, "add one channel axis"),
        (lambda images: images[..., None].astype("float32") / 256, "Divide every pixel by 255"),
        (mutating_prepare, "changed the images"),
        (lambda images: None, "replace the ..."),
    ],
)
def test_prepare_hints(function, hint):
    assert hint in refused("02.prepare", function).message


def test_one_image_batch_hints(first_test_image, mnist):
    image = first_test_image
    scaled = image.astype("float32") / 255
    assert "no batch axis" in refused("02.one-image-batch", scaled).message
    assert "no batch axis" in refused("02.one-image-batch", scaled[..., None]).message
    assert "channel axis is missing" in refused("02.one-image-batch", scaled[None]).message
    assert "channels-first" in refused("02.one-image-batch", scaled[None, None]).message
    assert "0 to 255" in refused("02.one-image-batch", image[None, ..., None]).message
    assert "dtype float64" in refused("02.one-image-batch", image[None, ..., None] / 255).message
    other = mnist[1][0][1]
    assert (
        "first test image"
        in refused("02.one-image-batch", other[None, ..., None].astype("float32") / 255).message
    )
    assert (
        "must be (1, 28, 28, 1)" in refused("02.one-image-batch", np.zeros((2, 28, 28, 1))).message
    )
