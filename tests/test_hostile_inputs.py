"""A standing fuzz test: every public function of the light modules against hostile values.

Each function is called with a working set of arguments in which ONE argument is replaced by a
hostile value (None, NaN, infinity, negative, huge, text, bytes, 0-d arrays, ragged lists,
generators, ...). The promise under test: the call either returns, or raises ``ValueError`` or
``TypeError`` whose message is one sentence, within a time limit; never another exception
type, a traceback from deep inside numpy, or a hang. A second table lists inputs that must be
refused, not silently accepted.

``python tests/test_hostile_inputs.py`` prints the counts per module (tried, clean, traceback,
hang, silently wrong) for the record.
"""

from __future__ import annotations

import itertools
import signal
import sys
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnteach import (
    arithmetic,
    boxes,
    canvases,
    detect,
    explorers,
    layer_figures,
    ops,
    plots,
    steps,
)

LIMIT_S = 10.0
DOCUMENTED = (ValueError, TypeError)


def _hostile():
    """Fresh hostile values (generators are used up by a call, so each call gets new ones)."""
    return {
        "None": None,
        "nan": float("nan"),
        "inf": float("inf"),
        "negative": -3,
        "zero": 0,
        "huge": 10**9,
        "fraction": 2.5,
        "text": "x",
        "bytes": b"\x00x",
        "0-d array": np.array(3),
        "ragged": [[1, 2], [3]],
        "generator": (i for i in itertools.count()),
        "empty list": [],
        "object": object(),
    }


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    def _raise(signum, frame):
        raise Hang()

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(function, kwargs) -> tuple[str, str]:
    """('clean' | 'traceback' | 'hang', detail) for one call."""
    import matplotlib.pyplot as plt

    try:
        with time_limit(LIMIT_S):
            function(**kwargs)
        return "clean", "returned"
    except Hang:
        return "hang", f"no answer within {LIMIT_S} s"
    except DOCUMENTED as exc:
        message = str(exc)
        if not message.strip() or "\n" in message or len(message) > 400:
            return "traceback", f"{type(exc).__name__} that is not one sentence: {message[:200]!r}"
        return "clean", message
    except Exception as exc:  # noqa: BLE001 - the point is to catch every other kind
        return "traceback", f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        plt.close("all")


RNG = np.random.default_rng(0)
DIGIT = RNG.integers(0, 256, size=(28, 28), dtype=np.uint8)
DIGITS = RNG.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
LABELS = np.arange(12) % 10
BOXES = np.array([[0, 0, 10, 10], [5, 5, 15, 15], [30, 30, 40, 40]], dtype=float)

#: (module, function name, working keyword arguments)
CALLS = [
    (arithmetic, "conv_output_size", dict(input_size=28, kernel_size=3, stride=1, padding=0)),
    (
        arithmetic,
        "pool_output_size",
        dict(input_size=26, pool_size=2, stride=None, padding="valid"),
    ),
    (arithmetic, "conv2d_params", dict(kernel_size=3, in_channels=1, filters=10, use_bias=True)),
    (arithmetic, "dense_params", dict(in_features=360, units=100, use_bias=True)),
    (arithmetic, "same_padding", dict(input_size=28, kernel_size=3, stride=1)),
    (arithmetic, "explain_conv_output", dict(input_size=28, kernel_size=3, stride=1, padding=0)),
    (arithmetic, "explain_pool_output", dict(input_size=26, pool_size=2, stride=None)),
    (
        ops,
        "conv2d",
        dict(
            images=DIGITS[:2, ..., None] / 255,
            kernels=np.ones((3, 3, 1, 2)),
            bias=None,
            stride=1,
            padding="valid",
        ),
    ),
    (
        ops,
        "conv2d_loop",
        dict(
            images=DIGITS[:1, :8, :8, None] / 255,
            kernels=np.ones((3, 3, 1, 1)),
            bias=None,
            stride=1,
            padding="valid",
        ),
    ),
    (
        ops,
        "max_pool2d",
        dict(images=DIGITS[:2, ..., None], pool_size=2, stride=None, padding="valid"),
    ),
    (
        ops,
        "avg_pool2d",
        dict(images=DIGITS[:2, ..., None], pool_size=2, stride=None, padding="valid"),
    ),
    (ops, "pad_images", dict(images=DIGITS[:2, ..., None], pads=1, value=0.0)),
    (ops, "relu", dict(x=np.array([-1.0, 2.0]))),
    (ops, "flatten", dict(images=DIGITS[:2, ..., None])),
    (steps, "make_kernel", dict(name="blur", size=3)),
    (
        steps,
        "conv_step",
        dict(image=DIGIT, kernel_size=3, stride=1, padding=0, row=0, col=0, kernel="vertical edge"),
    ),
    (
        steps,
        "pool_step",
        dict(image=DIGIT, pool_size=2, stride=2, row=0, col=0, padding="valid", mode="max"),
    ),
    (plots, "plot_digits", dict(images=DIGITS, labels=LABELS, ncols=6)),
    (plots, "plot_image", dict(image=DIGIT, title="t")),
    (plots, "plot_pixels", dict(image=DIGIT[:6, :6])),
    (plots, "plot_pixel_histogram", dict(images=DIGITS, bins=8)),
    (plots, "plot_channels", dict(image=RNG.integers(0, 256, (6, 6, 3), dtype=np.uint8))),
    (plots, "plot_class_counts", dict(labels=LABELS, num_classes=10)),
    (plots, "plot_mean_digits", dict(images=DIGITS, labels=LABELS, ncols=5)),
    (plots, "plot_one_hot", dict(one_hot=np.eye(10)[:3])),
    (plots, "plot_probabilities", dict(probabilities=np.full(10, 0.1), label=3)),
    (layer_figures, "plot_kernel_responses", dict(image=DIGIT, kernels={"b": np.ones((3, 3))})),
    (layer_figures, "plot_flatten", dict(maps=RNG.random((4, 4, 3)), show_positions=2)),
    (boxes, "iou", dict(box_a=(0, 0, 4, 4), box_b=(2, 2, 6, 6))),
    (boxes, "pairwise_iou", dict(boxes_a=BOXES, boxes_b=BOXES)),
    (boxes, "non_max_suppression", dict(boxes=BOXES, scores=[0.9, 0.8, 0.7], iou_threshold=0.5)),
    (
        boxes,
        "average_precision",
        dict(true_boxes=BOXES, pred_boxes=BOXES, pred_scores=[0.9, 0.8, 0.7]),
    ),
    (
        canvases,
        "make_canvas",
        dict(images=DIGITS, labels=LABELS, n_digits=2, size=64, seed=0, gap=0),
    ),
    (canvases, "make_canvases", dict(images=DIGITS, labels=LABELS, n=2)),
    (detect, "sliding_windows", dict(image=np.zeros((40, 40), np.uint8), size=28, stride=4)),
    (
        detect,
        "plot_boxes",
        dict(image=np.zeros((40, 40), np.uint8), boxes=BOXES[:2], labels=[1, 2], scores=[0.9, 0.8]),
    ),
]

TABLE = [
    (module.__name__.split(".")[-1], name, argument, value_name)
    for module, name, working in CALLS
    for argument in working
    for value_name in _hostile()
]


def _call(module_name: str, name: str, argument: str, value_name: str):
    module, working = next(
        (m, w) for m, n, w in CALLS if m.__name__.endswith(module_name) and n == name
    )
    kwargs = dict(working)
    kwargs[argument] = _hostile()[value_name]
    return getattr(module, name), kwargs


@pytest.mark.parametrize("module_name, name, argument, value_name", TABLE)
def test_hostile_value_gets_one_sentence_in_time(module_name, name, argument, value_name):
    function, kwargs = _call(module_name, name, argument, value_name)
    kind, detail = outcome(function, kwargs)
    assert kind == "clean", f"{name}({argument}={value_name}): {detail}"


#: Inputs that must be refused; today's code accepted each silently (or crashed).
MUST_REFUSE = [
    (steps.conv_step, dict(image=DIGIT, row=float("nan"))),
    (steps.pool_step, dict(image=DIGIT, col=float("nan"))),
    (steps.make_kernel, dict(name="blur", size=10**5)),
    (steps.conv_step, dict(image=DIGIT, kernel_size=10**6)),
    (ops.conv2d, dict(images=DIGITS[:1, ..., None], kernels=np.ones((3, 3, 1, 1)), padding=10**5)),
    (ops.pad_images, dict(images=DIGITS[:1, ..., None], pads=-1)),
    (plots.plot_class_counts, dict(labels=LABELS, num_classes=10**9)),
    (arithmetic.conv_output_size, dict(input_size=np.array(28), kernel_size=3)),
    (detect.plot_boxes, dict(image=np.zeros((40, 40)), boxes=BOXES[:2], labels=[1, 2, 3])),
    (boxes.non_max_suppression, dict(boxes=BOXES, scores=[0.9, float("nan"), 0.7])),
    (explorers.plot_conv_step, dict(step=None)),
    (explorers.plot_pool_step, dict(step="pool")),
    (explorers.conv_explorer, dict(image=DIGIT, kernel="x")),
    (explorers.pool_explorer, dict(image=DIGIT, mode="median")),
    (canvases.make_canvas, dict(images=DIGITS[:2], labels=LABELS[:2], n_digits=4)),
]


def refusal(function, kwargs) -> str | None:
    """The one-sentence refusal of a call, or None when it was silently accepted.

    The explorer's step functions never raise (every slider setting must draw); they refuse
    with an ``impossible`` reason instead.
    """
    import matplotlib.pyplot as plt

    try:
        with time_limit(LIMIT_S):
            result = function(**kwargs)
    except DOCUMENTED as exc:
        return str(exc)
    finally:
        plt.close("all")
    return getattr(result, "impossible", None) or None


@pytest.mark.parametrize("function, kwargs", MUST_REFUSE, ids=lambda v: getattr(v, "__name__", ""))
def test_silent_acceptance_ends(function, kwargs):
    reason = refusal(function, kwargs)
    assert reason and "\n" not in reason


def test_the_whole_training_set_is_not_drawn_in_full():
    import matplotlib.pyplot as plt

    many = np.zeros((60_000, 28, 28), np.uint8)
    with time_limit(10):
        with pytest.warns(UserWarning, match="first 100"):
            drawn = plots.plot_digits(many, np.zeros(60_000, int))
    assert len(drawn) == 100
    plt.close("all")


@settings(
    derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    size=st.one_of(st.integers(-5, 40), st.floats(allow_nan=True, allow_infinity=True)),
    kernel=st.one_of(st.integers(-5, 40), st.none(), st.text(max_size=3)),
    stride=st.one_of(st.integers(-2, 6), st.floats(-1, 3)),
    padding=st.one_of(st.integers(-2, 6), st.sampled_from(["valid", "same", "full", ""])),
)
def test_output_size_arithmetic_never_crashes(size, kernel, stride, padding):
    for function in (arithmetic.conv_output_size, arithmetic.explain_conv_output):
        kind, detail = outcome(
            function, dict(input_size=size, kernel_size=kernel, stride=stride, padding=padding)
        )
        assert kind == "clean", detail


@settings(
    derandomize=True, max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    kernel=st.integers(-3, 40),
    stride=st.integers(-2, 6),
    padding=st.integers(-2, 6),
    row=st.integers(-50, 50),
    col=st.integers(-50, 50),
)
def test_steps_never_raise_for_slider_values(kernel, stride, padding, row, col):
    step = steps.conv_step(DIGIT, kernel, stride, padding, row, col)
    assert step.impossible or step.output.ndim == 2


def report() -> dict:
    """Counts per module of every hostile call and every must-refuse input."""
    counts: dict[str, dict[str, int]] = {}
    for module_name, name, argument, value_name in TABLE:
        function, kwargs = _call(module_name, name, argument, value_name)
        kind, _ = outcome(function, kwargs)
        row = counts.setdefault(module_name, dict(tried=0, clean=0, traceback=0, hang=0, silent=0))
        row["tried"] += 1
        row[kind] += 1
    for function, kwargs in MUST_REFUSE:
        module_name = function.__module__.split(".")[-1]
        row = counts.setdefault(module_name, dict(tried=0, clean=0, traceback=0, hang=0, silent=0))
        row["tried"] += 1
        kind, detail = outcome(function, kwargs)
        if kind == "clean" and not refusal(function, kwargs):
            kind = "silent"
        row[kind] += 1
    return counts


if __name__ == "__main__":  # pragma: no cover - a report for the closing note
    import json

    import matplotlib

    matplotlib.use("Agg")
    result = report()
    for module_name, row in result.items():
        print(module_name, row)
    print(json.dumps(result), file=sys.stdout)
