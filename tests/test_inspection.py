"""cnnteach.inspection: filters, feature maps, occlusion, saliency and digit transforms."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnnteach import inspection
from cnnteach.inspection import (
    occlusion_sensitivity,
    plot_feature_maps,
    plot_filters,
    plot_heatmap,
    rotate_digit,
    shift_digit,
    thicken_digit,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- transforms
def test_shift_moves_and_drops():
    image = np.arange(16, dtype=np.uint8).reshape(4, 4)
    right = shift_digit(image, dx=1)
    assert right.dtype == np.uint8 and right[:, 0].sum() == 0
    assert np.array_equal(right[:, 1:], image[:, :3])
    up = shift_digit(image, dy=-2)
    assert np.array_equal(up[:2], image[2:]) and not up[2:].any()
    assert not shift_digit(image, dx=4).any()
    assert np.array_equal(shift_digit(shift_digit(image, 1, 1), -1, -1)[:3, :3], image[:3, :3])
    with pytest.raises(ValueError, match="whole number"):
        shift_digit(image, dx=1.5)


def test_thicken_grows_and_shrinks_strokes():
    line = np.zeros((9, 9), dtype=np.uint8)
    line[4, 2:7] = 200
    thick = thicken_digit(line, 1)
    assert thick.dtype == np.uint8 and thick.max() == 200
    assert int((thick > 0).sum()) == 3 * 7  # 3 rows, 5 + 2 columns
    assert int((thicken_digit(line, 2) > 0).sum()) == 5 * 9
    assert np.array_equal(thicken_digit(thick, -1), line)  # erosion undoes this dilation
    assert np.array_equal(thicken_digit(line, 0), line)
    with pytest.raises(ValueError, match="whole number"):
        thicken_digit(line, "1")


def test_rotate_turns_anticlockwise_on_screen():
    image = np.zeros((5, 5), dtype=np.uint8)
    image[2, 4] = 255  # right of the centre
    assert rotate_digit(image, 90)[0, 2] == 255  # ends up above the centre
    assert rotate_digit(image, -90)[4, 2] == 255  # clockwise: below
    assert rotate_digit(image, 180)[2, 0] == 255
    assert np.array_equal(rotate_digit(image, 0), image)
    assert np.array_equal(rotate_digit(image, 360), image)
    floats = rotate_digit(image.astype(np.float32) / 255, 45)
    assert floats.dtype == np.float32 and 0 <= floats.min() and floats.max() <= 1
    with pytest.raises(ValueError, match="degrees must be a number"):
        rotate_digit(image, "left")


def test_transforms_need_one_image():
    for transform in (
        lambda x: shift_digit(x, 1),
        lambda x: thicken_digit(x, 1),
        lambda x: rotate_digit(x, 10),
    ):
        with pytest.raises(ValueError, match="one greyscale image"):
            transform(np.zeros((2, 28, 28)))


# ----------------------------------------------------------------------------- occlusion
class TopInk:
    """A stand-in network: P(class 1) is the share of ink in the top half of the image."""

    def __init__(self):
        self.calls = 0

    def predict(self, x, batch_size=None, verbose=0):
        self.calls += 1
        p = x[:, :14].sum(axis=(1, 2, 3)) / 196.0
        return np.stack([1 - p, p], axis=1)


def test_occlusion_is_one_batch_and_finds_the_pixels_that_matter():
    model = TopInk()
    heat, label = occlusion_sensitivity(model, np.ones((28, 28), np.float32), patch=7, stride=7)
    assert model.calls == 1
    assert label == 1  # the predicted class: all the top half is ink
    assert heat.shape == (28, 28)
    assert np.allclose(heat[:14], 49 / 196) and np.allclose(heat[14:], 0)
    # explaining class 0 instead: hiding top ink *raises* its probability
    heat0, label0 = occlusion_sensitivity(
        model, np.ones((28, 28), np.uint8) * 255, label=0, patch=4, stride=4
    )
    assert label0 == 0 and heat0[:14].max() < 0


def test_occlusion_rejects_bad_settings():
    with pytest.raises(ValueError, match="patch must be"):
        occlusion_sensitivity(TopInk(), np.zeros((28, 28)), patch=40)
    with pytest.raises(ValueError, match="fill must lie"):
        occlusion_sensitivity(TopInk(), np.zeros((28, 28)), fill=255)
    with pytest.raises(ValueError, match="label must be a class number"):
        occlusion_sensitivity(TopInk(), np.zeros((28, 28)), label=5)
    with pytest.raises(ValueError, match=r"pixels in \[0, 1\]"):
        occlusion_sensitivity(TopInk(), np.full((28, 28), 200.0))


# ----------------------------------------------------------------------------- with Keras
@pytest.fixture(scope="module")
def model():
    keras = pytest.importorskip("keras")
    from cnnteach.models import lesson_model

    keras.utils.set_random_seed(1)
    return lesson_model()


@pytest.fixture(scope="module")
def digit():
    rng = np.random.default_rng(0)
    image = np.zeros((28, 28), dtype=np.uint8)
    image[6:22, 10:18] = rng.integers(100, 256, size=(16, 8))
    return image


def test_feature_maps_are_the_layers_outputs_and_conv2d_by_hand(model, digit):
    from cnnteach import ops

    maps = inspection.feature_maps(model, digit)
    assert {k: v.shape for k, v in maps.items()} == {
        "conv_1": (26, 26, 16),
        "pool_1": (13, 13, 16),
        "conv_2": (11, 11, 32),
        "pool_2": (5, 5, 32),
    }
    kernel, bias = model.get_layer("conv_1").get_weights()
    by_hand = ops.relu(ops.conv2d(digit[None, :, :, None] / 255.0, kernel, bias))[0]
    np.testing.assert_allclose(maps["conv_1"], by_hand, atol=1e-5)
    np.testing.assert_allclose(maps["pool_1"], ops.max_pool2d(maps["conv_1"][None])[0], atol=1e-6)
    assert inspection.first_layer_filters(model).shape == (3, 3, 1, 16)


def test_gradient_saliency_matches_finite_differences(model, digit):
    saliency, label = inspection.gradient_saliency(model, digit)
    probs = model.predict(digit[None, :, :, None] / 255.0, verbose=0)[0]
    assert label == int(np.argmax(probs)) and saliency.shape == (28, 28) and saliency.min() >= 0
    x = digit.astype(np.float64) / 255.0
    eps = 1e-3
    for r, c in [(10, 12), (14, 15), (3, 3)]:
        plus, minus = x.copy(), x.copy()
        plus[r, c] += eps
        minus[r, c] -= eps
        p = model.predict(np.stack([plus, minus])[..., None].astype(np.float32), verbose=0)[
            :, label
        ]
        numeric = abs(np.log(p[0]) - np.log(p[1])) / (2 * eps)
        assert saliency[r, c] == pytest.approx(numeric, rel=0.05, abs=1e-3)
    other, label3 = inspection.gradient_saliency(model, digit, label=3)
    assert label3 == 3 and not np.allclose(other, saliency)


# ----------------------------------------------------------------------------- plots
def test_plot_filters_grid():
    axes = plot_filters(np.ones((3, 3, 1, 10)), ncols=4)
    assert len(axes) == 10 and axes[9].get_title() == "filter 9"
    assert len(axes[0].figure.axes) == 12  # 3 rows of 4, two switched off
    fig = plt.figure()
    assert len(plot_filters(np.ones((3, 3, 5)), fig=fig)) == 5
    with pytest.raises(ValueError, match="fig must be a matplotlib Figure"):
        plot_filters(np.ones((3, 3, 1, 2)), fig=plt.gca())
    with pytest.raises(ValueError, match="rows, cols, in_channels, filters"):
        plot_filters(np.ones((3, 3)))


def test_plot_feature_maps_rows_per_layer():
    grid = plot_feature_maps({"a": np.ones((26, 26, 3)), "b": np.ones((1, 13, 13, 6))}, n_maps=4)
    assert grid.shape == (2, 4)
    assert not grid[0, 3].axison  # layer "a" has only 3 channels
    assert grid[1, 0].get_ylabel().startswith("b\n13 × 13 × 6")
    with pytest.raises(ValueError, match="rows, cols, channels"):
        plot_feature_maps({"a": np.ones((26, 26))})


def test_plot_heatmap_draws_over_the_digit():
    fig, ax = plt.subplots()
    assert (
        plot_heatmap(np.zeros((28, 28), np.uint8), np.ones((28, 28)), ax=ax, symmetric=True) is ax
    )
    assert len(ax.images) == 2
    with pytest.raises(ValueError, match="image's shape"):
        plot_heatmap(np.zeros((28, 28)), np.ones((5, 5)))
