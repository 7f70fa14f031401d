"""Checkers for lesson 10 (toward object detection)."""

import numpy as np

from cnnteach.boxes import iou, non_max_suppression
from cnnteach.exercises import call, exercise, expect_array, expect_number


@exercise(
    "10.iou-by-hand",
    "What is the IoU of the boxes (10, 10, 30, 30) and (20, 20, 40, 40)?",
    explanation="They share a 10 × 10 square: 100 pixels. Together they cover 400 + 400 − 100 = 700. IoU = 100 / 700 = 1/7 ≈ 0.143.",
)
def _(answer):
    value = expect_number(answer)
    if np.isclose(value, 1 / 7, atol=1e-3):
        return None
    if np.isclose(value, 0.25, atol=1e-3):
        return "You divided by one box's area; IoU divides by the area of the union of both."
    if np.isclose(value, 0.125, atol=1e-3):
        return "You divided by the sum of both areas; subtract the shared part once, it was counted twice."
    if value == 100:
        return "100 is the intersection; now divide it by the union."
    if np.isclose(value, 1 / 7 * 100, atol=0.1):
        return "Give a fraction between 0 and 1, not a percentage."
    return "Intersection: the overlap's width × height. Union: area A + area B − intersection. IoU = intersection / union."


@exercise(
    "10.window-count",
    "Predict: how many 28×28 windows does sliding_windows cut from a 128×128 canvas with stride 2?",
    explanation="Per axis (128 − 28) // 2 + 1 = 51 positions, the convolution formula with K = 28 and S = 2; 51 × 51 = 2,601 windows.",
)
def _(answer):
    value = expect_number(answer, integer=True)
    if value == 2601:
        return None
    if value == 51:
        return "That is one axis; windows move along rows and columns."
    if value == 2500:
        return "Do not forget the + 1 of the first window: (128 − 28) // 2 + 1 = 51 per axis."
    if value in (324, 18 * 18):
        return "324 is the 96×96 canvas with stride 4; this canvas is 128×128 and the stride is 2."
    return "Use floor((128 − 28) / 2) + 1 per axis, then multiply the two axes."


def _cases():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 20, 31, 30], [0, 0, 10, 10]]
    yield np.array(boxes, float), np.array([0.6, 0.9, 0.5, 0.8, 0.7]), 0.5
    yield np.array([[0, 0, 4, 4], [4, 0, 8, 4]], float), np.array([0.9, 0.8]), 0.0  # touching: both kept
    yield np.array([[2, 2, 6, 6]] * 3, float), np.array([0.3, 0.7, 0.5]), 0.5  # identical: one kept
    yield np.array([[0, 0, 2, 2], [1, 0, 3, 2]], float), np.array([0.9, 0.8]), 1 / 3  # IoU equals the threshold
    rng = np.random.default_rng(10)
    for _ in range(8):
        corners = rng.integers(0, 30, size=(12, 2))
        yield (np.concatenate([corners, corners + rng.integers(1, 15, size=(12, 2))], axis=1).astype(float),
               rng.permutation(12) / 12 + 0.01, float(rng.choice([0.2, 0.4, 0.6])))


@exercise(
    "10.nms",
    "Write my_nms(boxes, scores, iou_threshold): the indices of the boxes non-max suppression keeps, best score first.",
    explanation=(
        "Sort the indices by score, highest first. Take the best remaining box, keep it, and remove every remaining box "
        "whose IoU with it is greater than the threshold; repeat until none remain."
    ),
)
def _(function):
    for boxes, scores, threshold in _cases():
        got = [int(i) for i in np.asarray(call(function, boxes.copy(), scores.copy(), threshold)).ravel()]
        want = non_max_suppression(boxes, scores, threshold).tolist()
        if got == want:
            continue
        if sorted(got) == sorted(want):
            return "You keep the right boxes; return them best score first."
        if len(got) == len(boxes):
            return "Nothing was suppressed: remove the boxes whose IoU with a kept box is greater than the threshold."
        if len(got) < len(want) and any(iou(boxes[a], boxes[b]) == threshold for a in want for b in want if a != b):
            return "A box whose IoU equals the threshold is kept: suppress only IoU greater than the threshold."
        return f"For {len(boxes)} boxes with threshold {threshold:g} you kept {got}, expected {want}."
    return None


@exercise(
    "10.precision-recall",
    "A detector makes 8 detections on canvases holding 10 digits; 6 of them match a digit. Give (precision, recall).",
    explanation="Precision = correct / detections = 6 / 8 = 0.75; recall = correct / digits = 6 / 10 = 0.6.",
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


@exercise(
    "10.average-precision",
    "Ranked by score, four detections are right, wrong, right, wrong; there are 3 digits. What is the all-point AP?",
    explanation=(
        "Precision after each detection: 1, 1/2, 2/3, 1/2; recall: 1/3, 1/3, 2/3, 2/3. The envelope gives precision 1 up to recall 1/3 "
        "and 2/3 up to recall 2/3; the last third of recall is never reached. AP = 1/3 × 1 + 1/3 × 2/3 = 5/9 ≈ 0.556."
    ),
)
def _(answer):
    value = expect_number(answer)
    if np.isclose(value, 5 / 9, atol=2e-3):
        return None
    if np.isclose(value, (1 + 0.5 + 2 / 3 + 0.5) / 4, atol=2e-3):
        return "That is the mean precision over the detections; AP weighs each precision by how much recall it adds."
    if np.isclose(value, 5 / 6, atol=2e-3):
        return "Recall only reaches 2/3: one digit is never found, and that missing third adds nothing to AP."
    if np.isclose(value, 0.5, atol=2e-3):
        return "Use the envelope: at each recall, the best precision reached at that recall or higher."
    return "List precision and recall after each detection, then sum (recall step) × (best precision from there on)."


@exercise(
    "10.dense-as-conv",
    "In fully_convolutional(lesson model), the Dense(64) that read Flatten's 5×5×32 values becomes a Conv2D: what is its kernel shape?",
    explanation=(
        "The Dense kernel has shape (800, 64); reshaped in Flatten's order (rows, columns, channels) it is a (5, 5, 32, 64) "
        "convolution kernel: one 5×5×32 filter per unit, which on a 5×5×32 input gives exactly the Dense output."
    ),
)
def _(answer):
    shape = tuple(int(v) for v in expect_array(answer, dtype_kind="n").ravel())
    if shape == (5, 5, 32, 64):
        return None
    if shape == (800, 64):
        return "That is the Dense kernel; a Conv2D kernel has four axes (rows, columns, input channels, filters)."
    if shape == (1, 1, 800, 64):
        return "A 1×1 convolution would need the 800 values as channels; the new layer reads the 5×5×32 map itself."
    if sorted(shape) == sorted((5, 5, 32, 64)):
        return "Right numbers, wrong order: Keras kernels are (rows, columns, input channels, filters)."
    return "The kernel must cover the whole 5×5 map of 32 channels, once per unit: (rows, columns, input channels, filters)."
