"""tools/publish.py: `make site` and `make slides` build a page per lesson that works offline.

The site and the decks are built once per session (from the stored outputs; nothing executes)
into a temporary folder. reveal.js and MathJax come from build/vendor/ (fetched once by the
first `make slides`/`make site`; the tests fetch them the same way if they are missing).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "publish.py"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CDN = re.compile(
    r"cdn|unpkg|jsdelivr|cdnjs|googleapis|gstatic|cloudflare|mathjax\.org|jquery\.com|bootstrapcdn|fontawesome",
    re.I,
)


def load_tool():
    from tools import publish

    return publish


def digest_notebooks(folder: Path) -> dict:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.ipynb"))
    }


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Snapshot the course, run `tools/publish.py site|slides` on it once; return the folders.

    Building from a snapshot (every lesson and the README) lets the test prove that no notebook
    is written, even while someone edits the real lessons.
    """
    out = tmp_path_factory.mktemp("publish")
    course = out / "course"
    (course / "notebooks").mkdir(parents=True)
    for lesson in LESSONS:
        shutil.copy2(lesson, course / "notebooks" / lesson.name)
    shutil.copy2(ROOT / "README.md", course / "README.md")
    if (ROOT / "notebooks" / "glossary.yml").is_file():
        shutil.copy2(ROOT / "notebooks" / "glossary.yml", course / "notebooks" / "glossary.yml")
    before = digest_notebooks(course / "notebooks")
    for what in ("site", "slides"):
        done = subprocess.run(
            [sys.executable, str(TOOL), what, "--root", str(course), "--out", str(out / what)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return {"site": out / "site", "slides": out / "slides", "before": before, "course": course}


class Assets(HTMLParser):
    """Every URL a page loads by itself (script, stylesheet, image, iframe, ...) and every link."""

    LOADS = {
        ("script", "src"),
        ("link", "href"),
        ("img", "src"),
        ("iframe", "src"),
        ("source", "src"),
        ("embed", "src"),
        ("object", "data"),
        ("video", "src"),
        ("audio", "src"),
    }

    def __init__(self):
        super().__init__()
        self.loads, self.links = [], []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) in self.LOADS:
                self.loads.append(value)
            elif tag == "a" and name == "href":
                self.links.append(value)


def parse(page: Path) -> Assets:
    parser = Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def pages(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.html"))


def test_there_are_lessons():
    assert LESSONS, "no lessons in notebooks/"


def test_every_lesson_has_a_page_and_a_deck(built):
    for lesson in LESSONS:
        page = built["site"] / f"{lesson.stem}.html"
        deck = built["slides"] / f"{lesson.stem}.slides.html"
        assert page.stat().st_size > 10_000, page
        assert deck.stat().st_size > 10_000, deck
    index = (built["site"] / "index.html").read_text(encoding="utf-8")
    for lesson in LESSONS:
        assert f'href="{lesson.stem}.html"' in index
    slides_index = (built["slides"] / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{lesson.stem}.slides.html"' in slides_index for lesson in LESSONS)


@pytest.mark.parametrize("what", ["site", "slides"])
def test_no_page_names_a_cdn_or_loads_anything_from_the_network(built, what):
    for page in pages(built[what]):
        text = page.read_text(encoding="utf-8")
        assets = parse(page)
        for url in assets.loads:
            parts = urlparse(url)
            if parts.scheme == "data":
                continue
            assert not parts.scheme and not parts.netloc, (
                f"{page.name} loads {url} from the network"
            )
            assert not CDN.search(url), f"{page.name} names a CDN: {url}"
        for url in re.findall(r"""@import\s+(?:url\()?['"]?([^'")\s;]+)""", text):
            assert not urlparse(url).scheme, f"{page.name} imports CSS from {url}"


@pytest.mark.parametrize("what", ["site", "slides"])
def test_everything_a_page_loads_is_in_the_folder(built, what):
    folder = built[what]
    for page in pages(folder):
        for url in parse(page).loads:
            if url.startswith("data:"):
                continue
            target = folder / unquote(urlparse(url).path)
            assert target.is_file(), f"{page.name} loads {url}, which is not in {folder}"


def test_the_vendored_files_name_no_cdn_either(built):
    for css in list(built["slides"].rglob("*.css")):
        for url in re.findall(
            r"""url\(\s*['"]?([^'")]+)""", css.read_text(encoding="utf-8", errors="replace")
        ):
            assert not urlparse(url).scheme or url.startswith("data:"), f"{css} loads {url}"


def test_links_between_lessons_point_at_pages(built):
    for what in ("site", "slides"):
        for page in pages(built[what]):
            for url in parse(page).links:
                assert not url.endswith(".ipynb") and ".ipynb#" not in url, (
                    f"{page.name} links to a notebook: {url}"
                )
                assert "README.md" not in url, f"{page.name} links to the README: {url}"
                if re.match(r"\d\d_", url):
                    assert (built[what] / url.split("#")[0]).is_file(), (
                        f"{page.name}: broken link {url}"
                    )


def test_exercise_solutions_are_collapsed(built):
    from cnnteach.exercises import SOLUTION_RE

    for lesson in LESSONS:
        snapshot = built["course"] / "notebooks" / lesson.name
        cells = json.loads(snapshot.read_text(encoding="utf-8"))["cells"]
        exercises = sum(
            1
            for c in cells
            if c["cell_type"] == "code" and SOLUTION_RE.search("".join(c["source"]))
        )
        for page in (
            built["site"] / f"{lesson.stem}.html",
            built["slides"] / f"{lesson.stem}.slides.html",
        ):
            text = page.read_text(encoding="utf-8")
            assert text.count('<details class="cnnteach-solution">') == exercises, page.name
            outside = re.sub(
                r'<details class="cnnteach-solution">.*?</details>', "", text, flags=re.S
            )
            assert "BEGIN SOLUTION" not in outside, (
                f"{page.name} shows a solution outside a <details>"
            )
            assert outside.count("YOUR CODE HERE") >= exercises, (
                f"{page.name}: each exercise shown as the student sees it"
            )
            assert "<details open" not in text


def test_no_notebook_was_touched(built):
    assert digest_notebooks(built["course"] / "notebooks") == built["before"]


def test_decks_use_slide_metadata_and_skip_navigation(built):
    for lesson in LESSONS:
        text = (built["slides"] / f"{lesson.stem}.slides.html").read_text(encoding="utf-8")
        assert text.count("<section") >= 2, f"{lesson.name}: one slide per section"
        assert "Reveal.initialize" in text and "reveal.js/dist/reveal.js" in text
        assert "require(" not in text and "jquery" not in text.lower()


def test_tensorflow_start_up_noise_is_left_out(built):
    for page in pages(built["site"]):
        assert "absl::InitializeLog" not in page.read_text(encoding="utf-8"), page.name


def test_a_cached_tarball_is_used_without_any_network(tmp_path, monkeypatch):
    publish = load_tool()
    name = "reveal.js"
    cached = publish.fetch(name)  # fetched by the session fixture's build
    (tmp_path / cached.name).write_bytes(cached.read_bytes())

    def no_network(*args, **kwargs):
        raise AssertionError("the network was used although the verified tarball is there")

    monkeypatch.setattr(publish.subprocess, "run", no_network)
    monkeypatch.setattr(publish.urllib.request, "urlopen", no_network)
    assert publish.fetch(name, tmp_path) == tmp_path / cached.name


def test_a_damaged_tarball_is_refused_with_one_sentence(tmp_path, monkeypatch):
    publish = load_tool()
    version = publish.VENDOR["mathjax"][0]
    (tmp_path / f"mathjax-{version}.tgz").write_bytes(b"not a tarball")

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(publish.shutil, "which", lambda name: None)
    monkeypatch.setattr(publish.urllib.request, "urlopen", offline)
    with pytest.raises(
        publish.PublishError, match=r"could not fetch mathjax .*copy mathjax-.*\.tgz into"
    ):
        publish.fetch("mathjax", tmp_path)
    assert not (tmp_path / f"mathjax-{version}.tgz").exists(), "the damaged file is removed"


def test_the_glossary_page_links_every_term_to_its_lesson(built):
    yaml = pytest.importorskip("yaml")
    glossary = (ROOT / "notebooks" / "glossary.yml").read_text(encoding="utf-8")
    terms = yaml.safe_load(glossary)["terms"]
    site = built["site"]
    page = site / "glossary.html"
    assert page.is_file(), "the site has no glossary.html"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="glossary.html"' in index, "the index links the glossary"
    text = page.read_text(encoding="utf-8")
    rows = {
        html.unescape(name): row
        for row, name in re.findall(
            r"(<tr id=[^>]*><td><dfn>(.*?)</dfn>.*?</tr>)", text, flags=re.S
        )
    }
    assert sorted(rows) == sorted(terms), "one row per term of notebooks/glossary.yml"
    lessons = {p.name[:2]: p for p in LESSONS}
    for name, entry in terms.items():
        assert html.escape(entry["meaning"]) in rows[name], f"{name}: its meaning is on the page"
        lesson = lessons.get(entry["lesson"])
        if lesson is not None:
            link = f'href="{lesson.stem}.html"'
            assert link in rows[name], f"{name}: links to lesson {entry['lesson']}"
        else:
            assert "not published yet" in rows[name] and "href" not in rows[name], name
    links = parse(page).links
    assert links, "the glossary links to lessons"
    for url in links:
        assert (site / unquote(urlparse(url).path)).is_file(), f"glossary.html: broken link {url}"


def test_a_broken_glossary_is_refused_with_one_sentence(tmp_path):
    publish = load_tool()
    assert publish.read_glossary(tmp_path) == [], "no glossary, no page"
    (tmp_path / "notebooks").mkdir()
    no_meaning = "terms:\n  pixel:\n    lesson: '01'\n"
    (tmp_path / "notebooks" / "glossary.yml").write_text(no_meaning, encoding="utf-8")
    with pytest.raises(publish.PublishError, match=r"glossary\.yml cannot be read as .*meaning"):
        publish.read_glossary(tmp_path)
