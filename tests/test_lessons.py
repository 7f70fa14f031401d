"""Every lesson has the course's shape, stored outputs from a real run, and checked exercises.

nbval (``make lessons``) proves the lessons run and still show what they say; these tests prove
the rest of the contract in CONTRIBUTING.md without running a kernel.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnnteach.exercises import SOLUTION_RE, list_exercises

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK_ID = re.compile(r"\bcheck\(\s*['\"](\d\d\.[a-z0-9-]+)['\"]")


def read(path):
    return nbformat.read(path, as_version=4)


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


@pytest.fixture(params=LESSONS, ids=[p.stem for p in LESSONS])
def lesson(request):
    return request.param, read(request.param)


def test_all_lessons_are_there():
    numbers = [p.name[:2] for p in LESSONS]
    assert numbers == [f"{i:02d}" for i in range(16)] + ["99"], numbers


def test_opening_cell(lesson):
    path, nb = lesson
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    lines = first.source.splitlines()
    assert re.match(r"# [A-Z]", lines[0]) and not re.match(r"# \d", lines[0]), (
        "H1 title without its number"
    )
    summary = next(line for line in lines[1:] if line.strip())
    assert not summary.startswith(("**", "-", "#")), "a one-line summary follows the title"
    learn = first.source.split("**You will learn**", 1)
    assert len(learn) == 2, "a 'You will learn' list"
    bullets = re.findall(r"^- ", learn[1].split("**Prerequisites")[0], re.M)
    assert len(bullets) == 3, f"exactly three 'you will learn' bullets, found {len(bullets)}"
    assert "**Prerequisites:**" in first.source and "**Runtime:**" in first.source


def test_one_visible_setup_cell(lesson):
    path, nb = lesson
    setup = nb.cells[1]
    assert setup.cell_type == "code" and setup.source.startswith("# Setup")
    assert sum(c.cell_type == "code" and c.source.startswith("# Setup") for c in nb.cells) == 1


def test_closing_sections_and_navigation(lesson):
    path, nb = lesson
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in markdown and "## Exercises" in markdown
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and "navigation" in tags(last)


def test_imports_the_installed_package_by_name(lesson):
    path, nb = lesson
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "sys.path" not in code
    assert not re.search(r"^\s*from \S+ import \*", code, re.M)
    assert "predict_classes(" not in code.replace("# raises", "") or path.name.startswith("99")


def test_short_code_cells(lesson):
    path, nb = lesson
    sizes = [len(c.source.strip().splitlines()) for c in nb.cells if c.cell_type == "code"]
    assert statistics.median(sizes) <= 6, f"median code cell is {statistics.median(sizes)} lines"


def test_prose_before_code(lesson):
    path, nb = lesson
    run = 0
    for cell in nb.cells:
        run = run + 1 if cell.cell_type == "code" else 0
        assert run <= 3, (
            f"more than three code cells in a row without prose, at: {cell.source[:60]!r}"
        )


def test_stored_outputs_come_from_a_real_run(lesson):
    path, nb = lesson
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "every code cell was executed"
    counts = [c.execution_count for c in code]
    assert counts == sorted(counts), "cells were executed top to bottom in one kernel"
    for cell in code:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors or "raises-exception" in tags(cell), (
            f"unexpected error in {cell.source[:60]!r}"
        )
    assert "widgets" not in nb.metadata, "widget state is stripped (its ids change every run)"
    assert nb.metadata.kernelspec.name == "python3"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbstripout",
            "--verify",
            "--keep-output",
            "--keep-count",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (
        f"{path.name} is not normalised: run `make outputs NB={path.relative_to(ROOT)}`"
    )


def test_pngs_not_svg(lesson):
    path, nb = lesson
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert "image/svg+xml" not in output.get("data", {}), (
                "figures are PNG (SVG carries a date)"
            )


def exercise_cells(nb):
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and CHECK_ID.search(c.source) and SOLUTION_RE.search(c.source)
    ]


@pytest.mark.parametrize(
    "path", [p for p in LESSONS if "01" <= p.name[:2] <= "98"], ids=lambda p: p.stem
)
def test_three_to_six_checked_exercises_with_recall_questions(path):
    nb = read(path)
    cells = exercise_cells(nb)
    assert 3 <= len(cells) <= 6, f"{path.name} has {len(cells)} checked exercises"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert markdown.count("<summary>Answer") >= 2, "a few recall questions with hidden answers"
    for cell in cells:
        output = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        assert "Correct" in output, (
            f"the stored solution passes its own check: {cell.source[:60]!r}"
        )


def test_every_exercise_is_in_a_lesson_and_every_check_is_registered():
    in_lessons = {}
    for path in LESSONS:
        for cell in read(path).cells:
            if cell.cell_type == "code":
                for exercise_id in CHECK_ID.findall(cell.source):
                    in_lessons.setdefault(exercise_id, path.name)
    registered = set(list_exercises())
    assert set(in_lessons) - registered == set(), "checks with no checker"
    assert registered - set(in_lessons) == set(), "checkers that no lesson uses"
    for exercise_id, name in in_lessons.items():
        assert name.startswith(exercise_id[:2]), f"{exercise_id} is used in {name}"
