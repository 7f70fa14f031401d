"""Shape and parameter arithmetic of convolution, pooling and dense layers, the way Keras does it.

Every function checks its input and raises :class:`ValueError` with one sentence that says
what is wrong and what to do. :func:`explain_conv_output` and :func:`explain_pool_output`
show the formula with the numbers filled in, and how many rows or columns a stride leaves
unused when the windows do not tile the input.

The formulas (one axis; do the same for rows and for columns)::

    padding=P (a number, "valid" is P=0):  O = floor((I - K + 2P) / S) + 1
    padding="same" (Keras):                O = ceil(I / S), zeros added so that it fits,
                                           the odd one at the bottom/right
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnteach._checks import is_pair, padding_mode, pair, whole

__all__ = [
    "OutputSizeExplanation",
    "conv2d_params",
    "conv_output_size",
    "dense_params",
    "explain_conv_output",
    "explain_pool_output",
    "pool_output_size",
    "receptive_field",
    "same_padding",
]


def same_padding(input_size, kernel_size, stride=1) -> tuple[int, int]:
    """Zeros Keras adds before and after one axis for ``padding="same"``.

    Keras makes the output ``ceil(I / S)`` long and pads as little as needed for that, putting
    the odd zero at the end (bottom or right).

    Parameters
    ----------
    input_size, kernel_size, stride : int
        Length of the axis, of the window and of one step.

    Returns
    -------
    tuple of int
        ``(before, after)``.

    Examples
    --------
    >>> same_padding(28, 3)
    (1, 1)
    >>> same_padding(28, 2, stride=2)
    (0, 0)
    >>> same_padding(28, 4)
    (1, 2)
    """
    i = whole(input_size, "input_size")
    k = whole(kernel_size, "kernel_size")
    s = whole(stride, "stride")
    total = max((-(-i // s) - 1) * s + k - i, 0)
    return (total // 2, total - total // 2)


# ----------------------------------------------------------------------------- output sizes
def _conv_axis(i: int, k: int, s: int, mode, what: str) -> int:
    if mode == "same":
        return -(-i // s)
    p = 0 if mode == "valid" else mode
    if k > i + 2 * p:
        fix = "use a smaller kernel, add padding, or use padding='same'"
        if what == "pool_size":
            fix = "use a smaller pool or padding='same'"
        raise ValueError(
            f"{what} {k} is larger than the padded input ({i} + "
            f"2×{p} = {i + 2 * p}), so no window fits; {fix}."
        )
    return (i - k + 2 * p) // s + 1


def conv_output_size(input_size, kernel_size, stride=1, padding=0):
    """Length of a convolution's output along one axis (or both, given pairs), as Keras computes it.

    Parameters
    ----------
    input_size : int or (int, int)
        Input length ``I`` (28 for an MNIST row), or ``(height, width)``.
    kernel_size : int or (int, int)
        Window length ``K``.
    stride : int or (int, int), optional
        Step ``S`` between windows (default 1).
    padding : int, "valid" or "same", optional
        Zeros ``P`` added on each side; ``"valid"`` means 0; ``"same"`` follows Keras:
        ``ceil(I / S)``, with the odd zero at the bottom/right. Default 0.

    Returns
    -------
    int or tuple of int
        ``floor((I - K + 2P) / S) + 1``; a pair when any argument is a pair.

    Raises
    ------
    ValueError
        For sizes or strides that are not positive whole numbers, a negative padding, an
        unknown padding word, or a kernel larger than the padded input.

    Examples
    --------
    >>> conv_output_size(28, 3)            # the 2019 model's first layer
    26
    >>> conv_output_size(28, 3, stride=2)  # floor(25 / 2) + 1
    13
    >>> conv_output_size(28, 3, padding="same")
    28
    >>> conv_output_size((28, 20), (3, 5), stride=(1, 2))
    (26, 8)
    """
    mode = padding_mode(padding)
    pairs = any(is_pair(v) for v in (input_size, kernel_size, stride))
    i, k, s = (
        pair(input_size, "input_size"),
        pair(kernel_size, "kernel_size"),
        pair(stride, "stride"),
    )
    out = tuple(_conv_axis(i[a], k[a], s[a], mode, "kernel_size") for a in range(2))
    return out if pairs else out[0]


def pool_output_size(input_size, pool_size, stride=None, padding="valid"):
    """Length of a pooling layer's output along one axis (or both), as Keras computes it.

    Parameters
    ----------
    input_size : int or (int, int)
        Input length ``I`` (26 after the 2019 model's convolution).
    pool_size : int or (int, int)
        Window length ``K`` (2 for ``MaxPooling2D((2, 2))``).
    stride : int or (int, int), optional
        Step ``S``; Keras' default (None) is the pool size, so windows do not overlap.
    padding : "valid" or "same", optional
        ``"valid"`` (default) drops what a last window cannot cover: ``floor((I - K) / S) + 1``;
        ``"same"`` gives ``ceil(I / S)``.

    Returns
    -------
    int or tuple of int

    Raises
    ------
    ValueError
        For sizes or strides that are not positive whole numbers, a padding other than
        "valid"/"same", or a pool larger than the input with "valid".

    Examples
    --------
    >>> pool_output_size(26, 2), pool_output_size(13, 2)   # 26 -> 13 -> 6
    (13, 6)
    >>> pool_output_size(13, 2, padding="same")
    7
    >>> pool_output_size(26, 3, stride=1)
    24
    """
    mode = padding_mode(padding, allow_int=False)
    pairs = any(is_pair(v) for v in (input_size, pool_size, stride))
    i, k = pair(input_size, "input_size"), pair(pool_size, "pool_size")
    s = k if stride is None else pair(stride, "stride")
    out = tuple(_conv_axis(i[a], k[a], s[a], mode, "pool_size") for a in range(2))
    return out if pairs else out[0]


# ----------------------------------------------------------------------------- parameters
def conv2d_params(kernel_size, in_channels, filters, use_bias=True) -> int:
    """Number of trainable parameters of a ``Conv2D`` layer.

    Each filter has one weight per kernel cell *per input channel*, plus one bias:
    ``K_h × K_w × C_in × F + F``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    in_channels : int
        Channels of the layer's input (1 for grey MNIST, 10 after a 10-filter layer).
    filters : int
        Number of filters ``F`` (output channels).
    use_bias : bool, optional

    Returns
    -------
    int

    Examples
    --------
    >>> conv2d_params(3, 1, 10)     # the 2019 model: 3*3*1*10 + 10
    100
    >>> conv2d_params(3, 10, 16)    # the input channels count too
    1456
    >>> conv2d_params((3, 3), 3, 8, use_bias=False)
    216
    """
    kh, kw = pair(kernel_size, "kernel_size")
    c = whole(in_channels, "in_channels")
    f = whole(filters, "filters")
    if not isinstance(use_bias, (bool, np.bool_)):
        raise ValueError(f"use_bias must be True or False, got {use_bias!r}.")
    return kh * kw * c * f + (f if use_bias else 0)


def dense_params(in_features, units, use_bias=True) -> int:
    """Number of trainable parameters of a ``Dense`` layer: ``in_features × units + units``.

    Examples
    --------
    >>> dense_params(6 * 6 * 10, 100)   # after Flatten in the 2019 model
    36100
    >>> dense_params(100, 10)
    1010
    """
    n = whole(in_features, "in_features")
    u = whole(units, "units")
    if not isinstance(use_bias, (bool, np.bool_)):
        raise ValueError(f"use_bias must be True or False, got {use_bias!r}.")
    return n * u + (u if use_bias else 0)


# ----------------------------------------------------------------------------- explanations
@dataclass(frozen=True)
class OutputSizeExplanation:
    """One axis of a convolution or pooling output size, with the working shown.

    Attributes
    ----------
    layer : str
        ``"conv"`` or ``"pool"``.
    input_size, kernel_size, stride : int
    padding : int or str
        As given (``"valid"``, ``"same"`` or a number of zeros).
    pad_before, pad_after : int
        Zeros actually added at the start and the end of the axis.
    output_size : int
    covered : int
        Rows (or columns) of the padded input that some window touches.
    unused : int
        Rows (or columns) at the end that no window touches: the stride does not tile.
    formula : str
        The formula with the numbers filled in.
    """

    layer: str
    input_size: int
    kernel_size: int
    stride: int
    padding: object
    pad_before: int
    pad_after: int
    output_size: int
    covered: int
    unused: int
    formula: str

    @property
    def tiles(self) -> bool:
        """True when the windows reach the last row (no row is left unused)."""
        return self.unused == 0

    def __str__(self) -> str:
        lines = [self.formula]
        if self.pad_before or self.pad_after:
            lines.append(
                f"Padding adds {self.pad_before} zero(s) before and {self.pad_after} after: "
                f"{self.input_size} becomes {self.input_size + self.pad_before + self.pad_after}."
            )
        n = self.output_size
        windows = "window covers" if n == 1 else f"{n} windows cover"
        if self.unused:
            lines.append(
                f"The {windows} the first {self.covered} of "
                f"{self.covered + self.unused} rows/columns; "
                f"the stride leaves the last {self.unused} unused."
            )
        else:
            lines.append(
                f"The {windows} all {self.covered} rows/columns: the stride tiles the input."
            )
        return "\n".join(lines)


def _explain(layer, input_size, kernel_size, stride, padding) -> OutputSizeExplanation:
    if any(is_pair(v) for v in (input_size, kernel_size, stride)):
        raise ValueError(
            "explain one axis at a time: give single numbers, not (rows, columns) pairs."
        )
    allow_int = layer == "conv"
    mode = padding_mode(padding, allow_int=allow_int)
    name = "kernel_size" if layer == "conv" else "pool_size"
    i, k = whole(input_size, "input_size"), whole(kernel_size, name)
    s = k if stride is None else whole(stride, "stride")
    o = _conv_axis(i, k, s, mode, name)
    if mode == "same":
        before, after = same_padding(i, k, s)
        formula = f"O = ceil(I / S) = ceil({i} / {s}) = {o}   (padding='same', as Keras does it)"
    else:
        p = 0 if mode == "valid" else mode
        before = after = p
        top = i - k + 2 * p
        if layer == "conv":
            formula = (
                f"O = floor((I - K + 2P) / S) + 1 = floor(({i} - {k} + 2×{p}) / {s}) + 1"
                f" = floor({top} / {s}) + 1 = {top // s} + 1 = {o}"
            )
        else:
            formula = (
                f"O = floor((I - K) / S) + 1 = floor(({i} - {k}) / {s}) + 1"
                f" = floor({top} / {s}) + 1 = {top // s} + 1 = {o}"
            )
        if top % s:
            formula += f"   ({top} / {s} = {top / s:.4g}: the floor drops the fraction)"
    padded = i + before + after
    covered = min((o - 1) * s + k, padded)
    return OutputSizeExplanation(
        layer, i, k, s, padding, before, after, o, covered, padded - covered, formula
    )


def explain_conv_output(input_size, kernel_size, stride=1, padding=0) -> OutputSizeExplanation:
    """Explain :func:`conv_output_size` for one axis: formula with numbers, padding, unused rows.

    Parameters
    ----------
    input_size, kernel_size, stride : int
    padding : int, "valid" or "same"

    Returns
    -------
    OutputSizeExplanation
        ``print()`` it for the working; ``.output_size`` and ``.unused`` hold the numbers.

    Examples
    --------
    >>> print(explain_conv_output(28, 3, stride=2))  # doctest: +NORMALIZE_WHITESPACE
    O = floor((I - K + 2P) / S) + 1 = floor((28 - 3 + 2×0) / 2) + 1 = floor(25 / 2) + 1 = 12 + 1
        = 13   (25 / 2 = 12.5: the floor drops the fraction)
    The 13 windows cover the first 27 of 28 rows/columns; the stride leaves the last 1 unused.
    >>> explain_conv_output(28, 3, padding="same").pad_after
    1
    """
    return _explain("conv", input_size, kernel_size, stride, padding)


def explain_pool_output(
    input_size, pool_size, stride=None, padding="valid"
) -> OutputSizeExplanation:
    """Explain :func:`pool_output_size` for one axis: formula with numbers and the dropped rows.

    Examples
    --------
    >>> e = explain_pool_output(13, 2)
    >>> e.output_size, e.unused
    (6, 1)
    >>> print(e)  # doctest: +NORMALIZE_WHITESPACE
    O = floor((I - K) / S) + 1 = floor((13 - 2) / 2) + 1 = floor(11 / 2) + 1 = 5 + 1 = 6
    (11 / 2 = 5.5: the floor drops the fraction)
    The 6 windows cover the first 12 of 13 rows/columns; the stride leaves the last 1 unused.
    """
    return _explain("pool", input_size, pool_size, stride, padding)


# ----------------------------------------------------------------------------- receptive field
# Layers that leave every position where it is (element-wise, normalisation, noise, and the
# preprocessing layers, which do nothing at inference).
_SAME_POSITIONS = frozenset(
    {
        "InputLayer",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "Softmax",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "UnitNormalization",
        "Dropout",
        "SpatialDropout2D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "Rescaling",
        "Normalization",
        "RandomTranslation",
        "RandomRotation",
        "RandomZoom",
        "RandomFlip",
        "RandomContrast",
        "RandomBrightness",
        "ZeroPadding2D",
        "Cropping2D",
    }
)
# Layers after which every number depends on the whole input: the walk stops there.
_WHOLE_INPUT = frozenset({"Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Reshape"})
_CONVOLUTIONS = frozenset({"Conv2D", "DepthwiseConv2D", "SeparableConv2D"})
_POOLINGS = frozenset({"MaxPooling2D", "AveragePooling2D"})


def _square(value, what: str, layer_name: str) -> int:
    first, second = (int(v) for v in value)
    if first != second:
        raise ValueError(
            f"layer {layer_name!r} has a non-square {what} "
            f"{tuple(value)}, and receptive_field follows "
            "one axis: pass the (kernel_size, stride) pairs of the axis you want instead."
        )
    return first


def _keras_steps(model) -> tuple[list[tuple[int, int]], bool]:
    """(kernel_size, stride) of each layer of a chain-shaped Keras model, and whether the walk
    stopped."""
    n_inputs = len(getattr(model, "inputs", None) or [None])
    n_outputs = len(getattr(model, "outputs", None) or [None])
    if type(model).__name__ != "Sequential" and (n_inputs != 1 or n_outputs != 1):
        raise ValueError(
            "receptive_field follows one chain of layers, and this model has several inputs or "
            "outputs: pass the (kernel_size, stride) pairs of the path you want instead."
        )
    steps = []
    for layer in model.layers:
        kind = type(layer).__name__
        name = getattr(layer, "name", kind)
        if hasattr(layer, "layers"):  # a model used as a layer, e.g. an augmentation Sequential
            inner, stopped = _keras_steps(layer)
            steps.extend(inner)
            if stopped:
                return steps, True
        elif kind in _CONVOLUTIONS:
            k = _square(layer.kernel_size, "kernel", name)
            d = _square(layer.dilation_rate, "dilation rate", name)
            steps.append(((k - 1) * d + 1, _square(layer.strides, "stride", name)))
        elif kind in _POOLINGS:
            steps.append(
                (
                    _square(layer.pool_size, "pool size", name),
                    _square(layer.strides, "stride", name),
                )
            )
        elif kind in _SAME_POSITIONS:
            continue
        elif kind in _WHOLE_INPUT:
            return steps, True
        elif kind == "Dense":
            try:
                per_position = (
                    len(layer.input.shape) == 4
                )  # Dense on a feature map acts like a 1 × 1 conv
            except (AttributeError, ValueError):
                per_position = False
            if not per_position:
                return steps, True
        elif any(base.__name__ == "Merge" for base in type(layer).__mro__):
            raise ValueError(
                f"layer {name!r} ({kind}) joins two paths, "
                "and receptive_field follows one chain of "
                "layers: pass the (kernel_size, stride) pairs of the longest path instead."
            )
        else:
            raise ValueError(
                f"receptive_field does not know how layer {name!r} ({kind}) moves positions: pass "
                "(kernel_size, stride) pairs instead, or remove the layer."
            )
    return steps, False


def receptive_field(layers) -> tuple[int, int]:
    """How many input pixels one output position sees, and how far apart neighbouring positions are.

    Each layer with kernel (or pool) size ``k`` and stride ``s`` grows the receptive field by
    ``k - 1`` steps of the current jump, then multiplies the jump by ``s``, starting from one
    pixel that sees itself::

        r_out = r_in + (k - 1) * j_in        j_out = j_in * s        (r, j) = (1, 1) at the input

    Padding changes neither number (it only decides where the windows start). The figures are
    per axis: a receptive field of 6 is a 6 × 6 square of pixels.

    Parameters
    ----------
    layers : keras.Model or sequence of (int, int)
        A list of ``(kernel_size, stride)`` pairs, one per layer (use the pool size and the
        pool's stride for a pooling layer), or a Keras model whose layers form one chain.
        For a model, ``Conv2D``, ``DepthwiseConv2D`` and ``SeparableConv2D`` count with their
        kernel, stride and dilation (a dilated kernel spans ``(k - 1) * d + 1`` pixels),
        ``MaxPooling2D`` and ``AveragePooling2D`` with their pool size and stride; activations,
        normalisation, dropout, padding and the random preprocessing layers move nothing and
        are skipped. The walk stops at the first ``Flatten``, ``Reshape``, global pooling or
        ``Dense`` layer (a ``Dense`` applied to a feature map acts like a 1 × 1 convolution and
        is skipped): after those, every number can depend on the whole input, so the result
        describes the last feature map, the one those layers read.

    Returns
    -------
    tuple of int
        ``(size, jump)``: the side of the square of input pixels one position sees, and the
        distance in input pixels between two neighbouring positions (the product of strides).

    Raises
    ------
    ValueError
        For anything that is not a Keras model or a list of ``(kernel_size, stride)`` pairs of
        positive whole numbers, for a model with branches (``Add``, ``Concatenate``) or several
        inputs, for a non-square kernel or stride, and for a layer whose effect on positions it
        does not know (``UpSampling2D``, ``Conv2DTranspose``, ``Lambda``).

    Examples
    --------
    The 2019 network: a 3 × 3 convolution, then two 2 × 2 poolings of stride 2.

    >>> receptive_field([(3, 1), (2, 2), (2, 2)])
    (6, 4)
    >>> receptive_field([(3, 1), (3, 1)])   # two 3 × 3 convolutions see 5 × 5
    (5, 1)
    >>> receptive_field([(7, 2), (3, 2)])   # ResNet's first convolution and pooling
    (11, 4)
    >>> receptive_field([])                 # the input: each pixel sees itself
    (1, 1)
    """
    if hasattr(layers, "layers") and not isinstance(layers, (list, tuple, np.ndarray)):
        steps, _ = _keras_steps(layers)
    elif isinstance(layers, (list, tuple, np.ndarray)):
        steps = []
        for number, pair in enumerate(layers):
            if not is_pair(pair) or len(pair) != 2:
                raise ValueError(
                    f"layer {number} must be a (kernel_size, "
                    f"stride) pair, got {pair!r}; for a single "
                    "layer write a list with one pair, such as [(3, 1)]."
                )
            steps.append((whole(pair[0], "kernel_size"), whole(pair[1], "stride")))
    else:
        raise ValueError(
            f"layers must be a Keras model or a list of (kernel_size, stride) pairs, got a "
            f"{type(layers).__name__}; write for example [(3, 1), (2, 2)]."
        )
    size, jump = 1, 1
    for kernel, stride in steps:
        size, jump = size + (kernel - 1) * jump, jump * stride
    return size, jump
