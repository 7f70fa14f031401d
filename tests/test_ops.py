"""cnnteach.ops: the numpy layers equal Keras' layers to 1e-5;
loop and vectorised versions agree.
"""

import numpy as np
import pytest

from cnnteach.ops import avg_pool2d, conv2d, conv2d_loop, flatten, max_pool2d, pad_images, relu

CONV_CASES = [
    # (N, H, W, C), (KH, KW, F), stride, padding
    ((2, 28, 28, 1), (3, 3, 10), 1, "valid"),
    ((2, 28, 28, 1), (3, 3, 4), 1, "same"),
    ((3, 9, 7, 2), (3, 2, 5), 2, "valid"),
    ((3, 9, 7, 2), (3, 2, 5), 2, "same"),
    ((1, 10, 10, 3), (5, 5, 2), 3, "same"),
    ((1, 10, 10, 3), (4, 4, 2), (2, 3), "same"),
    ((2, 6, 11, 4), (1, 1, 3), 1, "valid"),
    ((1, 5, 5, 1), (5, 5, 1), 1, "valid"),
    ((1, 4, 4, 1), (6, 6, 2), 1, "same"),
    ((2, 13, 13, 10), (3, 3, 6), 2, "valid"),
]


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _random_case(rng, shape, kernel):
    x = rng.normal(size=shape).astype("float32")
    k = rng.normal(size=(kernel[0], kernel[1], shape[3], kernel[2])).astype("float32")
    b = rng.normal(size=kernel[2]).astype("float32")
    return x, k, b


@pytest.mark.parametrize("shape, kernel, stride, padding", CONV_CASES)
def test_conv2d_equals_keras_conv2d(keras, shape, kernel, stride, padding):
    x, k, b = _random_case(np.random.default_rng(sum(shape) + sum(kernel)), shape, kernel)
    layer = keras.layers.Conv2D(kernel[2], kernel[:2], strides=stride, padding=padding)
    layer.build(shape)
    layer.set_weights([k, b])
    expected = keras.ops.convert_to_numpy(layer(x))
    ours = conv2d(x, k, b, stride=stride, padding=padding)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
    small = slice(0, 1)  # the loop is slow: one image is enough
    np.testing.assert_allclose(
        conv2d_loop(x[small], k, b, stride, padding), ours[small], rtol=1e-5, atol=1e-5
    )


def test_loop_equals_vectorised_with_integer_padding():
    rng = np.random.default_rng(0)
    for padding, stride in [(1, 1), (2, 2), (3, (1, 2)), (0, 3)]:
        x, k, b = _random_case(rng, (2, 7, 8, 2), (3, 4, 3))
        fast = conv2d(x, k, b, stride=stride, padding=padding)
        np.testing.assert_allclose(
            conv2d_loop(x, k, b, stride=stride, padding=padding), fast, rtol=1e-5, atol=1e-5
        )
        padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        np.testing.assert_allclose(conv2d(padded, k, b, stride=stride), fast, rtol=1e-5, atol=1e-5)


def test_conv2d_is_cross_correlation_without_a_flip():
    x = np.zeros((1, 3, 3, 1))
    x[0, 0, 0, 0] = 1.0
    k = np.arange(9.0).reshape(3, 3, 1, 1)
    assert conv2d(x, k)[0, 0, 0, 0] == k[0, 0, 0, 0]  # top-left pixel meets top-left weight


def test_conv2d_dtypes():
    digit = np.full((1, 28, 28, 1), 255, dtype=np.uint8)
    out = conv2d(digit, np.ones((3, 3, 1, 1), np.float32))
    assert out.dtype == np.float32 and out[0, 0, 0, 0] == 9 * 255  # no uint8 overflow
    assert conv2d(digit / 255.0, np.ones((3, 3, 1, 1))).dtype == np.float64


POOL_CASES = [
    ((2, 26, 26, 10), 2, None, "valid"),
    ((2, 13, 13, 10), 2, None, "valid"),
    ((2, 13, 13, 3), 2, None, "same"),
    ((1, 9, 11, 2), 3, 2, "valid"),
    ((1, 9, 11, 2), 3, 2, "same"),
    ((1, 10, 7, 1), (2, 3), (3, 1), "same"),
    ((3, 5, 5, 1), 5, None, "valid"),
    ((1, 7, 7, 2), 4, 3, "same"),
]


@pytest.mark.parametrize("shape, pool, stride, padding", POOL_CASES)
def test_pooling_equals_keras(keras, shape, pool, stride, padding):
    x = np.random.default_rng(shape[1] * 7 + shape[2]).normal(size=shape).astype("float32")
    for ours, layer in [
        (max_pool2d, keras.layers.MaxPooling2D),
        (avg_pool2d, keras.layers.AveragePooling2D),
    ]:
        expected = keras.ops.convert_to_numpy(layer(pool, strides=stride, padding=padding)(x))
        result = ours(x, pool, stride, padding)
        assert result.shape == expected.shape
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


def test_pooling_by_hand():
    x = np.array(
        [[1, 3, 2, 0, 7], [4, 6, 5, 1, 8], [0, 2, 9, 3, 6], [1, 1, 4, 8, 2], [5, 5, 5, 5, 5]], float
    )
    x = x[np.newaxis, :, :, np.newaxis]
    assert max_pool2d(x)[0, :, :, 0].tolist() == [[6, 5], [2, 9]]  # last row and column dropped
    assert avg_pool2d(x)[0, :, :, 0].tolist() == [[3.5, 2.0], [1.0, 6.0]]
    assert max_pool2d(x, padding="same")[0, :, :, 0].tolist() == [[6, 5, 8], [2, 9, 6], [5, 5, 5]]
    negative = -np.ones((1, 3, 3, 1))
    assert max_pool2d(negative, padding="same").max() == -1  # padding never wins a max


def test_relu_and_flatten(keras):
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 10)).astype("float32")
    np.testing.assert_array_equal(relu(x), keras.ops.convert_to_numpy(keras.activations.relu(x)))
    flat = flatten(x)
    assert flat.shape == (2, 360)
    np.testing.assert_array_equal(flat, keras.ops.convert_to_numpy(keras.layers.Flatten()(x)))
    assert flat[1, (2 * 6 + 3) * 10 + 4] == x[1, 2, 3, 4]  # channel changes fastest


def test_pad_images():
    x = np.ones((1, 2, 2, 1), np.uint8)
    assert pad_images(x, ((1, 1), (1, 1))).dtype == np.uint8
    assert pad_images(x, ((1, 0), (0, 0)), value=-np.inf)[0, 0, 0, 0] == -np.inf
    assert pad_images(x, ((0, 0), (0, 0))) is x


@pytest.mark.parametrize("function", [conv2d, conv2d_loop])
@pytest.mark.parametrize(
    "images, kernels, kwargs, message",
    [
        (np.zeros((28, 28)), np.zeros((3, 3, 1, 1)), {}, "must be 4-D"),
        (np.zeros((1, 28, 28)), np.zeros((3, 3, 1, 1)), {}, "images[..., np.newaxis]"),
        (
            np.zeros((1, 28, 28, 3)),
            np.zeros((3, 3, 1, 10)),
            {},
            "3 channel(s) but the kernels expect 1",
        ),
        (np.zeros((1, 28, 28, 1)), np.zeros((3, 3)), {}, "kernels must be 4-D"),
        (
            np.zeros((1, 2, 2, 1)),
            np.zeros((3, 3, 1, 1)),
            {},
            "the kernel has 3 rows but the padded images have only 2",
        ),
        (np.zeros((1, 5, 2, 1)), np.zeros((3, 3, 1, 1)), {}, "columns"),
        (np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), {"stride": 0}, "stride must be positive"),
        (np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), {"padding": "full"}, "padding must be"),
        (
            np.zeros((1, 5, 5, 1)),
            np.zeros((3, 3, 1, 2)),
            {"bias": np.zeros(3)},
            "one value per filter",
        ),
        (np.array([["a"]]), np.zeros((3, 3, 1, 1)), {}, "must hold numbers"),
        (np.zeros((0, 5, 5, 1)), np.zeros((3, 3, 1, 1)), {}, "empty axis"),
    ],
)
def test_bad_conv_input_raises_clearly(function, images, kernels, kwargs, message):
    with pytest.raises(ValueError) as info:
        function(images, kernels, **kwargs)
    assert message in str(info.value)


def test_bad_pool_and_other_input_raises_clearly():
    with pytest.raises(ValueError, match="must be 4-D"):
        max_pool2d(np.zeros((26, 26)))
    with pytest.raises(ValueError, match="the pool has 3 rows but the images have only 2"):
        avg_pool2d(np.zeros((1, 2, 5, 1)), 3)
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        max_pool2d(np.zeros((1, 4, 4, 1)), padding=1)
    with pytest.raises(ValueError, match="pool_size must be positive"):
        max_pool2d(np.zeros((1, 4, 4, 1)), pool_size=0)
    with pytest.raises(ValueError, match="needs numbers"):
        relu(np.array(["x"]))
    with pytest.raises(ValueError, match="at least 2 axes"):
        flatten(np.zeros(3))
