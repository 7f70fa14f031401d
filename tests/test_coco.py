"""cnnteach.coco: COCO's twelve figures, hand-worked and against pycocotools."""

from __future__ import annotations

import numpy as np
import pytest
from scoring_sets import one_image, random_set  # tests/scoring_sets.py

from cnnteach.coco import COCO_KEYS, coco_evaluate, pycocotools_evaluate, to_coco


# ----------------------------------------------------------------------------- COCO
def _features(data):
    """Which of the cases the agreement test must cover does this set contain?"""
    area = [(t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1]) for t in data["true_boxes"]]
    area = np.concatenate(area)
    true_classes = {int(c) for labels in data["true_labels"] for c in labels}
    found_classes = {int(c) for labels in data["pred_labels"] for c in labels}
    per_class = [np.unique(labels, return_counts=True)[1] for labels in data["pred_labels"]]
    scores = np.concatenate(data["pred_scores"])
    return {
        "image without true boxes": any(len(t) == 0 for t in data["true_boxes"]),
        "class without detections": bool(true_classes - found_classes),
        "tied scores": len(np.unique(scores)) < len(scores),
        "over 100 detections of a class in an image": any(
            c.max() > 100 for c in per_class if c.size
        ),
        "small": bool(np.any(area < 32**2)),
        "exactly 32 x 32": bool(np.any(area == 32**2)),
        "medium": bool(np.any((area > 32**2) & (area < 96**2))),
        "large": bool(np.any(area > 96**2)),
        "no detections at all": len(scores) == 0,
        "no true boxes at all": len(area) == 0,
    }


def _agreement_sets():
    rng = np.random.default_rng(2024)
    sets = [random_set(rng) for _ in range(44)]
    sets += [random_set(rng, crowded=True) for _ in range(3)]
    sets += [random_set(rng, no_detections=True) for _ in range(3)]
    sets += [random_set(rng, n_classes=2, max_truth=2, max_extra=40) for _ in range(4)]
    sets.append(random_set(rng, max_truth=0))  # no true box anywhere: COCO says -1
    return sets


def _crafted_sets():
    """IoU exactly on thresholds (0.5, 0.55, 0.75, 0.95), boxes on the area boundaries."""
    truth = [[0, 0, 10, 10], [0, 20, 20, 30], [100, 0, 132, 32], [200, 0, 296, 96]]
    found = [[0, 0, 10, 5], [0, 20, 11, 30], [100, 0, 132, 24], [200, 0, 296, 91.2]]
    sets = [one_image(truth, [1, 1, 1, 1], found, [1, 1, 1, 1], [0.9, 0.8, 0.8, 0.7])]
    # two detections with equal score and equal IoU to two true boxes
    truth = [[0, 0, 10, 10], [10, 0, 20, 10]]
    found = [[5, 0, 15, 10], [5, 0, 15, 10], [0, 0, 10, 10]]
    sets.append(one_image(truth, [0, 0], found, [0, 0, 0], [0.5, 0.5, 0.5]))
    # a small true box (30 x 30) inside a medium one (34 x 34); the detection (33 x 33) overlaps
    # the small one by 0.83 and the medium one by 0.94: for map_small it must keep the counted
    # small box rather than move to the ignored medium one
    truth = [[0, 0, 30, 30], [0, 0, 34, 34]]
    sets.append(one_image(truth, [0, 0], [[0, 0, 33, 33]], [0], [0.9]))
    return sets


def test_coco_evaluate_agrees_with_pycocotools():
    sets = _agreement_sets() + _crafted_sets()
    assert len(sets) >= 50
    covered = {name for data in sets for name, present in _features(data).items() if present}
    assert covered == set(_features(sets[0]))  # every case listed in _features occurs
    worst = 0.0
    for data in sets:
        ours = coco_evaluate(**data)
        theirs = pycocotools_evaluate(**data)
        assert tuple(ours) == COCO_KEYS == tuple(theirs)
        worst = max(worst, max(abs(ours[k] - theirs[k]) for k in COCO_KEYS))
    assert worst <= 1e-6


def test_coco_hand_worked():
    # one small box found at IoU 90/110 = 0.82: a hit at the 7 thresholds 0.50-0.80
    data = one_image([[0, 0, 10, 10]], [7], [[1, 0, 11, 10]], [7], [0.9])
    stats = coco_evaluate(**data)
    assert stats["map"] == pytest.approx(0.7) and stats["mar_100"] == pytest.approx(0.7)
    assert stats["map_small"] == pytest.approx(0.7)
    assert stats["map_medium"] == stats["map_large"] == stats["mar_large"] == -1.0
    # nothing to find: -1 everywhere, as COCO gives
    empty = one_image(np.zeros((0, 4)), [], [[0, 0, 5, 5]], [1], [0.3])
    assert set(coco_evaluate(**empty).values()) == {-1.0}
    # a box of exactly 32 x 32 is both small and medium (COCO's bounds are inclusive)
    edge = one_image([[0, 0, 32, 32]], [0], [[0, 0, 32, 32]], [0], [0.9])
    stats = coco_evaluate(**edge)
    assert stats["map_small"] == pytest.approx(1.0) and stats["map_medium"] == pytest.approx(1.0)


def test_coco_max_dets_counts_per_image_and_class():
    # 12 wrong detections of class 0 score above the right one; class 1's detection is alone
    truth = [[0, 0, 10, 10], [50, 0, 60, 10]]
    strays = [[100 + 10 * k, 100, 105 + 10 * k, 105] for k in range(12)]
    found = [*strays, [0, 0, 10, 10], [50, 0, 60, 10]]
    labels = [0] * 13 + [1]
    scores = [0.9] * 12 + [0.5, 0.1]
    stats = coco_evaluate(**one_image(truth, [0, 1], found, labels, scores))
    # maxDets 10 drops class 0's true positive (13th); class 1's detection, first of its class,
    # survives even maxDets 1: recall 0 and 1 -> mean 0.5
    assert stats["mar_1"] == pytest.approx(0.5) and stats["mar_10"] == pytest.approx(0.5)
    assert stats["mar_100"] == pytest.approx(1.0)


def test_to_coco_builds_what_pycocotools_reads(capsys):
    data = one_image([[0, 0, 10, 20]], [3], [[1, 2, 4, 8]], [5], [0.25])
    gt, dt = to_coco(**data)
    (ann,) = gt.loadAnns(gt.getAnnIds())
    assert ann["bbox"] == [0, 0, 10, 20] and ann["area"] == 200 and ann["category_id"] == 3
    (det,) = dt.loadAnns(dt.getAnnIds())
    assert det["bbox"] == [1, 2, 3, 6] and det["score"] == 0.25 and det["category_id"] == 5
    assert sorted(gt.getCatIds()) == [3, 5]
    assert capsys.readouterr().out == ""  # pycocotools' progress lines are silenced
