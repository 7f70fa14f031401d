"""Box maths in numpy: IoU, non-maximum suppression, anchors and the offsets that move them.

Boxes
-----
A box is ``(x_min, y_min, x_max, y_max)`` in pixel *edges*: it covers columns ``x_min`` to
``x_max - 1`` and rows ``y_min`` to ``y_max - 1``, so ``image[y_min:y_max, x_min:x_max]`` is
its crop and its area is ``(x_max - x_min) * (y_max - y_min)``. Two boxes that only touch
(one's ``x_max`` is the other's ``x_min``) share no pixel and have IoU 0. The width is
``x_max - x_min``, the height ``y_max - y_min`` and the centre the midpoint.

Scoring lives in :mod:`cnnteach.scoring` (precision-recall, AP, VOC mAP) and
:mod:`cnnteach.coco` (COCO's figures); ``boxes.precision_recall_curve``,
``boxes.average_precision``, ``boxes.mean_average_precision`` and ``boxes.coco_evaluate`` also
work: they are loaded from there the first time they are asked for.

This module imports numpy only: never TensorFlow or Keras.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BACKGROUND",
    "IGNORE",
    "assign_anchors",
    "batched_nms",
    "decode_boxes",
    "encode_boxes",
    "iou",
    "make_anchors",
    "non_max_suppression",
    "pairwise_iou",
]

BOX_HELP = "write boxes as (x_min, y_min, x_max, y_max) with x_max >= x_min and y_max >= y_min"

#: Class that :func:`assign_anchors` gives an anchor that covers no digit: 10, the "no digit"
#: output of the course's 11-class classifiers (digits 0-9 and background; the same value as
#: ``cnnteach.detect.BACKGROUND``), so ``classes`` is a ready sparse target for an 11-way softmax.
BACKGROUND = 10

#: Class that :func:`assign_anchors` gives an anchor to leave out of the loss (IoU in the band
#: between ``negative_iou`` and ``positive_iou``).
IGNORE = -1

#: Scoring names ``boxes`` also answers to, and the module each comes from (loaded lazily).
_SCORING = {
    "_matches": "scoring",
    "_per_image": "scoring",
    "average_precision": "scoring",
    "precision_recall_curve": "scoring",
    "mean_average_precision": "scoring",
    "coco_evaluate": "coco",
}


def __getattr__(name: str):
    """``boxes.average_precision``, ``boxes.coco_evaluate`` and friends live in
    :mod:`cnnteach.scoring` and :mod:`cnnteach.coco`; load them only when asked for."""
    if name in _SCORING:
        import importlib

        return getattr(importlib.import_module(f"cnnteach.{_SCORING[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------------------- boxes
def _as_boxes(boxes, name: str = "boxes") -> np.ndarray:
    """Return ``boxes`` as a float64 array of shape (N, 4), or raise one clear ValueError."""
    try:
        array = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers shaped (N, 4); {BOX_HELP}") from None
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got shape {array.shape}; {BOX_HELP}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contain NaN or infinite coordinates; {BOX_HELP}")
    bad = np.flatnonzero((array[:, 2] < array[:, 0]) | (array[:, 3] < array[:, 1]))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] = {tuple(array[i].tolist())} is not a box: {BOX_HELP}")
    return array


def _as_box(box, name: str) -> np.ndarray:
    array = np.asarray(box, dtype=object if isinstance(box, str) else None)
    if array.shape != (4,):
        raise ValueError(f"{name} must be 4 numbers (x_min, y_min, x_max, y_max), got {box!r}")
    return _as_boxes(array[np.newaxis], name)[0]


def _as_sized_boxes(boxes, name: str) -> tuple[np.ndarray, bool]:
    """(N, 4) boxes of positive width and height, and whether one bare box (4,) was given."""
    try:
        single = np.ndim(boxes) == 1 and np.size(boxes) == 4 and not isinstance(boxes, str)
    except ValueError:  # ragged rows
        raise ValueError(f"{name} must be numbers shaped (N, 4); {BOX_HELP}") from None
    array = _as_boxes(np.asarray(boxes)[np.newaxis] if single else boxes, name)
    bad = np.flatnonzero((array[:, 2] <= array[:, 0]) | (array[:, 3] <= array[:, 1]))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name}[{i}] = {tuple(array[i].tolist())} has zero width or height: "
            "give boxes with x_max > x_min and y_max > y_min"
        )
    return array, single


def _as_scores(scores, count: int, name: str = "scores") -> np.ndarray:
    try:
        array = np.asarray(scores, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, one per box, got {scores!r}") from None
    if array.shape[0] != count:
        raise ValueError(f"got {count} boxes but {array.shape[0]} {name}: give one score per box")
    if not np.all(np.isfinite(array)):
        i = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name}[{i}] is {array[i]}: every score must be a finite number")
    return array


def _check_threshold(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value}")
    return value


def pairwise_iou(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union of every box in ``boxes_a`` with every box in ``boxes_b``.

    Parameters
    ----------
    boxes_a : array_like, shape (N, 4)
    boxes_b : array_like, shape (M, 4)
        Boxes ``(x_min, y_min, x_max, y_max)`` (see the module docstring).

    Returns
    -------
    numpy.ndarray, shape (N, M)
        IoU in [0, 1]. Two boxes of zero area have IoU 0.

    Examples
    --------
    >>> pairwise_iou([[0, 0, 2, 2]], [[1, 0, 3, 2], [2, 0, 4, 2]]).round(3)
    array([[0.333, 0.   ]])
    """
    a = _as_boxes(boxes_a, "boxes_a")
    b = _as_boxes(boxes_b, "boxes_b")
    right = np.minimum(a[:, None, 2], b[None, :, 2])
    bottom = np.minimum(a[:, None, 3], b[None, :, 3])
    width = np.clip(right - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(bottom - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def iou(box_a, box_b) -> float:
    """Intersection over union of two boxes: shared area divided by combined area.

    Parameters
    ----------
    box_a, box_b : sequence of 4 numbers
        ``(x_min, y_min, x_max, y_max)`` in pixel edges (see the module docstring).

    Returns
    -------
    float
        1.0 for identical boxes, 0.0 for boxes that share no pixel (disjoint or touching).

    Raises
    ------
    ValueError
        A box is not 4 numbers, or has ``x_max < x_min`` or ``y_max < y_min``.

    Examples
    --------
    >>> iou((0, 0, 4, 4), (2, 2, 6, 6))  # 4 shared pixels out of 16 + 16 - 4 = 28
    0.14285714285714285
    >>> iou((0, 0, 4, 4), (4, 0, 8, 4))  # touching edges share no pixel
    0.0
    >>> iou((5, 0, 4, 4), (0, 0, 1, 1))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: box_a[0] = (5.0, 0.0, 4.0, 4.0) is not a box: write boxes as (x_min, y_min, x_max,
        y_max) with x_max >= x_min and y_max >= y_min
    """
    a = _as_box(box_a, "box_a")
    b = _as_box(box_b, "box_b")
    return float(pairwise_iou(a[np.newaxis], b[np.newaxis])[0, 0])


# ----------------------------------------------------------------------------- nms
def non_max_suppression(boxes, scores, iou_threshold: float = 0.5) -> np.ndarray:
    """Keep the best-scoring box, drop every box overlapping it too much, repeat.

    Parameters
    ----------
    boxes : array_like, shape (N, 4)
        Boxes ``(x_min, y_min, x_max, y_max)``.
    scores : array_like, shape (N,)
        One finite confidence per box; higher is better.
    iou_threshold : float, default 0.5
        A box whose IoU with an already kept box is *greater* than this is suppressed.

    Returns
    -------
    numpy.ndarray of int
        Indices of the kept boxes, best score first. Equal scores keep the earlier index first.

    Raises
    ------
    ValueError
        Malformed boxes, not one score per box, a NaN or infinite score, or a threshold
        outside [0, 1].

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]]
    >>> non_max_suppression(boxes, [0.9, 0.8, 0.7, 0.6], iou_threshold=0.5)
    array([0, 2])
    >>> non_max_suppression(np.zeros((0, 4)), [])
    array([], dtype=int64)
    """
    boxes = _as_boxes(boxes)
    scores = _as_scores(scores, len(boxes))
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    order = np.argsort(-scores, kind="stable")
    overlaps = pairwise_iou(boxes, boxes)
    suppressed = np.zeros(len(boxes), dtype=bool)
    keep = []
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= overlaps[i] > iou_threshold
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes, scores, labels, iou_threshold: float = 0.5) -> np.ndarray:
    """Non-maximum suppression within each class: a box only suppresses boxes of its own label.

    Two detections of different digits may overlap (a "1" drawn inside a "0" box) and both
    stay; two of the same digit go through :func:`non_max_suppression`.

    Parameters
    ----------
    boxes : array_like, shape (N, 4)
        Boxes ``(x_min, y_min, x_max, y_max)``.
    scores : array_like, shape (N,)
        One finite confidence per box; higher is better.
    labels : array_like, shape (N,)
        One class label per box (any numbers; boxes with equal labels compete).
    iou_threshold : float, default 0.5
        Within a class, a box whose IoU with a kept box is *greater* than this is suppressed.

    Returns
    -------
    numpy.ndarray of int
        Indices of the kept boxes over all classes, best score first; equal scores keep the
        earlier index first.

    Raises
    ------
    ValueError
        Malformed boxes, not one score and one label per box, NaN or infinite scores or
        labels, or a threshold outside [0, 1].

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]]
    >>> batched_nms(boxes, [0.9, 0.8, 0.7], labels=[3, 3, 5])  # box 2 is another class
    array([0, 2])
    """
    boxes = _as_boxes(boxes)
    scores = _as_scores(scores, len(boxes))
    labels = _as_scores(labels, len(boxes), "labels")
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    kept = [np.zeros(0, dtype=np.int64)]
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        kept.append(members[non_max_suppression(boxes[members], scores[members], iou_threshold)])
    kept = np.concatenate(kept)
    return kept[np.lexsort((kept, -scores[kept]))]


# ----------------------------------------------------------------------------- anchors
def _positive_numbers(values, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be positive numbers, got {values!r}") from None
    if array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name} must be one or more positive finite numbers, got {values!r}")
    return array


def make_anchors(feature_shape, stride, sizes, ratios) -> np.ndarray:
    """Anchor boxes for every cell of a feature map: each size at each width/height ratio.

    Cell ``(row, col)`` of an ``H x W`` feature map of a network whose total stride is
    ``stride`` pixels sees the image around the centre ``((col + 0.5) * stride,
    (row + 0.5) * stride)``. Every cell gets ``len(sizes) * len(ratios)`` anchors centred
    there, of width ``size * sqrt(ratio)`` and height ``size / sqrt(ratio)``: ``ratio`` is
    width / height and the area is ``size ** 2`` whatever the ratio. Anchors are not clipped
    to the image.

    Parameters
    ----------
    feature_shape : (int, int)
        ``(H, W)``: rows and columns of the feature map.
    stride : float
        Pixels of the image per feature-map cell.
    sizes : sequence of float
        Square-root areas of the anchors, in pixels.
    ratios : sequence of float
        Width / height of the anchors (1 square, 2 wide, 0.5 tall).

    Returns
    -------
    numpy.ndarray, shape (H * W * len(sizes) * len(ratios), 4)
        Boxes ``(x_min, y_min, x_max, y_max)``, ordered by position row by row (row, then
        column), then by size, then by ratio: anchor
        ``((row * W + col) * len(sizes) + s) * len(ratios) + r``.

    Raises
    ------
    ValueError
        ``feature_shape`` is not two positive whole numbers, or a stride, size or ratio is
        not a positive finite number.

    Examples
    --------
    >>> make_anchors((1, 2), stride=8, sizes=[8], ratios=[1, 4])
    array([[ 0.,  0.,  8.,  8.],
           [-4.,  2., 12.,  6.],
           [ 8.,  0., 16.,  8.],
           [ 4.,  2., 20.,  6.]])
    """
    shape = np.asarray(feature_shape) if not isinstance(feature_shape, str) else None
    if (
        shape is None
        or shape.shape != (2,)
        or shape.dtype == bool
        or not np.issubdtype(shape.dtype, np.number)
        or not np.all(np.isfinite(shape))
        or np.any(shape < 1)
        or np.any(shape != np.round(shape))
    ):
        raise ValueError(
            f"feature_shape must be (height, width), two positive whole numbers, "
            f"got {feature_shape!r}"
        )
    rows, cols = (int(n) for n in shape)
    stride_values = _positive_numbers(stride, "stride")
    if stride_values.size != 1:
        raise ValueError(f"stride must be one positive number of pixels, got {stride!r}")
    stride = float(stride_values[0])
    sizes = _positive_numbers(sizes, "sizes")
    ratios = _positive_numbers(ratios, "ratios")
    centre_y = ((np.arange(rows) + 0.5) * stride)[:, None, None, None]
    centre_x = ((np.arange(cols) + 0.5) * stride)[None, :, None, None]
    half_w = (sizes[:, None] * np.sqrt(ratios)[None, :] / 2)[None, None]
    half_h = (sizes[:, None] / np.sqrt(ratios)[None, :] / 2)[None, None]
    shape = (rows, cols, len(sizes), len(ratios))
    corners = [centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h]
    return np.stack([np.broadcast_to(c, shape) for c in corners], axis=-1).reshape(-1, 4)


def _centres_and_sizes(boxes: np.ndarray) -> tuple[np.ndarray, ...]:
    width = boxes[:, 2] - boxes[:, 0]
    height = boxes[:, 3] - boxes[:, 1]
    return (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2, width, height


def _variances(variances) -> np.ndarray:
    if variances is None:
        return np.ones(4)
    values = _positive_numbers(variances, "variances")
    if values.shape != (4,):
        raise ValueError(f"variances must be 4 positive numbers (x, y, w, h), got {variances!r}")
    return values


def encode_boxes(anchors, boxes, *, variances=None) -> np.ndarray:
    """R-CNN's box offsets: how far, in anchor widths and heights, each box is from its anchor.

    With centres ``(ax, ay)``, ``(gx, gy)`` and sizes ``(aw, ah)``, ``(gw, gh)`` of anchor and
    box, the offsets are ``tx = (gx - ax) / aw``, ``ty = (gy - ay) / ah``,
    ``tw = log(gw / aw)`` and ``th = log(gh / ah)`` (the parameterisation of R-CNN, kept by
    Fast and Faster R-CNN and SSD). An anchor equal to its box gives zeros.

    Parameters
    ----------
    anchors : array_like, shape (N, 4) or (4,)
        Anchor boxes ``(x_min, y_min, x_max, y_max)`` with positive width and height.
    boxes : array_like, same shape as ``anchors``
        The box each anchor should become (for training: ``true_boxes[matched]``).
    variances : sequence of 4 float, optional
        If given, the offsets are divided by them. Many implementations scale by
        ``(0.1, 0.1, 0.2, 0.2)`` to bring the offsets near unit size; the default is none.

    Returns
    -------
    numpy.ndarray, shape (N, 4) or (4,)
        ``(tx, ty, tw, th)`` per anchor.

    Raises
    ------
    ValueError
        Boxes of zero width or height (``log(0)``), NaN or infinite coordinates, wrong shapes,
        or not one box per anchor.

    Examples
    --------
    >>> encode_boxes([0, 0, 10, 10], [0, 0, 10, 10])
    array([0., 0., 0., 0.])
    >>> encode_boxes([[0, 0, 10, 10]], [[5, 0, 15, 20]]).round(4)  # half a width right, 2x tall
    array([[0.5   , 0.5   , 0.    , 0.6931]])
    """
    a, single_a = _as_sized_boxes(anchors, "anchors")
    b, single_b = _as_sized_boxes(boxes, "boxes")
    if a.shape != b.shape:
        raise ValueError(
            f"got {len(a)} anchors but {len(b)} boxes: give one box per anchor "
            "(true_boxes[matched] for the matched anchors)"
        )
    ax, ay, aw, ah = _centres_and_sizes(a)
    gx, gy, gw, gh = _centres_and_sizes(b)
    deltas = np.stack([(gx - ax) / aw, (gy - ay) / ah, np.log(gw / aw), np.log(gh / ah)], axis=1)
    deltas = deltas / _variances(variances)
    return deltas[0] if single_a and single_b else deltas


def decode_boxes(anchors, deltas, *, variances=None) -> np.ndarray:
    """Apply offsets ``(tx, ty, tw, th)`` to anchors: the exact inverse of :func:`encode_boxes`.

    The box has centre ``(ax + tx * aw, ay + ty * ah)`` and size
    ``(aw * exp(tw), ah * exp(th))``; no offset is clipped.

    Parameters
    ----------
    anchors : array_like, shape (N, 4) or (4,)
        Anchor boxes with positive width and height.
    deltas : array_like, same shape as ``anchors``
        Finite offsets, for example a network's box output.
    variances : sequence of 4 float, optional
        The same values given to :func:`encode_boxes`; the offsets are multiplied by them.

    Returns
    -------
    numpy.ndarray, shape (N, 4) or (4,)
        Boxes ``(x_min, y_min, x_max, y_max)``.

    Raises
    ------
    ValueError
        Anchors of zero width or height, NaN or infinite offsets, offsets so large that the
        box overflows, wrong shapes, or not one offset row per anchor.

    Examples
    --------
    >>> decode_boxes([[0, 0, 10, 10]], [[0.5, 0.5, 0.0, np.log(2)]])
    array([[ 5.,  0., 15., 20.]])
    """
    a, single = _as_sized_boxes(anchors, "anchors")
    try:
        d = np.asarray(deltas, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("deltas must be numbers (tx, ty, tw, th), one row per anchor") from None
    d_single = d.shape == (4,)
    d = d.reshape(1, 4) if d_single else d
    if d.ndim != 2 or d.shape != a.shape:
        raise ValueError(
            f"deltas have shape {np.shape(deltas)} but anchors {a.shape}: "
            "give one row (tx, ty, tw, th) per anchor"
        )
    if not np.all(np.isfinite(d)):
        i = int(np.flatnonzero(~np.all(np.isfinite(d), axis=1))[0])
        raise ValueError(f"deltas[{i}] = {tuple(d[i].tolist())}: offsets must be finite numbers")
    d = d * _variances(variances)
    ax, ay, aw, ah = _centres_and_sizes(a)
    with np.errstate(over="ignore"):
        cx, cy = ax + d[:, 0] * aw, ay + d[:, 1] * ah
        w, h = aw * np.exp(d[:, 2]), ah * np.exp(d[:, 3])
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    if not np.all(np.isfinite(boxes)):
        i = int(np.flatnonzero(~np.all(np.isfinite(boxes), axis=1))[0])
        raise ValueError(
            f"deltas[{i}] = {tuple(d[i].tolist())} make an infinitely large box: "
            "tw and th must stay far below 700 (exp overflows)"
        )
    return boxes[0] if single and d_single else boxes


def _as_labels(labels, count: int, name: str) -> np.ndarray:
    try:
        array = np.asarray(labels, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be whole numbers, one per box, got {labels!r}") from None
    if array.shape[0] != count:
        raise ValueError(f"got {count} boxes but {array.shape[0]} {name}: give one label per box")
    if not np.all(np.isfinite(array) & (array == np.round(array))):
        raise ValueError(f"{name} must be whole numbers (class ids), got {array.tolist()}")
    return array.astype(np.int64)


def assign_anchors(
    anchors,
    true_boxes,
    true_labels,
    *,
    positive_iou: float = 0.5,
    negative_iou: float = 0.4,
    background: int = BACKGROUND,
) -> tuple[np.ndarray, np.ndarray]:
    """Give every anchor a training target: a true box and its class, background, or ignore.

    1. **Each true box claims an anchor.** The (anchor, true box) pair with the highest IoU
       in the whole table is matched first; that anchor and that box drop out, and so on
       until every box has an anchor (ties: lowest anchor index, then lowest box index). So
       every true box's best anchor is positive, even below ``positive_iou``, and every true
       box has an anchor of its own (if it overlaps any anchor at all: a box with IoU 0 with
       every anchor gets none). If two boxes share their best anchor, the box with the
       higher IoU keeps it and the other takes its best remaining anchor.
    2. **Every other anchor** is matched to the true box it overlaps most (lowest box index on
       a tie) if that IoU is at least ``positive_iou``; it is background if its best IoU is
       below ``negative_iou``, and ignored (left out of the loss) in between.

    What the papers do:

    * **SSD** (Liu et al. 2016, "SSD: Single Shot MultiBox Detector") matches each ground-truth
      box to the default box with the best jaccard overlap, then any default box with overlap
      higher than 0.5: ``positive_iou=0.5, negative_iou=0.5`` (no ignore band; it keeps the
      hardest negatives, at most 3 per positive).
    * **RetinaNet** (Lin et al. 2017, "Focal Loss for Dense Object Detection") assigns anchors
      to ground truth at IoU 0.5 and to background below 0.4, and ignores anchors in
      [0.4, 0.5): this function's defaults. (The paper does not describe forcing each box's
      best anchor; this function always does.)
    * **Faster R-CNN's region proposal network** (Ren et al. 2015) makes positive the
      anchor(s) with the highest IoU with a ground-truth box and any anchor with IoU higher
      than 0.7, negative a non-positive anchor with IoU lower than 0.3 for all ground-truth
      boxes, and ignores the rest: ``positive_iou=0.7, negative_iou=0.3``. (Its paper keeps
      every anchor tied for a box's highest IoU; here a box claims one anchor.)

    The papers write "higher than"; here an IoU equal to ``positive_iou`` is positive.

    Parameters
    ----------
    anchors : array_like, shape (N, 4)
        Anchor boxes, for example from :func:`make_anchors`, of positive width and height.
    true_boxes : array_like, shape (M, 4)
        The true boxes of one image (M may be 0), of positive width and height.
    true_labels : array_like of int, shape (M,)
        Their classes; none may equal ``background`` or :data:`IGNORE` (-1).
    positive_iou : float, default 0.5
        An anchor with IoU at least this with a true box is matched to it.
    negative_iou : float, default 0.4
        An anchor whose best IoU is below this is background. At most ``positive_iou``; equal
        to it means no anchor is ignored.
    background : int, default :data:`BACKGROUND` (10)
        The class of background anchors: 10 is the "no digit" output of an 11-way softmax
        over digits 0-9. Pass another value if 10 is one of your labels.

    Returns
    -------
    classes : numpy.ndarray of int64, shape (N,)
        The label of the matched true box, ``background``, or :data:`IGNORE` (-1).
    matched : numpy.ndarray of int64, shape (N,)
        The index of the matched true box, or -1 for background and ignored anchors. The
        regression targets are ``encode_boxes(anchors[matched >= 0],
        true_boxes[matched[matched >= 0]])``.

    Raises
    ------
    ValueError
        Malformed or zero-size boxes, not one label per box, a label equal to ``background``
        or -1, or thresholds outside ``0 <= negative_iou <= positive_iou <= 1``.
    TypeError
        ``background`` is not an int.

    Examples
    --------
    Box 0 overlaps anchor 0 by IoU 0.82 and anchor 1 by 0.43 (ignored); box 1's best anchor,
    anchor 2, has IoU 0.45 only, yet is positive; anchor 3 touches nothing (background):

    >>> anchors = [[0, 0, 10, 10], [5, 0, 15, 10], [20, 0, 30, 10], [40, 0, 50, 10]]
    >>> classes, matched = assign_anchors(anchors, [[1, 0, 11, 10], [19, 0, 25, 10]], [7, 3])
    >>> classes.tolist(), matched.tolist()
    ([7, -1, 3, 10], [0, -1, 1, -1])
    """
    a = _as_sized_boxes(anchors, "anchors")[0]
    t = _as_sized_boxes(true_boxes, "true_boxes")[0]
    labels = _as_labels(true_labels, len(t), "true_labels")
    positive_iou = _check_threshold(positive_iou, "positive_iou")
    negative_iou = _check_threshold(negative_iou, "negative_iou")
    if negative_iou > positive_iou:
        raise ValueError(
            f"negative_iou ({negative_iou}) is above positive_iou ({positive_iou}): "
            "give negative_iou <= positive_iou"
        )
    if isinstance(background, bool) or not isinstance(background, (int, np.integer)):
        raise TypeError(f"background must be a whole number (an int), got {background!r}")
    if background == IGNORE:
        raise ValueError(f"background cannot be {IGNORE}: that value means 'ignore'")
    for value, meaning in ((int(background), "background"), (IGNORE, "'ignore'")):
        if np.any(labels == value):
            raise ValueError(
                f"true_labels contain {value}, the value that means {meaning}: "
                "relabel the boxes or pass background= a value no label uses"
            )
    matched = np.full(len(a), -1, dtype=np.int64)
    ignore = np.zeros(len(a), dtype=bool)
    if len(t) and len(a):
        overlaps = pairwise_iou(a, t)
        best_box = np.argmax(overlaps, axis=1)
        best = overlaps[np.arange(len(a)), best_box]
        matched[best >= positive_iou] = best_box[best >= positive_iou]
        ignore = (best >= negative_iou) & (best < positive_iou)
        table = overlaps.copy()
        for _ in range(min(len(a), len(t))):
            anchor, box = divmod(int(np.argmax(table)), len(t))
            if table[anchor, box] <= 0:
                break
            matched[anchor], ignore[anchor] = box, False
            table[anchor, :] = -1.0
            table[:, box] = -1.0
    classes = np.where(ignore, IGNORE, background).astype(np.int64)
    classes[matched >= 0] = labels[matched[matched >= 0]]
    return classes, matched
