"""Checkers for lesson 13 (anchors and box regression); the questions are in the lesson."""

import math

import numpy as np

from cnnteach._answers import rounding_hint
from cnnteach.boxes import assign_anchors, decode_boxes
from cnnteach.exercises import call, exercise, expect_array, number_exercise

_PER_CELL = "every cell has one anchor per (size, ratio) pair: 3 × 2 = 6"

number_exercise(
    "13.anchor-count",
    (128 // 8) ** 2 * 3 * 2,
    integer=True,
    hints={
        256: f"256 is the number of cells (16 × 16); {_PER_CELL}.",
        16 * 6: "That counts one row of cells; the feature map has 16 rows of 16 cells.",
        (128 * 128 * 6, 128 * 128): (
            "Anchors sit on the feature map's cells, one cell per 8 × 8 pixels, not on every pixel."
        ),
        (1296, 12 * 12 * 6): (
            "That is the 96 × 96 canvas; this one is 128 × 128: 128 / 8 = 16 cells per axis."
        ),
        16 * 16 * 5: "Sizes and ratios combine in pairs: 3 × 2 anchors per cell, not 3 + 2.",
        16 * 16 * 3: (
            "You counted the 3 sizes only; each size comes in each of the 2 ratios: 6 per cell."
        ),
        16 * 16 * 2: (
            "You counted the 2 ratios only; each ratio comes in each of the 3 sizes: 6 per cell."
        ),
        16 * 16 * 9: (
            "9 per cell is the lesson's 3 sizes × 3 ratios; this question has 3 sizes × 2 ratios."
        ),
        (3072, 6144): (
            "Each axis has 128 / 8 = 16 cells (32 would be stride 4), and "
            "each cell has 3 × 2 = 6 anchors."
        ),
    },
    otherwise="Cells per axis = canvas side / stride; anchors = cells × cells × sizes × ratios.",
    explanation=(
        "128 / 8 = 16 cells per axis, 16 × 16 = 256 cells, 3 × 2 = 6 anchors per cell: "
        "256 × 6 = 1,536 anchors."
    ),
)


def _four_numbers(answer) -> np.ndarray:
    """Four numbers as a flat float array; (1, 4) and (4, 1) arrays are read too."""
    values = expect_array(answer, dtype_kind="n")
    if values.size == 4 and values.ndim <= 2 and max(values.shape, default=0) == 4:
        return values.astype(float).ravel()
    return expect_array(answer, (4,), dtype_kind="n").astype(float)


#: Box (14, 8, 34, 48) against anchor (10, 10, 30, 30): centres (24, 28) and (20, 20),
#: sizes (20, 40) and (20, 20).
_ENCODED = np.array([0.2, 0.4, 0.0, math.log(2)])
#: Usual mistakes, each with its hint; a pattern matches the answer rounded to 1 decimal too.
_ENCODE_MISTAKES = [
    (
        [(4, 8, 0, math.log(2)), (4, 8, 0, 0), (4, 8, 0, 20)],
        "tx and ty are measured in anchor widths and heights: "
        "divide the centre shift (4, 8) by the anchor's size (20, 20).",
    ),
    (
        [(0.2, 0.2, 0, math.log(2))],
        "Divide the centre shift by the anchor's width and height (20 and 20), not the box's.",
    ),
    (
        [(-0.2, -0.2, 0, -math.log(2))],
        "You encoded the anchor relative to the box; the anchor is the reference: "
        "tx = (gx − ax) / aw with the anchor's size, tw = log(gw / aw).",
    ),
    (
        [(-0.2, -0.4, 0, -math.log(2)), (-0.2, -0.4, 0, math.log(2)), (0.2, 0.4, 0, -math.log(2))],
        "Check the signs: box minus anchor, tx = (gx − ax) / aw, "
        "and box size over anchor size, tw = log(gw / aw).",
    ),
    (
        [(0.2, 0.4, 1, 2), (0.2, 0.4, 0, 20), (0.2, 0.4, 0, 2)],
        "tw and th are logarithms of the size ratios: log(20 / 20) and log(40 / 20).",
    ),
    (
        [(0.2, 0.4, 0, math.log10(2))],
        "Use the natural logarithm (np.log), as decode_boxes undoes it with exp: log 2 ≈ 0.693.",
    ),
    (
        [(0.2, 0.4, 0, 1)],
        "th = log(40 / 20) with the natural logarithm (np.log): log 2 ≈ 0.693, "
        "not log2 and not (gh − ah) / ah.",
    ),
    (
        [(0.2, -0.1, 0, math.log(2)), (0.2, 0.9, 0, math.log(2))],
        "Compare the centres, not the corners: the box's centre is (24, 28), "
        "the anchor's (20, 20).",
    ),
    (
        [(0.4, 0.2, 0, math.log(2)), (0.2, 0.4, math.log(2), 0), (0.4, 0.2, math.log(2), 0)],
        "The order is (tx, ty, tw, th): x before y, width before height.",
    ),
]


@exercise(
    "13.encode-by-hand",
    explanation=(
        "Anchor: centre (20, 20), 20 wide, 20 tall. Box: centre (24, 28), 20 wide, 40 tall. "
        "tx = (24 − 20) / 20 = 0.2, ty = (28 − 20) / 20 = 0.4, tw = log(20 / 20) = 0, "
        "th = log(40 / 20) = log 2 ≈ 0.693."
    ),
)
def _(answer):
    values = _four_numbers(answer)
    close = np.abs(values - _ENCODED) <= 1e-3
    if close.all():
        return None
    rounded = [rounding_hint(v, w) for v, w in zip(values, _ENCODED)]
    if all(c or r for c, r in zip(close, rounded)):
        return next(r for r in rounded if r)
    for patterns, hint in _ENCODE_MISTAKES:
        if any(np.allclose(values, p, atol=0.051) for p in patterns):
            return hint
    return (
        "Find both centres and sizes first; then tx = (gx − ax) / aw, ty = (gy − ay) / ah, "
        "tw = log(gw / aw), th = log(gh / ah)."
    )


def _decode_cases():
    yield np.array([10.0, 10, 30, 30]), np.array([0.2, 0.4, 0.0, np.log(2)])
    yield np.array([0.0, 0, 8, 16]), np.zeros(4)
    rng = np.random.default_rng(13)
    for _ in range(6):
        corner = rng.uniform(0, 60, size=2)
        anchor = np.concatenate([corner, corner + rng.uniform(4, 40, size=2)])
        yield anchor, rng.normal(scale=0.5, size=4)


def _is_rounded(got, want) -> bool:
    """True when ``got`` is ``want`` rounded (or cut) to 0, 1 or 2 decimals."""
    for decimals in (2, 1, 0):
        scale = 10.0**decimals
        for cut in (np.floor(want * scale + 0.5) / scale, np.trunc(want * scale) / scale):
            if np.allclose(got, cut, atol=1e-9):
                return True
    return False


@exercise(
    "13.decode",
    explanation=(
        "Centre and size of the anchor: ax = (x_min + x_max) / 2, aw = x_max − x_min, and the "
        "same for y. The box has centre (ax + tx · aw, ay + ty · ah) and size "
        "(aw · exp(tw), ah · exp(th)); its corners are the centre ∓ half the size."
    ),
)
def _(function):
    for anchor, deltas in _decode_cases():
        got = expect_array(call(function, anchor.copy(), deltas.copy()), dtype_kind="n")
        if got.size != 4:
            return f"Return 4 numbers (x_min, y_min, x_max, y_max), got {got.size}."
        got = got.astype(float).ravel()
        want = decode_boxes(anchor, deltas)
        if np.allclose(got, want, atol=1e-3):
            continue
        if _is_rounded(got, want):
            return (
                "Right idea, but do not round the returned box: return the numbers as computed "
                "(round only when you print them)."
            )
        aw, ah = anchor[2] - anchor[0], anchor[3] - anchor[1]
        ax, ay = anchor[0] + aw / 2, anchor[1] + ah / 2
        w, h = aw * np.exp(deltas[2]), ah * np.exp(deltas[3])
        cx, cy = ax + deltas[0] * aw, ay + deltas[1] * ah
        centre, size = (got[:2] + got[2:]) / 2, got[2:] - got[:2]
        if np.allclose(got, [cx, cy, w, h], atol=1e-3):
            return "You return centre and size; turn them into corners: centre ∓ half the size."
        if np.allclose(centre, [cx, cy], atol=1e-3) and (
            np.allclose(size, [ah * np.exp(deltas[2]), aw * np.exp(deltas[3])], atol=1e-3)
            or np.allclose(size, [aw * np.exp(deltas[3]), ah * np.exp(deltas[2])], atol=1e-3)
        ):
            return (
                "Width and height are swapped: the width is aw · exp(tw) and the height "
                "ah · exp(th), with aw = x_max − x_min."
            )
        if np.allclose(size, [aw * (1 + deltas[2]), ah * (1 + deltas[3])], atol=1e-3):
            return "tw and th are logarithms: the width is aw · exp(tw), not aw · (1 + tw)."
        if np.any(deltas[:2] != 0) and np.allclose(
            centre, [ax + deltas[0], ay + deltas[1]], atol=1e-3
        ):
            return (
                "tx and ty are in anchor widths and heights: "
                "the centre moves by tx · aw and ty · ah pixels."
            )
        return (
            f"For anchor {anchor.round(2).tolist()} and offsets {deltas.round(2).tolist()} "
            f"expected {want.round(3).tolist()}, got {got.round(3).tolist()}."
        )
    return None


#: The anchors and true boxes of the "which anchors become positive" exercise.
POSITIVE_ANCHORS = np.array(
    [[0, 0, 10, 20], [0, 4, 10, 24], [5, 0, 15, 20], [36, 0, 50, 20], [60, 0, 70, 20]], float
)
POSITIVE_BOXES = np.array([[0, 0, 10, 20], [40, 0, 46, 20]], float)
POSITIVE_LABELS = np.array([7, 1])


@exercise(
    "13.positive-anchors",
    explanation=(
        "IoUs with the 7: 1, 0.667, 0.333, 0, 0; with the 1: 0, 0, 0, 0.429, 0. Anchors 0 and 1 "
        "reach 0.5: class 7. Anchor 2 is below 0.4: background. Anchor 3 is the 1's best "
        "anchor: positive even at 0.429 (every true box gets its best anchor). Anchor 4 "
        "touches nothing: background. So [7, 7, 10, 1, 10]."
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
    if got[0] in (0, 1) and got[1] in (0, 1):
        return (
            "Give each anchor's class, the digit's label (7 or 1), 10 for background or -1 "
            "for ignored, not the index of the box it matches and not 1/0 for positive."
        )
    if got[3] == -1:
        return (
            "Anchor 3's IoU with the 1 is only 0.43, but it is that box's best anchor: "
            "every true box keeps its best anchor."
        )
    if got[3] == 10:
        return (
            "Anchor 3 overlaps the narrow 1 (IoU 0.43); it is that box's best anchor, "
            "so it is positive."
        )
    if got[2] == -1:
        return (
            "Anchor 2's IoU with the 7 is 1/3, below negative_iou = 0.4: "
            "that is background, not ignored."
        )
    if got[2] == 7:
        return (
            "Anchor 2's IoU with the 7 is 1/3 < 0.5, and the 7 already has anchor 0 as its "
            "best: it is not positive (below 0.4 it is background)."
        )
    if got[1] != 7:
        return (
            "Anchor 1 is the 7's box moved 4 pixels down: IoU 160 / 240 ≈ 0.67, "
            "at least 0.5, so it is a 7."
        )
    return (
        "Compute each anchor's IoU with both boxes: at least 0.5 is that digit, "
        "below 0.4 background (10), between ignored (-1)."
    )


number_exercise(
    "13.mined-negatives",
    3 * 23,
    integer=True,
    hints={
        92: "92 counts the positives too; the question asks for the background anchors only.",
        (
            1200,
            1223,
        ): "Mining keeps only the hardest negatives, three per positive, not all of them.",
        (23, 400, 8): "The ratio is three negatives for every positive.",
    },
    otherwise="Multiply the positives by the ratio of negatives to positives (3).",
    explanation=(
        "Three negatives per positive: 3 × 23 = 69, the 69 background anchors with the highest "
        "loss. The other 1,131 cost nothing."
    ),
)
