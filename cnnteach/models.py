"""The networks of the course, built layer by layer with Keras.

* :func:`blog_model` is the 2019 network exactly (37,210 parameters), started the Keras 3
  way with ``keras.Input``.
* :func:`lesson_model` is the network the course recommends: two small convolutions, still
  under 100k parameters.
* :func:`background_model` adds an eleventh class, "no digit here", for lesson 10's detector.

Training lives in :mod:`cnnteach.training`, saving and loading in :mod:`cnnteach.storage`.
Keras is imported inside the functions, so importing this module is light.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BACKGROUND",
    "WINDOW",
    "background_model",
    "blog_model",
    "detection_backbone",
    "lesson_model",
    "one_stage_model",
]

#: Side of an MNIST digit and of every window the classifier reads.
WINDOW = 28
#: The label of the extra "no digit here" class of :func:`background_model`.
BACKGROUND = 10


def blog_model():
    """The 2019 network, layer for layer: 37,210 parameters.

    ``Conv2D(10, 3)`` with ReLU and ``'valid'`` padding (28 -> 26), two ``MaxPooling2D(2)``
    (26 -> 13 -> 6), ``Flatten`` (6 * 6 * 10 = 360), ``Dense(100)`` with ReLU and
    ``Dense(10)`` with softmax. Returned uncompiled; :func:`train` compiles it.

    Examples
    --------
    >>> model = blog_model()
    >>> model.count_params()
    37210
    >>> [layer.output.shape[1:] for layer in model.layers][:3]
    [(26, 26, 10), (13, 13, 10), (6, 6, 10)]
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(10, 3, activation="relu", padding="valid", name="conv"),
            layers.MaxPooling2D(2, name="pool_1"),
            layers.MaxPooling2D(2, name="pool_2"),
            layers.Flatten(name="flatten"),
            layers.Dense(100, activation="relu", name="dense"),
            layers.Dense(10, activation="softmax", name="digits"),
        ],
        name="blog_2019",
    )


def lesson_model(classes: int = 10):
    """The network the course recommends: two small convolutions, 56,714 parameters.

    ``Conv2D(16, 3)`` (28 -> 26), pool (13), ``Conv2D(32, 3)`` (11), pool (5), ``Flatten``
    (5 * 5 * 32 = 800), ``Dense(64)`` with ReLU, ``Dense(10)`` with softmax. The second
    convolution looks at combinations of the first one's features (strokes made of edges);
    that, with scaled pixels and a learning-rate schedule, is what lifts the accuracy.

    Parameters
    ----------
    classes : int, optional
        Outputs of the last layer: 10 digits, or 11 for lesson 10's "digit or background".

    Examples
    --------
    >>> model = lesson_model()
    >>> model.count_params()
    56714
    >>> model.output_shape
    (None, 10)
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu", name="conv_1"),
            layers.MaxPooling2D(2, name="pool_1"),
            layers.Conv2D(32, 3, activation="relu", name="conv_2"),
            layers.MaxPooling2D(2, name="pool_2"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="dense"),
            layers.Dense(classes, activation="softmax", name="digits"),
        ],
        name="lesson",
    )


def background_model(base=None):
    """A digit classifier with one more output: classes 0-9 plus 10, "no digit here".

    Parameters
    ----------
    base : keras.Model, optional
        A trained 10-class classifier made of a chain of layers (e.g. ``load_trained_model()``). Its layers are copied
        with their weights, and its last ``Dense`` layer gets an 11th unit whose weights start
        at zero: before any training the new model ranks the digits exactly as ``base`` does.
        Fine-tuning it on windows is what R-CNN does with a classifier trained on ImageNet.
        Without ``base``, a fresh, untrained network with the lesson model's layers.

    Returns
    -------
    keras.Model
        Uncompiled; output (None, 11).

    Examples
    --------
    >>> background_model().outputs[0].shape  # doctest: +SKIP
    (None, 11)
    """
    import keras
    from keras import layers

    if base is None:
        return lesson_model(classes=BACKGROUND + 1)
    last = base.layers[-1] if base.layers else None
    if not isinstance(last, layers.Dense) or last.units != BACKGROUND:
        raise ValueError("base must end with a Dense layer of 10 units (one per digit): pass load_trained_model()")
    clones = [type(layer).from_config(layer.get_config()) for layer in base.layers[:-1]]
    config = last.get_config()
    config.update(units=BACKGROUND + 1, name=f"{last.name}_or_background")
    head = layers.Dense.from_config(config)
    x = inputs = keras.Input((WINDOW, WINDOW, 1))
    for layer in [*clones, head]:
        x = layer(x)
    model = keras.Model(inputs, x, name=f"{base.name}_with_background")
    for clone, layer in zip(clones, base.layers[:-1]):
        clone.set_weights(layer.get_weights())
    kernel, bias = last.get_weights()
    head.set_weights([np.concatenate([kernel, np.zeros((kernel.shape[0], 1), kernel.dtype)], axis=1),
                      np.concatenate([bias, np.zeros(1, bias.dtype)])])
    return model


# ----------------------------------------------------------------------------- detection
def detection_backbone(input_shape=(None, None, 1), *, widths=(16, 32, 32, 64, 64, 128, 128, 128),
                       top_down: bool = True, name: str = "backbone"):
    """A small convolutional backbone for detection: stride-8 features, every cell a place.

    Eight 3x3 ``Conv2D`` - ``BatchNormalization`` - ReLU blocks; the 1st, 2nd, 4th and 6th
    step 2 pixels at a time, so the 5th block's features have one cell per 8 x 8 pixels of the
    canvas (stride 8) and the 8th block's one per 16 x 16 (stride 16). With ``top_down`` (a
    light version of a feature pyramid's top-down path), the stride-16 features are projected
    by a 1x1 convolution, upsampled 2x and added to the stride-8 ones, so a stride-8 cell also
    sees the wider context of the deeper layers. The output is always at stride 8: a 96 x 96
    canvas gives a 12 x 12 map. Lesson 13's one-stage detector stands on it, and a two-stage
    detector can share it.

    Parameters
    ----------
    input_shape : tuple, default (None, None, 1)
        Canvas shape; None sides accept any canvas whose sides are multiples of 16.
    widths : sequence of 8 int
        Filters of the eight blocks.
    top_down : bool, default True
        Add the upsampled stride-16 features to the stride-8 ones.
    name : str, default "backbone"

    Returns
    -------
    keras.Model
        Input canvases (batch, H, W, 1) in [0, 1]; output (batch, H / 8, W / 8, widths[4]).

    Examples
    --------
    >>> backbone = detection_backbone((96, 96, 1))
    >>> backbone.output_shape
    (None, 12, 12, 64)
    """
    import keras
    from keras import layers

    widths = tuple(int(w) for w in widths)
    if len(widths) != 8 or min(widths) < 1:
        raise ValueError(f"widths must be 8 positive numbers of filters, got {widths!r}")
    x = inputs = keras.Input(input_shape)
    features = {}
    for i, width in enumerate(widths):
        stride = 2 if i in (0, 1, 3, 5) else 1
        x = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False, name=f"conv_{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn_{i + 1}")(x)
        x = layers.ReLU(name=f"relu_{i + 1}")(x)
        features[i + 1] = x
    out = features[5]
    if top_down:
        deep = layers.Conv2D(widths[4], 1, name="top_down_project")(features[8])
        deep = layers.UpSampling2D(2, name="top_down_up")(deep)
        out = layers.Add(name="top_down_add")([out, deep])
    return keras.Model(inputs, out, name=name)


def one_stage_model(input_shape=(96, 96, 1), *, anchors_per_cell: int = 9, classes: int = 10,
                    backbone=None, head_width: int | None = 64):
    """A one-stage detector: a backbone, then for every anchor N + 1 class scores and 4 offsets.

    The head is a 3x3 ``Conv2D`` with ReLU (``head_width`` filters; a light version of
    RetinaNet's head subnets) and a 3x3 ``Conv2D`` with ``anchors_per_cell * (classes + 1 + 4)``
    outputs per cell (SSD's predictor is such a 3x3 convolution), reshaped to one row per anchor:
    ``classes + 1`` logits (digits, then background, class ``classes``) and
    ``(tx, ty, tw, th)``. Anchors are ordered as :func:`cnnteach.boxes.make_anchors` orders
    them: cell by cell (row, then column), then the anchors of the cell.

    Parameters
    ----------
    input_shape : tuple, default (96, 96, 1)
        Canvas shape; the sides must be multiples of 16.
    anchors_per_cell : int, default 9
        ``len(sizes) * len(ratios)`` of the anchors.
    classes : int, default 10
        Object classes; one more output is background.
    backbone : keras.Model, optional
        Default :func:`detection_backbone` for ``input_shape``.
    head_width : int or None, default 64
        Filters of the head's hidden convolution; None predicts straight from the backbone.

    Returns
    -------
    keras.Model
        Uncompiled; output (batch, H / 8 * W / 8 * anchors_per_cell, classes + 5) of raw
        logits and offsets (no softmax: the loss applies it).

    Examples
    --------
    >>> model = one_stage_model()
    >>> model.output_shape
    (None, 1296, 15)
    """
    import keras
    from keras import layers

    if backbone is None:
        backbone = detection_backbone(input_shape)
    per_anchor = int(classes) + 1 + 4
    inputs = keras.Input(input_shape)
    features = backbone(inputs)
    x = features
    if head_width:
        x = layers.Conv2D(int(head_width), 3, padding="same", activation="relu", name="head_hidden")(x)
    x = layers.Conv2D(int(anchors_per_cell) * per_anchor, 3, padding="same", name="head")(x)
    outputs = layers.Reshape((-1, per_anchor), name="anchors")(x)
    return keras.Model(inputs, outputs, name="one_stage")
