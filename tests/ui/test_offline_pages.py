"""The offline site and slides (tools/publish.py) work in a real browser with the network cut off.

A snapshot of three lessons (the first, the appendix, and one with math and a widget when it
exists) gets its navigation and slide metadata (tools/navigation.py) and is published into a
temporary folder; headless Chromium opens every page while every
request that is not a local file is aborted and recorded. tests/test_publish.py checks all lessons
statically; this proves that what the pages load really is enough: reveal.js starts, MathJax
typesets, no script fails, nothing asks the network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    out = tmp_path_factory.mktemp("offline")
    course = out / "course"
    (course / "notebooks").mkdir(parents=True)
    chosen = {LESSONS[0], LESSONS[-1], *[p for p in LESSONS if p.name.startswith("04_")]}
    for lesson in chosen:
        shutil.copy2(lesson, course / "notebooks" / lesson.name)
    shutil.copy2(ROOT / "README.md", course / "README.md")
    tools = ROOT / "tools"
    subprocess.run(
        [sys.executable, str(tools / "navigation.py"), "--root", str(course)],
        check=True,
        capture_output=True,
    )
    for what in ("site", "slides"):
        done = subprocess.run(
            [
                sys.executable,
                str(tools / "publish.py"),
                what,
                "--root",
                str(course),
                "--out",
                str(out / what),
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return out


def open_offline(chromium, path: Path):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    remote, errors = [], []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            request_route.continue_()
        else:
            remote.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, remote, errors


def test_site_pages_render_offline(chromium, published):
    for path in sorted((published / "site").glob("*.html")):
        context, page, remote, errors = open_offline(chromium, path)
        try:
            if path.name != "index.html":
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.document"
                    " && MathJax.startup.document.processed !== undefined",
                    timeout=20_000,
                )
                page.wait_for_timeout(500)
                closed = page.evaluate(
                    "[...document.querySelectorAll('details.cnnteach-solution')].every(d "
                    "=> !d.open)"
                )
                assert closed, f"{path.name}: solutions start collapsed"
                rendered = page.evaluate("document.querySelectorAll('mjx-container').length")
                raw_math = page.evaluate(
                    r"/\$\$[^$]+\$\$/.test(document.querySelector('main').innerText)"
                )
                assert rendered or not raw_math, f"{path.name}: display math left untypeset"
            assert remote == [], f"{path.name} asked the network for {remote}"
            assert errors == [], f"{path.name}: {errors}"
        finally:
            context.close()


def test_decks_start_offline(chromium, published):
    decks = sorted((published / "slides").glob("*.slides.html"))
    assert decks
    for path in decks:
        context, page, remote, errors = open_offline(chromium, path)
        try:
            page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=20_000)
            assert page.evaluate("Reveal.getTotalSlides()") >= 2
            page.keyboard.press("ArrowRight")
            assert page.evaluate("Reveal.getIndices().h") == 1
            assert remote == [], f"{path.name} asked the network for {remote}"
            assert errors == [], f"{path.name}: {errors}"
        finally:
            context.close()
