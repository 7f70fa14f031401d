"""Regions of interest cut out of a feature map: Fast R-CNN's RoI pooling and Mask R-CNN's RoIAlign.

A two-stage detector runs its backbone once per image and then reads every region of interest
(RoI) from the feature map as a fixed grid of cells, whatever the RoI's size:

* :func:`roi_max_pool`: Fast R-CNN's RoI pooling (the RoI and its bins rounded to whole
  cells, the maximum of each bin), vectorised numpy;
* :func:`roi_align`: Mask R-CNN's RoIAlign (bilinear samples averaged in every bin, nothing
  rounded), numpy;
* :func:`roi_align_layer`: RoIAlign as a Keras layer, ``tf.image.crop_and_resize`` plus an
  average pool, checked against :func:`roi_align` in the tests.

Feature cell ``i`` is centred at image pixel ``(i + 0.5) * stride``; RoIs are
``(x_min, y_min, x_max, y_max)`` in image pixel edges, as in :mod:`cnnteach.boxes`. Only
:func:`roi_align_layer` imports Keras and TensorFlow, inside the function.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FEATURE_STRIDE", "POOL", "roi_align", "roi_align_layer", "roi_max_pool"]

FEATURE_STRIDE = 4  # lesson 14's RoI head reads stride-4 features: 96 x 96 pixels give 24 x 24
POOL = 7  # RoI features are 7 x 7 cells, as in Fast R-CNN's VGG16 head


def _bilinear(image, ys, xs):
    """Sample ``image`` (H, W, ...) at real-valued pixel-index points; zero outside [0, H-1]."""
    h, w = image.shape[:2]
    inside = (ys >= 0) & (ys <= h - 1) & (xs >= 0) & (xs <= w - 1)
    ys, xs = np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    dy, dx = ys - y0, xs - x0
    extra = (...,) + (np.newaxis,) * (image.ndim - 2)
    dy, dx, inside = dy[extra], dx[extra], inside[extra]
    top = image[y0, x0] * (1 - dx) + image[y0, x1] * dx
    bottom = image[y1, x0] * (1 - dx) + image[y1, x1] * dx
    return np.where(inside, top * (1 - dy) + bottom * dy, 0.0)


def _check_rois(features, rois):
    features = np.asarray(features, np.float64)
    rois = np.asarray(rois, np.float64)
    if features.ndim != 3:
        raise ValueError(f"features must be one feature map (H, W, C), got shape {features.shape}")
    if rois.ndim != 2 or rois.shape[1] != 4:
        raise ValueError(
            "rois must have shape (R, 4): (x_min, y_min, x_max, y_max) in canvas pixels, "
            f"got {rois.shape}"
        )
    return features, rois


def roi_max_pool(features, rois, *, stride: int = FEATURE_STRIDE, output_size: int = POOL):
    """Fast R-CNN's RoI max pooling, vectorised: max over a grid of bins snapped to the cells.

    As in the paper's code (Caffe's ``ROIPoolingLayer``): the RoI's corners are divided by the
    stride and *rounded* to feature cells (its last pixel, ``x_max - 1``, gives the last
    cell), the RoI is cut into ``output_size`` x ``output_size`` bins, bin ``i`` spans cells
    ``floor(i * bin)`` to ``ceil((i + 1) * bin)`` (exclusive), clipped to the map, and each
    output is the maximum of its bin; an empty bin gives 0.

    Parameters
    ----------
    features : array_like, shape (H, W, C)
    rois : array_like, shape (R, 4)
        ``(x_min, y_min, x_max, y_max)`` in canvas pixels.
    stride : int, default 4
    output_size : int, default 7

    Returns
    -------
    numpy.ndarray, shape (R, output_size, output_size, C)

    Examples
    --------
    >>> features = np.arange(16.0).reshape(4, 4, 1)
    >>> roi_max_pool(features, [[0, 0, 4, 4]], stride=1, output_size=2)[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    features, rois = _check_rois(features, rois)
    h, w, _ = features.shape
    starts = np.floor(rois[:, :2] / stride + 0.5)  # (R, 2): x, y; C's round(): halves go up
    ends = np.floor((rois[:, 2:] - 1) / stride + 0.5)
    size = np.maximum(ends - starts + 1, 1)
    bins = size / output_size
    i = np.arange(output_size)
    lo = np.floor(i[None, :, None] * bins[:, None, :]) + starts[:, None, :]  # (R, P, 2)
    hi = np.ceil((i[None, :, None] + 1) * bins[:, None, :]) + starts[:, None, :]
    lo = np.clip(lo, 0, [w, h])
    hi = np.clip(hi, 0, [w, h])
    cols, rows = np.arange(w), np.arange(h)
    in_x = (cols >= lo[..., 0, None]) & (cols < hi[..., 0, None])  # (R, P, W)
    in_y = (rows >= lo[..., 1, None]) & (rows < hi[..., 1, None])  # (R, P, H)
    # max over the columns of each x-bin, then over the rows of each y-bin
    by_x = np.where(in_x[:, :, None, :, None], features[None, None], -np.inf).max(
        axis=3
    )  # (R, Px, H, C)
    both = np.where(in_y[:, :, None, :, None], by_x[:, None], -np.inf).max(axis=3)
    return np.where(np.isfinite(both), both, 0.0)  # (R, Py, Px, C)


def _align_points(rois, stride, output_size, sampling):
    """Feature-map coordinates of RoIAlign's sample points: (R, n) for y and for x."""
    n = output_size * sampling
    first = (
        rois[:, :2] / stride - 0.5
    )  # pixel edge -> feature-cell index (cell i centred at (i + 0.5) * stride)
    step = (rois[:, 2:] - rois[:, :2]) / stride / n
    points = first[:, None, :] + (np.arange(n)[None, :, None] + 0.5) * step[:, None, :]
    return points[..., 1], points[..., 0]


def roi_align(
    features, rois, *, stride: int = FEATURE_STRIDE, output_size: int = POOL, sampling: int = 2
):
    """Mask R-CNN's RoIAlign in numpy: average of bilinear samples in every bin, nothing rounded.

    Each of the ``output_size`` x ``output_size`` bins gets ``sampling`` x ``sampling`` evenly
    spaced points; each point is read from the feature map by bilinear interpolation of its
    four nearest cells (a point outside the map reads 0, as ``tf.image.crop_and_resize``
    does), and the bin is their average. Feature cell ``i`` is centred at canvas pixel
    ``(i + 0.5) * stride``. This is the reference for :func:`roi_align_layer`.

    Parameters
    ----------
    features : array_like, shape (H, W, C)
    rois : array_like, shape (R, 4)
        ``(x_min, y_min, x_max, y_max)`` in canvas pixels.
    stride : int, default 4
    output_size : int, default 7
    sampling : int, default 2

    Returns
    -------
    numpy.ndarray, shape (R, output_size, output_size, C)

    Examples
    --------
    >>> features = np.arange(16.0).reshape(4, 4, 1)  # value = 4 * row + column
    >>> roi_align(features, [[0, 0, 16, 16]], output_size=2, sampling=1)[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    features, rois = _check_rois(features, rois)
    ys, xs = _align_points(rois, stride, output_size, sampling)  # (R, n)
    n = output_size * sampling
    grid_y = np.broadcast_to(ys[:, :, None], (len(rois), n, n))
    grid_x = np.broadcast_to(xs[:, None, :], (len(rois), n, n))
    samples = _bilinear(features, grid_y, grid_x)  # (R, n, n, C)
    c = features.shape[2]
    return samples.reshape(len(rois), output_size, sampling, output_size, sampling, c).mean(
        axis=(2, 4)
    )


_LAYERS = {}


def roi_align_layer(
    *, stride: int = FEATURE_STRIDE, output_size: int = POOL, sampling: int = 2, name=None
):
    """RoIAlign as a Keras layer: ``tf.image.crop_and_resize``, then a 2 x 2 average pool.

    Called as ``layer([features, rois])`` with features (B, H, W, C) and rois (B, R, 4) in
    canvas pixels; returns (B, R, output_size, output_size, C). ``crop_and_resize`` samples a
    box's first and last points *on* its edges, so each box is first moved in by half a
    sample step: its ``output_size * sampling`` samples then sit at the centres of the
    sub-bins, exactly where :func:`roi_align` puts them.

    Examples
    --------
    >>> layer = roi_align_layer()  # doctest: +SKIP
    """
    return _layer_classes()["RoiAlign"](
        stride=stride, output_size=output_size, sampling=sampling, name=name
    )


def _layer_classes():
    if _LAYERS:
        return _LAYERS
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="cnnteach")
    class RoiAlign(keras.layers.Layer):
        def __init__(self, stride=FEATURE_STRIDE, output_size=POOL, sampling=2, **kwargs):
            super().__init__(**kwargs)
            self.stride, self.output_size, self.sampling = (
                int(stride),
                int(output_size),
                int(sampling),
            )

        def call(self, inputs):
            features, rois = inputs
            n = self.output_size * self.sampling
            batch, count = tf.shape(rois)[0], tf.shape(rois)[1]
            height = tf.cast(tf.shape(features)[1] - 1, "float32")
            width = tf.cast(tf.shape(features)[2] - 1, "float32")
            x0, y0, x1, y1 = tf.unstack(tf.cast(rois, "float32") / self.stride, axis=-1)
            half_x, half_y = (x1 - x0) / (2 * n), (y1 - y0) / (2 * n)  # half a sample step
            boxes = tf.stack(
                [
                    (y0 - 0.5 + half_y) / height,
                    (x0 - 0.5 + half_x) / width,
                    (y1 - 0.5 - half_y) / height,
                    (x1 - 0.5 - half_x) / width,
                ],
                axis=-1,
            )
            crops = tf.image.crop_and_resize(
                features, tf.reshape(boxes, (-1, 4)), tf.repeat(tf.range(batch), count), (n, n)
            )
            pooled = tf.nn.avg_pool2d(crops, self.sampling, self.sampling, "VALID")
            shape = (batch, count, self.output_size, self.output_size, features.shape[-1])
            return tf.reshape(pooled, shape)

        def compute_output_shape(self, input_shape):
            features, rois = input_shape
            return (rois[0], rois[1], self.output_size, self.output_size, features[-1])

        def get_config(self):
            return dict(
                super().get_config(),
                stride=self.stride,
                output_size=self.output_size,
                sampling=self.sampling,
            )

    _LAYERS["RoiAlign"] = RoiAlign
    return _LAYERS
