"""The drawing pad's Python side, without a browser: drawing -> 28x28 -> probabilities -> traits."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest

from cnnteach.drawing_pad import PAD_SIZE, PEN_WIDTH, draw_strokes, drawing_pad, read_drawing
from cnnteach.evaluation import preprocess_digit

ROOT = Path(__file__).resolve().parent.parent
ONE = [[(140, 40), (140, 240)]]
SEVEN = [[(70, 60), (210, 60), (120, 240)]]


def data_url(picture, mode=None) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture, mode).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.fixture(scope="module")
def small_model():
    """A real (untrained) Keras classifier: 28x28x1 in, ten softmax probabilities out."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def test_draw_strokes_draws_a_round_pen_on_a_white_page():
    page = draw_strokes(ONE)
    assert page.shape == (PAD_SIZE, PAD_SIZE) and page.dtype == np.uint8
    ink_rows = np.flatnonzero((page < 128).any(axis=1))
    ink_cols = np.flatnonzero((page < 128).any(axis=0))
    # The pen's round cap reaches half its width beyond each end of the stroke.
    assert abs(ink_rows[0] - (40 - PEN_WIDTH / 2)) <= 1
    assert abs(ink_rows[-1] - (240 + PEN_WIDTH / 2)) <= 1
    assert abs(len(ink_cols) - PEN_WIDTH) <= 1
    assert page[5, 5] == 255 and page[140, 140] == 0
    assert (draw_strokes([]) == 255).all()


def test_read_drawing_matches_preprocess_and_the_model(small_model):
    picture = draw_strokes(SEVEN)
    seen, p = read_drawing(small_model, picture)
    np.testing.assert_array_equal(seen, preprocess_digit(picture))
    expected = np.asarray(small_model.predict(seen[None, ..., None], verbose=0))[0]
    np.testing.assert_allclose(p, expected, rtol=1e-5, atol=1e-6)
    assert p.shape == (10,) and np.isclose(p.sum(), 1.0, atol=1e-5)


def test_a_data_url_reads_like_the_picture_it_holds(small_model):
    picture = draw_strokes(ONE)
    from_url = read_drawing(small_model, data_url(picture))
    rgba = np.dstack([picture] * 3 + [np.full_like(picture, 255)])
    from_rgba = read_drawing(small_model, data_url(rgba, "RGBA"))
    from_array = read_drawing(small_model, picture)
    for seen, p in (from_url, from_rgba):
        np.testing.assert_array_equal(seen, from_array[0])
        np.testing.assert_allclose(p, from_array[1], rtol=1e-6)


@pytest.mark.parametrize(
    "drawing, words",
    [
        (data_url(np.full((PAD_SIZE, PAD_SIZE), 255, np.uint8)), "blank"),
        ("data:text/plain;base64,aGVsbG8=", "data:image/png"),
        ("data:image/png;base64,aGVsbG8=", "not a picture"),
    ],
)
def test_unreadable_drawings_raise_one_sentence(small_model, drawing, words):
    with pytest.raises(ValueError, match=words):
        read_drawing(small_model, drawing)


def test_the_pad_updates_its_bars_and_image_after_each_drawing(small_model):
    pad = drawing_pad(small_model)
    assert (pad.probabilities, pad.seen, pad.updates) == ([], [], 0)
    pad.drawing = data_url(draw_strokes(SEVEN))
    seen, p = read_drawing(small_model, draw_strokes(SEVEN))
    assert pad.updates == 1 and pad.message == ""
    np.testing.assert_allclose(pad.probabilities, p, rtol=1e-6)
    assert pad.seen == np.round(seen * 255).astype(int).ravel().tolist()
    assert len(pad.seen) == 784 and max(pad.seen) == 255
    # A blank page says what to do; Clear (the empty drawing) empties the bars.
    pad.drawing = data_url(np.full((PAD_SIZE, PAD_SIZE), 255, np.uint8))
    assert pad.updates == 2 and pad.probabilities == [] and "draw a digit" in pad.message
    pad.drawing = ""
    assert pad.updates == 3 and (pad.probabilities, pad.seen) == ([], [])


def test_drawing_pad_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="load_trained_model"):
        drawing_pad("model.keras")


def test_the_view_ships_inside_the_package():
    pad_js = ROOT / "cnnteach" / "drawing_pad.js"
    text = pad_js.read_text(encoding="utf-8")
    assert "export default" in text and "pointerdown" in text and "Clear" in text
    assert f"const PEN = {PEN_WIDTH};" in text and f"const SIZE = {PAD_SIZE};" in text
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'\[tool\.setuptools\.package-data\]\ncnnteach = \[[^]]*"\*\.js"', pyproject)


@pytest.mark.slow
def test_the_trained_network_reads_a_drawn_one_and_seven():
    from cnnteach.storage import load_trained_model

    model = load_trained_model()
    for strokes, digit in ((ONE, 1), (SEVEN, 7)):
        _, p = read_drawing(model, data_url(draw_strokes(strokes)))
        assert int(np.argmax(p)) == digit and p[digit] > 0.5, p.round(2)
