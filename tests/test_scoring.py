"""cnnteach.scoring: pooled AP, PASCAL VOC mAP (hand-worked) and the shared input checks."""

from __future__ import annotations

import numpy as np
import pytest
from scoring_sets import KEYS, one_image, random_set  # tests/scoring_sets.py

from cnnteach.coco import coco_evaluate
from cnnteach.scoring import average_precision, mean_average_precision


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
