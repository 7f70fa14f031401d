"""Lesson 99's checked exercises accept right answers, refuse wrong ones with hints, never raise."""

import numpy as np
import pytest

from cnnteach.exercise_bank import lesson99
from cnnteach.exercises import check, list_exercises

WRONG_KINDS = ["accuracy", None, ..., 3, {"lr": 0.05}, True, object(), np.array([1, 2])]


def test_lesson_99_has_its_exercises():
    assert set(list_exercises("99")) == {
        "99.predict-classes",
        "99.sgd-learning-rate",
        "99.history-keys",
    }


# ----------------------------------------------------------------------------- predict-classes
def right_predict_classes(model, x):
    return np.argmax(model.predict(x, verbose=0), axis=-1)


@pytest.mark.parametrize(
    "function, hint",
    [
        (lambda model, x: model.predict(x, verbose=0), "largest one in each row"),
        (lambda model, x: np.argmax(model.predict(x), axis=0), "shape (4,)"),
        (lambda model, x: np.max(model.predict(x), axis=-1), "np.argmax, not np.max"),
        (lambda model, x: np.array([3, 0, 9, 3]), "Call model.predict"),
        (lambda model, x: np.argmax(model.predict(x)[::-1], axis=-1), "ROW"),
        (lambda model, x: model.predict_classes(x), "AttributeError"),
    ],
)
def test_predict_classes_refuses_wrong_functions_with_a_hint(function, hint):
    feedback = check("99.predict-classes", function)
    assert not feedback and hint in feedback.message, feedback


def test_predict_classes_accepts_right_functions_and_refuses_the_placeholder():
    assert check("99.predict-classes", right_predict_classes)
    assert check("99.predict-classes", lambda model, x: model.predict(x).argmax(axis=1))
    assert check("99.predict-classes", lambda model, x: None).status == "not attempted"
    for answer in WRONG_KINDS:
        assert not check("99.predict-classes", answer)


def test_the_stub_really_distinguishes_rows_from_columns():
    p = lesson99._PROBABILITIES
    assert p.shape == (4, 10) and not np.array_equal(
        np.argmax(p, axis=-1)[:4], np.argmax(p, axis=0)[:4]
    )


def test_predict_classes_solution_works_on_a_real_keras_model():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(10, activation="softmax")])
    x = np.eye(3, dtype="float32")
    labels = right_predict_classes(model, x)
    assert labels.shape == (3,) and labels.dtype.kind == "i"
    assert np.array_equal(labels, model.predict(x, verbose=0).argmax(axis=-1))


# ----------------------------------------------------------------------------- sgd-learning-rate
def test_sgd_learning_rate():
    keras = pytest.importorskip("keras")
    assert check("99.sgd-learning-rate", keras.optimizers.SGD(learning_rate=0.05, momentum=0.9))
    cases = [
        (keras.optimizers.SGD(learning_rate=0.01, momentum=0.9), "learning_rate=0.05"),
        (keras.optimizers.SGD(learning_rate=0.05), "momentum=0.9"),
        (keras.optimizers.Adam(learning_rate=0.05), "used SGD"),
        ("SGD", "object itself"),
        (0.05, "Keras optimizer"),
    ]
    for answer, hint in cases:
        feedback = check("99.sgd-learning-rate", answer)
        assert not feedback and hint in feedback.message, (answer, feedback)
    for answer in WRONG_KINDS:
        assert not check("99.sgd-learning-rate", answer)


def test_the_old_lr_argument_really_raises_in_keras_3():
    keras = pytest.importorskip("keras")
    with pytest.raises(ValueError, match="lr"):
        keras.optimizers.SGD(lr=0.05, momentum=0.9)


# ----------------------------------------------------------------------------- history-keys
def test_history_keys():
    right = ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert check("99.history-keys", right)
    assert check("99.history-keys", tuple(reversed(right)))
    cases = [
        (["acc", "loss", "val_acc", "val_loss"], "'acc' is the 2019 key"),
        (["accuracy", "loss"], "val_"),
        (["accuracy", "loss", "val_accuracy"], "alphabetically"),
        ("accuracy", "list of strings"),
        ([1, 2], "string"),
    ]
    for answer, hint in cases:
        feedback = check("99.history-keys", answer)
        assert not feedback and hint in feedback.message, (answer, feedback)
    for answer in WRONG_KINDS:
        assert not check("99.history-keys", answer)


def test_history_keys_match_what_keras_records():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(np.zeros((8, 4)), np.zeros(8), validation_split=0.25, epochs=1, verbose=0)
    assert sorted(history.history) == lesson99.HISTORY_KEYS
