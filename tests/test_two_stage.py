"""cnnteach.two_stage: proposals, RoI pooling and RoIAlign against references, sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnteach.boxes import decode_boxes, pairwise_iou
from cnnteach.canvases import Canvas, make_canvases
from cnnteach.detect import Detections
from cnnteach.one_stage import CANVAS
from cnnteach.rcnn import crop_proposals, ink_proposals, proposal_recall
from cnnteach.two_stage import (
    BOX_VARIANCES,
    propose,
    roi_align,
    roi_align_layer,
    roi_max_pool,
    roi_targets,
    rpn_targets,
    sample_rois,
)


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    from cnnteach.data import load_mnist

    return load_mnist(mnist_dir)


@pytest.fixture(scope="module")
def canvases(mnist):
    _, (x_test, y_test) = mnist
    return make_canvases(x_test, y_test, 10, first_seed=500, **CANVAS)


def random_rois(rng, n, size=96):
    corners = rng.uniform(-6, size + 6, (n, 2))
    sides = rng.uniform(0.5, 60, (n, 2))
    return np.concatenate([corners, corners + sides], axis=1)


# ----------------------------------------------------------------------------- RoI max pooling
def roi_pool_loop(features, rois, stride, output_size):
    """Fast R-CNN's Caffe ROIPoolingLayer, transcribed one bin at a time."""
    h, w, c = features.shape
    out = np.zeros((len(rois), output_size, output_size, c))
    for r, (x0, y0, x1, y1) in enumerate(rois):
        start_w, start_h = math.floor(x0 / stride + 0.5), math.floor(y0 / stride + 0.5)
        end_w, end_h = math.floor((x1 - 1) / stride + 0.5), math.floor((y1 - 1) / stride + 0.5)
        roi_w, roi_h = max(end_w - start_w + 1, 1), max(end_h - start_h + 1, 1)
        bin_w, bin_h = roi_w / output_size, roi_h / output_size
        for ph in range(output_size):
            for pw in range(output_size):
                hstart = min(max(math.floor(ph * bin_h) + start_h, 0), h)
                hend = min(max(math.ceil((ph + 1) * bin_h) + start_h, 0), h)
                wstart = min(max(math.floor(pw * bin_w) + start_w, 0), w)
                wend = min(max(math.ceil((pw + 1) * bin_w) + start_w, 0), w)
                if hend <= hstart or wend <= wstart:
                    continue  # an empty bin stays 0
                for ch in range(c):
                    best = -np.inf
                    for y in range(hstart, hend):
                        for x in range(wstart, wend):
                            best = max(best, features[y, x, ch])
                    out[r, ph, pw, ch] = best
    return out


@pytest.mark.parametrize("stride,output_size", [(4, 7), (4, 2), (8, 3), (1, 5)])
def test_roi_max_pool_matches_the_loop(stride, output_size):
    rng = np.random.default_rng(stride * 10 + output_size)
    features = rng.normal(size=(24, 24, 3))
    rois = random_rois(rng, 40)
    expected = roi_pool_loop(features, rois, stride, output_size)
    got = roi_max_pool(features, rois, stride=stride, output_size=output_size)
    np.testing.assert_array_equal(got, expected)


def test_roi_max_pool_snaps_to_cells():
    # two RoIs that differ by less than half a cell are pooled from the same cells
    features = np.random.default_rng(0).normal(size=(24, 24, 2))
    a = roi_max_pool(features, [[12, 12, 52, 52]])
    b = roi_max_pool(features, [[13, 11, 51, 53]])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(
        roi_align(features, [[12, 12, 52, 52]]), roi_align(features, [[13, 11, 51, 53]])
    )


def test_roi_max_pool_rejects_bad_shapes():
    with pytest.raises(ValueError, match="rois must have shape"):
        roi_max_pool(np.zeros((4, 4, 1)), [0, 0, 4, 4])
    with pytest.raises(ValueError, match="one feature map"):
        roi_max_pool(np.zeros((1, 4, 4, 1)), [[0, 0, 4, 4]])


# ----------------------------------------------------------------------------- RoIAlign
def bilinear_point(features, y, x):
    """One bilinear sample, zero outside [0, H-1] x [0, W-1], written out by hand."""
    h, w, _ = features.shape
    if y < 0 or y > h - 1 or x < 0 or x > w - 1:
        return np.zeros(features.shape[2])
    y0, x0 = int(math.floor(y)), int(math.floor(x))
    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
    dy, dx = y - y0, x - x0
    return (
        (1 - dy) * (1 - dx) * features[y0, x0]
        + (1 - dy) * dx * features[y0, x1]
        + dy * (1 - dx) * features[y1, x0]
        + dy * dx * features[y1, x1]
    )


def roi_align_loop(features, rois, stride, output_size, sampling):
    out = np.zeros((len(rois), output_size, output_size, features.shape[2]))
    for r, (x0, y0, x1, y1) in enumerate(rois):
        bin_w, bin_h = (x1 - x0) / stride / output_size, (y1 - y0) / stride / output_size
        for i in range(output_size):
            for j in range(output_size):
                total = 0.0
                for a in range(sampling):
                    for b in range(sampling):
                        y = y0 / stride - 0.5 + (i + (a + 0.5) / sampling) * bin_h
                        x = x0 / stride - 0.5 + (j + (b + 0.5) / sampling) * bin_w
                        total = total + bilinear_point(features, y, x)
                out[r, i, j] = total / sampling**2
    return out


@pytest.mark.parametrize("output_size,sampling", [(7, 2), (3, 1), (2, 3)])
def test_roi_align_matches_the_loop(output_size, sampling):
    rng = np.random.default_rng(output_size + sampling)
    features = rng.normal(size=(24, 24, 3))
    rois = random_rois(rng, 25)
    expected = roi_align_loop(features, rois, 4, output_size, sampling)
    np.testing.assert_allclose(
        roi_align(features, rois, output_size=output_size, sampling=sampling), expected, atol=1e-12
    )


def test_roi_align_of_a_linear_map_is_exact():
    # bilinear sampling reproduces a linear map: a bin average is its value at the bin centre
    yy, xx = np.mgrid[0:24, 0:24].astype(float)
    features = (2 * yy + 3 * xx)[..., None]
    pooled = roi_align(features, [[16, 20, 72, 48]], output_size=7, sampling=2)[0, ..., 0]
    centres_x = (16 + (np.arange(7) + 0.5) * 8) / 4 - 0.5
    centres_y = (20 + (np.arange(7) + 0.5) * 4) / 4 - 0.5
    np.testing.assert_allclose(pooled, 2 * centres_y[:, None] + 3 * centres_x[None, :], atol=1e-12)


@pytest.mark.parametrize("output_size,sampling,stride", [(7, 2, 4), (4, 1, 8), (3, 3, 2)])
def test_keras_roi_align_matches_numpy(output_size, sampling, stride):
    rng = np.random.default_rng(7 * output_size + sampling)
    features = rng.normal(size=(3, 12, 16, 5)).astype(
        "float32"
    )  # not square: rows and columns kept apart
    rois = np.stack([random_rois(rng, 6, size=12 * stride) for _ in range(3)]).astype("float32")
    layer = roi_align_layer(stride=stride, output_size=output_size, sampling=sampling)
    got = np.asarray(layer([features, rois]))
    assert got.shape == (3, 6, output_size, output_size, 5)
    for b in range(3):
        expected = roi_align(
            features[b], rois[b], stride=stride, output_size=output_size, sampling=sampling
        )
        np.testing.assert_allclose(got[b], expected, atol=1e-5)


def test_keras_roi_align_is_crop_and_resize_at_the_bin_centres():
    import tensorflow as tf

    rng = np.random.default_rng(3)
    features = rng.normal(size=(1, 24, 24, 4)).astype("float32")
    x0, y0, x1, y1 = 20.0, 12.0, 76.0, 68.0  # 14 x 14 cells at stride 4: one sample per cell centre
    # x from pixel 20 to 76 is feature cells 5 to 18 at stride 4, one sample per cell centre
    layer = roi_align_layer(output_size=7, sampling=2)
    pooled = np.asarray(layer([features, np.array([[[x0, y0, x1, y1]]], "float32")]))[0, 0]
    first, last = (x0 / 4 - 0.5 + 0.5) / 23, (x1 / 4 - 0.5 - 0.5) / 23
    first_y, last_y = (y0 / 4 - 0.5 + 0.5) / 23, (y1 / 4 - 0.5 - 0.5) / 23
    crops = tf.image.crop_and_resize(
        features, [[first_y, first, last_y, last]], [0], (14, 14)
    ).numpy()[0]
    np.testing.assert_allclose(
        crops, features[0, 3:17, 5:19], atol=1e-5
    )  # whole cells: exact reads
    np.testing.assert_allclose(pooled, crops.reshape(7, 2, 7, 2, 4).mean(axis=(1, 3)), atol=1e-5)


# ----------------------------------------------------------------------------- proposals
def test_ink_proposals_recall_on_real_canvases(canvases):
    proposals = [ink_proposals(c.image) for c in canvases]
    assert proposal_recall(proposals, canvases) >= 0.95
    assert all(len(p) < 60 for p in proposals)  # a handful, not selective search's 2,000


def test_ink_proposals_join_a_broken_digit():
    image = np.zeros((40, 40), np.uint8)
    image[5:12, 5:15] = 255
    image[13:20, 5:15] = 255  # one empty row between the two halves
    proposals = ink_proposals(image).tolist()
    assert [5.0, 5.0, 15.0, 20.0] in proposals  # the dilated blob holds both halves
    assert [5.0, 5.0, 15.0, 12.0] in proposals and [5.0, 13.0, 15.0, 20.0] in proposals


def test_proposal_recall_counts_each_true_box():
    canvas = Canvas(
        np.zeros((32, 32), np.uint8), np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([1, 2])
    )
    assert proposal_recall([np.array([[0, 0, 10, 10], [1, 1, 10, 10]])], [canvas]) == 0.5
    assert proposal_recall([np.zeros((0, 4))], [canvas]) == 0.0
    with pytest.raises(ValueError, match="one array per canvas"):
        proposal_recall([], [canvas])


def test_crop_proposals_centres_the_digit_like_mnist():
    image = np.zeros((96, 96), np.uint8)
    image[30:70, 40:60] = 200  # 20 wide, 40 tall
    crop = crop_proposals(image, [[40, 30, 60, 70]])[0]
    ink = np.argwhere(crop > 100)
    assert (
        ink[:, 0].min() == 4 and ink[:, 0].max() == 23
    )  # 20 of 28 rows, centred, like an MNIST digit
    assert 8 <= ink[:, 1].min() and ink[:, 1].max() <= 19


def test_propose_keeps_the_best_after_nms():
    anchors = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [40, 40, 50, 50], [80, 80, 90, 90]], float)
    out = np.zeros((4, 6))
    out[:, 0] = [3.0, 2.0, 1.0, -5.0]  # object logits; background logits 0
    boxes, scores = propose(out, anchors, top_k=2)
    assert boxes.tolist() == [
        [0, 0, 10, 10],
        [40, 40, 50, 50],
    ]  # anchor 1 overlaps anchor 0 by 0.82
    assert np.all(np.diff(scores) < 0)
    with pytest.raises(ValueError, match="one row per anchor"):
        propose(out[:3], anchors)


# ----------------------------------------------------------------------------- sampling and targets
def test_sample_rois_fractions_and_iou_bands():
    rng = np.random.default_rng(0)
    boxes = np.array([[10, 10, 30, 40], [50, 50, 80, 90], [5, 60, 20, 75], [60, 5, 90, 30]], float)
    for _ in range(20):
        rois, matched = sample_rois(boxes, rng, count=32)
        best = pairwise_iou(rois, boxes).max(axis=1)
        positive = matched >= 0
        assert positive.sum() == 8  # a quarter
        assert np.all(best[positive] >= 0.5)
        assert np.all((best[~positive] >= 0.1) & (best[~positive] < 0.5))
        np.testing.assert_allclose(
            pairwise_iou(rois[positive], boxes)[np.arange(8), matched[positive]], best[positive]
        )


def test_sample_rois_without_digits_is_all_background():
    rois, matched = sample_rois(np.zeros((0, 4)), np.random.default_rng(1), count=16)
    assert rois.shape == (16, 4) and np.all(matched == -1)
    with pytest.raises(ValueError, match="positive_fraction"):
        sample_rois(np.zeros((0, 4)), np.random.default_rng(1), positive_fraction=1.5)


def test_roi_targets_decode_back_to_the_true_box():
    rng = np.random.default_rng(2)
    boxes = np.array([[10, 10, 30, 40], [50, 50, 80, 90]], float)
    rois, matched = sample_rois(boxes, rng, count=16)
    y = roi_targets(rois, matched, boxes, [3, 8])
    positive = matched >= 0
    assert set(y[positive, 4]) <= {3.0, 8.0} and np.all(y[~positive, 4] == 10)
    decoded = decode_boxes(rois[positive], y[positive, 5:], variances=BOX_VARIANCES)
    np.testing.assert_allclose(decoded, boxes[matched[positive]], atol=1e-4)


def test_rpn_targets_use_faster_rcnn_thresholds(canvases):
    from cnnteach.one_stage import ANCHORS

    anchors = ANCHORS.anchors((96, 96))
    y = rpn_targets(canvases[:3], anchors)
    for canvas, rows in zip(canvases[:3], y):
        best = pairwise_iou(anchors, canvas.boxes).max(axis=1)
        assert np.all(best[rows[:, 0] == 1] < 0.3)
        assert np.all(best[rows[:, 0] == -1] < 0.7) and np.all(best[rows[:, 0] == -1] >= 0.3)
        assert (rows[:, 0] == 0).sum() >= len(canvas.boxes)  # every digit has its anchor


def test_roi_loss_counts_the_true_class_box_only():
    from cnnteach.two_stage import roi_loss

    y_true = np.zeros((1, 1, 9), "float32")
    y_true[0, 0, 4] = 2  # digit 2, offsets 0
    y_pred = np.zeros((1, 1, 51), "float32")
    base = float(roi_loss()(y_true, y_pred))
    y_pred[0, 0, 11 + 4 * 5] = 3.0  # digit 5's box is wrong: no effect
    assert float(roi_loss()(y_true, y_pred)) == pytest.approx(base)
    y_pred[0, 0, 11 + 4 * 2] = 3.0  # digit 2's tx is 3 off: smooth L1 = 3 - 0.5
    assert float(roi_loss()(y_true, y_pred)) == pytest.approx(base + 2.5, rel=1e-5)


# ----------------------------------------------------------------------------- the network
def test_smoke_training_detect_and_reload(mnist, canvases, tmp_path):
    from cnnteach.storage import save_model
    from cnnteach.two_stage import detect
    from cnnteach.two_stage_training import load_two_stage, train_two_stage

    (x_train, y_train), _ = mnist
    model, info = train_two_stage(
        x_train[:2000], y_train[:2000], n_canvases=32, roi_steps=2, rpn_steps=2, head_steps=2
    )
    assert info["roi"]["steps"] == info["rpn"]["steps"] == info["head"]["steps"] == 2
    assert np.isfinite(info["roi"]["final_loss"]) and np.isfinite(info["rpn"]["final_loss"])
    found, proposals = detect(model, canvases[:2], return_proposals=True)
    assert len(found) == 2 and all(isinstance(f, Detections) for f in found)
    assert all(len(p) <= 50 for p in proposals)
    ink = detect(model, canvases[:2], proposals="ink")
    assert all(np.all((f.boxes >= 0) & (f.boxes <= 96)) for f in ink)
    path = save_model(model, tmp_path / "two_stage.keras")
    again = load_two_stage(path, train_if_missing=False)
    x = np.stack([c.image for c in canvases[:2]])[..., None] / 255.0
    rois = np.tile(np.array([[10, 10, 40, 50]], "float32"), (2, 1, 1))
    for a, b in zip(model.predict([x, rois], verbose=0), again.predict([x, rois], verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    with pytest.raises(FileNotFoundError, match="load_two_stage"):
        load_two_stage(tmp_path / "missing.keras", train_if_missing=False)
    with pytest.raises(ValueError, match="proposals must be"):
        detect(model, canvases[:2], proposals="selective-search")
