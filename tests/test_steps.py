"""cnnteach.steps: the pure step functions, impossible settings included."""

import itertools

import numpy as np
import pytest

from cnnteach.arithmetic import conv_output_size, pool_output_size
from cnnteach.ops import conv2d, max_pool2d
from cnnteach.steps import CONV_RANGES, KERNEL_NAMES, POOL_RANGES, conv_step, make_kernel, pool_step


def test_make_kernel():
    assert make_kernel("vertical edge").tolist() == [[-1, 0, 1]] * 3
    assert np.array_equal(make_kernel("horizontal edge", 4), make_kernel("vertical edge", 4).T)
    for name, size in itertools.product(KERNEL_NAMES, range(1, 8)):
        k = make_kernel(name, size)
        assert k.shape == (size, size)
        assert np.isclose(k.sum(), 1.0 if name == "blur" else 0.0)
    for bad in [0, -1, 2.0, True]:
        with pytest.raises(ValueError):
            make_kernel("blur", bad)
    with pytest.raises(ValueError, match="unknown kernel"):
        make_kernel("sharpen")


def test_conv_step_window_products_sum(digit):
    step = conv_step(digit, 3, 1, 0, 8, 12)
    assert step.possible and step.output_shape == (26, 26)
    np.testing.assert_array_equal(step.window, digit[8:11, 12:15])
    np.testing.assert_allclose(step.products, digit[8:11, 12:15] * make_kernel("vertical edge"))
    assert np.isclose(step.total, step.products.sum())
    assert np.isclose(step.total, step.output[8, 12])
    full = conv2d(digit[None, :, :, None], make_kernel("vertical edge")[:, :, None, None])[
        0, :, :, 0
    ]
    np.testing.assert_allclose(step.output, full)
    assert np.isnan(step.partial).sum() == 26 * 26 - (8 * 26 + 12 + 1)
    assert not np.isnan(step.partial[8, 12]) and np.isnan(step.partial[8, 13])
    assert step.readout.startswith("Output: 26 × 26 ·") and "floor(25 / 1) + 1" in step.formula


def test_conv_step_padding_stride_and_clamping(digit):
    step = conv_step(digit, 5, 2, 1, 40, 3, kernel="blur")
    assert step.output_shape == (13, 13) == (conv_output_size(28, 5, 2, 1),) * 2
    assert (step.row, step.col) == (
        12,
        3,
    ) and "row 40 is past the last output row (12)" in step.note
    assert step.unused == (1, 1) and "leaves the last 1 row(s)" in step.note
    assert step.padded.shape == (30, 30) and (step.top, step.left) == (24, 6)
    assert np.isclose(step.total, step.padded[24:29, 6:11].mean())
    assert "padding='same'" in conv_step(digit, 3, 1, 1).note
    custom = conv_step(digit, 2, 1, 0, kernel=np.array([[1.0, 0], [0, -1]]))
    assert custom.output_shape == (27, 27)


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (
            dict(kernel_size=29),
            "a 29 × 29 kernel does not fit in the 28 × 28 image padded by 0 (28 + 2×0 = 28)",
        ),
        (dict(kernel_size=35, padding=3), "padded by 3 (28 + 2×3 = 34)"),
        (dict(kernel_size=0), "The kernel size must be at least 1"),
        (dict(stride=0), "The stride must be at least 1"),
        (dict(padding=-1), "The padding must be 0 or more"),
        (dict(kernel_size=2.5), "The kernel size must be a whole number"),
        (dict(stride=None), "The stride must be a whole number"),
    ],
)
def test_conv_step_impossible_settings_explain_themselves(digit, kwargs, reason):
    step = conv_step(digit, **kwargs)
    assert not step.possible and reason in step.impossible
    assert step.readout.startswith("Impossible: ") and step.output is None


def test_conv_step_rejects_a_bad_image_or_kernel():
    with pytest.raises(ValueError, match=r"must have shape \(H, W\) or \(H, W, 1\)"):
        conv_step(np.zeros((2, 28, 28)), 3)
    with pytest.raises(ValueError, match="must hold numbers"):
        conv_step(np.array([["a", "b"]]), 1)
    with pytest.raises(ValueError, match="kernel_size is 3"):
        conv_step(np.zeros((5, 5)), 3, kernel=np.ones((2, 2)))
    assert conv_step(np.zeros((28, 28, 1)), 3).possible  # a trailing channel axis is fine


def test_pool_step(digit):
    step = pool_step(digit[:13, :13], 2, 2, 5, 4)
    assert step.output_shape == (6, 6) and step.unused == (1, 1)
    np.testing.assert_array_equal(step.window, digit[10:12, 8:10])
    assert step.value == digit[10:12, 8:10].max() == step.window[step.winner]
    assert "the floor leaves the last 1 row(s)" in step.note and "floor(11 / 2) + 1" in step.formula
    avg = pool_step(digit, 3, 2, 1, 1, mode="average")
    assert np.isclose(avg.value, digit[2:5, 2:5].mean()) and avg.winner is None
    same = pool_step(digit[:13, :13], 2, 2, 6, 6, padding="same")
    assert same.output_shape == (7, 7) and same.unused == (0, 0)
    assert np.isneginf(same.window).sum() == 3  # the corner window hangs over the padding
    assert same.readout.startswith("Output: 7 × 7")
    np.testing.assert_allclose(
        pool_step(digit, 2, None).output, max_pool2d(digit[None, :, :, None])[0, :, :, 0]
    )


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (
            dict(pool_size=29),
            "a 29 × 29 pool does not fit in the 28 × 28 image with padding='valid'",
        ),
        (dict(pool_size=0), "The pool size must be at least 1"),
        (dict(stride=0), "The stride must be at least 1"),
        (dict(padding="full"), "Padding must be 'valid' or 'same'"),
        (dict(mode="min"), "Mode must be 'max' or 'average'"),
    ],
)
def test_pool_step_impossible_settings(digit, kwargs, reason):
    step = pool_step(digit, **kwargs)
    assert (
        not step.possible and reason in step.impossible and step.readout.startswith("Impossible: ")
    )
    assert pool_step(digit, 29, padding="same").possible


def test_no_conv_slider_combination_raises(digit):
    """Every kernel/stride/padding on the full ranges, with positions inside and past the output."""
    kernels = range(CONV_RANGES["kernel"][0], CONV_RANGES["kernel"][1] + 1)
    strides = range(CONV_RANGES["stride"][0], CONV_RANGES["stride"][1] + 1)
    paddings = range(CONV_RANGES["padding"][0], CONV_RANGES["padding"][1] + 1)
    seen_impossible = 0
    for k, s, p in itertools.product(kernels, strides, paddings):
        for row, col in [(0, 0), (13, 7), (33, 33)]:
            step = conv_step(digit, k, s, p, row, col)
            if k > 28 + 2 * p:
                seen_impossible += 1
                assert step.readout.startswith("Impossible:")
                continue
            assert step.output_shape == (conv_output_size(28, k, s, p),) * 2
            assert step.readout.startswith(
                f"Output: {step.output_shape[0]} × {step.output_shape[1]}"
            )
            assert np.isclose(step.total, step.output[step.row, step.col])
    assert seen_impossible > 0


def test_no_pool_slider_combination_raises(digit):
    pools = range(POOL_RANGES["pool"][0], POOL_RANGES["pool"][1] + 1)
    strides = range(POOL_RANGES["stride"][0], POOL_RANGES["stride"][1] + 1)
    for k, s, padding, mode in itertools.product(
        pools, strides, ("valid", "same"), ("max", "average")
    ):
        for row, col in [(0, 0), (27, 27)]:
            step = pool_step(digit, k, s, row, col, padding, mode)
            if padding == "valid" and k > 28:
                assert step.readout.startswith("Impossible:")
                continue
            assert step.output_shape == (pool_output_size(28, k, s, padding),) * 2
            assert np.isclose(step.value, step.output[step.row, step.col])
