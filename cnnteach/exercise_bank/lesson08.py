"""Checkers for lesson 08 (training)."""

import numpy as np

from cnnteach.exercises import (
    call,
    exercise,
    expect_array,
    expect_number,
    number_exercise,
)

number_exercise(
    "08.steps-per-epoch",
    188,
    hints={
        (
            187.5,
            187,
        ): "The 128 images left over after 187 full steps still get a step of their own: round up.",
        (
            234.375,
            234,
            235,
        ): "With validation_split=0.2 only 48,000 of the 60,000 images are trained on.",
        4800: "That is the 2019 recipe's batch of 10; the course uses 256 images per step.",
        375: "That is 128 images per step; the course's recipe takes 256.",
        564: "That is three epochs; the question asks for one.",
    },
    otherwise="Divide the number of training images by the images per step, and round up.",
    explanation=(
        "48,000 / 256 = 187.5: 187 full steps and a last one with the 128 images left over, "
        "188 in all; in general ceil(images / batch size)."
    ),
)

number_exercise(
    "08.blog-steps",
    48000 // 10 * 3,
    hints={
        4800: "That is one epoch; the 2019 recipe trained for three.",
        18000: "Only 48,000 images are trained on; the 12,000 validation images are not.",
        144000: "10 images per step means 48,000 / 10 = 4,800 steps per epoch.",
    },
    otherwise="Steps per epoch = images / batch size; multiply by the number of epochs.",
    explanation="48,000 / 10 = 4,800 steps per epoch, times 3 epochs = 14,400 steps.",
)

number_exercise(
    "08.first-validation-image",
    48000,
    hints={
        0: "Keras holds out the *last* part of the data, not the first.",
        12000: (
            "12,000 is how many images are held out; they are "
            "the last ones, so where does the block start?"
        ),
        48001: "Indices count from 0: the first held-out image comes right after index 47,999.",
    },
    otherwise=(
        "validation_split=0.2 holds out the last 20 % "
        "of the 60,000 images, in their original order."
    ),
    explanation="Keras holds out the last 20 %: images 48,000 to 59,999, before any shuffling.",
)


@exercise(
    "08.scale-function",
    explanation=(
        "Divide by 255 in floating point and add a channel "
        "axis: (images.astype('float32') / 255)[..., None]."
    ),
)
def _(scale):
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 0, 255
    out = expect_array(call(scale, images.copy()))
    if out.shape == (5, 28, 28):
        return "Add the channel axis: Conv2D expects (N, 28, 28, 1), e.g. with [..., np.newaxis]."
    if out.shape != (5, 28, 28, 1):
        return f"Expected shape (5, 28, 28, 1) for 5 images, got {out.shape}."
    if out.dtype != np.float32:
        return f"Return float32 (half the memory of float64, and what Keras uses), got {out.dtype}."
    if out.max() > 1.0:
        return "The values must lie in [0, 1]: divide by 255."
    if not np.allclose(out[..., 0], images / 255.0, atol=1e-6):
        if np.isin(out, (0.0, 1.0)).all():
            return (
                "Only 0 and 1 are left: integer division (//) drops the fractions; use / on floats."
            )
        return "Each pixel p must become p / 255."
    return None


# Each history also has loss and val_loss, as Keras records them. In the first, the epochs with
# the highest val_accuracy (2), the highest accuracy (4) and the lowest val_loss (3) all differ.
_HISTORIES = [
    (
        {
            "accuracy": [0.9, 0.95, 0.97, 0.98],
            "loss": [0.3, 0.2, 0.1, 0.08],
            "val_accuracy": [0.91, 0.96, 0.95, 0.94],
            "val_loss": [0.3, 0.21, 0.2, 0.25],
        },
        2,
    ),
    (
        {
            "accuracy": [0.8, 0.9],
            "loss": [0.5, 0.3],
            "val_accuracy": [0.97, 0.96],
            "val_loss": [0.12, 0.1],
        },
        1,
    ),
    (
        {
            "accuracy": [0.1, 0.2, 0.3, 0.99],
            "loss": [2.0, 1.5, 1.0, 0.05],
            "val_accuracy": [0.5, 0.6, 0.7, 0.8],
            "val_loss": [1.0, 0.9, 0.4, 0.6],
        },
        4,
    ),
]


@exercise(
    "08.best-epoch",
    explanation="np.argmax(history['val_accuracy']) counts from 0, so add 1.",
)
def _(best_epoch):
    for history, expected in _HISTORIES:
        got = expect_number(
            call(best_epoch, {key: list(values) for key, values in history.items()})
        )
        if got == expected:
            continue
        if got == expected - 1:
            return "Epochs count from 1 in the log; np.argmax counts from 0, so add 1."
        if got == int(np.argmax(history["accuracy"])) + 1:
            return "Use the validation accuracy (val_accuracy), not the training accuracy."
        if got == int(np.argmin(history["val_loss"])) + 1:
            return (
                "That is the epoch with the lowest val_loss; the "
                "question asks for the highest val_accuracy "
                "(the two often agree, but not always)."
            )
        return (
            f"For val_accuracy {history['val_accuracy']} the "
            f"best epoch is {expected}, you returned {got:g}."
        )
    return None


number_exercise(
    "08.smoothed-target",
    1 * (1 - 0.2) + 0.2 / 10,
    tolerance=1e-6,
    hints={
        0.8: (
            "The 0.2 is spread over all ten digits, the right "
            "one included: add its share, 0.2 / 10, back."
        ),
        0.02: "0.02 is what each wrong digit gets; the right digit keeps most of its 1.",
        0.91: "0.91 is the target for label_smoothing=0.1; redo it with 0.2.",
        lambda v: v > 1 or v < 0: "A target is a probability, between 0 and 1.",
    },
    otherwise="Take the one-hot 1, multiply by (1 - 0.2), then add 0.2 / 10.",
    explanation="The one-hot 1 keeps 1 - 0.2 = 0.8, and every digit, "
    "the right one included, gets 0.2 / 10 = 0.02: "
    "0.8 + 0.02 = 0.82 (each wrong digit gets 0.02).",
)
