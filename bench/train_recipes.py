"""Benchmark: the 2019 training recipe against the course's, side by side in one process.

It takes one to two minutes on a 2-core CPU (the 2019 recipe alone is most of it).

Both recipes train on the same data (the first 48,000 MNIST training images, the last 12,000
held out for validation, as ``validation_split=0.2`` does), then are scored on the official
10,000 test images. Each recipe validates after every epoch its own way: the 2019 recipe ten
images per step, as its ``fit(batch_size=10, validation_split=0.2)`` call did (Keras validates
in steps of ``batch_size`` unless told otherwise), the lesson recipe 500 per step. The machine
is noisy, so what counts is the ratio measured in one run.

The last line printed is JSON::

    {"blog": {"fit_s": ..., "test_accuracy": ..., "params": ...}, "lesson": {...}, "speedup": ...}

Usage: python bench/train_recipes.py [--recipes blog lesson]
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def measure(name: str, data) -> dict:
    from cnnteach.training import get_recipe, prepare_images, train

    (x_train, y_train), (x_test, y_test) = data
    recipe = get_recipe(name)
    run = train(recipe, x_train, y_train, validation_split=0.2, seed=0, log=True)
    x = prepare_images(x_test, scale=recipe.scale_pixels)
    _, accuracy = run.model.evaluate(x, recipe.targets(y_test), batch_size=1000, verbose=0)
    result = {
        "fit_s": round(run.fit_seconds, 2),
        "test_accuracy": round(float(accuracy), 4),
        "val_accuracy": round(run.final("val_accuracy"), 4),
        "params": int(run.model.count_params()),
    }
    print(f"{name}: {result}", flush=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["blog", "lesson"])
    args = parser.parse_args(argv)
    from cnnteach.data import load_mnist

    data = load_mnist()
    results = {name: measure(name, data) for name in args.recipes}
    if "blog" in results and "lesson" in results:
        results["speedup"] = round(results["blog"]["fit_s"] / results["lesson"]["fit_s"], 2)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
