"""Helpers shared by the tests of each lesson's exercises (tests/test_lessonNN_exercises.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cnnteach.exercises import check


def exercise_cells(notebook: Path) -> dict:
    """Exercise id -> source of the one code cell of ``notebook`` that checks it."""
    found = {}
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        match = re.search(r"check\(\"([^\"]+)\"", source)
        if cell["cell_type"] == "code" and match:
            assert match.group(1) not in found, f"{match.group(1)} is checked in two cells"
            found[match.group(1)] = source
    return found


def run_cell(source: str, namespace: dict, notebook: Path) -> list:
    """Execute a notebook cell with a check() that records its feedback."""
    feedback = []

    def recording_check(exercise_id, answer):
        feedback.append(check(exercise_id, answer))
        return feedback[-1]

    exec(compile(source, str(notebook), "exec"), dict(namespace, check=recording_check))
    return feedback


def refused(exercise_id, answer):
    """Assert that ``answer`` is not accepted, and that checking it did not raise."""
    feedback = check(exercise_id, answer)  # must never raise
    assert not feedback and feedback.status in ("not yet", "not attempted"), (answer, feedback)
    return feedback


def accepts_right_refuses_wrong(exercise_id, right, wrong):
    """Every answer in ``right`` is accepted; every one in ``wrong`` is refused, with a message."""
    for answer in right:
        assert check(exercise_id, answer), (exercise_id, answer)
    for answer in wrong:
        feedback = check(exercise_id, answer)  # must never raise
        assert not feedback, (exercise_id, answer)
        assert feedback.message
