"""cnnteach grade: a small generated class of lesson 01 notebooks, graded for real in kernels."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from cnnteach.cli import main
from cnnteach.grade_report import csv_text
from cnnteach.grading import GradingError, find_submissions, grade_class
from cnnteach.student import student_notebook

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "notebooks" / "01_pixels_as_numbers.ipynb"
IDS = ["01.count-sevens", "01.idx-shape", "01.image-bytes", "01.invert", "01.mean-three"]
HEADER = ["student", "lesson", *IDS, "score", "total"]


def dump(notebook: dict) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def exercise_cell(notebook: dict, exercise_id: str) -> dict:
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and f'check("{exercise_id}"' in "".join(cell["source"]):
            return cell
    raise AssertionError(f"{exercise_id} not in the lesson")


def set_source(cell: dict, text: str) -> None:
    cell["source"] = text


def make_class(folder: Path) -> dict[str, Path]:
    """The class of the issue: every layout, every kind of notebook."""
    teacher = json.loads(LESSON.read_text(encoding="utf-8"))
    student = student_notebook(teacher)
    files = {}

    def save(relative: str, notebook) -> None:
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notebook if isinstance(notebook, str) else dump(notebook), encoding="utf-8")
        files[relative] = path

    save("alice/01_pixels_as_numbers.ipynb", teacher)  # every exercise correct
    save("01_pixels_as_numbers-bob.ipynb", student)  # untouched student edition

    half = json.loads(dump(student))  # two right, one wrong, two not attempted
    set_source(
        exercise_cell(half, "01.image-bytes"),
        'answer = 60000 * 28 * 28\ncheck("01.image-bytes", answer)',
    )
    set_source(
        exercise_cell(half, "01.count-sevens"), 'answer = "6265"\ncheck("01.count-sevens", answer)'
    )
    set_source(
        exercise_cell(half, "01.invert"),
        'def invert(image):\n    return 255 - image\n\n\ncheck("01.invert", invert)',
    )
    save("carol/01_pixels_as_numbers.ipynb", half)

    save(
        "01_pixels_as_numbers-dave.ipynb", '{"cells": [{"cell_type": "code", "source": '
    )  # broken JSON

    looping = json.loads(
        dump(teacher)
    )  # one exercise never finishes; the ones after it still count
    cell = exercise_cell(looping, "01.count-sevens")
    set_source(cell, "while True:\n    pass\n" + "".join(cell["source"]))
    save("erin/01_pixels_as_numbers.ipynb", looping)

    deleting = json.loads(dump(teacher))  # deletes what it can in its working folder, then works
    cleanup = (
        "import os, shutil\n"
        "for name in os.listdir('.'):\n"
        "    shutil.rmtree(name) if os.path.isdir(name) else os.remove(name)\n"
        "sorted(os.listdir('.'))"
    )
    deleting["cells"].insert(
        2,
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "id": "rm",
            "outputs": [],
            "source": cleanup,
        },
    )
    save("frank/01_pixels_as_numbers.ipynb", deleting)

    # A loop that ignores the interrupt, and a kernel that dies: the kernel is restarted, the
    # cells that ran cleanly are run again, and the exercises after them still count.
    stubborn = json.loads(dump(teacher))
    cell = exercise_cell(stubborn, "01.count-sevens")
    set_source(
        cell,
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n"
        "    pass\n" + "".join(cell["source"]),
    )
    cell = exercise_cell(stubborn, "01.invert")
    set_source(cell, "import os\nos._exit(1)\n" + "".join(cell["source"]))
    save("01_pixels_as_numbers-gina.ipynb", stubborn)
    return files


def digests(files: dict[str, Path]) -> dict[str, str]:
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, mnist_dir):
    folder = tmp_path_factory.mktemp("class")
    files = make_class(folder)
    before = digests(files)
    out = tmp_path_factory.mktemp("results") / "grades.csv"
    status = main(["grade", str(folder), "--out", str(out), "--timeout", "10"])
    return {"folder": folder, "files": files, "before": before, "out": out, "status": status}


# ----------------------------------------------------------------------------- the real class
@pytest.mark.slow
def test_the_csv_is_exactly_as_specified(graded):
    assert graded["status"] == 0
    text = graded["out"].read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER
    by_student = {row[0]: dict(zip(HEADER, row)) for row in rows[1:]}
    assert sorted(by_student) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
    expected = {  # student: marks in IDS order, score
        "alice": (["1", "1", "1", "1", "1"], "5"),
        "bob": (["", "", "", "", ""], "0"),
        "carol": (["0", "", "1", "1", ""], "2"),
        "dave": (["error"] * 5, "0"),
        "erin": (["error", "1", "1", "1", "1"], "4"),
        "frank": (["1", "1", "1", "1", "1"], "5"),
        "gina": (["error", "1", "1", "error", "1"], "3"),
    }
    for student, (marks, score) in expected.items():
        row = by_student[student]
        assert [row[i] for i in IDS] == marks, (student, row)
        assert (row["lesson"], row["score"], row["total"]) == ("01", score, "5"), row


@pytest.mark.slow
def test_every_submission_is_byte_identical_afterwards(graded):
    assert digests(graded["files"]) == graded["before"]
    left = sorted(p.relative_to(graded["folder"]).as_posix() for p in graded["folder"].rglob("*"))
    assert [p for p in left if p.endswith(".ipynb")] == sorted(graded["files"])


@pytest.mark.slow
def test_the_report_shows_rates_hints_and_who_has_not_started(graded):
    page = graded["out"].with_suffix(".html").read_text(encoding="utf-8")
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "01.count-sevens" in page and "timed out after 10 s" in page
    assert "the kernel died while this cell ran" in page
    assert "remove the quotes" in page  # carol's hint for the string "6265"
    assert "bob" in page.split("Students who have not started")[1].split("</p>")[0]
    assert "not valid JSON" in page


@pytest.mark.slow
def test_an_existing_csv_is_never_replaced_without_force(graded, capsys):
    before = graded["out"].read_bytes()
    assert main(["grade", str(graded["folder"]), "--out", str(graded["out"])]) == 1
    assert "already exists" in capsys.readouterr().err
    assert graded["out"].read_bytes() == before


# ----------------------------------------------------------------------------- no kernel needed
def test_students_come_from_the_file_name_or_the_folder(tmp_path):
    for relative in (
        "alice/01_pixels_as_numbers.ipynb",
        "01_pixels_as_numbers-jean-luc.ipynb",
        "g1/bob/03_labels_and_one_hot.ipynb",
        "loose.ipynb",
        ".ipynb_checkpoints/01_pixels_as_numbers-checkpoint.ipynb",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("{}")
    found = {(s.student, s.lesson_from_name) for s in find_submissions(tmp_path)}
    assert found == {("alice", "01"), ("jean-luc", "01"), ("g1/bob", "03"), ("loose", None)}


@pytest.mark.parametrize(
    "content, reason",
    [
        ("", "empty"),
        ("{not json", "not valid JSON"),
        ('{"cells": "no"}', "not a Jupyter notebook"),
        (dump({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), "no code cells"),
        (
            dump(
                {
                    "cells": [
                        {
                            "cell_type": "code",
                            "source": "1 + 1",
                            "metadata": {},
                            "outputs": [],
                            "id": "a",
                            "execution_count": None,
                        }
                    ],
                    "metadata": {},
                    "nbformat": 4,
                    "nbformat_minor": 5,
                }
            ),
            "not a cnnteach lesson",
        ),
    ],
)
def test_ungradable_notebooks_get_one_row_with_a_reason(tmp_path, content, reason):
    (tmp_path / "essay-zoe.ipynb").write_text(content, encoding="utf-8")
    [grade] = grade_class(tmp_path, progress=False)
    assert grade.student == "zoe" and reason in grade.problem
    assert "\n" not in grade.problem and "Traceback" not in grade.problem
    assert csv_text([grade]) == "student,lesson,score,total\nzoe,,0,0\n"


def test_a_broken_notebook_of_a_known_lesson_marks_every_exercise_error(tmp_path):
    (tmp_path / "01_pixels_as_numbers-zoe.ipynb").write_text("{", encoding="utf-8")
    [grade] = grade_class(tmp_path, progress=False)
    assert csv_text([grade]).splitlines()[1] == "zoe,01," + ",".join(["error"] * 5) + ",0,5"


def test_bad_arguments_and_folders_get_one_sentence(tmp_path):
    with pytest.raises(GradingError, match="is not a folder"):
        grade_class(tmp_path / "missing")
    with pytest.raises(GradingError, match="holds no notebooks"):
        grade_class(tmp_path)
    (tmp_path / "01_x-a.ipynb").write_text("{}")
    with pytest.raises(GradingError, match="timeout must be a whole number"):
        grade_class(tmp_path, timeout=0)


def test_check_logs_its_result_when_grading(tmp_path, monkeypatch):
    from cnnteach.exercises import check

    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("CNNTEACH_CHECK_LOG", str(log))
    check("01.image-bytes", 60000 * 28 * 28)
    check("01.image-bytes", ...)
    check("01.image-bytes", "47040000")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["id"], r["status"]) for r in records] == [
        ("01.image-bytes", "correct"),
        ("01.image-bytes", "not attempted"),
        ("01.image-bytes", "not yet"),
    ]
    monkeypatch.delenv("CNNTEACH_CHECK_LOG")
    check("01.image-bytes", 1)
    assert len(log.read_text().splitlines()) == 3
