"""A drawing pad: draw a digit with the mouse or a finger and watch the network read it.

:func:`drawing_pad` shows a square canvas with a Clear button, ten probability bars and the
28 x 28 image the network sees. It is an `anywidget <https://anywidget.dev>`_ widget: the
view is the small ES module ``drawing_pad.js`` beside this file (no build step), so it works
in JupyterLab 4, Notebook 7 and VS Code. After each stroke (and a few times a second while
one goes on) the view sends the canvas as a PNG; Python reads it with :func:`read_drawing`,
which preprocesses it the MNIST way with :func:`cnnteach.evaluation.preprocess_digit` and
asks the model, and the bars follow.

:func:`read_drawing` is the whole computation, usable without a browser; :func:`draw_strokes`
draws strokes the way the pad does, for figures and tests.
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path

import numpy as np

__all__ = ["PAD_SIZE", "PEN_WIDTH", "draw_strokes", "drawing_pad", "read_drawing"]

PAD_SIZE = 280  #: canvas side in pixels (ten per MNIST pixel)
PEN_WIDTH = 20  #: stroke width in canvas pixels, as in drawing_pad.js
_ESM = Path(__file__).with_name("drawing_pad.js")


def draw_strokes(strokes, size: int = PAD_SIZE, width: int = PEN_WIDTH) -> np.ndarray:
    """Draw strokes as the pad does: black round-capped lines on a white square page.

    Parameters
    ----------
    strokes : list of list of (x, y)
        Each stroke is the points the pen passed through, in canvas pixels.
    size : int, default 280
        The side of the square page.
    width : int, default 20
        The pen's width.

    Returns
    -------
    numpy.ndarray
        uint8, shape (size, size): 255 is the page, 0 the ink.

    Examples
    --------
    >>> page = draw_strokes([[(140, 40), (140, 240)]])   # a "1"
    >>> page.shape, int(page.min()), int(page.max())
    ((280, 280), 0, 255)
    """
    from PIL import Image, ImageDraw

    page = Image.new("L", (int(size), int(size)), 255)
    pen = ImageDraw.Draw(page)
    radius = width / 2
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if not points:
            continue
        if len(points) > 1:
            pen.line(points, fill=0, width=int(width), joint="curve")
        for x, y in points:  # round caps and joins, as the canvas draws them
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return np.asarray(page)


def _picture(drawing) -> np.ndarray:
    """A drawing as a picture array: a PNG data URL or bytes, or an array as it is."""
    from cnnteach.evaluation import load_picture

    if isinstance(drawing, str):
        head, _, data = drawing.partition(",")
        if not head.startswith("data:image/") or not data:
            raise ValueError(
                "the drawing must be a 'data:image/png;base64,...' URL, "
                "a picture file's bytes or an array"
            )
        drawing = base64.b64decode(data)
    if isinstance(drawing, (bytes, bytearray, memoryview)):
        return load_picture(drawing)
    return np.asarray(drawing)


def _probabilities(model, digit: np.ndarray) -> np.ndarray:
    """The model's ten outputs for one 28x28 image: one direct call, no ``predict`` loop."""
    batch = digit[np.newaxis, ..., np.newaxis].astype(np.float32)
    return np.asarray(model(batch, training=False), dtype=np.float64)[0]


def read_drawing(model, drawing) -> tuple[np.ndarray, np.ndarray]:
    """Read a drawing the way the pad does: preprocess it the MNIST way, then classify it.

    Parameters
    ----------
    model : keras.Model
        A trained digit classifier that reads (N, 28, 28, 1) images in [0, 1].
    drawing : str, bytes or array_like
        What the pad sends (a ``data:image/png;base64,...`` URL), a picture file's bytes, or a
        picture array (dark ink on a light page, or light on dark).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The 28x28 image the network saw (float32 in [0, 1]) and its ten probabilities.

    Raises
    ------
    ValueError
        When the drawing is blank or cannot be read (the message says what to do).

    Examples
    --------
    >>> one = draw_strokes([[(140, 40), (140, 240)]])
    >>> seen, p = read_drawing(load_trained_model(), one)  # doctest: +SKIP
    >>> seen.shape, int(np.argmax(p))  # doctest: +SKIP
    ((28, 28), 1)
    """
    from cnnteach.evaluation import preprocess_digit

    digit = preprocess_digit(_picture(drawing))
    return digit, _probabilities(model, digit)


@functools.cache
def _pad_class():
    """The widget class, made on first use so that importing this module needs no anywidget."""
    import anywidget
    import traitlets

    class DrawingPad(anywidget.AnyWidget):
        """The pad's model: ``drawing`` comes from the browser, the rest goes back to it."""

        _esm = _ESM
        drawing = traitlets.Unicode("").tag(sync=True)
        probabilities = traitlets.List(traitlets.Float()).tag(sync=True)
        seen = traitlets.List(traitlets.Int()).tag(sync=True)
        message = traitlets.Unicode("Draw a digit").tag(sync=True)
        updates = traitlets.Int(0).tag(sync=True)

        def __init__(self, model, **kwargs):
            super().__init__(**kwargs)
            self.model = model
            _probabilities(model, np.zeros((28, 28), np.float32))  # the first stroke is fast too
            self.observe(self._read, names="drawing")

        def __repr__(self) -> str:
            if self.probabilities:
                best = int(np.argmax(self.probabilities))
                return f"DrawingPad(reads a {best}, p = {self.probabilities[best]:.2f})"
            return "DrawingPad(empty: draw a digit on it in a running notebook)"

        def _read(self, change=None) -> None:
            probabilities, seen, message = [], [], "Draw a digit"
            if self.drawing:
                try:
                    digit, p = read_drawing(self.model, self.drawing)
                except ValueError as problem:
                    message = str(problem)
                else:
                    probabilities = [float(v) for v in p]
                    seen = np.round(digit * 255).astype(int).ravel().tolist()
                    message = ""
            with self.hold_sync():
                self.probabilities, self.seen, self.message = probabilities, seen, message
                self.updates += 1

    DrawingPad.__qualname__ = "DrawingPad"
    return DrawingPad


def drawing_pad(model):
    """A pad to draw a digit on, with the network's ten probabilities updated after each stroke.

    Draw with the mouse, a pen or a finger; press Clear to start again. The pad also shows the
    28 x 28 image the network reads, after :func:`cnnteach.evaluation.preprocess_digit`.
    It needs a live kernel: on GitHub or in a saved copy it shows nothing.

    Parameters
    ----------
    model : keras.Model
        A trained digit classifier that reads (N, 28, 28, 1) images in [0, 1].

    Returns
    -------
    DrawingPad
        An anywidget widget; end a cell with it to show it. Its ``probabilities`` and ``seen``
        traits hold the latest reading.

    Examples
    --------
    >>> pad = drawing_pad(load_trained_model())  # doctest: +SKIP
    >>> pad  # doctest: +SKIP
    """
    if not callable(model):
        raise TypeError(
            f"drawing_pad needs a Keras model, got a {type(model).__name__}: "
            "pass load_trained_model()"
        )
    return _pad_class()(model)
