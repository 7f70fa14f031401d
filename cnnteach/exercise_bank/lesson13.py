"""Checkers for lesson 13 (anchors and box regression)."""

import numpy as np

from cnnteach.boxes import assign_anchors, decode_boxes
from cnnteach.exercises import call, exercise, expect_array, expect_number


@exercise(
    "13.anchor-count",
    "How many anchors does make_anchors give for a 128 × 128 canvas at stride 8, with 3 sizes and 2 ratios?",
    explanation="128 / 8 = 16 cells per axis, 16 × 16 = 256 cells, 3 × 2 = 6 anchors per cell: 256 × 6 = 1,536 anchors.",
)
def _(answer):
    value = expect_number(answer, integer=True)
    if value == 1536:
        return None
    if value == 256:
        return "256 is the number of cells; every cell has one anchor per (size, ratio) pair."
    if value in (96, 16 * 6):
        return "That counts one row of cells; the feature map has 16 rows of 16 cells."
    if value in (128 * 128 * 6, 128 * 128):
        return (
            "Anchors sit on the feature map's cells, one cell per 8 × 8 pixels, not on every pixel."
        )
    if value in (1296, 12 * 12 * 6, 12 * 12 * 9):
        return "That is the 96 × 96 canvas; this one is 128 × 128: 128 / 8 = 16 cells per axis."
    if value == 16 * 16 * 5:
        return "Sizes and ratios combine in pairs: 3 × 2 anchors per cell, not 3 + 2."
    return "Cells per axis = canvas side / stride; anchors = cells × cells × sizes × ratios."


@exercise(
    "13.encode-by-hand",
    "Encode the box (14, 8, 34, 48) against the anchor (10, 10, 30, 30): give (tx, ty, tw, th).",
    explanation=(
        "Anchor: centre (20, 20), 20 wide, 20 tall. Box: centre (24, 28), 20 wide, 40 tall. "
        "tx = (24 − 20) / 20 = 0.2, ty = (28 − 20) / 20 = 0.4, tw = log(20 / 20) = 0, th = log(40 / 20) = log 2 ≈ 0.693."
    ),
)
def _(answer):
    values = expect_array(answer, (4,), dtype_kind="n").astype(float)
    want = np.array([0.2, 0.4, 0.0, np.log(2)])
    if np.allclose(values, want, atol=1e-3):
        return None
    if np.allclose(values, [4, 8, 0, np.log(2)], atol=1e-3) or np.allclose(
        values[:2], [4, 8], atol=1e-3
    ):
        return "tx and ty are measured in anchor widths and heights: divide the centre shift by the anchor's size."
    if np.allclose(values[2:], [1, 2], atol=1e-3):
        return "tw and th are logarithms of the size ratios: log(20 / 20) and log(40 / 20)."
    if np.allclose(values[2:], [0, np.log10(2)], atol=1e-3):
        return "Use the natural logarithm (np.log), as decode_boxes undoes it with exp."
    if np.allclose(values[:2], [4 / 20, -2 / 20], atol=1e-3) or np.allclose(
        values[:2], [0.2, -0.1], atol=1e-3
    ):
        return "Compare the centres, not the top-left corners: the box's centre is (24, 28)."
    if np.allclose(values, [0.4, 0.2, np.log(2), 0.0], atol=1e-3):
        return "The order is (tx, ty, tw, th): x before y, width before height."
    return "Find both centres and sizes first; then tx = (gx − ax) / aw, ty = (gy − ay) / ah, tw = log(gw / aw), th = log(gh / ah)."


def _decode_cases():
    yield np.array([10.0, 10, 30, 30]), np.array([0.2, 0.4, 0.0, np.log(2)])
    yield np.array([0.0, 0, 8, 16]), np.zeros(4)
    rng = np.random.default_rng(13)
    for _ in range(6):
        corner = rng.uniform(0, 60, size=2)
        anchor = np.concatenate([corner, corner + rng.uniform(4, 40, size=2)])
        yield anchor, rng.normal(scale=0.5, size=4)


@exercise(
    "13.decode",
    "Write my_decode(anchor, deltas): apply offsets (tx, ty, tw, th) to an anchor and return the box (x_min, y_min, x_max, y_max).",
    explanation=(
        "Centre and size of the anchor: ax = (x_min + x_max) / 2, aw = x_max − x_min, and the same for y. The box has centre "
        "(ax + tx · aw, ay + ty · ah) and size (aw · exp(tw), ah · exp(th)); its corners are the centre ∓ half the size."
    ),
)
def _(function):
    for anchor, deltas in _decode_cases():
        got = (
            expect_array(call(function, anchor.copy(), deltas.copy()), dtype_kind="n")
            .astype(float)
            .ravel()
        )
        want = decode_boxes(anchor, deltas)
        if got.shape != (4,):
            return f"Return 4 numbers (x_min, y_min, x_max, y_max), got {got.size}."
        if np.allclose(got, want, atol=1e-6):
            continue
        aw, ah = anchor[2] - anchor[0], anchor[3] - anchor[1]
        ax, ay = anchor[0] + aw / 2, anchor[1] + ah / 2
        w, h = aw * np.exp(deltas[2]), ah * np.exp(deltas[3])
        cx, cy = ax + deltas[0] * aw, ay + deltas[1] * ah
        if np.allclose(got, [cx, cy, w, h], atol=1e-6):
            return "You return centre and size; turn them into corners: centre ∓ half the size."
        if np.allclose(got[2:] - got[:2], [aw * (1 + deltas[2]), ah * (1 + deltas[3])], atol=1e-6):
            return "tw and th are logarithms: the width is aw · exp(tw), not aw · (1 + tw)."
        if np.allclose((got[:2] + got[2:]) / 2, [ax + deltas[0], ay + deltas[1]], atol=1e-6):
            return "tx and ty are in anchor widths and heights: the centre moves by tx · aw and ty · ah pixels."
        return f"For anchor {anchor.round(2).tolist()} and offsets {deltas.round(2).tolist()} expected {want.round(3).tolist()}, got {got.round(3).tolist()}."
    return None


#: The anchors and true boxes of the "which anchors become positive" exercise.
POSITIVE_ANCHORS = np.array(
    [[0, 0, 10, 20], [0, 4, 10, 24], [5, 0, 15, 20], [36, 0, 50, 20], [60, 0, 70, 20]], float
)
POSITIVE_BOXES = np.array([[0, 0, 10, 20], [40, 0, 46, 20]], float)
POSITIVE_LABELS = np.array([7, 1])


@exercise(
    "13.positive-anchors",
    "Predict: which class does assign_anchors give each of the 5 anchors (digit, 10 for background, -1 for ignore)?",
    explanation=(
        "IoUs with the 7: 1, 0.667, 0.333, 0, 0; with the 1: 0, 0, 0, 0.429, 0. Anchors 0 and 1 reach 0.5: class 7. Anchor 2 "
        "is below 0.4: background. Anchor 3 is the 1's best anchor: positive even at 0.429 (every true box gets its best "
        "anchor). Anchor 4 touches nothing: background. So [7, 7, 10, 1, 10]."
    ),
)
def _(answer):
    values = expect_array(answer, (5,), dtype_kind="n")
    if not np.all(values == np.round(values)):
        return "Give one whole class per anchor: a digit, 10 or -1."
    got = values.astype(int).tolist()
    want = assign_anchors(POSITIVE_ANCHORS, POSITIVE_BOXES, POSITIVE_LABELS)[0].tolist()
    if got == want:
        return None
    if got[3] == -1:
        return "Anchor 3's IoU with the 1 is only 0.43, but it is that box's best anchor: every true box keeps its best anchor."
    if got[3] == 10:
        return "Anchor 3 overlaps the narrow 1 (IoU 0.43); it is that box's best anchor, so it is positive."
    if got[2] == -1:
        return "Anchor 2's IoU with the 7 is 1/3, below negative_iou = 0.4: that is background, not ignored."
    if got[1] != 7:
        return "Anchor 1 is the 7's box moved 4 pixels down: IoU 160 / 240 ≈ 0.67, at least 0.5, so it is a 7."
    return "Compute each anchor's IoU with both boxes: at least 0.5 is that digit, below 0.4 background (10), between ignored (-1)."


@exercise(
    "13.mined-negatives",
    "A canvas has 23 positive anchors and 1,200 background anchors. How many background anchors does 3:1 hard-negative mining keep in the loss?",
    explanation="Three negatives per positive: 3 × 23 = 69, the 69 background anchors with the highest loss. The other 1,131 cost nothing.",
)
def _(answer):
    value = expect_number(answer, integer=True)
    if value == 69:
        return None
    if value == 92:
        return "92 counts the positives too; the question asks for the background anchors only."
    if value in (1200, 1223):
        return "Mining keeps only the hardest negatives, three per positive, not all of them."
    if value in (23, 400, 8):
        return "The ratio is three negatives for every positive."
    return "Multiply the positives by the ratio of negatives to positives (3)."
