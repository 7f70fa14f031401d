"""Scoring detectors in numpy: precision-recall, average precision and PASCAL VOC's mAP.

Every function takes ground truth and detections as lists with one array per image; boxes are
``(x_min, y_min, x_max, y_max)`` in pixel edges (see :mod:`cnnteach.boxes`), so IoU needs no
``+ 1`` and equals COCO's IoU of the same boxes written ``[x, y, w, h]``.

* :func:`precision_recall_curve` and :func:`average_precision`: one ranked list of detections
  (all classes together when labels are given), each matched to the best *unmatched* true box.
* :func:`mean_average_precision`: PASCAL VOC's mAP, per class, with VOC's own matching rule.

COCO's twelve figures live in :mod:`cnnteach.coco`, which reads its inputs with the same
checks as this module.

This module imports numpy only: never TensorFlow or Keras.
"""

from __future__ import annotations

import re

import numpy as np

from cnnteach.boxes import _as_boxes, pairwise_iou

__all__ = [
    "average_precision",
    "mean_average_precision",
    "precision_recall_curve",
]

_NAMES = ("true_boxes", "true_labels", "pred_boxes", "pred_labels", "pred_scores")


# ----------------------------------------------------------------------------- pooled AP
def _per_image(values, name: str, kind: str) -> list[np.ndarray]:
    """A (K, 4) array (or (K,) for scores/labels) is one image; a list of them is many."""
    width = 2 if kind == "boxes" else 1
    if not isinstance(values, (list, tuple, np.ndarray)) and not hasattr(values, "shape"):
        raise ValueError(
            f"{name} must be an array or a list with one array per image, "
            f"not a {type(values).__name__}: pass a list."
        )
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
            raise ValueError(
                f"image {i} has {len(preds[i])} predicted boxes but {len(scores[i])} scores "
                f"or {len(plabels[i])} labels"
            )
        if len(truths[i]) != len(tlabels[i]):
            raise ValueError(
                f"image {i} has {len(truths[i])} true boxes but {len(tlabels[i])} labels"
            )
    if not 0 < float(iou_threshold) <= 1:
        raise ValueError(f"iou_threshold must lie in (0, 1], got {iou_threshold}")
    empty = [np.zeros(0, int)]
    image_of = np.concatenate([np.full(len(p), i) for i, p in enumerate(preds)] + empty)
    index_in = np.concatenate([np.arange(len(p)) for p in preds] + empty)
    all_scores = np.concatenate(scores + [np.zeros(0)])
    order = np.argsort(-all_scores, kind="stable")
    overlaps = [pairwise_iou(p, t) for p, t in zip(preds, truths)]
    taken = [np.zeros(len(t), dtype=bool) for t in truths]
    is_tp = np.zeros(len(order), dtype=bool)
    for rank, k in enumerate(order):
        i, j = int(image_of[k]), int(index_in[k])
        candidates = overlaps[i][j].copy()
        candidates[taken[i] | (tlabels[i] != plabels[i][j])] = -1.0
        if candidates.size and candidates.max() >= iou_threshold:
            best = int(np.argmax(candidates))
            taken[i][best] = True
            is_tp[rank] = True
    return all_scores[order], is_tp, sum(len(t) for t in truths)


def precision_recall_curve(
    true_boxes,
    pred_boxes,
    pred_scores,
    *,
    iou_threshold: float = 0.5,
    true_labels=None,
    pred_labels=None,
):
    """Precision and recall after each detection, taken from the most confident down.

    Matching: detections are visited best score first (over all images; equal scores keep
    their order); each one is matched to the still unmatched true box of its image with the
    highest IoU, if that IoU is at least ``iou_threshold`` (and, when labels are given, the
    labels agree). A matched detection is a true positive; every other one is a false
    positive (a duplicate of an already found digit included). COCO matches by this "best
    unmatched box" rule too; PASCAL VOC's differs (see :func:`mean_average_precision`).

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
    scores, is_tp, n_true = _matches(
        true_boxes, pred_boxes, pred_scores, iou_threshold, true_labels, pred_labels
    )
    tp = np.cumsum(is_tp)
    precision = tp / np.arange(1, len(tp) + 1)
    recall = tp / n_true if n_true else np.zeros(len(tp))
    return precision, recall, scores


def average_precision(
    true_boxes,
    pred_boxes,
    pred_scores,
    *,
    iou_threshold: float = 0.5,
    true_labels=None,
    pred_labels=None,
) -> float:
    """Average precision (AP) of one ranked list of detections, all-point interpolated.

    The precision-recall curve of :func:`precision_recall_curve` is first made monotone
    (each precision is replaced by the best precision at the same or a higher recall); AP is
    the area under that envelope, summed exactly at every recall the detections reach:
    ``AP = sum_k (r_k - r_{k-1}) * max_{j >= k} p_j`` with ``r_{-1} = 0`` (the all-point
    interpolation of PASCAL VOC 2010+). Recall the detector never reaches adds nothing, so
    missed digits lower AP. Two things differ from VOC's AP: matching takes the best
    *unmatched* true box, and with labels the detections of all classes are ranked in one
    list (a pooled "digit" AP that also demands the right digit).
    :func:`mean_average_precision` gives VOC's per-class AP and their mean, the mAP papers
    report.

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
    _, is_tp, n_true = _matches(
        true_boxes, pred_boxes, pred_scores, iou_threshold, true_labels, pred_labels
    )
    if n_true == 0:
        raise ValueError(
            "average precision needs at least one true box: "
            "score the detector on canvases with digits"
        )
    if is_tp.size == 0:
        return 0.0
    tp = np.cumsum(is_tp)
    precision = tp / np.arange(1, len(tp) + 1)
    recall = tp / n_true
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(steps * envelope))


# ----------------------------------------------------------------------------- inputs
def _image_list(values, name: str, ndim: int) -> list:
    if isinstance(values, np.ndarray) and values.ndim == ndim + 1:
        return list(values)
    if isinstance(values, (list, tuple)):
        return list(values)
    shape = f" of shape {values.shape}" if isinstance(values, np.ndarray) else ""
    raise ValueError(
        f"{name} must be a list with one array per image, got {type(values).__name__}{shape}: "
        f"for a single image write [{name}]"
    )


def _numbers(item, name: str, whole: bool) -> np.ndarray:
    kind = "whole numbers (class ids)" if whole else "numbers"
    try:
        array = np.asarray(item, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {kind}, one per box") from None
    if array.ndim > 1:
        raise ValueError(f"{name} must be {kind}, one per box, got shape {array.shape}")
    array = array.reshape(-1)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values: give finite {kind}")
    if whole and not np.all(array == np.round(array)):
        raise ValueError(f"{name} must be {kind}, got {array.tolist()}")
    return array.astype(np.int64) if whole else array


def _image_boxes(item, name: str, i: int) -> np.ndarray:
    """Image i's boxes as (N, 4); a bad one is named ``name[i][j] (image i, box j)``."""
    try:
        return _as_boxes(item, f"{name}[{i}]")
    except ValueError as error:
        head, text = f"{name}[{i}]", str(error)
        box = re.match(r"\[(\d+)\]", text[len(head) :])
        if box:  # _as_boxes named one box: name[i][j] = (...) is not a box
            where = f"{head}{box[0]} (image {i}, box {box[1]})"
            raise ValueError(where + text[len(head) + len(box[0]) :]) from None
        where = f"{head} (image {i}; a list with one (N, 4) array per image)"
        raise ValueError(where + text[len(head) :]) from None


def _inputs(true_boxes, true_labels, pred_boxes, pred_labels, pred_scores):
    """Check the five per-image lists; return them as lists of arrays."""
    values = (true_boxes, true_labels, pred_boxes, pred_labels, pred_scores)
    given = {n: _image_list(v, n, 2 if n.endswith("boxes") else 1) for n, v in zip(_NAMES, values)}
    counts = {name: len(items) for name, items in given.items()}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{name} {n}" for name, n in counts.items())
        raise ValueError(
            f"the lists have different lengths ({listed}): "
            "give every argument one entry per image, in the same order"
        )
    out = {}
    for name, items in given.items():
        if name.endswith("boxes"):
            out[name] = [_image_boxes(item, name, i) for i, item in enumerate(items)]
        else:
            whole = name.endswith("labels")
            out[name] = [_numbers(item, f"{name}[{i}]", whole) for i, item in enumerate(items)]
    for i in range(counts["true_boxes"]):
        for side, per in (("true", "label"), ("pred", "label"), ("pred", "score")):
            boxes, values = out[f"{side}_boxes"][i], out[f"{side}_{per}s"][i]
            if len(boxes) != len(values):
                raise ValueError(
                    f"image {i} has {len(boxes)} {side} boxes but {len(values)} {side}_{per}s: "
                    f"give one {per} per box"
                )
    return (out[name] for name in _NAMES)


# ----------------------------------------------------------------------------- VOC
def _voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """VOCdevkit's VOCap: area under the precision envelope, at every recall step."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[steps] - mrec[steps - 1]) * mpre[steps]))


def mean_average_precision(
    *, true_boxes, true_labels, pred_boxes, pred_labels, pred_scores, iou_threshold=0.5
) -> tuple[float, dict[int, float]]:
    """PASCAL VOC's mean average precision: the AP of each class, averaged over classes.

    For each class, its detections in all images are ranked best score first (equal scores
    keep their order: image by image, then as given). Each detection finds the true box of
    its class in its image with the highest IoU (the first one on a tie). If that IoU is at
    least ``iou_threshold`` and the box is not yet taken, the detection is a true positive and
    takes it; if the box is already taken, the detection is a false positive, even when
    another true box would have matched (VOCdevkit's ``VOCevaldet``; COCO instead takes the
    best *unmatched* box). AP is VOC 2010+'s all-point interpolated area under the
    precision envelope; the mean runs over the classes with at least one true box.

    Parameters
    ----------
    true_boxes : list of array_like, shape (G_i, 4) each
        The true boxes of each image, ``(x_min, y_min, x_max, y_max)`` pixel edges.
    true_labels : list of array_like of int, shape (G_i,) each
        Their classes.
    pred_boxes, pred_labels, pred_scores : lists of array_like, shapes (D_i, 4), (D_i,), (D_i,)
        The detections of each image: boxes, classes and scores.
    iou_threshold : float, default 0.5
        VOC's 0.5; a detection needs IoU at least this (``>=``, as in VOCdevkit).

    Returns
    -------
    mAP : float
        The mean of the per-class APs.
    ap : dict of int to float
        The AP of every class that has at least one true box (0.0 if it has no detection).
        A class with detections but no true box has no AP and is left out of ``ap`` and of
        the mean; its detections count nowhere.

    Raises
    ------
    ValueError
        An argument is not a list with one entry per image, lists of different lengths,
        malformed boxes, non-whole labels, NaN scores, no true box at all, or a threshold
        outside (0, 1].

    Notes
    -----
    VOCdevkit writes boxes as inclusive pixel indices and adds 1 to widths; pixel edges need
    no ``+ 1``, so IoU is the same. VOC's "difficult" objects are not modelled.

    Examples
    --------
    One true "3" and one true "5"; the first "3" detection is a duplicate of the second:

    >>> mAP, ap = mean_average_precision(
    ...     true_boxes=[[[0, 0, 10, 10], [20, 0, 30, 10]]], true_labels=[[3, 5]],
    ...     pred_boxes=[[[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10]]],
    ...     pred_labels=[[3, 3, 5]], pred_scores=[[0.9, 0.8, 0.7]])
    >>> mAP, ap
    (1.0, {3: 1.0, 5: 1.0})
    """
    truths, tlabels, preds, plabels, scores = _inputs(
        true_boxes, true_labels, pred_boxes, pred_labels, pred_scores
    )
    try:
        iou_threshold = float(iou_threshold)
    except (TypeError, ValueError):
        raise ValueError(
            f"iou_threshold must be a number in (0, 1], got {iou_threshold!r}"
        ) from None
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold must lie in (0, 1], got {iou_threshold}")
    classes = sorted({int(c) for labels in tlabels for c in labels})
    if not classes:
        raise ValueError(
            "mean average precision needs at least one true box: "
            "score the detector on images with objects"
        )
    ap = {}
    for c in classes:
        image_of, score_of, hit_of = [], [], []
        n_true = 0
        for i in range(len(truths)):
            mine, theirs = plabels[i] == c, tlabels[i] == c
            n_true += int(theirs.sum())
            overlaps = pairwise_iou(preds[i][mine], truths[i][theirs])
            if overlaps.shape[1]:
                best = np.argmax(overlaps, axis=1)
                good = overlaps[np.arange(len(best)), best] >= iou_threshold
                hit = np.where(good, best, -1)
            else:
                hit = np.full(len(overlaps), -1)
            image_of += [i] * len(hit)
            score_of += scores[i][mine].tolist()
            hit_of += hit.tolist()
        order = np.argsort(-np.asarray(score_of, dtype=np.float64), kind="stable")
        taken = set()
        tp = np.zeros(len(order))
        for rank, k in enumerate(order):
            if hit_of[k] >= 0 and (image_of[k], hit_of[k]) not in taken:
                taken.add((image_of[k], hit_of[k]))
                tp[rank] = 1
        tp_sum, fp_sum = np.cumsum(tp), np.cumsum(1 - tp)
        ap[c] = _voc_ap(tp_sum / n_true, tp_sum / np.maximum(tp_sum + fp_sum, 1))
    return float(np.mean(list(ap.values()))), ap
