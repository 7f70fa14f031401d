"""cnnteach.models: the 2019 network pinned layer by layer, both recipes train, models round-trip."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from cnnteach import models
from cnnteach.models import (RECIPES, ModelFileError, blog_model, default_model_path, get_recipe, lesson_model,
                             load_trained_model, make_datasets, prepare_images, save_model, step_clock, train)

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(80, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=80).astype(np.uint8)
    return x, y


def test_blog_model_is_the_2019_network_layer_by_layer():
    model = blog_model()
    expected = [
        ("Conv2D", (None, 26, 26, 10), 100),
        ("MaxPooling2D", (None, 13, 13, 10), 0),
        ("MaxPooling2D", (None, 6, 6, 10), 0),
        ("Flatten", (None, 360), 0),
        ("Dense", (None, 100), 36_100),
        ("Dense", (None, 10), 1_010),
    ]
    got = [(type(l).__name__, tuple(l.output.shape), l.count_params()) for l in model.layers]
    assert got == expected
    assert model.count_params() == 37_210
    assert tuple(model.inputs[0].shape) == (None, 28, 28, 1)
    conv = model.layers[0]
    assert (conv.filters, conv.kernel_size, conv.strides, conv.padding) == (10, (3, 3), (1, 1), "valid")
    assert [l.pool_size for l in model.layers[1:3]] == [(2, 2), (2, 2)]
    assert [l.activation.__name__ for l in (conv, model.layers[4], model.layers[5])] == ["relu", "relu", "softmax"]


def test_lesson_model_is_small_and_reads_mnist():
    model = lesson_model()
    assert model.count_params() == 56_714 <= 100_000
    assert tuple(model.inputs[0].shape) == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert sum(type(l).__name__ == "Conv2D" for l in model.layers) == 2


def test_fresh_models_each_call():
    assert blog_model() is not blog_model()


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
    assert models._steps_covered(1, 3, steps_per_epoch=5) == 2
    assert models._steps_covered(3, 5, steps_per_epoch=5) == 1  # Keras numbers the short last call as full
    assert models._steps_covered(3, 5, steps_per_epoch=None) == 2


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
        replace(RECIPES["lesson"], schedule="one-cycle").optimizer(10)  # the old name is refused
    assert RECIPES["lesson"].schedule == "warmup-cosine"


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


def test_default_model_path(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNTEACH_MODELS", str(tmp_path / "m"))
    assert default_model_path() == tmp_path / "m" / "lesson_model.keras"
    monkeypatch.delenv("CNNTEACH_MODELS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    from cnnteach.data import user_data_dir

    assert default_model_path() == user_data_dir().parent / "models" / "lesson_model.keras"


def test_save_and_load_round_trip(tiny_data, tmp_path, capsys):
    x, y = tiny_data
    run = train(replace(RECIPES["lesson"], batch_size=40), x, y, epochs=1, validation_split=0, log=False)
    path = save_model(run.model, tmp_path / "deep" / "folder" / "model.keras")
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["model.keras"]  # no partial file left
    loaded = load_trained_model(path)
    assert capsys.readouterr().out == f"Loaded the trained model from {path}.\n"  # a path given: shown
    for a, b in zip(run.model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    xs = prepare_images(x[:5])
    np.testing.assert_allclose(run.model.predict(xs, verbose=0), loaded.predict(xs, verbose=0), rtol=1e-6)
    assert loaded.evaluate(xs, RECIPES["lesson"].targets(y[:5]), verbose=0)[1] >= 0  # compiled: evaluate works
    assert loaded.loss.get_config()["label_smoothing"] == 0.1  # a built-in Keras loss: loads without cnnteach


def test_save_needs_a_keras_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"must end in \.keras"):
        save_model(blog_model(), tmp_path / "model.h5")


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"this is not a model", "not a Keras model file"),
    ("zip", "could not be loaded"),
])
def test_damaged_file_gives_one_clear_sentence_and_is_kept(tmp_path, content, words):
    path = tmp_path / "lesson_model.keras"
    if content == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "hello")
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(ModelFileError) as info:
        load_trained_model(path)
    message = str(info.value)
    assert words in message and str(path) in message and "delete it" in message
    assert "\n" not in message and (info.value.__context__ is None or info.value.__suppress_context__)
    assert path.read_bytes() == before  # never deleted or changed


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="run lesson 07"):
        load_trained_model(tmp_path / "none.keras", train_if_missing=False)
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(ModelFileError, match="is a folder"):
        load_trained_model(tmp_path / "dir.keras")


def test_missing_file_is_trained_and_saved(tmp_path, monkeypatch, capsys, tiny_data):
    x, y = tiny_data
    import cnnteach.data

    monkeypatch.setattr(cnnteach.data, "load_mnist", lambda: ((x, y), (x[:10], y[:10])))
    real_train = models.train
    monkeypatch.setattr(models, "train", lambda recipe, *a, **k: real_train(replace(get_recipe(recipe), epochs=1), *a, **k))
    monkeypatch.setenv("CNNTEACH_MODELS", str(tmp_path))
    model = load_trained_model()
    out = capsys.readouterr().out
    assert "trained in" in out and "saved: lesson_model.keras from the course's models folder" in out
    assert out.count("\n") == 1 and str(tmp_path) not in out  # no machine-specific folder in outputs
    assert (tmp_path / "lesson_model.keras").is_file()
    assert model.count_params() == 56_714
    load_trained_model()
    out = capsys.readouterr().out
    assert out == "Loaded the trained model lesson_model.keras from the course's models folder (default_model_path()).\n"


def test_importing_is_light():
    code = "import sys, cnnteach.models, cnnteach.evaluation; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
