"""Canvases of MNIST digits with their true boxes: the data every detection lesson uses.

* :func:`make_canvas` pastes MNIST digits at seeded random places on a larger black image
  and returns the image, the ground-truth boxes and the labels, as a :class:`Canvas`.
  With ``scale=(low, high)`` each digit is first resized by its own seeded factor.
* :func:`make_canvases` makes many canvases with consecutive seeds.

The boxes follow the convention of :mod:`cnnteach.boxes`: ``(x_min, y_min, x_max, y_max)``,
tight around each digit's ink. Importing this module does not import TensorFlow.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnteach._checks import whole
from cnnteach.models import WINDOW

__all__ = ["INK_FLOOR", "MAX_CANVAS", "Canvas", "make_canvas", "make_canvases"]


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
            f"images must be uint8 MNIST digits of shape (N, 28, 28), got {images.dtype} "
            f"{images.shape}: "
            "pass x_test (or x_train) as load_mnist() returns it"
        )
    if labels.shape != (images.shape[0],):
        raise ValueError(
            f"labels must have shape ({images.shape[0]},), one digit per image, got {labels.shape}"
        )
    return images, labels


def _place(rng, n_digits: int, size: int, gap: int) -> list[tuple[int, int]]:
    """Top-left corners of ``n_digits`` 28x28 frames that do not overlap (rejection sampling)."""
    span = size - WINDOW + 1
    for _ in range(200):
        corners: list[tuple[int, int]] = []
        for _ in range(200):
            x, y = (int(v) for v in rng.integers(0, span, size=2))
            if all(
                abs(x - cx) >= WINDOW + gap or abs(y - cy) >= WINDOW + gap for cx, cy in corners
            ):
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
    picks = (
        rng.choice(len(images), size=len(corners), replace=False) if corners else np.zeros(0, int)
    )
    image = np.zeros((size, size), dtype=np.uint8)
    boxes, frames = [], []
    for (x, y), k in zip(corners, picks):
        digit = images[k]
        image[y : y + WINDOW, x : x + WINDOW] = np.maximum(
            image[y : y + WINDOW, x : x + WINDOW], digit
        )
        x0, y0, x1, y1 = _ink_box(digit) or (0, 0, 0, 0)
        boxes.append((x + x0, y + y0, x + x1, y + y1))
        frames.append((x, y, x + WINDOW, y + WINDOW))
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    frames = np.asarray(frames, dtype=np.int64).reshape(-1, 4)
    return Canvas(image, boxes, np.asarray(labels)[picks].astype(np.int64)), frames


#: The largest canvas side accepted: a bigger one is almost surely a typo (and a lot of memory).
MAX_CANVAS = 4096


def _check_scale(scale) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise ValueError(
            f"scale must be two numbers (low, high) such as (0.6, 2.0), got {scale!r}"
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
        raise ValueError(f"scale must be (low, high) with 0 < low <= high, got {scale!r}")
    return low, high


def _check_canvas_args(n_digits, size, gap, scale):
    size = whole(size, "size", minimum=WINDOW if scale is None else 1)
    if size > MAX_CANVAS:
        raise ValueError(
            f"size must be at most {MAX_CANVAS} pixels, got {size}: canvases are small images"
        )
    n_digits = whole(n_digits, "n_digits", minimum=0)
    gap = whole(gap, "gap", minimum=0)
    return n_digits, size, gap, (None if scale is None else _check_scale(scale))


#: Resizing blurs a digit's edges into a faint halo; a resized digit's pixels below this value
#: (out of 255) are set to 0, so that its box is tight around ink one can see.
INK_FLOOR = 32


def _resize(digit: np.ndarray, factor: float) -> np.ndarray:
    """Resize a 28x28 uint8 digit by ``factor`` (bilinear, Pillow), drop its halo, crop it to ink.

    Returns an empty (0, 0) array when no ink is left.
    """
    from PIL import Image

    side = max(1, int(round(WINDOW * factor)))
    resized = np.asarray(
        Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)
    ).copy()
    resized[resized < INK_FLOOR] = 0
    found = _ink_box(resized)
    if found is None:
        return resized[:0, :0]
    x0, y0, x1, y1 = found
    return resized[y0:y1, x0:x1]


def _place_patches(rng, shapes, size: int, gap: int) -> list[tuple[int, int]]:
    """Top-left corners of patches of ``shapes`` that stay ``gap`` apart (rejection sampling).

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
                if all(
                    x + w + gap <= cx
                    or cx + shapes[j][1] + gap <= x
                    or y + h + gap <= cy
                    or cy + shapes[j][0] + gap <= y
                    for j, (cx, cy) in placed.items()
                ):
                    placed[i] = (x, y)
                    break
            else:
                break
        if len(placed) == len(shapes):
            return [placed[i] for i in range(len(shapes))]
    raise ValueError(
        f"could not place {len(shapes)} digits of these sizes without overlap on a {size}x{size} "
        "canvas: "
        "ask for fewer digits, a smaller scale or a larger canvas"
    )


def _compose_scaled(images, labels, n_digits, size, seed, gap, scale):
    """One canvas of digits resized by seeded factors in ``scale``; ink boxes never overlap."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), size=n_digits, replace=False) if n_digits else np.zeros(0, int)
    factors = rng.uniform(scale[0], scale[1], size=n_digits)
    patches = [_resize(images[k], f) for k, f in zip(picks, factors)]
    corners = _place_patches(rng, [p.shape for p in patches], size, gap) if n_digits else []
    image = np.zeros((size, size), dtype=np.uint8)
    boxes = []
    for (x, y), patch in zip(corners, patches):
        h, w = patch.shape
        image[y : y + h, x : x + w] = patch
        boxes.append((x, y, x + w, y + h))
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # an empty digit has no box
    return Canvas(image, boxes[keep], np.asarray(labels)[picks].astype(np.int64)[keep])


def make_canvas(
    images, labels, *, n_digits: int = 4, size: int = 96, seed=0, gap: int = 0, scale=None
) -> Canvas:
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
        raise ValueError(
            f"n_digits is {n_digits} but only {len(images)} digit images were given: "
            "pass more images (e.g. all of x_test) or ask for fewer digits."
        )
    if n_digits > len(images):
        raise ValueError(
            f"cannot pick {n_digits} different digits from {len(images)} images: pass more images"
        )
    return _compose_scaled(images, labels, n_digits, size, seed, gap, scale)


#: The most canvases :func:`make_canvases` makes in one call (each is a separate array).
MAX_CANVASES = 100_000


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
    n = whole(n, "n", minimum=0, maximum=MAX_CANVASES)
    first_seed = whole(first_seed, "first_seed", minimum=0)
    return [make_canvas(images, labels, seed=first_seed + i, **kwargs) for i in range(n)]
