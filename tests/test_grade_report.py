"""cnnteach.grade_report: atomic writes that never replace a file, an HTML report that escapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnteach.grade_report import report_html, write_csv
from cnnteach.grading import Grade, GradingError


def test_writes_are_atomic_and_refuse_to_replace(tmp_path):
    grade = Grade(Path("a.ipynb"), "a", "01", marks={"01.x": "1"})
    target = tmp_path / "grades.csv"
    target.write_text("mine\n")
    with pytest.raises(GradingError, match="already exists"):
        write_csv([grade], target)
    assert target.read_text() == "mine\n"
    write_csv([grade], target, force=True)
    assert target.read_text() == "student,lesson,01.x,score,total\na,01,1,1,1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv"]  # no temporary left


def test_the_report_escapes_what_students_wrote():
    answered = Grade(Path("a.ipynb"), "a", "01", marks={"01.x": "0"}, hints={"01.x": "<img src=x>"})
    idle = Grade(Path("<b>.ipynb"), "<script>x</script>", "01", marks={"01.x": ""})
    page = report_html([answered, idle])
    assert "<script>x" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x&gt;" in page
