"""Lesson 08's checked exercises accept right answers and refuse wrong ones without raising."""

import numpy as np
import pytest
from lesson_exercises import accepts_right_refuses_wrong

from cnnteach.exercises import check, list_exercises

WRONG_KINDS = ["188", None, ..., [188], {"n": 1}, True, float("nan"), object(), lambda: 1]


def test_lesson_07_has_its_exercises():
    assert set(list_exercises("08")) == {
        "08.steps-per-epoch",
        "08.blog-steps",
        "08.first-validation-image",
        "08.scale-function",
        "08.best-epoch",
        "08.smoothed-target",
    }


@pytest.mark.parametrize(
    "exercise_id, right, wrong",
    [
        (
            "08.steps-per-epoch",
            [188, 188.0, np.int64(188)],
            [187, 187.5, 235, 234.375, 4800, 375, 564, 189, 0],
        ),
        ("08.blog-steps", [14400, np.float32(14400)], [4800, 18000, 144000, 14401]),
        ("08.first-validation-image", [48000], [0, 12000, 48001, 47999, 59999]),
        (
            "08.smoothed-target",
            [0.82, np.float32(0.82), 1 - 0.2 + 0.2 / 10],
            [0.8, 0.02, 0.91, 0.9, 1, 1.5, -0.1],
        ),
    ],
)
def test_number_exercises(exercise_id, right, wrong):
    accepts_right_refuses_wrong(exercise_id, right, wrong + WRONG_KINDS)


def test_hints_teach():
    assert "validation_split" in check("08.steps-per-epoch", 235).message
    assert "round up" in check("08.steps-per-epoch", 187.5).message
    assert "right one included" in check("08.smoothed-target", 0.8).message
    assert "three" in check("08.blog-steps", 4800).message
    assert "last" in check("08.first-validation-image", 0).message


def test_scale_function():
    assert check("08.scale-function", lambda x: (x.astype("float32") / 255.0)[..., np.newaxis])
    assert check(
        "08.scale-function", lambda x: np.expand_dims(x / np.float32(255), -1).astype("float32")
    )
    wrong = {
        "channel": lambda x: x.astype("float32") / 255.0,
        "float32": lambda x: (x / 255.0)[..., None],
        "255": lambda x: x.astype("float32")[..., None],
        "//": lambda x: (x // 255).astype("float32")[..., None],
    }
    for word, function in wrong.items():
        feedback = check("08.scale-function", function)
        assert not feedback and word in feedback.message, (word, feedback)
    assert check("08.scale-function", lambda x: ...).status == "not attempted"


def test_best_epoch():
    assert check("08.best-epoch", lambda h: int(np.argmax(h["val_accuracy"])) + 1)
    assert "add 1" in check("08.best-epoch", lambda h: int(np.argmax(h["val_accuracy"]))).message
    assert (
        "val_accuracy"
        in check("08.best-epoch", lambda h: int(np.argmax(h["accuracy"])) + 1).message
    )
    assert not check("08.best-epoch", lambda h: len(h["val_accuracy"]))


def test_best_epoch_by_lowest_val_loss_gets_a_hint_not_a_key_error():
    feedback = check("08.best-epoch", lambda h: int(np.argmin(h["val_loss"])) + 1)
    assert (
        not feedback
        and "lowest val_loss" in feedback.message
        and "KeyError" not in feedback.message
    )
    assert not check("08.best-epoch", lambda h: int(np.argmin(h["val_loss"])))
    assert not check("08.best-epoch", lambda h: int(np.argmin(h["loss"])) + 1)
    missing = check("08.best-epoch", lambda h: int(np.argmax(h["val_acc"])) + 1)  # the 2019 key
    assert not missing and missing.message.startswith(
        "Your function raised KeyError: 'val_acc' on input"
    )
