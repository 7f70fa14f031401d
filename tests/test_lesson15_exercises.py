"""Lesson 15's exercises: right answers pass, written in several natural ways; wrong answers of
every kind are refused without an exception, with the hint that fits (the notebook round trip is in
test_exercises.py, for every lesson)."""

import numpy as np
import pytest
from lesson_exercises import refused

from cnnteach.exercises import check, list_exercises
from cnnteach.scoring import mean_average_precision

LESSON = "15"
IDS = ["15.all-point-ap", "15.ap-101", "15.class-mean", "15.iou-thresholds"]


def test_the_lesson_registers_exactly_these_exercises():
    assert list_exercises(LESSON) == IDS


# ----------------------------------------------------------------------------- right answers
def all_point_numpy(hits, n_true):
    tp = np.cumsum(np.asarray(hits, dtype=bool))
    precision, recall = tp / np.arange(1, len(tp) + 1), tp / n_true
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return np.sum(np.diff(recall, prepend=0) * envelope)


def all_point_loop(hits, n_true):
    """A beginner's version: plain loops, no numpy."""
    precisions, recalls, found = [], [], 0
    for rank, hit in enumerate(hits, start=1):
        found += bool(hit)
        precisions.append(found / rank)
        recalls.append(found / n_true)
    ap, previous = 0.0, 0.0
    for k, recall in enumerate(recalls):
        ap += (recall - previous) * max(precisions[k:])
        previous = recall
    return ap


def all_point_by_the_library(hits, n_true):
    """The same AP through mean_average_precision: one image, boxes placed to hit or miss."""
    true_boxes = [[10 * k, 0, 10 * k + 5, 5] for k in range(n_true)]
    found = np.cumsum(hits) - 1  # the k-th hit finds true box k
    pred_boxes = [true_boxes[j] if hit else [500, 500, 505, 505] for j, hit in zip(found, hits)]
    if not pred_boxes:
        return 0.0
    return mean_average_precision(
        true_boxes=[true_boxes],
        true_labels=[[0] * n_true],
        pred_boxes=[pred_boxes],
        pred_labels=[[0] * len(hits)],
        pred_scores=[np.linspace(1, 0.5, len(hits))],
    )[0]


def coco_numpy(hits, n_true):
    tp = np.cumsum(np.asarray(hits, dtype=bool))
    precision, recall = tp / np.arange(1, len(tp) + 1), tp / n_true
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    first = np.searchsorted(recall, np.linspace(0, 1, 101), side="left")
    return np.append(envelope, 0)[first].mean()


def coco_arange_loop(hits, n_true):
    """np.arange for the grid and a loop for the lookup: a natural variant."""
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    recall = tp / n_true
    total = 0.0
    for r in np.arange(0, 1.001, 0.01):
        reached = [p for p, rc in zip(precision, recall) if rc >= r]
        total += max(reached) if reached else 0.0
    return total / 101


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("15.iou-thresholds", 5),
        ("15.iou-thresholds", 5.0),
        ("15.iou-thresholds", np.int64(5)),
        ("15.iou-thresholds", np.sum(0.72 >= np.linspace(0.5, 0.95, 10))),
        ("15.class-mean", 0.5),
        ("15.class-mean", (0.9 + 0.6 + 0) / 3),
        ("15.class-mean", np.mean([0.9, 0.6, 0.0])),
        ("15.class-mean", 0.500),
        ("15.all-point-ap", all_point_numpy),
        ("15.all-point-ap", all_point_loop),
        ("15.all-point-ap", all_point_by_the_library),
        ("15.ap-101", coco_numpy),
        ("15.ap-101", coco_arange_loop),
    ],
)
def test_right_answers_are_accepted(exercise_id, answer):
    feedback = check(exercise_id, answer)
    assert feedback, feedback


# ----------------------------------------------------------------------------- wrong answers
def raises(*args):
    raise RuntimeError("boom")


JUNK = [
    0,
    -1,
    4,
    6,
    0.75,
    0.375,
    float("nan"),
    float("inf"),
    True,
    "5",
    "0.5",
    "",
    [5],
    (0.5,),
    np.zeros(10),
    np.array([]),
    object(),
    lambda *args: 0,
    lambda *args: "x",
    lambda *args: args,
    lambda hits, n_true: 1.0,
    raises,
    print,
    len,
]


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("answer", JUNK, ids=lambda a: type(a).__name__)
def test_junk_is_refused_without_an_exception(exercise_id, answer):
    refused(exercise_id, answer)


@pytest.mark.parametrize("exercise_id", IDS)
def test_placeholders_are_not_attempted(exercise_id):
    assert check(exercise_id, ...).status == "not attempted"
    assert check(exercise_id, None).status == "not attempted"

    def placeholder(hits, n_true): ...

    if exercise_id in ("15.all-point-ap", "15.ap-101"):
        assert check(exercise_id, placeholder).status == "not attempted"


@pytest.mark.parametrize(
    "answer, hint",
    [
        (4, "*at least*"),
        (6, "0.75 is above 0.72"),
        (10, "Only thresholds up to 0.72"),
        (1, "ten thresholds"),
        (3, "count those at most 0.72"),
    ],
)
def test_iou_thresholds_hints(answer, hint):
    assert hint in refused("15.iou-thresholds", answer).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (0.75, "Digit 2 has true boxes"),
        (0.375, "Digit 3 appears in no image"),
        (1.5, "Divide the sum"),
        (0.9, "classes that have at least one true box"),
    ],
)
def test_class_mean_hints(answer, hint):
    assert hint in refused("15.class-mean", answer).message


def no_envelope(hits, n_true):
    tp = np.cumsum(np.asarray(hits, dtype=bool))
    precision, recall = tp / np.arange(1, len(tp) + 1), tp / n_true
    return np.sum(np.diff(recall, prepend=0) * precision)


def over_hits(hits, n_true):
    return all_point_numpy(hits, max(int(np.sum(hits)), 1))


def mean_precision_at_hits(hits, n_true):
    tp = np.cumsum(np.asarray(hits, dtype=bool))
    precision = tp / np.arange(1, len(tp) + 1)
    return precision[np.asarray(hits, dtype=bool)].mean() if any(hits) else 0.0


@pytest.mark.parametrize(
    "function, hint",
    [
        (no_envelope, "Use the envelope"),
        (over_hits, "Recall divides by all true boxes"),
        (mean_precision_at_hits, "Weigh each precision"),
        (coco_numpy, "That is COCO's 101-point AP"),
        (lambda hits, n_true: None, "replace the ..."),
    ],
)
def test_all_point_hints(function, hint):
    feedback = check("15.all-point-ap", function)
    assert not feedback and hint in feedback.message, feedback


def coco_points(hits, n_true, points=101, envelope=True, tail_zero=True):
    tp = np.cumsum(np.asarray(hits, dtype=bool))
    precision, recall = tp / np.arange(1, len(tp) + 1), tp / n_true
    if envelope:
        precision = np.maximum.accumulate(precision[::-1])[::-1]
    first = np.searchsorted(recall, np.linspace(0, 1, points), side="left")
    tail = 0.0 if tail_zero or not len(precision) else precision[-1]
    return np.append(precision, tail)[first].mean()


@pytest.mark.parametrize(
    "function, hint",
    [
        (all_point_numpy, "That is VOC's all-point area"),
        (lambda h, n: coco_points(h, n, envelope=False), "Read the envelope"),
        (lambda h, n: coco_points(h, n, tail_zero=False), "never reaches reads precision 0"),
        (lambda h, n: coco_points(h, n, points=100), "Use 101 recall points"),
        (lambda h, n: coco_points(h, n, points=11), "VOC2007's 11-point"),
        (lambda hits, n_true: 1 / 0, "Your function raised ZeroDivisionError"),
    ],
)
def test_ap_101_hints(function, hint):
    feedback = check("15.ap-101", function)
    assert not feedback and hint in feedback.message, feedback


def test_hits_arrive_as_a_boolean_array_as_match_returns_them():
    def uses_array_methods(hits, n_true):
        return coco_numpy(hits.astype(bool), n_true) if hits.dtype == bool else -1.0

    assert check("15.ap-101", uses_array_methods)
