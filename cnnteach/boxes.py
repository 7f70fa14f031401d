"""Box maths in numpy: IoU, non-maximum suppression, precision-recall and average precision.

Boxes
-----
A box is ``(x_min, y_min, x_max, y_max)`` in pixel *edges*: it covers columns ``x_min`` to
``x_max - 1`` and rows ``y_min`` to ``y_max - 1``, so ``image[y_min:y_max, x_min:x_max]`` is
its crop and its area is ``(x_max - x_min) * (y_max - y_min)``. Two boxes that only touch
(one's ``x_max`` is the other's ``x_min``) share no pixel and have IoU 0.

This module imports numpy only: never TensorFlow or Keras.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "average_precision",
    "iou",
    "non_max_suppression",
    "pairwise_iou",
    "precision_recall_curve",
]

BOX_HELP = "write boxes as (x_min, y_min, x_max, y_max) with x_max >= x_min and y_max >= y_min"


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
    width = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
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
    >>> iou((5, 0, 4, 4), (0, 0, 1, 1))
    Traceback (most recent call last):
    ...
    ValueError: box_a[0] = (5.0, 0.0, 4.0, 4.0) is not a box: write boxes as (x_min, y_min, x_max, y_max) with x_max >= x_min and y_max >= y_min
    """
    a = _as_box(box_a, "box_a")
    b = _as_box(box_b, "box_b")
    return float(pairwise_iou(a[np.newaxis], b[np.newaxis])[0, 0])


def non_max_suppression(boxes, scores, iou_threshold: float = 0.5) -> np.ndarray:
    """Keep the best-scoring box, drop every box overlapping it too much, repeat.

    Parameters
    ----------
    boxes : array_like, shape (N, 4)
        Boxes ``(x_min, y_min, x_max, y_max)``.
    scores : array_like, shape (N,)
        One confidence per box; higher is better.
    iou_threshold : float, default 0.5
        A box whose IoU with an already kept box is *greater* than this is suppressed.

    Returns
    -------
    numpy.ndarray of int
        Indices of the kept boxes, best score first. Equal scores keep the earlier index first.

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]]
    >>> non_max_suppression(boxes, [0.9, 0.8, 0.7, 0.6], iou_threshold=0.5)
    array([0, 2])
    >>> non_max_suppression(np.zeros((0, 4)), [])
    array([], dtype=int64)
    """
    boxes = _as_boxes(boxes)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.shape[0] != boxes.shape[0]:
        raise ValueError(f"got {boxes.shape[0]} boxes but {scores.shape[0]} scores: give one score per box")
    if not 0 <= float(iou_threshold) <= 1:
        raise ValueError(f"iou_threshold must lie in [0, 1], got {iou_threshold}")
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



def _per_image(values, name: str, kind: str) -> list[np.ndarray]:
    """A (K, 4) array (or (K,) for scores/labels) is one image; a list of them is many."""
    width = 2 if kind == "boxes" else 1
    try:
        array = np.asarray(values, dtype=np.float64)
        if array.ndim == width or (array.ndim == 1 and array.size == 0):
            values = [array]
    except (TypeError, ValueError):
        pass  # ragged: one entry per image
    out = []
    for i, item in enumerate(values):
        if kind == "boxes":
            out.append(_as_boxes(item, f"{name}[{i}]"))
        else:
            arr = np.asarray(item, dtype=np.float64).reshape(-1)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}[{i}] contains NaN or infinite values")
            out.append(arr)
    return out


def _matches(true_boxes, pred_boxes, pred_scores, iou_threshold, true_labels, pred_labels):
    """Greedy matching over all images, best score first; return (scores, is_tp, n_true)."""
    truths = _per_image(true_boxes, "true_boxes", "boxes")
    preds = _per_image(pred_boxes, "pred_boxes", "boxes")
    scores = _per_image(pred_scores, "pred_scores", "scores")
    if (true_labels is None) != (pred_labels is None):
        raise ValueError("give both true_labels and pred_labels, or neither")
    if true_labels is not None:
        tlabels = _per_image(true_labels, "true_labels", "labels")
        plabels = _per_image(pred_labels, "pred_labels", "labels")
    else:
        tlabels = [np.zeros(len(t)) for t in truths]
        plabels = [np.zeros(len(p)) for p in preds]
    n = len(truths)
    if not (len(preds) == len(scores) == len(tlabels) == len(plabels) == n):
        raise ValueError(
            f"got ground truth for {n} images but detections for {len(preds)}: "
            "give one entry per image to every argument (a list with one array per image)"
        )
    for i in range(n):
        if len(preds[i]) != len(scores[i]) or len(preds[i]) != len(plabels[i]):
            raise ValueError(f"image {i} has {len(preds[i])} predicted boxes but {len(scores[i])} scores or {len(plabels[i])} labels")
        if len(truths[i]) != len(tlabels[i]):
            raise ValueError(f"image {i} has {len(truths[i])} true boxes but {len(tlabels[i])} labels")
    if not 0 < float(iou_threshold) <= 1:
        raise ValueError(f"iou_threshold must lie in (0, 1], got {iou_threshold}")
    image_of = np.concatenate([np.full(len(p), i) for i, p in enumerate(preds)] + [np.zeros(0, int)]).astype(int)
    index_in = np.concatenate([np.arange(len(p)) for p in preds] + [np.zeros(0, int)]).astype(int)
    all_scores = np.concatenate(scores + [np.zeros(0)])
    order = np.argsort(-all_scores, kind="stable")
    overlaps = [pairwise_iou(p, t) for p, t in zip(preds, truths)]
    taken = [np.zeros(len(t), dtype=bool) for t in truths]
    is_tp = np.zeros(len(order), dtype=bool)
    for rank, k in enumerate(order):
        i, j = image_of[k], index_in[k]
        candidates = overlaps[i][j].copy()
        candidates[taken[i] | (tlabels[i] != plabels[i][j])] = -1.0
        if candidates.size and candidates.max() >= iou_threshold:
            best = int(np.argmax(candidates))
            taken[i][best] = True
            is_tp[rank] = True
    return all_scores[order], is_tp, sum(len(t) for t in truths)


def precision_recall_curve(true_boxes, pred_boxes, pred_scores, *, iou_threshold: float = 0.5,
                           true_labels=None, pred_labels=None):
    """Precision and recall after each detection, taken from the most confident down.

    Matching: detections are visited best score first (over all images; equal scores keep
    their order); each one is matched to the still unmatched true box of its image with the
    highest IoU, if that IoU is at least ``iou_threshold`` (and, when labels are given, the
    labels agree). A matched detection is a true positive; every other one is a false
    positive (a duplicate of an already found digit included).

    Parameters
    ----------
    true_boxes : array_like or list of array_like
        One image's (K, 4) true boxes, or a list with one such array per image.
    pred_boxes : array_like or list of array_like
        The detections' boxes, in the same layout.
    pred_scores : array_like or list of array_like
        One score per detection.
    iou_threshold : float, default 0.5
    true_labels, pred_labels : optional
        Class labels in the same layout; then a detection must also name the right class.

    Returns
    -------
    precision, recall, scores : numpy.ndarray
        ``precision[k]`` and ``recall[k]`` count the ``k + 1`` most confident detections,
        whose lowest score is ``scores[k]``.

    Examples
    --------
    >>> truth = [[0, 0, 10, 10], [20, 0, 30, 10]]
    >>> found = [[0, 0, 10, 10], [50, 50, 60, 60], [21, 0, 31, 10]]
    >>> p, r, s = precision_recall_curve(truth, found, [0.9, 0.8, 0.7])
    >>> p.round(3).tolist(), r.tolist()
    ([1.0, 0.5, 0.667], [0.5, 0.5, 1.0])
    """
    scores, is_tp, n_true = _matches(true_boxes, pred_boxes, pred_scores, iou_threshold, true_labels, pred_labels)
    tp = np.cumsum(is_tp)
    precision = tp / np.arange(1, len(tp) + 1)
    recall = tp / n_true if n_true else np.zeros(len(tp))
    return precision, recall, scores


def average_precision(true_boxes, pred_boxes, pred_scores, *, iou_threshold: float = 0.5,
                      true_labels=None, pred_labels=None) -> float:
    """Average precision (AP) at an IoU threshold, all-point interpolated (PASCAL VOC 2010+).

    The precision-recall curve of :func:`precision_recall_curve` is first made monotone
    (each precision is replaced by the best precision at the same or a higher recall); AP is
    the area under that envelope, summed exactly at every recall the detections reach:
    ``AP = sum_k (r_k - r_{k-1}) * max_{j >= k} p_j`` with ``r_{-1} = 0``. Recall the
    detector never reaches adds nothing, so missed digits lower AP. (VOC 2007 sampled 11
    recall points instead; COCO samples 101 and averages over IoU 0.5-0.95.) With labels,
    the detections of all classes are ranked together (a "digit" AP that also demands the
    right digit); :func:`average_precision` per class and a mean gives the mAP papers report.

    Parameters
    ----------
    true_boxes, pred_boxes, pred_scores, iou_threshold, true_labels, pred_labels
        As in :func:`precision_recall_curve`.

    Returns
    -------
    float
        AP in [0, 1]; 0.0 when there are no detections at all.

    Raises
    ------
    ValueError
        There is no true box at all (AP is undefined), or the inputs do not line up.

    Examples
    --------
    >>> truth = [[0, 0, 10, 10], [20, 0, 30, 10]]
    >>> found = [[0, 0, 10, 10], [50, 50, 60, 60], [21, 0, 31, 10]]
    >>> round(average_precision(truth, found, [0.9, 0.8, 0.7]), 4)  # 0.5 * 1 + 0.5 * 2/3
    0.8333
    >>> average_precision(truth, np.zeros((0, 4)), [])
    0.0
    """
    scores, is_tp, n_true = _matches(true_boxes, pred_boxes, pred_scores, iou_threshold, true_labels, pred_labels)
    if n_true == 0:
        raise ValueError("average precision needs at least one true box: score the detector on canvases with digits")
    if is_tp.size == 0:
        return 0.0
    tp = np.cumsum(is_tp)
    precision = tp / np.arange(1, len(tp) + 1)
    recall = tp / n_true
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(steps * envelope))
