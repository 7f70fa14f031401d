"""The explorers of lessons 05 and 06, driven in the browser with the keyboard, like a cadet.

Lesson 05 shows ``conv_explorer(image)`` (sliders "kernel", "stride", "padding", "row", "col")
and lesson 06 ``pool_explorer(image)`` (sliders "pool", "stride", "row", "col", toggles
"padding" and "pooling"); each has one HTML read-out with CSS class ``cnnteach-readout`` that
says "Output: H × W · cell (row R, col C) ..." followed by the formula with the numbers
filled in, or "Impossible: <reason>".

Each test runs the lesson top to bottom in JupyterLab, focuses a slider's handle, presses
ArrowRight / ArrowLeft / End / Home and waits for the read-out to agree with the page: the
size must be what ``cnnteach.arithmetic`` predicts for the slider values read back from the
page, the cell must be the row/col sliders' values, and the formula must show those values.
An impossible setting must read "Impossible: ..." with its reason, and no error anywhere.
"""

from __future__ import annotations

import importlib.util
import re
import time

import pytest
from lab_browser import open_notebook, restart_and_run_all, state
from lab_server import LESSON_TIMEOUT, NOTEBOOKS

pytestmark = pytest.mark.ui

SETTLE = 30  # seconds a read-out may take to follow a key press (kernel round trip, under load)
KEYS = ("ArrowRight", "ArrowRight", "ArrowLeft", "End", "Home", "ArrowRight", "ArrowRight")

OUTPUT = re.compile(r"^Output: (\d+) × (\d+)")
CELL = re.compile(r"cell \(row (\d+), col (\d+)\)")
# The formulas of cnnteach.arithmetic.explain_*_output, with the numbers filled in.
CONV_FORMULA = re.compile(r"floor\(\((\d+) - (\d+) \+ 2×(\d+)\) / (\d+)\)")  # I, K, P, S
POOL_FORMULA = re.compile(r"floor\(\((\d+) - (\d+)\) / (\d+)\)")  # I, K, S
SAME_FORMULA = re.compile(r"ceil\((\d+) / (\d+)\)")  # I, S
BROKEN = re.compile(r"Traceback|Error|failed|exception", re.IGNORECASE)


def lesson(number: str, folder):
    found = sorted(folder.glob(f"{number}_*.ipynb"))
    return found[0] if found else None


def need_explorers(number: str, function: str, folder=NOTEBOOKS):
    """The lesson (in ``folder``) that shows ``function``, or skip saying what is missing."""
    if importlib.util.find_spec("cnnteach.explorers") is None:
        pytest.skip("cnnteach/explorers.py does not exist yet")
    import cnnteach.explorers

    if not hasattr(cnnteach.explorers, function):
        pytest.skip(f"cnnteach.explorers has no {function}() yet")
    path = lesson(number, folder)
    if path is None:
        pytest.skip(f"lesson {number} (notebooks/{number}_*.ipynb) does not exist yet")
    if f"{function}(" not in path.read_text(encoding="utf-8"):
        pytest.fail(f"{path.name} never calls {function}(...): the lesson must show its explorer")
    return path


class ExplorerView:
    """One explorer on the page: its sliders, toggles and read-out, as a cadet sees them."""

    def __init__(self, page, index: int = 0):
        self.page = page
        self.readout = page.locator(".cnnteach-readout").nth(index)
        self.readout.wait_for(state="visible", timeout=30_000)
        self.root = self.readout.locator(
            "xpath=ancestor::div[contains(concat(' ', "
            "normalize-space(@class), ' '), ' widget-vbox ')][1]"
        )

    def _labelled(self, kind: str, name: str):
        label = self.page.locator(
            "label.widget-label", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")
        )
        found = self.root.locator(kind).filter(has=label)
        assert found.count() == 1, (
            f"expected one {kind} labelled {name!r} in the explorer, found {found.count()}"
        )
        return found

    def handle(self, name: str):
        return self._labelled(".widget-slider", name).locator(".noUi-handle")

    def slider(self, name: str) -> dict:
        """The value shown beside slider ``name`` and its current range."""
        slider = self._labelled(".widget-slider", name)
        handle = slider.locator(".noUi-handle")
        return {
            "value": int(slider.locator(".widget-readout").inner_text().strip()),
            "min": round(float(handle.get_attribute("aria-valuemin"))),
            "max": round(float(handle.get_attribute("aria-valuemax"))),
        }

    def toggle(self, name: str) -> str:
        active = self._labelled(".widget-toggle-buttons", name).locator("button.mod-active")
        return active.get_attribute("data-value")

    def choose(self, name: str, option: str) -> None:
        self._labelled(".widget-toggle-buttons", name).locator(
            f"button[data-value='{option}']"
        ).click()

    def press(self, name: str, key: str) -> None:
        self.handle(name).press(key)

    def text(self) -> str:
        return " ".join(self.readout.inner_text().split())


def parse_formula(text: str, pattern: re.Pattern) -> list[tuple[int, ...]]:
    """Numbers of each filled-in formula (one for a square input, rows then columns otherwise)."""
    return [tuple(int(n) for n in match) for match in pattern.findall(text)]


class Checker:
    """Compares an explorer's read-out with ``cnnteach.arithmetic`` for the page's slider values."""

    def __init__(self, view: ExplorerView, kind: str):
        self.view, self.kind = view, kind
        self.input_size = None  # (rows, columns) of the explored image, from the first formula

    def values(self) -> dict:
        names = (
            ("kernel", "stride", "padding", "row", "col")
            if self.kind == "conv"
            else ("pool", "stride", "row", "col")
        )
        values = {name: self.view.slider(name)["value"] for name in names}
        if self.kind == "pool":
            values["padding"] = self.view.toggle("padding")
            values["pooling"] = self.view.toggle("pooling")
        return values

    def expected_size(self, values: dict):
        """(H, W) that cnnteach.arithmetic predicts, or the ValueError that says it is
        impossible."""
        from cnnteach.arithmetic import conv_output_size, pool_output_size

        try:
            if self.kind == "conv":
                return conv_output_size(
                    self.input_size, values["kernel"], values["stride"], values["padding"]
                )
            return pool_output_size(
                self.input_size, values["pool"], values["stride"], values["padding"]
            )
        except ValueError as error:
            return error

    def learn_input_size(self, text: str, values: dict) -> None:
        if self.kind == "conv":
            found = [(i, k, p, s) for i, k, p, s in parse_formula(text, CONV_FORMULA)]
        elif values["padding"] == "same":
            found = [(i, s) for i, s in parse_formula(text, SAME_FORMULA)]
        else:
            found = [(i, k, s) for i, k, s in parse_formula(text, POOL_FORMULA)]
        assert found, f"the read-out shows no formula with numbers: {text!r}"
        sizes = (found[0][0], found[-1][0])
        if self.input_size is None:
            self.input_size = sizes
        assert sizes == self.input_size, (
            f"the explored image changed size: {sizes} != {self.input_size}"
        )

    def verdict(self, values: dict, text: str) -> str | None:
        """None when the read-out agrees with the arithmetic and the sliders, else why not."""
        if self.input_size is None:
            if not text.startswith("Output:"):
                return f"the first read-out should show an output size: {text!r}"
            self.learn_input_size(text, values)
        expected = self.expected_size(values)
        size_word = values.get("kernel", values.get("pool"))
        if isinstance(expected, ValueError):
            if not text.startswith("Impossible:"):
                return f"{values} is impossible ({expected}) but the read-out says {text!r}"
            if BROKEN.search(text) or str(size_word) not in text:
                return f"the impossible setting {values} is not explained: {text!r}"
            return None
        match = OUTPUT.match(text)
        if not match:
            return f"{values} should give an output of {expected[0]} × {expected[1]}: {text!r}"
        if (int(match[1]), int(match[2])) != tuple(expected):
            return (
                f"{values}: read-out {match[1]} × {match[2]}, "
                f"arithmetic {expected[0]} × {expected[1]}"
            )
        cell = CELL.search(text)
        if not cell or (int(cell[1]), int(cell[2])) != (values["row"], values["col"]):
            return (
                f"the read-out's cell {cell and cell.groups()} "
                f"is not the sliders' (row, col) of {values}"
            )
        if not (values["row"] < expected[0] and values["col"] < expected[1]):
            return f"cell ({values['row']}, {values['col']}) is outside the {expected} output"
        if self.kind == "conv":
            shown = {(k, p, s) for _, k, p, s in parse_formula(text, CONV_FORMULA)}
            if shown != {(values["kernel"], values["padding"], values["stride"])}:
                return f"the formula shows (K, P, S) {shown}, the sliders {values}"
        elif values["padding"] == "valid":
            shown = {(k, s) for _, k, s in parse_formula(text, POOL_FORMULA)}
            if shown != {(values["pool"], values["stride"])}:
                return f"the formula shows (K, S) {shown}, the sliders {values}"
        else:
            shown = {s for _, s in parse_formula(text, SAME_FORMULA)}
            if shown != {values["stride"]} or "same" not in text:
                return f"the padding='same' formula shows S {shown}, the sliders {values}"
        if self.kind == "pool":
            word = "max" if values["pooling"] == "max" else "average"
            if f"= {word} of the window" not in text:
                return f"pooling is {values['pooling']!r} but the read-out says {text!r}"
        self.learn_input_size(text, values)
        return None

    def settle(self, what: str) -> tuple[dict, str]:
        """Wait until the read-out agrees with the page; return the values and the read-out."""
        deadline = time.monotonic() + SETTLE
        while True:
            values, text = self.values(), self.view.text()
            problem = self.verdict(values, text)
            if problem is None:
                return values, text
            if time.monotonic() > deadline:
                pytest.fail(f"after {what}, within {SETTLE} s: {problem}", pytrace=False)
            time.sleep(0.2)


def expect_move(before: dict, after: dict, key: str) -> None:
    """The slider moved the way the key says (ArrowRight: +1 up to max, Home: min, ...)."""
    value, low, high = before["value"], before["min"], after["max"]
    wanted = {
        "ArrowRight": min(value + 1, high),
        "ArrowLeft": max(value - 1, low),
        "End": high,
        "Home": low,
    }[key]
    assert after["value"] == wanted, (
        f"{key} moved the slider from {value} to {after['value']}, not {wanted}"
    )


def no_errors_anywhere(page, path: str) -> None:
    now = state(page, path)
    broken = [
        cell for cell in now["cells"] if cell["errors"] and "raises-exception" not in cell["tags"]
    ]
    assert broken == [], f"error outputs appeared: {broken}"
    shown = page.locator(
        ".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
    )
    allowed = sum(
        len(cell["errors"]) for cell in now["cells"] if "raises-exception" in cell["tags"]
    )
    assert shown.count() <= allowed, "a traceback is shown in the notebook"
    assert page.console_errors == [], "uncaught errors in the page"


@pytest.fixture(scope="module")
def explorer_page(chromium, lab):
    """Open and run a lesson once, in its own tab, for all the tests of this module."""
    pages, failures = {}, {}

    def open_lesson(path):
        __tracebackhide__ = True
        if path.name in failures:  # say it again rather than wait for a read-out that never comes
            pytest.fail(
                f"{path.name} did not run (see the first failure): {failures[path.name]}",
                pytrace=False,
            )
        if path.name not in pages:
            context = chromium.new_context(viewport={"width": 1280, "height": 1000})
            tab = context.new_page()
            tab.console_errors = []
            tab.on("pageerror", lambda error: tab.console_errors.append(str(error)))
            pages[path.name] = (context, tab)
            try:
                open_notebook(tab, lab, path.name)
                restart_and_run_all(tab, path.name, timeout=LESSON_TIMEOUT)
            except Exception as error:
                failures[path.name] = str(error).splitlines()[0]
                raise
        return pages[path.name][1]

    yield open_lesson
    for context, tab in pages.values():
        try:
            tab.evaluate("""() => { const app = window.jupyterapp;
                if (app) app.serviceManager.sessions.shutdownAll(); }""")
            tab.wait_for_timeout(500)
        except Exception:
            pass
        context.close()


def drive_sliders(page, checker: Checker, names) -> int:
    """Press each key of KEYS on each slider; check the read-out after every press."""
    moves = 0
    for name in names:
        for key in KEYS:
            before = checker.view.slider(name)
            checker.view.press(name, key)
            checker.settle(f"{key} on {name!r}")
            expect_move(before, checker.view.slider(name), key)
            moves += 1
    return moves


def test_conv_explorer_sliders_follow_the_arithmetic(explorer_page, lab):
    path = need_explorers("05", "conv_explorer", lab.root)
    page = explorer_page(path)
    checker = Checker(ExplorerView(page), "conv")
    checker.settle("running the lesson")

    moves = drive_sliders(page, checker, ("kernel", "stride", "padding", "row", "col"))

    assert moves == 5 * len(KEYS)
    assert checker.input_size is not None
    no_errors_anywhere(page, path.name)


def test_conv_explorer_explains_an_impossible_setting(explorer_page, lab):
    from cnnteach.arithmetic import conv_output_size

    path = need_explorers("05", "conv_explorer", lab.root)
    page = explorer_page(path)
    view = ExplorerView(page)
    checker = Checker(view, "conv")
    view.press("kernel", "Home")  # a 1 × 1 kernel always fits, whatever an earlier test left
    checker.settle("Home on 'kernel'")
    # The biggest kernel with no padding: the arithmetic must call it impossible.
    view.press("padding", "Home")
    checker.settle("Home on 'padding'")
    view.press("kernel", "End")
    values, text = checker.settle("End on 'kernel'")
    with pytest.raises(ValueError):
        conv_output_size(checker.input_size, values["kernel"], values["stride"], values["padding"])
    assert text.startswith("Impossible:") and len(text) > len("Impossible:") + 20, text
    assert not BROKEN.search(text), text
    no_errors_anywhere(page, path.name)
    # A cadet who adds padding or picks a smaller kernel gets an output again.
    view.press("kernel", "Home")
    values, text = checker.settle("Home on 'kernel'")
    assert text.startswith("Output:")


def test_pool_explorer_sliders_follow_the_arithmetic(explorer_page, lab):
    path = need_explorers("06", "pool_explorer", lab.root)
    page = explorer_page(path)
    view = ExplorerView(page)
    checker = Checker(view, "pool")
    checker.settle("running the lesson")

    moves = drive_sliders(page, checker, ("pool", "stride", "row", "col"))
    for padding in ("same", "valid"):
        view.choose("padding", padding)
        values, _ = checker.settle(f"choosing padding {padding!r}")
        assert values["padding"] == padding
        moves += drive_sliders(page, checker, ("stride",))
    for mode in ("average", "max"):
        view.choose("pooling", mode)
        values, _ = checker.settle(f"choosing {mode!r} pooling")
        assert values["pooling"] == mode

    assert moves == 6 * len(KEYS)
    no_errors_anywhere(page, path.name)


def test_pool_explorer_explains_an_impossible_setting(explorer_page, lab):
    from cnnteach.arithmetic import pool_output_size

    path = need_explorers("06", "pool_explorer", lab.root)
    page = explorer_page(path)
    view = ExplorerView(page)
    checker = Checker(view, "pool")
    view.press("pool", "Home")  # a 1 × 1 pool always fits, whatever an earlier test left
    checker.settle("Home on 'pool'")
    view.choose("padding", "valid")
    checker.settle("choosing padding 'valid'")
    view.press("pool", "End")
    values, text = checker.settle("End on 'pool'")
    with pytest.raises(ValueError):
        pool_output_size(checker.input_size, values["pool"], values["stride"], "valid")
    assert text.startswith("Impossible:") and len(text) > len("Impossible:") + 20, text
    assert not BROKEN.search(text), text
    no_errors_anywhere(page, path.name)
    # padding='same' makes any pool fit.
    view.choose("padding", "same")
    values, text = checker.settle("choosing padding 'same'")
    assert text.startswith("Output:")
    view.press("pool", "Home")
    checker.settle("Home on 'pool'")
    view.choose("padding", "valid")
    checker.settle("choosing padding 'valid'")
