"""cnnteach.anchor_explorer: the pure coverage count, the drawing and the widget."""

from __future__ import annotations

import numpy as np
import pytest

from cnnteach.anchor_explorer import anchor_coverage, anchor_explorer, parse_numbers, plot_anchors
from cnnteach.boxes import make_anchors, pairwise_iou
from cnnteach.detect import Canvas


def test_coverage_counts_boxes_with_a_good_anchor():
    # one anchor per cell, 8 x 8, stride 8: a box equal to a cell is covered, one spanning four cells is not
    boxes = [[8, 8, 16, 16], [4, 4, 12, 12], [0, 0, 32, 32]]
    found = anchor_coverage(boxes, (32, 32), stride=8, sizes=[8], ratios=[1])
    assert found.n_anchors == 16 and found.total == 3
    assert found.best_iou.round(3).tolist() == [1.0, round(16 / 112, 3), round(64 / 1024, 3)]
    assert found.covered == 1 and found.best_anchor[0] == 5  # row 1, column 1
    bigger = anchor_coverage(boxes, (32, 32), stride=8, sizes="8, 32", ratios="1")
    assert (
        bigger.covered == 2
    )  # a 32-pixel anchor centred at (12, 12), (20, 20) ... covers the big box
    assert str(found) == "1 of 3 digits have an anchor with IoU >= 0.5 (16 anchors)"


def test_coverage_agrees_with_the_iou_table_on_canvases():
    rng = np.random.default_rng(0)
    corners = rng.integers(0, 70, size=(30, 2))
    boxes = np.concatenate([corners, corners + rng.integers(6, 26, size=(30, 2))], axis=1)
    found = anchor_coverage(
        [boxes[:10], boxes[10:]], (96, 96), stride=8, sizes=(12, 20), ratios=(0.5, 1)
    )
    table = pairwise_iou(boxes, make_anchors((12, 12), 8, (12, 20), (0.5, 1)))
    assert found.covered == int((table.max(axis=1) >= 0.5).sum()) and found.total == 30


def test_bad_settings_get_one_sentence():
    with pytest.raises(ValueError, match="positive numbers separated by commas"):
        parse_numbers("12, big", "sizes")
    with pytest.raises(ValueError, match="one or more positive numbers"):
        parse_numbers("", "ratios")
    with pytest.raises(ValueError, match="stride must be"):
        anchor_coverage([[0, 0, 4, 4]], (32, 32), stride=0, sizes=[8], ratios=[1])


def test_plot_and_widget():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image = np.zeros((96, 96), np.uint8)
    canvas = Canvas(image, np.array([[10, 10, 22, 30], [50, 40, 56, 60]]), np.array([3, 1]))
    ax = plot_anchors(image, canvas.boxes, stride=8, sizes=[12, 20], ratios=[0.5, 1])
    assert len(ax.patches) == 4 + 2 + 2
    plt.close("all")
    explorer = anchor_explorer([canvas])
    assert "digits have an anchor" in explorer.readout.value
    explorer.controls["sizes"].value = "4"
    assert "0 of 2 digits" in explorer.readout.value
    explorer.controls["ratios"].value = "wide"
    assert "Impossible" in explorer.readout.value
    plt.close("all")
