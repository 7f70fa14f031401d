"""Checkers for lesson 07 (training)."""

import numpy as np

from cnnteach.exercises import call, exercise, expect_array, expect_number


@exercise(
    "07.steps-per-epoch",
    "How many steps is one epoch of 48,000 training images with 256 images per step?",
    explanation="48,000 / 256 = 187.5: 187 full steps and a last one with the 128 images left over, "
    "188 in all; in general ceil(images / batch size).",
)
def _(answer):
    value = expect_number(answer)
    if value == 188:
        return None
    if value in (187.5, 187):
        return "The 128 images left over after 187 full steps still get a step of their own: round up."
    if value in (234.375, 234, 235):
        return "With validation_split=0.2 only 48,000 of the 60,000 images are trained on."
    if value == 4800:
        return "That is the 2019 recipe's batch of 10; the course uses 256 images per step."
    if value == 375:
        return "That is 128 images per step; the course's recipe takes 256."
    if value == 564:
        return "That is three epochs; the question asks for one."
    return "Divide the number of training images by the images per step, and round up."


@exercise(
    "07.blog-steps",
    "How many gradient steps did the 2019 recipe take in total: 48,000 images, 10 per step, 3 epochs?",
    explanation="48,000 / 10 = 4,800 steps per epoch, times 3 epochs = 14,400 steps.",
)
def _(answer):
    value = expect_number(answer)
    if value == 14400:
        return None
    if value == 4800:
        return "That is one epoch; the 2019 recipe trained for three."
    if value == 18000:
        return "Only 48,000 images are trained on; the 12,000 validation images are not."
    if value == 144000:
        return "10 images per step means 48,000 / 10 = 4,800 steps per epoch."
    return "Steps per epoch = images / batch size; multiply by the number of epochs."


@exercise(
    "07.first-validation-image",
    "fit(validation_split=0.2) on 60,000 images: what is the index of the first held-out image?",
    explanation="Keras holds out the last 20 %: images 48,000 to 59,999, before any shuffling.",
)
def _(answer):
    value = expect_number(answer)
    if value == 48000:
        return None
    if value == 0:
        return "Keras holds out the *last* part of the data, not the first."
    if value == 12000:
        return "12,000 is how many images are held out; they are the last ones, so where does the block start?"
    if value == 48001:
        return "Indices count from 0: the first held-out image comes right after index 47,999."
    return "validation_split=0.2 holds out the last 20 % of the 60,000 images, in their original order."


@exercise(
    "07.scale-function",
    "Write scale(images): uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1].",
    explanation="Divide by 255 in floating point and add a channel axis: (images.astype('float32') / 255)[..., None].",
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
            return "Only 0 and 1 are left: integer division (//) drops the fractions; use / on floats."
        return "Each pixel p must become p / 255."
    return None


@exercise(
    "07.best-epoch",
    "Write best_epoch(history): the epoch (from 1) with the highest val_accuracy.",
    explanation="np.argmax(history['val_accuracy']) counts from 0, so add 1.",
)
def _(best_epoch):
    cases = [
        ({"accuracy": [0.9, 0.95, 0.97], "val_accuracy": [0.91, 0.96, 0.95]}, 2),
        ({"accuracy": [0.8, 0.9], "val_accuracy": [0.97, 0.96]}, 1),
        ({"accuracy": [0.1, 0.2, 0.3, 0.99], "val_accuracy": [0.5, 0.6, 0.7, 0.8]}, 4),
    ]
    for history, expected in cases:
        got = expect_number(call(best_epoch, history))
        if got == expected:
            continue
        if got == expected - 1:
            return "Epochs count from 1 in the log; np.argmax counts from 0, so add 1."
        if got == int(np.argmax(history["accuracy"])) + 1:
            return "Use the validation accuracy (val_accuracy), not the training accuracy."
        return f"For val_accuracy {history['val_accuracy']} the best epoch is {expected}, you returned {got:g}."
    return None


@exercise(
    "07.smoothed-target",
    "With label_smoothing=0.2 and ten digits, what target does the loss give the right digit?",
    explanation="The one-hot 1 keeps 1 - 0.2 = 0.8, and every digit, the right one included, gets 0.2 / 10 = 0.02: "
    "0.8 + 0.02 = 0.82 (each wrong digit gets 0.02).",
)
def _(answer):
    value = expect_number(answer)
    if abs(value - 0.82) < 1e-6:
        return None
    if abs(value - 0.8) < 1e-6:
        return "The 0.2 is spread over all ten digits, the right one included: add its share, 0.2 / 10, back."
    if abs(value - 0.02) < 1e-6:
        return "0.02 is what each wrong digit gets; the right digit keeps most of its 1."
    if abs(value - 0.91) < 1e-6:
        return "0.91 is the target for label_smoothing=0.1; redo it with 0.2."
    if value > 1 or value < 0:
        return "A target is a probability, between 0 and 1."
    return "Take the one-hot 1, multiply by (1 - 0.2), then add 0.2 / 10."
