"""Drive a lesson in JupyterLab from Playwright, the way a cadet would, and read its state back.

The page talks to JupyterLab through ``window.jupyterapp`` (the server runs with
``--LabApp.expose_app_in_browser=True``): the notebook model says which cells ran and what they
output, and the kernel connection says whether the kernel is really idle (the toolbar shows
"idle" while a kernel is still starting, and a Run All sent then does nothing).

``page.evaluate`` awaits a returned promise with no time limit, so every script that starts a
JupyterLab command is wrapped as ``() => { ...; }`` and the test polls for the result instead.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from urllib.parse import quote

# JavaScript: the open notebook panel whose path is `path`, or null.
_FIND_PANEL = """
const findPanel = (path) => {
  const app = window.jupyterapp;
  if (!app || !app.shell) return null;
  for (const widget of app.shell.widgets('main')) {
    if (widget.context && widget.context.path === path && widget.content
        && widget.content.model) return widget;
  }
  return null;
};
// The element that scrolls the notebook (JupyterLab 4: the windowed list's outer node).
const scrollerOf = (panel) => panel.content.outerNode
  || panel.content.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
"""

# JavaScript: what the notebook and its kernel are doing right now (a plain object).
_STATE = (
    _FIND_PANEL
    + """
(path) => {
  const panel = findPanel(path);
  if (!panel) return {open: false};
  const session = panel.sessionContext.session;
  const kernel = session ? session.kernel : null;
  if (kernel && !kernel.__cnnteachInfo) {  // ask once for kernel_info: the kernel really answers
    kernel.__cnnteachInfo = true;
    kernel.info.then(() => { kernel.__cnnteachAnswered = true; }, () => {});
  }
  const cells = [];
  const model = panel.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    if (cell.type !== 'code') continue;
    const widget = panel.content.widgets[i];
    const outputs = cell.outputs.toJSON();
    cells.push({
      index: i,
      count: cell.executionCount,
      prompt: widget && widget.promptNode ? widget.promptNode.textContent.trim() : '',
      tags: cell.getMetadata('tags') || [],
      source: cell.sharedModel.getSource().split('\\n')[0].slice(0, 80),
      errors: outputs.filter((o) => o.output_type === 'error')
                     .map((o) => ({ename: o.ename, evalue: String(o.evalue).slice(0, 300)})),
      outputTypes: outputs.map((o) => o.output_type),
    });
  }
  return {
    open: true,
    ready: panel.context.isReady && panel.sessionContext.isReady,
    kernelStatus: kernel ? kernel.status : 'none',
    connection: kernel ? kernel.connectionStatus : 'none',
    answered: !!(kernel && kernel.__cnnteachAnswered),
    kernelId: kernel ? kernel.id : null,
    cells,
  };
}
"""
)


SEAM = 8  # rows shot twice at each seam, so the toolbar's shadow never shows in the middle


class LessonError(AssertionError):
    """A lesson did not run cleanly in the browser (the message says which cell and why)."""


def lab_url(server, path: str = "", **query) -> str:
    params = "&".join(f"{k}={quote(str(v))}" if v is not None else k for k, v in query.items())
    url = f"{server.url}/lab{('/tree/' + quote(path)) if path else ''}"
    return f"{url}?{params}" if params else url


def state(page, path: str) -> dict:
    return page.evaluate(_STATE, path)


def open_notebook(page, server, path: str, timeout: float = 120) -> dict:
    """Open ``path`` (relative to the server root) in a fresh workspace; wait for an idle kernel."""
    page.goto(lab_url(server, path, reset=None, token=server.token), wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout * 1000)
    return wait_for_kernel(page, path, timeout)


def wait_for_kernel(page, path: str, timeout: float = 120) -> dict:
    """Wait until the notebook is open and its kernel is connected, idle and has answered."""
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout
    now = {}
    while time.monotonic() < deadline:
        now = state(page, path)
        if (
            now.get("open")
            and now["ready"]
            and now["connection"] == "connected"
            and now["kernelStatus"] == "idle"
            and now["answered"]
        ):
            return now
        time.sleep(0.25)
    raise LessonError(
        f"{path}: the kernel was not ready within {timeout:.0f} s (last state: "
        f"{ {k: v for k, v in now.items() if k != 'cells'} })"
    )


def allowed_to_raise(cell: dict) -> bool:
    return "raises-exception" in cell["tags"]


def unexpected_errors(now: dict) -> list[dict]:
    return [cell for cell in now.get("cells", []) if cell["errors"] and not allowed_to_raise(cell)]


def describe(cell: dict) -> str:
    error = cell["errors"][0]
    return f"cell {cell['index']} ({cell['source']!r}) raised {error['ename']}: {error['evalue']}"


def restart_and_run_all(page, path: str, timeout: float = 300) -> tuple[dict, float]:
    """Clear outputs, restart the kernel and run every cell, as a cadet does from the Run menu.

    Returns the final state and the seconds from the click to the last cell's result. Raises
    LessonError when a cell not tagged ``raises-exception`` shows an error, or on time-out.
    """
    __tracebackhide__ = True
    wait_for_kernel(page, path)
    # Clear first: the copied lesson carries stored outputs and execution counts, so only
    # counts that reappear after the clear prove that a cell ran in this kernel.
    page.evaluate("""() => { const app = window.jupyterapp;
        app.commands.execute('notebook:clear-all-cell-outputs'); }""")
    page.wait_for_function(
        _FIND_PANEL
        + """(path) => {
        const panel = findPanel(path);
        const cells = Array.from(panel.content.model.cells).filter((c) => c.type === 'code');
        return cells.every((c) => c.executionCount === null && c.outputs.length === 0);
    }""",
        arg=path,
        timeout=30_000,
    )
    page.evaluate("""() => { const app = window.jupyterapp;
        app.commands.execute('notebook:restart-run-all'); }""")
    # JupyterLab asks "Restart Kernel?"; the cadet confirms.
    accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    accept.wait_for(state="visible", timeout=30_000)
    accept.click()
    page.locator(".jp-Dialog").wait_for(state="detached", timeout=30_000)
    start = time.monotonic()
    deadline = start + timeout
    idle_since = None
    now = {}
    while time.monotonic() < deadline:
        now = state(page, path)
        cells = now["cells"]
        kernel_idle = now["connection"] == "connected" and now["kernelStatus"] == "idle"
        bad = unexpected_errors(now)
        if bad and kernel_idle:
            raise LessonError(f"{path}: {describe(bad[0])}")
        finished = all(c["count"] is not None and c["prompt"] != "[*]:" for c in cells)
        if finished and kernel_idle:
            # Idle twice, half a second apart: widget and comm messages have settled.
            if idle_since is not None and time.monotonic() - idle_since >= 0.5:
                return now, idle_since - start
            idle_since = idle_since or time.monotonic()
        else:
            idle_since = None
        time.sleep(0.25)
    done = sum(c["count"] is not None for c in now.get("cells", []))
    running = [c for c in now.get("cells", []) if c["prompt"] == "[*]:"]
    where = (
        f"; cell {running[0]['index']} ({running[0]['source']!r}) still running" if running else ""
    )
    raise LessonError(
        f"{path}: not finished after {timeout:.0f} s: {done} of {len(now.get('cells', []))} code "
        f"cells ran, kernel {now.get('kernelStatus')}{where}"
    )


def front_end_problems(page, timeout: float = 30) -> list[str]:
    """Messages that JupyterLab or the widget manager rendered instead of an output.

    Widget views render after their models arrive: wait (up to ``timeout``) until no
    "Loading widget..." placeholder is left; one that stays is a problem too.
    """
    deadline = time.monotonic() + timeout
    while True:
        loading = page.evaluate(
            """() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
            .filter((node) => /Loading widget/i.test(node.innerText || '')).length"""
        )
        if not loading or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    texts = page.evaluate("""() => {
        const found = [];
        const patterns = [/Error displaying widget/i, /Failed to (load|create) (model|view)/i,
                          /model not found/i, /No renderer could be found/i, /Loading widget/i];
        for (const node of document.querySelectorAll('.jp-OutputArea-output')) {
          const text = node.innerText || '';
          if (patterns.some((p) => p.test(text))) found.push(text.slice(0, 200));
        }
        return found;
    }""")
    return texts


def screenshot_notebook(page, path: str, target: Path, max_height: int = 60_000) -> tuple[int, int]:
    """Save the whole notebook, top to bottom, as one PNG; return its (width, height).

    The notebook scrolls inside JupyterLab, so a full-page screenshot would only show the
    viewport: this scrolls the notebook one viewport at a time and stitches the shots.
    Needs ``windowingMode`` "none" (all cells attached), set in the test settings.
    """
    from PIL import Image

    page.evaluate("""() => { const app = window.jupyterapp;
        app.shell.collapseLeft(); app.shell.collapseRight(); }""")
    page.wait_for_timeout(300)  # let the layout settle
    scroller = page.evaluate(
        _FIND_PANEL
        + """(path) => {
        const panel = findPanel(path);
        const node = scrollerOf(panel);
        node.scrollTop = 0;
        const box = node.getBoundingClientRect();
        // Stop below the last cell: JupyterLab pads the end so it can scroll past it.
        const cells = panel.content.widgets;
        const last = cells.length ? cells[cells.length - 1].node.getBoundingClientRect() : box;
        return {x: box.x, y: box.y, width: box.width, height: box.height,
                scrollHeight: Math.min(node.scrollHeight, Math.ceil(last.bottom - box.top + 24))};
    }""",
        path,
    )
    view_height = int(scroller["height"])
    total = min(int(scroller["scrollHeight"]), max_height)
    clip = {
        "x": scroller["x"],
        "y": scroller["y"],
        "width": scroller["width"],
        "height": view_height,
    }
    page.wait_for_timeout(300)
    sheet = None
    top = 0
    while top < total:
        actual = page.evaluate(
            _FIND_PANEL
            + """([path, top]) => {
            const node = scrollerOf(findPanel(path));
            node.scrollTop = top;
            return node.scrollTop;
        }""",
            [path, max(top - SEAM, 0)],
        )
        page.wait_for_timeout(150)
        shot = Image.open(io.BytesIO(page.screenshot(clip=clip)))
        if sheet is None:
            sheet = Image.new("RGB", (shot.width, total), "white")
        # Drop the top rows (the toolbar's shadow) and, in the last shot, rows already pasted.
        skip = top - actual
        rows = min(view_height - skip, total - top)
        sheet.paste(shot.crop((0, skip, shot.width, skip + rows)), (0, top))
        top += rows
        if rows <= 0:
            break
    target.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(target)
    return sheet.size
