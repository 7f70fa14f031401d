"""Reading the lessons' exercise cells, for the exercise tests (one small notebook reader)."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from cnnteach.exercises import SOLUTION_RE, check, exercise_prompt

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHECK_ID = re.compile(r"\bcheck\(\s*['\"](\d\d\.[a-z0-9-]+)['\"]")


def read_cells(notebook: Path) -> list[dict]:
    """The cells of a notebook, each with its source joined into one string."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    return [dict(cell, source="".join(cell.get("source", ""))) for cell in cells]


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@dataclass
class ExerciseCell:
    """One exercise of a lesson: its code cell, the Markdown cell before it, and where it is."""

    exercise_id: str
    notebook: Path
    index: int
    source: str
    markdown: str  # the source of the cell before it ("" if that is not Markdown)
    outputs: list

    @property
    def prompt(self) -> str | None:
        return exercise_prompt(self.markdown)

    @property
    def solution_code(self) -> str:
        return "\n".join(textwrap.dedent(m.group(2)) for m in SOLUTION_RE.finditer(self.source))


def exercise_cells(notebook: Path) -> dict[str, ExerciseCell]:
    """Exercise id -> the one code cell of ``notebook`` that checks it, with its solution block."""
    found = {}
    cells = read_cells(notebook)
    for index, cell in enumerate(cells):
        ids = CHECK_ID.findall(cell["source"])
        if cell["cell_type"] != "code" or not ids or not SOLUTION_RE.search(cell["source"]):
            continue
        assert len(ids) == 1 and ids[0] not in found, (
            f"{notebook.name}: one exercise per cell, checked once"
        )
        before = cells[index - 1] if index else {"cell_type": "code", "source": ""}
        markdown = before["source"] if before["cell_type"] == "markdown" else ""
        found[ids[0]] = ExerciseCell(
            ids[0], notebook, index, cell["source"], markdown, cell.get("outputs", [])
        )
    return found


def setup_imports(notebook: Path) -> dict:
    """The names the lesson's Setup cell imports (only its import statements are run)."""
    setup = next(c for c in read_cells(notebook) if c["cell_type"] == "code")
    assert setup["source"].startswith("# Setup"), (
        f"{notebook.name}: the first code cell is the Setup cell"
    )
    tree = ast.parse(setup["source"])
    tree.body = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    namespace: dict = {}
    exec(compile(tree, str(notebook), "exec"), namespace)  # noqa: S102 - the lesson's own imports
    return namespace


def free_names(source: str) -> set[str]:
    """Names a piece of code reads without defining them itself (a conservative estimate)."""
    tree = ast.parse(source)
    assigned = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    assigned |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assigned |= {
        a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs
    }
    loaded = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    return loaded - assigned


def run_cell(source: str, namespace: dict, notebook: Path) -> list:
    """Execute a notebook cell with a check() that records its feedback."""
    feedback = []

    def recording_check(exercise_id, answer):
        feedback.append(check(exercise_id, answer))
        return feedback[-1]

    exec(compile(source, str(notebook), "exec"), dict(namespace, check=recording_check))  # noqa: S102 - a lesson cell
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
