"""One step of a convolution or pooling, computed as plain data that an explorer can draw.

:func:`conv_step` and :func:`pool_step` are *pure*: they return a plain data object and never
raise for any slider setting. An impossible setting (a kernel larger than the padded image,
say) comes back with an ``impossible`` reason instead of an exception. :func:`make_kernel`
makes the named kernels the lessons use. This module imports numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnteach._checks import grey_image
from cnnteach.arithmetic import explain_conv_output, explain_pool_output, same_padding
from cnnteach.ops import avg_pool2d, conv2d, max_pool2d

__all__ = [
    "CONV_RANGES",
    "KERNEL_NAMES",
    "POOL_RANGES",
    "ConvStep",
    "PoolStep",
    "conv_step",
    "make_kernel",
    "pool_step",
]

KERNEL_NAMES = ("vertical edge", "horizontal edge", "blur")

CONV_RANGES = {"kernel": (1, 29), "stride": (1, 4), "padding": (0, 3)}
POOL_RANGES = {"pool": (1, 29), "stride": (1, 4)}
#: The largest kernel :func:`make_kernel` makes (MNIST digits are 28 pixels wide).
MAX_KERNEL = 999


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
        raise ValueError(
            f"unknown kernel {name!r}; choose one of {', '.join(map(repr, KERNEL_NAMES))}."
        )
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"kernel size must be a positive whole number, got {size!r}.")
    if size > MAX_KERNEL:
        raise ValueError(
            f"kernel size {int(size)} is far larger than any image here; "
            f"use a size of at most {MAX_KERNEL}."
        )
    size = int(size)
    if name == "blur":
        return np.full((size, size), 1.0 / size**2)
    columns = np.sign(np.arange(size) - (size - 1) / 2)
    kernel = np.tile(columns, (size, 1)).astype(float)
    return kernel if name == "vertical edge" else kernel.T.copy()


def _setting(value, name: str, minimum: int):
    """Return (int, None) for a usable slider value, or (None, reason) for an impossible one."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        return None, f"the {name} must be a whole number, not {value!r}."
    if value < minimum:
        need = "at least 1" if minimum == 1 else "0 or more"
        return None, f"the {name} must be {need}, and {int(value)} is not."
    return int(value), None


def _position(value, name: str):
    """(int, None) for an output row or column, or (None, reason): NaN is not row 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        return None, f"the {name} must be a whole number such as 0 or 5, not {value!r}."
    return int(value), None


def _oversized(k: int, s: int, p: int, shape) -> str | None:
    """A reason when the window, stride or padding is far beyond the image (nothing to show)."""
    side = max(shape)
    if p > side:
        return f"padding {p} is more than the image's size ({side}); use at most {side}."
    if k > 2 * side + 2 * p:
        return (
            f"a {k} × {k} window is far larger than the {shape[0]} × {shape[1]} image; "
            f"use at most {2 * side}."
        )
    if s > 2 * side:
        return f"a stride of {s} jumps past the whole {side}-pixel image; use at most {side}."
    return None


def _partial(output: np.ndarray, row: int, col: int) -> np.ndarray:
    """The output map as it stands after computing cell (row, col) in reading order."""
    partial = output.astype(float).copy()
    flat = partial.reshape(-1)
    flat[row * output.shape[1] + col + 1 :] = np.nan
    return partial


def _clamp(value: int, size: int, name: str):
    if value < 0:
        return (
            0,
            f"{name} {value} is before the first output {name}, so the explorer shows {name} 0.",
        )
    if value >= size:
        return (
            size - 1,
            f"{name} {value} is past the last output {name} "
            f"({size - 1}), so the explorer shows {name} {size - 1}.",
        )
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


def conv_step(
    image, kernel_size=3, stride=1, padding=0, row=0, col=0, kernel="vertical edge"
) -> ConvStep:
    """Compute one step of a convolution (cross-correlation) for the explorer.

    Never raises for a setting.

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
    >>> conv_step(image, kernel_size=7).readout  # doctest: +NORMALIZE_WHITESPACE
    'Impossible: a 7 × 7 kernel does not fit in the 5 × 5 image padded by 0 (5 + 2×0 = 5), so there
        is no output; make the kernel smaller or add padding.'
    """
    picture = grey_image(image, "the explorer's image")
    k, why = _setting(kernel_size, "kernel size", 1)
    s, why_s = _setting(stride, "stride", 1)
    p, why_p = _setting(padding, "padding", 0)
    r, why_r = _position(row, "row")
    c, why_c = _position(col, "col")
    if not (why or why_s or why_p):
        why = _oversized(k, s, p, picture.shape)
        if why:
            k, p = None, None
    p_used = p if p is not None else 0
    padded = np.pad(picture, p_used)
    if k is not None and k > max(padded.shape):
        weights = np.zeros((1, 1))  # it cannot fit: say so below without building the kernel
    elif isinstance(kernel, str):
        weights = make_kernel(kernel, k) if k is not None else np.zeros((1, 1))
    else:
        weights = np.asarray(kernel, dtype=float)
        if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
            raise ValueError(f"kernel must be a square 2-D array, got shape {weights.shape}.")
        if k is not None and weights.shape[0] != k:
            raise ValueError(
                f"kernel has shape {weights.shape} but kernel_size is {k}; make them agree."
            )
    step = ConvStep(picture, weights, k, s, p, padded)
    reasons = [reason for reason in (why, why_s, why_p, why_r, why_c) if reason]
    if reasons:
        step.impossible = reasons[0][0].upper() + reasons[0][1:]
        return step
    for axis, _what in ((0, "rows"), (1, "columns")):
        if k > padded.shape[axis]:
            h, w = picture.shape
            step.impossible = (
                f"a {k} × {k} kernel does not fit in the {h} × {w} image padded by {p} "
                f"({picture.shape[axis]} + 2×{p} = {padded.shape[axis]}), so there is no output; "
                "make the kernel smaller or add padding."
            )
            return step
    output = conv2d(
        padded[np.newaxis, :, :, np.newaxis], weights[:, :, np.newaxis, np.newaxis], stride=s
    )[0, :, :, 0]
    step.output, step.output_shape = output, output.shape
    notes = []
    step.row, note_r = _clamp(r, output.shape[0], "row")
    step.col, note_c = _clamp(c, output.shape[1], "col")
    notes += [n for n in (note_r, note_c) if n]
    step.top, step.left = step.row * s, step.col * s
    step.window = padded[step.top : step.top + k, step.left : step.left + k]
    step.products = step.window * weights
    step.total = float(step.products.sum())
    step.partial = _partial(output, step.row, step.col)
    rows = explain_conv_output(picture.shape[0], k, s, p)
    cols = explain_conv_output(picture.shape[1], k, s, p)
    step.unused = (rows.unused, cols.unused)
    step.formula = (
        rows.formula
        if picture.shape[0] == picture.shape[1]
        else f"rows: {rows.formula}; columns: {cols.formula}"
    )
    if rows.unused or cols.unused:
        notes.append(
            f"stride {s} leaves the last {rows.unused} row(s) and {cols.unused} column(s) unused"
        )
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
        text = (
            f"Output: {_size_text(self.output_shape)} · cell (row {self.row}, "
            f"col {self.col}) = {what} of the window = {self.value:.2f}"
        )
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
    >>> step.readout  # doctest: +NORMALIZE_WHITESPACE
    'Output: 1 × 1 · cell (row 0, col 0) = max of the window = 4.00 · the floor leaves the last 1
        row(s) and 1 column(s) unused'
    >>> pool_step(image, 4).readout  # doctest: +NORMALIZE_WHITESPACE
    "Impossible: a 4 × 4 pool does not fit in the 3 × 3 image with padding='valid'; make the pool
        smaller or choose padding='same'."
    """
    picture = grey_image(image, "the explorer's image")
    k, why = _setting(pool_size, "pool size", 1)
    s, why_s = (k, None) if stride is None else _setting(stride, "stride", 1)
    r, why_r = _position(row, "row")
    c, why_c = _position(col, "col")
    if not (why or why_s):
        why = _oversized(k, s, 0, picture.shape)
    step = PoolStep(picture, k, s, str(padding), str(mode), picture)
    reasons = [reason for reason in (why, why_s, why_r, why_c) if reason]
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
    pads = (
        ((0, 0), (0, 0)) if padding == "valid" else (same_padding(h, k, s), same_padding(w, k, s))
    )
    fill = -np.inf if mode == "max" else np.nan
    step.pads = pads
    step.padded = (
        np.pad(picture, pads, constant_values=fill) if any(sum(p) for p in pads) else picture
    )
    pool = max_pool2d if mode == "max" else avg_pool2d
    output = pool(picture[np.newaxis, :, :, np.newaxis], k, s, padding)[0, :, :, 0]
    step.output, step.output_shape = output, output.shape
    step.row, note_r = _clamp(r, output.shape[0], "row")
    step.col, note_c = _clamp(c, output.shape[1], "col")
    notes = [n for n in (note_r, note_c) if n]
    step.top, step.left = step.row * s, step.col * s
    step.window = step.padded[step.top : step.top + k, step.left : step.left + k]
    step.value = float(output[step.row, step.col])
    if mode == "max":
        step.winner = tuple(
            int(i) for i in np.unravel_index(np.argmax(step.window), step.window.shape)
        )
    step.partial = _partial(output, step.row, step.col)
    rows = explain_pool_output(h, k, s, padding)
    cols = explain_pool_output(w, k, s, padding)
    step.unused = (rows.unused, cols.unused)
    step.formula = rows.formula if h == w else f"rows: {rows.formula}; columns: {cols.formula}"
    if rows.unused or cols.unused:
        notes.append(
            f"the floor leaves the last {rows.unused} row(s) and {cols.unused} column(s) unused"
        )
    step.note = "; ".join(notes)
    return step
