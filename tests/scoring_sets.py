"""Ground truth and detections for the scoring tests (test_scoring.py and test_coco.py)."""

from __future__ import annotations

import numpy as np

KEYS = ("true_boxes", "true_labels", "pred_boxes", "pred_labels", "pred_scores")


def one_image(truth, true_labels, found, pred_labels, scores):
    values = (truth, true_labels, found, pred_labels, scores)
    return {key: [np.asarray(v, dtype=float)] for key, v in zip(KEYS, values)}


def random_set(rng, n_classes=4, max_truth=8, max_extra=12, crowded=False, no_detections=False):
    """Random images: true boxes of every size, jittered copies and strays, tied scores."""
    out = {key: [] for key in KEYS}
    for image in range(int(rng.integers(1, 6))):
        n_truth = int(rng.integers(0, max_truth + 1))
        corner = rng.integers(0, 200, size=(n_truth, 2)) + rng.choice([0, 0.5], size=(n_truth, 2))
        side = rng.choice([4, 16, 31, 32, 33, 60, 95, 96, 97, 150], size=(n_truth, 2))
        side = side + rng.choice([0, 0, 0.25], size=(n_truth, 2))
        truth = np.concatenate([corner, corner + side], axis=1)
        true_labels = rng.integers(0, n_classes, n_truth)
        copied = rng.random(n_truth) < 0.8
        copies = truth[copied] + rng.integers(-5, 6, size=(copied.sum(), 4)) * rng.choice([1, 0.5])
        copy_labels = np.where(
            rng.random(copied.sum()) < 0.85, true_labels[copied], rng.integers(0, n_classes)
        )
        n_extra = int(rng.integers(0, max_extra + 1))
        if crowded and image == 0:
            n_extra = int(rng.integers(101, 140))
        corner = rng.integers(0, 200, size=(n_extra, 2))
        extra = np.concatenate([corner, corner + rng.integers(1, 120, size=(n_extra, 2))], axis=1)
        extra_labels = rng.integers(0, n_classes, n_extra)
        if crowded and image == 0:
            extra_labels[:] = 0  # over 100 detections of one class in one image
        found = np.concatenate([copies, extra])
        found[:, 2:] = np.maximum(found[:, 2:], found[:, :2] + 1)
        pred_labels = np.concatenate([copy_labels, extra_labels])
        scores = rng.integers(0, 8, len(found)) / 8  # ties
        if no_detections:
            found, pred_labels, scores = np.zeros((0, 4)), np.zeros(0), np.zeros(0)
        for key, value in zip(KEYS, (truth, true_labels, found, pred_labels, scores)):
            out[key].append(value)
    return out
