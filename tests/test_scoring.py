"""cnnteach.scoring: pooled AP, PASCAL VOC mAP (hand-worked) and COCO's figures vs pycocotools."""

from __future__ import annotations

import numpy as np
import pytest

from cnnteach.scoring import (
    COCO_KEYS,
    average_precision,
    coco_evaluate,
    mean_average_precision,
    pycocotools_evaluate,
    to_coco,
)

KEYS = ("true_boxes", "true_labels", "pred_boxes", "pred_labels", "pred_scores")


def one_image(truth, true_labels, found, pred_labels, scores):
    values = (truth, true_labels, found, pred_labels, scores)
    return {key: [np.asarray(v, dtype=float)] for key, v in zip(KEYS, values)}


# ----------------------------------------------------------------------------- VOC mAP
def test_voc_takes_the_best_box_even_when_taken():
    # True boxes A = [0, 0, 10, 10] and B = [4, 0, 14, 10] of class 1.
    # Detection 1 (0.9) = A exactly: true positive, takes A.
    # Detection 2 (0.8) = [1, 0, 11, 10]: IoU 90/110 = 0.82 with A, 70/130 = 0.54 with B.
    #   VOC: its best box A is taken -> false positive. Precision 1, 1/2 at recall 1/2, 1/2:
    #   AP = 1/2 * 1 = 0.5.
    #   "Best unmatched box" (COCO, average_precision): it takes B -> true positive,
    #   precision 1, 1 at recall 1/2, 1: AP = 1.
    data = one_image(
        [[0, 0, 10, 10], [4, 0, 14, 10]],
        [1, 1],
        [[0, 0, 10, 10], [1, 0, 11, 10]],
        [1, 1],
        [0.9, 0.8],
    )
    mAP, per_class = mean_average_precision(**data)
    assert mAP == pytest.approx(0.5) and per_class == {1: pytest.approx(0.5)}
    pooled = average_precision(
        data["true_boxes"],
        data["pred_boxes"],
        data["pred_scores"],
        true_labels=data["true_labels"],
        pred_labels=data["pred_labels"],
    )
    assert pooled == pytest.approx(1.0)
    assert coco_evaluate(**data)["map50"] == pytest.approx(1.0)


def test_voc_rule_decides_which_detection_is_the_hit():
    # True boxes A = [0, 0, 10, 10] and B = [4, 0, 14, 10] of class 2.
    # 0.9: A exactly -> TP under both rules, takes A.
    # 0.8: [1, 0, 11, 10], IoU 0.82 with A, 0.54 with B.
    # 0.7: B exactly, IoU 1.0 with B, 0.43 with A.
    # VOC: 0.8's best box A is taken -> FP; 0.7 takes B -> TP. TP FP TP: precision 1, 1/2, 2/3
    #   at recall 1/2, 1/2, 1 -> AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
    # Best unmatched: 0.8 takes B -> TP; 0.7 finds A and B taken -> FP. TP TP FP: precision
    #   1, 1, 2/3 at recall 1/2, 1, 1 -> AP = 1.
    truth = [[0, 0, 10, 10], [4, 0, 14, 10]]
    found = [[0, 0, 10, 10], [1, 0, 11, 10], [4, 0, 14, 10]]
    data = one_image(truth, [2, 2], found, [2, 2, 2], [0.9, 0.8, 0.7])
    assert mean_average_precision(**data) == (pytest.approx(5 / 6), {2: pytest.approx(5 / 6)})
    pooled = average_precision(data["true_boxes"], data["pred_boxes"], data["pred_scores"])
    assert pooled == pytest.approx(1.0)


def test_voc_equal_ious_go_to_the_first_true_box():
    # A = [0, 0, 10, 10], B = [4, 0, 14, 10]. 0.9: A exactly, takes A. 0.8: [2, 0, 12, 10] has
    # IoU 80/120 = 0.67 with both: the first, A, is its box, and A is taken -> FP. AP = 1/2.
    data = one_image(
        [[0, 0, 10, 10], [4, 0, 14, 10]],
        [0, 0],
        [[0, 0, 10, 10], [2, 0, 12, 10]],
        [0, 0],
        [0.9, 0.8],
    )
    assert mean_average_precision(**data)[0] == pytest.approx(0.5)
    # listed the other way round, B is the first: the detection takes it -> AP = 1
    data["true_boxes"] = [data["true_boxes"][0][::-1]]
    assert mean_average_precision(**data)[0] == pytest.approx(1.0)


def test_voc_envelope_hand_worked():
    # True boxes A = [0, 0, 10, 10], B = [4, 0, 14, 10], C = [40, 0, 50, 10], class 2.
    # 0.9: [1, 0, 11, 10] -> best A (0.82): TP, takes A.
    # 0.8: [0, 0, 10, 10] -> best A (1.0, taken): FP.
    # 0.7: [3, 0, 13, 10] -> 70/130 = 0.54 with A, 90/110 = 0.82 with B: best B, TP.
    # 0.6: [2, 0, 12, 10] -> A and B both 80/120 = 0.67: the first, A, is taken: FP.
    # 0.5: [40, 0, 50, 10] -> C: TP.
    # TP FP TP FP TP: precision 1, 1/2, 2/3, 1/2, 3/5 at recall 1/3, 1/3, 2/3, 2/3, 1;
    # envelope 1, 2/3, 2/3, 3/5, 3/5 -> AP = 1/3 * 1 + 1/3 * 2/3 + 1/3 * 3/5.
    truth = [[0, 0, 10, 10], [4, 0, 14, 10], [40, 0, 50, 10]]
    found = [[1, 0, 11, 10], [0, 0, 10, 10], [3, 0, 13, 10], [2, 0, 12, 10], [40, 0, 50, 10]]
    data = one_image(truth, [2, 2, 2], found, [2] * 5, [0.9, 0.8, 0.7, 0.6, 0.5])
    assert mean_average_precision(**data)[0] == pytest.approx(1 / 3 + 2 / 9 + 1 / 5)


def test_voc_ties_keep_image_order_and_classes_are_averaged():
    # Image 0: a "3" at [0, 0, 10, 10]. Image 1: a "3" at [0, 0, 10, 10], a "5" at [20, 0, 30, 10].
    # Class 3: both detections score 0.5; the tie keeps image order: image 0's TP first, then
    # image 1's FP at [50, 50, 60, 60]: precision 1, 1/2 at recall 1/2, 1/2 -> AP 0.5 (the other
    # order would give 0.25). Class 5 has no detection: AP 0. Class 7 has no true box: not scored.
    data = {
        "true_boxes": [[[0, 0, 10, 10]], [[0, 0, 10, 10], [20, 0, 30, 10]]],
        "true_labels": [[3], [3, 5]],
        "pred_boxes": [[[0, 0, 10, 10]], [[50, 50, 60, 60], [20, 0, 30, 10]]],
        "pred_labels": [[3], [3, 7]],
        "pred_scores": [[0.5], [0.5, 0.9]],
    }
    mAP, per_class = mean_average_precision(**data)
    assert per_class == {3: 0.5, 5: 0.0}
    assert mAP == pytest.approx(0.25)
    assert all(type(k) is int and type(v) is float for k, v in per_class.items())


def test_voc_threshold_is_inclusive_and_adjustable():
    data = one_image([[0, 0, 2, 2]], [4], [[0, 0, 2, 1]], [4], [0.9])  # IoU exactly 0.5
    assert mean_average_precision(**data) == (1.0, {4: 1.0})
    assert mean_average_precision(**data, iou_threshold=0.51) == (0.0, {4: 0.0})
    data = one_image([[0, 0, 10, 10]], [4], [[0, 0, 10, 8]], [4], [0.9])  # IoU 0.8
    assert mean_average_precision(**data, iou_threshold=0.75)[0] == 1.0


def _voc_reference(true_boxes, true_labels, pred_boxes, pred_labels, pred_scores, iou_threshold):
    """A plain transcription of VOCdevkit's VOCevaldet.m and VOCap.m, one class at a time."""

    def overlap(a, b):
        w = min(a[2], b[2]) - max(a[0], b[0])
        h = min(a[3], b[3]) - max(a[1], b[1])
        if w <= 0 or h <= 0:
            return 0.0
        return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h)

    classes = sorted({int(c) for labels in true_labels for c in labels})
    result = {}
    for c in classes:
        gt = {
            i: [b for b, label in zip(tb, tl) if label == c]
            for i, (tb, tl) in enumerate(zip(true_boxes, true_labels))
        }
        detected = {i: [False] * len(g) for i, g in gt.items()}
        npos = sum(len(g) for g in gt.values())
        dets = [
            (s, i, b)
            for i, (pb, pl, ps) in enumerate(zip(pred_boxes, pred_labels, pred_scores))
            for b, label, s in zip(pb, pl, ps)
            if label == c
        ]
        order = sorted(range(len(dets)), key=lambda k: -dets[k][0])  # stable, like MATLAB
        tp, fp = [], []
        for k in order:
            _, i, box = dets[k]
            ovmax, jmax = -np.inf, -1
            for j, g in enumerate(gt[i]):
                ov = overlap(box, g)
                if ov > ovmax:
                    ovmax, jmax = ov, j
            if ovmax >= iou_threshold and not detected[i][jmax]:
                detected[i][jmax] = True
                tp.append(1)
            else:
                tp.append(0)
            fp.append(1 - tp[-1])
        tp, fp = np.cumsum(tp), np.cumsum(fp)
        rec = list(tp / npos)
        prec = [t / (t + f) for t, f in zip(tp, fp)]
        mrec, mpre = [0.0, *rec, 1.0], [0.0, *prec, 0.0]
        for i in range(len(mpre) - 2, -1, -1):
            mpre[i] = max(mpre[i], mpre[i + 1])
        result[c] = sum(
            (mrec[i] - mrec[i - 1]) * mpre[i] for i in range(1, len(mrec)) if mrec[i] != mrec[i - 1]
        )
    return result


def test_voc_agrees_with_a_transcription_of_the_devkit():
    rng = np.random.default_rng(1)
    for _ in range(40):
        data = random_set(rng, n_classes=3, max_truth=5, max_extra=6)
        if not any(len(t) for t in data["true_boxes"]):
            continue
        threshold = float(rng.choice([0.3, 0.5, 0.7]))
        mAP, per_class = mean_average_precision(**data, iou_threshold=threshold)
        expected = _voc_reference(*(data[k] for k in KEYS), threshold)
        assert per_class.keys() == expected.keys()
        for c in expected:
            assert per_class[c] == pytest.approx(expected[c], abs=1e-12)
        assert mAP == pytest.approx(np.mean(list(expected.values())), abs=1e-12)


# ----------------------------------------------------------------------------- COCO
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


# ----------------------------------------------------------------------------- bad input
GOOD = {
    "true_boxes": [[[0, 0, 10, 10]], []],
    "true_labels": [[1], []],
    "pred_boxes": [[[0, 0, 10, 10]], []],
    "pred_labels": [[1], []],
    "pred_scores": [[0.9], []],
}


@pytest.mark.parametrize("score", [mean_average_precision, coco_evaluate])
@pytest.mark.parametrize(
    "change, message",
    [
        ({"pred_scores": [[0.9]]}, r"different lengths \(true_boxes 2, .*pred_scores 1\)"),
        ({"true_boxes": np.array([[0, 0, 10, 10]])}, r"one array per image.*\[true_boxes\]"),
        (
            {"pred_boxes": [[[0, 0, 10, 10]], [[5, 5, 1, 1]]]},
            r"pred_boxes\[1\]\[0\] \(image 1, box 0\) = \(5.0, 5.0, 1.0, 1.0\) is not a box",
        ),
        ({"pred_boxes": [[[0, 0, 10, 10]], [[0, 0, 1, np.nan]]]}, r"pred_boxes\[1\].*NaN"),
        ({"true_boxes": [[0, 0, 10, 10], []]}, r"true_boxes\[0\] \(image 0.*shape \(N, 4\)"),
        ({"pred_scores": [[np.nan], []]}, r"pred_scores\[0\] contains NaN"),
        ({"pred_labels": [[1.5], []]}, r"pred_labels\[0\] must be whole numbers"),
        ({"true_labels": [[1, 2], []]}, "image 0 has 1 true boxes but 2 true_labels"),
        ({"pred_scores": [[0.9, 0.8], []]}, "image 0 has 1 pred boxes but 2 pred_scores"),
        ({"pred_labels": [[], []]}, "image 0 has 1 pred boxes but 0 pred_labels"),
    ],
)
def test_bad_input_names_the_image_and_the_fix(score, change, message):
    with pytest.raises(ValueError, match=message):
        score(**(GOOD | change))


def test_map_needs_true_boxes_and_a_sane_threshold():
    with pytest.raises(ValueError, match="at least one true box"):
        mean_average_precision(**(GOOD | {"true_boxes": [[], []], "true_labels": [[], []]}))
    with pytest.raises(ValueError, match=r"iou_threshold must lie in \(0, 1\]"):
        mean_average_precision(**GOOD, iou_threshold=0)
    with pytest.raises(TypeError):
        mean_average_precision(GOOD["true_boxes"], GOOD["true_labels"])  # keyword-only


def test_a_3d_array_is_one_entry_per_image():
    boxes = np.array([[[0, 0, 10, 10]], [[0, 0, 10, 10]]])
    labels, scores = np.array([[1], [2]]), np.array([[0.9], [0.8]])
    data = dict(zip(KEYS, (boxes, labels, boxes, labels, scores)))
    assert mean_average_precision(**data) == (1.0, {1: 1.0, 2: 1.0})
