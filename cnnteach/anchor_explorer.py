"""Anchor explorer: which anchor sizes, ratios and strides give every digit a good anchor.

* :func:`anchor_coverage` (pure numpy) counts the true boxes that have an anchor with IoU at
  least 0.5: a digit without one is only found through the "best anchor" rule of
  :func:`cnnteach.boxes.assign_anchors`, from a poor starting box.
* :func:`plot_anchors` draws the anchors of one cell and every digit's best anchor on a canvas.
* :func:`anchor_explorer` is the ipywidgets control of lesson 13: stride, sizes and ratios.

TensorFlow is never imported; ipywidgets and matplotlib only inside the functions that draw.
"""

from __future__ import annotations

import html
from typing import NamedTuple

import numpy as np

from cnnteach.boxes import make_anchors, pairwise_iou

__all__ = [
    "STRIDES",
    "Coverage",
    "anchor_coverage",
    "anchor_explorer",
    "check_stride",
    "parse_numbers",
    "plot_anchors",
]

#: The strides the explorer's slider offers.
STRIDES = (4, 8, 16, 32)


class Coverage(NamedTuple):
    """What :func:`anchor_coverage` found.

    Attributes
    ----------
    covered : int
        True boxes with an anchor of IoU >= ``iou_threshold``.
    total : int
        True boxes.
    best_iou : numpy.ndarray, shape (total,)
        Each true box's best IoU with any anchor.
    best_anchor : numpy.ndarray of int, shape (total,)
        The index of that anchor.
    n_anchors : int
    """

    covered: int
    total: int
    best_iou: np.ndarray
    best_anchor: np.ndarray
    n_anchors: int

    def __str__(self) -> str:
        return (
            f"{self.covered} of {self.total} digits have an anchor with IoU >= 0.5 "
            f"({self.n_anchors} anchors)"
        )


def _shown(text) -> str:
    """A setting as the learner typed it: a sequence as ``12, 20, 32``, a string as it is."""
    if isinstance(text, str):
        return repr(text)
    try:
        return ", ".join(f"{float(v):g}" for v in np.ravel(text))
    except (TypeError, ValueError):
        return repr(text)


def parse_numbers(text, name: str) -> tuple:
    """``"12, 20, 32"`` (or a sequence) as a tuple of positive floats, or one clear ValueError.

    Examples
    --------
    >>> parse_numbers("12, 20 32", "sizes")
    (12.0, 20.0, 32.0)
    >>> parse_numbers((0.5, 1), "ratios")
    (0.5, 1.0)
    """
    example = "0.5, 1, 2" if name == "ratios" else "12, 20, 32"
    if isinstance(text, str):
        parts = text.replace(",", " ").split()
    elif np.ndim(text) == 0 and not isinstance(text, (int, float, np.number)):
        parts = [text]
    else:
        parts = list(np.ravel(np.asarray(text, dtype=object)))
    try:
        if any(isinstance(p, bool) for p in parts):
            raise TypeError
        values = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be positive numbers separated by commas, such as {example}; "
            f"got {_shown(text)}"
        ) from None
    if not values or not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(
            f"{name} must be one or more positive numbers, such as {example}; got {_shown(text)}"
        )
    return values


def check_stride(stride, canvas_shape) -> tuple[int, int, int]:
    """``stride`` and the canvas ``(height, width)`` as whole numbers, or one clear ValueError.

    Examples
    --------
    >>> check_stride(8, (96, 96))
    (8, 96, 96)
    >>> check_stride(8.7, (96, 96))
    Traceback (most recent call last):
    ...
    ValueError: stride must be a whole number of pixels from 1 to the canvas side (96), got 8.7
    """
    shape = np.asarray(canvas_shape, dtype=object).ravel()
    try:
        height, width = (float(v) for v in shape)
        if isinstance(canvas_shape, str) or not (height.is_integer() and width.is_integer()):
            raise ValueError
        if height < 1 or width < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(
            f"canvas_shape must be (height, width), two whole numbers such as (96, 96); "
            f"got {canvas_shape!r}"
        ) from None
    height, width = int(height), int(width)
    side = min(height, width)
    try:
        value = float(stride)
        ok = not isinstance(stride, (bool, str)) and value.is_integer() and 1 <= value <= side
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"stride must be a whole number of pixels from 1 to the canvas side ({side}), "
            f"got {stride!r}"
        )
    return int(value), height, width


def anchor_coverage(
    true_boxes, canvas_shape, *, stride, sizes, ratios, iou_threshold: float = 0.5
) -> Coverage:
    """Count the true boxes that have an anchor with IoU >= ``iou_threshold``.

    Parameters
    ----------
    true_boxes : array_like, shape (M, 4), or a list of them (one per canvas)
    canvas_shape : (int, int)
        ``(height, width)`` of the canvases; the feature map is ``canvas_shape // stride``.
    stride : int
        Pixels per feature-map cell.
    sizes, ratios : sequence of float or str
        As :func:`cnnteach.boxes.make_anchors` takes them (a string such as ``"12, 20, 32"``
        is accepted too).
    iou_threshold : float, default 0.5

    Returns
    -------
    Coverage

    Raises
    ------
    ValueError
        For a stride that is not a whole number from 1 to the canvas side, a canvas_shape that
        is not two whole numbers, sizes or ratios that are not positive numbers, or boxes that
        are not 4 numbers each.

    Examples
    --------
    >>> boxes = [[8, 4, 16, 20], [40, 40, 80, 80]]
    >>> found = anchor_coverage(boxes, (96, 96), stride=8, sizes=[12], ratios=[0.5, 1])
    >>> print(found)
    1 of 2 digits have an anchor with IoU >= 0.5 (288 anchors)
    >>> found.best_iou.round(2).tolist()
    [0.89, 0.09]
    """
    try:
        if isinstance(true_boxes, (list, tuple)) and true_boxes and np.ndim(true_boxes[0]) == 2:
            true_boxes = np.concatenate([np.asarray(b, float).reshape(-1, 4) for b in true_boxes])
        boxes = np.asarray(true_boxes, dtype=float).reshape(-1, 4)
    except (TypeError, ValueError):
        raise ValueError(
            "true_boxes must be boxes (x_min, y_min, x_max, y_max), 4 numbers each, "
            "or a list of such arrays (one per canvas)"
        ) from None
    stride, height, width = check_stride(stride, canvas_shape)
    anchors = make_anchors(
        (height // stride, width // stride),
        stride,
        parse_numbers(sizes, "sizes"),
        parse_numbers(ratios, "ratios"),
    )
    overlaps = pairwise_iou(boxes, anchors)
    best_anchor = overlaps.argmax(axis=1) if len(boxes) else np.zeros(0, int)
    best_iou = overlaps.max(axis=1) if len(boxes) else np.zeros(0)
    return Coverage(
        int((best_iou >= iou_threshold).sum()), len(boxes), best_iou, best_anchor, len(anchors)
    )


def _check_cell(cell, rows: int, cols: int) -> tuple[int, int]:
    """``cell`` as ``(row, col)`` on a ``rows`` × ``cols`` map (default the middle cell)."""
    if cell is None:
        return rows // 2, cols // 2
    try:
        row, col = (float(v) for v in cell)
        ok = row.is_integer() and col.is_integer() and 0 <= row < rows and 0 <= col < cols
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"cell must be (row, col) on the {rows} × {cols} feature map, "
            f"row from 0 to {rows - 1} and col from 0 to {cols - 1}; got {cell!r}"
        )
    return int(row), int(col)


def plot_anchors(image, true_boxes, *, stride, sizes, ratios, cell=None, ax=None):
    """Draw one cell's anchors (grey) and each digit's best anchor (green at IoU >= 0.5, red below).

    Parameters
    ----------
    image : array_like, shape (H, W)
    true_boxes : array_like, shape (M, 4)
    stride, sizes, ratios
        As :func:`anchor_coverage`.
    cell : (int, int), optional
        ``(row, col)`` of the feature-map cell whose anchors are all drawn (default the middle
        cell); a cell off the map is refused with a ValueError.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For a stride that is not a whole number from 1 to the canvas side, sizes or ratios that
        are not positive numbers, or a cell off the feature map.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> image, boxes = np.zeros((96, 96)), [[4, 4, 12, 20]]
    >>> ax = plot_anchors(image, boxes, stride=8, sizes=[12], ratios=[0.5, 1])
    >>> len(ax.patches)  # 2 anchors of the middle cell, 1 best anchor, 1 true box
    4
    >>> plt.close("all")
    """
    from cnnteach.detect import plot_boxes

    picture = np.asarray(image)
    if picture.ndim != 2:
        raise ValueError(f"image must be one 2-D canvas (height, width), got shape {picture.shape}")
    found = anchor_coverage(true_boxes, picture.shape, stride=stride, sizes=sizes, ratios=ratios)
    sizes, ratios = parse_numbers(sizes, "sizes"), parse_numbers(ratios, "ratios")
    stride, height, width = check_stride(stride, picture.shape[:2])
    rows, cols = height // stride, width // stride
    anchors = make_anchors((rows, cols), stride, sizes, ratios)
    row, col = _check_cell(cell, rows, cols)
    per_cell = len(sizes) * len(ratios)
    first = (row * cols + col) * per_cell
    ax = plot_boxes(picture, anchors[first : first + per_cell], color="0.6", linewidth=0.8, ax=ax)
    good = found.best_iou >= 0.5
    for keep, colour in ((good, "lime"), (~good, "red")):
        if keep.any():
            plot_boxes(
                picture, anchors[found.best_anchor[keep]], color=colour, linewidth=1.2, ax=ax
            )
    plot_boxes(
        picture,
        np.asarray(true_boxes, float).reshape(-1, 4),
        color="deepskyblue",
        linewidth=0.8,
        ax=ax,
        title=f"{found.covered} of {found.total} digits: anchor IoU >= 0.5",
    )
    return ax


def anchor_explorer(canvases, *, stride: int = 8, sizes="12, 20, 32", ratios="0.35, 0.7, 1.0"):
    """An ipywidgets control: pick stride, sizes and ratios; see the anchors and the coverage.

    The first canvas is drawn (:func:`plot_anchors`); the read-out counts, over all the
    canvases given, the digits with an anchor of IoU >= 0.5 (:func:`anchor_coverage`).

    Parameters
    ----------
    canvases : Canvas or list of Canvas
    stride : int, default 8
        One of :data:`STRIDES` (4, 8, 16, 32): the slider's positions.
    sizes, ratios : str or sequence of float
        Comma-separated numbers such as ``"12, 20, 32"``, or a sequence such as
        ``ANCHORS.sizes``.

    Returns
    -------
    ipywidgets.VBox
        A setting that cannot be drawn shows its one-sentence reason under the controls, in
        place of the figure. Its ``controls`` attribute maps "stride", "sizes" and "ratios"
        to the widgets and ``readout`` is the HTML line.

    Examples
    --------
    >>> explorer = anchor_explorer(canvases)  # doctest: +SKIP
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from cnnteach.canvases import Canvas

    if isinstance(canvases, Canvas):
        canvases = [canvases]
    if not (
        isinstance(canvases, (list, tuple))
        and canvases
        and all(isinstance(c, Canvas) for c in canvases)
    ):
        raise ValueError("canvases must be a Canvas or a non-empty list of them (make_canvases)")
    if isinstance(stride, bool) or stride not in STRIDES:
        raise ValueError(f"stride must be one of {', '.join(map(str, STRIDES))}; got {stride!r}")

    def as_text(value, name):
        parse_numbers(value, name)  # a bad starting value is refused here, in one sentence
        return value if isinstance(value, str) else ", ".join(f"{float(v):g}" for v in value)

    controls = {
        "stride": widgets.SelectionSlider(
            options=list(STRIDES), value=int(stride), description="stride"
        ),
        "sizes": widgets.Text(
            value=as_text(sizes, "sizes"), description="sizes", continuous_update=False
        ),
        "ratios": widgets.Text(
            value=as_text(ratios, "ratios"), description="ratios", continuous_update=False
        ),
    }
    readout = widgets.HTML()
    output = widgets.Output()

    def update(change=None):
        values = {name: w.value for name, w in controls.items()}
        try:
            found = anchor_coverage([c.boxes for c in canvases], canvases[0].image.shape, **values)
        except ValueError as exc:
            readout.value = f"<b>Cannot draw these anchors:</b> {html.escape(str(exc))}"
            output.clear_output()  # the old figure would belong to the old settings
            return
        readout.value = f"<b>{html.escape(str(found))}</b> on {len(canvases)} canvases"
        with output:
            output.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(4, 4))
            plot_anchors(canvases[0].image, canvases[0].boxes, ax=ax, **values)
            plt.show()

    for widget in controls.values():
        widget.observe(update, names="value")
    box = widgets.VBox([widgets.HBox(list(controls.values())), readout, output])
    box.controls, box.readout = controls, readout
    update()
    return box
