"""Checkers for lesson 12 (toward object detection)."""

import numpy as np

from cnnteach.boxes import iou, non_max_suppression
from cnnteach.exercises import (
    call,
    exercise,
    expect_array,
    number_exercise,
    shape_exercise,
)

number_exercise(
    "12.iou-by-hand",
    100 / 700,
    hints={
        0.25: "You divided by one box's area; IoU divides by the area of the union of both.",
        0.125: (
            "You divided by the sum of both areas; subtract "
            "the shared part once, it was counted twice."
        ),
        100: "100 is the intersection; now divide it by the union.",
        100 / 7: "Give a fraction between 0 and 1, not a percentage.",
    },
    otherwise=(
        "Intersection: the overlap's width × height. Union: area "
        "A + area B − intersection. IoU = intersection / union."
    ),
    explanation=(
        "They share a 10 × 10 square: 100 pixels. Together they "
        "cover 400 + 400 − 100 = 700. IoU = 100 / 700 = 1/7 ≈ 0.143."
    ),
)

number_exercise(
    "12.window-count",
    ((128 - 28) // 2 + 1) ** 2,
    integer=True,
    hints={
        51: "That is one axis; windows move along rows and columns.",
        2500: "Do not forget the + 1 of the first window: (128 − 28) // 2 + 1 = 51 per axis.",
        324: "324 is the 96×96 canvas with stride 4; this canvas is 128×128 and the stride is 2.",
    },
    otherwise="Use floor((128 − 28) / 2) + 1 per axis, then multiply the two axes.",
    explanation=(
        "Per axis (128 − 28) // 2 + 1 = 51 positions, the convolution "
        "formula with K = 28 and S = 2; 51 × 51 = 2,601 windows."
    ),
)

#: A chain: box 0 overlaps box 1 and box 1 overlaps box 2 (IoU 0.25 each), boxes 0 and 2 do not
#: touch. NMS keeps 0, suppresses 1, and keeps 2: a suppressed box suppresses nothing.
CHAIN = (
    np.array([[0, 0, 10, 10], [6, 0, 16, 10], [12, 0, 22, 10]], float),
    np.array([0.9, 0.8, 0.7]),
    0.2,
)


def _cases():
    yield CHAIN
    boxes = [
        [0, 0, 10, 10],
        [1, 1, 11, 11],
        [20, 20, 30, 30],
        [21, 20, 31, 30],
        [0, 0, 10, 10],
    ]
    yield np.array(boxes, float), np.array([0.6, 0.9, 0.5, 0.8, 0.7]), 0.5
    yield (
        np.array([[0, 0, 4, 4], [4, 0, 8, 4]], float),
        np.array([0.9, 0.8]),
        0.0,
    )  # touching: both kept
    yield (
        np.array([[2, 2, 6, 6]] * 3, float),
        np.array([0.3, 0.7, 0.5]),
        0.5,
    )  # identical: one kept
    yield (
        np.array([[0, 0, 2, 2], [1, 0, 3, 2]], float),
        np.array([0.9, 0.8]),
        1 / 3,
    )  # IoU equals the threshold
    rng = np.random.default_rng(10)
    for _ in range(8):
        corners = rng.integers(0, 30, size=(12, 2))
        yield (
            np.concatenate([corners, corners + rng.integers(1, 15, size=(12, 2))], axis=1).astype(
                float
            ),
            rng.permutation(12) / 12 + 0.01,
            float(rng.choice([0.2, 0.4, 0.6])),
        )


@exercise(
    "12.nms",
    explanation=(
        "Sort the indices by score, highest first. Take the best "
        "remaining box, keep it, and remove every remaining box "
        "whose IoU with it is greater than the threshold; repeat until none remain."
    ),
)
def _(function):
    for boxes, scores, threshold in _cases():
        got = [
            int(i)
            for i in np.asarray(call(function, boxes.copy(), scores.copy(), threshold)).ravel()
        ]
        want = non_max_suppression(boxes, scores, threshold).tolist()
        if got == want:
            continue
        if boxes is CHAIN[0] and got == [0]:
            return (
                "For a chain of boxes (0 overlaps 1, 1 overlaps "
                "2, 0 and 2 do not) you kept only [0]: box 1 is "
                "suppressed by box 0, and a suppressed box "
                "suppresses nothing, so box 2 stays. Compare the "
                "remaining boxes only with the boxes you keep."
            )
        if sorted(got) == sorted(want):
            return "You keep the right boxes; return them best score first."
        if len(got) == len(boxes):
            return (
                "Nothing was suppressed: remove the boxes whose IoU "
                "with a kept box is greater than the threshold."
            )
        if len(got) < len(want) and any(
            iou(boxes[a], boxes[b]) == threshold for a in want for b in want if a != b
        ):
            return (
                "A box whose IoU equals the threshold is kept: "
                "suppress only IoU greater than the threshold."
            )
        return (
            f"For {len(boxes)} boxes with threshold {threshold:g} you kept {got}, expected {want}."
        )
    return None


@exercise(
    "12.precision-recall",
    explanation=(
        "Precision = correct / detections = 6 / 8 = 0.75; recall = correct / digits = 6 / 10 = 0.6."
    ),
)
def _(answer):
    precision, recall = (float(v) for v in expect_array(answer, (2,), dtype_kind="n"))
    if np.isclose(precision, 0.75) and np.isclose(recall, 0.6):
        return None
    if np.isclose(precision, 0.6) and np.isclose(recall, 0.75):
        return "Swapped: precision divides by the detections, recall by the digits."
    if not np.isclose(precision, 0.75):
        return "Precision asks: of the detections made, what share is right?"
    return "Recall asks: of the digits there, what share was found?"


# Five detections ranked by score: right, wrong, right, right, wrong; 4 digits. Precision after each
# is 1, 1/2, 2/3, 3/4, 3/5 and recall 1/4, 1/4, 2/4, 3/4, 3/4. At recall 2/4 the precision 2/3 is
# beaten by the 3/4 reached later, so the envelope changes the answer.
_AP_PRECISIONS = (1, 2 / 3, 3 / 4)  # at the three right detections
_AP_ENVELOPE = (1, 3 / 4, 3 / 4)

number_exercise(
    "12.average-precision",
    sum(_AP_ENVELOPE) / 4,
    hints={
        sum(_AP_PRECISIONS)
        / 4: "Use the envelope: at each recall, take the best precision reached at that recall "
        "or higher. At recall 2/4 the precision is 2/3, but 3/4 is reached later.",
        (1 + 1 / 2 + 2 / 3 + 3 / 4 + 3 / 5)
        / 5: "That is the mean precision over the detections; AP weighs each "
        "precision by how much recall it adds.",
        sum(_AP_ENVELOPE)
        / 3: "Recall only reaches 3/4: one digit is never found, and that missing quarter adds "
        "nothing to AP.",
        sum(_AP_PRECISIONS)
        / 3: "Recall only reaches 3/4, so divide by the 4 digits; and use the envelope.",
    },
    otherwise=(
        "List precision and recall after each detection, then "
        "sum (recall step) × (best precision from there on)."
    ),
    explanation=(
        "Precision after each detection: 1, 1/2, 2/3, 3/4, 3/5; "
        "recall: 1/4, 1/4, 2/4, 3/4, 3/4. The envelope gives "
        "precision 1 up to recall 1/4 and 3/4 up to recall 3/4 "
        "(the 2/3 at recall 2/4 is beaten by the 3/4 reached "
        "later); the last quarter of recall is never "
        "reached. AP = 1/4 × 1 + 2/4 × 3/4 = 5/8 = 0.625."
    ),
)


shape_exercise(
    "12.dense-as-conv",
    (5, 5, 32, 64),
    axes=("rows", "columns", "input channels", "filters"),
    hints={
        (
            800,
            64,
        ): (
            "That is the Dense kernel; a Conv2D kernel has four "
            "axes (rows, columns, input channels, filters)."
        ),
        (
            1,
            1,
            800,
            64,
        ): (
            "A 1×1 convolution would need the 800 values as "
            "channels; the new layer reads the 5×5×32 map itself."
        ),
    },
    otherwise=(
        "The kernel must cover the whole 5×5 map of 32 channels, "
        "once per unit: (rows, columns, input channels, filters)."
    ),
    explanation=(
        "The Dense kernel has shape (800, 64); reshaped in Flatten's "
        "order (rows, columns, channels) it is a (5, 5, 32, 64) "
        "convolution kernel: one 5×5×32 filter per unit, which "
        "on a 5×5×32 input gives exactly the Dense output."
    ),
)
