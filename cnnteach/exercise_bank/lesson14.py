"""Checkers for lesson 14 (two-stage detection)."""

import numpy as np

from cnnteach.exercises import call, exercise, expect_array, number_exercise

number_exercise(
    "14.snapped-width",
    11,
    integer=True,
    hints={
        10.25: (
            "That is the RoI's width in cells before snapping; RoI pooling first rounds both "
            "ends to whole cells."
        ),
        41: "That is the width in pixels; divide by the stride 4 to get feature cells.",
        10: "Both end cells count: the cells from 5 to 15 are 15 − 5 + 1 of them.",
        12: (
            "Round each end to the nearest cell: 21 / 4 = 5.25 gives cell 5, and the last pixel "
            "61 / 4 = 15.25 gives cell 15."
        ),
    },
    otherwise=(
        "Round x_min / 4 to the nearest cell, and the last pixel (x_max − 1) / 4 too; the width "
        "is last − first + 1."
    ),
    explanation=(
        "First cell round(21 / 4) = round(5.25) = 5, last cell round((62 − 1) / 4) = "
        "round(15.25) = 15, so the RoI "
        "covers 15 − 5 + 1 = 11 cells: 44 pixels of features for a 41-pixel box. RoIAlign keeps "
        "the 10.25 cells."
    ),
)

number_exercise(
    "14.background-rois",
    16 * 32 * 3 // 4,
    integer=True,
    hints={
        128: "That is the positives of the whole batch; the question asks for the background RoIs.",
        8: (
            "That is one canvas's positives; the question asks for the background RoIs of the "
            "whole step."
        ),
        24: "That is one canvas's background RoIs; a step has 16 canvases.",
        512: "That is every RoI of the step; a quarter of them are positives.",
        96: (
            "96 is Fast R-CNN's background per image pair (3/4 of 128); here a step is 16 "
            "canvases of 32 RoIs."
        ),
    },
    otherwise="RoIs per step = canvases × RoIs per canvas; three quarters of them are background.",
    explanation=(
        "16 canvases × 32 RoIs = 512 RoIs per step; a quarter (128) are positives, so 384 are "
        "background."
    ),
)

number_exercise(
    "14.rcnn-passes",
    10 * 2000,
    integer=True,
    hints={
        2000: "That is one image; the question asks about 10 images.",
        10: (
            "Ten passes is Fast R-CNN, which runs the network once per image; R-CNN runs it once "
            "per proposal."
        ),
        2010: (
            "R-CNN does not run the network on the whole image at all: once per proposal, 2,000 "
            "per image."
        ),
    },
    otherwise=(
        "R-CNN warps every proposal and runs the CNN on each one: proposals per image × images."
    ),
    explanation=(
        "R-CNN runs the CNN on every warped proposal: 10 × 2,000 = 20,000 passes, where Fast "
        "R-CNN runs it 10 times "
        "and cuts the 20,000 RoIs out of the 10 feature maps."
    ),
)


def _points():
    yield 0.0, 0.0
    yield 2.0, 3.0  # a cell exactly
    yield 1.5, 0.5  # half-way between cells
    yield 0.25, 3.75
    yield 4.0, 4.0  # the last cell
    rng = np.random.default_rng(14)
    for y, x in rng.uniform(0, 4, size=(6, 2)):
        yield float(y), float(x)


def _bilinear_reference(grid, y, x):
    y0, x0 = int(np.floor(y)), int(np.floor(x))
    y1, x1 = min(y0 + 1, grid.shape[0] - 1), min(x0 + 1, grid.shape[1] - 1)
    dy, dx = y - y0, x - x0
    return (
        (1 - dy) * (1 - dx) * grid[y0, x0]
        + (1 - dy) * dx * grid[y0, x1]
        + dy * (1 - dx) * grid[y1, x0]
        + dy * dx * grid[y1, x1]
    )


@exercise(
    "14.bilinear",
    explanation=(
        "Take the four cells around the point: rows floor(y) and floor(y) + 1, columns floor(x) "
        "and floor(x) + 1 "
        "(clipped to the map). With dy = y − floor(y) and dx = x − floor(x), mix each row's two "
        "cells by dx, "
        "then the two rows by dy: (1 − dy)(1 − dx) f00 + (1 − dy) dx f01 + dy (1 − dx) f10 + dy "
        "dx f11. RoIAlign "
        "reads every sample point this way; crop_and_resize does the same."
    ),
)
def _(my_bilinear):
    grid = np.arange(25.0).reshape(5, 5) ** 1.5  # not linear: a wrong weight shows
    for y, x in _points():
        got = call(my_bilinear, grid.copy(), y, x)
        try:
            value = float(np.asarray(got, dtype=float).reshape(()))
        except (TypeError, ValueError):
            return f"my_bilinear(grid, {y}, {x}) returned {got!r}: return one number."
        want = _bilinear_reference(grid, y, x)
        if abs(value - want) <= 1e-6 * max(1.0, abs(want)):
            continue
        swapped = _bilinear_reference(grid.T, y, x)  # grid[x, y]: rows and columns mixed up
        if abs(value - swapped) < 1e-6 * max(1.0, abs(swapped)):
            return "Rows go with y and columns with x: read grid[row, column] = grid[y, x]."
        nearest = grid[int(round(y)), int(round(x))]
        if abs(value - nearest) < 1e-9 and (y % 1 or x % 1):
            return (
                f"At ({y}, {x}) you returned the nearest cell; bilinear sampling mixes the four "
                f"cells around the "
                "point, each weighted by how close it is."
            )
        return (
            f"At (y={y}, x={x}) the right value is {want:.4f}, you gave {value:.4f}. Weight the "
            f"cell at "
            "(floor(y), floor(x)) by (1 − dy)(1 − dx), and clip the +1 neighbours to the map's "
            "last row and column."
        )
    return None


@exercise(
    "14.rpn-labels",
    explanation=(
        "IoUs with the box (0, 0, 20, 20): 1.0, 0.64, 0.25 and 0.48. The RPN labels an anchor "
        "'object' (0) at IoU "
        "0.7 or more, or when it is the box's best anchor; 'background' (1) below 0.3; the rest "
        "(0.3 to 0.7) are "
        "ignored (-1): [0, -1, 1, -1]."
    ),
)
def _(answer):
    values = expect_array(answer, (4,), dtype_kind="n")
    values = [int(v) if float(v).is_integer() else v for v in np.asarray(values).tolist()]
    if values == [0, -1, 1, -1]:
        return None
    if values == [0, 0, 1, 1] or values == [0, 0, 1, 0]:
        return (
            "Lesson 13's 0.5 / 0.4 thresholds? The RPN uses 0.7 for object and 0.3 for background."
        )
    if values[2] != 1:
        return "Anchor 2 overlaps the box by IoU 0.25, below 0.3: background (1)."
    if values[1] != -1 or values[3] != -1:
        return "IoU 0.64 and 0.48 are neither 0.7 or more nor below 0.3: those are ignored (-1)."
    return (
        "Compute the four IoUs first, then label: >= 0.7 object (0), < 0.3 background (1), "
        "in between ignored (-1)."
    )
