"""Does tf.data's autotuner slow training on a small machine? Epoch times, autotune off against on.

The course's recipe feeds ``fit`` from a ``tf.data`` pipeline (``cnnteach.training.make_datasets``)
with the autotuner switched off. This script trains the lesson network on the same 48,000
MNIST images with the pipeline as the course builds it and with the autotuner switched back
on, alternating one epoch of each so that both see the same machine load. On a 2-core CPU
some epochs with the autotuner on took twice as long, in some runs and not in others: its
background thread can compete with training for a core. The machine is noisy, so what counts
is the ratio and the count of slow epochs measured in one run. The last line is JSON::

    {"off": {"median_s": ..., "slow_epochs": ...}, "on": {...}, "ratio_on_over_off": ...}

Usage: python bench/tfdata_autotune.py [--epochs 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="epochs of each setting (default 8)")
    args = parser.parse_args(argv)

    import tensorflow as tf

    from cnnteach.data import load_mnist
    from cnnteach.training import RECIPES, make_datasets, prepare_images

    recipe = RECIPES["lesson"]
    (x_train, y_train), _ = load_mnist()
    off, _ = make_datasets(prepare_images(x_train), recipe.targets(y_train), recipe.batch_size)
    autotune_on = tf.data.Options()
    autotune_on.autotune.enabled = True
    on = off.with_options(autotune_on)
    assert off.options().autotune.enabled is False and on.options().autotune.enabled is True

    model = recipe.compile(recipe.build(), total_steps=2 * args.epochs * 375)
    model.fit(
        off, epochs=1, shuffle=False, verbose=0
    )  # traces the training step once, outside the timings
    seconds = {"off": [], "on": []}
    for _ in range(args.epochs):
        for name, dataset in (("off", off), ("on", on)):
            start = time.perf_counter()
            model.fit(dataset, epochs=1, shuffle=False, verbose=0)
            seconds[name].append(time.perf_counter() - start)
            print(f"autotune {name:<3} {seconds[name][-1]:.2f} s", flush=True)

    fastest = min(min(s) for s in seconds.values())
    results = {
        name: {
            "median_s": round(statistics.median(s), 2),
            "slow_epochs": sum(t > 1.5 * fastest for t in s),
            "epochs": len(s),
        }
        for name, s in seconds.items()
    }
    results["ratio_on_over_off"] = round(results["on"]["median_s"] / results["off"]["median_s"], 2)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
