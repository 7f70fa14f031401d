"""Two-stage detection: propose class-agnostic regions first, then classify and refine each one.

Lesson 14 rebuilds, on digits, the three steps from R-CNN to Faster R-CNN:

* **R-CNN in miniature.** :func:`ink_proposals` finds regions without learning (connected
  components of ink at several thresholds, with ``scipy.ndimage``); :func:`crop_proposals`
  crops and resizes each one to 28 x 28; :func:`rcnn_detect` classifies every crop with
  lesson 12's digit-or-background classifier (:func:`load_window_classifier`).
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

Training (:func:`train_two_stage`) is *alternating*, in three stages of at most a minute each:
the backbone and the RoI head (Fast R-CNN), then the RPN's own layers on the frozen, shared
backbone, then the RoI head again on the RPN's proposals. :func:`detect` runs either
pipeline; :func:`load_two_stage` keeps the trained model beside the lesson model. The numpy
parts import no TensorFlow; Keras and TensorFlow are
imported inside the functions that build or run a network.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from cnnteach.boxes import (
    assign_anchors,
    batched_nms,
    decode_boxes,
    encode_boxes,
    non_max_suppression,
    pairwise_iou,
)
from cnnteach.detect import Canvas, Detections
from cnnteach.one_stage import ANCHORS, CANVAS, TEST_SEED
from cnnteach.roi import POOL, _bilinear, _layer_classes, roi_align, roi_align_layer, roi_max_pool
from cnnteach.training import Recipe

__all__ = [
    "ANCHORS",
    "BOX_VARIANCES",
    "RECIPES",
    "CANVAS",
    "TEST_SEED",
    "crop_proposals",
    "detect",
    "ink_proposals",
    "load_two_stage",
    "load_window_classifier",
    "proposal_recall",
    "propose",
    "rcnn_detect",
    "roi_align",
    "roi_align_layer",
    "roi_max_pool",
    "roi_targets",
    "rpn_targets",
    "sample_rois",
    "train_two_stage",
    "training_info",
    "two_stage_model",
]

#: Offsets of the RoI head are divided by these before the loss sees them (the
#: ``BBOX_NORMALIZE_STDS`` of the Fast/Faster R-CNN code), so that all four are about as large.
BOX_VARIANCES = (0.1, 0.1, 0.2, 0.2)


# ----------------------------------------------------------------------------- R-CNN
def ink_proposals(image, *, thresholds=(1, 96, 192), dilations=(0, 2), min_side: int = 4):
    """Class-agnostic region proposals without learning: boxes of connected blobs of ink.

    For every ink threshold (a pixel is ink when it is at least the threshold) and every
    dilation (0, or grow the ink by that many pixels first, so that a digit broken in two
    pieces becomes one blob), ``scipy.ndimage.label`` finds the 8-connected blobs; each
    blob's proposal is the tight box of the ink inside it. Several thresholds split digits
    whose faint edges touch; dilation joins broken ones. Boxes smaller than ``min_side`` on
    both sides are dropped, and duplicates are kept once. R-CNN used *selective search*
    (about 2,000 proposals per image) for the same job.

    Parameters
    ----------
    image : array_like, shape (H, W)
        A canvas, uint8 pixels 0-255.
    thresholds : sequence of int, default (1, 96, 192)
    dilations : sequence of int, default (0, 2)
    min_side : int, default 4

    Returns
    -------
    numpy.ndarray, float64, shape (K, 4)
        Boxes ``(x_min, y_min, x_max, y_max)``, sorted.

    Examples
    --------
    >>> image = np.zeros((30, 30), np.uint8)
    >>> image[2:8, 3:6] = 255; image[20:26, 20:26] = 50
    >>> ink_proposals(image).tolist()  # the faint blob vanishes at thresholds 96 and 192
    [[3.0, 2.0, 6.0, 8.0], [20.0, 20.0, 26.0, 26.0]]
    """
    from scipy import ndimage

    image = np.asarray(image)
    if image.ndim != 2 or image.dtype.kind not in "iuf":
        raise ValueError(
            f"image must be one canvas of shape (H, W), got {image.dtype} {image.shape}"
        )
    boxes = []
    structure = np.ones((3, 3), bool)
    for threshold in thresholds:
        ink = image >= threshold
        for grow in dilations:
            blobs = ndimage.binary_dilation(ink, structure, iterations=grow) if grow else ink
            labelled, _ = ndimage.label(blobs, structure)
            for found in ndimage.find_objects(np.where(ink, labelled, 0)):
                if found is not None:
                    rows, cols = found
                    boxes.append((cols.start, rows.start, cols.stop, rows.stop))
    boxes = np.unique(np.asarray(boxes, np.float64).reshape(-1, 4), axis=0)
    big = (boxes[:, 2] - boxes[:, 0] >= min_side) | (boxes[:, 3] - boxes[:, 1] >= min_side)
    return boxes[big]


def proposal_recall(proposals, canvases, iou_threshold: float = 0.5) -> float:
    """Share of the true boxes that some proposal overlaps with IoU >= ``iou_threshold``.

    Examples
    --------
    >>> boxes = np.array([[0, 0, 4, 4], [4, 4, 8, 8]])
    >>> canvas = Canvas(np.zeros((8, 8), np.uint8), boxes, np.array([1, 2]))
    >>> proposal_recall([np.array([[0, 0, 4, 5]])], [canvas])
    0.5
    """
    if len(proposals) != len(canvases):
        raise ValueError(
            f"got proposals for {len(proposals)} canvases and {len(canvases)} canvases: "
            "give one array per canvas"
        )
    hits = total = 0
    for boxes, canvas in zip(proposals, canvases):
        total += len(canvas.boxes)
        if len(boxes) and len(canvas.boxes):
            hits += int((pairwise_iou(canvas.boxes, boxes).max(axis=1) >= iou_threshold).sum())
    return hits / total if total else float("nan")


def crop_proposals(image, boxes, *, size: int = 28, context: float = 28 / 20):
    """Crop every box as a square with MNIST's margin and resize it to ``size`` x ``size``.

    An MNIST digit sits in a 20 x 20 box inside its 28 x 28 frame, so each crop is a square
    ``context`` times the box's longer side, centred on the box, sampled bilinearly (zeros
    outside the canvas). R-CNN warped each proposal, with 16 pixels of context, to 227 x 227.

    Returns
    -------
    numpy.ndarray, float32, shape (K, size, size)
        Pixels 0-255.

    Examples
    --------
    >>> image = np.zeros((40, 40), np.uint8); image[10:30, 10:30] = 255
    >>> crops = crop_proposals(image, [[10, 10, 30, 30]])
    >>> crops.shape, float(crops[0, 14, 14]), float(crops[0, 1, 1])
    ((1, 28, 28), 255.0, 0.0)
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    centre_x, centre_y = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * context
    steps = (np.arange(size) + 0.5) / size - 0.5  # pixel centres of the crop, -0.5 .. 0.5
    ys = (
        centre_y[:, None] + steps[None] * side[:, None] - 0.5
    )  # pixel index: centre of pixel i is i + 0.5
    xs = centre_x[:, None] + steps[None] * side[:, None] - 0.5
    grid_y = np.broadcast_to(ys[:, :, None], (len(boxes), size, size))
    grid_x = np.broadcast_to(xs[:, None, :], (len(boxes), size, size))
    return _bilinear(np.asarray(image, np.float32), grid_y, grid_x).astype(np.float32)


def rcnn_detect(
    classifier,
    canvases,
    *,
    proposals=None,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
):
    """R-CNN in miniature: propose, crop every proposal, classify all crops in one ``predict``.

    Every crop's best digit (ignoring the background output, 10) becomes a detection scored
    by its probability; per-class NMS removes duplicates. There is no box regression: a
    detection's box is its proposal.

    Parameters
    ----------
    classifier : keras.Model
        An 11-way digit-or-background classifier of 28 x 28 images (lesson 12's).
    canvases : list of Canvas
    proposals : list of arrays, optional
        Default :func:`ink_proposals` of each canvas.

    Returns
    -------
    list of Detections

    Examples
    --------
    >>> found = rcnn_detect(load_window_classifier(), canvases)  # doctest: +SKIP
    """
    from cnnteach.training import quiet_retracing

    if proposals is None:
        proposals = [ink_proposals(c.image) for c in canvases]
    crops = [crop_proposals(c.image, p) for c, p in zip(canvases, proposals)]
    stack = np.concatenate(crops) if crops else np.zeros((0, 28, 28), np.float32)
    with quiet_retracing():
        probs = (
            classifier.predict(stack[..., None] / 255.0, batch_size=256, verbose=0)
            if len(stack)
            else np.zeros((0, 11))
        )
    found, start = [], 0
    for boxes in proposals:
        p = probs[start : start + len(boxes), :10]
        start += len(boxes)
        labels, scores = p.argmax(axis=1), p.max(axis=1)
        keep = scores >= score_threshold
        boxes, labels, scores = boxes[keep], labels[keep], scores[keep]
        kept = batched_nms(boxes, scores, labels, iou_threshold) if len(boxes) else np.zeros(0, int)
        found.append(
            Detections(boxes[kept].reshape(-1, 4), scores[kept], labels[kept].astype(np.int64))
        )
    return found


WINDOW_CLASSIFIER_FILE = "window_classifier.keras"


def load_window_classifier(path=None, *, train_if_missing: bool = True):
    """Lesson 12's digit-or-background classifier, trained once and kept beside the lesson model.

    Trained as lesson 12 trains it: ``make_window_dataset`` of 2,000 canvases (seed 0), then
    ``train_background_classifier`` from the trained lesson model for one epoch.

    Examples
    --------
    >>> classifier = load_window_classifier()  # doctest: +SKIP
    """
    from cnnteach.storage import default_model_path, load_trained_model, save_model, shown_path

    path = (
        Path(path) if path is not None else default_model_path().with_name(WINDOW_CLASSIFIER_FILE)
    )
    if path.exists():
        return load_trained_model(path, shapes=((28, 28, 1), 11))
    if not train_if_missing:
        raise FileNotFoundError(f"{path} does not exist: call load_window_classifier() to train it")
    from cnnteach.data import load_mnist
    from cnnteach.detect import make_window_dataset, train_background_classifier

    (x_train, y_train), _ = load_mnist()
    x_windows, y_windows = make_window_dataset(x_train, y_train, n_canvases=2000, seed=0)
    model = train_background_classifier(
        x_windows, y_windows, base_model=load_trained_model(), epochs=1, seed=0
    )
    save_model(model, path)
    print(f"Trained lesson 12's digit-or-background classifier and saved it to {shown_path(path)}.")
    return model


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


# ----------------------------------------------------------------------------- training
def _roi_trainer(net):
    """Wrap the Fast R-CNN view so that ``fit`` feeds it the RoIs stored in the targets."""
    import keras
    import tensorflow as tf

    class RoiTrainer(keras.Model):
        def __init__(self, net, **kwargs):
            super().__init__(**kwargs)
            self.net = net
            self.loss_tracker = keras.metrics.Mean(name="loss")

        @property
        def metrics(self):
            return [self.loss_tracker]

        def call(self, inputs, training=False):
            return self.net(inputs, training=training)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                pred = self.net([x, y[..., :4]], training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

    return RoiTrainer(net)


def _fresh_roi_trainer():
    return _roi_trainer(_fast_view(two_stage_model()))


def _fresh_rpn_view():
    return _rpn_view(two_stage_model())


def _roi_objective():
    return roi_loss(box_weight=2.0)


def _rpn_loss():
    from cnnteach.one_stage import detection_loss

    return detection_loss(classes=1)


#: The two stages' recipes. Stage 1, ``"roi"`` (Fast R-CNN): backbone and RoI head, 16 canvases
#: x 32 sampled RoIs per step. Stage 2, ``"rpn"``: the RPN's own layers on the frozen backbone,
#: with lesson 13's mined softmax over two classes (object, background).
RECIPES = {
    "roi": Recipe(
        "fast-rcnn",
        _fresh_roi_trainer,
        batch_size=16,
        steps=1000,
        learning_rate=0.004,
        schedule="warmup-cosine",
        warmup_fraction=0.05,
        steps_per_execution=10,
        objective=_roi_objective,
    ),
    "rpn": Recipe(
        "rpn",
        _fresh_rpn_view,
        batch_size=32,
        steps=1000,
        learning_rate=0.008,
        schedule="warmup-cosine",
        warmup_fraction=0.05,
        steps_per_execution=10,
        objective=_rpn_loss,
    ),
    "head": Recipe(
        "fast-rcnn-head",
        _fresh_roi_trainer,
        batch_size=16,
        steps=500,
        learning_rate=0.002,
        schedule="warmup-cosine",
        warmup_fraction=0.05,
        steps_per_execution=10,
        objective=_roi_objective,
    ),
}


def make_training_data(images, labels, n: int, *, first_seed: int = 0, rois_per_canvas: int = 32):
    """``n`` training canvases (use TRAINING digits), with sampled RoI targets and RPN targets.

    Returns
    -------
    x : numpy.ndarray, uint8, shape (n, 96, 96)
    roi_y : numpy.ndarray, float32, shape (n, rois_per_canvas, 9)
        From :func:`sample_rois` and :func:`roi_targets`.
    rpn_y : numpy.ndarray, float32, shape (n, 1296, 5)
        From :func:`rpn_targets`.

    Examples
    --------
    >>> digits = np.zeros((8, 28, 28), np.uint8); digits[:, 4:24, 8:20] = 255
    >>> x, roi_y, rpn_y, canvases = make_training_data(digits, np.arange(8), 2)
    >>> x.shape, roi_y.shape, rpn_y.shape
    ((2, 96, 96), (2, 32, 9), (2, 1296, 5))
    """
    from cnnteach.detect import make_canvases

    canvases = make_canvases(images, labels, n, first_seed=first_seed, **CANVAS)
    rng = np.random.default_rng(first_seed)
    roi_y = np.stack(
        [
            roi_targets(
                *sample_rois(c.boxes, rng, count=rois_per_canvas, size=CANVAS["size"]),
                c.boxes,
                c.labels,
            )
            for c in canvases
        ]
    )
    x = np.stack([c.image for c in canvases])
    return x, roi_y, rpn_targets(canvases), canvases


def proposal_targets(model, canvases, *, seed: int = 1, rois_per_canvas: int = 32, top_k: int = 50):
    """RoI targets sampled from the RPN's own proposals (plus the true boxes), for stage 3.

    Examples
    --------
    >>> head_y = proposal_targets(model, canvases)  # doctest: +SKIP
    """
    from cnnteach.training import quiet_retracing

    x = _stack(canvases)
    with quiet_retracing():
        _, f8 = model.get_layer("features").predict(x, batch_size=256, verbose=0)
        rpn_out = model.get_layer("rpn").predict(f8, batch_size=256, verbose=0)
    anchors = ANCHORS.anchors(x.shape[1:3])
    rng = np.random.default_rng(seed)
    rows = []
    for canvas, out in zip(canvases, rpn_out):
        proposals = propose(out, anchors, size=x.shape[1], top_k=top_k)[0]
        rois, matched = sample_rois(
            canvas.boxes,
            rng,
            count=rois_per_canvas,
            size=x.shape[1],
            candidates=proposals,
            jitter=False,
        )
        rows.append(roi_targets(rois, matched, canvas.boxes, canvas.labels))
    return np.stack(rows)


def train_two_stage(
    images,
    labels,
    *,
    n_canvases: int = 8000,
    roi_steps=None,
    rpn_steps=None,
    head_steps=None,
    seed: int = 0,
    callbacks=(),
):
    """Train the two-stage detector alternately, in three stages that share one backbone.

    1. **Fast R-CNN** (:data:`RECIPES` ``"roi"``): the backbone and the RoI head, on RoIs
       sampled around the true boxes (:func:`sample_rois`), so the shared features learn what
       a digit looks like; no RPN is needed yet.
    2. **RPN** (``"rpn"``): the backbone frozen, only the RPN's layers learn, with Faster
       R-CNN's 0.7 / 0.3 anchor labels (:func:`rpn_targets`).
    3. **Head on the RPN's proposals** (``"head"``): the backbone still frozen, the RoI head
       fine-tuned on RoIs sampled from the RPN's own proposals (:func:`proposal_targets`).

    Stages 2 and 3 are steps 3 and 4 of Ren et al. (2015)'s 4-step alternating training,
    which fix the shared convolutional layers and fine-tune only the layers unique to the RPN,
    then to Fast R-CNN. Every stage goes through :func:`cnnteach.training.train`.

    Returns
    -------
    model : keras.Model
        :func:`two_stage_model`, trained.
    info : dict
        Per stage (``"roi"``, ``"rpn"``, ``"head"``): ``steps``, ``fit_seconds``,
        ``canvases_per_s`` and ``final_loss``; ``proposal_seconds``: making stage 3's RoIs.

    Examples
    --------
    >>> model, info = train_two_stage(x_train, y_train)  # doctest: +SKIP
    """
    from dataclasses import replace

    import keras

    from cnnteach.training import train

    recipes = RECIPES
    roi_recipe = (
        recipes["roi"] if roi_steps is None else replace(recipes["roi"], steps=int(roi_steps))
    )
    rpn_recipe = (
        recipes["rpn"] if rpn_steps is None else replace(recipes["rpn"], steps=int(rpn_steps))
    )
    head_recipe = (
        recipes["head"] if head_steps is None else replace(recipes["head"], steps=int(head_steps))
    )
    x, roi_y, rpn_y, canvases = make_training_data(images, labels, n_canvases)
    keras.utils.set_random_seed(seed)
    model = two_stage_model()
    info = {}
    run = train(
        roi_recipe,
        x,
        roi_y,
        model=_roi_trainer(_fast_view(model)),
        validation_split=0.0,
        seed=None,
        log=False,
        callbacks=callbacks,
    )
    info["roi"] = _stage_info(run)
    model.get_layer("features").trainable = False
    run = train(
        rpn_recipe,
        x,
        rpn_y,
        model=_rpn_view(model),
        validation_split=0.0,
        seed=None,
        log=False,
        callbacks=callbacks,
    )
    info["rpn"] = _stage_info(run)
    start = time.perf_counter()
    head_y = proposal_targets(model, canvases, seed=seed + 1)
    info["proposal_seconds"] = round(time.perf_counter() - start, 2)
    run = train(
        head_recipe,
        x,
        head_y,
        model=_roi_trainer(_fast_view(model)),
        validation_split=0.0,
        seed=None,
        log=False,
        callbacks=callbacks,
    )
    info["head"] = _stage_info(run)
    model.get_layer("features").trainable = True
    return model, info


def _stage_info(run):
    steps = int(run.recipe.steps)
    return dict(
        steps=steps,
        fit_seconds=round(run.fit_seconds, 2),
        canvases_per_s=round(steps * run.recipe.batch_size / run.fit_seconds, 1),
        final_loss=round(run.final("loss"), 4),
    )


TWO_STAGE_FILE = "two_stage_detector.keras"


def load_two_stage(path=None, *, train_if_missing: bool = True):
    """Load the trained two-stage detector; train and save it first if the file is missing.

    The file is ``two_stage_detector.keras`` beside the lesson model (in ``$CNNTEACH_MODELS``
    when that is set), so ``make outputs`` trains it once and later runs load it.

    Examples
    --------
    >>> model = load_two_stage()  # doctest: +SKIP
    """
    import keras

    from cnnteach._files import write_atomic
    from cnnteach.storage import default_model_path, save_model, shown_path

    path = Path(path) if path is not None else default_model_path().with_name(TWO_STAGE_FILE)
    classes = _layer_classes()
    if path.exists():
        model = keras.models.load_model(path, compile=False, custom_objects=classes)
        print(f"Loaded the trained two-stage detector from {shown_path(path)}.")
        return model
    if not train_if_missing:
        raise FileNotFoundError(f"{path} does not exist: call load_two_stage() to train it")
    from cnnteach.data import load_mnist

    (x_train, y_train), _ = load_mnist()
    start = time.perf_counter()
    model, info = train_two_stage(x_train, y_train)
    save_model(model, path)
    write_atomic(path.with_suffix(".json"), json.dumps(info, indent=1).encode("utf-8"))
    print(
        f"Trained the two-stage detector ({info['roi']['steps']} + {info['rpn']['steps']} + "
        f"{info['head']['steps']} steps, "
        f"{time.perf_counter() - start:.0f} s) and saved it to {shown_path(path)}."
    )
    return model


def training_info(path=None):
    """Steps, ``fit`` seconds, canvases per second and final loss of each stage, as trained.

    :func:`load_two_stage` writes them beside the model (``two_stage_detector.json``) when it
    trains it; None when that file is not there.

    Examples
    --------
    >>> training_info("no/such/file.keras") is None
    True
    """
    from cnnteach.storage import default_model_path

    path = Path(path) if path is not None else default_model_path().with_name(TWO_STAGE_FILE)
    info = path.with_suffix(".json")
    return json.loads(info.read_text(encoding="utf-8")) if info.is_file() else None


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
    from cnnteach.training import quiet_retracing

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
