"""Checkers of lesson 99 (appendix): moving 2019 Keras code to Keras 3."""

from __future__ import annotations

import numpy as np

from cnnteach.exercises import call, exercise, expect_array

# Probabilities a stub model returns for four images: the largest entry of each row is at
# 3, 0, 9, 3, and the largest entry of each COLUMN is elsewhere, so a wrong axis shows.
_PROBABILITIES = np.array(
    [
        [0.02, 0.05, 0.10, 0.40, 0.03, 0.10, 0.10, 0.05, 0.05, 0.10],
        [0.55, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05],
        [0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.90],
        [0.10, 0.10, 0.10, 0.30, 0.10, 0.10, 0.05, 0.05, 0.05, 0.05],
    ],
    dtype="float32",
)


class _StubModel:
    """Stands in for a Keras model: ``predict`` returns fixed probabilities, one row per image."""

    def __init__(self, probabilities):
        self.probabilities = probabilities
        self.calls = 0

    def predict(self, x, batch_size=None, verbose="auto", **kwargs):
        self.calls += 1
        return self.probabilities[: len(x)]

    def __getattr__(self, name):  # predict_classes & co. are gone in Keras 3
        raise AttributeError(f"'Sequential' object has no attribute {name!r}")


@exercise(
    "99.predict-classes",
    explanation=(
        "model.predict gives one row of 10 probabilities per image; np.argmax(..., axis=-1) "
        "picks, in each row, the index of the largest: the predicted digit."
    ),
)
def _(function):
    stub = _StubModel(_PROBABILITIES)
    x = np.zeros((4, 28, 28, 1), dtype="float32")
    result = expect_array(call(function, stub, x))
    if stub.calls == 0:
        return (
            "Call model.predict(x, verbose=0) inside your "
            "function, then turn its probabilities into labels."
        )
    if result.shape == _PROBABILITIES.shape:
        return (
            "That is the probabilities themselves; take the index "
            "of the largest one in each row with np.argmax."
        )
    if result.shape != (4,):
        return (
            "Expected one label per image (shape (4,)), got "
            f"shape {result.shape}; use axis=-1 in np.argmax."
        )
    if result.dtype.kind not in "iu":
        return (
            "Labels are whole numbers (the index of a column), "
            "not probabilities: use np.argmax, not np.max."
        )
    if np.array_equal(result, np.argmax(_PROBABILITIES, axis=-1)):
        return None
    return (
        "Take the largest entry of each ROW (one row per image): np.argmax(probabilities, axis=-1)."
    )


@exercise(
    "99.sgd-learning-rate",
    explanation=(
        "Keras 3 optimizers accept only learning_rate=; the old lr= alias raises ValueError. "
        "momentum= is unchanged: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)."
    ),
)
def _(optimizer):
    import keras

    if isinstance(optimizer, str):
        return "Give the optimizer object itself, e.g. keras.optimizers.SGD(...), not a string."
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        return (
            f"Expected a Keras optimizer, got a {type(optimizer).__name__}; "
            "build one with keras.optimizers.SGD(...)."
        )
    if not isinstance(optimizer, keras.optimizers.SGD):
        return (
            f"That is {type(optimizer).__name__}; the 2019 "
            "line used SGD: keras.optimizers.SGD(...)."
        )
    rate = float(optimizer.learning_rate)
    if not np.isclose(rate, 0.05):
        return f"Its learning rate is {rate:g}; pass learning_rate=0.05 (the new name of lr)."
    if not np.isclose(float(optimizer.momentum), 0.9):
        return (
            f"Its momentum is {float(optimizer.momentum):g}; keep momentum=0.9 from the 2019 line."
        )
    return None


HISTORY_KEYS = ["accuracy", "loss", "val_accuracy", "val_loss"]


@exercise(
    "99.history-keys",
    explanation="Keras records the loss and each metric under "
    "its name ('accuracy', never 'acc'), and the "
    "same again with a 'val_' prefix when there is validation data.",
)
def _(keys):
    if isinstance(keys, str) or not isinstance(keys, (list, tuple)):
        return "Give a list of strings, e.g. ['loss', ...]."
    if not all(isinstance(k, str) for k in keys):
        return "Every key is a string, e.g. 'loss'."
    given = sorted(keys)
    if "acc" in given or "val_acc" in given:
        return "'acc' is the 2019 key; Keras 3 names the metric 'accuracy' (and 'val_accuracy')."
    if not any(k.startswith("val_") for k in given):
        return (
            "validation_split=0.25 adds validation data: Keras "
            "records every key again with a 'val_' prefix."
        )
    if given == HISTORY_KEYS:
        return None
    return (
        "One key for the loss and one per metric, each "
        "once more with 'val_'; sort them alphabetically."
    )
