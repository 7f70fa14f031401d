"""Two-stage detection: propose class-agnostic regions first, then classify and refine each one.

Lesson 14 rebuilds, on digits, the three steps from R-CNN to Faster R-CNN:

* **R-CNN in miniature** lives in :mod:`cnnteach.rcnn` (regions from ink, crops, a classifier).
* **Fast R-CNN.** The backbone runs once per canvas (:func:`two_stage_model`); every region of
  interest (RoI) is cut out of the *feature map*. :func:`roi_max_pool` is the Fast R-CNN
  paper's RoI pooling (max over a grid of bins snapped to the feature cells) and
  :func:`roi_align` Mask R-CNN's RoIAlign (bilinear samples, nothing snapped), both in numpy;
  inside the model RoIAlign is ``tf.image.crop_and_resize`` (:func:`roi_align_layer`); all
  three live in :mod:`cnnteach.roi` and are re-exported here. The
  head gives N + 1 class scores and per-class box offsets; :func:`sample_rois` samples
  training RoIs as Fast R-CNN did.
* **Faster R-CNN.** A region proposal network (RPN) on the same features replaces the
  hand-made proposals: :func:`rpn_targets` labels anchors 0.7 / 0.3, :func:`propose` keeps the
  top-k after NMS.

Training (:mod:`cnnteach.two_stage_training`) is *alternating*, in three stages: the backbone
and the RoI head (Fast R-CNN), then the RPN's own layers on the frozen, shared backbone, then
the RoI head again on the RPN's proposals. :func:`detect` runs either pipeline. The numpy
parts import no TensorFlow; Keras and TensorFlow are
imported inside the functions that build or run a network.
"""

from __future__ import annotations

import numpy as np

from cnnteach.boxes import (
    assign_anchors,
    batched_nms,
    decode_boxes,
    encode_boxes,
    non_max_suppression,
    pairwise_iou,
)
from cnnteach.canvases import Canvas
from cnnteach.detect import Detections
from cnnteach.one_stage import ANCHORS, CANVAS, TEST_SEED
from cnnteach.rcnn import ink_proposals
from cnnteach.roi import POOL, roi_align, roi_align_layer, roi_max_pool

__all__ = [
    "ANCHORS",
    "BOX_VARIANCES",
    "CANVAS",
    "TEST_SEED",
    "detect",
    "propose",
    "roi_align",
    "roi_align_layer",
    "roi_max_pool",
    "roi_targets",
    "roi_loss",
    "rpn_targets",
    "sample_rois",
    "two_stage_model",
]


#: Offsets of the RoI head are divided by these before the loss sees them (the
#: ``BBOX_NORMALIZE_STDS`` of the Fast/Faster R-CNN code), so that all four are about as large.
BOX_VARIANCES = (0.1, 0.1, 0.2, 0.2)


# ----------------------------------------------------------------------------- the network
def two_stage_model(
    input_shape=(96, 96, 1),
    *,
    classes: int = 10,
    anchors_per_cell: int = 9,
    hidden: int = 256,
    width: int = 64,
):
    """Backbone once, then an RPN and a RoI head on its features: a Faster R-CNN in miniature.

    * ``features``: lesson 13's :func:`~cnnteach.models.detection_backbone` (stride-8 map)
      plus its stride-4 block projected by a 1x1 convolution and added to the upsampled
      stride-8 map, so small digits cover several cells of the map the RoI head reads.
    * ``rpn``: a 3x3 convolution, then per anchor 2 objectness logits (object, background)
      and 4 offsets: lesson 13's head made class-agnostic.
    * ``roi_head``: :func:`roi_align_layer` to 7 x 7 cells, two ``Dense(hidden)`` layers,
      then ``classes + 1`` logits and ``4 * classes`` offsets (one box per digit).

    Returns
    -------
    keras.Model
        Inputs ``[canvases (B, H, W, 1), rois (B, R, 4) in pixels]``; outputs
        ``[roi_head (B, R, classes + 1 + 4 * classes), rpn (B, H/8 * W/8 * anchors_per_cell, 6)]``.

    Examples
    --------
    >>> model = two_stage_model()  # doctest: +SKIP
    >>> [tuple(o.shape) for o in model.outputs]  # doctest: +SKIP
    [(None, None, 51), (None, 1296, 6)]
    """
    import keras
    from keras import layers

    from cnnteach.models import detection_backbone

    backbone = detection_backbone(input_shape)
    taps = keras.Model(
        backbone.input, [backbone.get_layer("relu_3").output, backbone.output], name="backbone"
    )
    image = keras.Input(input_shape, name="canvas")
    stride4, stride8 = taps(image)
    fused = layers.Add(name="fuse")(
        [
            layers.Conv2D(width, 1, name="lateral")(stride4),
            layers.UpSampling2D(2, name="up")(stride8),
        ]
    )
    features = keras.Model(image, [fused, stride8], name="features")

    fmap = keras.Input((None, None, width), name="stride4_features")
    rois = keras.Input((None, 4), name="rois")
    x = roi_align_layer(name="roi_align")([fmap, rois])  # (B, R, 7, 7, width)
    x = layers.Reshape((-1, POOL * POOL * width), name="flatten_rois")(x)
    x = layers.Dense(hidden, activation="relu", name="fc1")(x)
    x = layers.Dense(hidden, activation="relu", name="fc2")(x)
    scores = layers.Dense(classes + 1, name="class_logits")(x)
    offsets = layers.Dense(4 * classes, name="box_offsets")(x)
    head = keras.Model(
        [fmap, rois], layers.Concatenate(name="roi_outputs")([scores, offsets]), name="roi_head"
    )

    fmap8 = keras.Input((None, None, stride8.shape[-1]), name="stride8_features")
    r = layers.Conv2D(width, 3, padding="same", activation="relu", name="rpn_conv")(fmap8)
    r = layers.Conv2D(anchors_per_cell * 6, 1, name="rpn_out")(r)
    rpn = keras.Model(fmap8, layers.Reshape((-1, 6), name="rpn_anchors")(r), name="rpn")

    canvas = keras.Input(input_shape, name="canvas")
    roi_input = keras.Input((None, 4), name="rois")
    f4, f8 = features(canvas)
    return keras.Model([canvas, roi_input], [head([f4, roi_input]), rpn(f8)], name="two_stage")


def _fast_view(model):
    """The Fast R-CNN part: [canvases, rois] -> RoI head outputs (layers shared with ``model``)."""
    import keras

    canvas = keras.Input(model.inputs[0].shape[1:])
    rois = keras.Input((None, 4))
    f4, _ = model.get_layer("features")(canvas)
    return keras.Model([canvas, rois], model.get_layer("roi_head")([f4, rois]), name="fast_rcnn")


def _rpn_view(model):
    """The RPN part: canvases -> anchor outputs (layers shared with ``model``)."""
    import keras

    canvas = keras.Input(model.inputs[0].shape[1:])
    _, f8 = model.get_layer("features")(canvas)
    return keras.Model(canvas, model.get_layer("rpn")(f8), name="rpn_view")


# ----------------------------------------------------------------------------- RoI sampling
def _jitter(boxes, rng, per_box: int, size: int, shift: float = 0.5, scale: float = 0.7):
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if not len(boxes):
        return boxes
    b = np.repeat(boxes, per_box, axis=0)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    cx = (b[:, 0] + b[:, 2]) / 2 + rng.uniform(-shift, shift, len(b)) * w
    cy = (b[:, 1] + b[:, 3]) / 2 + rng.uniform(-shift, shift, len(b)) * h
    w = w * np.exp(rng.uniform(-scale, scale, len(b)))
    h = h * np.exp(rng.uniform(-scale, scale, len(b)))
    out = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return _clip(out, size)


def _clip(boxes, size):
    out = np.clip(boxes, 0, size)
    ok = (out[:, 2] - out[:, 0] >= 2) & (out[:, 3] - out[:, 1] >= 2)
    return out[ok]


def sample_rois(
    true_boxes,
    rng,
    *,
    count: int = 32,
    positive_fraction: float = 0.25,
    size: int = 96,
    candidates=None,
    jitter: bool = True,
):
    """Sample training RoIs as Fast R-CNN did: a quarter positives, the rest background.

    The candidates are the true boxes, 24 random shifts and resizings of each (12 up to half
    a box off and up to 2 times too wide or tall, 12 near misses within 15% and 1.2 times, so
    that the head learns fine corrections too), 32 random boxes and any ``candidates`` given
    (e.g. proposals); ``jitter=False`` leaves out the shifted copies, so that the RoIs come
    from the proposals as in Fast R-CNN. A candidate with IoU >= 0.5 with a true box is a
    positive (of that box's digit); one whose best IoU lies in [0.1, 0.5) is
    background. Fast R-CNN (Girshick 2015, section 2.3) took 25% of each image's RoIs from
    proposals with IoU >= 0.5 and the rest from [0.1, 0.5). When a canvas has too few
    positives, more background fills the batch; when it has no candidate in [0.1, 0.5), the
    background comes from below 0.1.

    Returns
    -------
    rois : numpy.ndarray, shape (count, 4)
    matched : numpy.ndarray of int, shape (count,)
        Index of the true box of each positive, -1 for background.

    Examples
    --------
    >>> rois, matched = sample_rois([[10, 10, 40, 50]], np.random.default_rng(0), count=8)
    >>> rois.shape, int((matched >= 0).sum())
    ((8, 4), 2)
    """
    true_boxes = np.asarray(true_boxes, np.float64).reshape(-1, 4)
    if not 0 <= positive_fraction <= 1:
        raise ValueError(f"positive_fraction must lie in [0, 1], got {positive_fraction}")
    parts = [true_boxes]
    if jitter:
        parts.append(_jitter(true_boxes, rng, 12, size))  # up to half a box off, sizes up to 2x off
        parts.append(_jitter(true_boxes, rng, 12, size, shift=0.15, scale=0.2))  # near misses
    centres = rng.uniform(0, size, (32, 2))
    sides = rng.uniform(8, 48, (32, 2))
    parts.append(_clip(np.concatenate([centres - sides / 2, centres + sides / 2], axis=1), size))
    if candidates is not None and len(candidates):
        parts.append(np.asarray(candidates, np.float64).reshape(-1, 4))
    pool = np.concatenate(parts)
    if len(true_boxes):
        overlap = pairwise_iou(pool, true_boxes)
        best, which = overlap.max(axis=1), overlap.argmax(axis=1)
    else:
        best, which = np.zeros(len(pool)), np.zeros(len(pool), int)
    positives = np.flatnonzero(best >= 0.5)
    backgrounds = np.flatnonzero((best >= 0.1) & (best < 0.5))
    if not len(backgrounds):
        backgrounds = np.flatnonzero(best < 0.1)
    n_pos = min(int(round(count * positive_fraction)), len(positives))
    pos = rng.choice(positives, n_pos, replace=False)
    neg = rng.choice(backgrounds, count - n_pos, replace=len(backgrounds) < count - n_pos)
    picked = np.concatenate([pos, neg]).astype(int)
    matched = np.where(np.arange(count) < n_pos, which[picked], -1)
    return pool[picked], matched


def roi_targets(rois, matched, true_boxes, true_labels, *, classes: int = 10):
    """One training row per RoI: the RoI, its class (``classes`` = background), its offsets.

    The offsets are :func:`~cnnteach.boxes.encode_boxes` from the RoI to its true box,
    divided by :data:`BOX_VARIANCES`; background rows have zeros.

    Returns
    -------
    numpy.ndarray, float32, shape (R, 9)
        Columns ``x_min, y_min, x_max, y_max, class, tx, ty, tw, th``.

    Examples
    --------
    >>> roi_targets([[0, 0, 10, 10], [50, 50, 60, 60]], [0, -1], [[1, 0, 11, 10]], [7])
    array([[ 0.,  0., 10., 10.,  7.,  1.,  0.,  0.,  0.],
           [50., 50., 60., 60., 10.,  0.,  0.,  0.,  0.]], dtype=float32)
    """
    rois = np.asarray(rois, np.float64).reshape(-1, 4)
    matched = np.asarray(matched, int)
    out = np.zeros((len(rois), 9), np.float32)
    out[:, :4] = rois
    out[:, 4] = classes
    pos = matched >= 0
    if pos.any():
        true_boxes = np.asarray(true_boxes, np.float64).reshape(-1, 4)
        out[pos, 4] = np.asarray(true_labels)[matched[pos]]
        out[pos, 5:] = encode_boxes(rois[pos], true_boxes[matched[pos]], variances=BOX_VARIANCES)
    return out


def roi_loss(*, classes: int = 10, box_weight: float = 1.0):
    """Fast R-CNN's multi-task loss: softmax cross-entropy plus smooth L1 on the true class's box.

    ``L = CE(p, u) + box_weight * [u is a digit] * smoothL1(t_u - v)``, averaged over all
    RoIs of the batch (Girshick 2015, eq. 1, with lambda = 1). ``y_true`` rows come from
    :func:`roi_targets`; ``y_pred`` rows are ``classes + 1`` logits and ``4 * classes`` offsets.

    Examples
    --------
    >>> y_true = np.array([[[0, 0, 9, 9, 10, 0, 0, 0, 0]]], "float32")  # one background RoI
    >>> round(float(roi_loss()(y_true, np.zeros((1, 1, 51), "float32"))), 4)  # ln 11
    2.3979
    """
    from keras import ops

    n_out = int(classes) + 1

    def loss(y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true, "float32")
        y_pred = ops.convert_to_tensor(y_pred, "float32")
        y_true = ops.reshape(y_true, (-1, 9))  # one row per RoI
        y_pred = ops.reshape(y_pred, (-1, n_out + 4 * classes))
        cls = ops.cast(y_true[:, 4], "int32")
        log_probs = ops.log_softmax(y_pred[:, :n_out], axis=-1)
        ce = -ops.sum(ops.one_hot(cls, n_out) * log_probs, axis=-1)
        deltas = ops.reshape(y_pred[:, n_out:], (-1, classes, 4))
        chosen = ops.sum(
            deltas * ops.one_hot(ops.minimum(cls, classes - 1), classes)[:, :, None], axis=1
        )
        diff = ops.abs(chosen - y_true[:, 5:9])
        smooth = ops.sum(ops.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5), axis=-1)
        positive = ops.cast(cls < classes, "float32")
        return ops.mean(ce) + box_weight * ops.mean(smooth * positive)

    return loss


# ----------------------------------------------------------------------------- the RPN
def rpn_targets(canvases, anchors=None, *, positive_iou: float = 0.7, negative_iou: float = 0.3):
    """Class-agnostic anchor targets for the RPN: object (0), background (1) or ignore (-1).

    :func:`cnnteach.boxes.assign_anchors` with Faster R-CNN's thresholds (IoU >= 0.7
    positive, < 0.3 background, every true box's best anchor positive), every digit given
    the one label "object"; positives get their :func:`~cnnteach.boxes.encode_boxes` offsets.

    Returns
    -------
    numpy.ndarray, float32, shape (N, A, 5)
        Column 0 the class, columns 1-4 the offsets; lesson 13's ``detection_loss(classes=1)``
        reads it.

    Examples
    --------
    >>> canvas = Canvas(np.zeros((16, 16), np.uint8), np.array([[0, 0, 10, 10]]), np.array([3]))
    >>> rpn_targets([canvas], [[0, 0, 10, 10], [0, 0, 11, 10], [8, 8, 16, 16]])[0, :, 0].tolist()
    [0.0, 0.0, 1.0]
    """
    anchors = (
        ANCHORS.anchors((CANVAS["size"],) * 2)
        if anchors is None
        else np.asarray(anchors, np.float64)
    )
    out = np.zeros((len(canvases), len(anchors), 5), np.float32)
    for i, canvas in enumerate(canvases):
        labels = np.zeros(len(canvas.boxes), np.int64)
        classes, matched = assign_anchors(
            anchors,
            canvas.boxes,
            labels,
            positive_iou=positive_iou,
            negative_iou=negative_iou,
            background=1,
        )
        out[i, :, 0] = classes
        pos = matched >= 0
        if pos.any():
            out[i, pos, 1:] = encode_boxes(anchors[pos], np.asarray(canvas.boxes)[matched[pos]])
    return out


def propose(
    rpn_output,
    anchors=None,
    *,
    size: int = 96,
    pre_nms: int = 300,
    iou_threshold: float = 0.7,
    top_k: int = 50,
):
    """The RPN's proposals for one canvas: best ``pre_nms`` anchors, decoded, NMS, top ``top_k``.

    Parameters
    ----------
    rpn_output : array_like, shape (A, 6)
        Object and background logits, then offsets, for every anchor.

    Returns
    -------
    boxes : numpy.ndarray, shape (k, 4)
    scores : numpy.ndarray, shape (k,)
        Objectness (softmax probability of "object").

    Examples
    --------
    >>> out = np.zeros((2, 6)); out[0, 0] = 5.0  # anchor 0 says "object"
    >>> boxes, scores = propose(out, [[0, 0, 10, 10], [40, 40, 50, 50]], top_k=1)
    >>> boxes.tolist(), scores.round(3).tolist()
    ([[0.0, 0.0, 10.0, 10.0]], [0.993])
    """
    anchors = ANCHORS.anchors((size, size)) if anchors is None else np.asarray(anchors, np.float64)
    out = np.asarray(rpn_output, np.float64)
    if out.shape != (len(anchors), 6):
        raise ValueError(
            f"rpn_output must have shape ({len(anchors)}, 6), one row per anchor, got {out.shape}"
        )
    objectness = 1 / (1 + np.exp(out[:, 1] - out[:, 0]))
    order = np.argsort(-objectness, kind="stable")[:pre_nms]
    deltas = out[order, 2:].copy()
    deltas[:, 2:] = np.minimum(deltas[:, 2:], 4.0)  # no box grows more than e^4 times an anchor
    boxes = np.clip(decode_boxes(anchors[order], deltas), 0, size)
    scores = objectness[order]
    ok = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
    boxes, scores = boxes[ok], scores[ok]
    keep = (
        non_max_suppression(boxes, scores, iou_threshold)[:top_k]
        if len(boxes)
        else np.zeros(0, int)
    )
    return boxes[keep], scores[keep]


# ----------------------------------------------------------------------------- detecting
def _stack(canvases):
    images = [c.image if isinstance(c, Canvas) else np.asarray(c) for c in canvases]
    return np.stack(images).astype("float32")[..., None] / 255.0


def detect(
    model,
    canvases,
    *,
    proposals="rpn",
    top_k: int = 50,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
    batch_size: int = 64,
    return_proposals: bool = False,
):
    """Detect digits: backbone once per canvas, proposals, RoIAlign, class scores and boxes.

    Parameters
    ----------
    model : keras.Model
        From :func:`two_stage_model`, trained (:func:`load_two_stage`).
    canvases : list of Canvas
    proposals : "rpn", "ink" or list of arrays
        ``"rpn"``: Faster R-CNN (the RPN's :func:`propose`, ``top_k`` per canvas);
        ``"ink"``: Fast R-CNN on :func:`ink_proposals`; or one array of boxes per canvas.
    score_threshold, iou_threshold, max_detections
        Every (RoI, digit) with probability >= ``score_threshold`` becomes a box (the RoI moved
        by that digit's offsets); per-class NMS at ``iou_threshold``; the best ``max_detections``.
    return_proposals : bool, default False
        Also return the proposals used.

    Returns
    -------
    list of Detections (and the list of proposals with ``return_proposals``)

    Examples
    --------
    >>> found = detect(load_two_stage(), canvases)  # doctest: +SKIP
    """
    from cnnteach.callbacks import quiet_retracing

    x = _stack(canvases)
    size = x.shape[1]
    with quiet_retracing():
        f4, f8 = model.get_layer("features").predict(x, batch_size=batch_size, verbose=0)
        if isinstance(proposals, str) and proposals == "rpn":
            anchors = ANCHORS.anchors(x.shape[1:3])
            rpn_out = model.get_layer("rpn").predict(f8, batch_size=batch_size, verbose=0)
            proposals = [propose(o, anchors, size=size, top_k=top_k)[0] for o in rpn_out]
        elif isinstance(proposals, str) and proposals == "ink":
            proposals = [ink_proposals(c.image if isinstance(c, Canvas) else c) for c in canvases]
        elif isinstance(proposals, str) or len(proposals) != len(x):
            raise ValueError(
                f"proposals must be 'rpn', 'ink' or one array of boxes per canvas ({len(x)}), "
                f"got {proposals!r:.60}"
            )
        count = max(1, max(len(p) for p in proposals))
        rois = np.tile(np.array([0, 0, 8, 8], np.float32), (len(x), count, 1))
        for i, p in enumerate(proposals):
            rois[i, : len(p)] = p
        out = model.get_layer("roi_head").predict([f4, rois], batch_size=batch_size, verbose=0)
    found = [
        _decode_rois(
            o[: len(p)],
            np.asarray(p, np.float64).reshape(-1, 4),
            size,
            score_threshold,
            iou_threshold,
            max_detections,
        )
        for o, p in zip(out, proposals)
    ]
    return (found, proposals) if return_proposals else found


def _decode_rois(out, rois, size, score_threshold, iou_threshold, max_detections, classes=10):
    logits = out[:, : classes + 1].astype(np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (probs / probs.sum(axis=1, keepdims=True))[:, :classes]
    roi_ids, digits = np.nonzero(probs >= score_threshold)
    if not len(roi_ids):
        return Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))
    deltas = out[:, classes + 1 :].reshape(len(out), classes, 4)[roi_ids, digits].astype(np.float64)
    deltas[:, 2:] = np.minimum(deltas[:, 2:] * BOX_VARIANCES[2], 4.0) / BOX_VARIANCES[2]
    boxes = np.clip(decode_boxes(rois[roi_ids], deltas, variances=BOX_VARIANCES), 0, size)
    scores = probs[roi_ids, digits]
    kept = batched_nms(boxes, scores, digits, iou_threshold)[:max_detections]
    return Detections(boxes[kept], scores[kept], digits[kept].astype(np.int64))
