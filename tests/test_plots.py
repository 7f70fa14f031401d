"""Tests of cnnteach.plots: one smoke test per function, the ax handling, and bad input."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnteach import plots

RNG = np.random.default_rng(0)
DIGITS = RNG.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
LABELS = np.arange(12) % 10


@pytest.fixture
def ax():
    return Figure().subplots()


@pytest.fixture(autouse=True)
def no_show_no_rcparams(monkeypatch):
    """No plotting function may call plt.show() or change rcParams."""
    import matplotlib.pyplot as plt

    def refuse(*args, **kwargs):
        raise AssertionError("plt.show() was called")

    monkeypatch.setattr(plt, "show", refuse)
    before = dict(matplotlib.rcParams)
    yield
    after = dict(matplotlib.rcParams)
    assert {k for k in before if before[k] != after.get(k)} == set()
    plt.close("all")


# ----------------------------------------------------------------------------- smoke tests
def test_plot_digits_titles_and_images():
    axes = plots.plot_digits(DIGITS[:5], LABELS[:5], ncols=3, ax=Figure())
    assert len(axes) == 5 and all(isinstance(a, Axes) for a in axes)
    assert [a.get_title() for a in axes] == ["0", "1", "2", "3", "4"]
    np.testing.assert_array_equal(axes[2].images[0].get_array(), DIGITS[2])
    assert axes[0].images[0].get_clim() == (0, 255)


def test_plot_digits_new_figure_hides_spare_axes():
    axes = plots.plot_digits(DIGITS[:7], ncols=4)
    figure = axes[0].figure
    assert len(figure.axes) == 8 and len(axes) == 7
    assert not figure.axes[7].axison


def test_plot_digits_predictions_colour_right_and_wrong():
    axes = plots.plot_digits(DIGITS[:2], [3, 4], predictions=[3, 5], ax=Figure())
    assert axes[0].get_title() == "3 → 3" and axes[1].get_title() == "4 → 5"
    assert axes[0].title.get_color() != axes[1].title.get_color()


def test_plot_digits_accepts_channel_axis_axes_array_and_one_axes():
    axes_array = Figure().subplots(2, 3)
    axes = plots.plot_digits(DIGITS[:4, ..., None], ax=axes_array)
    assert list(axes) == list(axes_array.ravel()[:4])
    single = Figure().subplots()
    assert plots.plot_digits(DIGITS[0], ax=single)[0] is single


def test_plot_digits_scaled_images_use_unit_scale():
    axes = plots.plot_digits(DIGITS[:2].astype("float32") / 255, ax=Figure())
    assert axes[0].images[0].get_clim() == (0.0, 1.0)


def test_plot_image_colorbar_and_rgb(ax):
    assert plots.plot_image(DIGITS[0], ax=ax, title="x") is ax
    assert len(ax.figure.axes) == 2  # the image and its colour bar
    assert ax.get_title() == "x"
    rgb_ax = Figure().subplots()
    plots.plot_image(np.stack([DIGITS[0]] * 3, axis=-1), ax=rgb_ax)
    assert rgb_ax.images[0].get_array().shape == (28, 28, 3)
    assert len(rgb_ax.figure.axes) == 1


def test_plot_image_batch_of_one_and_new_figure():
    ax = plots.plot_image(DIGITS[:1, ..., None], colorbar=False)
    assert ax.images[0].get_array().shape == (28, 28)


def test_plot_pixels_writes_every_value(ax):
    image = DIGITS[0, :6, :5]
    plots.plot_pixels(image, ax=ax)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in image.ravel()]
    dark, light = np.array([[0, 255]], dtype=np.uint8), Figure().subplots()
    plots.plot_pixels(dark, ax=light)
    assert light.texts[0].get_color() == "white" and light.texts[1].get_color() == "black"


def test_plot_pixels_full_digit_floats_and_no_values():
    ax = plots.plot_pixels(DIGITS[0])
    assert len(ax.texts) == 784
    floats = plots.plot_pixels(np.array([[0.25, 1.0]]), ax=Figure().subplots())
    assert [t.get_text() for t in floats.texts] == ["0.25", "1.00"]
    bare = plots.plot_pixels(DIGITS[0], ax=Figure().subplots(), values=False)
    assert len(bare.texts) == 0


def test_plot_class_counts_bars(ax):
    plots.plot_class_counts(np.array([0, 2, 2, 2, 9]), ax=ax)
    assert [int(b.get_height()) for b in ax.patches] == [1, 0, 3, 0, 0, 0, 0, 0, 0, 1]
    fixed = plots.plot_class_counts([1, 1], ax=Figure().subplots(), num_classes=10)
    assert len(fixed.patches) == 10


def test_plot_class_counts_new_figure_accepts_float_whole_numbers():
    ax = plots.plot_class_counts(np.array([0.0, 1.0, 1.0]))
    assert [int(b.get_height()) for b in ax.patches] == [1, 2]


def test_plot_mean_digits_draws_class_means():
    images = DIGITS[:10]
    labels = np.array([0, 1] * 5)
    axes = plots.plot_mean_digits(images, labels, ax=Figure())
    np.testing.assert_allclose(axes[1].images[0].get_array(), images[labels == 1].mean(axis=0))
    assert [a.get_title() for a in axes] == ["0", "1"]
    chosen = plots.plot_mean_digits(images[..., None], labels, classes=[1])
    assert len(chosen) == 1 and chosen[0].get_title() == "1"


def test_plot_channels_panels():
    rgb = np.stack([DIGITS[0], DIGITS[1], DIGITS[2]], axis=-1)
    axes = plots.plot_channels(rgb)
    assert len(axes) == 4
    np.testing.assert_array_equal(axes[2].images[0].get_array(), DIGITS[1])
    assert (
        plots.plot_channels(rgb.astype("float32") / 255, ax=Figure().subplots(1, 4))[3].get_title()
        == "blue [..., 2]"
    )


def test_plot_one_hot_grid(ax):
    one_hot = np.eye(10)[[5, 0, 4]]
    plots.plot_one_hot(one_hot, ax=ax, labels=[5, 0, 4])
    assert len(ax.texts) == 30
    assert [t.get_text() for t in ax.texts].count("1") == 3
    assert plots.plot_one_hot(np.eye(3)).images[0].get_array().shape == (3, 3)


def test_plot_probabilities_marks_prediction_and_label(ax):
    p = np.array([0.05, 0.05, 0.1, 0.6, 0.2])
    plots.plot_probabilities(p, ax=ax, label=4)
    assert ax.get_title() == "predicted 3 (p = 0.60), label 4: wrong"
    assert [round(b.get_height(), 2) for b in ax.patches] == list(p)
    batch = plots.plot_probabilities(p[None].astype("float32"), title="mine")
    assert batch.get_title() == "mine"


def test_plot_pixel_histogram_counts_every_pixel(ax):
    plots.plot_pixel_histogram(DIGITS, ax=ax, bins=8, log=False)
    assert len(ax.patches) == 8
    assert sum(int(p.get_height()) for p in ax.patches) == DIGITS.size
    assert plots.plot_pixel_histogram(DIGITS[0].astype("float32") / 255) is not None


def test_multi_panel_functions_accept_fig_like_inspection():
    figure = Figure()
    axes = plots.plot_digits(DIGITS[:3], fig=figure)
    assert all(a.figure is figure for a in axes)
    assert len(plots.plot_mean_digits(DIGITS[:4], [0, 1, 0, 1], fig=Figure())) == 2
    assert len(plots.plot_channels(np.zeros((4, 4, 3)), fig=Figure())) == 4


def test_plotting_accepts_subfigures():
    subfigures = Figure().subfigures(1, 2)
    axes = plots.plot_digits(DIGITS[:3], ax=subfigures[0])
    assert all(a.figure is subfigures[0] for a in axes)


# ----------------------------------------------------------------------------- bad input
BAD_IMAGES = [
    None,
    "digit",
    {"a": 1},
    np.array(["a", "b"]),
    np.zeros(0),
    [[1, 2], [3]],
    np.zeros(5),
]


@pytest.mark.parametrize("bad", BAD_IMAGES, ids=lambda b: type(b).__name__)
@pytest.mark.parametrize(
    "draw",
    [
        plots.plot_image,
        plots.plot_pixels,
        plots.plot_digits,
        plots.plot_channels,
        plots.plot_pixel_histogram,
    ],
    ids=lambda f: f.__name__,
)
def test_bad_images_raise_one_clear_value_error(draw, bad):
    if (
        draw is plots.plot_pixel_histogram
        and isinstance(bad, np.ndarray)
        and bad.dtype.kind == "f"
        and bad.size
    ):
        pytest.skip("any non-empty numeric array is a valid histogram input")
    with pytest.raises(ValueError) as info:
        draw(bad, ax=Figure().subplots() if draw in (plots.plot_image, plots.plot_pixels) else None)
    message = str(info.value)
    assert message and "\n" not in message


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: plots.plot_image(DIGITS[:3]), "batch of images"),
        (lambda: plots.plot_pixels(np.zeros((2, 2, 3))), "shape"),
        (lambda: plots.plot_digits(DIGITS[:3], [1, 2]), "3 images but 2 labels"),
        (lambda: plots.plot_digits(DIGITS[:3], ncols=0), "ncols"),
        (
            lambda: plots.plot_digits(DIGITS[:3], ax=Figure().subplots()),
            "one Axes cannot hold 3 panels",
        ),
        (lambda: plots.plot_digits(DIGITS[:3], ax=Figure().subplots(1, 2)), "3 panels need 3 Axes"),
        (lambda: plots.plot_digits(DIGITS[:3], ax="figure"), "ax must be None"),
        (lambda: plots.plot_image(DIGITS[0], ax=Figure()), "ax must be a matplotlib Axes"),
        (lambda: plots.plot_digits(DIGITS[:3], ax=Figure(), fig=Figure()), "either ax or fig"),
        (
            lambda: plots.plot_digits(DIGITS[:3], fig=Figure().subplots()),
            "fig must be a matplotlib Figure",
        ),
        (lambda: plots.plot_class_counts(np.eye(10)), "np.argmax"),
        (lambda: plots.plot_class_counts([0.5, 1.0]), "whole class numbers"),
        (lambda: plots.plot_class_counts([-1, 2]), "from 0 up"),
        (lambda: plots.plot_class_counts([3, 4], num_classes=4), "num_classes"),
        (lambda: plots.plot_mean_digits(DIGITS[:3], [0, 1]), "3 images but 2 labels"),
        (lambda: plots.plot_mean_digits(DIGITS[:2], [0, 1], classes=[7]), "no image has label 7"),
        (lambda: plots.plot_mean_digits(np.zeros((2, 4, 4, 3)), [0, 1]), "greyscale"),
        (lambda: plots.plot_channels(DIGITS[0]), "(H, W, 3)"),
        (lambda: plots.plot_one_hot(np.eye(3)[0]), "2-D"),
        (lambda: plots.plot_one_hot(np.eye(3), labels=[0, 1]), "3 rows but there are 2 labels"),
        (lambda: plots.plot_probabilities([2.0, 3.0]), "softmax"),
        (lambda: plots.plot_probabilities([[0.5, 0.5], [0.5, 0.5]]), "one row"),
        (lambda: plots.plot_probabilities([0.5, 0.5], label=4), "only 2 probabilities"),
        (lambda: plots.plot_pixel_histogram(DIGITS, bins=0), "bins"),
    ],
)
def test_bad_arguments_say_what_to_do(call, fragment):
    with pytest.raises(ValueError, match=None) as info:
        call()
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------------- module rules
def test_importing_plots_does_not_import_tensorflow_or_keras():
    code = (
        "import sys, cnnteach.plots; print(any(m.split('.')[0] "
        "in ('tensorflow', 'keras') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_every_public_function_is_documented_with_an_example():
    for name in plots.__all__:
        doc = getattr(plots, name).__doc__
        assert doc and "Examples" in doc and ">>>" in doc and "ax" in doc, name
