"""Lesson 12's checked exercises accept right answers and refuse wrong ones without raising."""

import numpy as np
import pytest
from lesson_exercises import accepts_right_refuses_wrong

from cnnteach.boxes import average_precision, iou
from cnnteach.exercises import check, list_exercises

WRONG_KINDS = ["0.5", None, ..., {"p": 1}, True, float("nan"), object(), lambda: 1]


def test_lesson_10_has_its_exercises():
    assert set(list_exercises("12")) == {
        "12.iou-by-hand",
        "12.window-count",
        "12.nms",
        "12.precision-recall",
        "12.average-precision",
        "12.dense-as-conv",
    }


@pytest.mark.parametrize(
    "exercise_id, right, wrong",
    [
        (
            "12.iou-by-hand",
            [1 / 7, 100 / 700, 0.1429, 0.143, np.float32(1 / 7)],
            [0.25, 0.125, 100, 14.29, 0.14, 0.2, 1, 0],
        ),
        ("12.window-count", [2601, 2601.0, np.int64(2601)], [51, 2500, 324, 2704, 10000, 0]),
        (
            "12.precision-recall",
            [(0.75, 0.6), [6 / 8, 6 / 10], np.array([0.75, 0.6])],
            [(0.6, 0.75), (0.75, 0.8), (0.5, 0.6), (0.75,), (0.75, 0.6, 1), 0.75],
        ),
        (
            "12.average-precision",
            [5 / 8, 0.625, 1 / 4 + 2 / 4 * 3 / 4],
            [
                (1 + 2 / 3 + 3 / 4) / 4,
                (1 + 1 / 2 + 2 / 3 + 3 / 4 + 3 / 5) / 5,
                2.5 / 3,
                5 / 9,
                0.62,
                0.63,
                0.6,
                0.5,
                1,
                0,
            ],
        ),
        (
            "12.dense-as-conv",
            [(5, 5, 32, 64), [5, 5, 32, 64], np.array([5, 5, 32, 64])],
            [(800, 64), (1, 1, 800, 64), (64, 32, 5, 5), (5, 5, 64), (3, 3, 32, 64), 64],
        ),
    ],
)
def test_number_and_array_exercises(exercise_id, right, wrong):
    accepts_right_refuses_wrong(exercise_id, right, wrong + WRONG_KINDS)


def test_hints_teach():
    assert "union" in check("12.iou-by-hand", 0.25).message
    assert "+ 1" in check("12.window-count", 2500).message
    assert "Swapped" in check("12.precision-recall", (0.6, 0.75)).message
    assert (
        "mean precision"
        in check("12.average-precision", (1 + 1 / 2 + 2 / 3 + 3 / 4 + 3 / 5) / 5).message
    )
    assert "order" in check("12.dense-as-conv", (64, 32, 5, 5)).message


def _good_nms(boxes, scores, iou_threshold):
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep = []
    while order:
        best = order.pop(0)
        keep.append(best)
        order = [i for i in order if iou(boxes[best], boxes[i]) <= iou_threshold]
    return keep


def test_nms_exercise():
    assert check("12.nms", _good_nms)
    assert check("12.nms", lambda b, s, t: np.array(_good_nms(b, s, t)))
    unsorted = check("12.nms", lambda b, s, t: sorted(_good_nms(b, s, t)))
    assert not unsorted and "best score first" in unsorted.message
    nothing = check("12.nms", lambda b, s, t: list(np.argsort(-np.asarray(s), kind="stable")))
    assert not nothing and "Nothing was suppressed" in nothing.message

    def greater_equal(boxes, scores, iou_threshold):
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        keep = []
        while order:
            best = order.pop(0)
            keep.append(best)
            order = [i for i in order if iou(boxes[best], boxes[i]) < iou_threshold]
        return keep

    strict = check("12.nms", greater_equal)
    assert not strict and "greater than the threshold" in strict.message
    assert not check("12.nms", lambda b, s, t: None)
    assert not check("12.nms", lambda b, s, t: [0])


@pytest.mark.parametrize(
    "exercise_id, rounded",
    [("12.iou-by-hand", 0.14), ("12.average-precision", 0.62), ("12.average-precision", 0.63)],
)
def test_right_answers_rounded_to_two_decimals_are_told_to_give_three(exercise_id, rounded):
    feedback = check(exercise_id, rounded)
    assert feedback.status == "not yet" and feedback.message.startswith(
        "Right idea: give at least 3 decimals"
    )


def test_the_ap_example_needs_the_envelope_and_matches_the_reference():
    # 4 digits; five detections ranked right, wrong, right, right, wrong (the wrong ones hit
    # nothing)
    digits = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10]], float)
    detections = np.array(
        [digits[0], [90, 90, 99, 99], digits[1], digits[2], [80, 80, 89, 89]], float
    )
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    reference = average_precision([digits], [detections], [scores])
    assert np.isclose(reference, 5 / 8)
    assert check("12.average-precision", reference)
    no_envelope = (1 + 2 / 3 + 3 / 4) / 4  # precision at each new recall, without the envelope
    assert not np.isclose(no_envelope, reference, atol=1e-2)
    feedback = check("12.average-precision", no_envelope)
    assert not feedback and "envelope" in feedback.message


def test_nms_that_suppresses_a_chain_is_refused():
    def transitive(
        boxes, scores, iou_threshold
    ):  # drops every box that overlaps any other box, kept or not
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        keep = []
        for i in order:
            if all(
                iou(boxes[i], boxes[j]) <= iou_threshold for j in order if scores[j] > scores[i]
            ):
                keep.append(i)
        return keep

    from cnnteach.exercise_bank.lesson12 import CHAIN

    boxes, scores, threshold = CHAIN
    assert _good_nms(boxes, scores, threshold) == [0, 2] and transitive(
        boxes, scores, threshold
    ) == [0]
    feedback = check("12.nms", transitive)
    assert not feedback and "a suppressed box suppresses nothing" in feedback.message
