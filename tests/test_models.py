"""cnnteach.models: the 2019 network pinned layer by layer, the lesson and background networks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cnnteach.models import blog_model, lesson_model

keras = pytest.importorskip("keras")


def test_blog_model_is_the_2019_network_layer_by_layer():
    model = blog_model()
    expected = [
        ("Conv2D", (None, 26, 26, 10), 100),
        ("MaxPooling2D", (None, 13, 13, 10), 0),
        ("MaxPooling2D", (None, 6, 6, 10), 0),
        ("Flatten", (None, 360), 0),
        ("Dense", (None, 100), 36_100),
        ("Dense", (None, 10), 1_010),
    ]
    got = [(type(l).__name__, tuple(l.output.shape), l.count_params()) for l in model.layers]
    assert got == expected
    assert model.count_params() == 37_210
    assert tuple(model.inputs[0].shape) == (None, 28, 28, 1)
    conv = model.layers[0]
    assert (conv.filters, conv.kernel_size, conv.strides, conv.padding) == (10, (3, 3), (1, 1), "valid")
    assert [l.pool_size for l in model.layers[1:3]] == [(2, 2), (2, 2)]
    assert [l.activation.__name__ for l in (conv, model.layers[4], model.layers[5])] == ["relu", "relu", "softmax"]


def test_lesson_model_is_small_and_reads_mnist():
    model = lesson_model()
    assert model.count_params() == 56_714 <= 100_000
    assert tuple(model.inputs[0].shape) == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert sum(type(l).__name__ == "Conv2D" for l in model.layers) == 2


def test_fresh_models_each_call():
    assert blog_model() is not blog_model()



def test_importing_is_light():
    code = "import sys, cnnteach.models, cnnteach.training, cnnteach.storage, cnnteach.evaluation; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
