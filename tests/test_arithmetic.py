"""cnnteach.arithmetic: sizes agree with the shapes real Keras layers produce;
bad input is refused.
"""

import itertools

import numpy as np
import pytest

from cnnteach.arithmetic import (
    conv2d_params,
    conv_output_size,
    dense_params,
    explain_conv_output,
    explain_pool_output,
    pool_output_size,
    receptive_field,
    same_padding,
)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _conv_cases():
    """(input (h, w), kernel (h, w), stride (h, w), padding): square and non-square, many sizes."""
    cases = []
    for size, k, s in itertools.product([1, 2, 3, 5, 8, 13, 28], [1, 2, 3, 5], [1, 2, 3]):
        for padding in ("valid", "same"):
            if padding == "valid" and k > size:
                continue
            cases.append(((size, size), (k, k), (s, s), padding))
    rng = np.random.default_rng(4)
    while len(cases) < 200:
        h, w = rng.integers(1, 30, size=2)
        kh, kw = rng.integers(1, 8, size=2)
        sh, sw = rng.integers(1, 5, size=2)
        padding = ("valid", "same")[int(rng.integers(2))]
        if padding == "valid" and (kh > h or kw > w):
            continue
        cases.append(((int(h), int(w)), (int(kh), int(kw)), (int(sh), int(sw)), padding))
    return cases


def test_conv_output_size_equals_keras_conv2d_shapes(keras):
    x_cache = {}
    for (h, w), kernel, stride, padding in _conv_cases():
        x = x_cache.setdefault((h, w), np.zeros((1, h, w, 1), "float32"))
        layer = keras.layers.Conv2D(1, kernel, strides=stride, padding=padding)
        shape = tuple(layer(x).shape)
        expected = conv_output_size((h, w), kernel, stride, padding)
        assert shape[1:3] == expected, ((h, w), kernel, stride, padding, shape)
        if h == w and kernel[0] == kernel[1] and stride[0] == stride[1]:
            assert conv_output_size(h, kernel[0], stride[0], padding) == shape[1]


@pytest.mark.parametrize("layer_name", ["MaxPooling2D", "AveragePooling2D"])
def test_pool_output_size_equals_keras_pooling_shapes(keras, layer_name):
    layer_class = getattr(keras.layers, layer_name)
    rng = np.random.default_rng(5)
    cases = [
        ((s, s), (p, p), None, pad)
        for s in (1, 2, 3, 5, 6, 13, 26, 27, 28)
        for p in (1, 2, 3, 4)
        for pad in ("valid", "same")
        if not (pad == "valid" and p > s)
    ]
    while len(cases) < 150:
        h, w, ph, pw, sh, sw = (int(v) for v in rng.integers(1, [30, 30, 6, 6, 5, 5]))
        pad = ("valid", "same")[int(rng.integers(2))]
        if pad == "valid" and (ph > h or pw > w):
            continue
        cases.append(((h, w), (ph, pw), (sh, sw), pad))
    for (h, w), pool, stride, padding in cases:
        out = layer_class(pool, strides=stride, padding=padding)(np.zeros((1, h, w, 1), "float32"))
        assert tuple(out.shape)[1:3] == pool_output_size((h, w), pool, stride, padding), (
            (h, w),
            pool,
            stride,
            padding,
        )


def test_the_2019_model_sizes_and_parameters(keras):
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(10, 3, activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(100, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    assert conv_output_size(28, 3) == 26
    assert pool_output_size(26, 2) == 13 and pool_output_size(13, 2) == 6
    counts = [layer.count_params() for layer in model.layers]
    assert counts == [
        conv2d_params(3, 1, 10),
        0,
        0,
        0,
        dense_params(360, 100),
        dense_params(100, 10),
    ]
    assert model.count_params() == 37_210


def test_conv2d_params_counts_input_channels(keras):
    for k, c, f, bias in [
        (3, 1, 10, True),
        (3, 10, 16, True),
        ((5, 3), 3, 4, False),
        (1, 7, 2, True),
    ]:
        layer = keras.layers.Conv2D(f, k, use_bias=bias)
        layer.build((None, 12, 12, c))
        assert layer.count_params() == conv2d_params(k, c, f, use_bias=bias)
    assert conv2d_params(3, 10, 16) != 3 * 3 * 16 + 16  # the 2019 count forgot the channels


def test_same_padding_puts_the_odd_zero_at_the_end():
    assert same_padding(28, 3) == (1, 1)
    assert same_padding(28, 4) == (1, 2)
    assert same_padding(5, 3, stride=2) == (1, 1)
    assert same_padding(6, 3, stride=2) == (0, 1)
    assert same_padding(28, 2, stride=2) == (0, 0)
    assert same_padding(3, 7) == (3, 3)


def test_formula_has_the_floor():
    # 28 - 3 = 25 is odd, so stride 2 does not tile: the naive formula gives 13.5
    assert conv_output_size(28, 3, stride=2) == 13
    assert conv_output_size(28, 3, stride=2, padding=1) == 14
    assert conv_output_size(7, 3, stride=3) == 2
    assert conv_output_size(7, 7) == 1
    assert conv_output_size(5, 7, padding=1) == 1
    assert pool_output_size(13, 2) == 6
    assert pool_output_size(13, 2, padding="same") == 7
    assert pool_output_size(26, 3) == 8


def test_pairs_and_numpy_integers():
    assert conv_output_size((28, 28), 3) == (26, 26)
    assert conv_output_size(np.int64(28), np.int32(3)) == 26
    assert pool_output_size(np.array([26, 13]), 2) == (13, 6)
    assert conv2d_params(np.int64(3), 1, 10) == 100


def test_explanations_fill_in_the_numbers():
    e = explain_conv_output(28, 3, stride=2)
    assert (e.output_size, e.covered, e.unused, e.tiles) == (13, 27, 1, False)
    assert "floor((28 - 3 + 2×0) / 2) + 1" in e.formula and "12.5" in e.formula
    assert "leaves the last 1 unused" in str(e)
    e = explain_conv_output(28, 3)
    assert (e.output_size, e.unused, e.tiles) == (26, 0, True) and "tiles" in str(e)
    e = explain_conv_output(28, 3, padding="same")
    assert (e.output_size, e.pad_before, e.pad_after) == (28, 1, 1) and "ceil(28 / 1)" in e.formula
    assert "28 becomes 30" in str(e)
    e = explain_conv_output(28, 5, stride=3, padding=2)
    assert e.output_size == conv_output_size(28, 5, 3, 2) == 10
    assert e.covered + e.unused == 32 and e.unused == 32 - (9 * 3 + 5)
    p = explain_pool_output(13, 2)
    assert (p.output_size, p.unused) == (6, 1) and "floor((13 - 2) / 2)" in p.formula
    assert explain_pool_output(26, 2).unused == 0
    for i, k, s, pad in itertools.product(
        range(1, 15), range(1, 6), range(1, 5), ("valid", "same", 0, 1, 2)
    ):
        try:
            expected = conv_output_size(i, k, s, pad)
        except ValueError:
            with pytest.raises(ValueError):
                explain_conv_output(i, k, s, pad)
            continue
        e = explain_conv_output(i, k, s, pad)
        assert e.output_size == expected
        assert e.covered + e.unused == i + e.pad_before + e.pad_after and e.unused >= 0
        assert e.unused < s or e.output_size == 1


BAD = [
    (dict(input_size=0, kernel_size=3), "input_size must be positive"),
    (dict(input_size=-28, kernel_size=3), "input_size must be positive"),
    (dict(input_size=28, kernel_size=0), "kernel_size must be positive"),
    (dict(input_size=28, kernel_size=3, stride=0), "stride must be positive"),
    (dict(input_size=28, kernel_size=3, stride=-1), "stride must be positive"),
    (dict(input_size=28, kernel_size=29), "larger than the padded input"),
    (dict(input_size=5, kernel_size=8, padding=1), "larger than the padded input (5 + 2×1 = 7)"),
    (dict(input_size=28, kernel_size=3, padding=-1), "padding must be at least 0"),
    (dict(input_size=28, kernel_size=3, padding="full"), "padding must be 'valid' or 'same'"),
    (dict(input_size=28, kernel_size=3, padding=1.5), "padding must be"),
    (dict(input_size=28, kernel_size=3, padding=None), "padding must be"),
    (dict(input_size=28.0, kernel_size=3), "input_size must be a whole number"),
    (dict(input_size=28, kernel_size=2.5), "kernel_size must be a whole number"),
    (dict(input_size=28, kernel_size=True), "kernel_size must be a whole number"),
    (dict(input_size="28", kernel_size=3), "input_size must be a whole number"),
    (dict(input_size=28, kernel_size=3, stride=1.0), "stride must be a whole number"),
    (dict(input_size=28, kernel_size=(3, 3, 3)), "one number or a pair"),
    (dict(input_size=28, kernel_size=3, stride=None), "stride must be a whole number"),
]


@pytest.mark.parametrize("kwargs, message", BAD)
def test_impossible_conv_inputs_raise_one_clear_sentence(kwargs, message):
    with pytest.raises(ValueError) as info:
        conv_output_size(**kwargs)
    text = str(info.value)
    assert message in text
    assert text.count(". ") == 0 and text.endswith(".")  # one sentence


def test_impossible_pool_and_param_inputs_raise():
    for kwargs in [
        dict(input_size=1, pool_size=2),
        dict(input_size=13, pool_size=0),
        dict(input_size=13, pool_size=2, stride=0),
        dict(input_size=13, pool_size=2, padding=1),
        dict(input_size=13, pool_size=2, padding="full"),
        dict(input_size=13.0, pool_size=2),
    ]:
        with pytest.raises(ValueError):
            pool_output_size(**kwargs)
    with pytest.raises(ValueError, match="larger than the padded input"):
        pool_output_size(1, 2)
    for args in [(3, 0, 10), (3, 1, 0), (0, 1, 10), (3.0, 1, 10), (3, 1, 10, "yes")]:
        with pytest.raises(ValueError):
            conv2d_params(*args)
    for args in [(0, 10), (360, -1), (360.0, 100), (360, 100, 1)]:
        with pytest.raises(ValueError):
            dense_params(*args)
    with pytest.raises(ValueError, match="one axis at a time"):
        explain_conv_output((28, 28), 3)
    with pytest.raises(ValueError, match="larger than"):
        explain_pool_output(1, 2)


# ----------------------------------------------------------------------------- receptive field


def test_receptive_field_of_hand_worked_stacks():
    # r_out = r_in + (k - 1) * j_in, j_out = j_in * s, from (1, 1)
    assert receptive_field([]) == (1, 1)
    assert receptive_field([(3, 1)]) == (3, 1)
    assert receptive_field([(3, 1), (3, 1)]) == (5, 1)
    assert receptive_field([(3, 1), (3, 1), (3, 1)]) == (
        7,
        1,
    )  # three 3 × 3 see what one 7 × 7 sees
    assert receptive_field([(3, 1), (2, 2), (2, 2)]) == (6, 4)  # the 2019 network
    assert receptive_field([(3, 1), (2, 2), (3, 1), (2, 2)]) == (10, 4)  # conv, pool, conv, pool
    # strides > 1: 1 + 2*1 = 3, j 2; 3 + 2*2 = 7, j 4; 7 + 1*4 = 11, j 8
    assert receptive_field([(3, 2), (3, 2), (2, 2)]) == (11, 8)
    assert receptive_field([(7, 2), (3, 2)]) == (11, 4)  # ResNet's stem
    assert receptive_field([(1, 2), (3, 1)]) == (
        5,
        2,
    )  # a 1 × 1 with stride only spreads the next layer
    assert receptive_field([(5, 5)]) == (5, 5)
    assert receptive_field(((3, 1), [2, 2])) == (4, 2)
    assert receptive_field(np.array([[3, 1], [2, 2], [2, 2]])) == (6, 4)


def test_receptive_field_agrees_with_a_brute_force_count():
    """Follow which input pixels reach output 0 through each window, for random 1-D stacks."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        pairs = [(int(k), int(s)) for k, s in rng.integers(1, 5, size=(int(rng.integers(0, 6)), 2))]
        seen = {0}  # positions of the last layer that output 0 depends on, walked backwards
        for k, s in reversed(pairs):
            seen = {p * s + offset for p in seen for offset in range(k)}
        size, jump = receptive_field(pairs)
        assert max(seen) - min(seen) + 1 == size, pairs
        assert jump == int(np.prod([s for _, s in pairs])), pairs


def test_receptive_field_of_keras_models(keras):
    layers = keras.layers
    blog = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(10, 3, activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(100, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    assert receptive_field(blog) == (6, 4)
    lesson = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10),
        ]
    )
    assert receptive_field(lesson) == (10, 4)
    extras = keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            keras.Sequential([layers.RandomTranslation(0.1, 0.1), layers.RandomZoom(0.1)]),
            layers.Conv2D(8, 3, strides=2, padding="same"),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Dropout(0.5),
            layers.Conv2D(8, 3, dilation_rate=2, padding="same"),  # spans 5
            layers.AveragePooling2D(3, strides=1),
            layers.Dense(4),  # Dense on a map: per position
            layers.GlobalAveragePooling2D(),
            layers.Dense(2),
        ]
    )
    # (3, 2): 3, j 2; dilated (5, 1): 3 + 4*2 = 11; pool (3, 1): 11 + 2*2 = 15
    assert receptive_field(extras) == (15, 2)
    inputs = keras.Input((16, 16, 1))
    chain = layers.Conv2D(4, 5, strides=2)(inputs)
    chain = layers.MaxPooling2D(3, strides=2)(chain)
    assert receptive_field(keras.Model(inputs, chain)) == (9, 4)


def test_receptive_field_equals_where_the_gradient_is_non_zero(keras):
    """One output position's gradient with respect to the input is non-zero on exactly its
    window."""
    tf = pytest.importorskip("tensorflow")
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((40, 40, 1)),
            layers.Conv2D(3, 3),  # (3, 1)
            layers.AveragePooling2D(2),  # (2, 2): no max, so no pixel's gradient is hidden
            layers.Conv2D(2, 3, strides=2),  # (3, 2)
            layers.Conv2D(1, 3),  # (3, 1)
        ]
    )
    keras.utils.set_random_seed(0)
    for (
        layer
    ) in model.layers:  # positive weights, linear activations: every path adds, none cancels
        layer.set_weights(
            [
                np.random.default_rng(1).uniform(0.1, 1.0, w.shape).astype("float32")
                for w in layer.get_weights()
            ]
        )
    size, jump = receptive_field(model)
    assert (size, jump) == (1 + 2 * 1 + 1 * 1 + 2 * 2 + 2 * 4, 4) == (16, 4)
    image = tf.constant(np.random.default_rng(2).uniform(size=(1, 40, 40, 1)).astype("float32"))
    for row, col in [(0, 0), (1, 2), (3, 1)]:
        with tf.GradientTape() as tape:
            tape.watch(image)
            value = model(image)[0, row, col, 0]
        nonzero = tape.gradient(value, image).numpy()[0, :, :, 0] != 0
        rows, cols = np.nonzero(nonzero)
        # 'valid' padding: the window of position (row, col) starts at (row * jump, col * jump)
        assert (rows.min(), rows.max() + 1) == (row * jump, row * jump + size)
        assert (cols.min(), cols.max() + 1) == (col * jump, col * jump + size)
        assert nonzero.sum() == size * size  # every pixel of the window, nothing outside


def test_dilated_receptive_field_matches_the_gradient(keras):
    tf = pytest.importorskip("tensorflow")
    layers = keras.layers
    model = keras.Sequential([keras.Input((20, 20, 1)), layers.Conv2D(1, 3, dilation_rate=3)])
    model.layers[0].set_weights([np.ones((3, 3, 1, 1), "float32"), np.zeros(1, "float32")])
    image = tf.ones((1, 20, 20, 1))
    with tf.GradientTape() as tape:
        tape.watch(image)
        value = model(image)[0, 0, 0, 0]
    rows, _ = np.nonzero(tape.gradient(value, image).numpy()[0, :, :, 0])
    assert receptive_field(model) == (7, 1) == (rows.max() + 1, 1)
    assert sorted(set(rows)) == [
        0,
        3,
        6,
    ]  # a dilated window spans 7 pixels but reads only 3 of them


@pytest.mark.parametrize(
    "layers_, message",
    [
        (3, "layers must be a Keras model or a list"),
        ("conv", "layers must be a Keras model or a list"),
        (None, "layers must be a Keras model or a list"),
        ({"k": 3}, "layers must be a Keras model or a list"),
        ([3, 1], "layer 0 must be a (kernel_size, stride) pair"),
        ([(3, 1, 1)], "layer 0 must be a (kernel_size, stride) pair"),
        ([(3, 1), "22"], "layer 1 must be a (kernel_size, stride) pair"),
        ([(0, 1)], "kernel_size must be positive"),
        ([(3, 0)], "stride must be positive"),
        ([(3.0, 1)], "kernel_size must be a whole number"),
        ([(3, -2)], "stride must be positive"),
    ],
)
def test_receptive_field_refuses_bad_lists_in_one_sentence(layers_, message):
    with pytest.raises(ValueError) as info:
        receptive_field(layers_)
    text = str(info.value)
    assert message in text and text.endswith(".") and text.count(". ") == 0


def test_receptive_field_refuses_models_it_cannot_follow(keras):
    layers = keras.layers
    inputs = keras.Input((8, 8, 4))
    branch = layers.Add()([layers.Conv2D(4, 3, padding="same")(inputs), inputs])
    with pytest.raises(ValueError, match="joins two paths"):
        receptive_field(keras.Model(inputs, branch))
    for odd, words in [
        (layers.UpSampling2D(2), "UpSampling2D"),
        (layers.Conv2DTranspose(2, 3), "Conv2DTranspose"),
    ]:
        with pytest.raises(ValueError, match=f"does not know how layer .* \\({words}\\)"):
            receptive_field(keras.Sequential([keras.Input((8, 8, 1)), odd]))
    with pytest.raises(ValueError, match="non-square kernel"):
        receptive_field(keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, (1, 3))]))
    with pytest.raises(ValueError, match="several inputs"):
        a, b = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
        receptive_field(keras.Model([a, b], [layers.Conv2D(1, 3)(a), layers.Conv2D(1, 3)(b)]))
