"""cnnteach.boxes: anchors, box offsets, anchor assignment and per-class NMS, hand-worked."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnteach import boxes
from cnnteach.boxes import (
    BACKGROUND,
    IGNORE,
    assign_anchors,
    batched_nms,
    decode_boxes,
    encode_boxes,
    make_anchors,
    non_max_suppression,
    pairwise_iou,
)


def test_boxes_and_scoring_import_without_tensorflow_and_scoring_loads_lazily():
    code = (
        "import sys\n"
        "import cnnteach.boxes\n"
        "lazy = [m for m in ('cnnteach.scoring', 'cnnteach.coco') if m in sys.modules]\n"
        "assert not lazy, lazy\n"
        "import cnnteach.coco, cnnteach.scoring\n"
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_scoring_names_still_reachable_from_boxes():
    from cnnteach import coco, scoring
    from cnnteach.boxes import coco_evaluate, mean_average_precision

    assert boxes.average_precision is scoring.average_precision
    assert boxes.precision_recall_curve is scoring.precision_recall_curve
    assert mean_average_precision is scoring.mean_average_precision
    assert coco_evaluate is coco.coco_evaluate
    from cnnteach.boxes import _matches  # detect.py imports it from here

    assert _matches is scoring._matches
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        boxes.nothing  # noqa: B018


# ----------------------------------------------------------------------------- anchors
def test_anchor_count_order_and_centres_hand_worked():
    anchors = make_anchors((2, 3), stride=10, sizes=[4, 8], ratios=[1, 4, 0.25])
    assert anchors.shape == (2 * 3 * 2 * 3, 4)
    per_cell = anchors.reshape(2, 3, 2, 3, 4)  # rows, cols, sizes, ratios
    centres = (per_cell[..., :2] + per_cell[..., 2:]) / 2
    # (row, col) = (1, 2) is centred at ((2 + 0.5) * 10, (1 + 0.5) * 10) = (25, 15)
    assert np.all(centres[1, 2] == [25, 15])
    assert np.all(centres[0, 0] == [5, 5])
    # anchor index 6 is row 0, column 1, first size, first ratio: centre (15, 5), 4 x 4
    assert anchors[6].tolist() == [13, 3, 17, 7]
    # size 8, ratio 4 (= width / height): width 8 * 2 = 16, height 8 / 2 = 4
    assert per_cell[0, 0, 1, 1].tolist() == [5 - 8, 5 - 2, 5 + 8, 5 + 2]
    # ratio 0.25: tall, width 8 / 2 = 4, height 16
    assert per_cell[0, 0, 1, 2].tolist() == [3, -3, 7, 13]
    widths = anchors[:, 2] - anchors[:, 0]
    heights = anchors[:, 3] - anchors[:, 1]
    assert np.allclose(widths * heights, np.tile(np.repeat([16, 64], 3), 6))
    assert np.allclose(widths / heights, np.tile([1, 4, 0.25], 12))


def test_anchor_order_is_row_by_row():
    anchors = make_anchors((2, 2), stride=4, sizes=[2], ratios=[1])
    assert anchors.tolist() == [[1, 1, 3, 3], [5, 1, 7, 3], [1, 5, 3, 7], [5, 5, 7, 7]]
    # a scalar size and ratio are accepted as one value each
    assert make_anchors((1, 1), 8, 6, 1).tolist() == [[1, 1, 7, 7]]
    assert make_anchors(np.array([12, 12]), 8, [13, 22, 36], [0.35, 0.7, 1.0]).shape == (1296, 4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"feature_shape": (0, 3)}, "feature_shape"),
        ({"feature_shape": (2.5, 3)}, "feature_shape"),
        ({"feature_shape": (3,)}, "feature_shape"),
        ({"feature_shape": "3x3"}, "feature_shape"),
        ({"stride": 0}, "stride"),
        ({"stride": [8, 16]}, "stride"),
        ({"sizes": []}, "sizes"),
        ({"sizes": [8, -1]}, "sizes"),
        ({"sizes": [np.nan]}, "sizes"),
        ({"ratios": [0]}, "ratios"),
        ({"ratios": "wide"}, "ratios"),
    ],
)
def test_make_anchors_rejects_bad_arguments(kwargs, message):
    args = {"feature_shape": (3, 3), "stride": 8, "sizes": [8], "ratios": [1]} | kwargs
    with pytest.raises(ValueError, match=message):
        make_anchors(**args)


# ----------------------------------------------------------------------------- offsets
def test_anchor_equal_to_its_box_encodes_to_zeros():
    anchors = make_anchors((3, 3), 8, [6, 12], [0.5, 2])
    assert np.array_equal(encode_boxes(anchors, anchors), np.zeros_like(anchors))
    assert encode_boxes([2, 3, 7, 11], [2, 3, 7, 11]).tolist() == [0, 0, 0, 0]


def test_encode_hand_worked():
    # anchor: centre (5, 5), 10 x 10; box: centre (12, 3), 20 x 5
    deltas = encode_boxes([[0, 0, 10, 10]], [[2, 0.5, 22, 5.5]])
    assert deltas.shape == (1, 4)
    assert deltas[0] == pytest.approx([0.7, -0.2, math.log(2), math.log(0.5)])
    scaled = encode_boxes([[0, 0, 10, 10]], [[2, 0.5, 22, 5.5]], variances=(0.1, 0.1, 0.2, 0.2))
    assert scaled[0] == pytest.approx([7, -2, math.log(2) / 0.2, math.log(0.5) / 0.2])
    assert decode_boxes([[0, 0, 10, 10]], scaled, variances=(0.1, 0.1, 0.2, 0.2))[0] == (
        pytest.approx([2, 0.5, 22, 5.5])
    )


def test_decode_hand_worked():
    box = decode_boxes([10, 20, 14, 28], [0.5, -0.25, math.log(3), 0])
    # anchor centre (12, 24), 4 x 8: centre moves to (14, 22), width 12, height 8
    assert box == pytest.approx([8, 18, 20, 26])


finite = {"allow_nan": False, "allow_infinity": False}


@st.composite
def anchor_box_pairs(draw):
    n = draw(st.integers(1, 6))
    corner = st.floats(-200, 200, **finite)
    side = st.floats(0.5, 300, **finite)
    rows = [[draw(corner), draw(corner), draw(side), draw(side)] for _ in range(2 * n)]
    array = np.array(rows)
    array[:, 2:] += array[:, :2]
    return array[:n], array[n:]


@settings(derandomize=True, max_examples=150, deadline=None)
@given(anchor_box_pairs())
def test_decode_inverts_encode(pair):
    anchors, truth = pair
    back = decode_boxes(anchors, encode_boxes(anchors, truth))
    assert np.allclose(back, truth, rtol=1e-9, atol=1e-9)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(anchor_box_pairs(), st.lists(st.floats(-3, 3, **finite), min_size=4, max_size=4))
def test_encode_inverts_decode(pair, offsets):
    anchors, _ = pair
    deltas = np.tile(offsets, (len(anchors), 1))
    assert np.allclose(encode_boxes(anchors, decode_boxes(anchors, deltas)), deltas, atol=1e-9)


@pytest.mark.parametrize(
    "anchors, truth, message",
    [
        ([[0, 0, 0, 10]], [[0, 0, 5, 5]], r"anchors\[0\] = \(0.0, 0.0, 0.0, 10.0\) has zero width"),
        ([[0, 0, 10, 10]], [[0, 3, 5, 3]], r"boxes\[0\] .* has zero width or height"),
        ([[0, 0, 10, 10]], [[5, 0, 1, 5]], r"boxes\[0\] .* is not a box"),
        ([[0, 0, 10, np.nan]], [[0, 0, 5, 5]], "NaN"),
        ([[0, 0, 10, 10]], [[0, 0, 5, 5], [0, 0, 4, 4]], "one box per anchor"),
        ([[0, 0, 10]], [[0, 0, 5, 5]], r"shape \(N, 4\)"),
        ([[0, 0, 10, 10], [0, 0, 10]], [[0, 0, 5, 5]], r"anchors must be numbers shaped \(N, 4\)"),
    ],
)
def test_encode_rejects_degenerate_and_malformed_boxes(anchors, truth, message):
    with pytest.raises(ValueError, match=message):
        encode_boxes(anchors, truth)


def test_decode_rejects_bad_offsets():
    with pytest.raises(ValueError, match="one row"):
        decode_boxes([[0, 0, 10, 10]], [[0, 0, 0, 0], [0, 0, 0, 0]])
    with pytest.raises(ValueError, match="finite"):
        decode_boxes([[0, 0, 10, 10]], [[0, np.nan, 0, 0]])
    with pytest.raises(ValueError, match="infinitely large"):
        decode_boxes([[0, 0, 10, 10]], [[0, 0, 800, 0]])
    with pytest.raises(ValueError, match="zero width"):
        decode_boxes([[0, 0, 10, 0]], [[0, 0, 0, 0]])
    with pytest.raises(ValueError, match="variances"):
        decode_boxes([[0, 0, 10, 10]], [[0, 0, 0, 0]], variances=(0.1, 0.2))


# ----------------------------------------------------------------------------- assignment
ANCHORS = [[0, 0, 10, 10], [5, 0, 15, 10], [20, 0, 30, 10], [40, 0, 50, 10]]


def test_assign_hand_worked_with_a_weak_box_and_the_ignore_band():
    truth = [[1, 0, 11, 10], [19, 0, 25, 10]]
    # IoU table: anchor 0 / box 0 = 90 / 110 = 0.82; anchor 1 / box 0 = 60 / 140 = 0.43;
    # anchor 2 / box 1 = 50 / 110 = 0.45 (box 1's best anchor, below 0.5); anchor 3: 0.
    assert pairwise_iou(ANCHORS, truth).round(2).tolist() == [
        [0.82, 0.0],
        [0.43, 0.0],
        [0.0, 0.45],
        [0.0, 0.0],
    ]
    classes, matched = assign_anchors(ANCHORS, truth, [7, 3])
    assert classes.tolist() == [7, IGNORE, 3, BACKGROUND]
    assert matched.tolist() == [0, -1, 1, -1]
    assert classes.dtype == np.int64 and matched.dtype == np.int64
    # with the ignore band below 0.43, anchor 1 becomes background
    classes, _ = assign_anchors(ANCHORS, truth, [7, 3], negative_iou=0.4, positive_iou=0.42)
    assert classes.tolist() == [7, 7, 3, BACKGROUND]
    # SSD's single threshold: no anchor ignored
    classes, _ = assign_anchors(ANCHORS, truth, [7, 3], positive_iou=0.5, negative_iou=0.5)
    assert classes.tolist() == [7, BACKGROUND, 3, BACKGROUND]
    # Faster R-CNN's RPN: 0.7 / 0.3, one class ("object")
    classes, matched = assign_anchors(
        ANCHORS, truth, [0, 0], positive_iou=0.7, negative_iou=0.3, background=1
    )
    assert classes.tolist() == [0, IGNORE, 0, 1] and matched.tolist() == [0, -1, 1, -1]


def test_assign_two_boxes_with_the_same_best_anchor():
    anchors = [[0, 0, 10, 10], [10, 0, 20, 10], [40, 0, 50, 10]]
    truth = [[2, 0, 10, 10], [0, 0, 7, 10]]
    # anchor 0 is the best anchor of both boxes: IoU 80 / 100 = 0.8 and 70 / 100 = 0.7; box 0
    # (higher IoU) keeps it. Anchor 1 only touches the boxes (IoU 0), so box 1 gets no anchor
    # of its own, but its best anchor is positive.
    assert pairwise_iou(anchors, truth).round(3).tolist() == [[0.8, 0.7], [0, 0], [0, 0]]
    classes, matched = assign_anchors(anchors, truth, [1, 2])
    assert matched.tolist() == [0, -1, -1] and classes.tolist() == [1, BACKGROUND, BACKGROUND]
    # Shift anchor 1 to x = 1: IoU 80 / 100 = 0.8 with box 0 (a tie with anchor 0, which wins
    # as the lower index) and 60 / 110 = 0.545 with box 1, which then claims it even though
    # anchor 1 overlaps box 0 more.
    anchors[1] = [1, 0, 11, 10]
    assert pairwise_iou(anchors, truth)[1].tolist() == pytest.approx([0.8, 60 / 110])
    classes, matched = assign_anchors(anchors, truth, [1, 2])
    assert matched.tolist() == [0, 1, -1] and classes.tolist() == [1, 2, BACKGROUND]


def test_assign_thresholds_are_inclusive_below_and_strict_above():
    # against the box [0, 0, 10, 10]: IoU 1 (its best anchor), exactly 0.5, 0.4 and 0.3
    anchors = [[0, 0, 10, 10], [0, 0, 10, 5], [0, 0, 10, 4], [0, 0, 10, 3]]
    assert pairwise_iou(anchors, [[0, 0, 10, 10]])[:, 0].tolist() == pytest.approx(
        [1, 0.5, 0.4, 0.3]
    )
    classes, _ = assign_anchors(anchors, [[0, 0, 10, 10]], [6])
    assert classes.tolist() == [6, 6, IGNORE, BACKGROUND]  # >= 0.5 positive, >= 0.4 ignored
    classes, _ = assign_anchors(anchors, [[0, 0, 10, 10]], [6], positive_iou=0.7, negative_iou=0.3)
    assert classes.tolist() == [6, IGNORE, IGNORE, IGNORE]  # below 0.3 is background


def test_assign_without_true_boxes_is_all_background():
    classes, matched = assign_anchors(ANCHORS, np.zeros((0, 4)), [])
    assert classes.tolist() == [BACKGROUND] * 4 and matched.tolist() == [-1] * 4
    classes, _ = assign_anchors(ANCHORS, [], [], background=0)
    assert classes.tolist() == [0] * 4


def test_assign_every_true_box_has_an_anchor_on_a_real_grid():
    anchors = make_anchors((12, 12), 8, [13, 22, 36], [0.35, 0.7, 1.0])
    rng = np.random.default_rng(3)
    for _ in range(20):
        corner = rng.uniform(0, 70, size=(5, 2))
        truth = np.concatenate([corner, corner + rng.uniform(9, 42, size=(5, 2))], axis=1)
        classes, matched = assign_anchors(anchors, truth, rng.integers(0, 10, 5))
        assert set(matched[matched >= 0].tolist()) == set(range(5))
        best_anchor = np.argmax(pairwise_iou(anchors, truth), axis=0)
        assert np.all(matched[best_anchor] >= 0)  # every box's best anchor is positive
        assert np.all((classes >= 0) == (matched >= 0) | (classes == BACKGROUND))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"true_labels": [10, 3]}, ValueError, "contain 10, the value that means background"),
        ({"true_labels": [-1, 3]}, ValueError, "'ignore'"),
        ({"true_labels": [1.5, 3]}, ValueError, "whole numbers"),
        ({"true_labels": [1]}, ValueError, "one label per box"),
        ({"negative_iou": 0.6}, ValueError, "negative_iou"),
        ({"positive_iou": 1.5}, ValueError, r"positive_iou must lie in \[0, 1\]"),
        ({"background": -1}, ValueError, "background cannot be -1"),
        ({"background": 2.0}, TypeError, "background must be a whole number"),
        ({"true_boxes": [[1, 0, 1, 10], [19, 0, 25, 10]]}, ValueError, "zero width"),
    ],
)
def test_assign_rejects_bad_input(kwargs, error, message):
    args = {"true_boxes": [[1, 0, 11, 10], [19, 0, 25, 10]], "true_labels": [7, 3]} | kwargs
    with pytest.raises(error, match=message):
        assign_anchors(ANCHORS, args.pop("true_boxes"), args.pop("true_labels"), **args)


# ----------------------------------------------------------------------------- nms
def test_nms_chain_keeps_both_ends():
    chain = [[0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10]]  # IoU 0-1 and 1-2: 0.43, 0-2: 0.11
    assert non_max_suppression(chain, [0.9, 0.8, 0.7], iou_threshold=0.3).tolist() == [0, 2]
    assert batched_nms(chain, [0.9, 0.8, 0.7], [1, 1, 1], iou_threshold=0.3).tolist() == [0, 2]
    # the middle box first: it suppresses both ends
    assert non_max_suppression(chain, [0.8, 0.9, 0.7], iou_threshold=0.3).tolist() == [1]


def test_batched_nms_keeps_overlapping_boxes_of_other_classes():
    same = [[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [30, 0, 40, 10]]
    assert batched_nms(same, [0.6, 0.9, 0.7, 0.8], [3, 3, 5, 3]).tolist() == [1, 3, 2]
    assert non_max_suppression(same, [0.6, 0.9, 0.7, 0.8]).tolist() == [1, 3]
    # equal scores: earlier index first
    assert batched_nms(same, [0.5] * 4, [1, 2, 3, 4]).tolist() == [0, 1, 2, 3]
    assert batched_nms(np.zeros((0, 4)), [], []).tolist() == []


def test_batched_nms_agrees_with_nms_per_class():
    rng = np.random.default_rng(0)
    for _ in range(30):
        corners = rng.integers(0, 30, size=(25, 2))
        found = np.concatenate([corners, corners + rng.integers(1, 15, size=(25, 2))], axis=1)
        scores = rng.random(25).round(2)  # rounding makes ties
        labels = rng.integers(0, 4, 25)
        threshold = float(rng.choice([0.1, 0.3, 0.5, 0.7]))
        kept = batched_nms(found, scores, labels, threshold)
        expected = []
        for c in np.unique(labels):
            members = np.flatnonzero(labels == c)
            kept_here = non_max_suppression(found[members], scores[members], threshold)
            expected += members[kept_here].tolist()
        assert sorted(kept.tolist()) == sorted(expected)
        assert np.all(np.diff(scores[kept]) <= 0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nms_rejects_nan_and_infinite_scores(bad):
    found = [[0, 0, 10, 10], [1, 1, 11, 11]]
    with pytest.raises(ValueError, match=r"scores\[1\] is .*: every score must be a finite"):
        non_max_suppression(found, [0.9, bad])
    with pytest.raises(ValueError, match=r"scores\[1\] is"):
        batched_nms(found, [0.9, bad], [0, 0])


def test_batched_nms_rejects_bad_labels():
    with pytest.raises(ValueError, match="one score per box"):
        batched_nms([[0, 0, 1, 1]], [0.5], [1, 2])
    with pytest.raises(ValueError, match="labels"):
        batched_nms([[0, 0, 1, 1]], [0.5], [np.nan])
    with pytest.raises(ValueError, match="iou_threshold"):
        batched_nms([[0, 0, 1, 1]], [0.5], [1], iou_threshold=-0.1)
