"""cnnteach.student: the student edition strips solutions, runs, and never loses a student's edits."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from cnnteach.student import MANIFEST, build_student_edition, student_notebook, strip_solutions

LESSON = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Demo\nA lesson."},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [], "source": "from cnnteach.exercises import check, exercise, solution\n@exercise('00.demo-pixels', 'How many pixels?')\ndef _(a):\n    return None if a == 784 else 'Rows times columns.'"},
        {"cell_type": "code", "metadata": {}, "execution_count": 2,
         "outputs": [{"output_type": "execute_result", "data": {"text/plain": "✓ Correct"}, "metadata": {}, "execution_count": 2}],
         "source": "answer = ...\n### BEGIN SOLUTION\nanswer = 28 * 28\n### END SOLUTION\ncheck('00.demo-pixels', answer)"},
        {"cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": [],
         "source": "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\ndouble(4)"},
        {"cell_type": "code", "metadata": {}, "execution_count": 4,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "answer = 28 * 28"}],
         "source": "solution('00.demo-pixels')"},
        {"cell_type": "code", "metadata": {"tags": ["solution"]}, "execution_count": 4, "outputs": [], "source": "secret = 1"},
        {"cell_type": "markdown", "metadata": {},
         "source": "**Q.** Why 784?\n<details><summary>Answer</summary>28 times 28.</details>\nKeep me."},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture
def lessons(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "01_demo.ipynb").write_text(json.dumps(LESSON))
    return folder


def test_solutions_become_placeholders_that_run(lessons, tmp_path):
    build_student_edition(tmp_path / "out", lessons)
    nb = nbformat.read(tmp_path / "out" / "01_demo.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "28 * 28" not in json.dumps(nb) and "2 * x" not in text and "secret" not in text and "28 times 28" not in text
    assert "Keep me." in text and "# YOUR CODE HERE" in text
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()  # placeholders run without error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("Not attempted" in o.get("data", {}).get("text/plain", "") for o in outputs)
    assert not any(o.output_type == "error" for o in outputs)


def test_rebuild_keeps_a_notebook_the_student_changed(lessons, tmp_path):
    out = tmp_path / "out"
    first = build_student_edition(out, lessons)
    assert [p.name for p in first.written] == ["01_demo.ipynb"]
    again = build_student_edition(out, lessons)
    assert len(again.unchanged) == 1 and not again.written and not again.kept
    # the student works in the notebook ...
    mine = out / "01_demo.ipynb"
    edited = mine.read_text().replace("# YOUR CODE HERE", "answer = 784")
    mine.write_text(edited)
    # ... and the instructor updates the lesson and rebuilds
    changed = json.loads(json.dumps(LESSON))
    changed["cells"][0]["source"] = "# Demo\nA better lesson."
    (lessons / "01_demo.ipynb").write_text(json.dumps(changed))
    report = build_student_edition(out, lessons)
    assert mine.read_text() == edited  # the student's work survives
    assert report.kept == [(mine, out / "01_demo.new.ipynb")]
    assert "A better lesson." in (out / "01_demo.new.ipynb").read_text()
    assert "kept your edited 01_demo.ipynb; the new version is 01_demo.new.ipynb" in report.lines()
    # a second rebuild refreshes the .new file it wrote, and still keeps the student's
    changed["cells"][0]["source"] = "# Demo\nThe best lesson."
    (lessons / "01_demo.ipynb").write_text(json.dumps(changed))
    build_student_edition(out, lessons)
    assert mine.read_text() == edited and "The best lesson." in (out / "01_demo.new.ipynb").read_text()


def test_untouched_notebook_is_updated_in_place(lessons, tmp_path):
    out = tmp_path / "out"
    build_student_edition(out, lessons)
    changed = json.loads(json.dumps(LESSON))
    changed["cells"][0]["source"] = "# Demo\nRevised."
    (lessons / "01_demo.ipynb").write_text(json.dumps(changed))
    report = build_student_edition(out, lessons)
    assert report.updated == [out / "01_demo.ipynb"] and "Revised." in (out / "01_demo.ipynb").read_text()
    assert json.loads((out / MANIFEST).read_text())


def test_a_file_with_no_record_is_treated_as_the_students(lessons, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "01_demo.ipynb").write_text("my own notes")
    report = build_student_edition(out, lessons)
    assert (out / "01_demo.ipynb").read_text() == "my own notes" and report.kept


def test_refuses_to_write_over_the_lessons(lessons):
    with pytest.raises(ValueError, match="lessons folder itself"):
        build_student_edition(lessons, lessons)


def test_nested_indentation_is_kept():
    code = "def f(x):\n    if x:\n        ### BEGIN SOLUTION\n        return 1\n        ### END SOLUTION\n    return 0"
    assert strip_solutions(code) == "def f(x):\n    if x:\n        # YOUR CODE HERE\n        ...\n    return 0"
    compile(strip_solutions(code), "<student>", "exec")


def test_real_lessons_build_and_compile(tmp_path):
    from cnnteach.exercises import lessons_dir

    folder = lessons_dir()
    build_student_edition(tmp_path / "student", folder)
    for path in sorted((tmp_path / "student").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            assert "### BEGIN SOLUTION" not in cell.source
            if cell.cell_type == "code":
                source = "\n".join(l for l in cell.source.splitlines() if not l.lstrip().startswith(("%", "!")))
                compile(source, f"{path.name}", "exec")


def test_cli_reports_in_one_line(lessons, tmp_path):
    run = subprocess.run([sys.executable, "-m", "cnnteach", "student", str(tmp_path / "o"), "--from", str(lessons)],
                         capture_output=True, text=True)
    assert run.returncode == 0 and "wrote" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "cnnteach", "student", str(tmp_path / "o"), "--from", str(tmp_path / "x")],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "holds no lesson notebooks" in bad.stderr
