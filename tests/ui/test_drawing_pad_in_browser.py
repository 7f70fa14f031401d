"""The drawing pad of lesson 09, drawn on with the mouse in JupyterLab, as at the projector.

The lesson runs top to bottom; then the test draws a "1" and a "7" on the pad's canvas with
Playwright mouse strokes (pointer events, as a mouse or a finger makes them). After each
drawing the pad's Python side must answer: the update counter moves, the ten bars show
probabilities that add up to 1, and the top class is the digit drawn. Clear must empty the
bars. The pad's view marks its state in the page: ``.cnnteach-pad[data-updates]``, the top
class in ``.cnnteach-pad-top[data-digit]``, each bar's probability in
``.cnnteach-pad-bar[data-p]``.
"""

from __future__ import annotations

import time

import pytest
from lab_browser import front_end_problems, open_notebook, restart_and_run_all, state
from lab_server import LESSON_TIMEOUT

pytestmark = pytest.mark.ui

SETTLE = 30  # seconds the bars may take to follow a stroke (kernel round trip, under load)
# Strokes in the pad's own 280 x 280 canvas pixels.
ONE = [[(140, 40), (140, 240)]]
SEVEN = [[(70, 60), (210, 60), (120, 240)]]


def lesson_09(folder):
    found = sorted(folder.glob("09_*.ipynb"))
    if not found:
        pytest.skip("lesson 09 (notebooks/09_*.ipynb) does not exist")
    if "drawing_pad(" not in found[0].read_text(encoding="utf-8"):
        pytest.fail(f"{found[0].name} never calls drawing_pad(...): the lesson must show the pad")
    return found[0]


class Pad:
    """The pad on the page: its canvas, Clear button, bars and top class."""

    def __init__(self, page):
        self.page = page
        self.root = page.locator(".cnnteach-pad")
        self.root.wait_for(state="visible", timeout=60_000)
        assert self.root.count() == 1, f"expected one drawing pad, found {self.root.count()}"
        self.canvas = self.root.locator("canvas.cnnteach-pad-canvas")
        self.canvas.scroll_into_view_if_needed()

    def updates(self) -> int:
        return int(self.root.get_attribute("data-updates") or 0)

    def top(self) -> str:
        return self.root.locator(".cnnteach-pad-top").get_attribute("data-digit") or ""

    def bars(self) -> list[float]:
        """The ten bars, read in one go (an update arriving between reads would mix two)."""
        values = self.root.evaluate(
            "el => Array.from(el.querySelectorAll('.cnnteach-pad-bar'))"
            ".map(bar => parseFloat(bar.dataset.p))"
        )
        assert len(values) == 10, values
        return values

    def quiet(self, seconds: float = 0.8) -> None:
        """Wait until no update has arrived for ``seconds`` (strokes send several)."""
        start = time.monotonic()
        while time.monotonic() - start < SETTLE:
            seen = self.updates()
            time.sleep(seconds)
            if self.updates() == seen:
                return

    def draw(self, strokes) -> None:
        """Mouse strokes through the given canvas points (scaled to the canvas on screen)."""
        box = self.canvas.bounding_box()
        scale = box["width"] / 280

        def at(point):
            return box["x"] + point[0] * scale, box["y"] + point[1] * scale

        for stroke in strokes:
            self.page.mouse.move(*at(stroke[0]))
            self.page.mouse.down()
            for point in stroke[1:]:
                self.page.mouse.move(*at(point), steps=12)
            self.page.mouse.up()

    def clear(self) -> None:
        self.root.locator("button.cnnteach-pad-clear").click()

    def settle(self, after: int, what: str, top: str) -> float:
        """Wait until Python has answered past update ``after`` and the top class is ``top``."""
        start = time.monotonic()
        while True:
            if self.updates() > after and self.top() == top:
                return time.monotonic() - start
            if time.monotonic() - start > SETTLE:
                pytest.fail(
                    f"{SETTLE} s after {what}, the pad shows update {self.updates()} "
                    f"(was {after}) and top class {self.top()!r}, not {top!r}: "
                    f"{self.root.inner_text()!r}",
                    pytrace=False,
                )
            time.sleep(0.1)


def test_the_pad_reads_a_drawn_one_and_seven_then_clears(page, lab):
    path = lesson_09(lab.root)
    open_notebook(page, lab, path.name)
    restart_and_run_all(page, path.name, timeout=LESSON_TIMEOUT)
    pad = Pad(page)
    assert pad.top() == "" and pad.bars() == [0.0] * 10  # nothing drawn yet

    for digit, strokes in ((1, ONE), (7, SEVEN)):
        before = pad.updates()
        pad.draw(strokes)
        seconds = pad.settle(before, f"drawing a {digit}", str(digit))
        pad.quiet()
        bars = pad.bars()
        assert abs(sum(bars) - 1) < 0.01, bars
        assert max(range(10), key=bars.__getitem__) == digit and bars[digit] > 0.5, bars
        print(
            f"drew a {digit}: the bars followed {seconds:.2f} s after the stroke; "
            f"p = {bars[digit]:.2f}"
        )

        before = pad.updates()
        pad.clear()
        pad.settle(before, "Clear", "")
        pad.quiet()
        assert pad.bars() == [0.0] * 10
        assert "Draw a digit" in pad.root.locator(".cnnteach-pad-top").inner_text()

    now = state(page, path.name)
    assert [c for c in now["cells"] if c["errors"] and "raises-exception" not in c["tags"]] == []
    assert front_end_problems(page) == []
    assert page.console_errors == [], "uncaught errors in the page"
