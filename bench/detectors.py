"""Detectors of lessons 12-14 trained and scored on the same multi-scale test canvases.

* ``sliding_window``: lesson 12's detector: the trained 28 x 28 classifier fine-tuned with a
  background class (``make_window_dataset`` of 2,000 canvases, one epoch), slid with stride 4
  and tightened to the ink, as the lesson does.
* ``one_stage``: lesson 13's detector, trained with ``one_stage.RECIPE`` through ``train``.
* ``rcnn_style``, ``fast_rcnn``, ``two_stage`` (Faster R-CNN): lesson 14's, see :func:`two_stage`.

Both are scored on 200 canvases of TEST digits (``one_stage.CANVAS``: 96 x 96, 4 digits resized
by 0.6 to 2.0): VOC mAP@0.5 (``scoring.mean_average_precision``), COCO mAP@[.5:.95]
(``coco.coco_evaluate``) and the time per canvas of detecting all 200 in one batch.
``train_s`` is ``fit`` from its first step, tracing included; ``steps`` and
``canvases_per_s`` (steps x batch / train_s) say how busy the machine was.

    python bench/detectors.py [--runs 3] [--steps N] [--canvases N] [--skip-sliding]
                              [--skip-one-stage] [--skip-two-stage] [--roi-steps N] [--rpn-steps N]

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


# ------------------------------------------------------------------------ lesson 14 (two-stage)
def two_stage(
    x_train,
    y_train,
    canvases,
    seed,
    roi_steps=None,
    rpn_steps=None,
    head_steps=None,
    n_canvases=8000,
):
    """Lesson 14's detectors on the same canvases: R-CNN style, Fast R-CNN and Faster R-CNN.

    * ``rcnn_style``: ``rcnn.ink_proposals``, every proposal cropped to 28 x 28 and
      classified by lesson 12's digit-or-background classifier (``load_window_classifier``,
      trained once and kept); boxes are the proposals.
    * ``fast_rcnn``: the two-stage network's backbone once per canvas, RoIAlign of the same ink
      proposals, the RoI head.
    * ``two_stage``: Faster R-CNN: the RPN's top 50 proposals after NMS 0.7 instead.

    ``train_s`` is the three stages' ``fit`` time (RoI head + backbone, RPN, RoI head on the
    RPN's proposals), each from its first step, tracing included; ``proposal_recall`` the share
    of digits with a proposal at IoU >= 0.5.
    """
    from cnnteach import two_stage as ts
    from cnnteach import two_stage_training
    from cnnteach.one_stage import evaluate
    from cnnteach.rcnn import ink_proposals, load_window_classifier, proposal_recall, rcnn_detect

    def timed(run):
        run(canvases[:2])  # warm-up: trace predict once
        start = time.perf_counter()
        found, proposals = run(canvases)
        per_canvas = (time.perf_counter() - start) / len(canvases)
        result = evaluate(canvases, found)
        return {
            "map50": round(result["map50"], 4),
            "coco_map": round(result["coco_map"], 4),
            "map75": round(result["coco"]["map75"], 4),
            "proposal_recall": round(proposal_recall(proposals, canvases), 4),
            "proposals_per_canvas": round(sum(len(p) for p in proposals) / len(canvases), 1),
            "seconds_per_canvas": round(per_canvas, 5),
        }

    classifier = load_window_classifier()

    def rcnn(cs):
        proposals = [ink_proposals(c.image) for c in cs]
        return rcnn_detect(classifier, cs, proposals=proposals), proposals

    rows = {"rcnn_style": timed(rcnn)}
    start = time.perf_counter()
    model, info = two_stage_training.train_two_stage(
        x_train,
        y_train,
        n_canvases=n_canvases,
        roi_steps=roi_steps,
        rpn_steps=rpn_steps,
        head_steps=head_steps,
        seed=seed,
    )
    total = time.perf_counter() - start
    for name, source in (("fast_rcnn", "ink"), ("two_stage", "rpn")):
        rows[name] = timed(
            lambda cs, source=source: ts.detect(model, cs, proposals=source, return_proposals=True)
        )
    train_s = sum(info[stage]["fit_seconds"] for stage in ("roi", "rpn", "head"))
    for name in ("fast_rcnn", "two_stage"):
        rows[name].update(
            train_s=round(train_s, 2),
            roi_steps=info["roi"]["steps"],
            roi_train_s=info["roi"]["fit_seconds"],
            roi_canvases_per_s=info["roi"]["canvases_per_s"],
            rpn_steps=info["rpn"]["steps"],
            rpn_train_s=info["rpn"]["fit_seconds"],
            rpn_canvases_per_s=info["rpn"]["canvases_per_s"],
            head_steps=info["head"]["steps"],
            head_train_s=info["head"]["fit_seconds"],
            head_canvases_per_s=info["head"]["canvases_per_s"],
            proposal_s=info["proposal_seconds"],
            data_and_train_s=round(total, 2),
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None, help="override the recipe's step budget")
    parser.add_argument("--canvases", type=int, default=12000, help="distinct training canvases")
    parser.add_argument("--skip-sliding", action="store_true")
    parser.add_argument("--skip-one-stage", action="store_true")
    parser.add_argument("--skip-two-stage", action="store_true")
    for stage in ("roi", "rpn", "head"):
        parser.add_argument(
            f"--{stage}-steps",
            type=int,
            default=None,
            help=f"override the steps of lesson 14's {stage!r} stage",
        )
    args = parser.parse_args(argv)

    from cnnteach.canvases import make_canvases
    from cnnteach.data import load_mnist
    from cnnteach.one_stage import CANVAS, TEST_SEED

    (x_train, y_train), (x_test, y_test) = load_mnist()
    canvases = make_canvases(x_test, y_test, 200, first_seed=TEST_SEED, **CANVAS)
    runs = []
    for seed in range(args.runs):
        result = {}
        if not args.skip_sliding:
            result["sliding_window"] = sliding_window(x_train, y_train, canvases, seed)
        if not args.skip_one_stage:
            result["one_stage"] = one_stage(
                x_train, y_train, canvases, seed, args.steps, args.canvases
            )
        if not args.skip_two_stage:
            result.update(
                two_stage(
                    x_train,
                    y_train,
                    canvases,
                    seed,
                    args.roi_steps,
                    args.rpn_steps,
                    args.head_steps,
                )
            )
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
