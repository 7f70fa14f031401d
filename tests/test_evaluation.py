"""cnnteach.evaluation: layer tables, figures, mistakes,
and MNIST-style preprocessing of any picture.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from cnnteach.evaluation import (
    architecture_table,
    confident_mistakes,
    load_picture,
    plot_architecture,
    plot_confusion_matrix,
    plot_learning_curves,
    predict_digit,
    preprocess_digit,
)


def drawn_seven(size=(200, 160), offset=(0, 0), ink=0, page=255, mode="L"):
    """A 7 drawn with thick strokes, dark ink on a light page by default."""
    picture = Image.new(mode, size, color=page)
    pen = ImageDraw.Draw(picture)
    dx, dy = offset
    pen.line([(30 + dx, 30 + dy), (110 + dx, 30 + dy), (60 + dx, 150 + dy)], fill=ink, width=14)
    return np.asarray(picture)


def centre_of_mass(image):
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


# ----------------------------------------------------------------------------- preprocessing
def test_dark_on_light_becomes_mnist_style():
    digit = preprocess_digit(drawn_seven(size=(300, 260)))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert 0.0 <= digit.min() and digit.max() == pytest.approx(1.0)
    assert (
        digit[0].max() == 0 and digit[:, 0].max() == 0
    )  # black border: the digit is white on black
    ink = digit > 0.3
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (
        19,
        20,
    )  # longer side scaled to 20 pixels
    cy, cx = centre_of_mass(digit)
    assert abs(cy - 13.5) <= 0.6 and abs(cx - 13.5) <= 0.6


def test_position_and_size_on_the_page_do_not_matter():
    a = preprocess_digit(drawn_seven(size=(400, 400)))
    b = preprocess_digit(drawn_seven(size=(400, 400), offset=(200, 180)))
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_light_on_dark_is_kept_and_invert_can_be_forced():
    light = drawn_seven(ink=255, page=0)
    dark = drawn_seven()
    np.testing.assert_allclose(preprocess_digit(light), preprocess_digit(dark), atol=1e-5)
    np.testing.assert_allclose(
        preprocess_digit(light, invert=False), preprocess_digit(dark, invert=True), atol=1e-5
    )
    with pytest.raises(ValueError, match="invert"):
        preprocess_digit(dark, invert="yes")


def test_rgb_rgba_and_floats():
    grey = preprocess_digit(drawn_seven())
    rgb = preprocess_digit(drawn_seven(mode="RGB", ink=(0, 0, 0), page=(255, 255, 255)))
    np.testing.assert_allclose(grey, rgb, atol=1e-5)
    transparent = np.zeros((160, 200, 4), dtype=np.uint8)  # black strokes on a transparent page
    transparent[..., 3] = 255 - drawn_seven()
    np.testing.assert_allclose(preprocess_digit(transparent), grey, atol=1e-5)
    np.testing.assert_allclose(preprocess_digit(drawn_seven() / 255.0), grey, atol=1e-5)


def test_an_mnist_digit_stays_close_to_itself():
    page = np.zeros((28, 28))
    page[4:24, 12:16] = 1.0  # a "1", 20 pixels tall, already centred
    out = preprocess_digit(page)
    assert np.abs(out - page).mean() < 0.05


def test_bad_pictures_say_what_to_do():
    with pytest.raises(ValueError, match="blank"):
        preprocess_digit(np.full((50, 50), 255, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        preprocess_digit(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="numbers"):
        preprocess_digit(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="only 1x5"):
        preprocess_digit(np.ones((1, 5)))


def test_load_picture_from_bytes_and_path(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(drawn_seven()).save(buffer, "PNG")
    from_bytes = load_picture(buffer.getvalue())
    assert from_bytes.shape == (160, 200) and from_bytes.dtype == np.uint8
    path = tmp_path / "seven.png"
    path.write_bytes(buffer.getvalue())
    np.testing.assert_array_equal(load_picture(path), from_bytes)
    assert load_picture(memoryview(buffer.getvalue())).shape == (160, 200)
    with pytest.raises(ValueError, match="not a picture"):
        load_picture(b"not a png")
    with pytest.raises(ValueError, match="no file"):
        load_picture(tmp_path / "missing.png")


def test_predict_digit_feeds_the_network_one_mnist_image():
    class Recorder:
        def predict(self, x, verbose=0):
            self.seen = x
            return np.eye(10)[[7]]

    model = Recorder()
    digit, probabilities = predict_digit(model, drawn_seven())
    assert model.seen.shape == (1, 28, 28, 1) and model.seen.dtype == np.float32
    assert int(np.argmax(probabilities)) == 7 and digit.shape == (28, 28)


# ----------------------------------------------------------------------------- mistakes and figures
def test_confident_mistakes_most_sure_first():
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.05, 0.95], [0.01, 0.99]])
    labels = [0, 0, 0, 1, 0]
    assert confident_mistakes(p, labels).tolist() == [4, 1, 2]
    assert confident_mistakes(p, labels, n=1).tolist() == [4]
    assert confident_mistakes(p, [0, 1, 1, 1, 1]).tolist() == []
    with pytest.raises(ValueError, match="shape"):
        confident_mistakes(p, [0, 1])


def test_confusion_matrix_figure():
    ax = plot_confusion_matrix([0, 1, 2, 2], [0, 1, 2, 7], ax=Figure().subplots())
    assert ax.get_ylabel() == "True label" and len(ax.texts) == 100
    with pytest.raises(ValueError, match="3 predictions"):
        plot_confusion_matrix([0, 1], [0, 1, 2])


def test_learning_curves():
    history = {
        "loss": [0.3, 0.1, 0.05],
        "accuracy": [0.9, 0.97, 0.98],
        "val_loss": [0.2, 0.1, 0.09],
        "val_accuracy": [0.95, 0.97, 0.975],
    }
    axes = plot_learning_curves(history, ax=Figure().subplots(1, 2))
    assert [len(a.lines) for a in axes] == [2, 2]
    assert list(axes[1].lines[1].get_ydata()) == history["val_accuracy"]
    with pytest.raises(ValueError, match="history"):
        plot_learning_curves({"accuracy": [1]})
    with pytest.raises(ValueError, match="two Axes"):
        plot_learning_curves(history, ax=Figure().subplots())


# ------------------------------------------------------------------------ layer table (needs Keras)
def test_architecture_table_of_the_2019_model():
    pytest.importorskip("keras")
    from cnnteach.models import blog_model

    table = architecture_table(blog_model())
    assert [r.params for r in table] == [100, 0, 0, 0, 36_100, 1_010] and table.total == 37_210
    assert table[0].params_by_hand == "3*3*1*10 + 10 = 100"
    assert table[2].by_formula == "floor((13-2)/2) + 1 = 6"
    assert table[4].params_by_hand == "360*100 + 100 = 36,100"
    text = repr(table)
    assert "total parameters: 37,210" in text and len(text.splitlines()) == 9


def test_architecture_table_other_options():
    keras = pytest.importorskip("keras")
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input((28, 28, 3)),
            layers.Conv2D(8, 5, strides=2, padding="same", use_bias=False),
            layers.Dropout(0.5),
            layers.AveragePooling2D(3, strides=1),
            layers.Flatten(),
            layers.Dense(10),
        ]
    )
    table = architecture_table(model)
    assert table[0].by_formula == "ceil(28/2) = 14" and table[0].params_by_hand == "5*5*3*8 = 600"
    assert table[1].kind == "Dropout" and table[1].params == 0
    assert table[2].output_shape == (12, 12, 8)
    assert table.total == model.count_params()
    fig = Figure()
    ax = plot_architecture(model, ax=fig.subplots())
    assert len(ax.texts) == len(model.layers) + 1


def test_architecture_table_needs_an_input():
    with pytest.raises(ValueError, match="keras.Input"):
        architecture_table(object())
