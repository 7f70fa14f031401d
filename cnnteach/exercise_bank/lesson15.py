"""Checkers for lesson 15 (scoring detectors: VOC's and COCO's average precision)."""

import numpy as np

from cnnteach.exercises import call, exercise, expect_number, number_exercise

number_exercise(
    "15.iou-thresholds",
    5,
    integer=True,
    hints={
        4: "A hit needs IoU *at least* the threshold: 0.72 passes 0.50, 0.55, 0.60, 0.65 and 0.70.",
        6: "0.75 is above 0.72: at that threshold the detection is a false positive.",
        10: "Only thresholds up to 0.72 count the detection; above them it is a false positive.",
        1: "COCO uses ten thresholds, 0.50 to 0.95 in steps of 0.05, not only 0.5.",
    },
    otherwise="List the thresholds 0.50, 0.55, ..., 0.95 and count those at most 0.72.",
    explanation=(
        "A detection is a hit at a threshold when its IoU is at least that threshold: 0.72 passes "
        "0.50, 0.55, 0.60, 0.65 and 0.70 (5 thresholds) and fails 0.75 to 0.95."
    ),
)

number_exercise(
    "15.class-mean",
    (0.9 + 0.6 + 0.0) / 3,
    hints={
        0.75: "Digit 2 has true boxes: it keeps its place in the mean, with AP 0.",
        0.375: "Digit 3 appears in no image: it has no AP and is left out of the mean.",
        1.5: "Divide the sum by the number of classes that count.",
    },
    otherwise="Average the APs of the classes that have at least one true box.",
    explanation=(
        "The mean runs over the classes with at least one true box: digits 0, 1 and 2. Digit 2, "
        "never predicted, has AP 0; digit 3 has no true box, so no AP. (0.9 + 0.6 + 0) / 3 = 0.5."
    ),
)


# ----------------------------------------------------------------------------- references
def _precision_recall(hits, n_true):
    tp = np.cumsum(np.asarray(hits, dtype=bool))
    return tp / np.arange(1, len(tp) + 1), tp / n_true


def _all_point(hits, n_true):
    precision, recall = _precision_recall(hits, n_true)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall, prepend=0) * envelope))


def _no_envelope(hits, n_true):
    precision, recall = _precision_recall(hits, n_true)
    return float(np.sum(np.diff(recall, prepend=0) * precision))


_RECALLS = np.linspace(0, 1, 101)


def _points(hits, n_true, recalls=_RECALLS, envelope=True, tail=0.0):
    precision, recall = _precision_recall(hits, n_true)
    if envelope:
        precision = np.maximum.accumulate(precision[::-1])[::-1]
    first = np.searchsorted(recall, recalls, side="left")
    last = precision[-1] if tail is None and len(precision) else 0.0
    return float(np.append(precision, last)[first].mean())


#: (hits best score first, number of true boxes). No recall k / n_true of these lies on
#: COCO's grid 0, 0.01, ..., 1 except 0 and 1, so any fair way of writing the grid agrees.
_CASES = [
    ([True, False, False, True, True], 3),  # the envelope lifts the second hit
    ([True], 1),
    ([False, True], 1),
    ([True, True, False, True], 7),  # most digits never found
    ([False, False], 3),
    ([], 3),
    ([False, True, True, False, False, True, False, True], 9),
    ([True, False, True, False, True, False, True], 7),
]


def _random_cases():
    rng = np.random.default_rng(15)
    for n_true in (3, 7, 9, 11):
        for _ in range(3):
            hits = rng.random(int(rng.integers(1, 15))) < 0.6
            hits &= np.cumsum(hits) <= n_true  # never more hits than true boxes
            yield hits.tolist(), n_true


def _read(function, hits, n_true):
    return expect_number(call(function, np.array(hits, dtype=bool), n_true))


def _compare(function, reference, mistakes):
    """None when ``function`` agrees with ``reference`` on every case, else the hint that fits."""
    cases = _CASES + list(_random_cases())
    got = [_read(function, hits, n_true) for hits, n_true in cases]

    def same(values, method):
        expected = [method(*case) for case in cases[: len(values)]]
        return all(np.isclose(v, e, rtol=0, atol=1e-6) for v, e in zip(values, expected))

    if same(got, reference):
        return None
    for mistake, hint in mistakes:
        if same(got, mistake):
            return hint
    wanted = [reference(*case) for case in cases]
    k = next(k for k in range(len(cases)) if not np.isclose(got[k], wanted[k], rtol=0, atol=1e-6))
    hits, n_true = cases[k]
    return (
        f"For hits {[int(h) for h in hits]} and {n_true} true boxes you got {got[k]:.4f}, "
        f"expected {reference(hits, n_true):.4f}."
    )


def _mean_precision_at_hits(hits, n_true):
    precision, _ = _precision_recall(hits, n_true)
    return float(precision[np.asarray(hits, dtype=bool)].mean()) if any(hits) else 0.0


def _over_hits(hits, n_true):
    return _all_point(hits, max(int(np.sum(hits)), 1))


@exercise(
    "15.all-point-ap",
    explanation=(
        "Precision after each detection is tp / rank, recall tp / n_true. The envelope replaces "
        "each precision by the best one at the same or a later rank (np.maximum.accumulate on the "
        "reversed array). AP sums (recall step) x envelope: only hits move recall, so misses add "
        "nothing."
    ),
)
def _(function):
    return _compare(
        function,
        _all_point,
        [
            (
                _no_envelope,
                "Use the envelope: at each hit take the best precision at that rank or "
                "any later one (a later hit can lift an earlier, lower precision).",
            ),
            (
                _over_hits,
                "Recall divides by all true boxes (n_true), found or not: digits never "
                "found lower AP.",
            ),
            (
                _mean_precision_at_hits,
                "Weigh each precision by the recall it adds (1 / n_true per "
                "hit), not by the number of hits.",
            ),
            (
                lambda h, n: _points(h, n),
                "That is COCO's 101-point AP; VOC's all-point AP sums "
                "(recall step) x envelope at every hit.",
            ),
        ],
    )


@exercise(
    "15.ap-101",
    explanation=(
        "Build the envelope as for VOC, then read it at the 101 recalls np.linspace(0, 1, 101): at "
        "each one, the envelope at the first rank whose recall reaches it "
        "(np.searchsorted(recall, points, side='left')), or 0 when recall never gets there. AP is "
        "the mean of those 101 values."
    ),
)
def _(function):
    return _compare(
        function,
        _points,
        [
            (
                _all_point,
                "That is VOC's all-point area; COCO reads the envelope at 101 recalls "
                "0, 0.01, ..., 1 and averages those 101 values.",
            ),
            (
                lambda h, n: _points(h, n, envelope=False),
                "Read the envelope, not the raw "
                "precision: at each rank the best precision at that rank or a later one.",
            ),
            (
                lambda h, n: _points(h, n, tail=None),
                "A recall the detector never reaches reads precision 0, not the last precision.",
            ),
            (
                lambda h, n: _points(h, n, recalls=np.linspace(0, 1, 100)),
                "Use 101 recall points, 0 and 1 included: np.linspace(0, 1, 101).",
            ),
            (
                lambda h, n: _points(h, n, recalls=np.linspace(0, 1, 11)),
                "That is VOC2007's 11-point AP; COCO uses 101 points: np.linspace(0, 1, 101).",
            ),
        ],
    )
