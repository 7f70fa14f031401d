"""Interactive explorers and static figures for lessons 04 (convolution) and 05 (pooling).

Everything an explorer shows is computed by a *pure* function that returns a plain data
object and never raises for any slider setting: :func:`conv_step` and :func:`pool_step`.
An impossible setting (a kernel larger than the padded image, say) comes back with an
``impossible`` reason instead of an exception.

The figures are drawn by :func:`plot_conv_step` and :func:`plot_pool_step`, which work
anywhere (GitHub and HTML readers see them as static pictures); :func:`conv_explorer` and
:func:`pool_explorer` wrap them in ipywidgets sliders that redraw the same figure in place.

ipywidgets and matplotlib are imported inside the functions that need them, so importing
this module is light.
"""

from __future__ import annotations

import base64
import html
import threading
import io
import textwrap
from dataclasses import dataclass, field

import numpy as np

from cnnteach.arithmetic import explain_conv_output, explain_pool_output, same_padding
from cnnteach.ops import avg_pool2d, conv2d, max_pool2d

__all__ = [
    "ConvStep",
    "Explorer",
    "KERNEL_NAMES",
    "PoolStep",
    "StepFigure",
    "conv_explorer",
    "conv_step",
    "make_kernel",
    "plot_conv_step",
    "plot_kernel_responses",
    "plot_flatten",
    "plot_pool_step",
    "pool_explorer",
    "pool_step",
]

KERNEL_NAMES = ("vertical edge", "horizontal edge", "blur")

CONV_RANGES = {"kernel": (1, 29), "stride": (1, 4), "padding": (0, 3)}
POOL_RANGES = {"pool": (1, 29), "stride": (1, 4)}


# ----------------------------------------------------------------------------- kernels
def make_kernel(name: str, size: int = 3) -> np.ndarray:
    """A classic square kernel of any size: "vertical edge", "horizontal edge" or "blur".

    The edge kernels weigh one side -1 and the other +1 (the middle column or row 0 when the
    size is odd), so they sum to 0 and answer a change of brightness, not brightness itself.

    Parameters
    ----------
    name : str
        One of :data:`KERNEL_NAMES`.
    size : int, optional
        Rows (= columns) of the kernel.

    Returns
    -------
    ndarray of shape (size, size)

    Examples
    --------
    >>> make_kernel("vertical edge")
    array([[-1.,  0.,  1.],
           [-1.,  0.,  1.],
           [-1.,  0.,  1.]])
    >>> make_kernel("blur", 2)
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    if name not in KERNEL_NAMES:
        raise ValueError(f"unknown kernel {name!r}; choose one of {', '.join(map(repr, KERNEL_NAMES))}.")
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"kernel size must be a positive whole number, got {size!r}.")
    size = int(size)
    if name == "blur":
        return np.full((size, size), 1.0 / size**2)
    columns = np.sign(np.arange(size) - (size - 1) / 2)
    kernel = np.tile(columns, (size, 1)).astype(float)
    return kernel if name == "vertical edge" else kernel.T.copy()


def _image2d(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"the explorer needs one grey image of shape (rows, columns), got shape {array.shape}; "
            "pass e.g. x_train[0] / 255."
        )
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise ValueError(f"the image must hold numbers, got dtype {array.dtype}; pass a numeric numpy array.")
    return array.astype(float)


def _setting(value, name: str, minimum: int):
    """Return (int, None) for a usable slider value, or (None, reason) for an impossible one."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        return None, f"the {name} must be a whole number, not {value!r}."
    if value < minimum:
        need = "at least 1" if minimum == 1 else "0 or more"
        return None, f"the {name} must be {need}, and {int(value)} is not."
    return int(value), None


def _partial(output: np.ndarray, row: int, col: int) -> np.ndarray:
    """The output map as it stands after computing cell (row, col) in reading order."""
    partial = output.astype(float).copy()
    flat = partial.reshape(-1)
    flat[row * output.shape[1] + col + 1:] = np.nan
    return partial


def _clamp(value: int, size: int, name: str):
    if value < 0:
        return 0, f"{name} {value} is before the first output {name}, so the explorer shows {name} 0."
    if value >= size:
        return size - 1, f"{name} {value} is past the last output {name} ({size - 1}), so the explorer shows {name} {size - 1}."
    return value, ""


def _size_text(shape) -> str:
    return f"{shape[0]} × {shape[1]}"


# ----------------------------------------------------------------------------- conv step
@dataclass
class ConvStep:
    """Everything the convolution explorer shows for one setting (see :func:`conv_step`).

    ``impossible`` is None for a possible setting, else the reason in one sentence; then the
    output fields are None. ``window``, ``products`` and ``total`` belong to output cell
    (``row``, ``col``), whose window starts at (``top``, ``left``) of the padded image.
    """

    image: np.ndarray
    kernel: np.ndarray
    kernel_size: int | None
    stride: int | None
    padding: int | None
    padded: np.ndarray
    impossible: str | None = None
    output_shape: tuple | None = None
    output: np.ndarray | None = None
    partial: np.ndarray | None = None
    row: int | None = None
    col: int | None = None
    top: int | None = None
    left: int | None = None
    window: np.ndarray | None = None
    products: np.ndarray | None = None
    total: float | None = None
    formula: str = ""
    unused: tuple = (0, 0)
    note: str = ""

    @property
    def possible(self) -> bool:
        return self.impossible is None

    @property
    def readout(self) -> str:
        """One line for the explorer: "Output: H × W ..." or "Impossible: reason"."""
        if self.impossible:
            return f"Impossible: {self.impossible}"
        text = (
            f"Output: {_size_text(self.output_shape)} · cell (row {self.row}, col {self.col}) = "
            f"sum of {self.products.size} products = {self.total:.2f}"
        )
        return text + (f" · {self.note}" if self.note else "")


def conv_step(image, kernel_size=3, stride=1, padding=0, row=0, col=0, kernel="vertical edge") -> ConvStep:
    """Compute one step of a convolution (cross-correlation) for the explorer; never raises for a setting.

    Parameters
    ----------
    image : array of shape (H, W)
        One grey image (e.g. a digit scaled to [0, 1]).
    kernel_size : int
        Rows (= columns) of the kernel.
    stride : int
        Step of the window, the same along rows and columns.
    padding : int
        Zeros added on every side.
    row, col : int
        The output cell to compute; values past the output are moved to its edge (see ``note``).
    kernel : str or array of shape (kernel_size, kernel_size)
        A name from :data:`KERNEL_NAMES` or your own weights.

    Returns
    -------
    ConvStep
        The padded image, the window, the products and their sum, the output map (whole, and
        filled up to the cell), the formula with numbers, or ``impossible`` with a reason.

    Raises
    ------
    ValueError
        Only when the *image* or the *kernel array* is unusable (not for slider values).

    Examples
    --------
    >>> image = np.arange(25.0).reshape(5, 5)
    >>> step = conv_step(image, kernel_size=3, row=1, col=2, kernel="blur")
    >>> step.readout
    'Output: 3 × 3 · cell (row 1, col 2) = sum of 9 products = 13.00'
    >>> conv_step(image, kernel_size=7).readout
    'Impossible: a 7 × 7 kernel does not fit in the 5 × 5 image padded by 0 (5 + 2×0 = 5), so there is no output; make the kernel smaller or add padding.'
    """
    picture = _image2d(image)
    k, why = _setting(kernel_size, "kernel size", 1)
    s, why_s = _setting(stride, "stride", 1)
    p, why_p = _setting(padding, "padding", 0)
    p_used = p if p is not None else 0
    padded = np.pad(picture, p_used)
    if isinstance(kernel, str):
        weights = make_kernel(kernel, k) if k is not None else np.zeros((1, 1))
    else:
        weights = np.asarray(kernel, dtype=float)
        if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
            raise ValueError(f"kernel must be a square 2-D array, got shape {weights.shape}.")
        if k is not None and weights.shape[0] != k:
            raise ValueError(f"kernel has shape {weights.shape} but kernel_size is {k}; make them agree.")
    step = ConvStep(picture, weights, k, s, p, padded)
    reasons = [r for r in (why, why_s, why_p) if r]
    if reasons:
        step.impossible = reasons[0][0].upper() + reasons[0][1:]
        return step
    for axis, what in ((0, "rows"), (1, "columns")):
        if k > padded.shape[axis]:
            h, w = picture.shape
            step.impossible = (
                f"a {k} × {k} kernel does not fit in the {h} × {w} image padded by {p} "
                f"({picture.shape[axis]} + 2×{p} = {padded.shape[axis]}), so there is no output; "
                "make the kernel smaller or add padding."
            )
            return step
    output = conv2d(padded[np.newaxis, :, :, np.newaxis], weights[:, :, np.newaxis, np.newaxis], stride=s)[0, :, :, 0]
    step.output, step.output_shape = output, output.shape
    notes = []
    step.row, note_r = _clamp(int(row) if isinstance(row, (int, np.integer)) else 0, output.shape[0], "row")
    step.col, note_c = _clamp(int(col) if isinstance(col, (int, np.integer)) else 0, output.shape[1], "col")
    notes += [n for n in (note_r, note_c) if n]
    step.top, step.left = step.row * s, step.col * s
    step.window = padded[step.top:step.top + k, step.left:step.left + k]
    step.products = step.window * weights
    step.total = float(step.products.sum())
    step.partial = _partial(output, step.row, step.col)
    rows = explain_conv_output(picture.shape[0], k, s, p)
    cols = explain_conv_output(picture.shape[1], k, s, p)
    step.unused = (rows.unused, cols.unused)
    step.formula = rows.formula if picture.shape[0] == picture.shape[1] else f"rows: {rows.formula}; columns: {cols.formula}"
    if rows.unused or cols.unused:
        notes.append(f"stride {s} leaves the last {rows.unused} row(s) and {cols.unused} column(s) unused")
    if s == 1 and k % 2 == 1 and p == (k - 1) // 2 and p > 0:
        notes.append("this padding is what padding='same' adds")
    step.note = "; ".join(notes)
    return step


# ----------------------------------------------------------------------------- pool step
@dataclass
class PoolStep:
    """Everything the pooling explorer shows for one setting (see :func:`pool_step`)."""

    image: np.ndarray
    pool_size: int | None
    stride: int | None
    padding: str
    mode: str
    padded: np.ndarray
    pads: tuple = ((0, 0), (0, 0))
    impossible: str | None = None
    output_shape: tuple | None = None
    output: np.ndarray | None = None
    partial: np.ndarray | None = None
    row: int | None = None
    col: int | None = None
    top: int | None = None
    left: int | None = None
    window: np.ndarray | None = None
    value: float | None = None
    winner: tuple | None = None
    formula: str = ""
    unused: tuple = (0, 0)
    note: str = ""

    @property
    def possible(self) -> bool:
        return self.impossible is None

    @property
    def readout(self) -> str:
        """One line for the explorer: "Output: H × W ..." or "Impossible: reason"."""
        if self.impossible:
            return f"Impossible: {self.impossible}"
        what = "max" if self.mode == "max" else "average"
        text = f"Output: {_size_text(self.output_shape)} · cell (row {self.row}, col {self.col}) = {what} of the window = {self.value:.2f}"
        return text + (f" · {self.note}" if self.note else "")


def pool_step(image, pool_size=2, stride=2, row=0, col=0, padding="valid", mode="max") -> PoolStep:
    """Compute one step of max or average pooling for the explorer; never raises for a setting.

    Parameters
    ----------
    image : array of shape (H, W)
    pool_size : int
        Rows (= columns) of the pooling window.
    stride : int or None
        Step of the window; None means the pool size (Keras' default).
    row, col : int
        The output cell to compute (moved to the edge of the output when past it).
    padding : "valid" or "same"
    mode : "max" or "average"

    Returns
    -------
    PoolStep
        The window, its max (and where it is) or average, the output map whole and filled up
        to the cell, the formula with numbers and the rows/columns the floor drops, or
        ``impossible`` with a reason.

    Examples
    --------
    >>> image = np.arange(9.0).reshape(3, 3)
    >>> step = pool_step(image, 2, 2)
    >>> step.readout
    'Output: 1 × 1 · cell (row 0, col 0) = max of the window = 4.00 · the floor leaves the last 1 row(s) and 1 column(s) unused'
    >>> pool_step(image, 4).readout
    "Impossible: a 4 × 4 pool does not fit in the 3 × 3 image with padding='valid'; make the pool smaller or choose padding='same'."
    """
    picture = _image2d(image)
    k, why = _setting(pool_size, "pool size", 1)
    s, why_s = (k, None) if stride is None else _setting(stride, "stride", 1)
    step = PoolStep(picture, k, s, str(padding), str(mode), picture)
    reasons = [r for r in (why, why_s) if r]
    if padding not in ("valid", "same"):
        reasons.append(f"padding must be 'valid' or 'same', not {padding!r}.")
    if mode not in ("max", "average"):
        reasons.append(f"mode must be 'max' or 'average', not {mode!r}.")
    if reasons:
        step.impossible = reasons[0][0].upper() + reasons[0][1:]
        return step
    h, w = picture.shape
    if padding == "valid" and (k > h or k > w):
        step.impossible = (
            f"a {k} × {k} pool does not fit in the {h} × {w} image with padding='valid'; "
            "make the pool smaller or choose padding='same'."
        )
        return step
    pads = ((0, 0), (0, 0)) if padding == "valid" else (same_padding(h, k, s), same_padding(w, k, s))
    fill = -np.inf if mode == "max" else np.nan
    step.pads = pads
    step.padded = np.pad(picture, pads, constant_values=fill) if any(sum(p) for p in pads) else picture
    pool = max_pool2d if mode == "max" else avg_pool2d
    output = pool(picture[np.newaxis, :, :, np.newaxis], k, s, padding)[0, :, :, 0]
    step.output, step.output_shape = output, output.shape
    step.row, note_r = _clamp(int(row) if isinstance(row, (int, np.integer)) else 0, output.shape[0], "row")
    step.col, note_c = _clamp(int(col) if isinstance(col, (int, np.integer)) else 0, output.shape[1], "col")
    notes = [n for n in (note_r, note_c) if n]
    step.top, step.left = step.row * s, step.col * s
    step.window = step.padded[step.top:step.top + k, step.left:step.left + k]
    step.value = float(output[step.row, step.col])
    if mode == "max":
        step.winner = tuple(int(i) for i in np.unravel_index(np.argmax(step.window), step.window.shape))
    step.partial = _partial(output, step.row, step.col)
    rows = explain_pool_output(h, k, s, padding)
    cols = explain_pool_output(w, k, s, padding)
    step.unused = (rows.unused, cols.unused)
    step.formula = rows.formula if h == w else f"rows: {rows.formula}; columns: {cols.formula}"
    if rows.unused or cols.unused:
        notes.append(f"the floor leaves the last {rows.unused} row(s) and {cols.unused} column(s) unused")
    step.note = "; ".join(notes)
    return step


# ----------------------------------------------------------------------------- figures
def _axes(ax, count: int, figsize):
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, count, figsize=figsize, layout="constrained")
        return list(np.atleast_1d(axes))
    axes = list(np.atleast_1d(np.asarray(ax, dtype=object)))
    if len(axes) != count:
        raise ValueError(f"this figure needs {count} Axes, got {len(axes)}; pass ax=None to make a new figure.")
    return axes


def _text_cells(ax, limit: int):
    return [ax.text(0, 0, "", ha="center", va="center", fontsize=8, visible=False) for _ in range(limit)]


def _overlay(shape, pads, unused, pad_colour, unused_colour) -> np.ndarray:
    """RGBA layer over the (padded) input: padding in one tint, rows/columns no window uses in another."""
    layer = np.zeros(shape + (4,))
    (top, bottom), (left, right) = pads
    mask = np.ones(shape, bool)
    mask[top:shape[0] - bottom, left:shape[1] - right] = False
    layer[mask] = pad_colour
    ur, uc = unused
    if ur:
        layer[shape[0] - ur:, :] = unused_colour
    if uc:
        layer[:, shape[1] - uc:] = unused_colour
    return layer


def _set_image(im, data, ax=None):
    im.set_data(data)
    h, w = data.shape[:2]
    im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
    if ax is not None:
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)


def _symmetric(im, data):
    finite = np.asarray(data, float)
    finite = finite[np.isfinite(finite)]
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    im.set_clim(-(limit or 1.0), limit or 1.0)


PAD_TINT = (0.30, 0.55, 0.95, 0.45)
UNUSED_TINT = (1.00, 0.55, 0.00, 0.55)


class StepFigure:
    """The artists of a conv or pool step figure, redrawn in place by :meth:`update`.

    Returned by :func:`plot_conv_step` and :func:`plot_pool_step`; ``figure`` and ``axes``
    are the matplotlib objects, and the explorers call ``update(step)`` on every change.
    """

    TEXTS = 25

    def __init__(self, axes, kind: str, compact: bool = False):
        import matplotlib.patches as patches

        self.kind = kind
        self.compact = compact  # explorers: products only, formula in the read-out (fewer glyphs, faster)
        self.axes = axes
        self.figure = axes[0].figure
        grey = _cmap("gray")
        diverging = _cmap("RdBu_r")
        self.input = axes[0].imshow(np.zeros((2, 2)), cmap=grey, vmin=0, vmax=1, interpolation="nearest")
        self.tint = axes[0].imshow(np.zeros((2, 2, 4)), interpolation="nearest")
        self.window_box = patches.Rectangle((0, 0), 1, 1, fill=False, edgecolor="#d62728", linewidth=2)
        axes[0].add_patch(self.window_box)
        cells_cmap = diverging if kind == "conv" else _cmap("viridis")
        self.cells = axes[1].imshow(np.zeros((2, 2)), cmap=cells_cmap, interpolation="nearest")
        self.winner_box = patches.Rectangle((0, 0), 1, 1, fill=False, edgecolor="#d62728", linewidth=2, visible=False)
        axes[1].add_patch(self.winner_box)
        self.cell_texts = _text_cells(axes[1], self.TEXTS)
        out_cmap = diverging if kind == "conv" else grey
        self.out = axes[2].imshow(np.zeros((2, 2)), cmap=out_cmap, interpolation="nearest")
        self.out_box = patches.Rectangle((0, 0), 1, 1, fill=False, edgecolor="#d62728", linewidth=2)
        axes[2].add_patch(self.out_box)
        self.message = axes[1].text(0.5, 0.5, "", ha="center", va="center", fontsize=10, color="#b35900",
                                    transform=axes[1].transAxes)
        self.formula = self.figure.supxlabel(" ", fontsize=8.5, family="monospace")
        for ax in axes:
            ax.set_axis_off()  # no ticks or frames: faster redraws, cleaner pictures

    # -- helpers
    SHORT_TITLES = {"conv": ("input", "window × kernel", "output so far"), "pool": ("input", "window", "output so far")}

    def _title(self, index: int, text: str):
        # explorers keep short fixed titles (their read-out carries the numbers): fewer glyphs to draw
        text = self.SHORT_TITLES[self.kind][index] if self.compact else text
        if self.axes[index].get_title() != text:
            self.axes[index].set_title(text, fontsize=10, y=1.0)

    def _texts(self, values, fmt, colour_of=None):
        rows, cols = values.shape
        show = values.size <= (9 if self.compact else self.TEXTS)
        for index, text in enumerate(self.cell_texts):
            if show and index < values.size:
                i, j = divmod(index, cols)
                text.set_position((j, i))
                text.set_text(fmt(i, j))
                text.set_color(colour_of(i, j) if colour_of else "black")
                text.set_visible(True)
            else:
                text.set_visible(False)

    def dynamic_artists(self) -> list:
        """The artists an update may change (everything but the axes and their fixed titles)."""
        return [self.input, self.tint, self.window_box, self.cells, self.winner_box, *self.cell_texts,
                self.out, self.out_box, self.message]

    def update(self, step):
        """Redraw for a new :class:`ConvStep` or :class:`PoolStep` (same kind as the figure)."""
        (self._update_conv if self.kind == "conv" else self._update_pool)(step)
        return self

    def _impossible(self, step, size):
        _set_image(self.input, np.nan_to_num(step.padded, neginf=0.0), self.axes[0])
        self.tint.set_visible(False)
        # the kernel/pool drawn where it would start: it sticks out of the image
        self.window_box.set_xy((-0.5, -0.5))
        self.window_box.set_width(size)
        self.window_box.set_height(size)
        self.window_box.set_linestyle("--")
        self.window_box.set_linewidth(3)
        self.axes[0].set_xlim(-0.5, max(size, step.padded.shape[1]) - 0.5)
        self.axes[0].set_ylim(max(size, step.padded.shape[0]) - 0.5, -0.5)
        self._title(0, "does not fit" if size else "input")
        for artist in (self.cells, self.out, self.out_box, self.winner_box):
            artist.set_visible(False)
        self._texts(np.zeros((0, 0)), str)
        self.message.set_text(textwrap.fill("Impossible: " + step.impossible, 34))
        self._title(1, "")
        self._title(2, "no output")
        self.formula.set_text("")

    def _show_window(self, step, size, pads, title):
        _set_image(self.input, np.nan_to_num(step.padded, nan=0.0, neginf=0.0), self.axes[0])
        self.tint.set_visible(True)
        _set_image(self.tint, _overlay(step.padded.shape, pads, step.unused, PAD_TINT, UNUSED_TINT))
        self.window_box.set_linestyle("-")
        self.window_box.set_linewidth(2)
        self.window_box.set_xy((step.left - 0.5, step.top - 0.5))
        self.window_box.set_width(size)
        self.window_box.set_height(size)
        self._title(0, title)
        self.message.set_text("")
        for artist in (self.cells, self.out, self.out_box):
            artist.set_visible(True)
        _set_image(self.out, step.partial, self.axes[2])
        self.out_box.set_xy((step.col - 0.5, step.row - 0.5))
        h, w = step.output_shape
        self._title(2, f"output {h} × {w}: cell ({step.row}, {step.col})")
        self.formula.set_text("" if self.compact else step.formula)

    def _update_conv(self, step):
        low, high = np.nanmin(step.image), np.nanmax(step.image)
        self.input.set_clim(min(low, 0.0), high if high > min(low, 0.0) else 1.0)
        if not step.possible:
            self._impossible(step, step.kernel_size or 0)
            return
        p = step.padding
        title = f"input {step.image.shape[0]} × {step.image.shape[1]}" + (f", padded by {p}" if p else "")
        self._show_window(step, step.kernel_size, ((p, p), (p, p)), title)
        self.cells.set_visible(True)
        _set_image(self.cells, step.products, self.axes[1])
        _symmetric(self.cells, step.products)
        _symmetric(self.out, step.output)
        window, kernel, products = step.window, step.kernel, step.products
        if window.size <= 9 and not self.compact:
            fmt = lambda i, j: f"{_num(window[i, j])}×{_num(kernel[i, j], 'g')}\n= {_num(products[i, j])}"  # noqa: E731
        else:
            fmt = lambda i, j: _num(products[i, j])  # noqa: E731
        strong = 0.6 * (float(np.abs(products).max()) or 1.0)
        self._texts(products, fmt, lambda i, j: "white" if abs(products[i, j]) > strong else "black")
        self._title(1, f"window × kernel: {products.size} products, sum = {step.total:.2f}")

    def _update_pool(self, step):
        low, high = np.nanmin(step.image), np.nanmax(step.image)
        self.input.set_clim(min(low, 0.0), high if high > min(low, 0.0) else 1.0)
        self.out.set_clim(min(low, 0.0), high if high > min(low, 0.0) else 1.0)
        if not step.possible:
            self._impossible(step, step.pool_size or 0)
            return
        title = f"input {step.image.shape[0]} × {step.image.shape[1]}" + (", padding='same'" if any(map(sum, step.pads)) else "")
        self._show_window(step, step.pool_size, step.pads, title)
        self.cells.set_visible(True)
        shown = np.where(np.isfinite(step.window), step.window, np.nan)
        _set_image(self.cells, shown, self.axes[1])
        self.cells.set_clim(min(low, 0.0), high if high > min(low, 0.0) else 1.0)
        window = step.window
        self._texts(window, lambda i, j: "pad" if not np.isfinite(window[i, j]) else _num(window[i, j]),
                    lambda i, j: "#888888" if not np.isfinite(window[i, j]) else "black" if window[i, j] > 0.6 * high else "white")
        if step.winner is not None:
            self.winner_box.set_visible(True)
            self.winner_box.set_xy((step.winner[1] - 0.5, step.winner[0] - 0.5))
            what = f"max = {step.value:.2f}"
        else:
            self.winner_box.set_visible(False)
            what = f"average = {step.value:.2f}"
        self._title(1, f"{step.pool_size} × {step.pool_size} window: {what}")


def _num(value, fmt=".2f") -> str:
    """Format a number for a figure, without the confusing "-0.00"."""
    text = format(float(value), fmt)
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _cmap(name, bad="#eeeeee"):
    import matplotlib

    return matplotlib.colormaps[name].with_extremes(bad=bad)


def plot_conv_step(step: ConvStep, ax=None) -> StepFigure:
    """Draw one convolution step: the window on the (padded) input, the products, the output so far.

    Blue tint: zero padding; orange tint: rows/columns the stride leaves unused. The
    formula with the numbers filled in is written under the panels.

    Parameters
    ----------
    step : ConvStep
        From :func:`conv_step`.
    ax : sequence of three matplotlib Axes, optional
        Where to draw; by default a new figure.

    Returns
    -------
    StepFigure
        The artists (``.figure``, ``.axes``); ``.update(another_step)`` redraws in place.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> drawn = plot_conv_step(conv_step(np.eye(6), 3, row=1, col=1))
    >>> len(drawn.axes), drawn.axes[1].get_title()
    (3, 'window × kernel: 9 products, sum = 0.00')
    """
    return StepFigure(_axes(ax, 3, (11, 4)), "conv").update(step)


def plot_pool_step(step: PoolStep, ax=None) -> StepFigure:
    """Draw one pooling step: the window on the input, its values (max outlined), the output so far.

    Orange tint: rows/columns that no window reaches (the floor drops them); blue tint:
    the padding of ``padding="same"``.

    Parameters
    ----------
    step : PoolStep
        From :func:`pool_step`.
    ax : sequence of three matplotlib Axes, optional

    Returns
    -------
    StepFigure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> drawn = plot_pool_step(pool_step(np.arange(169.0).reshape(13, 13), 2, 2, row=5, col=5))
    >>> drawn.axes[2].get_title()
    'output 6 × 6: cell (5, 5)'
    """
    return StepFigure(_axes(ax, 3, (11, 4)), "pool").update(step)


def plot_kernel_responses(image, kernels: dict, ax=None, stride=1, padding="valid"):
    """Show an image and what each named kernel makes of it (one feature map per kernel).

    Parameters
    ----------
    image : array of shape (H, W)
    kernels : dict of str -> array of shape (K, K)
    ax : sequence of ``len(kernels) + 1`` Axes, optional
    stride, padding : as in :func:`cnnteach.ops.conv2d`

    Returns
    -------
    list of matplotlib.image.AxesImage
        The image first, then one map per kernel (red: positive, blue: negative).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> shown = plot_kernel_responses(np.eye(8), {"blur": make_kernel("blur")})
    >>> [im.get_array().shape for im in shown]
    [(8, 8), (6, 6)]
    """
    picture = _image2d(image)
    axes = _axes(ax, len(kernels) + 1, (2.6 * (len(kernels) + 1), 2.9))
    shown = [axes[0].imshow(picture, cmap="gray", interpolation="nearest")]
    axes[0].set_title(f"input {picture.shape[0]} × {picture.shape[1]}", fontsize=10, y=1.0)
    for axis, (name, weights) in zip(axes[1:], kernels.items()):
        weights = np.asarray(weights, dtype=float)
        fmap = conv2d(picture[np.newaxis, :, :, np.newaxis], weights[:, :, np.newaxis, np.newaxis],
                      stride=stride, padding=padding)[0, :, :, 0]
        limit = float(np.abs(fmap).max()) or 1.0
        shown.append(axis.imshow(fmap, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest"))
        axis.set_title(f"{name}: {fmap.shape[0]} × {fmap.shape[1]}", fontsize=10, y=1.0)
    for axis in axes:
        axis.set_xticks([])
        axis.set_yticks([])
    return shown


def plot_flatten(maps, ax=None, show_positions: int = 3):
    """Show how ``Flatten`` lays a stack of feature maps (H, W, C) out as one vector.

    Top: the C maps side by side. Bottom: the H·W·C vector, with a strip that colours each
    element by the map (channel) it comes from: the channel changes fastest, so the colours
    cycle. Lines join the first few pixels to where they land.

    Parameters
    ----------
    maps : array of shape (H, W, C)
    ax : sequence of two Axes (maps, vector), optional
    show_positions : int, optional
        How many pixels of the first map to join to their place in the vector.

    Returns
    -------
    dict
        ``{"maps": AxesImage, "vector": AxesImage, "channels": AxesImage}``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> drawn = plot_flatten(np.zeros((6, 6, 10)))
    >>> drawn["vector"].get_array().shape
    (1, 360)
    """
    stack = np.asarray(maps, dtype=float)
    if stack.ndim != 3:
        raise ValueError(f"maps must have shape (rows, columns, channels), got {stack.shape}; pass one image's maps, e.g. maps[0].")
    h, w, c = stack.shape
    if ax is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 1, figsize=(11, 3.6), height_ratios=[2.2, 1], layout="constrained")
    else:
        axes = _axes(ax, 2, None)
    gap = 1
    montage = np.full((h, c * (w + gap) - gap), np.nan)
    for channel in range(c):
        montage[:, channel * (w + gap):channel * (w + gap) + w] = stack[:, :, channel]
    grey = _cmap("gray", bad="white")
    drawn = {"maps": axes[0].imshow(montage, cmap=grey, interpolation="nearest")}
    tab = _cmap("tab10")
    for channel in range(c):
        axes[0].add_patch(_rect(channel * (w + gap) - 0.5, -0.5, w, h, tab(channel % 10)))
    axes[0].set_title(f"{c} feature maps of {h} × {w}", fontsize=10, y=1.0)
    vector = stack.reshape(1, -1)
    channels = np.tile(np.arange(c), h * w)[np.newaxis, :] % 10
    axes[1].set_xlim(-0.5, vector.shape[1] - 0.5)
    drawn["vector"] = axes[1].imshow(vector, cmap="gray", aspect="auto", interpolation="nearest",
                                     extent=(-0.5, vector.shape[1] - 0.5, 1.5, 0.5))
    drawn["channels"] = axes[1].imshow(channels, cmap=tab, vmin=0, vmax=9, aspect="auto", interpolation="nearest",
                                       extent=(-0.5, vector.shape[1] - 0.5, 0.5, -0.5))
    axes[1].set_ylim(1.5, -0.5)
    axes[1].set_yticks([0, 1], ["map", "value"])
    axes[1].set_title(f"Flatten: one vector of {h} × {w} × {c} = {vector.shape[1]} numbers "
                      f"(pixel (i, j) of map c lands at (i·{w} + j)·{c} + c)", fontsize=10)
    axes[0].set_axis_off()
    axes[1].set_xticks(np.arange(0, vector.shape[1], w * c))  # each row of the maps fills w*c elements
    axes[1].tick_params(labelsize=8)
    from matplotlib.patches import ConnectionPatch

    for j in range(min(show_positions, w)):
        target = j * c  # map 0, row 0, column j
        link = ConnectionPatch(xyA=(j, 0), coordsA=axes[0].transData, xyB=(target, -0.5),
                               coordsB=axes[1].transData, color="#d62728", linewidth=0.8)
        link.set_in_layout(False)
        axes[1].figure.add_artist(link)
    return drawn


def _rect(x, y, w, h, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, fill=False, edgecolor=colour, linewidth=2)


# ----------------------------------------------------------------------------- widgets
@dataclass
class Explorer:
    """An explorer's widgets: display it (it shows its ``box``) and move its sliders.

    ``controls`` maps slider descriptions ("kernel", "stride", ...) to the widgets,
    ``readout`` is the HTML line ("Output: 26 × 26 ..." or "Impossible: ..."), ``output``
    the ipywidgets.Output the figure is drawn into, and ``step`` the latest pure result.
    """

    box: object
    controls: dict
    readout: object
    output: object
    drawing: StepFigure
    compute: object
    step: object = None
    updates: int = 0
    _busy: bool = field(default=False, repr=False)
    _pending: bool = field(default=False, repr=False)
    _lock: object = field(default_factory=threading.Lock, repr=False)
    _background: object = field(default=None, repr=False)

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)

    def _render(self) -> dict:
        """PNG of the figure: fixed parts drawn once and cached, only the changing artists redrawn."""
        figure = self.drawing.figure
        canvas = figure.canvas
        if self._background is None:
            for artist in self.drawing.dynamic_artists():
                artist.set_animated(True)
            canvas.draw()
            self._background = canvas.copy_from_bbox(figure.bbox)
        canvas.restore_region(self._background)
        for artist in self.drawing.dynamic_artists():
            if artist.get_visible():
                figure.draw_artist(artist)
        return _png_output(figure, draw=False)

    def values(self) -> dict:
        return {name: widget.value for name, widget in self.controls.items()}

    def update(self, change=None):
        """Recompute the step from the sliders, redraw the figure in place, refresh the read-out.

        Widget messages may arrive on two kernel threads at once (ipykernel subshells): a change
        that arrives during a redraw is never dropped, the running update simply goes round again
        with the latest slider values.
        """
        with self._lock:
            if self._busy:
                self._pending = True
                return
            self._busy = True
        while True:
            self._update_once()
            with self._lock:
                if not self._pending:
                    self._busy = False
                    return
                self._pending = False

    def _update_once(self):
        try:
            step = self.compute(**self.values())
            if step.possible:  # let the position sliders span exactly the output
                for name, size in (("row", step.output_shape[0]), ("col", step.output_shape[1])):
                    slider = self.controls[name]
                    slider.max = max(size - 1, 0)
                step = self.compute(**self.values())
            self.step = step
            self.readout.value = _readout_html(step)
            self.drawing.update(step)
            self.output.outputs = (self._render(),)
            self.updates += 1
        except Exception as exc:  # never let a slider raise in a live demo
            self.readout.value = f"<b>Impossible:</b> the explorer failed ({html.escape(type(exc).__name__)}: {html.escape(str(exc))})"


def _readout_html(step) -> str:
    text = step.readout
    if step.possible:
        head, _, rest = text.partition(" · ")
        body = f"<b>{html.escape(head)}</b>" + (f" · {html.escape(rest)}" if rest else "")
        return f"{body}<br><code>{html.escape(step.formula)}</code>"
    return f"<b style='color:#b35900'>Impossible:</b> {html.escape(text[len('Impossible: '):])}"


def _png_output(figure, draw: bool = True) -> dict:
    from PIL import Image

    if draw:
        figure.canvas.draw()  # one Agg draw, then a fast PNG encoding of the pixels
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(figure.canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"output_type": "display_data", "data": {"image/png": data, "text/plain": "<explorer figure>"}, "metadata": {}}


def _figure(width=11, height=4, dpi=64):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = list(figure.subplots(1, 3))
    figure.get_layout_engine().set(h_pad=0.1, w_pad=0.1)
    return figure, axes


def _build(controls: dict, compute, kind: str, extra_rows=()):
    import ipywidgets as widgets

    readout = widgets.HTML(value="")
    readout.add_class("cnnteach-readout")
    output = widgets.Output()
    figure, axes = _figure()
    first = compute(**{name: w.value for name, w in controls.items()})
    drawing = StepFigure(axes, kind, compact=True).update(first)
    figure.canvas.draw()  # lay the figure out once, then fix it: redraws stay fast and still
    figure.set_layout_engine("none")
    sliders = [w for w in controls.values()]
    rows = [widgets.HBox(sliders[:3]), widgets.HBox(sliders[3:])] if len(sliders) > 3 else [widgets.HBox(sliders)]
    box = widgets.VBox([*rows, *extra_rows, readout, output])
    explorer = Explorer(box, controls, readout, output, drawing, compute)
    for widget in controls.values():
        widget.observe(explorer.update, names="value")
    explorer.update()
    return explorer


def conv_explorer(image, kernel="vertical edge", kernel_size=3, stride=1, padding=0, row=8, col=8) -> Explorer:
    """Sliders for kernel size, stride, padding and window position over an image.

    Shows the window on the padded image, the products of window and kernel with their sum,
    the output map as it fills, the formula with numbers, and why a setting is impossible.

    Parameters
    ----------
    image : array of shape (H, W)
        One grey image, e.g. ``x_train[0] / 255``.
    kernel : str, optional
        Starting weights, one of :data:`KERNEL_NAMES` (there is a dropdown to change them).
    kernel_size, stride, padding, row, col : int, optional
        Starting values of the sliders.

    Returns
    -------
    Explorer
        Display it in a notebook; ``.controls["kernel"].value = 5`` moves a slider.

    Examples
    --------
    >>> ex = conv_explorer(np.zeros((28, 28)))
    >>> ex.readout.value.startswith("<b>Output: 26 × 26")
    True
    >>> ex.controls["kernel"].value = 29
    >>> "Impossible:" in ex.readout.value
    True
    """
    import ipywidgets as widgets

    picture = _image2d(image)
    layout = widgets.Layout(width="320px")
    top = max(picture.shape) + 2 * CONV_RANGES["padding"][1] - 1
    controls = {
        "kernel": widgets.IntSlider(value=kernel_size, min=CONV_RANGES["kernel"][0], max=max(CONV_RANGES["kernel"][1], max(picture.shape) + 1), description="kernel", layout=layout, continuous_update=True),
        "stride": widgets.IntSlider(value=stride, min=CONV_RANGES["stride"][0], max=CONV_RANGES["stride"][1], description="stride", layout=layout),
        "padding": widgets.IntSlider(value=padding, min=CONV_RANGES["padding"][0], max=CONV_RANGES["padding"][1], description="padding", layout=layout),
        "row": widgets.IntSlider(value=row, min=0, max=top, description="row", layout=layout),
        "col": widgets.IntSlider(value=col, min=0, max=top, description="col", layout=layout),
        "filter": widgets.Dropdown(options=list(KERNEL_NAMES), value=kernel, description="filter", layout=layout),
    }

    def compute(kernel, stride, padding, row, col, filter):  # noqa: A002 - the widget's name
        return conv_step(picture, kernel, stride, padding, row, col, kernel=filter)

    return _build(controls, compute, "conv")


def pool_explorer(image, pool_size=2, stride=2, row=3, col=3, padding="valid", mode="max") -> Explorer:
    """Sliders for pool size, stride and window position over an image (or a feature map).

    Shows the window and its max (or average), the pooled map as it fills, the formula with
    numbers and the rows/columns the floor drops, and why a setting is impossible.

    Parameters
    ----------
    image : array of shape (H, W)
    pool_size, stride, row, col : int, optional
        Starting values of the sliders.
    padding : "valid" or "same", optional
    mode : "max" or "average", optional

    Returns
    -------
    Explorer

    Examples
    --------
    >>> ex = pool_explorer(np.zeros((28, 28)))
    >>> ex.readout.value.startswith("<b>Output: 14 × 14")
    True
    >>> ex.controls["pool"].value = 29
    >>> "Impossible:" in ex.readout.value
    True
    """
    import ipywidgets as widgets

    picture = _image2d(image)
    layout = widgets.Layout(width="320px")
    controls = {
        "pool": widgets.IntSlider(value=pool_size, min=POOL_RANGES["pool"][0], max=max(POOL_RANGES["pool"][1], max(picture.shape) + 1), description="pool", layout=layout),
        "stride": widgets.IntSlider(value=stride, min=POOL_RANGES["stride"][0], max=POOL_RANGES["stride"][1], description="stride", layout=layout),
        "padding": widgets.ToggleButtons(options=["valid", "same"], value=padding, description="padding"),
        "row": widgets.IntSlider(value=row, min=0, max=max(picture.shape) - 1, description="row", layout=layout),
        "col": widgets.IntSlider(value=col, min=0, max=max(picture.shape) - 1, description="col", layout=layout),
        "mode": widgets.ToggleButtons(options=["max", "average"], value=mode, description="pooling"),
    }

    def compute(pool, stride, padding, row, col, mode):
        return pool_step(picture, pool, stride, row, col, padding=padding, mode=mode)

    return _build(controls, compute, "pool")
