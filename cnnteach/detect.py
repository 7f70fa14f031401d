"""Detection with a window classifier: canvases of digits, sliding windows, one-pass scoring.

Lesson 10 builds a small object detector out of the digit classifier, the way detection was
done before R-CNN.

* :func:`make_canvas` pastes MNIST digits at seeded random places on a larger black image
  and returns the image, the ground-truth boxes and the labels; with ``scale=(low, high)``
  every digit is first resized by its own random factor (lesson 13's digits of many sizes).
* :func:`sliding_windows` cuts every window the classifier will look at.
* :func:`detect_digits` classifies all windows of one or many canvases in ONE ``predict``
  call, keeps the confident ones (a background class, a confidence threshold, or both),
  tightens each box to the ink it holds, and removes duplicates with
  :func:`~cnnteach.boxes.non_max_suppression`.
* :func:`score_detections` scores them against the canvases' true boxes.
* :func:`make_window_dataset` and :func:`train_background_classifier` build and train an
  11-class classifier whose class 10 means "no digit here".
* :func:`fully_convolutional` turns a trained classifier into a network that scores every
  window of a canvas in one convolution pass.
* :func:`plot_boxes` draws boxes on a canvas.

Box maths (IoU, NMS, AP) lives in :mod:`cnnteach.boxes`, with the box convention.
TensorFlow and Keras are imported only inside the functions that need a network.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import NamedTuple

import numpy as np

from cnnteach.boxes import (
    _as_boxes,
    _matches,
    average_precision,
    non_max_suppression,
    pairwise_iou,
)
from cnnteach._checks import single_axes, unit_pixels
from cnnteach.models import BACKGROUND, WINDOW, background_model
from cnnteach.training import quiet_retracing

__all__ = [
    "BACKGROUND",
    "Canvas",
    "DetectionScore",
    "Detections",
    "WINDOW",
    "detect_digits",
    "fully_convolutional",
    "make_canvas",
    "INK_FLOOR",
    "MAX_CANVAS",
    "make_canvases",
    "make_window_dataset",
    "plot_boxes",
    "score_detections",
    "sliding_windows",
    "train_background_classifier",
]



# ----------------------------------------------------------------------------- canvases
class Canvas(NamedTuple):
    """A detection example: ``image, boxes, labels = make_canvas(...)``.

    Attributes
    ----------
    image : numpy.ndarray
        uint8, shape (size, size): black background, white digits, like MNIST.
    boxes : numpy.ndarray
        int64, shape (n_digits, 4): the tight box ``(x_min, y_min, x_max, y_max)`` around each
        digit's ink (every pixel above 0).
    labels : numpy.ndarray
        int64, shape (n_digits,): the digit in each box.
    """

    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray


def _ink_box(patch: np.ndarray, threshold: float = 0) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero((patch > threshold).any(axis=1))
    cols = np.flatnonzero((patch > threshold).any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _check_digits(images, labels):
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (WINDOW, WINDOW) or images.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 MNIST digits of shape (N, 28, 28), got {images.dtype} {images.shape}: "
            "pass x_test (or x_train) as load_mnist() returns it"
        )
    if labels.shape != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},), one digit per image, got {labels.shape}")
    return images, labels


def _place(rng, n_digits: int, size: int, gap: int) -> list[tuple[int, int]]:
    """Top-left corners of ``n_digits`` 28x28 frames that do not overlap (rejection sampling)."""
    span = size - WINDOW + 1
    for _ in range(200):
        corners: list[tuple[int, int]] = []
        for _ in range(200):
            x, y = (int(v) for v in rng.integers(0, span, size=2))
            if all(abs(x - cx) >= WINDOW + gap or abs(y - cy) >= WINDOW + gap for cx, cy in corners):
                corners.append((x, y))
                if len(corners) == n_digits:
                    return corners
    raise ValueError(
        f"could not place {n_digits} digits without overlap on a {size}x{size} canvas: "
        "ask for fewer digits, a smaller gap or a larger canvas"
    )


def _compose(images, labels, n_digits, size, seed, gap):
    """Build one canvas; also return the 28x28 frames the digits were pasted into."""
    n_digits, size, gap, _ = _check_canvas_args(n_digits, size, gap, None)
    rng = np.random.default_rng(seed)
    corners = _place(rng, int(n_digits), int(size), int(gap)) if n_digits else []
    picks = rng.choice(len(images), size=len(corners), replace=False) if corners else np.zeros(0, int)
    image = np.zeros((size, size), dtype=np.uint8)
    boxes, frames = [], []
    for (x, y), k in zip(corners, picks):
        digit = images[k]
        image[y:y + WINDOW, x:x + WINDOW] = np.maximum(image[y:y + WINDOW, x:x + WINDOW], digit)
        x0, y0, x1, y1 = _ink_box(digit) or (0, 0, 0, 0)
        boxes.append((x + x0, y + y0, x + x1, y + y1))
        frames.append((x, y, x + WINDOW, y + WINDOW))
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    frames = np.asarray(frames, dtype=np.int64).reshape(-1, 4)
    return Canvas(image, boxes, np.asarray(labels)[picks].astype(np.int64)), frames


#: The largest canvas side accepted: a bigger one is almost surely a typo (and a lot of memory).
MAX_CANVAS = 4096


def _whole(value, name: str, low: int) -> int:
    """``value`` as an int, or one clear ValueError if it is not a whole number >= ``low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not np.isfinite(value) or value != int(value):
        raise ValueError(f"{name} must be a whole number, got {value!r}: round it first")
    if int(value) < low:
        raise ValueError(f"{name} must be at least {low}, got {value!r}")
    return int(value)


def _check_scale(scale) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale must be two numbers (low, high) such as (0.6, 2.0), got {scale!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
        raise ValueError(f"scale must be (low, high) with 0 < low <= high, got {scale!r}")
    return low, high


def _check_canvas_args(n_digits, size, gap, scale):
    size = _whole(size, "size", WINDOW if scale is None else 1)
    if size > MAX_CANVAS:
        raise ValueError(f"size must be at most {MAX_CANVAS} pixels, got {size}: canvases are small images")
    n_digits = _whole(n_digits, "n_digits", 0)
    gap = _whole(gap, "gap", 0)
    return n_digits, size, gap, (None if scale is None else _check_scale(scale))


#: Resizing blurs a digit's edges into a faint halo; a resized digit's pixels below this value
#: (out of 255) are set to 0, so that its box is tight around ink one can see.
INK_FLOOR = 32


def _resize(digit: np.ndarray, factor: float) -> np.ndarray:
    """Resize a 28x28 uint8 digit by ``factor`` (bilinear, Pillow), drop the faint halo, crop to ink."""
    from PIL import Image

    side = max(1, int(round(WINDOW * factor)))
    resized = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)).copy()
    resized[resized < INK_FLOOR] = 0
    found = _ink_box(resized)
    if found is None:
        return resized[:0, :0]
    x0, y0, x1, y1 = found
    return resized[y0:y1, x0:x1]


def _place_patches(rng, shapes, size: int, gap: int) -> list[tuple[int, int]]:
    """Top-left corners of patches of ``shapes`` whose boxes stay ``gap`` apart (rejection sampling).

    The biggest patches are placed first: they are the hardest to fit.
    """
    order = sorted(range(len(shapes)), key=lambda i: -shapes[i][0] * shapes[i][1])
    for _ in range(200):
        placed: dict[int, tuple[int, int]] = {}
        for i in order:
            h, w = shapes[i]
            if h > size or w > size:
                break
            for _ in range(100):
                x = int(rng.integers(0, size - w + 1))
                y = int(rng.integers(0, size - h + 1))
                if all(x + w + gap <= cx or cx + shapes[j][1] + gap <= x
                       or y + h + gap <= cy or cy + shapes[j][0] + gap <= y
                       for j, (cx, cy) in placed.items()):
                    placed[i] = (x, y)
                    break
            else:
                break
        if len(placed) == len(shapes):
            return [placed[i] for i in range(len(shapes))]
    raise ValueError(
        f"could not place {len(shapes)} digits of these sizes without overlap on a {size}x{size} canvas: "
        "ask for fewer digits, a smaller scale or a larger canvas"
    )


def _compose_scaled(images, labels, n_digits, size, seed, gap, scale):
    """One canvas of digits resized by seeded factors in ``scale``; their ink boxes never overlap."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), size=n_digits, replace=False) if n_digits else np.zeros(0, int)
    factors = rng.uniform(scale[0], scale[1], size=n_digits)
    patches = [_resize(images[k], f) for k, f in zip(picks, factors)]
    corners = _place_patches(rng, [p.shape for p in patches], size, gap) if n_digits else []
    image = np.zeros((size, size), dtype=np.uint8)
    boxes = []
    for (x, y), patch in zip(corners, patches):
        h, w = patch.shape
        image[y:y + h, x:x + w] = patch
        boxes.append((x, y, x + w, y + h))
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # an empty digit has no box
    return Canvas(image, boxes[keep], np.asarray(labels)[picks].astype(np.int64)[keep])


def make_canvas(images, labels, *, n_digits: int = 4, size: int = 96, seed=0, gap: int = 0,
                scale=None) -> Canvas:
    """Paste ``n_digits`` MNIST digits at seeded random places on a black ``size`` x ``size`` image.

    Without ``scale``, each digit keeps its 28x28 MNIST frame; frames never overlap (and stay
    ``gap`` pixels apart), so every digit's ink stays whole and separate. With
    ``scale=(low, high)``, each digit is first resized by its own seeded random factor drawn
    uniformly from ``[low, high]`` (bilinear, with Pillow: ``(0.6, 2.0)`` turns the 28-pixel
    frame into 17 to 56 pixels), its faint resizing halo (pixels below :data:`INK_FLOOR`) is
    dropped and it is cropped to its ink; the ink boxes never overlap (and stay
    ``gap`` pixels apart), so again every true box is tight around its digit's ink and holds
    no other digit's ink.

    Parameters
    ----------
    images : numpy.ndarray
        uint8 digits of shape (N, 28, 28), e.g. ``x_test`` from ``load_mnist()``. Use test
        digits for canvases you score a detector on.
    labels : numpy.ndarray
        The N digits' labels.
    n_digits : int, default 4
        How many digits to paste (a whole number).
    size : int, default 96
        Side of the square canvas in pixels, at most :data:`MAX_CANVAS`.
    seed : int, default 0
        Same seed, same canvas.
    gap : int, default 0
        Extra empty pixels between digit frames (between ink boxes with ``scale``).
    scale : (float, float), optional
        The range of resizing factors; None (the default) pastes digits at their 28x28 size.

    Returns
    -------
    Canvas
        ``(image, boxes, labels)``: uint8 image, int64 boxes ``(x_min, y_min, x_max, y_max)``
        tight around each digit's ink, and the digits' labels.

    Raises
    ------
    ValueError
        Digits that are not uint8 28x28 images, a count, size or gap that is not a whole
        number (or too small or too large), a malformed ``scale``, or digits that do not fit.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> digits = (rng.random((5, 28, 28)) > 0.9).astype(np.uint8) * 255
    >>> image, boxes, labels = make_canvas(digits, np.arange(5), n_digits=3, seed=1)
    >>> image.shape, boxes.shape, labels.shape
    ((96, 96), (3, 4), (3,))
    >>> blocks = np.zeros((3, 28, 28), np.uint8)
    >>> blocks[:, 4:24, 4:24] = 255  # 20 x 20 pixels of ink
    >>> box = make_canvas(blocks, np.arange(3), n_digits=1, scale=(2.0, 2.0)).boxes[0]
    >>> (box[2:] - box[:2]).tolist()  # 20 pixels of ink, twice as wide and tall, plus the blur
    [42, 42]
    """
    images, labels = _check_digits(images, labels)
    if scale is None:
        return _compose(images, labels, n_digits, size, seed, gap)[0]
    n_digits, size, gap, scale = _check_canvas_args(n_digits, size, gap, scale)
    if n_digits > len(images):
        raise ValueError(f"cannot pick {n_digits} different digits from {len(images)} images: pass more images")
    return _compose_scaled(images, labels, n_digits, size, seed, gap, scale)


def make_canvases(images, labels, n: int, *, first_seed: int = 0, **kwargs) -> list[Canvas]:
    """Make ``n`` canvases with seeds ``first_seed, first_seed + 1, ...`` (see :func:`make_canvas`).

    Raises
    ------
    ValueError
        ``n`` is not a whole number of 0 or more, or :func:`make_canvas` refuses its arguments.

    Examples
    --------
    >>> digits = np.full((6, 28, 28), 200, dtype=np.uint8)
    >>> [len(c.boxes) for c in make_canvases(digits, np.arange(6), 2, n_digits=2)]
    [2, 2]
    """
    n = _whole(n, "n", 0)
    first_seed = _whole(first_seed, "first_seed", 0)
    return [make_canvas(images, labels, seed=first_seed + i, **kwargs) for i in range(n)]


def sliding_windows(image, size: int = WINDOW, stride: int = 4):
    """Cut every ``size`` x ``size`` window of ``image``, moving ``stride`` pixels at a time.

    Windows are taken row by row, like a convolution with a ``size`` x ``size`` kernel and
    this stride: along each axis there are ``(side - size) // stride + 1`` of them (the same
    floor formula as a convolution's output size). A last strip narrower than the stride is
    never reached.

    Parameters
    ----------
    image : array_like, shape (H, W)
    size : int, default 28
    stride : int, default 4

    Returns
    -------
    windows : numpy.ndarray, shape (n, size, size)
        Copies of the windows, same dtype as ``image``.
    boxes : numpy.ndarray of int64, shape (n, 4)
        Each window's box ``(x_min, y_min, x_max, y_max)``.

    Examples
    --------
    >>> windows, boxes = sliding_windows(np.zeros((96, 96)), size=28, stride=4)
    >>> windows.shape, boxes[:2].tolist()
    ((324, 28, 28), [[0, 0, 28, 28], [4, 0, 32, 28]])
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be one greyscale image of shape (H, W), got shape {image.shape}")
    size, stride = int(size), int(stride)
    if stride < 1 or size < 1:
        raise ValueError(f"size and stride must be at least 1, got size={size}, stride={stride}")
    if size > min(image.shape):
        raise ValueError(f"a {size}x{size} window does not fit in an image of shape {image.shape}: use a larger image")
    view = np.lib.stride_tricks.sliding_window_view(image, (size, size))[::stride, ::stride]
    ny, nx = view.shape[:2]
    ys, xs = np.meshgrid(np.arange(ny) * stride, np.arange(nx) * stride, indexing="ij")
    boxes = np.stack([xs.ravel(), ys.ravel(), xs.ravel() + size, ys.ravel() + size], axis=1).astype(np.int64)
    return view.reshape(ny * nx, size, size).copy(), boxes


# ----------------------------------------------------------------------------- detecting
class Detections(NamedTuple):
    """What a detector found in one canvas: ``boxes, scores, labels = detections``.

    Attributes
    ----------
    boxes : numpy.ndarray, shape (n, 4)
    scores : numpy.ndarray, shape (n,)
        The probability of the predicted digit.
    labels : numpy.ndarray, shape (n,)
        The predicted digit, 0-9.
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray


def _as_canvas_stack(canvases) -> tuple[np.ndarray, bool]:
    if isinstance(canvases, Canvas):
        canvases = canvases.image
    if isinstance(canvases, (list, tuple)) and canvases and isinstance(canvases[0], Canvas):
        canvases = [c.image for c in canvases]
    stack = np.asarray(canvases)
    single = stack.ndim == 2
    if single:
        stack = stack[np.newaxis]
    if stack.ndim != 3 or stack.dtype.kind not in "uif" or 0 in stack.shape:
        raise ValueError(
            f"canvas must be one image (H, W) or a stack (N, H, W) of numbers, got shape {stack.shape}: "
            "pass make_canvas(...).image"
        )
    return stack, single


def detect_digits(
    model,
    canvas,
    *,
    stride: int = 4,
    threshold: float = 0.5,
    iou_threshold: float = 0.3,
    nms: bool = True,
    tighten: bool = True,
    one_pass: bool = False,
    batch_size: int = 2048,
):
    """Find digits: classify every window, keep the confident ones, tighten, suppress duplicates.

    All windows of all the canvases given go to the network in ONE ``model.predict`` call
    (batched), never one call per window. With ``one_pass=True`` the network is instead a
    :func:`fully_convolutional` one and reads the whole canvases, again in one call.

    A window counts as a detection when the network's best digit probability is at least
    ``threshold`` and, for a model with 11 outputs, when that digit beats class 10
    (:data:`BACKGROUND`, "no digit here"). A 10-output classifier can only say "no digit"
    through the threshold.

    Parameters
    ----------
    model : keras.Model or any object with ``predict(x, batch_size=..., verbose=0)``
        Reads float32 windows (n, 28, 28, 1) in [0, 1] and returns (n, 10) or (n, 11)
        probabilities; with ``one_pass=True`` reads canvases (N, H, W, 1) and returns a map
        (N, rows, cols, 10 or 11) with one row and column per window position.
    canvas : numpy.ndarray or Canvas or list of them
        One canvas (H, W) or a stack (N, H, W); uint8 0-255 or float in [0, 1].
    stride : int, default 4
        Pixels between neighbouring windows (with ``one_pass``, the network's own stride).
    threshold : float, default 0.5
        Minimum probability of the predicted digit.
    iou_threshold : float, default 0.3
        Passed to :func:`non_max_suppression` (one NMS over all digits: two digits never
        share a place on these canvases).
    nms : bool, default True
        False returns the raw detections (every confident window).
    tighten : bool, default True
        Shrink each box to the ink inside its window (a hand-made stand-in for the box
        regression that R-CNN learns). Windows without ink keep their full box.
    one_pass : bool, default False
        Run a fully convolutional ``model`` once over each whole canvas.
    batch_size : int, default 2048
        Windows per batch inside the single ``predict`` call.

    Returns
    -------
    Detections or list of Detections
        One :class:`Detections` for one canvas, a list for a stack.

    Examples
    --------
    >>> class Blank:  # a stand-in network that always says "background"
    ...     def predict(self, x, batch_size=None, verbose=0):
    ...         return np.tile(np.eye(11)[10], (len(x), 1))
    >>> detect_digits(Blank(), np.zeros((96, 96), np.uint8)).boxes.shape
    (0, 4)
    """
    stack, single = _as_canvas_stack(canvas)
    if not 0 <= float(threshold) <= 1:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    per_canvas = [sliding_windows(image, WINDOW, stride) for image in stack]
    n_windows = len(per_canvas[0][0])
    if one_pass:
        with quiet_retracing():
            maps = np.asarray(model.predict(unit_pixels(stack, "canvas")[..., np.newaxis], batch_size=8, verbose=0))
        if maps.ndim != 4 or maps.shape[0] != len(stack) or maps.shape[1] * maps.shape[2] != n_windows:
            raise ValueError(
                f"with one_pass=True the model must return one score map per canvas with {n_windows} positions "
                f"(the windows of stride {stride}), got shape {maps.shape}: pass fully_convolutional(model) "
                "and the stride of its pooling layers"
            )
        probs = maps.reshape(-1, maps.shape[-1])
    else:
        windows = np.concatenate([w for w, _ in per_canvas])
        with quiet_retracing():
            probs = np.asarray(model.predict(unit_pixels(windows, "canvas")[..., np.newaxis], batch_size=batch_size, verbose=0))
    if probs.ndim != 2 or probs.shape[0] != n_windows * len(stack) or probs.shape[1] not in (10, 11):
        raise ValueError(
            f"the model must return (n, 10) or (n, 11) class probabilities, got shape {probs.shape}: "
            "pass a digit classifier such as load_trained_model() or train_background_classifier()"
        )
    results = []
    for k, (win, boxes) in enumerate(per_canvas):
        p = probs[k * n_windows:(k + 1) * n_windows]
        results.append(_decide(win, boxes, p, threshold, iou_threshold, nms, tighten))
    return results[0] if single else results


def _decide(windows, boxes, probs, threshold, iou_threshold, nms, tighten) -> Detections:
    digits = probs[:, :10]
    labels = np.argmax(digits, axis=1)
    scores = digits[np.arange(len(digits)), labels]
    keep = scores >= threshold
    if probs.shape[1] == 11:
        keep &= scores > probs[:, BACKGROUND]
    boxes = boxes[keep].astype(np.float64)
    if tighten:
        for row, window in zip(boxes, windows[keep]):
            found = _ink_box(window)
            if found is not None:
                x0, y0 = row[0], row[1]
                row[:] = (x0 + found[0], y0 + found[1], x0 + found[2], y0 + found[3])
    scores, labels = scores[keep].astype(np.float64), labels[keep].astype(np.int64)
    if nms:
        kept = non_max_suppression(boxes, scores, iou_threshold)
        boxes, scores, labels = boxes[kept], scores[kept], labels[kept]
    return Detections(boxes.reshape(-1, 4), scores, labels)


# ----------------------------------------------------------------------------- scoring
class DetectionScore(NamedTuple):
    """How a detector did on a set of canvases (see :func:`score_detections`)."""

    ap: float
    precision: float
    recall: float
    detections: int
    found: int
    digits: int

    def __str__(self) -> str:
        return (f"AP@0.5 {self.ap:.3f} · precision {self.precision:.3f} · recall {self.recall:.3f} · "
                f"{self.found} of {self.digits} digits found with {self.detections} detections")


def score_detections(canvases, detections, *, iou_threshold: float = 0.5) -> DetectionScore:
    """Score detections against the canvases' true boxes and labels.

    A detection is right when its label is right and its IoU with a not yet matched true box
    is at least ``iou_threshold`` (see :func:`precision_recall_curve`).

    Parameters
    ----------
    canvases : list of Canvas
        From :func:`make_canvases`.
    detections : list of Detections
        From :func:`detect_digits`, one per canvas.
    iou_threshold : float, default 0.5

    Returns
    -------
    DetectionScore
        ``ap`` (:func:`average_precision`), ``precision`` and ``recall`` of all the
        detections kept, and the counts behind them.

    Examples
    --------
    >>> truth = Canvas(np.zeros((96, 96), np.uint8), np.array([[0, 0, 10, 10], [20, 0, 30, 10]]), np.array([1, 2]))
    >>> found = Detections(np.array([[0, 0, 10, 10], [50, 50, 60, 60]]), np.array([0.9, 0.8]), np.array([1, 2]))
    >>> print(score_detections([truth], [found]))
    AP@0.5 0.500 · precision 0.500 · recall 0.500 · 1 of 2 digits found with 2 detections
    """
    if isinstance(canvases, Canvas):
        canvases = [canvases]
    if isinstance(detections, Detections):
        detections = [detections]
    if len(canvases) != len(detections):
        raise ValueError(f"got {len(canvases)} canvases but detections for {len(detections)}: give one Detections per canvas")
    args = ([c.boxes for c in canvases], [d.boxes for d in detections], [d.scores for d in detections])
    labels = dict(true_labels=[c.labels for c in canvases], pred_labels=[d.labels for d in detections])
    scores, is_tp, n_true = _matches(*args, iou_threshold, labels["true_labels"], labels["pred_labels"])
    ap = average_precision(*args, iou_threshold=iou_threshold, **labels)
    found = int(is_tp.sum())
    precision = found / len(is_tp) if len(is_tp) else 0.0
    return DetectionScore(ap, precision, found / n_true, int(len(is_tp)), found, int(n_true))


# ----------------------------------------------------------------------------- background class
def make_window_dataset(images, labels, *, n_canvases: int = 2000, size: int = 96, n_digits: int = 4,
                        jitter: int = 2, backgrounds_per_canvas: int = 6, seed: int = 0):
    """Training windows for an 11-class classifier: digits, and class 10 for "no digit here".

    Canvases are made with :func:`make_canvas` from the given digits (use the TRAINING
    digits). From each, windows are cut the way R-CNN labels its proposals:

    * a *digit* window is the digit's own 28x28 frame moved by at most ``jitter`` pixels
      (IoU with the frame at least about 0.75 for ``jitter=2``), labelled with the digit;
    * a *background* window lies anywhere whose IoU with every digit frame is below 0.5:
      empty black, or only part of a digit (or parts of two), labelled :data:`BACKGROUND`.

    Windows in between (IoU 0.5 to 0.75) are left out, so the classifier is never asked to
    draw a sharp line through ambiguous windows.

    Parameters
    ----------
    images, labels : numpy.ndarray
        uint8 MNIST digits (N, 28, 28) and their labels.
    n_canvases : int, default 2000
    size, n_digits : int
        Passed to :func:`make_canvas`.
    jitter : int, default 2
        Largest shift, in pixels along each axis, of a digit window from its frame.
    backgrounds_per_canvas : int, default 6
    seed : int, default 0

    Returns
    -------
    x : numpy.ndarray, uint8, shape (n, 28, 28)
    y : numpy.ndarray, int64, shape (n,)
        0-9 for digits, 10 for background; shuffled.

    Examples
    --------
    >>> digits = np.full((8, 28, 28), 255, dtype=np.uint8)
    >>> x, y = make_window_dataset(digits, np.arange(8) % 10, n_canvases=3, seed=0)
    >>> x.shape[1:], int((y == BACKGROUND).sum())
    ((28, 28), 18)
    """
    images, labels = _check_digits(images, labels)
    rng = np.random.default_rng(seed)
    span = size - WINDOW + 1
    xs, ys = [], []
    for c in range(int(n_canvases)):
        canvas, frames = _compose(images, labels, n_digits, size, int(rng.integers(2**31)), 0)
        for (fx, fy, _, _), label in zip(frames, canvas.labels):
            dx, dy = rng.integers(-jitter, jitter + 1, size=2)
            x0 = int(np.clip(fx + dx, 0, size - WINDOW))
            y0 = int(np.clip(fy + dy, 0, size - WINDOW))
            xs.append(canvas.image[y0:y0 + WINDOW, x0:x0 + WINDOW])
            ys.append(int(label))
        corners = rng.integers(0, span, size=(50 * backgrounds_per_canvas, 2))
        candidates = np.concatenate([corners, corners + WINDOW], axis=1)
        if len(frames):
            candidates = candidates[pairwise_iou(candidates, frames).max(axis=1) < 0.5]
        for x0, y0, _, _ in candidates[:backgrounds_per_canvas]:
            xs.append(canvas.image[y0:y0 + WINDOW, x0:x0 + WINDOW])
            ys.append(BACKGROUND)
    order = rng.permutation(len(xs))
    return np.asarray(xs, dtype=np.uint8)[order].reshape(-1, WINDOW, WINDOW), np.asarray(ys, dtype=np.int64)[order]


def train_background_classifier(x, y, *, base_model=None, epochs: int = 1, seed: int = 0):
    """Fine-tune an 11-class classifier (:func:`~cnnteach.models.background_model`) on windows.

    It runs :func:`cnnteach.training.train` with ``RECIPES["background"]``: pixels scaled to
    [0, 1], 128 windows per step, Adam at 0.002 with a cosine decay to zero over all steps,
    no validation split.

    Parameters
    ----------
    x : numpy.ndarray, uint8, shape (n, 28, 28)
    y : numpy.ndarray, shape (n,)
        Labels 0-10 (10 = background), as :func:`make_window_dataset` returns them.
    base_model : keras.Sequential, optional
        Start from this trained 10-class classifier (fine-tuning) instead of from scratch.
    epochs : int, default 1
        Passes over the windows.
    seed : int, default 0
        ``keras.utils.set_random_seed(seed)`` before the model is built.

    Returns
    -------
    keras.Model
        The trained, compiled 11-class model.

    Examples
    --------
    >>> x, y = make_window_dataset(x_train, y_train)  # doctest: +SKIP
    >>> model = train_background_classifier(x, y, base_model=load_trained_model())  # doctest: +SKIP
    """
    from cnnteach.training import RECIPES, train

    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 3 or x.shape[1:] != (WINDOW, WINDOW) or x.dtype != np.uint8:
        raise ValueError(
            f"x must be uint8 windows of shape (n, 28, 28), got {x.dtype} {x.shape}: "
            "use make_window_dataset()."
        )
    if (
        y.shape != (len(x),)
        or y.dtype.kind not in "iu"
        or (y.size and (y.min() < 0 or y.max() > BACKGROUND))
    ):
        raise ValueError(
            "y must hold one label 0-10 per window (10 = background): use make_window_dataset()."
        )
    recipe = replace(RECIPES["background"], build=partial(background_model, base_model))
    run = train(recipe, x, y, epochs=epochs, validation_split=0.0, seed=seed, log=False)
    return run.model


# ----------------------------------------------------------------------------- one pass
def fully_convolutional(model):
    """Rewrite a window classifier as a network that scores every window of a canvas at once.

    Convolution and pooling layers are kept as they are (same weights); the first ``Dense``
    after ``Flatten`` becomes a convolution whose kernel covers the whole flattened feature
    map (its weights reshaped, not retrained), and every later ``Dense`` becomes a 1x1
    convolution. On a 28x28 input the new network gives the original's output; on a canvas it
    gives a map of outputs, one per window, as if the windows were cut with a stride equal to
    the product of the pooling (and convolution) strides, all in one pass that shares the
    convolution work of overlapping windows. Dropout layers are dropped (they do nothing at
    prediction time).

    Parameters
    ----------
    model : keras.Sequential
        A classifier made of ``Conv2D`` and ``MaxPooling2D`` with ``'valid'`` padding, then
        ``Flatten`` and ``Dense`` layers (such as ``lesson_model()``).

    Returns
    -------
    keras.Model
        Input (None, None, None, 1); output (batch, rows, cols, classes).

    Examples
    --------
    >>> fcn = fully_convolutional(trained_model)  # doctest: +SKIP
    >>> fcn.predict(canvas[None, ..., None] / 255, verbose=0).shape  # doctest: +SKIP
    (1, 18, 18, 10)
    """
    import keras
    from keras import layers

    src_layers = [layer for layer in model.layers if not isinstance(layer, (layers.Dropout, layers.InputLayer))]
    x = inputs = keras.Input((None, None, 1))
    flattened_shape = None
    for layer in src_layers:
        if isinstance(layer, layers.Conv2D):
            if layer.padding != "valid":
                raise ValueError(f"layer {layer.name!r} uses padding={layer.padding!r}: only 'valid' padding keeps windows independent")
            clone = layers.Conv2D.from_config(layer.get_config())
            x = clone(x)
            clone.set_weights(layer.get_weights())
        elif isinstance(layer, layers.MaxPooling2D):
            if layer.padding != "valid":
                raise ValueError(f"layer {layer.name!r} uses padding={layer.padding!r}: only 'valid' padding keeps windows independent")
            x = layers.MaxPooling2D.from_config(layer.get_config())(x)
        elif isinstance(layer, layers.Flatten):
            flattened_shape = tuple(int(d) for d in layer.input.shape[1:])
        elif isinstance(layer, layers.Dense):
            kernel, bias = layer.get_weights()
            if flattened_shape is not None:
                h, w, c = flattened_shape
                kernel = kernel.reshape(h, w, c, kernel.shape[-1])
                flattened_shape = None
            else:
                kernel = kernel.reshape(1, 1, *kernel.shape)
            conv = layers.Conv2D(kernel.shape[-1], kernel.shape[:2], activation=layer.get_config()["activation"],
                                 name=f"{layer.name}_as_conv")
            x = conv(x)
            conv.set_weights([kernel, bias])
        else:
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) cannot be made convolutional here: "
                "use Conv2D, MaxPooling2D, Flatten, Dense and Dropout layers only"
            )
    return keras.Model(inputs, x, name=f"{model.name}_fully_convolutional")


# ----------------------------------------------------------------------------- drawing
def plot_boxes(image, boxes, labels=None, scores=None, *, ax=None, color="lime", linewidth=1.5, title=None):
    """Show ``image`` with rectangles for ``boxes`` and, if given, ``label`` / ``score`` tags.

    Parameters
    ----------
    image : array_like, shape (H, W)
    boxes : array_like, shape (n, 4)
    labels, scores : array_like, optional
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    color : str, default "lime"
    linewidth : float, default 1.5
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into (its ``patches`` are the rectangles, one per box).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_boxes(np.zeros((96, 96)), [[4, 4, 20, 30]], labels=[7])
    >>> len(ax.patches)
    1
    >>> plt.close("all")
    """
    from matplotlib.patches import Rectangle

    boxes = _as_boxes(boxes)
    picture = np.asarray(image)
    if picture.ndim != 2:
        raise ValueError(f"image must be one greyscale image (H, W), got shape {picture.shape}")
    ax = single_axes(ax, (4, 4))
    ax.imshow(picture, cmap="gray", vmin=0, vmax=255 if picture.dtype == np.uint8 else 1, interpolation="nearest")
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        # pixel i spans [i - 0.5, i + 0.5] in imshow coordinates
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=color, linewidth=linewidth))
        tag = []
        if labels is not None:
            tag.append(str(int(np.asarray(labels)[i])))
        if scores is not None:
            tag.append(f"{float(np.asarray(scores)[i]):.2f}")
        if tag:
            ax.text(x0 - 0.5, y0 - 1.5, " ".join(tag), color=color, fontsize=8, va="bottom")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax
