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
        (lambda h, n: coco_points(h, n, points=11), "11-point AP of VOC2007 to VOC2009"),
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


# ----------------------------------------------------------------------------- fairness both ways
def envelope_of(hits, n_true, first_rank=1):
    tp = np.cumsum(np.asarray(hits, dtype=bool))
    precision, recall = tp / np.arange(first_rank, len(tp) + first_rank), tp / n_true
    return recall, np.maximum.accumulate(precision[::-1])[::-1], precision


@pytest.mark.parametrize(
    "exercise_id, right", [("15.all-point-ap", all_point_numpy), ("15.ap-101", coco_numpy)]
)
@pytest.mark.parametrize("decimals", [3, 4, 6])
def test_a_function_that_rounds_to_3_decimals_or_more_is_accepted(exercise_id, right, decimals):
    assert check(exercise_id, lambda h, n: round(float(right(h, n)), decimals))
    assert check(exercise_id, lambda h, n: float(f"{right(h, n):.{decimals}f}"))


@pytest.mark.parametrize(
    "exercise_id, right", [("15.all-point-ap", all_point_numpy), ("15.ap-101", coco_numpy)]
)
@pytest.mark.parametrize("decimals", [1, 2])
def test_a_function_that_rounds_too_far_gets_the_rounding_hint(exercise_id, right, decimals):
    message = refused(exercise_id, lambda h, n: round(float(right(h, n)), decimals)).message
    assert "Right idea: give at least 3 decimals" in message
    assert "return the value without rounding it" in message
    assert "For hits [1, 0, 0, 1, 1] and 3 true boxes" in message


def mean_of_hit_precisions(hits, n_true):
    """A natural mistake that returns nan (the mean of nothing) when no detection is a hit."""
    tp = np.cumsum(hits)
    return (tp / np.arange(1, len(hits) + 1))[hits].mean()


def recall_over_hits(hits, n_true):
    """tp / hits.sum(): recall by the hits found, nan (0 / 0) when there are none."""
    recall, envelope, _ = envelope_of(hits, n_true)
    recall = np.cumsum(hits) / hits.sum()
    return np.sum(np.diff(recall, prepend=0) * envelope)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "function, hint",
    [
        (mean_of_hit_precisions, "Weigh each precision"),
        (recall_over_hits, "Recall divides by all true boxes"),
    ],
)
def test_a_nan_on_no_hits_is_named_with_its_input_and_the_mistake_still_found(function, hint):
    message = refused("15.all-point-ap", function).message
    assert hint in message
    assert "returned nan for hits [0, 0] and 3 true boxes" in message


def right_but_nan_without_hits(hits, n_true):
    return all_point_numpy(hits, n_true) if hits.any() else float("nan")


def right_but_fails_when_empty(hits, n_true):
    return all_point_numpy(hits, n_true) * (len(hits) / len(hits))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_right_but_nan_or_raising_on_no_hits_is_refused_and_the_input_named():
    message = refused("15.all-point-ap", right_but_nan_without_hits).message
    assert "nan for hits [0, 0] and 3 true boxes" in message and "AP is 0" in message
    message = refused("15.all-point-ap", right_but_fails_when_empty).message
    assert "ZeroDivisionError" in message and "hits is empty when a class is never predicted" in (
        message
    )


def eleven_point(hits, n_true):
    recall, envelope, _ = envelope_of(hits, n_true)
    return np.mean([max(envelope[recall >= r], default=0) for r in np.arange(0, 1.1, 0.1)])


def left_envelope(hits, n_true):
    recall, _, precision = envelope_of(hits, n_true)
    return np.sum(np.diff(recall, prepend=0) * np.maximum.accumulate(precision))


def recall_over_detections(hits, n_true):
    recall, envelope, _ = envelope_of(hits, n_true)
    recall = np.cumsum(hits) / len(hits) if len(hits) else recall
    return np.sum(np.diff(recall, prepend=0) * envelope)


def precision_rank_plus_one(hits, n_true):
    recall, envelope, _ = envelope_of(hits, n_true, first_rank=2)
    return np.sum(np.diff(recall, prepend=0) * envelope)


def diff_without_prepend(hits, n_true):
    recall, envelope, _ = envelope_of(hits, n_true)
    return np.sum(np.diff(recall) * envelope[1:])


def trapezoid_on_the_envelope(hits, n_true):
    recall, envelope, _ = envelope_of(hits, n_true)
    return np.trapezoid(envelope, recall)


@pytest.mark.parametrize(
    "function, hint",
    [
        (eleven_point, "11-point AP of VOC2007 to VOC2009"),
        (left_envelope, "The envelope runs from the right"),
        (recall_over_detections, "not the number of detections"),
        (precision_rank_plus_one, "np.arange(1, len(hits) + 1)"),
        (diff_without_prepend, "np.diff(recall, prepend=0)"),
        (trapezoid_on_the_envelope, "np.trapz(envelope, recall) leaves it out too"),
    ],
)
def test_all_point_targeted_hints(function, hint):
    assert hint in refused("15.all-point-ap", function).message


def interp_no_guard(hits, n_true):
    recall, envelope, _ = envelope_of(hits, n_true)
    return np.interp(np.linspace(0, 1, 101), recall, envelope).mean()


def interp_guarded(hits, n_true):
    return interp_no_guard(hits, n_true) if len(hits) else 0.0


def interp_right_zero(hits, n_true):
    recall, envelope, _ = envelope_of(hits, n_true)
    return np.interp(np.linspace(0, 1, 101), recall, envelope, right=0).mean() if len(hits) else 0.0


def searchsorted_right(hits, n_true):
    recall, envelope, _ = envelope_of(hits, n_true)
    first = np.searchsorted(recall, np.linspace(0, 1, 101), side="right")
    return np.append(envelope, 0)[first].mean()


def divided_by_100(hits, n_true):
    return coco_numpy(hits, n_true) * 101 / 100


def grid_without_zero(hits, n_true):
    recall, envelope, _ = envelope_of(hits, n_true)
    first = np.searchsorted(recall, np.arange(0.01, 1.001, 0.01), side="left")
    return np.append(envelope, 0)[first].mean()


def coco_recall_over_detections(hits, n_true):
    return coco_numpy(hits, max(len(hits), 1))


@pytest.mark.parametrize(
    "function, hint",
    [
        (interp_no_guard, "np.interp draws straight lines"),
        (interp_guarded, "np.interp draws straight lines"),
        (interp_right_zero, "np.interp draws straight lines"),
        (searchsorted_right, "side='right' skips a rank"),
        (divided_by_100, "divide their sum by 101"),
        (grid_without_zero, "The grid starts at recall 0"),
        (coco_recall_over_detections, "not the number of detections"),
    ],
)
def test_ap_101_targeted_hints(function, hint):
    assert hint in refused("15.ap-101", function).message


def test_interp_that_raises_on_empty_hits_also_names_that_input():
    message = refused("15.ap-101", interp_no_guard).message
    assert "raised ValueError" in message and "array([], dtype=bool), 3" in message


@pytest.mark.parametrize("answer", [5.0000001, 4.9999, 5.5])
def test_a_count_with_decimals_is_told_it_is_a_whole_number(answer):
    message = refused("15.iou-thresholds", answer).message
    assert "whole number" in message and "and 5 is not" not in message


@pytest.mark.parametrize("answer", [50, 50.0, 75, 37.5])
def test_a_percentage_is_told_to_give_a_fraction(answer):
    assert "fraction between 0 and 1" in refused("15.class-mean", answer).message
