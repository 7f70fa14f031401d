"""cnnteach.one_stage: anchor targets, the mined loss, decoding and a smoke training."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cnnteach.boxes import BACKGROUND, IGNORE, decode_boxes, encode_boxes, pairwise_iou
from cnnteach.detect import Canvas, Detections, make_canvases
from cnnteach.one_stage import (
    ANCHORS,
    CANVAS,
    RECIPE,
    AnchorSpec,
    anchor_targets,
    decode,
    detection_loss,
    evaluate,
)


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    from cnnteach.data import load_mnist

    return load_mnist(mnist_dir)


@pytest.fixture(scope="module")
def canvases(mnist):
    _, (x_test, y_test) = mnist
    return make_canvases(x_test, y_test, 8, first_seed=50, **CANVAS)


# ----------------------------------------------------------------------------- anchors and targets
def test_lesson_anchors():
    anchors = ANCHORS.anchors((96, 96))
    assert ANCHORS.per_cell == 9 and anchors.shape == (12 * 12 * 9, 4)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    assert np.allclose(centres[:9], 4) and np.allclose(centres[9], [12, 4])  # cell (0, 1) next
    with pytest.raises(ValueError, match="multiples of the stride 8"):
        ANCHORS.anchors((100, 96))
    assert AnchorSpec(stride=16, sizes=(8,), ratios=(1,)).anchors((32, 32)).shape == (4, 4)


def test_targets_on_a_hand_made_canvas():
    anchors = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 0, 30, 10], [40, 0, 50, 10]], float)
    canvas = Canvas(
        np.zeros((64, 64), np.uint8), np.array([[1, 0, 11, 10], [19, 0, 25, 10]]), np.array([7, 3])
    )
    y = anchor_targets([canvas], anchors)
    assert y.shape == (1, 4, 5) and y.dtype == np.float32
    assert y[0, :, 0].tolist() == [7, IGNORE, 3, BACKGROUND]
    assert np.allclose(y[0, 0, 1:], encode_boxes(anchors[0], [1, 0, 11, 10]))
    assert np.allclose(y[0, 2, 1:], encode_boxes(anchors[2], [19, 0, 25, 10]))
    assert not y[0, [1, 3], 1:].any()  # offsets only for positives


def test_targets_of_real_canvases(canvases):
    anchors = ANCHORS.anchors((96, 96))
    y = anchor_targets(canvases, anchors)
    classes = y[..., 0]
    for canvas, row in zip(canvases, y):
        positive = (row[:, 0] >= 0) & (row[:, 0] < 10)
        assert set(row[positive, 0].astype(int).tolist()) == set(
            canvas.labels.tolist()
        )  # every digit has one
        decoded = decode_boxes(anchors[positive], row[positive, 1:])
        assert np.allclose(
            pairwise_iou(decoded, canvas.boxes).max(axis=1), 1
        )  # offsets lead to a true box
    assert ((classes >= 0) & (classes < 10)).sum(axis=1).min() >= 4
    with pytest.raises(TypeError, match="not a Canvas"):
        anchor_targets([canvases[0].image], anchors)


# ----------------------------------------------------------------------------- loss
def _reference_loss(y_true, y_pred, ratio=3, box_weight=2.0):
    """The loss written out in numpy, one image at a time, with a full sort."""
    total_pos, total = 0, 0.0
    for t, p in zip(y_true, y_pred):
        cls = t[:, 0].astype(int)
        logits = p[:, :11] - p[:, :11].max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        ce = -log_probs[np.arange(len(cls)), np.maximum(cls, 0)]
        positive, negative = (cls >= 0) & (cls < 10), cls == 10
        n_hard = min(ratio * positive.sum(), negative.sum())
        total += ce[positive].sum() + np.sort(ce[negative])[::-1][:n_hard].sum()
        d = np.abs(p[:, 11:] - t[:, 1:])
        total += box_weight * np.where(d < 1, 0.5 * d**2, d - 0.5).sum(axis=1)[positive].sum()
        total_pos += positive.sum()
    return total / max(total_pos, 1)


def test_loss_mines_three_negatives_per_positive():
    rng = np.random.default_rng(0)
    y_true = np.zeros((3, 40, 5), "float32")
    y_true[:, :, 0] = BACKGROUND
    y_true[0, :2, 0] = [4, 9]  # 2 positives: 6 hardest negatives count
    y_true[0, 2:5, 0] = IGNORE
    y_true[1, :, 0] = BACKGROUND  # no positive: no negative of this image counts
    y_true[2, :1, 0] = 0  # 1 positive: 3 negatives
    y_true[..., 1:] = rng.normal(size=(3, 40, 4))
    y_true[y_true[..., 0] >= 10, 1:] = 0
    y_true[y_true[..., 0] < 0, 1:] = 0
    y_pred = rng.normal(size=(3, 40, 15)).astype("float32") * 2
    got = float(detection_loss()(y_true, y_pred))
    assert got == pytest.approx(_reference_loss(y_true, y_pred), rel=1e-5)
    # mining really leaves the easy negatives out: making them easier changes nothing ...
    easier = y_pred.copy()
    ce_order = np.argsort(-(np.log(np.exp(y_pred[0, :, :11]).sum(1)) - y_pred[0, :, 10]))
    easy = [i for i in ce_order if y_true[0, i, 0] == BACKGROUND][6:]
    easier[0, easy, 10] += 5.0
    assert float(detection_loss()(y_true, easier)) == pytest.approx(got, rel=1e-5)
    # ... while a hard negative made harder raises the loss, and ignored anchors count nowhere
    harder = y_pred.copy()
    harder[0, easy[0], 10] -= 20.0
    assert float(detection_loss()(y_true, harder)) > got
    ignored = y_pred.copy()
    ignored[0, 2:5] += 100.0
    assert float(detection_loss()(y_true, ignored)) == pytest.approx(got, rel=1e-5)


def test_loss_of_a_perfect_prediction_is_near_zero_and_offsets_count_for_positives_only():
    y_true = np.zeros((1, 5, 5), "float32")
    y_true[0, :, 0] = [2, 10, 10, 10, 10]
    y_true[0, 0, 1:] = [0.1, -0.2, 0.3, 0.0]
    y_pred = np.zeros((1, 5, 15), "float32")
    y_pred[0, 0, 2] = 30.0
    y_pred[0, 1:, 10] = 30.0
    y_pred[0, 0, 11:] = y_true[0, 0, 1:]
    y_pred[0, 1:, 11:] = 7.0  # background offsets are never trained
    assert float(detection_loss()(y_true, y_pred)) < 1e-6
    y_pred[0, 0, 11] += 0.5  # 0.5 off in tx: smooth L1 0.5 * 0.25
    assert float(detection_loss()(y_true, y_pred)) == pytest.approx(2 * 0.125, abs=1e-5)
    assert float(detection_loss(box_weight=1.0)(y_true, y_pred)) == pytest.approx(0.125, abs=1e-5)


# ----------------------------------------------------------------------------- decoding
def _perfect_outputs(y):
    out = np.zeros(y.shape[:2] + (15,), "float32")
    cls = y[..., 0].astype(int)
    cls = np.where(cls < 0, BACKGROUND, cls)
    np.put_along_axis(out, cls[..., None], 20.0, axis=-1)
    out[..., 11:] = y[..., 1:]
    return out


def test_perfect_predictions_decode_to_the_true_boxes(canvases):
    anchors = ANCHORS.anchors((96, 96))
    found = decode(_perfect_outputs(anchor_targets(canvases, anchors)), anchors)
    assert len(found) == len(canvases)
    for canvas, det in zip(canvases, found):
        order = np.lexsort(det.boxes.T[::-1])
        truth = np.lexsort(canvas.boxes.T[::-1])
        assert np.allclose(det.boxes[order], canvas.boxes[truth], atol=1e-4)
        assert det.labels[order].tolist() == canvas.labels[truth].tolist()
        assert np.all(det.scores > 0.99)
    result = evaluate(canvases, found)
    assert result["map50"] == 1.0 and result["coco_map"] == pytest.approx(1.0, abs=1e-3)


def test_decode_keeps_two_digits_of_one_anchor_and_checks_shapes():
    anchors = np.array([[0, 0, 10, 10]], float)
    out = np.zeros((1, 15))
    out[0, 3] = out[0, 8] = 5.0  # hesitates between 3 and 8
    found = decode(out, anchors)
    assert sorted(found.labels.tolist()) == [3, 8]  # per-class NMS keeps both
    assert isinstance(found, Detections)
    with pytest.raises(ValueError, match=r"\(N, 1, 15\)"):
        decode(np.zeros((1, 14)), anchors)
    with pytest.raises(ValueError, match="score_threshold"):
        decode(out, anchors, score_threshold=2)


# ----------------------------------------------------------------------------- training
def test_recipe_is_a_step_budget():
    assert RECIPE.steps == 1000 and RECIPE.batch_size == 32 and RECIPE.objective is detection_loss
    assert "1000 steps" in repr(RECIPE)


def test_smoke_training_through_train(mnist):
    from cnnteach.one_stage import detect, make_training_canvases
    from cnnteach.training import train

    (x_train, y_train), _ = mnist
    x, y, train_canvases = make_training_canvases(x_train, y_train, 16)
    recipe = replace(RECIPE, steps=3, batch_size=8, steps_per_execution=1)
    run = train(recipe, x, y, validation_split=0.0, log=False)
    assert int(run.model.optimizer.iterations) == 3
    assert np.isfinite(run.history["loss"]).all()
    found = detect(run.model, train_canvases[:2])
    assert len(found) == 2 and all(d.boxes.shape[1] == 4 for d in found)
