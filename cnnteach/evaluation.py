"""Look at a network and its results: layer tables, figures, mistakes, and your own digits.

Lessons 07-09 use these:

* :func:`architecture_table` lists every layer's output shape and parameter count, worked
  out with the formulas of :mod:`cnnteach.arithmetic` and checked against Keras;
  :func:`plot_architecture` draws the same network.
* :func:`plot_learning_curves`, :func:`plot_confusion_matrix` and :func:`confident_mistakes`
  show how training went and where the network is wrong.
* :func:`load_picture` and :func:`preprocess_digit` turn a photo, drawing or PNG of a digit
  into a 28x28 MNIST-style image: white digit on black, longest side 20 pixels, centred by
  its centre of mass.

No function here imports TensorFlow or Keras; plot functions take ``ax=None``, return what
they drew and never call ``plt.show()``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnteach.arithmetic import conv2d_params, conv_output_size, dense_params, pool_output_size

__all__ = [
    "LayerRow",
    "architecture_table",
    "confident_mistakes",
    "load_picture",
    "plot_architecture",
    "plot_confusion_matrix",
    "plot_learning_curves",
    "predict_digit",
    "preprocess_digit",
]


# ----------------------------------------------------------------------------- layer table
@dataclass(frozen=True)
class LayerRow:
    """One layer of :func:`architecture_table`.

    Attributes
    ----------
    name, kind : str
        The layer's name and class (``"Conv2D"``, ...).
    output_shape : tuple
        Keras' output shape without the batch axis.
    by_formula : str
        How the shape follows from the layer before it.
    params_by_hand : str
        The parameter count written out, e.g. ``"3*3*1*10 + 10 = 100"``.
    params : int
        Keras' own ``count_params()``.
    """

    name: str
    kind: str
    output_shape: tuple
    by_formula: str
    params_by_hand: str
    params: int


class LayerTable(list):
    """A list of :class:`LayerRow` that prints as an aligned text table."""

    def __repr__(self) -> str:
        head = ("layer", "output shape", "size by formula", "parameters by hand", "Keras")
        rows = [head] + [
            (
                f"{r.name} ({r.kind})",
                str(r.output_shape),
                r.by_formula,
                r.params_by_hand,
                f"{r.params:,}",
            )
            for r in self
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        total = sum(r.params for r in self)
        lines.append(f"total parameters: {total:,}")
        return "\n".join(lines)

    @property
    def total(self) -> int:
        """Sum of the Keras parameter counts."""
        return sum(r.params for r in self)


def _pad_word(padding) -> str:
    return str(padding).lower()


def architecture_table(model) -> LayerTable:
    """Every layer's output shape and parameters, by formula and by Keras, side by side.

    Conv2D, MaxPooling2D/AveragePooling2D, Flatten and Dense layers are worked out with
    :func:`~cnnteach.arithmetic.conv_output_size`, :func:`~cnnteach.arithmetic.pool_output_size`,
    :func:`~cnnteach.arithmetic.conv2d_params` and :func:`~cnnteach.arithmetic.dense_params`;
    a layer whose formula disagrees with Keras raises, so the table is also a check. Other
    layers are listed with Keras' numbers only.

    Parameters
    ----------
    model : keras.Model
        A built model (one started with ``keras.Input``).

    Returns
    -------
    LayerTable
        A list of :class:`LayerRow`; it prints as a table.

    Examples
    --------
    >>> from cnnteach.models import blog_model
    >>> table = architecture_table(blog_model())  # doctest: +SKIP
    >>> table[0].params_by_hand, table.total  # doctest: +SKIP
    ('3*3*1*10 + 10 = 100', 37210)
    """
    try:
        shape = tuple(model.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError):
        raise ValueError(
            "the model has no input shape yet: start it with keras.Input((28, 28, 1))"
        ) from None
    rows = LayerTable()
    for layer in model.layers:
        kind = type(layer).__name__
        out = tuple(layer.output.shape[1:])
        params = int(layer.count_params())
        formula, by_hand, expected_params = "", "0", 0
        if kind == "Conv2D":
            (kh, kw), (sh, sw), pad = layer.kernel_size, layer.strides, _pad_word(layer.padding)
            cin, f = shape[-1], layer.filters
            h = conv_output_size(shape[0], kh, sh, pad)
            w = conv_output_size(shape[1], kw, sw, pad)
            formula = _size_text(shape[0], kh, sh, pad, h)
            expected = (h, w, f)
            expected_params = conv2d_params((kh, kw), cin, f, use_bias=layer.use_bias)
            bias = f" + {f}" if layer.use_bias else ""
            by_hand = f"{kh}*{kw}*{cin}*{f}{bias} = {expected_params:,}"
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            (ph, pw), (sh, sw), pad = layer.pool_size, layer.strides, _pad_word(layer.padding)
            h = pool_output_size(shape[0], ph, sh, pad)
            w = pool_output_size(shape[1], pw, sw, pad)
            formula = _size_text(shape[0], ph, sh, pad, h)
            expected = (h, w, shape[-1])
        elif kind == "Flatten":
            n = int(np.prod(shape))
            formula = " * ".join(str(s) for s in shape) + f" = {n:,}"
            expected = (n,)
        elif kind == "Dense":
            n_in, units = shape[-1], layer.units
            expected_params = dense_params(n_in, units, use_bias=layer.use_bias)
            bias = f" + {units}" if layer.use_bias else ""
            by_hand = f"{n_in}*{units}{bias} = {expected_params:,}"
            formula = f"{units} units"
            expected = shape[:-1] + (units,)
        else:
            expected, expected_params, by_hand = out, params, f"{params:,} (Keras)"
        if tuple(expected) != out or expected_params != params:
            raise ValueError(
                f"layer {layer.name}: the formulas give shape "
                f"{expected} and {expected_params} parameters "
                f"but Keras says {out} and {params}; this layer's "
                "options are not covered by architecture_table"
            )
        rows.append(LayerRow(layer.name, kind, out, formula, by_hand, params))
        shape = out
    return rows


def _size_text(i: int, k: int, s: int, pad: str, o: int) -> str:
    if pad == "same":
        return f"ceil({i}/{s}) = {o}"
    return f"floor(({i}-{k})/{s}) + 1 = {o}"


# ----------------------------------------------------------------------------- figures
_BOX = {
    "Conv2D": "#4c72b0",
    "MaxPooling2D": "#dd8452",
    "AveragePooling2D": "#dd8452",
    "Flatten": "#8c8c8c",
    "Dense": "#55a868",
    "Input": "#c0c0c0",
}


def plot_architecture(model, ax=None):
    """Draw a network as a row of blocks, one per layer, with its shape and parameters.

    Feature maps are squares (side proportional to the image size, a stack of sheets for
    the channels); vectors are bars (height grows with the number of values).

    Parameters
    ----------
    model : keras.Model
        A built model.
    ax : matplotlib Axes, optional
        Where to draw; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from cnnteach.models import blog_model
    >>> ax = plot_architecture(blog_model(), ax=Figure().subplots())  # doctest: +SKIP
    >>> len(ax.texts)  # doctest: +SKIP
    7
    """
    from matplotlib.patches import Rectangle

    if ax is None:
        import matplotlib.pyplot as plt

        n = len(model.layers) + 1
        _, ax = plt.subplots(figsize=(1.6 * n, 3.6))
    stages = [("input", "Input", tuple(model.inputs[0].shape[1:]), 0)]
    stages += [
        (layer.name, type(layer).__name__, tuple(layer.output.shape[1:]), int(layer.count_params()))
        for layer in model.layers
    ]
    x = 0.0
    for _name, kind, shape, params in stages:
        colour = _BOX.get(kind, "#8172b3")
        if len(shape) == 3:
            side = 0.25 + 2.2 * shape[0] / 28
            sheets = min(shape[2], 6)
            for k in range(sheets - 1, -1, -1):
                ax.add_patch(
                    Rectangle(
                        (x + 0.08 * k, -side / 2 + 0.08 * k),
                        side * 0.5,
                        side,
                        facecolor=colour,
                        edgecolor="white",
                        alpha=0.9,
                    )
                )
            width = side * 0.5 + 0.08 * sheets
            label = f"{shape[0]}×{shape[1]}×{shape[2]}"
        else:
            height = 0.4 + 2.2 * min(1.0, np.log10(max(shape[0], 1)) / np.log10(784))
            ax.add_patch(
                Rectangle((x, -height / 2), 0.25, height, facecolor=colour, edgecolor="white")
            )
            width = 0.25
            label = f"{shape[0]:,}"
        detail = f"{params:,} params" if kind != "Input" else "image"
        ax.text(
            x + width / 2, -1.55, f"{kind}\n{label}\n{detail}", ha="center", va="top", fontsize=8
        )
        x += max(width, 0.9) + 0.5
    ax.set_xlim(-0.3, x - 0.2)
    ax.set_ylim(-2.5, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    total = sum(s[3] for s in stages)
    ax.set_title(f"{getattr(model, 'name', 'model')}: {total:,} parameters", fontsize=10)
    return ax


def plot_learning_curves(history, ax=None):
    """Loss and accuracy per epoch, training against validation, in two panels.

    Parameters
    ----------
    history : dict or keras.callbacks.History
        ``{"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...]}``
        (``History.history``); the validation keys are optional.
    ax : array of two Axes, optional
        Where to draw; None makes a new figure with two panels.

    Returns
    -------
    numpy.ndarray of Axes
        The loss panel and the accuracy panel.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> axes = plot_learning_curves({"loss": [0.3, 0.1], "accuracy": [0.9, 0.97]},
    ...                             ax=Figure().subplots(1, 2))
    >>> [a.get_ylabel() for a in axes]
    ['loss', 'accuracy']
    """
    history = getattr(history, "history", history)
    if not isinstance(history, dict) or "loss" not in history:
        raise ValueError(
            "history must be History.history, a dict with at "
            "least a 'loss' list: pass model.fit(...).history"
        )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    axes = np.asarray(ax).ravel()
    if axes.size < 2:
        raise ValueError("ax must hold two Axes (loss and accuracy): pass fig.subplots(1, 2)")
    for panel, metric in zip(axes[:2], ("loss", "accuracy")):
        for prefix, style, who in (("", "o-", "training"), ("val_", "s--", "validation")):
            values = history.get(prefix + metric)
            if values:
                epochs = np.arange(1, len(values) + 1)
                panel.plot(epochs, values, style, label=who)
        panel.set_xlabel("epoch")
        panel.set_ylabel(metric)
        panel.set_xticks(np.arange(1, len(history["loss"]) + 1))
        panel.legend()
        panel.grid(alpha=0.3)
    return axes[:2]


def plot_confusion_matrix(labels, predictions, ax=None):
    """The 10x10 confusion matrix (rows: true digit, columns: predicted), drawn by scikit-learn.

    Parameters
    ----------
    labels, predictions : array_like of int
        True and predicted digits, one per image.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_confusion_matrix([0, 1, 1], [0, 1, 7], ax=Figure().subplots())
    >>> ax.get_xlabel()
    'Predicted label'
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    y, p = np.asarray(labels).ravel(), np.asarray(predictions).ravel()
    if y.shape != p.shape:
        raise ValueError(
            f"there are {y.size} labels but {p.size} predictions: pass one of each per image"
        )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 5.5))
    display = ConfusionMatrixDisplay.from_predictions(
        y, p, labels=list(range(10)), ax=ax, colorbar=False, cmap="Blues", values_format="d"
    )
    return display.ax_


def confident_mistakes(probabilities, labels, n: int = 10) -> np.ndarray:
    """Indices of the wrongly predicted images, the most confident mistakes first.

    Parameters
    ----------
    probabilities : array_like, shape (N, 10)
        The network's softmax outputs (``model.predict(x)``).
    labels : array_like of int, shape (N,)
        The true digits.
    n : int, default 10
        How many indices to return at most.

    Returns
    -------
    numpy.ndarray of int

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.05, 0.95]])
    >>> confident_mistakes(p, [0, 0, 0, 1]).tolist()
    [1, 2]
    """
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels).ravel()
    if p.ndim != 2 or p.shape[0] != y.shape[0]:
        raise ValueError(
            "probabilities must have shape (N, classes) "
            f"with N = {y.shape[0]} labels, got {p.shape}: "
            "pass model.predict(x) and the labels of the same images"
        )
    predicted = np.argmax(p, axis=-1)
    wrong = np.flatnonzero(predicted != y)
    order = np.argsort(-p[wrong, predicted[wrong]], kind="stable")
    return wrong[order][: int(n)]


# ----------------------------------------------------------------------------- your own digits
def load_picture(source) -> np.ndarray:
    """Read a picture file (PNG, JPEG, ...) into a numpy array, RGBA or greyscale kept as is.

    Parameters
    ----------
    source : str, pathlib.Path, bytes or memoryview
        A file path, or the file's bytes (an ipywidgets ``FileUpload`` gives
        ``upload.value[0]["content"]``).

    Returns
    -------
    numpy.ndarray
        uint8, shape (H, W), (H, W, 3) or (H, W, 4).

    Examples
    --------
    >>> from PIL import Image
    >>> buffer = io.BytesIO(); Image.new("L", (40, 30), 255).save(buffer, "PNG")
    >>> load_picture(buffer.getvalue()).shape
    (30, 40)
    """
    from PIL import Image, UnidentifiedImageError

    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            picture = Image.open(io.BytesIO(bytes(source)))
        else:
            picture = Image.open(Path(source))
        picture.load()
    except FileNotFoundError:
        raise ValueError(f"there is no file {source}: check the path") from None
    except (UnidentifiedImageError, OSError):
        raise ValueError(
            "the file is not a picture Pillow can read: "
            "save the digit as a PNG or JPEG and try again"
        ) from None
    if picture.mode not in ("L", "RGB", "RGBA"):
        picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
    return np.asarray(picture)


def _greyscale(image) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise ValueError(
            "image must be an array of numbers, got dtype "
            f"{a.dtype}: pass a picture array (see load_picture)"
        )
    a = a.astype(np.float64)
    if a.size and a.max() > 1.0:
        a = a / 255.0
    if a.ndim == 3 and a.shape[-1] == 4:  # lay transparent pixels on a white page
        alpha = a[..., 3:4]
        a = a[..., :3] * alpha + (1.0 - alpha)
    if a.ndim == 3 and a.shape[-1] == 3:
        a = a @ np.array([0.299, 0.587, 0.114])
    elif a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim != 2:
        raise ValueError(
            "image must be (H, W), (H, W, 3) or (H, W, 4), "
            f"got shape {np.shape(image)}: pass one picture"
        )
    return np.clip(a, 0.0, 1.0)


def preprocess_digit(image, *, invert="auto", threshold: float = 0.2) -> np.ndarray:
    """Turn any picture of one digit into a 28x28 MNIST-style image the network can read.

    The steps follow how MNIST itself was made: greyscale, white digit on black (dark ink on
    a light page is inverted), crop to the digit's bounding box, scale so that the longer
    side is 20 pixels (keeping the aspect ratio), then place it on a black 28x28 canvas so
    that its centre of mass sits in the middle.

    Parameters
    ----------
    image : array_like
        (H, W) greyscale, (H, W, 3) RGB or (H, W, 4) RGBA; 0-255 integers or 0-1 floats.
    invert : "auto", True or False, default "auto"
        Whether to swap black and white; "auto" inverts when the border of the picture is
        mostly light (a dark digit on a light page).
    threshold : float, default 0.2
        Pixels brighter than this (after inversion, 0-1 scale) count as ink for the crop.

    Returns
    -------
    numpy.ndarray
        float32, shape (28, 28), values in [0, 1]; use ``prepare_images`` to add the batch
        and channel axes.

    Examples
    --------
    >>> page = np.full((100, 60), 255, dtype=np.uint8)   # white page
    >>> page[20:80, 25:35] = 0                           # a black "1"
    >>> digit = preprocess_digit(page)
    >>> digit.shape, digit.dtype, float(digit.max())
    ((28, 28), dtype('float32'), 1.0)
    >>> int((digit > 0.5).any(axis=1).sum())             # the longer side is 20 pixels
    20
    """
    from PIL import Image

    grey = _greyscale(image)
    if grey.shape[0] < 2 or grey.shape[1] < 2:
        raise ValueError(
            f"the picture is only {grey.shape[0]}x{grey.shape[1]} pixels: pass a picture of a digit"
        )
    if invert == "auto":
        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        invert = bool(np.median(border) > 0.5)
    elif not isinstance(invert, (bool, np.bool_)):
        raise ValueError(f"invert must be 'auto', True or False, got {invert!r}")
    if invert:
        grey = 1.0 - grey
    ink = grey > threshold
    if not ink.any():
        raise ValueError(
            "no digit found: the picture is blank (or all "
            "one shade); draw a digit with a thick stroke"
        )
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray(crop.astype(np.float32), mode="F").resize(
        (new_w, new_h), Image.Resampling.LANCZOS
    )
    small = np.clip(np.asarray(small, dtype=np.float64), 0.0, 1.0)
    if small.max() > 0:
        small = small / small.max()
    mass = small.sum()
    cy = (small.sum(axis=1) * np.arange(new_h)).sum() / mass
    cx = (small.sum(axis=0) * np.arange(new_w)).sum() / mass
    top = int(np.clip(round(13.5 - cy), 0, 28 - new_h))
    left = int(np.clip(round(13.5 - cx), 0, 28 - new_w))
    canvas = np.zeros((28, 28), dtype=np.float32)
    canvas[top : top + new_h, left : left + new_w] = small
    return canvas


def predict_digit(model, picture, **options):
    """Preprocess a picture of one digit the MNIST way and let ``model`` classify it.

    Parameters
    ----------
    model : keras.Model
        A trained digit classifier that reads (N, 28, 28, 1) images in [0, 1].
    picture : array_like, str, pathlib.Path or bytes
        A picture array (see :func:`preprocess_digit`) or a picture file (see :func:`load_picture`).
    **options
        Passed to :func:`preprocess_digit` (``invert``, ``threshold``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The 28x28 image the network saw, and its ten probabilities.

    Examples
    --------
    >>> digit, probabilities = predict_digit(load_trained_model(), "my_seven.png")  # doctest: +SKIP
    >>> int(np.argmax(probabilities))  # doctest: +SKIP
    7
    """
    if isinstance(picture, (str, Path, bytes, bytearray, memoryview)):
        picture = load_picture(picture)
    digit = preprocess_digit(picture, **options)
    probabilities = np.asarray(model.predict(digit[np.newaxis, ..., np.newaxis], verbose=0))[0]
    return digit, probabilities
