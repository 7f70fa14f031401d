"""The networks of the course, built layer by layer with Keras.

* :func:`blog_model` is the 2019 network exactly (37,210 parameters), started the Keras 3
  way with ``keras.Input``.
* :func:`lesson_model` is the network the course recommends: two small convolutions, still
  under 100k parameters.
* :func:`background_model` adds an eleventh class, "no digit here", for lesson 12's detector.

Training lives in :mod:`cnnteach.training`, saving and loading in :mod:`cnnteach.storage`.
Keras is imported inside the functions, so importing this module is light.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BACKGROUND", "WINDOW", "background_model", "blog_model", "lesson_model"]

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
        Outputs of the last layer: 10 digits, or 11 for lesson 12's "digit or background".

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
