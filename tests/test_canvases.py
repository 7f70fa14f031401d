"""cnnteach.canvases: tight true boxes, seeded canvases, scaled digits and argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from cnnteach import canvases
from cnnteach.boxes import pairwise_iou
from cnnteach.canvases import make_canvas, make_canvases


# ----------------------------------------------------------------------------- canvases
def test_canvas_boxes_enclose_their_digits_tightly(mnist_test):
    x_test, y_test = mnist_test
    for seed in range(25):
        image, boxes, labels = make_canvas(x_test, y_test, n_digits=4, size=96, seed=seed)
        assert image.shape == (96, 96) and image.dtype == np.uint8
        assert boxes.shape == (4, 4) and labels.shape == (4,)
        inside = np.zeros(image.shape, dtype=bool)
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= 96 and 0 <= y0 < y1 <= 96
            crop = image[y0:y1, x0:x1]
            # tight: the first and last row and column of the box all hold ink
            assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()
            inside[y0:y1, x0:x1] = True
        assert not image[~inside].any(), "ink outside every box"
        assert np.all(pairwise_iou(boxes, boxes)[~np.eye(4, dtype=bool)] == 0), "boxes overlap"


def test_canvas_labels_name_the_pasted_digits(mnist_test):
    x_test, y_test = mnist_test
    image, boxes, labels = make_canvas(x_test, y_test, seed=7)
    for (x0, y0, x1, y1), label in zip(boxes, labels):
        crop = image[y0:y1, x0:x1]
        h, w = crop.shape
        matches = [
            k
            for k in np.flatnonzero(y_test == label)
            if canvases._ink_box(x_test[k]) is not None
            and (
                lambda b: (
                    (b[3] - b[1], b[2] - b[0]) == (h, w)
                    and np.array_equal(x_test[k][b[1] : b[3], b[0] : b[2]], crop)
                )
            )(canvases._ink_box(x_test[k]))
        ]
        assert matches, f"no test digit {label} has the ink found in box {(x0, y0, x1, y1)}"


def test_canvas_is_seeded(mnist_test):
    x_test, y_test = mnist_test
    a, b, c = (
        make_canvas(x_test, y_test, seed=3),
        make_canvas(x_test, y_test, seed=3),
        make_canvas(x_test, y_test, seed=4),
    )
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.image, c.image)
    many = make_canvases(x_test, y_test, 3, first_seed=3)
    assert np.array_equal(many[0].image, a.image) and np.array_equal(many[1].image, c.image)


def test_canvas_rejects_bad_requests(mnist_test):
    x_test, y_test = mnist_test
    with pytest.raises(ValueError, match="could not place 20 digits"):
        make_canvas(x_test, y_test, n_digits=20, size=96)
    with pytest.raises(ValueError, match="uint8 MNIST digits"):
        make_canvas(x_test / 255, y_test)
    with pytest.raises(ValueError, match="size must be at least 28"):
        make_canvas(x_test, y_test, size=20)
    empty = make_canvas(x_test, y_test, n_digits=0)
    assert empty.boxes.shape == (0, 4) and not empty.image.any()


# ----------------------------------------------------------------------------- canvases with scale
def _make_canvas_before_scale(images, labels, *, n_digits=4, size=96, seed=0, gap=0):
    """make_canvas as it was before ``scale`` existed (copied verbatim): the default's reference."""
    rng = np.random.default_rng(seed)
    corners = canvases._place(rng, int(n_digits), int(size), int(gap)) if n_digits else []
    picks = (
        rng.choice(len(images), size=len(corners), replace=False) if corners else np.zeros(0, int)
    )
    image = np.zeros((size, size), dtype=np.uint8)
    boxes = []
    for (x, y), k in zip(corners, picks):
        digit = images[k]
        image[y : y + 28, x : x + 28] = np.maximum(image[y : y + 28, x : x + 28], digit)
        x0, y0, x1, y1 = canvases._ink_box(digit) or (0, 0, 0, 0)
        boxes.append((x + x0, y + y0, x + x1, y + y1))
    return (
        image,
        np.asarray(boxes, dtype=np.int64).reshape(-1, 4),
        np.asarray(labels)[picks].astype(np.int64),
    )


@pytest.mark.parametrize(
    "seed, kwargs", [(0, {}), (1, {}), (7, dict(n_digits=3, size=128, gap=2)), (1000, {})]
)
def test_default_canvas_is_unchanged_by_the_scale_option(mnist_test, seed, kwargs):
    x_test, y_test = mnist_test
    new = make_canvas(x_test, y_test, seed=seed, **kwargs)
    old = _make_canvas_before_scale(x_test, y_test, seed=seed, **kwargs)
    for a, b in zip(new, old):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("seed", range(6))
def test_scaled_canvas_boxes_are_tight_separate_and_hold_all_ink(mnist_test, seed):
    x_test, y_test = mnist_test
    image, boxes, labels = make_canvas(
        x_test, y_test, n_digits=4, size=96, seed=seed, scale=(0.6, 2.0)
    )
    assert image.shape == (96, 96) and image.dtype == np.uint8 and boxes.shape == (4, 4)
    covered = np.zeros(image.shape, bool)
    for x0, y0, x1, y1 in boxes:
        crop = image[y0:y1, x0:x1]
        assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()  # tight
        covered[y0:y1, x0:x1] = True
        assert 8 <= y1 - y0 <= 44  # MNIST ink is at most 20 pixels tall, scaled by 0.6 to 2.0
    assert not image[~covered].any()  # no ink outside the boxes
    overlaps = pairwise_iou(boxes, boxes)
    assert np.allclose(overlaps[~np.eye(4, dtype=bool)], 0)  # no two digits share a pixel
    assert set(labels.tolist()) <= set(range(10))


def test_scaled_canvas_sizes_follow_the_scale(mnist_test):
    x_test, y_test = mnist_test
    small = make_canvases(x_test, y_test, 20, n_digits=3, scale=(0.6, 0.6))
    large = make_canvases(x_test, y_test, 20, n_digits=2, scale=(2.0, 2.0))
    tall_small = np.concatenate([c.boxes[:, 3] - c.boxes[:, 1] for c in small])
    tall_large = np.concatenate([c.boxes[:, 3] - c.boxes[:, 1] for c in large])
    assert tall_small.max() <= 14 and tall_large.min() >= 30  # 20-pixel-tall ink: 12 and 40 pixels


def test_scaled_canvas_is_seeded(mnist_test):
    x_test, y_test = mnist_test
    a = make_canvas(x_test, y_test, seed=5, scale=(0.6, 2.0))
    b = make_canvas(x_test, y_test, seed=5, scale=(0.6, 2.0))
    c = make_canvas(x_test, y_test, seed=6, scale=(0.6, 2.0))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.image, c.image)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_digits=2.5), "n_digits must be a whole number"),
        (dict(n_digits=-1), "n_digits must be at least 0"),
        (dict(n_digits="4"), "n_digits must be a whole number"),
        (dict(size=10**9), "size must be at most"),
        (dict(size=96.5), "size must be a whole number"),
        (dict(scale=(0, 1)), "0 < low <= high"),
        (dict(scale=(2, 1)), "0 < low <= high"),
        (dict(scale=1.5), "scale must be two numbers"),
        (dict(scale=(0.5, float("nan"))), "0 < low <= high"),
        (dict(n_digits=8, scale=(2.0, 2.0)), "could not place 8 digits"),
    ],
)
def test_canvas_arguments_are_checked(mnist_test, kwargs, message):
    x_test, y_test = mnist_test
    with pytest.raises(ValueError, match=message):
        make_canvas(x_test, y_test, **kwargs)


def test_make_canvases_rejects_a_bad_count(mnist_test):
    x_test, y_test = mnist_test
    with pytest.raises(ValueError, match="n must be at least 0"):
        make_canvases(x_test, y_test, -1)
    with pytest.raises(ValueError, match="n must be a whole number"):
        make_canvases(x_test, y_test, 2.5)
    assert make_canvases(x_test, y_test, 0) == []
