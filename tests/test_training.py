"""cnnteach.training: both recipes train, seeds repeat, callbacks, datasets and labels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cnnteach import training
from cnnteach.training import (
    RECIPES,
    get_recipe,
    make_datasets,
    prepare_images,
    step_clock,
    train,
)

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(80, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=80).astype(np.uint8)
    return x, y


@pytest.mark.parametrize("name", ["blog", "lesson"])
def test_one_short_training_of_each_recipe(name, tiny_data):
    x, y = tiny_data
    recipe = replace(get_recipe(name), batch_size=16) if name == "lesson" else get_recipe(name)
    before = recipe.build().get_weights()  # same seed as train uses below
    run = train(recipe, x, y, epochs=1, validation_split=0.25, log=False)
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(np.isfinite(v[0]) for v in run.history.values())
    assert run.fit_seconds > 0 and len(run.epoch_seconds) == 1
    assert run.model.optimizer.iterations.numpy() > 0
    assert run.model.predict(prepare_images(x[:3], scale=recipe.scale_pixels), verbose=0).shape == (3, 10)
    assert len(before) == len(run.model.get_weights())


def test_train_prints_one_rounded_line_per_epoch(tiny_data, capsys):
    x, y = tiny_data
    train(replace(RECIPES["lesson"], batch_size=40), x, y, epochs=2, validation_split=0.5)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2  loss ") and "val_accuracy 0." in lines[1]
    assert all(len(word) <= 12 for word in lines[1].split())  # rounded numbers, no 0.123456789


def test_same_seed_same_weights(tiny_data):
    x, y = tiny_data
    recipe = replace(RECIPES["lesson"], batch_size=20)
    a = train(recipe, x, y, epochs=1, validation_split=0, seed=3, log=False).model.get_weights()
    b = train(recipe, x, y, epochs=1, validation_split=0, seed=3, log=False).model.get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


class _CountValidationSteps(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.sizes = []

    def on_test_batch_begin(self, batch, logs=None):
        self.sizes.append(batch)


@pytest.mark.parametrize("name, steps", [("blog", 4), ("lesson", 1)])
def test_validation_steps_as_each_recipe_says(name, steps, tiny_data):
    # The 2019 call fit(batch_size=10, validation_split=0.2) validated ten images at a time,
    # as Keras does when not told otherwise; the lesson recipe validates 500 at a time.
    x, y = tiny_data
    recipe = replace(get_recipe(name), batch_size=16) if name == "lesson" else get_recipe(name)
    counter = _CountValidationSteps()
    train(recipe, x, y, epochs=1, validation_split=0.5, log=False, callbacks=[counter])
    assert len(counter.sizes) == steps  # 40 held-out images
    assert (RECIPES["blog"].validation_images_per_step, RECIPES["lesson"].validation_images_per_step) == (10, 500)
    assert replace(RECIPES["blog"], validation_batch_size=40).validation_images_per_step == 40


def test_step_clock_times_steps_not_start_up(tiny_data):
    x, y = tiny_data
    clock = step_clock()
    assert np.isnan(clock.seconds_per_step)  # nothing timed yet
    # 80 images, 16 per step: 5 steps per epoch in calls of 2, 2 and 1 step; the first call of
    # each epoch is left out, so 2 intervals per epoch are timed.
    recipe = replace(RECIPES["lesson"], batch_size=16, steps_per_execution=2)
    run = train(recipe, x, y, epochs=2, validation_split=0, log=False, callbacks=[clock])
    assert len(clock.intervals) == 4 and all(t > 0 for t in clock.intervals)
    assert 0 < clock.seconds_per_step * 5 < run.epoch_seconds[0]  # the first epoch also traced the step
    assert training._steps_covered(1, 3, steps_per_epoch=5) == 2
    assert training._steps_covered(3, 5, steps_per_epoch=5) == 1  # Keras numbers the short last call as full
    assert training._steps_covered(3, 5, steps_per_epoch=None) == 2


def test_make_datasets_splits_like_keras():
    x = prepare_images(np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8))
    train_data, validation_data = make_datasets(x, np.arange(10), 4, validation_split=0.2)
    seen = sorted(int(v) for _, yb in train_data for v in yb.numpy())
    held = [int(v) for _, yb in validation_data for v in yb.numpy()]
    assert seen == list(range(8)) and held == [8, 9]
    assert make_datasets(x, np.arange(10), 4, validation_split=0)[1] is None
    _, validation_data = make_datasets(x, np.arange(10), 4, validation_split=0.5, validation_batch_size=2)
    assert [len(yb) for _, yb in validation_data] == [2, 2, 1]


def test_prepare_images():
    raw = np.full((2, 28, 28), 255, dtype=np.uint8)
    out = prepare_images(raw)
    assert out.shape == (2, 28, 28, 1) and out.dtype == np.float32 and out.max() == 1.0
    assert prepare_images(raw, scale=False).max() == 255.0
    assert prepare_images(raw[..., None]).shape == (2, 28, 28, 1)
    assert prepare_images(raw[0]).shape == (1, 28, 28, 1)
    assert prepare_images(np.zeros((3, 28, 28), np.float64)).dtype == np.float32
    with pytest.raises(ValueError, match="divide by 255"):
        prepare_images(np.full((1, 28, 28), 200.0))
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        prepare_images(np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="numbers"):
        prepare_images(np.array([["a"]]))


def test_bad_labels_and_options(tiny_data):
    x, y = tiny_data
    with pytest.raises(ValueError, match="labels must be"):
        train("lesson", x, y[:5], log=False)
    with pytest.raises(ValueError, match="0 to 9"):
        train("lesson", x, y + 10, log=False)
    with pytest.raises(ValueError, match="epochs"):
        train("lesson", x, y, epochs=0, log=False)
    with pytest.raises(ValueError, match="validation_batch_size must be at least 1, got 0"):
        train(replace(RECIPES["lesson"], validation_batch_size=0), x, y, log=False)
    with pytest.raises(ValueError, match="no recipe called 'fast'"):
        get_recipe("fast")
    with pytest.raises(ValueError, match="schedule"):
        replace(RECIPES["lesson"], schedule="step").optimizer(10)


def test_label_smoothing_trains_on_one_hot_targets(tiny_data):
    blog, lesson = RECIPES["blog"], RECIPES["lesson"]
    assert blog.loss() == "sparse_categorical_crossentropy" and blog.targets([3, 1]).tolist() == [3, 1]
    assert lesson.label_smoothing == 0.1 and lesson.loss().get_config()["label_smoothing"] == 0.1
    targets = lesson.targets(np.array([3, 1], dtype=np.uint8))
    assert targets.dtype == np.float32 and targets.shape == (2, 10) and targets.argmax(axis=1).tolist() == [3, 1]
    np.testing.assert_array_equal(lesson.targets(targets), targets)  # one-hot in, one-hot out
    with pytest.raises(ValueError, match="label_smoothing"):
        replace(lesson, label_smoothing=1.0).loss()
    # Smoothing changes the loss, not the shape of training: same keys, finite values.
    x, y = tiny_data
    run = train(replace(lesson, batch_size=40), x, y, epochs=1, validation_split=0.5, log=False)
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    # The smoothed loss cannot go below the entropy of the smoothed target (0.50 for 0.1 over 10 digits).
    smoothed = np.full(10, 0.01)
    smoothed[0] = 0.91
    assert run.history["loss"][0] > -(smoothed * np.log(smoothed)).sum() > 0.5


def test_datasets_keep_one_hot_targets_and_run_without_autotune():
    x = prepare_images(np.zeros((10, 28, 28), np.uint8))
    train_data, validation_data = make_datasets(x, RECIPES["lesson"].targets(np.arange(10)), 4)
    _, yb = next(iter(train_data))
    assert yb.shape == (4, 10) and yb.dtype.name == "float32"
    assert train_data.options().autotune.enabled is False and validation_data.options().autotune.enabled is False
    with pytest.raises(ValueError, match="labels must be"):
        make_datasets(x, np.zeros((10, 3)), 4)


def test_one_hot_labels_are_accepted(tiny_data):
    x, y = tiny_data
    one_hot = np.eye(10, dtype="float32")[y]
    run = train(replace(RECIPES["lesson"], batch_size=40), x, one_hot, epochs=1, validation_split=0, log=False)
    assert np.isfinite(run.history["loss"][0])




# ----------------------------------------------------------------------------- step budgets and objectives
def _tiny_regressor():
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])


def _mean_squares():
    return keras.losses.MeanSquaredError()


def test_a_recipe_with_its_own_objective_trains_exactly_its_steps():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(20, 8, 8), dtype=np.uint8)
    y = rng.normal(size=(20, 3)).astype("float32")
    recipe = training.Recipe("regress", _tiny_regressor, batch_size=8, steps=7, objective=_mean_squares,
                             steps_per_execution=1)
    assert "7 steps" in repr(recipe)
    run = train(recipe, x, y, validation_split=0.0, log=False)
    assert int(run.model.optimizer.iterations) == 7  # 20 images, 8 per step: the data cycle
    assert set(run.history) == {"loss"} and np.isfinite(run.history["loss"][0])
    # uint8 pixels are scaled by 255, like a float32 (N, H, W, 1) array already in [0, 1]
    again = train(recipe, (x / 255.0).astype("float32")[..., None], y, validation_split=0.0, log=False)
    assert np.allclose(again.model.get_weights()[0], run.model.get_weights()[0], atol=1e-5)
    split = train(replace(recipe, steps=None, epochs=2), x, y, validation_split=0.25, log=False)
    assert int(split.model.optimizer.iterations) == 2 * 2 and "val_loss" in split.history  # 15 images: 2 steps


def test_objective_recipes_check_their_inputs():
    recipe = training.Recipe("regress", _tiny_regressor, batch_size=8, steps=2, objective=_mean_squares)
    x = np.zeros((4, 8, 8), np.uint8)
    with pytest.raises(ValueError, match="one row per image"):
        train(recipe, x, np.zeros((3, 3)), validation_split=0.0, log=False)
    with pytest.raises(ValueError, match="images must be uint8"):
        train(recipe, np.full((4, 8, 8), 300), np.zeros((4, 3)), validation_split=0.0, log=False)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        train(replace(recipe, steps=0), x, np.zeros((4, 3)), validation_split=0.0, log=False)


def test_classifier_recipes_keep_their_path(tiny_data, monkeypatch):
    calls = []
    monkeypatch.setattr(training, "_train_steps", lambda *a, **k: calls.append(1))
    x, y = tiny_data
    train("blog", x[:20], y[:20], epochs=1, validation_split=0.0, log=False)
    assert calls == []  # bit-identical: the blog and lesson recipes never take the step-budget path
