"""R-CNN in miniature: regions proposed from ink without learning, cropped, and classified.

:func:`ink_proposals` finds class-agnostic regions (connected components of ink at several
thresholds, with ``scipy.ndimage``); :func:`crop_proposals` crops and resizes each one to
28 x 28; :func:`rcnn_detect` classifies every crop with lesson 12's digit-or-background
classifier (:func:`load_window_classifier`). Lesson 14 starts here. Keras is imported inside
the functions that run a network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnteach.boxes import (
    batched_nms,
    pairwise_iou,
)
from cnnteach.detect import Detections
from cnnteach.roi import _bilinear

__all__ = [
    "crop_proposals",
    "ink_proposals",
    "load_window_classifier",
    "proposal_recall",
    "rcnn_detect",
]


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
    >>> from cnnteach.canvases import Canvas
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
    from cnnteach.callbacks import quiet_retracing

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
