"""Why frameworks exist: the same convolution three ways, timed side by side in one run.

The 2019 model's first layer (10 filters of 3x3 on 28x28x1 digits) is computed by
  * cnnteach.ops.conv2d_loop: plain Python loops (timed on one digit, scaled to 1,000),
  * cnnteach.ops.conv2d: vectorised numpy, on 1,000 digits,
  * keras.layers.Conv2D with the same weights, on the same 1,000 digits,
and the three results are checked to agree before anything is timed. Times are medians of
several repeats; only the ratios mean much on a shared machine. The last line is JSON.

Usage: python bench/conv_speed.py [--digits 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np


def median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    os.environ.setdefault("CNNTEACH_OFFLINE", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from cnnteach.data import load_mnist
    from cnnteach.ops import conv2d, conv2d_loop

    (_, _), (x_test, _) = load_mnist()
    images = (x_test[: args.digits, :, :, np.newaxis] / 255.0).astype("float32")
    rng = np.random.default_rng(0)
    kernels = rng.normal(0, 0.3, size=(3, 3, 1, 10)).astype("float32")
    bias = rng.normal(0, 0.1, size=10).astype("float32")

    layer = keras.layers.Conv2D(10, 3)
    layer.build(images.shape)
    layer.set_weights([kernels, bias])
    tensor = keras.ops.convert_to_tensor(images)

    # same numbers first, then speed
    ours = conv2d(images, kernels, bias)
    theirs = keras.ops.convert_to_numpy(layer(tensor))
    loop = conv2d_loop(images[:1], kernels, bias)
    max_diff = float(max(np.abs(ours - theirs).max(), np.abs(loop - ours[:1]).max()))
    assert max_diff < 1e-4, max_diff

    t_loop_one = median_seconds(
        lambda: conv2d_loop(images[:1], kernels, bias), max(3, args.repeats // 2)
    )
    t_numpy = median_seconds(lambda: conv2d(images, kernels, bias), args.repeats)
    t_keras = median_seconds(lambda: keras.ops.convert_to_numpy(layer(tensor)), args.repeats)
    n = len(images)
    t_loop = t_loop_one * n

    rows = [
        ("loop (Python), scaled from 1 digit", t_loop),
        ("vectorised numpy", t_numpy),
        ("Keras Conv2D", t_keras),
    ]
    print(f"Conv2D(10, 3) on {n:,} digits of 28x28 (max difference between methods {max_diff:.1e})")
    print(f"{'method':<38}{'seconds':>10}{'per digit':>14}{'x slower than Keras':>22}")
    for name, seconds in rows:
        print(f"{name:<38}{seconds:>10.4f}{seconds / n * 1e6:>11.1f} us{seconds / t_keras:>22.1f}")
    result = {
        "digits": n,
        "loop_one_digit_s": round(t_loop_one, 6),
        "loop_s_scaled": round(t_loop, 4),
        "numpy_s": round(t_numpy, 5),
        "keras_s": round(t_keras, 5),
        "loop_over_numpy": round(t_loop / t_numpy, 1),
        "numpy_over_keras": round(t_numpy / t_keras, 2),
        "loop_over_keras": round(t_loop / t_keras, 1),
        "max_abs_difference": max_diff,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
