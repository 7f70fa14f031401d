"""tools/refresh_outputs.py keeps real warnings but drops TensorFlow's C++ start-up log."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat

TOOL = Path(__file__).resolve().parent.parent / "tools" / "refresh_outputs.py"


def load():
    spec = importlib.util.spec_from_file_location("refresh_outputs_under_test", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_drops_only_tensorflow_log_lines():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import keras")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=(
            "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "I0000 00:00:1795468272.575526     897 port.cc:153] oneDNN custom operations are on.\n"
            "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n")),
        nbformat.v4.new_output("stream", name="stderr", text="E0000 00:00:17.1  9 cuda.cc:52] x\nUserWarning: keep me\n"),
        nbformat.v4.new_output("stream", name="stdout", text="I0000 00:00:1.0 1 a.cc:1] stdout is left alone\n"),
    ]
    load().drop_tensorflow_log(nb)
    assert [o.get("text") for o in nb.cells[0].outputs] == ["UserWarning: keep me\n", "I0000 00:00:1.0 1 a.cc:1] stdout is left alone\n"]
