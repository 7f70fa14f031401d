"""Fixtures of the real-browser tests (``make ui``, marker ``ui``).

A session-wide throw-away JupyterLab serves a copy of ``notebooks/`` from a temporary folder,
with temporary runtime, config, workspaces and settings folders and a known token; headless
Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright for Python) opens the lessons.

Without Chromium or Playwright the browser tests skip and say why, except in CI (``CI=true``),
where a missing browser is a failure: CI must run them.

Environment knobs: ``CNNTEACH_CHROMIUM`` (the browser binary), ``CNNTEACH_UI_TIMEOUT`` (seconds
a lesson may take to run, default 300), ``CNNTEACH_UI_NOTEBOOKS`` (another folder of lessons).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil

import pytest
from lab_server import NOTEBOOKS, LabServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 900}

# JupyterLab settings of the test server: no news toast (and no request for news), all cells
# attached to the page (so the screenshots and the widget tests see every cell).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def find_chromium() -> str | None:
    """$CNNTEACH_CHROMIUM when set, else Debian's /usr/bin/chromium or chromium on PATH."""
    chosen = os.environ.get("CNNTEACH_CHROMIUM")
    candidates = (
        [chosen]
        if chosen
        else ["/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")]
    )
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def why_no_browser() -> str | None:
    """One sentence saying why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return (
            "Playwright for Python is not installed; install the course's dev extras "
            "(pip install -e '.[dev]') to run the browser tests."
        )
    if find_chromium() is None:
        if os.environ.get("CNNTEACH_CHROMIUM"):
            return (
                f"CNNTEACH_CHROMIUM={os.environ['CNNTEACH_CHROMIUM']} is not an executable "
                "file; point it at a Chromium binary or unset it."
            )
        return (
            "Chromium is not installed (looked for /usr/bin/chromium and chromium on PATH); "
            "install it (Debian/Ubuntu: apt-get install chromium) to run the browser tests."
        )
    return None


def require_browser() -> str:
    """The Chromium binary, or skip (fail in CI) saying why there is none."""
    reason = why_no_browser()
    if reason:
        if in_ci():
            pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
        pytest.skip(reason)
    return find_chromium()


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium (Playwright browser), shared by the whole session."""
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A throw-away JupyterLab serving a copy of the lessons; stopped at the end of the session."""
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = home / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    server = LabServer(
        root,
        home,
        [
            f"--IdentityProvider.token={secrets.token_hex(16)}",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
            "--LabApp.news_url=",
        ],
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(chromium, lab):
    """A fresh browser tab; its kernels are shut down when the test ends."""
    context = chromium.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.console_errors = []
    tab.on("pageerror", lambda error: tab.console_errors.append(str(error)))
    try:
        yield tab
    finally:
        try:
            tab.evaluate("""() => { const app = window.jupyterapp;
                if (app) app.serviceManager.sessions.shutdownAll(); }""")
            tab.wait_for_timeout(500)
        except Exception:  # the page may already be gone; the server stops the kernels anyway
            pass
        context.close()
