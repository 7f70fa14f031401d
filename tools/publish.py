"""Build the lessons as offline reveal.js slides and as an offline static site.

    python tools/publish.py slides   # make slides: build/slides/NN_name.slides.html + index.html
    python tools/publish.py site     # make site:   build/site/ (index, NN_name, glossary).html
    python tools/publish.py vendor   # only fetch reveal.js and MathJax into build/vendor/

Both read the lessons' stored outputs (nothing is executed) and never write a notebook. Every
page works from a folder or a USB stick without a network: reveal.js and MathJax are copied
beside the pages (``reveal.js/``, ``mathjax/``), there is no jQuery, require.js, Mermaid or
widget loader, and no CDN URL. Images are embedded in the pages.

reveal.js and MathJax come from the npm registry as pinned tarballs whose sha512 is checked
(``npm pack``, or a plain HTTPS download where npm is missing). They are fetched once into
``build/vendor/``; after that everything works offline. On a machine that never sees the network,
copy ``reveal.js-X.tgz`` and ``mathjax-Y.tgz`` into ``build/vendor/`` first.

On the site, each exercise cell shows the exercise as the student edition has it (the solution
block replaced by ``# YOUR CODE HERE``) and the worked solution inside a collapsed
``<details>`` element; the slides do the same. Links between lessons point at the HTML pages.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make the tools package importable
    sys.path.insert(0, str(ROOT))

from cnnteach.notebook_io import SOLUTION_RE, strip_tensorflow_log  # noqa: E402
from tools import navigation  # noqa: E402

TEMPLATES = Path(__file__).resolve().parent / "templates"
BUILD = ROOT / "build"
VENDOR_DIR = BUILD / "vendor"
COURSE_TITLE = "cnnteach: how convolutional neural networks work"

# Pinned npm packages: (version, npm "integrity" of the tarball).
VENDOR = {
    "reveal.js": (
        "5.2.1",
        "sha512-r7//6mIM5p34hFiDMvYfXgyjXqGRta+/psd9YtytsgRlrpRzFv4RbH76TXd2qD+7ZPZEbpBDhdRhJaFgfQ7zNQ==",
    ),
    "mathjax": (
        "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
    ),
}
# What each page needs from the tarballs (paths inside the tarball's package/ folder).
REVEAL_FILES = re.compile(
    r"(dist/(reveal\.js|reveal\.css|reset\.css|theme/white\.css|theme/fonts/source-sans-pro/.*)"
    r"|plugin/notes/(notes\.js|speaker-view\.html)|LICENSE)$"
)
MATHJAX_FILES = re.compile(r"(es5/tex-svg-full\.js|LICENSE)$")
MATHJAX_SCRIPT = "mathjax/es5/tex-svg-full.js"


class PublishError(RuntimeError):
    """Something the user can fix; the message says what, in one sentence."""


# ----------------------------------------------------------------------------- vendored assets
def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch(name: str, folder: Path = VENDOR_DIR) -> Path:
    """Return the verified tarball of the pinned npm package ``name``, fetching it once."""
    version, integrity = VENDOR[name]
    tarball = folder / f"{name}-{version}.tgz"
    if tarball.exists() and _integrity(tarball) == integrity:
        return tarball
    folder.mkdir(parents=True, exist_ok=True)
    tarball.unlink(missing_ok=True)
    npm = shutil.which("npm")
    try:
        if npm:
            subprocess.run(
                [npm, "pack", f"{name}@{version}", "--pack-destination", str(folder)],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        else:
            url = f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (fixed https URL)
                tarball.write_bytes(response.read())
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        detail = detail.strip().splitlines()[-1] if detail.strip() else type(exc).__name__
        raise PublishError(
            f"could not fetch {name} {version} from the npm registry ({detail}); "
            f"connect once and run the command again, or copy {tarball.name} into {folder}/"
        ) from None
    if not tarball.exists() or _integrity(tarball) != integrity:
        tarball.unlink(missing_ok=True)
        raise PublishError(
            f"{tarball.name} does not have the pinned sha512; "
            f"delete {folder}/ and run the command again"
        )
    return tarball


def install(name: str, pattern: re.Pattern, dest: Path) -> Path:
    """Copy the files of the package ``name`` that match ``pattern`` into ``dest`` (fresh)."""
    tarball = fetch(name)
    if dest.exists():
        shutil.rmtree(dest)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            inner = member.name.split("/", 1)[1] if "/" in member.name else ""
            if not member.isfile() or not pattern.match(inner) or ".." in Path(inner).parts:
                continue
            target = dest / inner
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.extractfile(member) as source:
                target.write_bytes(source.read())
    return dest


# ----------------------------------------------------------------------------- lessons
LESSON_LINK = re.compile(r"\]\((\d\d_[A-Za-z0-9_-]+)\.ipynb(#[^)\s]*)?\)")
README_LINK = re.compile(r"\]\(\.\./README\.md(#[^)\s]*)?\)")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    '<p class="cnnteach-widget-note">(An interactive widget: open the notebook in JupyterLab '
    "to use it; the figure next to it shows the same idea.)</p>"
)


def prepare(notebook, html_links: str):
    """Adapt an in-memory copy of a lesson for HTML: exercise cells, lesson links, widgets.

    ``html_links`` is the suffix of the lesson pages (``.html`` or ``.slides.html``).
    """
    from cnnteach.student import strip_solutions

    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = LESSON_LINK.sub(
                lambda m: f"]({m.group(1)}{html_links}{m.group(2) or ''})", cell.source
            )
            cell.source = README_LINK.sub(lambda m: f"](index.html{m.group(1) or ''})", cell.source)
        elif cell.cell_type == "code":
            if SOLUTION_RE.search(cell.source):
                cell.metadata.setdefault("tags", []).append("cnnteach-exercise")
                cell.metadata["cnnteach_task"] = strip_solutions(cell.source)
            for output in cell.get("outputs", []):
                if WIDGET_MIME in output.get("data", {}):
                    output["data"] = {
                        "text/html": WIDGET_NOTE,
                        "text/plain": "(interactive widget)",
                    }
    return strip_tensorflow_log(notebook)


def _exporter(kind: str):
    from nbconvert import HTMLExporter, SlidesExporter

    common = dict(
        extra_template_paths=[str(TEMPLATES)],
        mathjax_url=MATHJAX_SCRIPT,
        require_js_url="",
        jquery_url="",
        mermaid_js_url="",
        mermaid_layout_elk_js_url="",
        widget_renderer_url="",
        jupyter_widgets_base_url="",
    )
    if kind == "slides":
        return SlidesExporter(
            template_name="reveal",
            template_file="cnnteach_slides.html.j2",
            reveal_url_prefix="reveal.js",
            reveal_theme="white",
            reveal_transition="none",
            reveal_scroll=True,
            reveal_number="c/t",
            font_awesome_url="",
            **common,
        )
    return HTMLExporter(template_name="lab", template_file="cnnteach_site.html.j2", **common)


def _render(lesson, exporter, suffix: str) -> str:
    import nbformat

    notebook = prepare(nbformat.read(lesson.path, as_version=4), suffix)
    label = f"{lesson.number} · {lesson.title}"
    notebook.metadata["title"] = label
    resources = {
        "metadata": {"name": lesson.path.stem, "path": str(lesson.path.parent)},
        "cnnteach": {
            "mathjax_url": MATHJAX_SCRIPT,
            "course_title": COURSE_TITLE,
            "lesson_label": label,
        },
    }
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body


def _index_page(lessons, suffix: str, heading: str, intro: str, extra: str = "") -> str:
    rows = "\n".join(
        f'<tr><td class="n">{html.escape(lesson.number)}</td>'
        f'<td><a href="{html.escape(lesson.path.stem + suffix)}">'
        f"{html.escape(lesson.title)}</a></td><td>{html.escape(lesson.summary)}</td></tr>"
        for lesson in lessons
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(heading)}</title>
<style type="text/css">
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 960px;
       margin: 2em auto; padding: 0 1em; line-height: 1.5; color: #1f2328; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #d0d7de; padding: 0.45em 0.6em; text-align: left;
         vertical-align: top; }}
td.n {{ font-variant-numeric: tabular-nums; color: #57606a; }}
a {{ color: #0b57a4; text-decoration: none; }} a:hover {{ text-decoration: underline; }}
</style>
</head>
<body>
<h1>{html.escape(heading)}</h1>
<p>{intro}</p>
{extra}<h2 id="lessons">Lessons</h2>
<table>
<tr><th>#</th><th>lesson</th><th>in one line</th></tr>
{rows}
</table>
</body>
</html>
"""


GLOSSARY = Path("notebooks") / "glossary.yml"


def read_glossary(root: Path = ROOT) -> list[dict]:
    """The terms of ``notebooks/glossary.yml`` as dicts (name, lesson, meaning), sorted by name.

    An empty list when the course has no glossary; a glossary that cannot be read raises
    ``PublishError``.
    """
    path = root / GLOSSARY
    if not path.is_file():
        return []
    import yaml  # PyYAML comes with JupyterLab (jupyter_events)

    try:
        terms = yaml.safe_load(path.read_text(encoding="utf-8"))["terms"]
        entries = [
            {"name": str(name), "lesson": str(entry["lesson"]), "meaning": str(entry["meaning"])}
            for name, entry in terms.items()
        ]
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise PublishError(
            f"{path} cannot be read as a glossary ({type(exc).__name__}: {exc}); "
            "each term needs lesson: and meaning: (see the comments at its top)"
        ) from None
    return sorted(entries, key=lambda e: e["name"].casefold())


def _glossary_page(terms: list[dict], lessons, suffix: str) -> str:
    """One row per term: the term, its meaning and a link to the page of its defining lesson."""
    pages = {lesson.number: lesson for lesson in lessons}
    rows = []
    for term in terms:
        lesson = pages.get(term["lesson"])
        if lesson:
            href = html.escape(lesson.path.stem + suffix)
            where = f'<a href="{href}">{html.escape(lesson.label)}</a>'
        else:
            where = f"lesson {html.escape(term['lesson'])} (not published yet)"
        anchor = "term-" + re.sub(r"[^a-z0-9]+", "-", term["name"].casefold()).strip("-")
        rows.append(
            f'<tr id="{anchor}"><td><dfn>{html.escape(term["name"])}</dfn></td>'
            f"<td>{html.escape(term['meaning'])}</td><td>{where}</td></tr>"
        )
    table = "\n".join(rows)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Glossary · {html.escape(COURSE_TITLE)}</title>
<style type="text/css">
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 960px;
       margin: 2em auto; padding: 0 1em; line-height: 1.5; color: #1f2328; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #d0d7de; padding: 0.45em 0.6em; text-align: left;
          vertical-align: top; }}
dfn {{ font-style: normal; font-weight: 600; }}
a {{ color: #0b57a4; text-decoration: none; }} a:hover {{ text-decoration: underline; }}
</style>
</head>
<body>
<p><a href="index.html">← Index</a></p>
<h1>Glossary</h1>
<p>Every core term of the course, what it means, and the lesson that explains it. A lesson uses a
term only from its defining lesson on, or says where it is explained.</p>
<table>
<tr><th>term</th><th>meaning</th><th>defined in</th></tr>
{table}
</table>
</body>
</html>
"""


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def build_site(out: Path = BUILD / "site", root: Path = ROOT) -> list[Path]:
    """Write the offline site (index, a page per lesson, the glossary); return the pages.

    The glossary page is written when the course has ``notebooks/glossary.yml``.
    """
    lessons = navigation.find_lessons(root)
    if not lessons:
        raise PublishError(f"{root / 'notebooks'} holds no lessons to publish")
    out.mkdir(parents=True, exist_ok=True)
    install("mathjax", MATHJAX_FILES, out / "mathjax")
    exporter = _exporter("site")
    pages = []
    for lesson in lessons:
        page = out / f"{lesson.path.stem}.html"
        _write(page, _render(lesson, exporter, ".html"))
        pages.append(page)
    intro = (
        "Every lesson as it runs, with its stored outputs: read it here without installing "
        "anything. Exercise solutions are folded away; open them when you have tried. To run the "
        "lessons yourself, see the course's README.md (<code>make lab</code>)."
    )
    terms = read_glossary(root)
    extra = ""
    if terms:
        _write(out / "glossary.html", _glossary_page(terms, lessons, ".html"))
        pages.append(out / "glossary.html")
        extra = (
            '<p><a href="glossary.html">Glossary</a>: every core term, its meaning and the '
            "lesson that explains it.</p>\n"
        )
    _write(out / "index.html", _index_page(lessons, ".html", COURSE_TITLE, intro, extra))
    return [out / "index.html", *pages]


def build_slides(out: Path = BUILD / "slides", root: Path = ROOT) -> list[Path]:
    """Write one reveal.js deck per lesson, plus an ``index.html``; return the decks."""
    lessons = navigation.find_lessons(root)
    if not lessons:
        raise PublishError(f"{root / 'notebooks'} holds no lessons to publish")
    out.mkdir(parents=True, exist_ok=True)
    install("reveal.js", REVEAL_FILES, out / "reveal.js")
    install("mathjax", MATHJAX_FILES, out / "mathjax")
    exporter = _exporter("slides")
    decks = []
    for lesson in lessons:
        deck = out / f"{lesson.path.stem}.slides.html"
        _write(deck, _render(lesson, exporter, ".slides.html"))
        decks.append(deck)
    intro = (
        "One reveal.js deck per lesson, with stored outputs; they work offline (copy the whole "
        "folder). Keys: arrows or space to move, <kbd>S</kbd> for speaker notes, <kbd>Esc</kbd> "
        "for the overview."
    )
    _write(
        out / "index.html", _index_page(lessons, ".slides.html", f"{COURSE_TITLE}: slides", intro)
    )
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build offline slides or the offline static site of the lessons."
    )
    parser.add_argument("what", choices=["slides", "site", "vendor"])
    parser.add_argument(
        "--out", type=Path, help="output folder (default: build/slides or build/site)"
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the course folder (default: this repository)"
    )
    args = parser.parse_args(argv)
    try:
        if args.what == "vendor":
            for name in VENDOR:
                print(f"{fetch(name)} verified")
            return 0
        build = build_slides if args.what == "slides" else build_site
        out = args.out or BUILD / args.what
        written = build(out, args.root)
    except (PublishError, OSError, ValueError) as exc:
        print(f"publish: {exc}", file=sys.stderr)
        return 1
    first = out / "index.html"
    kind = "decks" if args.what == "slides" else "pages"
    print(f"wrote {len(written)} {kind} into {out}/; open {first}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
