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

__all__ = ["Coverage", "anchor_coverage", "anchor_explorer", "parse_numbers", "plot_anchors"]


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


def parse_numbers(text, name: str) -> tuple:
    """``"12, 20, 32"`` (or a sequence) as a tuple of positive floats; one clear ValueError otherwise.

    Examples
    --------
    >>> parse_numbers("12, 20 32", "sizes")
    (12.0, 20.0, 32.0)
    """
    if isinstance(text, str):
        parts = text.replace(",", " ").split()
    else:
        parts = list(np.ravel(text))
    try:
        values = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be positive numbers separated by commas, such as 12, 20, 32; got {text!r}"
        ) from None
    if not values or not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(
            f"{name} must be one or more positive numbers, such as 12, 20, 32; got {text!r}"
        )
    return values


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

    Examples
    --------
    >>> found = anchor_coverage([[8, 4, 16, 20], [40, 40, 80, 80]], (96, 96), stride=8, sizes=[12], ratios=[0.5, 1])
    >>> print(found)
    1 of 2 digits have an anchor with IoU >= 0.5 (288 anchors)
    >>> found.best_iou.round(2).tolist()
    [0.89, 0.09]
    """
    if isinstance(true_boxes, (list, tuple)) and true_boxes and np.ndim(true_boxes[0]) == 2:
        true_boxes = np.concatenate([np.asarray(b, float).reshape(-1, 4) for b in true_boxes])
    boxes = np.asarray(true_boxes, dtype=float).reshape(-1, 4)
    height, width = (int(v) for v in canvas_shape)
    stride = int(stride)
    if stride < 1 or height < stride or width < stride:
        raise ValueError(f"stride must be a whole number from 1 to the canvas side, got {stride}")
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


def plot_anchors(image, true_boxes, *, stride, sizes, ratios, cell=None, ax=None):
    """Draw one cell's anchors (grey) and each digit's best anchor (green at IoU >= 0.5, red below).

    Parameters
    ----------
    image : array_like, shape (H, W)
    true_boxes : array_like, shape (M, 4)
    stride, sizes, ratios
        As :func:`anchor_coverage`.
    cell : (int, int), optional
        ``(row, col)`` of the cell whose anchors are all drawn; default the middle cell.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_anchors(np.zeros((96, 96)), [[4, 4, 12, 20]], stride=8, sizes=[12], ratios=[0.5, 1])
    >>> len(ax.patches)  # 2 anchors of the middle cell, 1 best anchor, 1 true box
    4
    >>> plt.close("all")
    """
    from cnnteach.detect import plot_boxes

    picture = np.asarray(image)
    boxes = np.asarray(true_boxes, float).reshape(-1, 4)
    found = anchor_coverage(boxes, picture.shape, stride=stride, sizes=sizes, ratios=ratios)
    sizes, ratios = parse_numbers(sizes, "sizes"), parse_numbers(ratios, "ratios")
    rows, cols = picture.shape[0] // int(stride), picture.shape[1] // int(stride)
    anchors = make_anchors((rows, cols), int(stride), sizes, ratios)
    row, col = cell if cell is not None else (rows // 2, cols // 2)
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
        boxes,
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
        One of 4, 8, 16, 32.
    sizes, ratios : str
        Comma-separated numbers.

    Returns
    -------
    ipywidgets.VBox
        Its ``controls`` attribute maps "stride", "sizes" and "ratios" to the widgets and
        ``readout`` is the HTML line.

    Examples
    --------
    >>> explorer = anchor_explorer(canvases)  # doctest: +SKIP
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from cnnteach.detect import Canvas

    if isinstance(canvases, Canvas):
        canvases = [canvases]
    controls = {
        "stride": widgets.SelectionSlider(
            options=[4, 8, 16, 32], value=int(stride), description="stride"
        ),
        "sizes": widgets.Text(value=str(sizes), description="sizes", continuous_update=False),
        "ratios": widgets.Text(value=str(ratios), description="ratios", continuous_update=False),
    }
    readout = widgets.HTML()
    output = widgets.Output()

    def update(change=None):
        values = {name: w.value for name, w in controls.items()}
        try:
            found = anchor_coverage([c.boxes for c in canvases], canvases[0].image.shape, **values)
        except ValueError as exc:
            readout.value = f"<b>Impossible:</b> {html.escape(str(exc))}"
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
