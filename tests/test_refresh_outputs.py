"""tools/refresh_outputs.py keeps real warnings but drops TensorFlow's C++ start-up log."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "refresh_outputs.py"


def load():
    spec = importlib.util.spec_from_file_location("refresh_outputs_under_test", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_drops_only_tensorflow_log_lines():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import keras")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output(
            "stream",
            name="stderr",
            text=(
                "WARNING: All log messages before absl::InitializeLog() "
                "is called are written to STDERR\n"
                "I0000 00:00:1795468272.575526     897 "
                "port.cc:153] oneDNN custom operations are on.\n"
                "To enable the following instructions: AVX2 "
                "FMA, in other operations, rebuild TensorFlow.\n"
            ),
        ),
        nbformat.v4.new_output(
            "stream",
            name="stderr",
            text="E0000 00:00:17.1  9 cuda.cc:52] x\nUserWarning: keep me\n",
        ),
        nbformat.v4.new_output(
            "stream",
            name="stdout",
            text="I0000 00:00:1.0 1 a.cc:1] stdout is left alone\n",
        ),
    ]
    load().drop_tensorflow_log(nb)
    assert [o.get("text") for o in nb.cells[0].outputs] == [
        "UserWarning: keep me\n",
        "I0000 00:00:1.0 1 a.cc:1] stdout is left alone\n",
    ]


def lesson(first_line):
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(f"# Title\nSummary.\n\n{first_line}"),
            nbformat.v4.new_code_cell("# Setup"),
        ]
    )


def test_runtime_is_rounded_up_to_five_seconds():
    tool = load()
    assert [tool.runtime_seconds(s) for s in (0, 0.3, 5.0, 5.01, 41.2, 45.0, 45.2, 89.9)] == [
        5,
        5,
        5,
        10,
        45,
        45,
        50,
        90,
    ]
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite number of seconds"):
            tool.runtime_seconds(bad)


def test_runtime_line_is_written_from_the_measurement():
    tool = load()
    nb = lesson(
        "**Prerequisites:** lesson 07 · **Runtime:** about "
        "40 s on a 2-core laptop CPU (no GPU needed)."
    )
    assert tool.write_runtime(nb, 52.3) == 55
    assert nb.cells[0].source.endswith(
        "**Runtime:** about 55 s on a 2-core laptop CPU (no GPU needed)."
    )
    assert nb.cells[0].source.startswith("# Title\nSummary.")  # nothing else changes
    assert tool.write_runtime(nb, 3.0) == 5 and "about 5 s on" in nb.cells[0].source


@pytest.mark.parametrize(
    "first_line",
    ["no runtime here", "**Runtime:** about 10 s, **Runtime:** about 20 s"],
)
def test_a_lesson_without_one_runtime_line_is_refused(first_line):
    tool = load()
    with pytest.raises(ValueError, match=r"one '\*\*Runtime:\*\* about N s' line"):
        tool.write_runtime(lesson(first_line), 10.0, "notebooks/xx.ipynb")


def test_every_lesson_has_a_runtime_line_the_tool_can_write():
    tool = load()
    for path in sorted((TOOL.parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        tool.first_cell_with_runtime(nbformat.read(path, as_version=4), str(path))
