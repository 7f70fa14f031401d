"""A one-stage detector: every anchor predicts a class (or background) and four box offsets.

Lesson 13 replaces the sliding 28 x 28 window of lesson 12 with *anchors*: boxes of several
sizes and shapes centred on every cell of a stride-8 feature map (:data:`ANCHORS`). A network
(:func:`cnnteach.models.one_stage_model`) predicts, for every anchor at once, 11 class scores
(digits 0-9 and background, 10) and the R-CNN offsets ``(tx, ty, tw, th)`` that move the anchor
onto the digit (:func:`cnnteach.boxes.encode_boxes`).

* :func:`anchor_targets` gives every anchor of every training canvas its target, with
  :func:`cnnteach.boxes.assign_anchors` and :func:`cnnteach.boxes.encode_boxes`.
* :func:`detection_loss` is the loss: softmax cross-entropy with hard-negative mining, plus a
  smooth-L1 (Huber) loss on the offsets of the positive anchors only.
* :data:`RECIPE` trains it through :func:`cnnteach.training.train`; :func:`train_detector`
  makes the canvases, the targets and runs it; :func:`load_detector` loads the model that
  ``make outputs`` trained (or trains it).
* :func:`decode` turns the network's output into boxes: softmax, a score threshold,
  :func:`cnnteach.boxes.decode_boxes` and per-class NMS (:func:`cnnteach.boxes.batched_nms`);
  :func:`detect` runs the network and decodes, for many canvases in one ``predict``.

TensorFlow and Keras are imported only inside the functions that need them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnteach.boxes import assign_anchors, batched_nms, decode_boxes, encode_boxes, make_anchors
from cnnteach.detect import Canvas, Detections
from cnnteach.models import one_stage_model
from cnnteach.training import Recipe

__all__ = [
    "ANCHORS",
    "AnchorSpec",
    "CANVAS",
    "RECIPE",
    "anchor_targets",
    "decode",
    "detect",
    "detection_loss",
    "evaluate",
    "load_detector",
    "make_training_canvases",
    "train_detector",
]


@dataclass(frozen=True)
class AnchorSpec:
    """The anchors of a detector: a stride, sizes (square-root areas) and width/height ratios.

    Examples
    --------
    >>> spec = AnchorSpec(stride=8, sizes=(12, 20, 32), ratios=(0.35, 0.7, 1.0))
    >>> spec.per_cell, spec.anchors((96, 96)).shape
    (9, (1296, 4))
    """

    stride: int = 8
    sizes: tuple = (12, 20, 32)
    ratios: tuple = (0.35, 0.7, 1.0)

    @property
    def per_cell(self) -> int:
        """Anchors centred on every cell of the feature map."""
        return len(self.sizes) * len(self.ratios)

    def anchors(self, canvas_shape) -> np.ndarray:
        """All anchors of a canvas of ``(height, width)`` pixels (see :func:`make_anchors`)."""
        h, w = (int(v) for v in canvas_shape)
        if h % self.stride or w % self.stride:
            raise ValueError(
                f"canvas sides must be multiples of the stride {self.stride}, got {canvas_shape}"
            )
        return make_anchors(
            (h // self.stride, w // self.stride), self.stride, self.sizes, self.ratios
        )


#: The anchors of lesson 13's detector: stride 8 (a 12 x 12 grid on a 96 x 96 canvas), three
#: sizes and three width/height ratios (digits are taller than wide: a "1" is about a third as
#: wide as it is tall), 9 per cell, 1,296 in all.
ANCHORS = AnchorSpec()

#: The canvases of lesson 13: 96 x 96 pixels, 4 digits each resized by 0.6 to 2.0.
CANVAS = dict(size=96, n_digits=4, scale=(0.6, 2.0))

#: First seed of the held-out test canvases (made of TEST digits); training canvases use 0, 1, ...
TEST_SEED = 100_000


# ----------------------------------------------------------------------------- targets
def anchor_targets(
    canvases, anchors, *, positive_iou: float = 0.5, negative_iou: float = 0.4
) -> np.ndarray:
    """The training target of every anchor of every canvas: its class and its box offsets.

    Each canvas goes through :func:`cnnteach.boxes.assign_anchors` (every true box's best
    anchor and every anchor with IoU >= ``positive_iou`` is positive, below ``negative_iou``
    background, in between ignored); the positive anchors' offsets come from
    :func:`cnnteach.boxes.encode_boxes`.

    Parameters
    ----------
    canvases : list of Canvas
        From :func:`cnnteach.detect.make_canvases`.
    anchors : array_like, shape (A, 4)
        The anchors, e.g. ``ANCHORS.anchors((96, 96))``.
    positive_iou, negative_iou : float
        Passed to :func:`cnnteach.boxes.assign_anchors` (RetinaNet's 0.5 / 0.4 by default).

    Returns
    -------
    numpy.ndarray, float32, shape (N, A, 5)
        Column 0 the class: the digit 0-9 (positive), 10 (:data:`~cnnteach.boxes.BACKGROUND`)
        or -1 (:data:`~cnnteach.boxes.IGNORE`); columns 1-4 the offsets ``(tx, ty, tw, th)``
        (zeros unless positive).

    Examples
    --------
    >>> anchors = [[0, 0, 10, 10], [20, 0, 30, 10], [50, 50, 60, 60]]
    >>> canvas = Canvas(np.zeros((64, 64), np.uint8), np.array([[1, 0, 11, 10]]), np.array([7]))
    >>> anchor_targets([canvas], anchors)[0]  # tx = (6 - 5) / 10
    array([[ 7. ,  0.1,  0. ,  0. ,  0. ],
           [10. ,  0. ,  0. ,  0. ,  0. ],
           [10. ,  0. ,  0. ,  0. ,  0. ]], dtype=float32)
    """
    anchors = np.asarray(anchors, dtype=np.float64)
    if isinstance(canvases, Canvas):
        canvases = [canvases]
    out = np.zeros((len(canvases), len(anchors), 5), dtype=np.float32)
    for i, canvas in enumerate(canvases):
        if not isinstance(canvas, Canvas):
            raise TypeError(
                f"canvases[{i}] is a {type(canvas).__name__}, not a Canvas: pass make_canvases(...)"
            )
        classes, matched = assign_anchors(
            anchors,
            canvas.boxes,
            canvas.labels,
            positive_iou=positive_iou,
            negative_iou=negative_iou,
        )
        out[i, :, 0] = classes
        positive = matched >= 0
        if positive.any():
            out[i, positive, 1:] = encode_boxes(
                anchors[positive], np.asarray(canvas.boxes)[matched[positive]]
            )
    return out


# ----------------------------------------------------------------------------- loss
def detection_loss(*, classes: int = 10, negatives_per_positive: int = 3, box_weight: float = 2.0):
    """The detector's loss: softmax cross-entropy with hard-negative mining plus smooth L1.

    **Why mining.** On a 96 x 96 canvas with 4 digits about 20 of the 1,296 anchors are
    positive; the rest are background or ignored. Summed over all anchors, the easy background
    anchors would drown the few positives, and the quickest way to a low loss would be to call
    everything background. SSD (Liu et al. 2016) keeps, per image, only the
    negatives with the highest loss, at most ``negatives_per_positive`` (3) for every positive;
    the rest of the background costs nothing. RetinaNet (Lin et al. 2017) keeps all anchors
    and down-weights the easy ones instead (the focal loss); on the course's 2-core machine
    and one-minute budget the mined softmax trained far faster (the project's field notes).
    The hardest negatives are picked with ``top_k`` (a partial sort), not a full sort.

    The loss per batch is ``(CE of the positives + CE of the mined negatives + box_weight *
    smooth-L1 of the positives' offsets) / number of positives``. Ignored anchors (class -1)
    count nowhere. The smooth L1 (Huber with delta 1) is ``0.5 d**2`` below ``|d| = 1`` and
    ``|d| - 0.5`` above, summed over the four offsets, as in Fast R-CNN and SSD.

    Parameters
    ----------
    classes : int, default 10
        Object classes; class ``classes`` is background.
    negatives_per_positive : int, default 3
    box_weight : float, default 2.0
        Weight of the box loss. 2 gave tighter boxes than 1 here (AP at IoU 0.75: 0.90 against
        0.87, one run each).

    Returns
    -------
    callable
        ``loss(y_true, y_pred)`` for ``model.compile``: ``y_true`` (batch, A, 5) from
        :func:`anchor_targets`, ``y_pred`` (batch, A, classes + 5) logits and offsets.

    Examples
    --------
    >>> import keras  # doctest: +SKIP
    >>> y_true = np.array([[[3, 0, 0, 0, 0], [10, 0, 0, 0, 0], [10, 0, 0, 0, 0]]], "float32")
    >>> y_pred = np.zeros((1, 3, 15), "float32")  # every class equally likely, no offsets
    >>> round(float(detection_loss(negatives_per_positive=1)(y_true, y_pred)), 4)  # 2 ln 11
    4.7958
    """
    from keras import ops

    n_out = int(classes) + 1
    ratio = float(negatives_per_positive)

    def loss(y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true, "float32")
        y_pred = ops.convert_to_tensor(y_pred, "float32")
        cls = ops.cast(y_true[..., 0], "int32")
        logits = y_pred[..., :n_out]
        positive = ops.logical_and(cls >= 0, cls < n_out - 1)
        negative = ops.equal(cls, n_out - 1)
        log_probs = ops.log_softmax(logits, axis=-1)
        ce = -ops.sum(ops.one_hot(ops.maximum(cls, 0), n_out) * log_probs, axis=-1)  # (B, A)
        pos = ops.cast(positive, "float32")
        n_pos = ops.sum(pos, axis=1)
        n_hard = ops.minimum(ratio * n_pos, ops.sum(ops.cast(negative, "float32"), axis=1))
        negative_ce = ops.where(negative, ce, ops.zeros_like(ce))
        k = ops.cast(ops.max(n_hard), "int32")
        hardest = ops.top_k(negative_ce, k, sorted=True)[0]  # (B, k), largest first
        rank = ops.cast(ops.arange(ops.shape(hardest)[1]), "float32")
        mined = ops.sum(
            ops.where(rank[None, :] < n_hard[:, None], hardest, ops.zeros_like(hardest))
        )
        diff = ops.abs(y_pred[..., n_out:] - y_true[..., 1:5])
        smooth = ops.sum(ops.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5), axis=-1)
        total = ops.maximum(ops.sum(n_pos), 1.0)
        return (ops.sum(ce * pos) + mined + box_weight * ops.sum(smooth * pos)) / total

    return loss


#: Lesson 13's recipe: 32 canvases per step, exactly 1,000 steps (the data cycled), Adam
#: peaking at 0.012 after a 5% warm-up, then cosine decay; the loss of :func:`detection_loss`.
RECIPE = Recipe(
    "one-stage",
    one_stage_model,
    scale_pixels=True,
    batch_size=32,
    steps=1000,
    learning_rate=0.012,
    schedule="warmup-cosine",
    warmup_fraction=0.05,
    steps_per_execution=10,
    objective=detection_loss,
)


# ----------------------------------------------------------------------------- training
def make_training_canvases(images, labels, n: int, *, first_seed: int = 0, canvas=None):
    """``n`` canvases of :data:`CANVAS` (use TRAINING digits), stacked, with their targets.

    Returns
    -------
    x : numpy.ndarray, uint8, shape (n, size, size)
    y : numpy.ndarray, float32, shape (n, A, 5)
        From :func:`anchor_targets` with :data:`ANCHORS`.
    canvases : list of Canvas

    Examples
    --------
    >>> digits = np.zeros((8, 28, 28), np.uint8)
    >>> digits[:, 4:24, 8:20] = 255  # ink 12 wide, 20 tall, like an MNIST digit
    >>> x, y, _ = make_training_canvases(digits, np.arange(8), 2)
    >>> x.shape, y.shape
    ((2, 96, 96), (2, 1296, 5))
    """
    from cnnteach.detect import make_canvases

    settings = dict(CANVAS, **(canvas or {}))
    canvases = make_canvases(images, labels, n, first_seed=first_seed, **settings)
    x = (
        np.stack([c.image for c in canvases])
        if canvases
        else np.zeros((0, settings["size"], settings["size"]), np.uint8)
    )
    y = anchor_targets(canvases, ANCHORS.anchors(x.shape[1:]))
    return x, y, canvases


def train_detector(
    images,
    labels,
    *,
    n_canvases: int = 12000,
    steps: int | None = None,
    seed: int = 0,
    log: bool = False,
    callbacks=(),
):
    """Make training canvases of ``images`` and train lesson 13's detector with :data:`RECIPE`.

    Parameters
    ----------
    images, labels : numpy.ndarray
        TRAINING digits (N, 28, 28) and labels.
    n_canvases : int, default 12000
        Distinct training canvases (seeds 0, 1, ...); the step budget cycles through them.
    steps : int, optional
        Overrides the recipe's 1,000 steps.
    seed : int, default 0
        Model and shuffling seed.

    Returns
    -------
    cnnteach.training.TrainingRun
        ``run.model`` is the trained detector, ``run.fit_seconds`` the time of ``fit``
        (from the first step, tracing included).

    Examples
    --------
    >>> run = train_detector(x_train, y_train)  # doctest: +SKIP
    """
    from dataclasses import replace

    from cnnteach.training import train

    x, y, _ = make_training_canvases(images, labels, n_canvases)
    recipe = RECIPE if steps is None else replace(RECIPE, steps=int(steps))
    return train(recipe, x, y, validation_split=0.0, seed=seed, log=log, callbacks=callbacks)


DETECTOR_FILE_NAME = "one_stage_detector.keras"


def load_detector(path=None, *, train_if_missing: bool = True):
    """Load lesson 13's trained detector, training and saving it first if the file is missing.

    The file is ``one_stage_detector.keras`` beside the lesson model (in ``$CNNTEACH_MODELS``
    when that is set), so ``make outputs`` trains it once and later runs load it.

    Examples
    --------
    >>> detector = load_detector()  # doctest: +SKIP
    """
    import keras

    from cnnteach.storage import default_model_path, save_model, shown_path

    path = Path(path) if path is not None else default_model_path().with_name(DETECTOR_FILE_NAME)
    if path.exists():
        model = keras.models.load_model(path, compile=False)
        print(f"Loaded the trained detector from {shown_path(path)}.")
        return model
    if not train_if_missing:
        raise FileNotFoundError(f"{path} does not exist: run lesson 13 (or train_detector) first")
    from cnnteach.data import load_mnist

    (x_train, y_train), _ = load_mnist()
    start = time.perf_counter()
    run = train_detector(x_train, y_train)
    save_model(run.model, path)
    print(
        f"Trained the detector ({run.recipe.steps} steps, {time.perf_counter() - start:.0f} s) "
        f"and saved it to {shown_path(path)}."
    )
    return run.model


# ----------------------------------------------------------------------------- decoding
def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def decode(
    outputs,
    anchors,
    *,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
    classes: int = 10,
    return_anchors: bool = False,
):
    """Boxes from the network's raw output: softmax, threshold, decode offsets, per-class NMS.

    Every (anchor, digit) pair whose probability is at least ``score_threshold`` is a
    candidate (so one anchor may propose two digits it hesitates between); its box is
    :func:`cnnteach.boxes.decode_boxes` of the anchor and its offsets. Candidates then go
    through :func:`cnnteach.boxes.batched_nms` within each digit, and the best
    ``max_detections`` stay.

    Parameters
    ----------
    outputs : array_like, shape (A, classes + 5) or (N, A, classes + 5)
        ``model.predict`` output: logits of the digits and background, then offsets.
    anchors : array_like, shape (A, 4)
    score_threshold : float, default 0.05
    iou_threshold : float, default 0.5
    max_detections : int, default 100
    classes : int, default 10
    return_anchors : bool, default False
        Also return, for each detection, the anchor it grew from (its box before regression).

    Returns
    -------
    Detections or list of Detections
        Boxes ``(x_min, y_min, x_max, y_max)``, scores (probabilities) and digits; with
        ``return_anchors``, pairs ``(detections, anchors of shape (n, 4))``.

    Examples
    --------
    A perfect prediction for one anchor: the class 7 logit high, offsets that move the anchor
    onto the box:

    >>> anchors = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], float)
    >>> out = np.zeros((2, 15)); out[:, 10] = 10  # both say background ...
    >>> out[0, 7], out[0, 10] = 10, 0  # ... except anchor 0: digit 7
    >>> out[0, 11:] = encode_boxes(anchors[0], [1, 0, 11, 10])
    >>> found = decode(out, anchors)
    >>> found.boxes.round(3).tolist(), found.labels.tolist()
    ([[1.0, 0.0, 11.0, 10.0]], [7])
    """
    out = np.asarray(outputs, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.float64)
    single = out.ndim == 2
    if single:
        out = out[np.newaxis]
    n_out = int(classes) + 1
    if out.ndim != 3 or out.shape[1] != len(anchors) or out.shape[2] != n_out + 4:
        raise ValueError(
            f"outputs must have shape (N, {len(anchors)}, {n_out + 4}) (one row per anchor: "
            f"{n_out} logits and 4 offsets), got {np.shape(outputs)}: pass model.predict(...) and its anchors"
        )
    if not 0 <= float(score_threshold) <= 1:
        raise ValueError(f"score_threshold must lie in [0, 1], got {score_threshold}")
    results = []
    for row in out:
        probs = _softmax(row[:, :n_out])[:, : n_out - 1]
        anchor_ids, digits = np.nonzero(probs >= score_threshold)
        scores = probs[anchor_ids, digits]
        if len(scores) > 10 * max_detections:  # keep NMS cheap: only the best candidates
            best = np.argsort(-scores, kind="stable")[: 10 * max_detections]
            anchor_ids, digits, scores = anchor_ids[best], digits[best], scores[best]
        boxes = (
            decode_boxes(anchors[anchor_ids], row[anchor_ids, n_out:])
            if len(anchor_ids)
            else np.zeros((0, 4))
        )
        kept = (
            batched_nms(boxes, scores, digits, iou_threshold)[:max_detections]
            if len(boxes)
            else np.zeros(0, int)
        )
        found = Detections(boxes[kept].reshape(-1, 4), scores[kept], digits[kept].astype(np.int64))
        results.append(
            (found, anchors[anchor_ids[kept]].reshape(-1, 4)) if return_anchors else found
        )
    return results[0] if single else results


def detect(model, canvases, *, anchors=None, batch_size: int = 64, **kwargs):
    """Run the detector on canvases in ONE ``predict`` call and :func:`decode` its output.

    Parameters
    ----------
    model : keras.Model
        From :func:`load_detector` or :func:`train_detector`.
    canvases : Canvas, list of Canvas, or uint8 images (H, W) / (N, H, W)
    anchors : array_like, optional
        Default ``ANCHORS.anchors`` of the canvas size.
    batch_size : int, default 64
    **kwargs
        Passed to :func:`decode`.

    Returns
    -------
    Detections or list of Detections

    Examples
    --------
    >>> found = detect(load_detector(), canvas)  # doctest: +SKIP
    """
    from cnnteach._checks import unit_pixels
    from cnnteach.detect import _as_canvas_stack
    from cnnteach.training import quiet_retracing

    stack, single = _as_canvas_stack(canvases)
    if anchors is None:
        anchors = ANCHORS.anchors(stack.shape[1:])
    with quiet_retracing():
        out = model.predict(
            unit_pixels(stack, "canvas")[..., np.newaxis].astype("float32"),
            batch_size=batch_size,
            verbose=0,
        )
    found = decode(out, anchors, **kwargs)
    return found[0] if single else found


# ----------------------------------------------------------------------------- scoring
def evaluate(canvases, detections) -> dict:
    """Score detections on canvases: VOC mAP@0.5 with per-class AP, and COCO's figures.

    Parameters
    ----------
    canvases : list of Canvas
    detections : list of Detections
        One per canvas.

    Returns
    -------
    dict
        ``map50`` (:func:`cnnteach.scoring.mean_average_precision`, VOC all-point at IoU 0.5),
        ``ap`` ({digit: AP}), ``coco_map`` (COCO mAP@[.5:.95]) and ``coco`` (the twelve figures
        of :func:`cnnteach.scoring.coco_evaluate`).

    Examples
    --------
    >>> truth = [Canvas(np.zeros((96, 96), np.uint8), np.array([[0, 0, 10, 20]]), np.array([4]))]
    >>> found = [Detections(np.array([[0, 0, 10, 20]]), np.array([0.9]), np.array([4]))]
    >>> result = evaluate(truth, found)
    >>> result["map50"], result["ap"], round(result["coco_map"], 3)
    (1.0, {4: 1.0}, 1.0)
    """
    from cnnteach.scoring import coco_evaluate, mean_average_precision

    if len(canvases) != len(detections):
        raise ValueError(
            f"got {len(canvases)} canvases but detections for {len(detections)}: give one per canvas"
        )
    data = dict(
        true_boxes=[c.boxes for c in canvases],
        true_labels=[c.labels for c in canvases],
        pred_boxes=[d.boxes for d in detections],
        pred_labels=[d.labels for d in detections],
        pred_scores=[d.scores for d in detections],
    )
    map50, ap = mean_average_precision(**data)
    coco = coco_evaluate(**data)
    return dict(map50=map50, ap=ap, coco_map=coco["map"], coco=coco)
