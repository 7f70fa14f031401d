"""Numpy reference versions of the layers of a small CNN, in Keras' own layouts.

Images are NHWC: ``(images, rows, columns, channels)``, like ``x_train[..., np.newaxis]``.
Kernels are HWIO: ``(rows, columns, input channels, filters)``, like ``Conv2D.kernel``.
Keras' ``Conv2D`` computes a *cross-correlation* (the kernel is not flipped), and so do these.

Two convolutions give the same numbers: :func:`conv2d_loop` is written to be read, one window
at a time; :func:`conv2d` is written for speed (all windows at once, one tensor contraction).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnteach._checks import check_size, nhwc_images, padding_mode, pair, whole
from cnnteach.arithmetic import same_padding

__all__ = [
    "avg_pool2d",
    "conv2d",
    "conv2d_loop",
    "flatten",
    "max_pool2d",
    "pad_images",
    "relu",
]


def _float_dtype(*arrays) -> np.dtype:
    return np.result_type(*[a.dtype for a in arrays], np.float32)


def _pads(
    size: tuple[int, int], window: tuple[int, int], stride: tuple[int, int], mode
) -> list[tuple[int, int]]:
    if mode == "same":
        return [same_padding(size[a], window[a], stride[a]) for a in range(2)]
    p = 0 if mode == "valid" else mode
    return [(p, p), (p, p)]


def pad_images(images, pads, value=0.0) -> np.ndarray:
    """Pad the rows and columns of NHWC images with a constant.

    Parameters
    ----------
    images : array of shape (N, H, W, C)
    pads : ((top, bottom), (left, right))
    value : float, optional

    Examples
    --------
    >>> pad_images(np.ones((1, 2, 2, 1)), ((1, 0), (0, 1)))[0, :, :, 0]
    array([[0., 0., 0.],
           [1., 1., 0.],
           [1., 1., 0.]])
    """
    array = nhwc_images(images)
    try:
        (top, bottom), (left, right) = (
            [whole(v, "each pad", minimum=0) for v in side] for side in pads
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValueError) and "each pad" in str(exc):
            raise
        raise ValueError(
            f"pads must be ((top, bottom), (left, right)) in whole pixels, got {pads!r}."
        ) from None
    if not (top or bottom or left or right):
        return array
    n, h, w, c = array.shape
    check_size((n, h + top + bottom, w + left + right, c), "the padded images")
    value = float(value)
    dtype = array.dtype
    if dtype.kind in "biu" and (
        not np.isfinite(value) or value != int(value) or value < 0 and dtype.kind == "u"
    ):
        dtype = np.result_type(dtype, np.float32)  # the fill value needs a float array
    return np.pad(
        array.astype(dtype, copy=False),
        ((0, 0), (top, bottom), (left, right), (0, 0)),
        constant_values=value,
    )


def _conv_inputs(images, kernels, bias, stride, padding):
    x = nhwc_images(images)
    k = np.asarray(kernels)
    if k.dtype == object or k.dtype.kind not in "biuf":
        raise ValueError(
            f"kernels must hold numbers, got dtype {k.dtype}; pass a numeric numpy array."
        )
    if k.ndim != 4:
        fix = (
            " (for one grey 3×3 kernel use kernel[:, :, np.newaxis, np.newaxis])"
            if k.ndim == 2
            else ""
        )
        raise ValueError(
            "kernels must be 4-D (rows, columns, input channels, "
            f"filters) like Conv2D.kernel, got shape {k.shape}{fix}."
        )
    if k.shape[2] != x.shape[3]:
        raise ValueError(
            f"the images have {x.shape[3]} channel(s) but the "
            f"kernels expect {k.shape[2]} (kernels.shape[2]); "
            "make kernels.shape[2] equal images.shape[-1]."
        )
    if 0 in k.shape:
        raise ValueError(
            f"kernels has an empty axis (shape {k.shape}); every axis needs at least one element."
        )
    s = pair(stride, "stride")
    mode = padding_mode(padding)
    pads = _pads(x.shape[1:3], k.shape[:2], s, mode)
    for axis, what in ((0, "rows"), (1, "columns")):
        padded = x.shape[1 + axis] + sum(pads[axis])
        if k.shape[axis] > padded:
            raise ValueError(
                f"the kernel has {k.shape[axis]} {what} but the padded images have only {padded}; "
                "use a smaller kernel, more padding, or padding='same'."
            )
    if bias is not None:
        bias = np.asarray(bias)
        if bias.shape != (k.shape[3],):
            raise ValueError(
                "bias must have one value per filter, shape "
                f"({k.shape[3]},), got shape {bias.shape}."
            )
    return x, k, bias, s, pads


# ----------------------------------------------------------------------------- convolution
def conv2d(images, kernels, bias=None, stride=1, padding="valid") -> np.ndarray:
    """Cross-correlate NHWC images with HWIO kernels, all windows at once (fast).

    Parameters
    ----------
    images : array of shape (N, H, W, C)
    kernels : array of shape (KH, KW, C, F)
        Same layout as a Keras ``Conv2D`` kernel.
    bias : array of shape (F,), optional
    stride : int or (int, int), optional
    padding : "valid", "same" or int, optional
        ``"same"`` pads like Keras (odd zero at the bottom/right); an int adds that many zeros
        on every side.

    Returns
    -------
    ndarray of shape (N, OH, OW, F)
        Floating point (at least float32). No activation is applied.

    Raises
    ------
    ValueError
        For arrays of the wrong rank, mismatched channels, a kernel larger than the padded
        images, or a bad stride/padding.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> k = np.ones((3, 3, 1, 1))
    >>> conv2d(x, k)[0, :, :, 0]      # each output is the sum of a 3x3 window
    array([[45., 54.],
           [81., 90.]])
    >>> conv2d(x, k, padding="same").shape
    (1, 4, 4, 1)
    """
    x, k, bias, (sh, sw), pads = _conv_inputs(images, kernels, bias, stride, padding)
    dtype = _float_dtype(x, k)
    x = pad_images(x.astype(dtype, copy=False), pads)
    kh, kw = k.shape[:2]
    # windows[n, i, j, c, a, b] = x[n, i*sh + a, j*sw + b, c]: a view, nothing copied yet
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    out = np.tensordot(windows, k.astype(dtype, copy=False), axes=([4, 5, 3], [0, 1, 2]))
    if bias is not None:
        out += bias.astype(dtype, copy=False)
    return out


def conv2d_loop(images, kernels, bias=None, stride=1, padding="valid") -> np.ndarray:
    """Cross-correlate NHWC images with HWIO kernels one window at a time (slow, readable).

    Same arguments and result as :func:`conv2d`; written as the definition reads: for every
    image, every output position and every filter, multiply the window by the kernel
    element by element and add the products (and the bias).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> k = np.ones((3, 3, 1, 1))
    >>> conv2d_loop(x, k, bias=[1.0], stride=2, padding="same")[0, :, :, 0]
    array([[46., 40.],
           [67., 51.]])
    """
    x, k, bias, (sh, sw), pads = _conv_inputs(images, kernels, bias, stride, padding)
    dtype = _float_dtype(x, k)
    x = pad_images(x.astype(dtype, copy=False), pads)
    k = k.astype(dtype, copy=False)
    kh, kw, _, filters = k.shape
    out_h = (x.shape[1] - kh) // sh + 1
    out_w = (x.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], out_h, out_w, filters), dtype=dtype)
    for n in range(x.shape[0]):
        for i in range(out_h):
            for j in range(out_w):
                top, left = i * sh, j * sw
                window = x[n, top : top + kh, left : left + kw, :]
                for f in range(filters):
                    products = window * k[:, :, :, f]
                    out[n, i, j, f] = products.sum() + (bias[f] if bias is not None else 0)
    return out


# ----------------------------------------------------------------------------- pooling
def _pool_windows(images, pool_size, stride, padding, fill):
    x = nhwc_images(images)
    k = pair(pool_size, "pool_size")
    s = k if stride is None else pair(stride, "stride")
    mode = padding_mode(padding, allow_int=False)
    pads = _pads(x.shape[1:3], k, s, mode)
    for axis, what in ((0, "rows"), (1, "columns")):
        if k[axis] > x.shape[1 + axis] + sum(pads[axis]):
            raise ValueError(
                f"the pool has {k[axis]} {what} but the images have only {x.shape[1 + axis]}; "
                "use a smaller pool_size or padding='same'."
            )
    dtype = _float_dtype(x)
    x = pad_images(x.astype(dtype, copy=False), pads, value=fill)
    # windows[n, i, j, c, a, b]
    return sliding_window_view(x, k, axis=(1, 2))[:, :: s[0], :: s[1]], pads, dtype


def max_pool2d(images, pool_size=2, stride=None, padding="valid") -> np.ndarray:
    """Max pooling of NHWC images, like ``keras.layers.MaxPooling2D``.

    Parameters
    ----------
    images : array of shape (N, H, W, C)
    pool_size : int or (int, int), optional
    stride : int or (int, int), optional
        Default: the pool size (windows do not overlap).
    padding : "valid" or "same", optional
        ``"valid"`` drops rows/columns a last window cannot cover; ``"same"`` pads (padding
        never wins a max).

    Returns
    -------
    ndarray of shape (N, OH, OW, C)

    Examples
    --------
    >>> x = np.array([[1, 2, 0], [3, 4, 9], [5, 6, 7]], float).reshape(1, 3, 3, 1)
    >>> max_pool2d(x)[0, :, :, 0]          # 3 -> 1: the last row and column are dropped
    array([[4.]])
    >>> max_pool2d(x, padding="same")[0, :, :, 0]
    array([[4., 9.],
           [6., 7.]])
    """
    windows, _, _ = _pool_windows(images, pool_size, stride, padding, fill=-np.inf)
    return windows.max(axis=(4, 5))


def avg_pool2d(images, pool_size=2, stride=None, padding="valid") -> np.ndarray:
    """Average pooling of NHWC images, like ``keras.layers.AveragePooling2D``.

    With ``padding="same"``, a window that hangs over the edge averages only the real pixels
    it covers (padding is not counted), as Keras does.

    Examples
    --------
    >>> x = np.array([[1, 2, 0], [3, 4, 9], [5, 6, 7]], float).reshape(1, 3, 3, 1)
    >>> avg_pool2d(x)[0, :, :, 0]
    array([[2.5]])
    >>> avg_pool2d(x, padding="same")[0, :, :, 0]
    array([[2.5, 4.5],
           [5.5, 7. ]])
    """
    windows, pads, dtype = _pool_windows(images, pool_size, stride, padding, fill=0.0)
    sums = windows.sum(axis=(4, 5))
    if not any(sum(p) for p in pads):
        return sums / np.asarray(windows.shape[4] * windows.shape[5], dtype=dtype)
    x = nhwc_images(images)
    ones = np.ones((1, x.shape[1], x.shape[2], 1), dtype=dtype)
    counts, _, _ = _pool_windows(ones, pool_size, stride, padding, fill=0.0)
    return sums / counts.sum(axis=(4, 5))


# ----------------------------------------------------------------------------- the rest
def relu(x) -> np.ndarray:
    """Rectified linear unit: negative values become 0, the rest pass unchanged.

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.5]))
    array([0. , 0. , 3.5])
    """
    array = np.asarray(x)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise ValueError(
            f"relu needs numbers, got dtype {array.dtype}; pass a numeric numpy array."
        )
    return np.maximum(array, 0)


def flatten(images) -> np.ndarray:
    """Turn each image's (rows, columns, channels) into one vector, in Keras' ``Flatten`` order.

    The channel index changes fastest: element ``(i, j, c)`` of a ``(H, W, C)`` map lands at
    ``(i * W + j) * C + c``.

    Parameters
    ----------
    images : array of shape (N, ...)
        A batch; the first axis is kept.

    Examples
    --------
    >>> maps = np.zeros((2, 6, 6, 10))
    >>> flatten(maps).shape               # 6 * 6 * 10
    (2, 360)
    >>> flatten(np.arange(8).reshape(1, 2, 2, 2))
    array([[0, 1, 2, 3, 4, 5, 6, 7]])
    """
    array = np.asarray(images)
    if array.ndim < 2:
        raise ValueError(
            f"flatten needs a batch with at least 2 axes (images, ...), got shape {array.shape}; "
            "add a batch axis with x[np.newaxis]."
        )
    return array.reshape(array.shape[0], -1)
