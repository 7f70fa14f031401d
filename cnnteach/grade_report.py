"""The grade table and the class report: grades.csv and grades.html.

:func:`write_csv` writes one row per graded notebook (columns ``student``, ``lesson``, one per
exercise id: ``1`` correct, ``0`` not yet, empty not attempted, ``error`` when its cell failed
or timed out; then ``score`` and ``total``) and :func:`write_report` an HTML class report
with no network needs. Both write atomically and never replace an existing file unless
``force=True``. The grades come from :func:`cnnteach.grading.grade_class`.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import html
import io
import os
import tempfile
from pathlib import Path

from cnnteach.grading import GradingError

__all__ = ["csv_text", "exercise_columns", "report_html", "write_csv", "write_report"]


def _write_atomically(path, text: str, force: bool) -> Path:
    path = Path(path)
    if path.exists() and not force:
        raise GradingError(
            f"{path} already exists: choose another name, or pass --force to replace it"
        )
    if path.exists() and path.is_dir():
        raise GradingError(f"{path} is a folder: give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def exercise_columns(grades) -> list[str]:
    """The exercise ids of every lesson graded, sorted (the CSV's middle columns)."""
    return sorted({exercise_id for g in grades for exercise_id in g.marks})


def csv_text(grades) -> str:
    """The CSV: student, lesson, one column per exercise id, score, total.

    Examples
    --------
    >>> from cnnteach.grading import Grade
    >>> g = Grade(Path("a.ipynb"), "alice", "01", marks={"01.a": "1", "01.b": "", "01.c": "error"})
    >>> print(csv_text([g]), end="")
    student,lesson,01.a,01.b,01.c,score,total
    alice,01,1,,error,1,3
    """
    columns = exercise_columns(grades)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "lesson", *columns, "score", "total"])
    for g in grades:
        writer.writerow(
            [g.student, g.lesson, *(g.marks.get(c, "") for c in columns), g.score, g.total]
        )
    return buffer.getvalue()


def write_csv(grades, path, *, force: bool = False) -> Path:
    """Write :func:`csv_text` to ``path`` atomically; never replace a file unless ``force``."""
    return _write_atomically(path, csv_text(grades), force)


def _bar_chart(rates: list[tuple[str, float, int]]) -> str:
    """An inline SVG bar chart: one bar per exercise, its success rate (0-100 %)."""
    row, label_width, width = 24, 230, 300
    height = row * len(rates) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + width + 120}" '
        f'height="{height}" '
        f'role="img" aria-label="success rate per exercise">'
    ]
    for k, (exercise_id, rate, graded) in enumerate(rates):
        y = 10 + k * row
        colour = "#1a7f37" if rate >= 0.75 else "#b35900" if rate >= 0.4 else "#cf222e"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" font-size="13">'
            f"{html.escape(exercise_id)}</text>"
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{width}" height="16" fill="#eee"/>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{round(width * rate)}" height="16" '
            f'fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{label_width + width + 8}" y="{y + 15}" font-size="13">'
            f"{100 * rate:.0f} % of {graded}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def report_html(grades) -> str:
    """The class report: success per exercise, common wrong answers, who has not started."""
    e = html.escape
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>cnnteach class report</title>",
        "<style>body{font:14px sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        "h2{margin-top:2em}</style></head><body><h1>Class report</h1>",
    ]
    gradable = [g for g in grades if g.problem is None]
    out.append(
        f"<p>{len(grades)} notebook(s) graded, {len(grades) - len(gradable)} could not be graded. "
        "Success rate: the share of graded notebooks whose answer is correct.</p>"
    )
    for lesson in sorted({g.lesson for g in gradable}):
        group = [g for g in gradable if g.lesson == lesson]
        ids = sorted({i for g in group for i in g.marks})
        rates = [
            (i, sum(g.marks.get(i) == "1" for g in group) / len(group), len(group)) for i in ids
        ]
        out.append(f"<h2>Lesson {e(lesson)}: {len(group)} notebook(s)</h2>")
        out.append("<h3>Success rate per exercise</h3>" + _bar_chart(rates))
        out.append("<h3>Most common hints for answers that are not right yet</h3>")
        rows = []
        for i in ids:
            hints = collections.Counter(g.hints[i] for g in group if i in g.hints)
            for hint, count in hints.most_common(3):
                rows.append(
                    f"<tr><td><code>{e(i)}</code></td><td>{count}</td><td>{e(hint)}</td></tr>"
                )
        out.append(
            "<table><tr><th>exercise</th><th>students</th><th>hint they got</th></tr>"
            + "".join(rows)
            + "</table>"
            if rows
            else "<p>None: every answer given was right.</p>"
        )
        errors = [(g, i, why) for g in group for i, why in g.errors.items()]
        if errors:
            out.append(
                "<h3>Cells that failed or timed out</h3>"
                "<table><tr><th>student</th><th>exercise</th>"
                "<th>why</th></tr>"
                + "".join(
                    f"<tr><td>{e(g.student)}</td><td><code>{e(i)}</code></td><td>{e(why)}</td></tr>"
                    for g, i, why in errors
                )
                + "</table>"
            )
        idle = [g.student for g in group if not g.started]
        out.append(
            "<h3>Students who have not started</h3>"
            + (f"<p>{', '.join(e(s) for s in sorted(idle))}</p>" if idle else "<p>None.</p>")
        )
    broken = [g for g in grades if g.problem is not None]
    if broken:
        out.append(
            "<h2>Notebooks that could not be graded</h2><table><tr><th>student</th><th>file</th>"
            "<th>reason</th></tr>"
            + "".join(
                f"<tr><td>{e(g.student)}</td><td>{e(g.path.name)}</td><td>{e(g.problem)}</td></tr>"
                for g in broken
            )
            + "</table>"
        )
    out.append("</body></html>\n")
    return "".join(out)


def write_report(grades, path, *, force: bool = False) -> Path:
    """Write :func:`report_html` to ``path`` atomically; never replace a file unless ``force``."""
    return _write_atomically(path, report_html(grades), force)
