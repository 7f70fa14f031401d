"""cnnteach.explorers and cnnteach.layer_figures: the figures and the widgets."""

import numpy as np
import pytest

from cnnteach.explorers import conv_explorer, plot_conv_step, plot_pool_step, pool_explorer
from cnnteach.layer_figures import plot_flatten, plot_kernel_responses
from cnnteach.steps import KERNEL_NAMES, conv_step, make_kernel, pool_step


@pytest.fixture(autouse=True, scope="module")
def agg():
    import matplotlib

    matplotlib.use("Agg")


def test_static_figures_draw(digit):
    drawn = plot_conv_step(conv_step(digit, 3, 1, 0, 8, 12))
    assert "9 products, sum = " in drawn.axes[1].get_title()
    assert "floor(25 / 1)" in drawn.formula.get_text()
    assert sum(t.get_visible() for t in drawn.cell_texts) == 9
    drawn.update(conv_step(digit, 29))
    assert "Impossible" in drawn.message.get_text()
    pool = plot_pool_step(pool_step(digit, 2, 2, 3, 3))
    assert pool.axes[2].get_title() == "output 14 × 14: cell (3, 3)"
    maps = plot_kernel_responses(digit, {name: make_kernel(name) for name in KERNEL_NAMES})
    assert [m.get_array().shape for m in maps] == [(28, 28)] + [(26, 26)] * 3
    flat = plot_flatten(np.random.default_rng(0).random((6, 6, 10)))
    assert flat["vector"].get_array().shape == (1, 360)
    with pytest.raises(ValueError, match="needs 3 Axes"):
        plot_conv_step(conv_step(digit), ax=[drawn.axes[0]])
    import matplotlib.pyplot as plt

    plt.close("all")


def _slider_descriptions(explorer):
    import ipywidgets

    return {
        w.description for w in explorer.controls.values() if isinstance(w, ipywidgets.IntSlider)
    }


def test_conv_explorer_builds_and_updates_without_a_display(digit):
    ex = conv_explorer(digit)
    assert _slider_descriptions(ex) == {"kernel", "stride", "padding", "row", "col"}
    assert "cnnteach-readout" in ex.readout._dom_classes
    assert "Output: 26 × 26" in ex.readout.value and ex.output.outputs[0]["data"]["image/png"]
    assert ex.controls["kernel"].max >= 29  # impossible settings are reachable
    ex.controls["kernel"].value = 29
    assert ex.readout.value.startswith("<b style='color:#b35900'>Impossible:</b>")
    ex.controls["padding"].value = 1
    assert "Output: 2 × 2" in ex.readout.value
    ex.controls["kernel"].value = 3
    assert ex.controls["row"].max == 27  # the position sliders follow the output
    ex.controls["stride"].value = 2
    assert "Output: 14 × 14" in ex.readout.value and ex.controls["row"].max == 13
    ex.controls["filter"].value = "blur"
    assert ex.step.kernel[0, 0] == pytest.approx(1 / 9)
    before = ex.updates
    ex.controls["col"].value = 5
    assert ex.updates == before + 1 and ex.step.col == 5


def test_pool_explorer_builds_and_updates_without_a_display(digit):
    ex = pool_explorer(digit)
    assert _slider_descriptions(ex) == {"pool", "stride", "row", "col"}
    assert ex.controls["padding"].description == "padding"
    assert "Output: 14 × 14" in ex.readout.value
    ex.controls["pool"].value = 29
    assert "Impossible:" in ex.readout.value
    ex.controls["padding"].value = "same"
    assert "Output: 14 × 14" in ex.readout.value  # ceil(28 / 2)
    ex.controls["stride"].value = 4
    assert "Output: 7 × 7" in ex.readout.value
    ex.controls["mode"].value = "average"
    assert "average of the window" in ex.readout.value
    repr_bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in repr_bundle


def test_a_change_during_an_update_is_not_dropped():
    """Widget messages can arrive on a second kernel thread while an update is drawing."""
    import threading

    from cnnteach.explorers import conv_explorer

    explorer = conv_explorer(np.eye(28) * 255)
    assert "Output: 26 × 26" in explorer.readout.value
    entered, release = threading.Event(), threading.Event()
    original = explorer._render

    def slow_render():
        explorer._render = original  # block the first redraw only
        entered.set()
        release.wait(5)
        return original()

    explorer._render = slow_render
    worker = threading.Thread(target=explorer.update)
    worker.start()
    assert entered.wait(5)
    explorer.controls["padding"].value = 1  # arrives while the first update is still drawing
    release.set()
    worker.join(10)
    assert "Output: 28 × 28" in explorer.readout.value, explorer.readout.value
