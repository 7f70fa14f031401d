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


def test_detection_backbone_has_stride_8_and_any_canvas_size():
    from cnnteach.models import detection_backbone

    backbone = detection_backbone()
    for side in (96, 128):
        import numpy as np

        out = backbone(np.zeros((1, side, side, 1), "float32"))
        assert tuple(out.shape) == (1, side // 8, side // 8, 64)
    plain = detection_backbone((96, 96, 1), top_down=False)
    assert not any("top_down" in layer.name for layer in plain.layers)
    with pytest.raises(ValueError, match="8 positive numbers"):
        detection_backbone(widths=(16, 32))


def test_one_stage_model_predicts_classes_and_offsets_per_anchor():
    from cnnteach.models import detection_backbone, one_stage_model

    model = one_stage_model()
    assert model.output_shape == (None, 12 * 12 * 9, 15)
    assert 300_000 < model.count_params() < 800_000
    shared = detection_backbone((128, 128, 1))
    other = one_stage_model((128, 128, 1), anchors_per_cell=4, classes=3, backbone=shared)
    assert other.output_shape == (None, 16 * 16 * 4, 8)
    assert any(layer is shared for layer in other.layers)  # the backbone is reused, not copied
