"""Look inside a trained network: its filters, its feature maps, and which pixels it relies on.

Lesson 10 uses these helpers.

* :func:`first_layer_filters` and :func:`plot_filters`: the learned kernels of a ``Conv2D``.
* :func:`feature_maps` and :func:`plot_feature_maps`: what every convolution and pooling
  layer makes of one digit (one ``predict`` call for all layers).
* :func:`occlusion_sensitivity`: hide one small square at a time and measure how much the
  probability of the class drops; only ``predict`` calls (all occluded copies in one batch),
  so it works on every Keras backend.
* :func:`gradient_saliency`: how strongly each pixel's value moves the class's
  log-probability (a gradient; needs the TensorFlow backend, which this course uses).
* :func:`shift_digit`, :func:`thicken_digit`, :func:`rotate_digit`: the numpy transforms of
  the robustness experiment.
* :func:`plot_heatmap`: a map drawn over its digit.

Plot functions follow :mod:`cnnteach.plots`: ``ax=None`` (or ``fig=None`` for grids) makes a
new figure, they return the Axes they drew into, never call ``plt.show()`` and never change
``rcParams``. TensorFlow and Keras are imported only inside the functions that need them.
"""

from __future__ import annotations

import numpy as np

from cnnteach._checks import as_image, class_index, panel_axes, unit_pixels
from cnnteach.callbacks import quiet_retracing

__all__ = [
    "feature_maps",
    "first_layer_filters",
    "gradient_saliency",
    "occlusion_sensitivity",
    "plot_feature_maps",
    "plot_filters",
    "plot_heatmap",
    "rotate_digit",
    "shift_digit",
    "thicken_digit",
]


# ----------------------------------------------------------------------------- inputs
def _unit_digit(image) -> np.ndarray:
    return unit_pixels(as_image(image, "image"), "image")


def _layers_of(model, kinds: tuple[str, ...]):
    return [layer for layer in model.layers if type(layer).__name__ in kinds]


# ----------------------------------------------------------------------------- filters
def first_layer_filters(model) -> np.ndarray:
    """The kernels of the model's first ``Conv2D`` layer, shape (rows, cols, in_channels, filters).

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    numpy.ndarray
        The kernel in Keras' HWIO layout (bias not included).

    Examples
    --------
    >>> from cnnteach.models import lesson_model  # doctest: +SKIP
    >>> first_layer_filters(lesson_model()).shape  # doctest: +SKIP
    (3, 3, 1, 16)
    """
    convs = _layers_of(model, ("Conv2D",))
    if not convs:
        raise ValueError(
            "the model has no Conv2D layer: pass a "
            "convolutional network such as load_trained_model()"
        )
    return np.asarray(convs[0].get_weights()[0])


def plot_filters(kernels, *, fig=None, ncols: int = 8, channel: int = 0, values: bool = False):
    """Draw each filter of a convolution as a small image (red positive, blue negative).

    All filters share one colour scale, centred on 0, so colours compare across filters.

    Parameters
    ----------
    kernels : array_like, shape (rows, cols, in_channels, filters) or (rows, cols, filters)
        E.g. :func:`first_layer_filters`.
    fig : matplotlib Figure or SubFigure, optional
        Where to draw the grid; by default a new figure.
    ncols : int, default 8
    channel : int, default 0
        Which input channel to show (MNIST has only channel 0).
    values : bool, default False
        Write each weight in its cell.

    Returns
    -------
    numpy.ndarray of Axes
        One Axes per filter.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> axes = plot_filters(np.random.default_rng(0).normal(size=(3, 3, 1, 4)))
    >>> len(axes), axes[0].get_title()
    (4, 'filter 0')
    >>> plt.close("all")
    """
    weights = np.asarray(kernels, dtype=np.float64)
    if weights.ndim == 3:
        weights = weights[:, :, np.newaxis, :]
    if weights.ndim != 4:
        raise ValueError(
            "kernels must have shape (rows, cols, in_channels, filters), "
            f"got {weights.shape}: pass first_layer_filters(model)"
        )
    if not 0 <= int(channel) < weights.shape[2]:
        raise ValueError(f"channel must be from 0 to {weights.shape[2] - 1}, got {channel}")
    n = weights.shape[-1]
    axes = panel_axes(None, n, ncols, (1.1, 1.2), fig)
    limit = float(np.abs(weights).max()) or 1.0
    for k, ax in enumerate(axes):
        kernel = weights[:, :, channel, k]
        ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        if values:
            for (r, c), v in np.ndenumerate(kernel):
                ax.text(c, r, f"{v:.1f}", ha="center", va="center", fontsize=6)
        ax.set_title(f"filter {k}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return axes


# ----------------------------------------------------------------------------- feature maps
def feature_maps(model, image) -> dict:
    """What each convolution and pooling layer outputs for one digit, in ONE ``predict`` call.

    Parameters
    ----------
    model : keras.Model
        A trained network that starts from an ``Input`` (e.g. ``load_trained_model()``).
    image : array_like, shape (28, 28)
        uint8 0-255 or float in [0, 1].

    Returns
    -------
    dict of str -> numpy.ndarray
        Layer name -> its output for this digit, shape (rows, cols, channels), in layer order.

    Examples
    --------
    >>> maps = feature_maps(model, x_test[0])  # doctest: +SKIP
    >>> {name: m.shape for name, m in maps.items()}  # doctest: +SKIP
    {'conv_1': (26, 26, 16), 'pool_1': (13, 13, 16), 'conv_2': (11, 11, 32), 'pool_2': (5, 5, 32)}
    """
    import keras

    picked = _layers_of(model, ("Conv2D", "MaxPooling2D", "AveragePooling2D"))
    if not picked:
        raise ValueError(
            "the model has no convolution or pooling layer: pass "
            "a convolutional network such as load_trained_model()"
        )
    probe = keras.Model(model.inputs, [layer.output for layer in picked])
    with quiet_retracing():
        outputs = probe.predict(_unit_digit(image)[np.newaxis, :, :, np.newaxis], verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {layer.name: np.asarray(out)[0] for layer, out in zip(picked, outputs)}


def plot_feature_maps(maps, *, fig=None, n_maps: int = 8):
    """Draw the first ``n_maps`` channels of each layer's output, one row per layer.

    Each row has its own colour scale (black = 0, the ReLU floor; white = that layer's
    largest value), so a row shows where its filters respond, not how much compared with
    another layer.

    Parameters
    ----------
    maps : dict of str -> array (rows, cols, channels), or one such array
        E.g. :func:`feature_maps`.
    fig : matplotlib Figure or SubFigure, optional
    n_maps : int, default 8
        Channels shown per layer (fewer if a layer has fewer).

    Returns
    -------
    numpy.ndarray of Axes, shape (layers, n_maps)

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> grid = plot_feature_maps({"conv": np.ones((26, 26, 4)), "pool": np.ones((13, 13, 4))},
    ...                          n_maps=4)
    >>> grid.shape, grid[1, 0].get_ylabel()
    ((2, 4), 'pool\\n13 × 13 × 4')
    >>> plt.close("all")
    """
    if not isinstance(maps, dict):
        maps = {"maps": maps}
    arrays = {}
    for name, value in maps.items():
        array = np.asarray(value, dtype=np.float64)
        if array.ndim == 4 and array.shape[0] == 1:
            array = array[0]
        if array.ndim != 3:
            raise ValueError(
                f"maps[{name!r}] must have shape (rows, cols, channels), "
                f"got {array.shape}: pass feature_maps(model, image)"
            )
        arrays[name] = array
    if not arrays:
        raise ValueError("maps is empty: pass feature_maps(model, image)")
    columns = max(1, min(int(n_maps), max(a.shape[-1] for a in arrays.values())))
    flat = panel_axes(None, len(arrays) * columns, columns, (1.2, 1.25), fig)
    grid = np.empty((len(arrays), columns), dtype=object)
    for row, (name, array) in enumerate(arrays.items()):
        top = float(array.max()) if array.size and array.max() > 0 else 1.0
        for col in range(columns):
            ax = flat[row * columns + col]
            grid[row, col] = ax
            ax.set_xticks([])
            ax.set_yticks([])
            if col < array.shape[-1]:
                ax.imshow(array[:, :, col], cmap="gray", vmin=0, vmax=top, interpolation="nearest")
            else:
                ax.set_axis_off()
            if row == 0:
                ax.set_title(f"channel {col}", fontsize=8)
        grid[row, 0].set_ylabel(
            f"{name}\n{array.shape[0]} × {array.shape[1]} × {array.shape[2]}", fontsize=8
        )
    return grid


# ----------------------------------------------------------------------------- which pixels matter
def occlusion_sensitivity(
    model, image, label=None, *, patch: int = 6, stride: int = 2, fill: float = 0.0
):
    """How much the class probability drops when each part of the digit is hidden.

    A ``patch`` x ``patch`` square of value ``fill`` is slid over the image ``stride`` pixels
    at a time; every occluded copy goes to ``model.predict`` in ONE batch. A pixel's value in
    the map is the average drop, over all squares that covered it, of the probability of
    ``label``: large where hiding the pixel hurts the decision. Only ``predict`` is used, so
    this works with every Keras backend (TensorFlow, JAX, PyTorch).

    Parameters
    ----------
    model : keras.Model or any object with ``predict(x, batch_size=..., verbose=0)``
    image : array_like, shape (28, 28)
        uint8 0-255 or float in [0, 1].
    label : int, optional
        The class to explain; by default the class the model predicts for ``image``.
    patch : int, default 6
    stride : int, default 2
    fill : float, default 0.0
        Value of the hiding square in [0, 1]; 0 is MNIST's black background, so hiding
        a square erases ink.

    Returns
    -------
    heat : numpy.ndarray, shape (28, 28)
        Average probability drop per pixel (negative where hiding helps the class).
    label : int
        The class explained.

    Examples
    --------
    >>> class InkCounter:  # a stand-in "network": P(class 1) grows with the ink in the top half
    ...     def predict(self, x, batch_size=None, verbose=0):
    ...         p = x[:, :14].sum(axis=(1, 2, 3)) / 196
    ...         return np.stack([1 - p, p], axis=1)
    >>> heat, label = occlusion_sensitivity(InkCounter(), np.ones((28, 28), np.float32), label=1)
    >>> bool(heat[:10].min() > 0), float(heat[20:].max())
    (True, 0.0)
    """
    picture = _unit_digit(image)
    patch, stride = int(patch), int(stride)
    height, width = picture.shape
    if not 1 <= patch <= min(height, width) or stride < 1:
        raise ValueError(
            f"patch must be from 1 to {min(height, width)} pixels and "
            f"stride at least 1, got patch={patch}, stride={stride}"
        )
    if not 0.0 <= float(fill) <= 1.0:
        raise ValueError(f"fill must lie in [0, 1] like the pixels, got {fill}")
    corners = [
        (r, c)
        for r in range(0, height - patch + 1, stride)
        for c in range(0, width - patch + 1, stride)
    ]
    batch = np.repeat(picture[np.newaxis], len(corners) + 1, axis=0)
    for k, (r, c) in enumerate(corners, start=1):
        batch[k, r : r + patch, c : c + patch] = fill
    with quiet_retracing():
        probs = np.asarray(model.predict(batch[..., np.newaxis], batch_size=len(batch), verbose=0))
    label = int(np.argmax(probs[0])) if label is None else class_index(label, probs.shape[1])
    drops = probs[0, label] - probs[1:, label]
    total = np.zeros_like(picture, dtype=np.float64)
    count = np.zeros_like(picture, dtype=np.float64)
    for drop, (r, c) in zip(drops, corners):
        total[r : r + patch, c : c + patch] += drop
        count[r : r + patch, c : c + patch] += 1
    return np.where(count > 0, total / np.maximum(count, 1), 0.0), label


def gradient_saliency(model, image, label=None):
    """How strongly each pixel moves the class's log-probability: ``|d log p(label) / d pixel|``.

    One forward and one backward pass through the network, recorded with TensorFlow's
    ``GradientTape``. The log of the probability is used because a confident softmax is
    flat (its gradient nearly vanishes), while its log still changes.

    Parameters
    ----------
    model : keras.Model
        Runs on the TensorFlow backend (the course's; :func:`occlusion_sensitivity` works
        on any backend).
    image : array_like, shape (28, 28)
    label : int, optional
        By default the predicted class.

    Returns
    -------
    saliency : numpy.ndarray, shape (28, 28)
        Absolute gradient per pixel.
    label : int

    Examples
    --------
    >>> saliency, label = gradient_saliency(model, x_test[0])  # doctest: +SKIP
    >>> saliency.shape, label  # doctest: +SKIP
    ((28, 28), 7)
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "gradient_saliency needs Keras' TensorFlow backend, "
            f"but it runs on {keras.backend.backend()!r}: "
            "set KERAS_BACKEND=tensorflow, or use occlusion_sensitivity, which works on any backend"
        )
    import tensorflow as tf

    x = tf.constant(_unit_digit(image)[np.newaxis, :, :, np.newaxis])
    with tf.GradientTape() as tape:
        tape.watch(x)
        probs = model(x, training=False)
        if label is None:
            label = int(tf.argmax(probs[0]))
        label = class_index(label, int(probs.shape[-1]))
        log_p = tf.math.log(probs[0, label] + 1e-12)
    grad = tape.gradient(log_p, x)
    return np.abs(grad.numpy()[0, :, :, 0]), label


def plot_heatmap(image, heat, ax=None, *, title=None, cmap="magma", alpha=0.6, symmetric=False):
    """Draw a map (occlusion drop, saliency) over its digit, with a colour bar.

    Parameters
    ----------
    image : array_like, shape (H, W)
    heat : array_like, shape (H, W)
    ax : matplotlib Axes, optional
        By default a new figure.
    title : str, optional
    cmap : str, default "magma"
    alpha : float, default 0.6
        Opacity of the map over the digit.
    symmetric : bool, default False
        Centre the colour scale on 0 (for maps with negative values) and use red/blue.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_heatmap(np.zeros((28, 28)), np.eye(28), title="demo")
    >>> ax.get_title()
    'demo'
    >>> plt.close("all")
    """
    from matplotlib.axes import Axes

    picture = _unit_digit(image)
    heat = np.asarray(heat, dtype=np.float64)
    if heat.shape != picture.shape:
        raise ValueError(f"heat must have the image's shape {picture.shape}, got {heat.shape}")
    if ax is None:
        import matplotlib.pyplot as plt  # only to make a figure Jupyter will display

        ax = plt.figure(figsize=(3.2, 2.8), layout="constrained").add_subplot()
    elif not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes or None, not a {type(ax).__name__}")
    ax.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    if symmetric:
        limit = float(np.abs(heat).max()) or 1.0
        shown = ax.imshow(
            heat, cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=alpha, interpolation="nearest"
        )
    else:
        shown = ax.imshow(heat, cmap=cmap, alpha=alpha, interpolation="nearest")
    ax.figure.colorbar(shown, ax=ax, shrink=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


# ----------------------------------------------------------------------------- transforms
def _same_kind(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    if like.dtype == np.uint8:
        return np.clip(np.rint(result), 0, 255).astype(np.uint8)
    return result.astype(like.dtype if like.dtype.kind == "f" else np.float32)


def shift_digit(image, dx: int = 0, dy: int = 0) -> np.ndarray:
    """Move a digit ``dx`` pixels right and ``dy`` pixels down; what leaves the frame is lost.

    Parameters
    ----------
    image : array_like, shape (H, W)
    dx, dy : int
        Negative values move left / up. Uncovered pixels become 0 (background).

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``image``.

    Examples
    --------
    >>> shift_digit(np.array([[1, 2], [3, 4]], np.uint8), dx=1).tolist()
    [[0, 1], [0, 3]]
    """
    picture = np.asarray(image)
    if picture.ndim != 2:
        raise ValueError(f"image must be one greyscale image (H, W), got shape {picture.shape}")
    for name, value in (("dx", dx), ("dy", dy)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be a whole number of pixels, got {value!r}")
    out = np.zeros_like(picture)
    h, w = picture.shape
    dx, dy = int(dx), int(dy)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = picture[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def thicken_digit(image, pixels: int = 1) -> np.ndarray:
    """Make strokes thicker (``pixels`` > 0) or thinner (< 0) by a 3x3 max (min) filter per step.

    Parameters
    ----------
    image : array_like, shape (H, W)
    pixels : int, default 1
        Steps of dilation (each adds about one pixel on every side of a stroke); negative
        values erode instead.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``image``.

    Examples
    --------
    >>> dot = np.zeros((5, 5), np.uint8); dot[2, 2] = 255
    >>> int((thicken_digit(dot, 1) > 0).sum()), int((thicken_digit(dot, -1) > 0).sum())
    (9, 0)
    """
    picture = np.asarray(image)
    if picture.ndim != 2:
        raise ValueError(f"image must be one greyscale image (H, W), got shape {picture.shape}")
    if isinstance(pixels, (bool, np.bool_)) or not isinstance(pixels, (int, np.integer)):
        raise ValueError(f"pixels must be a whole number, got {pixels!r}")
    out = picture.copy()
    reduce = np.maximum if pixels > 0 else np.minimum
    for _ in range(abs(int(pixels))):
        padded = np.pad(out, 1, mode="constant")
        h, w = out.shape
        windows = [padded[r : r + h, c : c + w] for r in range(3) for c in range(3)]
        out = reduce.reduce(windows)
    return out


def rotate_digit(image, degrees: float) -> np.ndarray:
    """Rotate a digit about its image centre, anticlockwise by ``degrees`` (bilinear, zero fill).

    Parameters
    ----------
    image : array_like, shape (H, W)
    degrees : float
        Positive turns anticlockwise, as seen on screen.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``image``; corners that come from outside are 0.

    Examples
    --------
    >>> bar = np.zeros((5, 5), np.uint8); bar[2, :] = 255
    >>> (rotate_digit(bar, 90)[:, 2] == 255).all(), rotate_digit(bar, 0).tolist() == bar.tolist()
    (np.True_, True)
    """
    picture = np.asarray(image)
    if picture.ndim != 2:
        raise ValueError(f"image must be one greyscale image (H, W), got shape {picture.shape}")
    try:
        angle = np.deg2rad(float(degrees))
    except (TypeError, ValueError):
        raise ValueError(f"degrees must be a number, got {degrees!r}") from None
    h, w = picture.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    # inverse mapping: for every output pixel, where was it in the input?
    # (rows point down, so an anticlockwise turn on screen is clockwise in (x, y) maths)
    cos, sin = np.cos(angle), np.sin(angle)
    src_x = cos * (cols - cx) - sin * (rows - cy) + cx
    src_y = sin * (cols - cx) + cos * (rows - cy) + cy
    x0, y0 = np.floor(src_x).astype(int), np.floor(src_y).astype(int)
    fx, fy = src_x - x0, src_y - y0
    source = picture.astype(np.float64)

    def at(y, x):
        inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
        return np.where(inside, source[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)], 0.0)

    result = (
        (1 - fx) * (1 - fy) * at(y0, x0)
        + fx * (1 - fy) * at(y0, x0 + 1)
        + (1 - fx) * fy * at(y0 + 1, x0)
        + fx * fy * at(y0 + 1, x0 + 1)
    )
    return _same_kind(result, picture)
