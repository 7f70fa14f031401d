"""Score detections exactly as COCO does (AP at ten IoUs, by size), checked against pycocotools.

* :func:`coco_evaluate`: the twelve figures of pycocotools' ``COCOeval.stats``, re-implemented
  in numpy, float for float.
* :func:`to_coco` writes ground truth and detections as pycocotools' ``COCO`` objects, and
  :func:`pycocotools_evaluate` computes the same twelve figures with pycocotools itself, for
  comparison.

Inputs are lists with one array per image, checked as :mod:`cnnteach.scoring` checks them;
boxes are ``(x_min, y_min, x_max, y_max)`` in pixel edges (see :mod:`cnnteach.boxes`), so
IoU needs no ``+ 1`` and equals COCO's IoU of the same boxes written ``[x, y, w, h]``.

This module imports numpy only: never TensorFlow or Keras (pycocotools only inside
:func:`to_coco` and :func:`pycocotools_evaluate`).
"""

from __future__ import annotations

import numpy as np

from cnnteach.scoring import _NAMES, _inputs

__all__ = ["COCO_KEYS", "coco_evaluate", "pycocotools_evaluate", "to_coco"]

#: The keys of :func:`coco_evaluate`, in the order of pycocotools' ``COCOeval.stats``.
COCO_KEYS = ("map", "map50", "map75", "map_small", "map_medium", "map_large") + (
    ("mar_1", "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large")
)

# pycocotools' Params.setDetParams, written the same way so that every float is the same.
_IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
_RECALL_POINTS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
_MAX_DETS = (1, 10, 100)
_AREA_RANGES = ((0**2, 1e5**2), (0**2, 32**2), (32**2, 96**2), (96**2, 1e5**2))
_AREA_NAMES = ("all", "small", "medium", "large")


# ----------------------------------------------------------------------------- COCO
def _xywh(boxes: np.ndarray) -> np.ndarray:
    return np.stack(
        [boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], 1
    )


def _coco_iou(dets: np.ndarray, gts: np.ndarray) -> np.ndarray:
    """IoU of [x, y, w, h] boxes computed as pycocotools' maskApi ``bbIou`` does, float for
    float."""
    dx, dy, dw, dh = (dets[:, k, None] for k in range(4))
    gx, gy, gw, gh = (gts[None, :, k] for k in range(4))
    width = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    height = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    inter = width * height
    overlap = (width > 0) & (height > 0)
    union = np.where(overlap, dw * dh + gw * gh - inter, 1.0)
    return np.where(overlap, inter / union, 0.0)


def _match_image(ious, gt_area, dt_area, area_range):
    """COCOeval.evaluateImg for one image, class and area range: who matches whom, who is
    ignored."""
    low, high = area_range
    gt_ignore = (gt_area < low) | (gt_area > high)
    order = np.argsort(gt_ignore, kind="mergesort")  # ignored true boxes last
    gt_ignore = gt_ignore[order].tolist()
    rows = ious[:, order].tolist() if ious.size else []
    n_t, n_d, n_g = len(_IOU_THRESHOLDS), len(dt_area), len(order)
    dt_matched = np.zeros((n_t, n_d), dtype=bool)
    dt_ignore = np.zeros((n_t, n_d), dtype=bool)
    for t, threshold in enumerate(_IOU_THRESHOLDS):
        taken = [False] * n_g
        for d, row in enumerate(rows):
            best, m = min(threshold, 1 - 1e-10), -1
            for g in range(n_g):
                if taken[g]:
                    continue
                if m > -1 and not gt_ignore[m] and gt_ignore[g]:
                    break  # matched a counted box: never trade it for an ignored one
                if row[g] < best:
                    continue
                best, m = row[g], g  # ">=": of equal IoUs, the last box wins
            if m > -1:
                taken[m] = True
                dt_matched[t, d], dt_ignore[t, d] = True, gt_ignore[m]
    outside = (dt_area < low) | (dt_area > high)
    dt_ignore |= ~dt_matched & outside[None, :]
    return dt_matched, dt_ignore, np.asarray(gt_ignore, dtype=bool)


def _coco_tables(truths, tlabels, preds, plabels, scores):
    """COCOeval.evaluate + accumulate: precision (T, R, K, A, M) and recall (T, K, A, M)."""
    classes = sorted({int(c) for labels in tlabels + plabels for c in labels})
    n_t, n_r, n_a, n_m = len(_IOU_THRESHOLDS), len(_RECALL_POINTS), len(_AREA_RANGES), 3
    precision = -np.ones((n_t, n_r, len(classes), n_a, n_m))
    recall = -np.ones((n_t, len(classes), n_a, n_m))
    for k, c in enumerate(classes):
        per_area = [[] for _ in _AREA_RANGES]
        for i in range(len(truths)):
            gts, dets = _xywh(truths[i][tlabels[i] == c]), _xywh(preds[i][plabels[i] == c])
            if not len(gts) and not len(dets):
                continue
            dt_scores = scores[i][plabels[i] == c]
            order = np.argsort(-dt_scores, kind="mergesort")[: _MAX_DETS[-1]]
            dets, dt_scores = dets[order], dt_scores[order]
            ious = _coco_iou(dets, gts)
            gt_area, dt_area = gts[:, 2] * gts[:, 3], dets[:, 2] * dets[:, 3]
            for a, area_range in enumerate(_AREA_RANGES):
                per_area[a].append((dt_scores, *_match_image(ious, gt_area, dt_area, area_range)))
        for a, images in enumerate(per_area):
            if not images:
                continue
            gt_ignore = np.concatenate([e[3] for e in images])
            n_counted = np.count_nonzero(gt_ignore == 0)
            if n_counted == 0:
                continue
            for m, max_dets in enumerate(_MAX_DETS):
                dt_scores = np.concatenate([e[0][:max_dets] for e in images])
                order = np.argsort(-dt_scores, kind="mergesort")
                matched = np.concatenate([e[1][:, :max_dets] for e in images], axis=1)[:, order]
                ignored = np.concatenate([e[2][:, :max_dets] for e in images], axis=1)[:, order]
                tp_sum = np.cumsum(matched & ~ignored, axis=1).astype(float)
                fp_sum = np.cumsum(~matched & ~ignored, axis=1).astype(float)
                for t in range(n_t):
                    tp, fp = tp_sum[t], fp_sum[t]
                    rc = tp / n_counted
                    pr = tp / (fp + tp + np.spacing(1))
                    recall[t, k, a, m] = rc[-1] if len(tp) else 0
                    pr = np.maximum.accumulate(pr[::-1])[::-1]
                    at = np.searchsorted(rc, _RECALL_POINTS, side="left")
                    q = np.zeros(n_r)
                    q[at < len(pr)] = pr[at[at < len(pr)]]
                    precision[t, :, k, a, m] = q
    return precision, recall


def _summarize(precision, recall, ap: bool, iou=None, area="all", max_dets=100) -> float:
    """COCOeval.summarize's ``_summarize``: the mean over entries that are not -1, else -1."""
    a, m = [_AREA_NAMES.index(area)], [_MAX_DETS.index(max_dets)]
    s = precision if ap else recall
    if iou is not None:
        s = s[np.where(iou == _IOU_THRESHOLDS)[0]]
    s = s[:, :, :, a, m] if ap else s[:, :, a, m]
    return -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))


def coco_evaluate(*, true_boxes, true_labels, pred_boxes, pred_labels, pred_scores) -> dict:
    """COCO's twelve detection figures, computed in numpy by pycocotools' own rules.

    The rules of ``COCOeval`` (iouType ``"bbox"``), re-implemented step by step:

    * per image and class, detections are sorted best score first (a stable sort: equal
      scores keep their order) and only the first 100 are kept;
    * at each IoU threshold 0.50, 0.55, ..., 0.95, each detection in turn takes the still
      unmatched true box of its class with the highest IoU at least the threshold (of equal
      IoUs, the later box); a true box outside the area range is "ignored", taken only if no
      counted box matches, and a detection matched to it, or unmatched and itself outside the
      range, counts neither way;
    * per class, area range and ``maxDets`` in (1, 10, 100) (detections per image *per
      class*), detections of all images are ranked by score (stable, image by image);
      precision is made monotone and read at the 101 recalls 0, 0.01, ..., 1 (0 beyond the
      highest recall reached); recall is the highest recall reached;
    * an AP figure is the mean of those precisions over the 101 recalls, the IoU thresholds
      (or the one named: 0.5, 0.75) and the classes with at least one counted true box; an AR
      figure the mean of the recalls over thresholds and those classes; -1 when no class has a
      counted true box (for example ``map_large`` without large true boxes).

    Area ranges, by ``w * h`` of the box: small up to ``32**2``, medium ``32**2`` to ``96**2``,
    large from ``96**2``, every bound inclusive as in COCO (a 32 x 32 box is small *and*
    medium). Crowd annotations are not modelled. Boxes are pixel edges, so IoU equals COCO's
    IoU of the same boxes written ``[x, y, w, h]`` (no ``+ 1``).

    Parameters
    ----------
    true_boxes : list of array_like, shape (G_i, 4) each
        The true boxes of each image, ``(x_min, y_min, x_max, y_max)``.
    true_labels : list of array_like of int, shape (G_i,) each
        Their classes.
    pred_boxes, pred_labels, pred_scores : lists of array_like, shapes (D_i, 4), (D_i,), (D_i,)
        The detections of each image.

    Returns
    -------
    dict of str to float
        The keys of :data:`COCO_KEYS` in ``COCOeval.stats`` order: ``map`` (AP at IoU
        0.50:0.95), ``map50``, ``map75``, ``map_small``, ``map_medium``, ``map_large``,
        ``mar_1``, ``mar_10``, ``mar_100``, ``mar_small``, ``mar_medium``, ``mar_large``.

    Raises
    ------
    ValueError
        An argument is not a list with one entry per image, lists of different lengths,
        malformed boxes, non-whole labels or NaN scores.

    Examples
    --------
    One small true box found at IoU 0.82 (above 0.50..0.80, below 0.85..0.95); COCO's
    precision ``tp / (tp + fp + eps)`` is a hair below 1, hence the rounding:

    >>> stats = coco_evaluate(true_boxes=[[[0, 0, 10, 10]]], true_labels=[[7]],
    ...                       pred_boxes=[[[1, 0, 11, 10]]], pred_labels=[[7]],
    ...                       pred_scores=[[0.9]])
    >>> {key: round(value, 3) for key, value in stats.items()
    ...  if key.startswith("map")}  # doctest: +NORMALIZE_WHITESPACE
    {'map': 0.7, 'map50': 1.0, 'map75': 1.0, 'map_small': 0.7, 'map_medium': -1.0,
        'map_large': -1.0}
    """
    data = list(_inputs(true_boxes, true_labels, pred_boxes, pred_labels, pred_scores))
    precision, recall = _coco_tables(*data)
    args = [
        (True, None, "all", 100),
        (True, 0.5, "all", 100),
        (True, 0.75, "all", 100),
        (True, None, "small", 100),
        (True, None, "medium", 100),
        (True, None, "large", 100),
        (False, None, "all", 1),
        (False, None, "all", 10),
        (False, None, "all", 100),
        (False, None, "small", 100),
        (False, None, "medium", 100),
        (False, None, "large", 100),
    ]
    return {key: _summarize(precision, recall, *a) for key, a in zip(COCO_KEYS, args)}


# ----------------------------------------------------------------------------- pycocotools
def to_coco(*, true_boxes, true_labels, pred_boxes, pred_labels, pred_scores):
    """The same data as pycocotools objects: ``(coco_gt, coco_dt)`` for ``COCOeval``.

    Images get ids 1, 2, ... in list order; boxes become ``[x, y, w, h]``; a true box's
    ``area`` is ``w * h`` (COCO's area ranges read this field); categories are every label
    used. With no detection at all an empty result set is built directly
    (``COCO.loadRes([])`` raises IndexError). pycocotools' progress lines are silenced.

    Parameters
    ----------
    true_boxes, true_labels, pred_boxes, pred_labels, pred_scores
        As in :func:`coco_evaluate`.

    Returns
    -------
    coco_gt, coco_dt : pycocotools.coco.COCO

    Examples
    --------
    >>> gt, dt = to_coco(true_boxes=[[[0, 0, 10, 20]]], true_labels=[[7]],
    ...                  pred_boxes=[[]], pred_labels=[[]], pred_scores=[[]])
    >>> gt.loadAnns(gt.getAnnIds())[0]["bbox"], len(dt.getAnnIds())
    ([0.0, 0.0, 10.0, 20.0], 0)
    """
    import contextlib
    import io

    from pycocotools.coco import COCO

    truths, tlabels, preds, plabels, scores = _inputs(
        true_boxes, true_labels, pred_boxes, pred_labels, pred_scores
    )
    images = [{"id": i + 1} for i in range(len(truths))]
    used = sorted({int(c) for labels in tlabels + plabels for c in labels})
    categories = [{"id": c, "name": str(c)} for c in used]
    gt_anns, dt_anns = [], []
    for i in range(len(truths)):
        for box, label in zip(_xywh(truths[i]).tolist(), tlabels[i].tolist()):
            area = box[2] * box[3]
            ann = {"image_id": i + 1, "category_id": label, "bbox": box, "area": area}
            gt_anns.append({"id": len(gt_anns) + 1, "iscrowd": 0, **ann})
        for box, label, score in zip(_xywh(preds[i]).tolist(), plabels[i].tolist(), scores[i]):
            dt_anns.append({"image_id": i + 1, "category_id": label, "bbox": box, "score": score})
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = {"images": images, "categories": categories, "annotations": gt_anns}
        coco_gt.createIndex()
        if dt_anns:
            coco_dt = coco_gt.loadRes([{**ann, "score": float(ann["score"])} for ann in dt_anns])
        else:
            coco_dt = COCO()
            coco_dt.dataset = {"images": images, "categories": categories, "annotations": []}
            coco_dt.createIndex()
    return coco_gt, coco_dt


def pycocotools_evaluate(*, true_boxes, true_labels, pred_boxes, pred_labels, pred_scores) -> dict:
    """The figures of :func:`coco_evaluate`, computed by pycocotools' ``COCOeval`` itself.

    Parameters
    ----------
    true_boxes, true_labels, pred_boxes, pred_labels, pred_scores
        As in :func:`coco_evaluate`.

    Returns
    -------
    dict of str to float
        ``COCOeval.stats`` under the keys of :data:`COCO_KEYS`; its printed summary is
        silenced.

    Examples
    --------
    >>> data = dict(true_boxes=[[[0, 0, 10, 10]]], true_labels=[[7]],
    ...             pred_boxes=[[[1, 0, 11, 10]]], pred_labels=[[7]], pred_scores=[[0.9]])
    >>> pycocotools_evaluate(**data) == coco_evaluate(**data)
    True
    """
    import contextlib
    import io

    from pycocotools.cocoeval import COCOeval

    values = (true_boxes, true_labels, pred_boxes, pred_labels, pred_scores)
    coco_gt, coco_dt = to_coco(**dict(zip(_NAMES, values)))
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(coco_gt, coco_dt, iouType="bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return {key: float(value) for key, value in zip(COCO_KEYS, evaluation.stats)}
