"""Detectors of lessons 12-13 trained and scored on the same multi-scale test canvases.

* ``sliding_window``: lesson 12's detector: the trained 28 x 28 classifier fine-tuned with a
  background class (``make_window_dataset`` of 2,000 canvases, one epoch), slid with stride 4
  and tightened to the ink, as the lesson does.
* ``one_stage``: lesson 13's detector, trained with ``one_stage.RECIPE`` through ``train``.

Both are scored on 200 canvases of TEST digits (``one_stage.CANVAS``: 96 x 96, 4 digits resized
by 0.6 to 2.0): VOC mAP@0.5 (``scoring.mean_average_precision``), COCO mAP@[.5:.95]
(``scoring.coco_evaluate``) and the time per canvas of detecting all 200 in one batch.
``train_s`` is ``fit`` from its first step, tracing included; ``steps`` and
``canvases_per_s`` (steps x batch / train_s) say how busy the machine was.

    python bench/detectors.py [--runs 3] [--steps N] [--canvases N] [--skip-sliding]

Prints one JSON line per run and, with ``--runs`` above 1, a last JSON line of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def sliding_window(x_train, y_train, canvases, seed):
    from cnnteach.detect import detect_digits, make_window_dataset, train_background_classifier
    from cnnteach.one_stage import evaluate
    from cnnteach.storage import load_trained_model

    classifier = load_trained_model()
    x_windows, y_windows = make_window_dataset(x_train, y_train, n_canvases=2000, seed=seed)
    model = train_background_classifier(
        x_windows, y_windows, base_model=classifier, epochs=1, seed=seed
    )
    detect_digits(model, canvases[:2])  # warm-up: trace predict once
    start = time.perf_counter()
    found = detect_digits(model, [c.image for c in canvases])
    per_canvas = (time.perf_counter() - start) / len(canvases)
    result = evaluate(canvases, found)
    return {
        "map50": round(result["map50"], 4),
        "coco_map": round(result["coco_map"], 4),
        "seconds_per_canvas": round(per_canvas, 5),
    }


def one_stage(x_train, y_train, canvases, seed, steps, n_canvases):
    import sys

    import keras

    from cnnteach.one_stage import RECIPE, detect, evaluate, train_detector

    def report(batch, logs):
        if (batch + 1) % 100 == 0:
            print(
                f"step {batch + 1} loss {logs['loss']:.3f} at {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    start = time.perf_counter()
    run = train_detector(
        x_train,
        y_train,
        n_canvases=n_canvases,
        steps=steps,
        seed=seed,
        callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=report)],
    )
    total = time.perf_counter() - start
    steps = run.recipe.steps
    detect(run.model, canvases[:2])  # warm-up: trace predict once
    start = time.perf_counter()
    found = detect(run.model, canvases)
    per_canvas = (time.perf_counter() - start) / len(canvases)
    result = evaluate(canvases, found)
    return {
        "map50": round(result["map50"], 4),
        "coco_map": round(result["coco_map"], 4),
        "map75": round(result["coco"]["map75"], 4),
        "train_s": round(run.fit_seconds, 2),
        "steps": steps,
        "canvases_per_s": round(steps * RECIPE.batch_size / run.fit_seconds, 1),
        "data_and_train_s": round(total, 2),
        "final_loss": round(run.final("loss"), 4),
        "seconds_per_canvas": round(per_canvas, 5),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None, help="override the recipe's step budget")
    parser.add_argument("--canvases", type=int, default=12000, help="distinct training canvases")
    parser.add_argument("--skip-sliding", action="store_true")
    args = parser.parse_args(argv)

    from cnnteach.data import load_mnist
    from cnnteach.detect import make_canvases
    from cnnteach.one_stage import CANVAS, TEST_SEED

    (x_train, y_train), (x_test, y_test) = load_mnist()
    canvases = make_canvases(x_test, y_test, 200, first_seed=TEST_SEED, **CANVAS)
    runs = []
    for seed in range(args.runs):
        result = {}
        if not args.skip_sliding:
            result["sliding_window"] = sliding_window(x_train, y_train, canvases, seed)
        result["one_stage"] = one_stage(x_train, y_train, canvases, seed, args.steps, args.canvases)
        runs.append(result)
        print(json.dumps({"run": seed, **result}), flush=True)
    if len(runs) > 1:
        medians = {
            name: {key: statistics.median(r[name][key] for r in runs) for key in runs[0][name]}
            for name in runs[0]
        }
        print(json.dumps(medians))


if __name__ == "__main__":
    main()
