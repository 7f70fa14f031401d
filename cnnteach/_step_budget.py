"""Training for a step budget or a custom objective: the internals behind train().

A :class:`~cnnteach.training.Recipe` with ``steps`` or an ``objective`` (the detection
recipes) is trained here: uint8 images stay in memory once and are scaled batch by batch,
batches are gathered by index, and ``fit`` runs for exactly the recipe's steps. Lessons call
:func:`~cnnteach.training.train`, never this module.
"""

from __future__ import annotations

import math
import time

import numpy as np

from cnnteach.callbacks import _epoch_clock, epoch_log
from cnnteach.training import Recipe, TrainingRun, _integer_labels, _prepare_for


def _prepare_inputs(recipe: Recipe, images) -> np.ndarray:
    """Images as the recipe's network reads them (uint8 kept, to be scaled batch by batch)."""
    if recipe.objective is None:
        array = np.asarray(images)
        return array if array.dtype == np.uint8 and array.ndim == 3 else _prepare_for(recipe, array)
    array = np.asarray(images)
    if array.dtype.kind == "f" and array.ndim == 4:
        return array.astype("float32", copy=False)
    if (
        array.dtype.kind in "iu"
        and array.ndim in (3, 4)
        and array.size
        and array.min() >= 0
        and array.max() <= 255
    ):
        return array.astype(np.uint8, copy=False)
    raise ValueError(
        f"images must be uint8 pixels 0-255 of shape (N, H, W) or float32 (N, H, W, C), got "
        f"{array.dtype} {array.shape}: pass the canvases' images stacked with np.stack"
    )


def _prepare_targets(recipe: Recipe, targets, n: int) -> np.ndarray:
    if recipe.objective is None:
        return recipe.targets(_integer_labels(targets, n, recipe.classes))
    y = np.asarray(targets)
    if y.dtype.kind not in "biuf" or y.ndim < 1 or y.shape[0] != n:
        raise ValueError(
            f"targets must be numbers with one row per image ({n} rows), got {y.dtype} {y.shape}: "
            "make them with the function that goes with the recipe's loss"
        )
    return y.astype("float32", copy=False)


def _gather_dataset(x, y, batch_size: int, scale: bool, *, seed: int | None, repeat: bool):
    """Batches gathered by index from one in-memory copy; uint8 images scaled batch by batch."""
    import tensorflow as tf

    x_all, y_all = tf.constant(x), tf.constant(y)
    indices = tf.data.Dataset.range(len(x))
    if seed is not None:
        indices = indices.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        indices = indices.repeat()
    indices = indices.batch(batch_size, drop_remainder=repeat)

    def gather(index):
        images = tf.gather(x_all, index)
        if images.dtype == tf.uint8:
            images = tf.cast(images, tf.float32)
            if scale:
                images = images / 255.0
            images = images[..., tf.newaxis]
        return images, tf.gather(y_all, index)

    options = tf.data.Options()
    options.autotune.enabled = False  # its thread competes with training on small machines
    return indices.map(gather).prefetch(2).with_options(options)


def train_steps(
    recipe,
    x_train,
    y_train,
    *,
    model,
    epochs,
    validation_split,
    validation_data,
    seed,
    log,
    callbacks,
) -> TrainingRun:
    """:func:`~cnnteach.training.train` for recipes with a step budget or their own objective."""
    import keras

    x = _prepare_inputs(recipe, x_train)
    y = _prepare_targets(recipe, y_train, len(x))
    if validation_data is None and not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    n_fit = len(x) - (int(len(x) * validation_split) if validation_data is None else 0)
    if n_fit < 1:
        raise ValueError(
            f"validation_split={validation_split} leaves no image to train on: use a value below 1"
        )
    if recipe.steps is not None and int(recipe.steps) < 1:
        raise ValueError(f"the recipe's steps must be at least 1, got {recipe.steps}")
    if validation_data is not None:
        x_val, y_val = validation_data
        x_val = _prepare_inputs(recipe, x_val)
        validation_data = (x_val, _prepare_targets(recipe, y_val, len(x_val)))
    elif n_fit < len(x):
        validation_data = (x[n_fit:], y[n_fit:])
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if model is None:
        model = recipe.build()
    per_epoch = math.ceil(n_fit / recipe.batch_size)
    total_steps = int(recipe.steps) if recipe.steps is not None else per_epoch * epochs
    recipe.compile(model, total_steps)
    clock = _epoch_clock()
    all_callbacks = [clock] + ([epoch_log()] if log else []) + list(callbacks)
    shuffle_seed = 0 if seed is None else seed
    repeat = recipe.steps is not None
    data = dict(
        x=_gather_dataset(
            x[:n_fit],
            y[:n_fit],
            recipe.batch_size,
            recipe.scale_pixels,
            seed=shuffle_seed,
            repeat=repeat,
        ),
        shuffle=False,
    )
    if validation_data is not None:
        data["validation_data"] = _gather_dataset(
            *validation_data,
            recipe.validation_images_per_step,
            recipe.scale_pixels,
            seed=None,
            repeat=False,
        )
    if repeat:
        data.update(epochs=1, steps_per_epoch=total_steps)
    else:
        data.update(epochs=epochs)
    start = time.perf_counter()
    history = model.fit(**data, callbacks=all_callbacks, verbose=0)
    seconds = time.perf_counter() - start
    return TrainingRun(model, dict(history.history), seconds, recipe, list(clock.seconds))
