"""Write the lessons' navigation, slide metadata and the README's lesson table.

For every lesson ``notebooks/NN_name.ipynb`` (sorted by number, so the appendix 99 comes last):

- the LAST cell is a Markdown cell tagged ``navigation`` whose text is one line of the form::

    [← 03 · Title](03_...ipynb) · [Index](../README.md#lessons) · [05 · Title →](05_...ipynb)

  (the first lesson has no previous link, the last no next link); the cell is created when
  missing and moved to the end when it is elsewhere;
- every cell gets ``metadata.slideshow.slide_type`` so that the lesson can be presented cell by
  cell (RISE in JupyterLab, ``make slides``): ``slide`` for the title cell and each ``# ``/``## ``
  heading, ``subslide`` for the Setup cell, ``### `` headings and prose that follows code,
  ``-`` for prose that continues prose, ``fragment`` for code, ``skip`` for the navigation cell.

It also writes the lesson table of ``README.md`` between ``<!-- lessons:start -->`` and
``<!-- lessons:end -->``: number, linked title (the lesson's H1) and its one-line summary (the
first line of text after the H1).

Nothing else changes: sources of other cells, outputs and execution counts are kept, and files
are written the way nbformat and nbstripout write them (sorted keys, indent 1, trailing newline),
so a second run changes nothing and ``nbstripout --verify --keep-output --keep-count`` still passes.

Usage::

    python tools/navigation.py            # write
    python tools/navigation.py --check    # exit 1 listing what is stale; change nothing
    python tools/navigation.py --root DIR # a copy of the course (tests)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from cnnteach.notebook_io import cell_source, dump_notebook

ROOT = Path(__file__).resolve().parent.parent
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
NAV_TAG = "navigation"
INDEX_LINK = "../README.md#lessons"
START, END = "<!-- lessons:start -->", "<!-- lessons:end -->"
SEP = " · "


class NavigationError(ValueError):
    """A lesson or the README is not in the shape the tool needs (the message says what to fix)."""


@dataclass(frozen=True)
class Lesson:
    number: str
    path: Path
    title: str
    summary: str

    @property
    def label(self) -> str:
        return f"{self.number}{SEP}{self.title}"


# ----------------------------------------------------------------------------- reading
def source_lines(text: str) -> list[str]:
    """The on-disk form nbformat writes: a list of lines keeping their newlines."""
    return text.splitlines(keepends=True)


def is_navigation(cell: dict) -> bool:
    return NAV_TAG in cell.get("metadata", {}).get("tags", [])


def read_lesson(path: Path) -> Lesson:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        first = notebook["cells"][0]
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise NavigationError(
            f"{path}: cannot read its first cell ({exc}); is it a notebook with cells?"
        ) from None
    lines = [line.strip() for line in cell_source(first).splitlines()]
    if first.get("cell_type") != "markdown" or not lines or not lines[0].startswith("# "):
        raise NavigationError(
            f"{path}: the first cell must be Markdown starting with '# Title' (see CONTRIBUTING.md)"
        )
    title = lines[0][2:].strip()
    summary = next(
        (line for line in lines[1:] if line and not line.startswith(("#", "**", "-", "*", "<"))), ""
    )
    return Lesson(path.name[:2], path, title, summary)


def find_lessons(root: Path) -> list[Lesson]:
    return [read_lesson(p) for p in sorted((root / "notebooks").glob(LESSON_GLOB))]


# ----------------------------------------------------------------------------- building
def navigation_line(lessons: list[Lesson], i: int) -> str:
    """The navigation text of lesson ``i``: previous · index · next.

    Examples
    --------
    >>> ls = [Lesson("03", Path("03_a.ipynb"), "A", ""), Lesson("04", Path("04_b.ipynb"), "B", "")]
    >>> navigation_line(ls, 1)
    '[← 03 · A](03_a.ipynb) · [Index](../README.md#lessons)'
    """
    parts = []
    if i > 0:
        prev = lessons[i - 1]
        parts.append(f"[← {prev.label}]({prev.path.name})")
    parts.append(f"[Index]({INDEX_LINK})")
    if i + 1 < len(lessons):
        nxt = lessons[i + 1]
        parts.append(f"[{nxt.label} →]({nxt.path.name})")
    return SEP.join(parts)


def slide_type(cells: list[dict], i: int) -> str:
    """The reveal.js/RISE slide type of cell ``i`` (see the module docstring)."""
    cell = cells[i]
    text = cell_source(cell).lstrip()
    kind = cell.get("cell_type")
    if is_navigation(cell):
        return "skip"
    if i == 0 or kind == "markdown" and text.startswith(("# ", "## ")):
        return "slide"
    if kind == "markdown":
        if text.startswith("### "):
            return "subslide"
        return "-" if cells[i - 1].get("cell_type") == "markdown" else "subslide"
    if kind == "code" and text.startswith("# Setup"):
        return "subslide"
    return "fragment"


def update_notebook(notebook: dict, lessons: list[Lesson], i: int) -> dict:
    """Return ``notebook`` with its navigation cell and slide metadata up to date (modified in
    place)."""
    cells = notebook.setdefault("cells", [])
    # nbstripout numbers cell ids "0", "1", ...; keep that numbering when a cell is added or moved.
    numbered = bool(cells) and all(c.get("id") == str(j) for j, c in enumerate(cells))
    nav_cells = [c for c in cells if is_navigation(c)]
    if len(nav_cells) > 1:
        raise NavigationError(
            f"{lessons[i].path}: {len(nav_cells)} cells are tagged 'navigation'; keep only one"
        )
    text = navigation_line(lessons, i)
    if nav_cells:
        nav = nav_cells[0]
        if cells[-1] is not nav:
            cells.remove(nav)
            cells.append(nav)
        if nav.get("cell_type") != "markdown":
            raise NavigationError(
                f"{lessons[i].path}: the cell tagged 'navigation' must be a Markdown cell"
            )
    else:
        used = {c.get("id") for c in cells}
        candidates = ["navigation"] + [f"navigation-{n}" for n in range(2, len(cells) + 3)]
        cell_id = next(c for c in candidates if c not in used)
        nav = {"cell_type": "markdown", "metadata": {"tags": [NAV_TAG]}, "source": []}
        if notebook.get("nbformat", 4) > 4 or notebook.get("nbformat_minor", 0) >= 5:
            nav["id"] = cell_id
        cells.append(nav)
    if numbered:
        for j, cell in enumerate(cells):
            cell["id"] = str(j)
    nav["source"] = source_lines(text)
    for j, cell in enumerate(cells):
        metadata = cell.setdefault("metadata", {})
        slideshow = metadata.get("slideshow")
        wanted = slide_type(cells, j)
        if not isinstance(slideshow, dict):
            metadata["slideshow"] = {"slide_type": wanted}
        else:
            slideshow["slide_type"] = wanted
    return notebook


def lesson_table(lessons: list[Lesson], notebooks_prefix: str = "notebooks/") -> str:
    """The README's lesson table (Markdown), one row per lesson.

    Examples
    --------
    >>> print(lesson_table([Lesson("01", Path("01_a.ipynb"), "A", "Pixels | numbers.")]))
    | # | lesson | in one line |
    | --- | --- | --- |
    | 01 | [A](notebooks/01_a.ipynb) | Pixels \\| numbers. |
    """
    rows = ["| # | lesson | in one line |", "| --- | --- | --- |"]
    for lesson in lessons:
        summary = lesson.summary.replace("|", "\\|")
        title = lesson.title.replace("|", "\\|")
        rows.append(
            f"| {lesson.number} | [{title}]({notebooks_prefix}{lesson.path.name}) | {summary} |"
        )
    return "\n".join(rows)


def update_readme(text: str, lessons: list[Lesson]) -> str:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise NavigationError(
            f"README.md must contain the lines {START} and "
            f"{END} (in that order) around the lesson table"
        )
    return text[: start + len(START)] + "\n" + lesson_table(lessons) + "\n" + text[end:]


# ----------------------------------------------------------------------------- driver
def plan(root: Path) -> dict[Path, tuple[str, str]]:
    """Every file this tool manages: ``{path: (current text, wanted text)}``."""
    lessons = find_lessons(root)
    if not lessons:
        raise NavigationError(f"{root / 'notebooks'} holds no lessons ({LESSON_GLOB})")
    files = {}
    for i, lesson in enumerate(lessons):
        current = lesson.path.read_text(encoding="utf-8")
        files[lesson.path] = (
            current,
            dump_notebook(update_notebook(json.loads(current), lessons, i)),
        )
    readme = root / "README.md"
    current = readme.read_text(encoding="utf-8")
    files[readme] = (current, update_readme(current, lessons))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="list stale files and exit 1; change nothing"
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the course folder (default: this repository)"
    )
    args = parser.parse_args(argv)
    try:
        files = plan(args.root)
    except (NavigationError, OSError) as exc:
        print(f"navigation: {exc}", file=sys.stderr)
        return 2
    stale = [path for path, (current, wanted) in files.items() if current != wanted]
    if args.check:
        for path in stale:
            print(f"stale: {path} (run: python tools/navigation.py)")
        return 1 if stale else 0
    for path in stale:
        path.write_text(files[path][1], encoding="utf-8", newline="\n")
        print(f"updated {path}")
    if not stale:
        print(f"navigation up to date ({len(files) - 1} lessons)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
