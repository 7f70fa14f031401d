"""Benchmark: one batched ``predict`` call per canvas against one call per window, and one pass.

The detector of lesson 12 classifies every 28x28 window of a 96x96 canvas (324 windows at
stride 4). This script times, side by side in one process and on the same untrained lesson
network (speed does not depend on the weights):

* ``per_window``: one ``model.predict`` call per window (what a first attempt often does);
* ``batched``: ``cnnteach.detect.detect_digits``, all windows in ONE ``predict`` call;
* ``one_pass``: the same scores from ``fully_convolutional(model)`` run once over the canvas.

The machine is noisy, so what counts is the ratios measured in one run. The last line
printed is JSON::

    {"per_window_s": ..., "batched_s": ..., "one_pass_s": ..., "batched_speedup": ..., ...}

Per-window calls are slow, so only ``--sample`` of them are timed and the time is scaled to
all windows. A second comparison runs ``--canvases`` canvases through the batched windows and
through the one-pass network.

Usage: python bench/detect_speed.py [--repeats 3] [--canvases 100] [--sample 24]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def best_of(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--canvases", type=int, default=100, help="canvases for the many-canvas comparison"
    )
    parser.add_argument(
        "--sample", type=int, default=24, help="per-window predict calls actually timed"
    )
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from cnnteach.canvases import make_canvas
    from cnnteach.detect import detect_digits, fully_convolutional, sliding_windows
    from cnnteach.models import lesson_model

    rng = np.random.default_rng(0)
    digits = (rng.random((20, 28, 28)) > 0.8).astype(
        np.uint8
    ) * 255  # shapes do not matter for speed
    canvases = np.stack(
        [make_canvas(digits, np.arange(20) % 10, seed=s).image for s in range(args.canvases)]
    )
    canvas = canvases[0]
    keras.utils.set_random_seed(0)
    model = lesson_model()
    fcn = fully_convolutional(model)
    windows, _ = sliding_windows(canvas, 28, 4)
    x = windows[..., None].astype("float32") / 255.0
    sample = x[
        :: max(1, len(x) // args.sample)
    ]  # per-window calls are slow: time a sample, scale up

    def per_window():
        return [model.predict(w[None], verbose=0) for w in sample]

    def batched(images):
        return lambda: detect_digits(model, images, threshold=0.0, nms=False)

    def one_pass(images):
        return lambda: detect_digits(fcn, images, threshold=0.0, nms=False, one_pass=True)

    for warm in (
        per_window,
        batched(canvas),
        one_pass(canvas),
        batched(canvases),
        one_pass(canvases),
    ):
        warm()  # trace Keras' predict functions first
    per_window_s = best_of(per_window, 1) * len(x) / len(sample)
    batched_s = best_of(batched(canvas), args.repeats)
    one_pass_s = best_of(one_pass(canvas), args.repeats)
    many_batched_s = best_of(batched(canvases), args.repeats)
    many_one_pass_s = best_of(one_pass(canvases), args.repeats)
    same = all(
        np.allclose(a.scores, b.scores, atol=1e-5)
        for a, b in zip(batched(canvases)(), one_pass(canvases)())
    )
    result = {
        "windows_per_canvas": len(x),
        "per_window_s": round(per_window_s, 3),
        "batched_s": round(batched_s, 4),
        "one_pass_s": round(one_pass_s, 4),
        "batched_speedup": round(per_window_s / batched_s, 1),
        "canvases": int(args.canvases),
        "many_batched_s": round(many_batched_s, 3),
        "many_one_pass_s": round(many_one_pass_s, 3),
        "one_pass_speedup_many": round(many_batched_s / many_one_pass_s, 1),
        "same_scores": bool(same),
    }
    print(
        f"one canvas, {len(x)} windows: per-window predict "
        f"{per_window_s:.2f} s (from {len(sample)} calls) · "
        f"one batched predict {batched_s:.3f} s · one fully convolutional pass {one_pass_s:.3f} s"
    )
    print(f"  batched is {result['batched_speedup']}x faster than one call per window")
    print(
        f"{args.canvases} canvases: batched windows "
        f"{many_batched_s:.2f} s · one pass {many_one_pass_s:.2f} s "
        f"· one pass is {result['one_pass_speedup_many']}x faster (same scores: {same})"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
