"""cnnteach.anchor_explorer: the pure coverage count, the drawing and the widget."""

from __future__ import annotations

import numpy as np
import pytest

from cnnteach.anchor_explorer import anchor_coverage, anchor_explorer, parse_numbers, plot_anchors
from cnnteach.boxes import make_anchors, pairwise_iou
from cnnteach.canvases import Canvas


def test_coverage_counts_boxes_with_a_good_anchor():
    # one anchor per cell, 8 x 8, stride 8: a box equal to a cell is covered,
    # one spanning four cells is not
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
    assert "Cannot draw these anchors" in explorer.readout.value
    plt.close("all")


@pytest.mark.parametrize("stride", ["x", None, float("nan"), 8.7, 0, -8, True, 200])
def test_bad_strides_get_one_sentence(stride):
    with pytest.raises(ValueError, match=r"^stride must be a whole number of pixels"):
        anchor_coverage([[0, 0, 4, 4]], (96, 96), stride=stride, sizes=[8], ratios=[1])


@pytest.mark.parametrize("shape", [(96, 96, 1), (96,), "96", (96.5, 96), (0, 96), None])
def test_bad_canvas_shapes_get_one_sentence(shape):
    with pytest.raises(ValueError, match=r"^canvas_shape must be \(height, width\)"):
        anchor_coverage([[0, 0, 4, 4]], shape, stride=8, sizes=[8], ratios=[1])


def test_sequences_and_whole_float_strides_are_accepted():
    boxes = [[0, 0, 10, 20]]
    as_text = anchor_coverage(boxes, (96, 96), stride=8, sizes="12, 20", ratios="0.5, 1")
    for sizes, ratios, stride in [
        ((12, 20), (0.5, 1), 8),
        ([12.0, 20.0], np.array([0.5, 1]), 8.0),
        (np.array([12, 20]), [0.5, 1.0], np.int64(8)),
    ]:
        found = anchor_coverage(boxes, (96, 96), stride=stride, sizes=sizes, ratios=ratios)
        assert found.covered == as_text.covered and found.n_anchors == as_text.n_anchors
    assert parse_numbers(12, "sizes") == (12.0,)


def test_ratio_errors_give_ratio_examples_and_sequences_read_back():
    with pytest.raises(ValueError, match="such as 0.5, 1, 2; got 'wide'"):
        parse_numbers("wide", "ratios")
    with pytest.raises(ValueError, match=r"such as 12, 20, 32; got 12, -20"):
        parse_numbers((12, -20), "sizes")
    for bad in [None, [True], [1, "x"], {"a": 1}]:
        with pytest.raises(ValueError, match="^ratios must be"):
            parse_numbers(bad, "ratios")


@pytest.mark.parametrize("cell", [(50, 50), (12, 0), (-1, 0), (1.5, 2), "ab", 3])
def test_cells_off_the_map_are_refused(cell):
    with pytest.raises(ValueError, match=r"^cell must be \(row, col\) on the 12 × 12 feature map"):
        plot_anchors(np.zeros((96, 96)), [[0, 0, 8, 8]], stride=8, sizes=[8], ratios=[1], cell=cell)


def test_plot_refuses_a_colour_image():
    with pytest.raises(ValueError, match="one 2-D canvas"):
        plot_anchors(np.zeros((96, 96, 1)), [[0, 0, 8, 8]], stride=8, sizes=[8], ratios=[1])


def test_widget_takes_sequences_refuses_bad_strides_and_clears_on_error():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    canvas = Canvas(np.zeros((96, 96), np.uint8), np.array([[10, 10, 22, 30]]), np.array([3]))
    explorer = anchor_explorer([canvas], sizes=(12, 20, 32), ratios=(0.35, 0.7, 1.0))
    assert explorer.controls["sizes"].value == "12, 20, 32"
    assert explorer.controls["ratios"].value == "0.35, 0.7, 1"
    assert "digits have an anchor" in explorer.readout.value
    output = explorer.children[2]
    cleared = []
    output.clear_output = lambda **kw: cleared.append(kw)  # outside a kernel nothing is captured
    explorer.controls["sizes"].value = "-3"
    assert explorer.readout.value.startswith("<b>Cannot draw these anchors:</b> sizes must be")
    assert cleared == [{}]  # the old figure is removed at once, not kept under the error
    for stride in (6, 0, "8", True):
        with pytest.raises(ValueError, match=r"^stride must be one of 4, 8, 16, 32"):
            anchor_explorer([canvas], stride=stride)
    with pytest.raises(ValueError, match="^sizes must be"):
        anchor_explorer([canvas], sizes="big")
    with pytest.raises(ValueError, match="^canvases must be"):
        anchor_explorer([])
    plt.close("all")
