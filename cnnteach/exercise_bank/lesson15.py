"""Checkers for lesson 15 (scoring detectors: VOC's and COCO's average precision)."""

import math
import warnings

import numpy as np

from cnnteach._answers import (
    AnswerError,
    call,
    expect_number,
    number_exercise,
    rounding_hint,
)
from cnnteach.exercises import exercise

number_exercise(
    "15.iou-thresholds",
    5,
    integer=True,
    hints={
        lambda v: v != round(v): "The answer is a whole number, a count of thresholds: write it "
        "without decimals.",
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
        lambda v: v > 1: "Give the mAP as a fraction between 0 and 1, as the APs are given, not "
        "as a percentage.",
    },
    otherwise="Average the APs of the classes that have at least one true box.",
    explanation=(
        "The mean runs over the classes with at least one true box: digits 0, 1 and 2. Digit 2, "
        "never predicted, has AP 0; digit 3 has no true box, so no AP. (0.9 + 0.6 + 0) / 3 = 0.5."
    ),
)


# ----------------------------------------------------------------------------- references
def _precision_recall(hits, n_true, first_rank=1):
    tp = np.cumsum(np.asarray(hits, dtype=bool))
    return tp / np.arange(first_rank, len(tp) + first_rank), tp / n_true


def _envelope(precision):
    return np.maximum.accumulate(precision[::-1])[::-1]


def _all_point(hits, n_true, first_rank=1, envelope=_envelope):
    precision, recall = _precision_recall(hits, n_true, first_rank)
    return float(np.sum(np.diff(recall, prepend=0) * envelope(precision)))


def _no_envelope(hits, n_true):
    return _all_point(hits, n_true, envelope=lambda p: p)


def _left_envelope(hits, n_true):
    return _all_point(hits, n_true, envelope=np.maximum.accumulate)


def _diff_without_start(hits, n_true, side):
    precision, recall = _precision_recall(hits, n_true)
    envelope = _envelope(precision)
    envelope = envelope[1:] if side == "right" else envelope[:-1]
    return float(np.sum(np.diff(recall) * envelope))


_RECALLS = np.linspace(0, 1, 101)


def _points(hits, n_true, recalls=_RECALLS, envelope=True, tail=0.0, side="left", divide=None):
    precision, recall = _precision_recall(hits, n_true)
    if envelope:
        precision = _envelope(precision)
    first = np.searchsorted(recall, recalls, side=side)
    last = precision[-1] if tail is None and len(precision) else 0.0
    values = np.append(precision, last)[first]
    return float(values.sum() / divide if divide else values.mean())


def _interp(hits, n_true, right=None):
    precision, recall = _precision_recall(hits, n_true)
    if not len(recall):
        return 0.0
    return float(np.interp(_RECALLS, recall, _envelope(precision), right=right).mean())


#: (hits best score first, number of true boxes). No recall k / n_true of these lies on
#: COCO's grid 0, 0.01, ..., 1 except 0 and 1, so any fair way of writing the grid agrees.
_CASES = [
    ([True, False, False, True, True], 3),  # the envelope lifts the second hit
    ([True], 1),
    ([False, True], 1),
    ([True, True, False, True], 7),  # most digits never found
    ([False, False], 3),  # a class predicted but never found
    ([], 3),  # a class never predicted
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


def _shown(hits, n_true):
    return f"hits {[int(h) for h in hits]} and {n_true} true boxes"


def _read(function, hits, n_true):
    """The learner's value as a float (nan when it is not finite), or the hint for what it is."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of no hits: nan, said below
        result = call(function, np.array(hits, dtype=bool), n_true)
    if np.ndim(result) == 0 and isinstance(result, (float, np.floating, np.ndarray)):
        if not math.isfinite(float(result)):
            return math.nan
    try:
        return expect_number(result)
    except AnswerError as error:
        raise AnswerError(f"For {_shown(hits, n_true)} your function returned: {error}") from None


def _agrees(got, wanted):
    """Equal, or rounded to 3 decimals or more: ``round(ap, 3)`` is a fair answer."""
    if abs(got - wanted) <= 1e-6:
        return True
    for decimals in range(3, 7):
        if abs(got - round(got, decimals)) <= 1e-12:
            return abs(got - wanted) <= 0.5 * 10.0**-decimals + 1e-9
    return False


def _rounded_from(got, wanted):
    """Whether ``got`` is ``wanted``, or it rounded or cut to 1 or 2 decimals."""
    if _agrees(got, wanted):
        return True
    for scale in (10.0, 100.0):
        shortened = (
            round(wanted * scale),
            math.floor(wanted * scale + 0.5),
            math.trunc(wanted * scale),
        )
        if any(abs(got - v / scale) <= 1e-9 for v in shortened):
            return True
    return False


def _compare(function, reference, mistakes):
    """None when ``function`` agrees with ``reference`` on every case, else the hint that fits.

    A case where the function returns nan or raises is left out when its other values are
    matched against the usual mistakes, and is named in the hint.
    """
    cases = _CASES + list(_random_cases())
    got, broken = [], None
    for hits, n_true in cases:
        try:
            value = _read(function, hits, n_true)
        except AnswerError as error:
            empty = " (hits is empty when a class is never predicted: AP is 0 then)"
            said = str(error)[0].upper() + str(error)[1:] + (empty if not hits else "")
            value, broken = math.nan, broken or said
        if math.isnan(value) and broken is None:
            broken = (
                f"Your function returned nan for {_shown(hits, n_true)}: when hits has no True "
                "(a class never found, or never predicted), AP is 0."
            )
        got.append(value)
    wanted = [reference(*case) for case in cases]
    kept = [k for k, v in enumerate(got) if not math.isnan(v)]

    def same(method):
        return all(_agrees(got[k], method(*cases[k])) for k in kept)

    if same(reference):
        if broken is None:
            return None
        return broken
    rounded = [rounding_hint(got[k], wanted[k]) for k in kept]
    if all(_rounded_from(got[k], wanted[k]) for k in kept) and any(rounded):
        k = next(k for r, k in zip(rounded, kept) if r)
        hint = next(r for r in rounded if r).replace(", or the exact expression.", "")
        return (
            f"For {_shown(*cases[k])} your function returned {got[k]:g}, and AP is "
            f"{wanted[k]:.4f}. {hint}: return the value without rounding it."
        )
    if len(kept) >= len(cases) // 2:
        for mistake, hint in mistakes:
            if same(mistake):
                return hint if broken is None else f"{hint} Also: {broken}"
    if broken is not None:
        return broken
    k = next(k for k in range(len(cases)) if not _agrees(got[k], wanted[k]))
    return f"For {_shown(*cases[k])} you got {got[k]:.4f}, expected {wanted[k]:.4f}."


def _mean_precision_at_hits(hits, n_true):
    precision, _ = _precision_recall(hits, n_true)
    return float(precision[np.asarray(hits, dtype=bool)].mean()) if any(hits) else 0.0


def _over_hits(hits, n_true):
    return _all_point(hits, max(int(np.sum(hits)), 1))


def _over_detections(hits, n_true):
    return _all_point(hits, max(len(hits), 1))


_ONE_OFF = (
    "Precision after the detection of rank k (counting from 1) is hits so far / k: "
    "np.arange(1, len(hits) + 1), not np.arange(2, ...) or rank + 1 from enumerate."
)
_BY_DETECTIONS = (
    "Recall is hits so far / n_true, the number of true boxes, not the number of "
    "detections: digits never found lower AP."
)


@exercise(
    "15.all-point-ap",
    explanation=(
        "Precision after each detection is tp / rank, recall tp / n_true. The envelope replaces "
        "each precision by the best one at the same or a later rank (np.maximum.accumulate on the "
        "reversed array). AP sums (recall step) x envelope: only hits move recall, so misses add "
        "nothing, and with no hit AP is 0."
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
                _left_envelope,
                "The envelope runs from the right: each precision becomes the best one at the "
                "same or a *later* rank. np.maximum.accumulate(precision) runs from the left; "
                "reverse the array before and after: np.maximum.accumulate(precision[::-1])[::-1].",
            ),
            (
                _over_hits,
                "Recall divides by all true boxes (n_true), found or not: digits never "
                "found lower AP.",
            ),
            (_over_detections, _BY_DETECTIONS),
            (
                _mean_precision_at_hits,
                "Weigh each precision by the recall it adds (1 / n_true per "
                "hit), not by the number of hits.",
            ),
            (lambda h, n: _all_point(h, n, first_rank=2), _ONE_OFF),
            (
                lambda h, n: _points(h, n, recalls=np.linspace(0, 1, 11)),
                "That is the 11-point AP of VOC2007 to VOC2009; the all-point AP sums "
                "(recall step) x envelope at every hit.",
            ),
            (
                lambda h, n: _diff_without_start(h, n, "right"),
                "np.diff(recall) leaves out the first step, from recall 0 to the first "
                "detection's recall (np.trapz(envelope, recall) leaves it out too): use "
                "np.diff(recall, prepend=0) and multiply by the envelope at each rank.",
            ),
            (
                lambda h, n: _diff_without_start(h, n, "left"),
                "np.diff(recall) leaves out the first step, from recall 0 to the first "
                "detection's recall: use np.diff(recall, prepend=0), and the envelope at "
                "each rank.",
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
        "the mean of those 101 values (0 when hits has no True)."
    ),
)
def _(function):
    interp = (
        "np.interp draws straight lines between the ranks; COCO takes, at each recall point, "
        "the envelope at the first rank whose recall reaches it (np.searchsorted(recall, "
        "points, side='left')), and 0 past the last rank."
    )
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
            (_interp, interp),
            (lambda h, n: _interp(h, n, right=0.0), interp),
            (
                lambda h, n: _points(h, n, side="right"),
                "side='right' skips a rank whose recall equals the point (at recall 1, it "
                "reads past the end): use side='left', the first rank whose recall reaches it.",
            ),
            (
                lambda h, n: _points(h, n, divide=100),
                "There are 101 points, 0 and 1 included: divide their sum by 101 (or take the "
                "mean).",
            ),
            (
                lambda h, n: _points(h, n, recalls=np.linspace(0.01, 1, 100)),
                "The grid starts at recall 0: np.linspace(0, 1, 101) holds 0, 0.01, ..., 1.",
            ),
            (
                lambda h, n: _points(h, n, recalls=np.linspace(0, 1, 100)),
                "Use 101 recall points, 0 and 1 included: np.linspace(0, 1, 101).",
            ),
            (lambda h, n: _points(h, max(len(h), 1)), _BY_DETECTIONS),
            (
                lambda h, n: _points(h, n, recalls=np.linspace(0, 1, 11)),
                "That is the 11-point AP of VOC2007 to VOC2009; COCO uses 101 points: "
                "np.linspace(0, 1, 101).",
            ),
        ],
    )
