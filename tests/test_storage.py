"""cnnteach.storage: models round-trip, damaged or foreign files are refused and kept."""

from __future__ import annotations

import os
import zipfile
from dataclasses import replace

import numpy as np
import pytest

import cnnteach.data
import cnnteach.training
from cnnteach.models import blog_model
from cnnteach.storage import ModelFileError, default_model_path, load_trained_model, save_model
from cnnteach.training import RECIPES, get_recipe, prepare_images, train

keras = pytest.importorskip("keras")


def test_default_model_path(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNTEACH_MODELS", str(tmp_path / "m"))
    assert default_model_path() == tmp_path / "m" / "lesson_model.keras"
    monkeypatch.delenv("CNNTEACH_MODELS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    from cnnteach.data import user_data_dir

    assert default_model_path() == user_data_dir().parent / "models" / "lesson_model.keras"


def test_save_and_load_round_trip(tiny_data, tmp_path, capsys):
    x, y = tiny_data
    run = train(
        replace(RECIPES["lesson"], batch_size=40), x, y, epochs=1, validation_split=0, log=False
    )
    path = save_model(run.model, tmp_path / "deep" / "folder" / "model.keras")
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == [
        "model.keras"
    ]  # no partial file left
    loaded = load_trained_model(path)
    assert "Loaded" in capsys.readouterr().out
    for a, b in zip(run.model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    xs = prepare_images(x[:5])
    np.testing.assert_allclose(
        run.model.predict(xs, verbose=0), loaded.predict(xs, verbose=0), rtol=1e-6
    )
    assert (
        loaded.evaluate(xs, RECIPES["lesson"].targets(y[:5]), verbose=0)[1] >= 0
    )  # compiled: evaluate works
    assert (
        loaded.loss.get_config()["label_smoothing"] == 0.1
    )  # a built-in Keras loss: loads without cnnteach


def test_save_needs_a_keras_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"must end in \.keras"):
        save_model(blog_model(), tmp_path / "model.h5")


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "empty"),
        (b"this is not a model", "not a Keras model file"),
        ("zip", "could not be loaded"),
    ],
)
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
    assert "\n" not in message and (
        info.value.__context__ is None or info.value.__suppress_context__
    )
    assert path.read_bytes() == before  # never deleted or changed


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="run lesson 08"):
        load_trained_model(tmp_path / "none.keras", train_if_missing=False)
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(ModelFileError, match="is a folder"):
        load_trained_model(tmp_path / "dir.keras")


def test_missing_file_is_trained_and_saved(tmp_path, monkeypatch, capsys, tiny_data):
    x, y = tiny_data
    monkeypatch.setattr(cnnteach.data, "load_mnist", lambda: ((x, y), (x[:10], y[:10])))
    real_train = cnnteach.training.train
    monkeypatch.setattr(
        cnnteach.training,
        "train",
        lambda recipe, *a, **k: real_train(replace(get_recipe(recipe), epochs=1), *a, **k),
    )
    monkeypatch.setenv("CNNTEACH_MODELS", str(tmp_path))
    model = load_trained_model()
    out = capsys.readouterr().out
    assert "trained in" in out and "saved lesson_model.keras in" in out and out.count("\n") == 1
    assert (tmp_path / "lesson_model.keras").is_file()
    assert model.count_params() == 56_714
    load_trained_model()
    assert "Loaded" in capsys.readouterr().out


def test_a_network_of_other_shapes_is_refused(tmp_path):
    path = save_model(blog_model(), tmp_path / "blog.keras")
    assert load_trained_model(path).count_params() == 37_210  # same shapes: accepted
    other = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(5)]
    )
    save_model(other, tmp_path / "other.keras")
    with pytest.raises(ModelFileError, match=r"reads \(32, 32, 3\) and gives 5 outputs") as info:
        load_trained_model(tmp_path / "other.keras")
    assert "\n" not in str(info.value)


def test_a_stale_partial_save_is_cleaned_on_the_next_save(tmp_path):
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    stale = tmp_path / f".lesson_model-partial-{dead}.keras"
    stale.write_bytes(b"half")
    mine = tmp_path / "notes.txt"
    mine.write_text("keep me")
    save_model(blog_model(), tmp_path / "lesson_model.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson_model.keras", "notes.txt"]


@pytest.mark.parametrize("bad", [123, b"model.keras", 1.5, ["a.keras"]])
def test_paths_of_the_wrong_type_get_one_sentence(bad):
    with pytest.raises(ValueError, match="must be a file name") as info:
        load_trained_model(bad)
    assert "\n" not in str(info.value)


def test_saving_something_that_is_not_a_model(tmp_path):
    with pytest.raises(ValueError, match="needs a Keras model"):
        save_model(None, tmp_path / "m.keras")


def test_the_loaded_message_shows_no_temporary_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNTEACH_MODELS", str(tmp_path))
    save_model(blog_model(), default_model_path())
    load_trained_model()
    out = capsys.readouterr().out
    assert out == (
        "Loaded the trained model lesson_model.keras from the course's models folder "
        "(default_model_path()).\n"
    )
    assert str(tmp_path) not in out and os.sep + "tmp" not in out
