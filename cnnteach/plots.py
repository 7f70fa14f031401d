"""Figures of digits, pixels, labels and probabilities, shared by the lessons.

Every function draws with matplotlib's object API and follows the same rules:

- ``ax=None`` makes a new figure (through ``matplotlib.pyplot``, so Jupyter shows it);
  otherwise the function draws into what you pass. Single-panel functions take one
  ``Axes``. Multi-panel functions (:func:`plot_digits`, :func:`plot_mean_digits`,
  :func:`plot_channels`) take, as ``ax``, an array of ``Axes`` with at least one per panel
  (spare ones are switched off) or a ``Figure`` (or ``SubFigure``), which they fill with a
  grid; ``fig=`` is accepted for the latter too, as in :mod:`cnnteach.inspection`.
- Each returns what it drew into: one ``Axes``, or a 1-D numpy array of ``Axes``, one per
  panel in drawing order.
- None calls ``plt.show()`` or changes ``rcParams``; none imports TensorFlow or Keras.

Images may be ``(H, W)``, ``(H, W, 1)`` (a channel axis is dropped for display) or, where
said, ``(H, W, 3)`` RGB. ``uint8`` images are drawn on the fixed 0 (black) to 255 (white)
scale, images scaled to [0, 1] on the 0 to 1 scale, so that a grey always means the same
number.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap

from cnnteach._checks import (
    as_image,
    as_images,
    as_labels,
    numeric_array,
    panel_axes,
    single_axes,
)

__all__ = [
    "plot_channels",
    "plot_class_counts",
    "plot_digits",
    "plot_image",
    "plot_mean_digits",
    "plot_one_hot",
    "plot_pixel_histogram",
    "plot_pixels",
    "plot_probabilities",
]

#: The most digits :func:`plot_digits` draws; more are cut with a warning.
MAX_PANELS = 100
#: The most classes :func:`plot_class_counts` draws.
MAX_CLASSES = 1000

_RIGHT = "#1a7f37"
_WRONG = "#cf222e"
_BAR = "#4c72b0"


# ----------------------------------------------------------------------------- input checks
def _value_range(array: np.ndarray, vmin=None, vmax=None) -> tuple[float, float]:
    """The colour scale: 0-255 for integer pixels, 0-1 for pixels already in [0, 1], else the data
    range."""
    if vmin is not None and vmax is not None:
        return vmin, vmax
    if array.dtype.kind in "biu" and array.min() >= 0 and array.max() <= 255:
        low, high = 0, 255
    elif array.dtype.kind == "f" and array.min() >= 0 and array.max() <= 1:
        low, high = 0.0, 1.0
    else:
        low, high = float(np.min(array)), float(np.max(array))
        if low == high:
            high = low + 1
    return (low if vmin is None else vmin), (high if vmax is None else vmax)


# ----------------------------------------------------------------------------- axes handling
def _hide_ticks(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _annotate(ax: Axes, array: np.ndarray, vmin: float, vmax: float, fmt: str, fontsize) -> None:
    """Write each value of a 2-D array in its cell, white on dark cells and black on light ones."""
    rows, cols = array.shape
    if fontsize is None:  # fit about four characters across a cell
        box = ax.get_position()
        width_pt = box.width * ax.figure.get_figwidth() * 72 / cols
        height_pt = box.height * ax.figure.get_figheight() * 72 / rows
        fontsize = max(2.0, min(width_pt / 2.6, height_pt / 1.6, 12.0))
    middle = (vmin + vmax) / 2
    for r in range(rows):
        for c in range(cols):
            value = array[r, c]
            ax.text(
                c,
                r,
                format(value, fmt),
                ha="center",
                va="center",
                fontsize=fontsize,
                color="black" if value > middle else "white",
                in_layout=False,  # inside the axes anyway
            )


# ----------------------------------------------------------------------------- digits
def plot_digits(images, labels=None, *, predictions=None, ncols=10, ax=None, fig=None, cmap="gray"):
    """Draw a grid of images, each titled with its label (and, if given, the prediction).

    Parameters
    ----------
    images : array_like
        ``(N, H, W)`` or ``(N, H, W, 1)`` greyscale, or ``(N, H, W, 3)`` RGB; one ``(H, W)``
        image is drawn as a grid of one.
    labels : array_like of int, optional
        N class labels, shown as each panel's title.
    predictions : array_like of int, optional
        N predicted classes, shown after the label: green when right, red when wrong.
    ncols : int, default 10
        Panels per row.
    ax : None, Figure, SubFigure or array of Axes, optional
        Where to draw: None makes a new figure; a Figure or SubFigure is filled with a grid;
        an array of Axes needs at least N of them (spare ones are switched off).
    fig : Figure or SubFigure, optional
        Another way to give the figure to fill (like ``fig=`` in :mod:`cnnteach.inspection`);
        pass ``ax`` or ``fig``, not both.
    cmap : str, default "gray"
        Colour map for greyscale images (0 black, 255 white).

    Returns
    -------
    numpy.ndarray of Axes
        The N Axes drawn into, in order.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> images = np.zeros((3, 28, 28), dtype=np.uint8)
    >>> axes = plot_digits(images, labels=[5, 0, 4], ax=Figure())
    >>> [a.get_title() for a in axes]
    ['5', '0', '4']
    """
    stack = as_images(images)
    n = len(stack)
    extras = {}
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None:
            values = as_labels(values, name)
            if len(values) != n:
                raise ValueError(
                    f"there are {n} images but {len(values)} {name}: pass one per image"
                )
            extras[name] = values
    if n > MAX_PANELS:
        warnings.warn(
            f"drawing the first {MAX_PANELS} of {n:,} images; pass images[:k] to choose which.",
            stacklevel=2,
        )
        n, stack = MAX_PANELS, stack[:MAX_PANELS]
        extras = {name: values[:MAX_PANELS] for name, values in extras.items()}
    axes = panel_axes(ax, n, ncols, (1.1, 1.35 if extras else 1.1), fig)
    vmin, vmax = _value_range(stack)
    for i, panel in enumerate(axes):
        panel.imshow(stack[i], cmap=cmap, vmin=vmin, vmax=vmax)
        _hide_ticks(panel)
        if "labels" in extras and "predictions" in extras:
            right = extras["labels"][i] == extras["predictions"][i]
            panel.set_title(
                f"{extras['labels'][i]} → {extras['predictions'][i]}",
                color=_RIGHT if right else _WRONG,
            )
        elif "labels" in extras:
            panel.set_title(str(extras["labels"][i]))
        elif "predictions" in extras:
            panel.set_title(f"→ {extras['predictions'][i]}")
    return axes


def plot_image(image, ax=None, *, colorbar=True, cmap="gray", title=None, vmin=None, vmax=None):
    """Draw one image with its pixel rows and columns numbered, and a colour bar of values.

    Parameters
    ----------
    image : array_like
        ``(H, W)``, ``(H, W, 1)`` or ``(1, H, W, 1)`` greyscale, or ``(H, W, 3)`` RGB.
    ax : matplotlib Axes, optional
        Where to draw; None makes a new figure.
    colorbar : bool, default True
        Add a colour bar that maps grey levels to numbers (greyscale images only).
    cmap : str, default "gray"
        Colour map for greyscale images.
    title : str, optional
        Title of the panel.
    vmin, vmax : float, optional
        Ends of the colour scale; by default 0-255 for integer pixels, 0-1 for pixels in
        [0, 1], otherwise the image's own range.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_image(np.arange(784, dtype=np.uint8).reshape(28, 28), ax=Figure().subplots())
    >>> [float(v) for v in ax.images[0].get_clim()]
    [0.0, 255.0]
    """
    array = as_image(image, channels=(3,))
    ax = single_axes(ax, (4.6, 3.8))
    if array.ndim == 3:
        shown = ax.imshow(
            array if array.dtype.kind == "f" else np.clip(array, 0, 255).astype(np.uint8)
        )
    else:
        low, high = _value_range(array, vmin, vmax)
        shown = ax.imshow(array, cmap=cmap, vmin=low, vmax=high)
        if colorbar:
            ax.figure.colorbar(shown, ax=ax, label="pixel value")
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_pixels(
    image, ax=None, values=True, *, cmap="gray", fmt=None, fontsize=None, vmin=None, vmax=None
):
    """Draw a 2-D array as a heat-map with every value printed in its cell.

    Made for seeing that a picture *is* its numbers: a 28 x 28 digit, a crop of one, a
    kernel or a one-hot matrix. Rows and columns are numbered as in ``image[row, col]``.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, 1)``.
    ax : matplotlib Axes, optional
        Where to draw; None makes a new figure sized so that 28 x 28 values stay readable.
    values : bool, default True
        Print each value in its cell.
    cmap : str, default "gray"
        Colour map.
    fmt : str, optional
        Format of the printed values; by default ``"d"`` for integers and ``".2f"`` for floats.
    fontsize : float, optional
        Size of the printed values; by default as large as the cells allow.
    vmin, vmax : float, optional
        Ends of the colour scale (see :func:`plot_image`).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into; ``ax.texts`` holds one text per value when ``values`` is true.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_pixels(np.array([[0, 255], [128, 7]], dtype=np.uint8), ax=Figure().subplots())
    >>> [t.get_text() for t in ax.texts]
    ['0', '255', '128', '7']
    """
    array = as_image(image)
    rows, cols = array.shape
    if ax is None:
        side = min(max(0.34 * max(rows, cols), 3.0), 11.0)
        ax = single_axes(
            None, (side * cols / max(rows, cols) + 0.6, side * rows / max(rows, cols) + 0.4)
        )
    else:
        ax = single_axes(ax, None)
    low, high = _value_range(array, vmin, vmax)
    ax.imshow(array, cmap=cmap, vmin=low, vmax=high)
    step = 1 if max(rows, cols) <= 30 else 5
    ax.set_xticks(range(0, cols, step))
    ax.set_yticks(range(0, rows, step))
    ax.tick_params(labelsize=7 if max(rows, cols) > 12 else 9, length=0)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if values:
        if fmt is None:
            fmt = "d" if array.dtype.kind in "biu" else ".2f"
        _annotate(ax, array, low, high, fmt, fontsize)
    return ax


def plot_pixel_histogram(images, ax=None, *, bins=32, log=True, color=_BAR):
    """Draw how often each pixel value occurs in one image or a stack of them.

    Parameters
    ----------
    images : array_like
        Any array of pixel values (every value is counted).
    ax : matplotlib Axes, optional
        Where to draw; None makes a new figure.
    bins : int, default 32
        Number of bars between the smallest and largest possible value.
    log : bool, default True
        Use a logarithmic count axis (MNIST is mostly black background).
    color : str
        Bar colour.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_pixel_histogram(np.array([0, 0, 0, 255], dtype=np.uint8), ax=Figure().subplots())
    >>> int(sum(p.get_height() for p in ax.patches))
    4
    """
    array = numeric_array(images, "images").ravel()
    if isinstance(bins, bool) or not isinstance(bins, Integral) or not 1 <= bins <= 1024:
        raise ValueError(f"bins must be a whole number from 1 to 1024, not {bins!r}")
    ax = single_axes(ax, (5.5, 3.0))
    low, high = _value_range(array)
    ax.hist(array, bins=int(bins), range=(low, high), color=color, log=log)
    ax.set_xlabel("pixel value")
    ax.set_ylabel("number of pixels")
    return ax


def plot_channels(image, ax=None, *, fig=None):
    """Draw a colour image and, beside it, each of its red, green and blue channels.

    Each channel is a greyscale picture of its own, drawn from black to its colour: a colour
    image is three numbers per pixel, stored along the last (channels-last) axis.

    Parameters
    ----------
    image : array_like
        ``(H, W, 3)``: uint8 in 0-255 or floats in [0, 1].
    ax : None, Figure, SubFigure or array of 4 Axes, optional
        Where to draw (see :func:`plot_digits`).
    fig : Figure or SubFigure, optional
        The figure to fill, instead of ``ax``.

    Returns
    -------
    numpy.ndarray of Axes
        Four Axes: the colour image, then red, green and blue.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    >>> [a.get_title() for a in plot_channels(rgb, ax=Figure())]
    ['colour image (4, 4, 3)', 'red [..., 0]', 'green [..., 1]', 'blue [..., 2]']
    """
    array = as_image(image, channels=(3,))
    if array.ndim != 3:
        raise ValueError(
            f"image must be a colour image of shape (H, W, 3), but it has shape {array.shape}"
        )
    axes = panel_axes(ax, 4, 4, (2.4, 2.6), fig)
    plot_image(array, ax=axes[0], colorbar=False, title=f"colour image {array.shape}")
    low, high = _value_range(array)
    pure = {"red": (1, 0, 0), "green": (0, 1, 0), "blue": (0, 0, 1)}
    for i, (panel, name) in enumerate(zip(axes[1:], pure)):
        cmap = LinearSegmentedColormap.from_list(f"black-{name}", [(0, 0, 0), pure[name]])
        panel.imshow(array[..., i], cmap=cmap, vmin=low, vmax=high)
        panel.set_title(f"{name} [..., {i}]")
    for panel in axes:
        _hide_ticks(panel)
        panel.set_xlabel("")
        panel.set_ylabel("")
    return axes


# ----------------------------------------------------------------------------- classes
def plot_class_counts(labels, ax=None, *, num_classes=None, color=_BAR):
    """Draw a bar chart of how many examples each class has, with each count printed.

    Parameters
    ----------
    labels : array_like of int
        1-D class labels (for one-hot rows pass ``np.argmax(labels, axis=-1)``).
    ax : matplotlib Axes, optional
        Where to draw; None makes a new figure.
    num_classes : int, optional
        Number of classes; by default the largest label plus one. Classes with no example
        get a bar of height 0.
    color : str
        Bar colour.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into; ``ax.patches`` holds one bar per class.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_class_counts([1, 1, 2, 0, 1], ax=Figure().subplots())
    >>> [int(bar.get_height()) for bar in ax.patches]
    [1, 3, 1]
    """
    labels = as_labels(labels)
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    elif (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, Integral)
        or not labels.max() < num_classes <= MAX_CLASSES
    ):
        raise ValueError(
            f"num_classes must be a whole number above the largest label ({labels.max()}) "
            f"and at most {MAX_CLASSES}, not {num_classes!r}"
        )
    if num_classes > MAX_CLASSES:
        raise ValueError(
            f"the labels go up to {labels.max()}, more classes than one chart can show "
            f"({MAX_CLASSES}): pass the class numbers, not pixel values or ids"
        )
    counts = np.bincount(labels, minlength=int(num_classes))
    ax = single_axes(ax, (6.4, 3.4))
    bars = ax.bar(np.arange(num_classes), counts, color=color)
    ax.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize=8, padding=2)
    ax.set_xticks(np.arange(num_classes))
    ax.set_xlabel("class (digit)")
    ax.set_ylabel("number of examples")
    ax.set_ylim(0, counts.max() * 1.12)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def plot_mean_digits(images, labels, *, classes=None, ncols=10, ax=None, fig=None, cmap="gray"):
    """Draw the average image of each class: a pixel's grey is its mean over that class.

    Parameters
    ----------
    images : array_like
        ``(N, H, W)`` or ``(N, H, W, 1)`` greyscale images.
    labels : array_like of int
        N class labels.
    classes : sequence of int, optional
        Which classes to draw, in order; by default every label present, sorted.
    ncols : int, default 10
        Panels per row.
    ax : None, Figure, SubFigure or array of Axes, optional
        Where to draw (see :func:`plot_digits`).
    fig : Figure or SubFigure, optional
        The figure to fill, instead of ``ax``.
    cmap : str, default "gray"
        Colour map.

    Returns
    -------
    numpy.ndarray of Axes
        One Axes per class; each panel's image data is that class's mean image.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> images = np.array([np.zeros((2, 2)), np.full((2, 2), 255), np.zeros((2, 2))],
    ...                   dtype=np.uint8)
    >>> axes = plot_mean_digits(images, [0, 1, 1], ax=Figure())
    >>> axes[1].images[0].get_array().tolist()
    [[127.5, 127.5], [127.5, 127.5]]
    """
    stack = as_images(images)
    if stack.ndim != 3:
        raise ValueError(
            "images must be greyscale, shape (N, H, W) or (N, "
            f"H, W, 1), but they have shape {np.shape(images)}"
        )
    labels = as_labels(labels)
    if len(labels) != len(stack):
        raise ValueError(
            f"there are {len(stack)} images but {len(labels)} labels: pass one label per image"
        )
    present = np.unique(labels)
    classes = present if classes is None else as_labels(classes, "classes")
    missing = [int(c) for c in classes if c not in present]
    if missing:
        raise ValueError(
            f"no image has label {missing[0]}: leave it out of classes, or check the labels"
        )
    axes = panel_axes(ax, len(classes), ncols, (1.1, 1.35), fig)
    vmin, vmax = _value_range(stack)
    for panel, digit in zip(axes, classes):
        panel.imshow(stack[labels == digit].mean(axis=0), cmap=cmap, vmin=vmin, vmax=vmax)
        panel.set_title(str(digit))
        _hide_ticks(panel)
    return axes


def plot_one_hot(one_hot, ax=None, *, labels=None, fontsize=None):
    """Draw one-hot rows as a grid of 0s and 1s, one row per example and one column per class.

    Parameters
    ----------
    one_hot : array_like
        ``(N, C)`` rows such as ``keras.utils.to_categorical(y)`` returns.
    ax : matplotlib Axes, optional
        Where to draw; None makes a new figure.
    labels : array_like of int, optional
        N integer labels written at the start of each row.
    fontsize : float, optional
        Size of the printed values.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_one_hot(np.eye(3)[[2, 0]], ax=Figure().subplots(), labels=[2, 0])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['label 2', 'label 0']
    """
    array = numeric_array(one_hot, "one_hot")
    if array.ndim != 2:
        raise ValueError(
            f"one_hot must be 2-D (examples x classes), but it has shape {array.shape}"
        )
    rows, cols = array.shape
    ax = (
        single_axes(ax, (0.5 * cols + 1.2, 0.42 * rows + 0.9))
        if ax is None
        else single_axes(ax, None)
    )
    plot_pixels(
        array,
        ax=ax,
        cmap="Blues_r",
        fmt=".0f" if np.all(array == np.round(array)) else ".2f",
        fontsize=fontsize,
        vmin=0,
        vmax=1,
    )
    ax.images[0].set_cmap(LinearSegmentedColormap.from_list("zero-one", ["#f6f8fa", "#0969da"]))
    for text in ax.texts:
        text.set_color("white" if text.get_text() not in ("0", "0.00") else "#57606a")
    ax.set_xticks(range(cols))
    ax.set_xlabel("class (column)")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.set_ylabel("")
    if labels is not None:
        labels = as_labels(labels)
        if len(labels) != rows:
            raise ValueError(
                f"one_hot has {rows} rows but there are {len(labels)} labels: pass one per row"
            )
        ax.set_yticks(range(rows), [f"label {v}" for v in labels])
    return ax


def plot_probabilities(probabilities, ax=None, *, label=None, title=None):
    """Draw a network's output for one image as ten bars, one probability per class.

    The most probable class is drawn dark; when ``label`` is given its bar is outlined and
    the title says whether the prediction is right.

    Parameters
    ----------
    probabilities : array_like
        1-D non-negative values that add up to 1 (a softmax output); ``(1, C)`` is accepted.
    ax : matplotlib Axes, optional
        Where to draw; None makes a new figure.
    label : int, optional
        The true class.
    title : str, optional
        Title; by default it names the prediction (and whether it is right).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_probabilities([0.1, 0.7, 0.2], ax=Figure().subplots(), label=1)
    >>> ax.get_title()
    'predicted 1 (p = 0.70), label 1: right'
    """
    p = numeric_array(probabilities, "probabilities").astype(np.float64)
    if p.ndim == 2 and p.shape[0] == 1:
        p = p[0]
    if p.ndim != 1:
        raise ValueError(
            "probabilities must be 1-D (one value per class), "
            f"but they have shape {p.shape}: pass one row"
        )
    if np.any(p < 0) or not np.isclose(p.sum(), 1.0, atol=1e-3):
        raise ValueError(
            f"probabilities must be non-negative and add up to 1 (these add up to {p.sum():.3g}): "
            f"apply a softmax to raw scores first"
        )
    ax = single_axes(ax, (5.5, 3.0))
    best = int(np.argmax(p))
    colours = ["#9ecae1"] * len(p)
    colours[best] = "#08519c"
    bars = ax.bar(np.arange(len(p)), p, color=colours)
    ax.set_xticks(np.arange(len(p)))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("class")
    ax.set_ylabel("probability")
    text = f"predicted {best} (p = {p[best]:.2f})"
    if label is not None:
        label = int(as_labels(label, "label")[0])
        if label >= len(p):
            raise ValueError(f"label {label} is not a class: there are only {len(p)} probabilities")
        bars[label].set_edgecolor(_RIGHT if label == best else _WRONG)
        bars[label].set_linewidth(2.5)
        text += f", label {label}: {'right' if label == best else 'wrong'}"
    ax.set_title(text if title is None else title)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax
