"""cnnteach.detect: boxes, IoU, NMS, AP, canvases, the batched detector and the one-pass network."""

from __future__ import annotations

import numpy as np
import pytest

from cnnteach import detect
from cnnteach import models
from cnnteach.boxes import (
    average_precision,
    iou,
    non_max_suppression,
    pairwise_iou,
    precision_recall_curve,
)
from cnnteach.detect import (
    BACKGROUND,
    detect_digits,
    make_canvas,
    make_canvases,
    make_window_dataset,
    sliding_windows,
)


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):
    from cnnteach.data import load_mnist

    _, (x_test, y_test) = load_mnist(mnist_dir)
    return x_test, y_test


# ----------------------------------------------------------------------------- iou
@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((0, 0, 4, 4), (2, 2, 6, 6), 4 / 28),  # 2x2 shared, 16 + 16 - 4
        ((0, 0, 4, 4), (0, 0, 4, 4), 1.0),  # identical
        ((0, 0, 4, 4), (10, 10, 12, 12), 0.0),  # disjoint
        ((0, 0, 4, 4), (4, 0, 8, 4), 0.0),  # touching along an edge: no shared pixel
        ((0, 0, 4, 4), (4, 4, 8, 8), 0.0),  # touching at a corner
        ((0, 0, 8, 8), (2, 2, 6, 6), 16 / 64),  # one inside the other
        ((0, 0, 2, 2), (1, 0, 3, 2), 2 / 6),  # half a box shifted
        ((0, 0, 0, 5), (0, 0, 0, 5), 0.0),  # zero area: nothing to share
        ((0.5, 0.5, 2.5, 2.5), (1.5, 0.5, 3.5, 2.5), 2 / 6),  # fractional coordinates
    ],
)
def test_iou_hand_worked(a, b, expected):
    assert iou(a, b) == pytest.approx(expected)
    assert iou(b, a) == pytest.approx(expected)


@pytest.mark.parametrize(
    "bad",
    [(5, 0, 4, 4), (0, 5, 4, 4), (0, 0, 4), (0, 0, 4, 4, 4), (0, np.nan, 4, 4), "0 0 4 4"],
)
def test_bad_box_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match=r"x_min, y_min, x_max, y_max"):
        iou(bad, (0, 0, 1, 1))


def test_bad_box_message_names_the_box():
    with pytest.raises(ValueError, match=r"box_b\[0\] = \(3.0, 0.0, 1.0, 1.0\) is not a box"):
        iou((0, 0, 1, 1), (3, 0, 1, 1))
    with pytest.raises(ValueError, match=r"boxes\[1\]"):
        non_max_suppression([[0, 0, 1, 1], [0, 0, 1, -1]], [0.5, 0.4])


def test_pairwise_iou_matches_iou():
    rng = np.random.default_rng(0)
    corners = rng.integers(0, 20, size=(12, 2))
    boxes = np.concatenate([corners, corners + rng.integers(0, 10, size=(12, 2))], axis=1)
    table = pairwise_iou(boxes[:5], boxes[5:])
    assert table.shape == (5, 7)
    for i in range(5):
        for j in range(7):
            assert table[i, j] == pytest.approx(iou(boxes[i], boxes[5 + j]))
    assert pairwise_iou(np.zeros((0, 4)), boxes).shape == (0, 12)


# ----------------------------------------------------------------------------- nms
def test_nms_hand_worked():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 20, 31, 30], [0, 0, 10, 10]]
    scores = [0.6, 0.9, 0.5, 0.8, 0.7]
    # best first: 1 (0.9) suppresses 0 and 4 (IoU 81/119 = 0.68); 3 (0.8) suppresses 2 (IoU 0.82)
    assert non_max_suppression(boxes, scores, 0.5).tolist() == [1, 3]
    # with a threshold above every partial overlap, only the identical pair (IoU 1) loses one box
    assert non_max_suppression(boxes, scores, 0.99).tolist() == [1, 3, 4, 2]


def test_nms_identical_disjoint_touching_and_empty():
    same = [[2, 2, 6, 6]] * 3
    assert non_max_suppression(same, [0.3, 0.3, 0.3], 0.5).tolist() == [0]  # ties: earlier index wins
    disjoint = [[0, 0, 2, 2], [5, 5, 7, 7], [9, 0, 12, 3]]
    assert non_max_suppression(disjoint, [0.1, 0.3, 0.2], 0.0).tolist() == [1, 2, 0]
    touching = [[0, 0, 4, 4], [4, 0, 8, 4]]
    assert non_max_suppression(touching, [0.9, 0.8], 0.0).tolist() == [0, 1]
    empty = non_max_suppression(np.zeros((0, 4)), np.zeros(0))
    assert empty.dtype == np.int64 and empty.shape == (0,)


def test_nms_threshold_is_strict():
    boxes = [[0, 0, 2, 2], [1, 0, 3, 2]]  # IoU exactly 1/3
    assert non_max_suppression(boxes, [0.9, 0.8], 1 / 3).tolist() == [0, 1]
    assert non_max_suppression(boxes, [0.9, 0.8], 0.33).tolist() == [0]


def _reference_nms(boxes, scores, threshold):
    remaining = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep = []
    while remaining:
        best = remaining.pop(0)
        keep.append(best)
        remaining = [i for i in remaining if iou(boxes[best], boxes[i]) <= threshold]
    return keep


def test_nms_agrees_with_a_plain_reference():
    rng = np.random.default_rng(3)
    for _ in range(20):
        corners = rng.integers(0, 30, size=(15, 2))
        boxes = np.concatenate([corners, corners + rng.integers(1, 15, size=(15, 2))], axis=1)
        scores = rng.random(15).round(2)
        threshold = float(rng.choice([0.1, 0.3, 0.5, 0.7]))
        assert non_max_suppression(boxes, scores, threshold).tolist() == _reference_nms(boxes, scores, threshold)


def test_nms_rejects_bad_arguments():
    with pytest.raises(ValueError, match="one score per box"):
        non_max_suppression([[0, 0, 1, 1]], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"iou_threshold must lie in \[0, 1\]"):
        non_max_suppression([[0, 0, 1, 1]], [0.1], 1.5)


# ----------------------------------------------------------------------------- precision, recall, AP
TRUTH = [[0, 0, 10, 10], [20, 0, 30, 10]]


def test_ap_hand_worked_all_point_interpolation():
    found = [[0, 0, 10, 10], [50, 50, 60, 60], [21, 0, 31, 10]]  # TP, FP, TP (IoU 0.82)
    precision, recall, scores = precision_recall_curve(TRUTH, found, [0.9, 0.8, 0.7])
    assert precision.tolist() == pytest.approx([1, 0.5, 2 / 3])
    assert recall.tolist() == pytest.approx([0.5, 0.5, 1.0])
    assert scores.tolist() == [0.9, 0.8, 0.7]
    # envelope: precision 1 up to recall 0.5, then 2/3 up to recall 1
    assert average_precision(TRUTH, found, [0.9, 0.8, 0.7]) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_ap_envelope_lifts_a_dip():
    truth = [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]]
    found = [[0, 0, 10, 10], [60, 60, 70, 70], [20, 0, 30, 10], [40, 0, 50, 10]]
    # precision 1, 1/2, 2/3, 3/4 at recall 1/3, 1/3, 2/3, 1: envelope 1, 3/4, 3/4
    expected = (1 / 3) * 1 + (1 / 3) * 0.75 + (1 / 3) * 0.75
    assert average_precision(truth, found, [0.9, 0.8, 0.7, 0.6]) == pytest.approx(expected)


def test_ap_perfect_none_and_all_wrong():
    assert average_precision(TRUTH, TRUTH, [0.9, 0.8]) == pytest.approx(1.0)
    assert average_precision(TRUTH, np.zeros((0, 4)), []) == 0.0  # no detections at all
    assert average_precision(TRUTH, [[40, 40, 50, 50]], [0.9]) == 0.0
    # touching a true box is not finding it
    assert average_precision(TRUTH, [[10, 0, 20, 10]], [0.9]) == 0.0


def test_ap_order_matters_and_duplicates_are_false_positives():
    one = [[0, 0, 10, 10]]
    assert average_precision(one, [[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8]) == pytest.approx(1.0)
    assert average_precision(one, [[50, 50, 60, 60], [0, 0, 10, 10]], [0.9, 0.8]) == pytest.approx(0.5)
    precision, recall, _ = precision_recall_curve(one, [[0, 0, 10, 10], [1, 0, 11, 10]], [0.9, 0.8])
    assert precision.tolist() == [1.0, 0.5] and recall.tolist() == [1.0, 1.0]


def test_ap_iou_threshold_is_inclusive():
    one = [[0, 0, 2, 2]]
    half = [[0, 0, 2, 1]]  # IoU exactly 0.5
    assert average_precision(one, half, [0.9], iou_threshold=0.5) == 1.0
    assert average_precision(one, half, [0.9], iou_threshold=0.51) == 0.0


def test_ap_over_images_and_labels():
    truth = [np.array([[0, 0, 10, 10]]), np.zeros((0, 4))]
    # the same box in the second image matches nothing there
    preds = [np.zeros((0, 4)), np.array([[0, 0, 10, 10]])]
    assert average_precision(truth, preds, [np.zeros(0), np.array([0.9])]) == 0.0
    right = average_precision([TRUTH], [TRUTH], [[0.9, 0.8]], true_labels=[[3, 7]], pred_labels=[[3, 7]])
    wrong = average_precision([TRUTH], [TRUTH], [[0.9, 0.8]], true_labels=[[3, 7]], pred_labels=[[3, 1]])
    assert right == 1.0 and wrong == pytest.approx(0.5)
    # a wrong label does not use up the true box: a later right one still counts
    late = average_precision([[[0, 0, 10, 10]]], [[[0, 0, 10, 10], [0, 0, 10, 10]]], [[0.9, 0.8]],
                             true_labels=[[5]], pred_labels=[[6, 5]])
    assert late == pytest.approx(0.5)


def test_ap_rejects_what_it_cannot_score():
    with pytest.raises(ValueError, match="at least one true box"):
        average_precision(np.zeros((0, 4)), [[0, 0, 1, 1]], [0.5])
    with pytest.raises(ValueError, match="one entry per image"):
        average_precision([TRUTH, TRUTH], [TRUTH], [[0.9, 0.8]])
    with pytest.raises(ValueError, match="both true_labels and pred_labels"):
        average_precision(TRUTH, TRUTH, [0.9, 0.8], true_labels=[1, 2])
    with pytest.raises(ValueError, match="2 predicted boxes but 1 scores"):
        average_precision(TRUTH, TRUTH, [0.9])
    with pytest.raises(ValueError, match="is not a box"):
        average_precision([[5, 0, 1, 1]], TRUTH, [0.9, 0.8])


# ----------------------------------------------------------------------------- canvases
def test_canvas_boxes_enclose_their_digits_tightly(mnist_test):
    x_test, y_test = mnist_test
    for seed in range(25):
        image, boxes, labels = make_canvas(x_test, y_test, n_digits=4, size=96, seed=seed)
        assert image.shape == (96, 96) and image.dtype == np.uint8
        assert boxes.shape == (4, 4) and labels.shape == (4,)
        inside = np.zeros(image.shape, dtype=bool)
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= 96 and 0 <= y0 < y1 <= 96
            crop = image[y0:y1, x0:x1]
            # tight: the first and last row and column of the box all hold ink
            assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()
            inside[y0:y1, x0:x1] = True
        assert not image[~inside].any(), "ink outside every box"
        assert np.all(pairwise_iou(boxes, boxes)[~np.eye(4, dtype=bool)] == 0), "boxes overlap"


def test_canvas_labels_name_the_pasted_digits(mnist_test):
    x_test, y_test = mnist_test
    image, boxes, labels = make_canvas(x_test, y_test, seed=7)
    for (x0, y0, x1, y1), label in zip(boxes, labels):
        crop = image[y0:y1, x0:x1]
        h, w = crop.shape
        matches = [
            k for k in np.flatnonzero(y_test == label)
            if detect._ink_box(x_test[k]) is not None
            and (lambda b: (b[3] - b[1], b[2] - b[0]) == (h, w)
                 and np.array_equal(x_test[k][b[1]:b[3], b[0]:b[2]], crop))(detect._ink_box(x_test[k]))
        ]
        assert matches, f"no test digit {label} has the ink found in box {(x0, y0, x1, y1)}"


def test_canvas_is_seeded(mnist_test):
    x_test, y_test = mnist_test
    a, b, c = make_canvas(x_test, y_test, seed=3), make_canvas(x_test, y_test, seed=3), make_canvas(x_test, y_test, seed=4)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.image, c.image)
    many = make_canvases(x_test, y_test, 3, first_seed=3)
    assert np.array_equal(many[0].image, a.image) and np.array_equal(many[1].image, c.image)


def test_canvas_rejects_bad_requests(mnist_test):
    x_test, y_test = mnist_test
    with pytest.raises(ValueError, match="could not place 20 digits"):
        make_canvas(x_test, y_test, n_digits=20, size=96)
    with pytest.raises(ValueError, match="uint8 MNIST digits"):
        make_canvas(x_test / 255, y_test)
    with pytest.raises(ValueError, match="size must be at least 28"):
        make_canvas(x_test, y_test, size=20)
    empty = make_canvas(x_test, y_test, n_digits=0)
    assert empty.boxes.shape == (0, 4) and not empty.image.any()


# ----------------------------------------------------------------------------- windows
@pytest.mark.parametrize("side, size, stride", [(96, 28, 4), (96, 28, 2), (96, 28, 5), (40, 28, 12), (28, 28, 3)])
def test_sliding_windows_count_and_content(side, size, stride):
    image = np.arange(side * side).reshape(side, side)
    windows, boxes = sliding_windows(image, size, stride)
    per_axis = (side - size) // stride + 1
    assert windows.shape == (per_axis**2, size, size) and boxes.shape == (per_axis**2, 4)
    for window, (x0, y0, x1, y1) in zip(windows[::7], boxes[::7]):
        assert np.array_equal(window, image[y0:y1, x0:x1])
    if per_axis > 1:
        assert boxes[1].tolist() == [stride, 0, stride + size, size]  # row by row: x moves first


def test_sliding_windows_rejects_bad_arguments():
    with pytest.raises(ValueError, match="does not fit"):
        sliding_windows(np.zeros((20, 20)), 28)
    with pytest.raises(ValueError, match="at least 1"):
        sliding_windows(np.zeros((40, 40)), 28, 0)
    with pytest.raises(ValueError, match="one greyscale image"):
        sliding_windows(np.zeros((2, 40, 40)), 28)


# ----------------------------------------------------------------------------- the detector
class SquareFinder:
    """A stand-in network: 'digit 3' for windows whose central 20x20 holds most of the ink."""

    def __init__(self, classes=11):
        self.calls = []
        self.classes = classes

    def predict(self, x, batch_size=None, verbose=0):
        self.calls.append(x.shape)
        total = x.sum(axis=(1, 2, 3))
        centre = x[:, 4:24, 4:24].sum(axis=(1, 2, 3))
        share = np.where(total > 0, centre / np.maximum(total, 1e-9), 0) * (total > 50)
        out = np.zeros((len(x), self.classes))
        out[:, 3] = share * 0.98
        out[:, 0] = 0.02 * share
        if self.classes == 11:
            out[:, BACKGROUND] = 1 - share
        else:  # an unsure ten-class network spreads the rest evenly
            out += (1 - share)[:, None] / 10
        return out


def _square_canvas(corner=(40, 24)):
    image = np.zeros((96, 96), dtype=np.uint8)
    x, y = corner
    image[y + 6:y + 22, x + 8:x + 20] = 255  # a 12 wide, 16 tall blob in a 28x28 frame
    return image, np.array([[x + 8, y + 6, x + 20, y + 22]])


def test_detector_batches_every_window_into_one_predict_call():
    model = SquareFinder()
    canvases = np.stack([_square_canvas()[0]] * 3)
    results = detect_digits(model, canvases, stride=4)
    assert len(model.calls) == 1, "one predict call for all windows of all canvases"
    assert model.calls[0] == (3 * 18 * 18, 28, 28, 1)
    assert len(results) == 3
    single = detect_digits(model, canvases[0], stride=2)
    assert len(model.calls) == 2 and model.calls[1][0] == 35 * 35
    assert isinstance(single, detect.Detections)


def test_detector_finds_tightens_and_suppresses():
    image, truth = _square_canvas()
    raw = detect_digits(SquareFinder(), image, threshold=0.9, nms=False, tighten=False)
    assert len(raw.boxes) > 1 and np.all(raw.labels == 3)
    found = detect_digits(SquareFinder(), image, threshold=0.9)
    assert len(found.boxes) == 1 and found.labels.tolist() == [3]
    assert found.boxes[0].tolist() == truth[0].tolist()  # tightened to the ink
    assert average_precision(truth, found.boxes, found.scores) == 1.0


def test_detector_threshold_alone_for_a_ten_class_model():
    image, truth = _square_canvas()
    low = detect_digits(SquareFinder(classes=10), image, threshold=0.0, nms=False)
    high = detect_digits(SquareFinder(classes=10), image, threshold=0.9, nms=False)
    assert len(low.boxes) == 18 * 18  # every window is "some digit" without a threshold
    assert 0 < len(high.boxes) < len(low.boxes)
    assert set(high.labels.tolist()) == {3}


def test_detector_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(n, 10\) or \(n, 11\)"):
        detect_digits(type("M", (), {"predict": lambda self, x, **k: np.zeros((len(x), 3))})(), np.zeros((96, 96), np.uint8))
    with pytest.raises(ValueError, match="threshold must lie"):
        detect_digits(SquareFinder(), np.zeros((96, 96), np.uint8), threshold=2)
    with pytest.raises(ValueError, match=r"pixels in \[0, 1\]"):
        detect_digits(SquareFinder(), np.full((96, 96), 3.0))
    with pytest.raises(ValueError, match="one image"):
        detect_digits(SquareFinder(), np.zeros(5))


# ----------------------------------------------------------------------------- background data
def test_window_dataset_labels_and_balance(mnist_test):
    x_test, y_test = mnist_test
    x, y = make_window_dataset(x_test, y_test, n_canvases=20, backgrounds_per_canvas=5, seed=1)
    assert x.dtype == np.uint8 and x.shape == (len(y), 28, 28)
    assert int((y < 10).sum()) == 20 * 4 and int((y == BACKGROUND).sum()) == 20 * 5
    digits = x[y < 10]
    # a digit window is the digit's frame moved at most 2 pixels: its ink is near the centre
    centred = [detect._ink_box(d) for d in digits]
    assert all(b[0] >= 0 and b[2] <= 28 for b in centred)
    again = make_window_dataset(x_test, y_test, n_canvases=20, backgrounds_per_canvas=5, seed=1)
    assert np.array_equal(again[0], x) and np.array_equal(again[1], y)


# ----------------------------------------------------------------------------- networks (Keras)
@pytest.fixture(scope="module")
def keras_models():
    keras = pytest.importorskip("keras")
    from cnnteach.models import blog_model, lesson_model

    keras.utils.set_random_seed(0)
    return lesson_model(), blog_model()


def test_fully_convolutional_gives_the_sliding_window_scores(keras_models, mnist_test):
    x_test, y_test = mnist_test
    canvas = make_canvas(x_test, y_test, seed=0).image
    windows, _ = sliding_windows(canvas, 28, 4)
    for model in keras_models:
        fcn = detect.fully_convolutional(model)
        scores = fcn.predict(canvas[None, :, :, None] / 255.0, verbose=0)
        assert scores.shape == (1, 18, 18, 10)
        expected = model.predict(windows[..., None] / 255.0, verbose=0)
        np.testing.assert_allclose(scores.reshape(-1, 10), expected, atol=1e-5)
    one_pass = detect_digits(fcn, canvas, one_pass=True, threshold=0.0, nms=False)
    windowed = detect_digits(keras_models[1], canvas, threshold=0.0, nms=False)
    np.testing.assert_allclose(one_pass.scores, windowed.scores, atol=1e-5)
    with pytest.raises(ValueError, match="one score map per canvas"):
        detect_digits(fcn, canvas, one_pass=True, stride=2)


def test_fully_convolutional_refuses_same_padding():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3, padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="only 'valid' padding"):
        detect.fully_convolutional(model)


def test_background_model_starts_from_the_base_ranking(keras_models, mnist_test):
    x_test, _ = mnist_test
    base = keras_models[0]
    extended = models.background_model(base)
    assert extended.output.shape[-1] == 11
    x = x_test[:20, :, :, None] / 255.0
    before = base.predict(x, verbose=0)
    after = extended.predict(x, verbose=0)
    # the new unit starts with zero weights: the ten digits keep their relative probabilities
    np.testing.assert_allclose(after[:, :10] / after[:, :10].sum(axis=1, keepdims=True), before, atol=1e-5)
    with pytest.raises(ValueError, match="10 units"):
        models.background_model(extended)


def test_train_background_classifier_checks_its_data():
    pytest.importorskip("keras")
    with pytest.raises(ValueError, match="uint8 windows"):
        detect.train_background_classifier(np.zeros((4, 28, 28)), np.zeros(4, int))
    with pytest.raises(ValueError, match="label 0-10"):
        detect.train_background_classifier(np.zeros((4, 28, 28), np.uint8), np.full(4, 11))


def test_score_detections_counts():
    truth = detect.Canvas(np.zeros((96, 96), np.uint8), np.array([[0, 0, 10, 10], [20, 0, 30, 10]]), np.array([1, 2]))
    found = detect.Detections(np.array([[0, 0, 10, 10], [20, 0, 30, 10], [50, 50, 60, 60]]),
                              np.array([0.9, 0.8, 0.7]), np.array([1, 3, 2]))
    score = detect.score_detections([truth], [found])
    assert (score.found, score.detections, score.digits) == (1, 3, 2)  # label 3 on a 2 is wrong
    assert score.precision == pytest.approx(1 / 3) and score.recall == 0.5 and score.ap == pytest.approx(0.5)
    nothing = detect.score_detections([truth], [detect.Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))])
    assert nothing.ap == 0.0 and nothing.precision == 0.0 and nothing.recall == 0.0
    with pytest.raises(ValueError, match="one Detections per canvas"):
        detect.score_detections([truth, truth], [found])


def test_fully_convolutional_refuses_same_pooling():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3), keras.layers.MaxPooling2D(2, padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="only 'valid' padding"):
        detect.fully_convolutional(model)


@pytest.mark.slow
def test_background_detector_reaches_ap_09_on_100_test_canvases(mnist_dir, tmp_path, monkeypatch):
    """Lesson 10's claim: fine-tuned with a background class, AP@0.5 >= 0.9 on 100 test canvases."""
    pytest.importorskip("keras")
    import os

    from cnnteach.data import load_mnist
    from cnnteach.storage import load_trained_model

    if not os.environ.get("CNNTEACH_MODELS"):  # never write into the user's own model folder
        monkeypatch.setenv("CNNTEACH_MODELS", str(tmp_path))
    base = load_trained_model(train_if_missing=True)  # trains the lesson recipe (seconds) when none is saved
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_dir)
    x, y = make_window_dataset(x_train, y_train, n_canvases=2000, seed=0)
    model = detect.train_background_classifier(x, y, base_model=base, epochs=1, seed=0)
    canvases = make_canvases(x_test, y_test, 100, first_seed=1000)
    score = detect.score_detections(canvases, detect_digits(model, canvases))
    assert score.ap >= 0.9, str(score)
    assert score.precision >= 0.85 and score.recall >= 0.85, str(score)


# ----------------------------------------------------------------------------- canvases with scale
def _make_canvas_before_scale(images, labels, *, n_digits=4, size=96, seed=0, gap=0):
    """make_canvas as it was before ``scale`` existed (copied verbatim), the reference for the default."""
    rng = np.random.default_rng(seed)
    corners = detect._place(rng, int(n_digits), int(size), int(gap)) if n_digits else []
    picks = rng.choice(len(images), size=len(corners), replace=False) if corners else np.zeros(0, int)
    image = np.zeros((size, size), dtype=np.uint8)
    boxes = []
    for (x, y), k in zip(corners, picks):
        digit = images[k]
        image[y:y + 28, x:x + 28] = np.maximum(image[y:y + 28, x:x + 28], digit)
        x0, y0, x1, y1 = detect._ink_box(digit) or (0, 0, 0, 0)
        boxes.append((x + x0, y + y0, x + x1, y + y1))
    return image, np.asarray(boxes, dtype=np.int64).reshape(-1, 4), np.asarray(labels)[picks].astype(np.int64)


@pytest.mark.parametrize("seed, kwargs", [(0, {}), (1, {}), (7, dict(n_digits=3, size=128, gap=2)), (1000, {})])
def test_default_canvas_is_unchanged_by_the_scale_option(mnist_test, seed, kwargs):
    x_test, y_test = mnist_test
    new = make_canvas(x_test, y_test, seed=seed, **kwargs)
    old = _make_canvas_before_scale(x_test, y_test, seed=seed, **kwargs)
    for a, b in zip(new, old):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("seed", range(6))
def test_scaled_canvas_boxes_are_tight_separate_and_hold_all_ink(mnist_test, seed):
    x_test, y_test = mnist_test
    image, boxes, labels = make_canvas(x_test, y_test, n_digits=4, size=96, seed=seed, scale=(0.6, 2.0))
    assert image.shape == (96, 96) and image.dtype == np.uint8 and boxes.shape == (4, 4)
    covered = np.zeros(image.shape, bool)
    for x0, y0, x1, y1 in boxes:
        crop = image[y0:y1, x0:x1]
        assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()  # tight
        covered[y0:y1, x0:x1] = True
        assert 8 <= y1 - y0 <= 44  # MNIST ink is at most 20 pixels tall, scaled by 0.6 to 2.0
    assert not image[~covered].any()  # no ink outside the boxes
    overlaps = pairwise_iou(boxes, boxes)
    assert np.allclose(overlaps[~np.eye(4, dtype=bool)], 0)  # no two digits share a pixel
    assert set(labels.tolist()) <= set(range(10))


def test_scaled_canvas_sizes_follow_the_scale(mnist_test):
    x_test, y_test = mnist_test
    small = make_canvases(x_test, y_test, 20, n_digits=3, scale=(0.6, 0.6))
    large = make_canvases(x_test, y_test, 20, n_digits=2, scale=(2.0, 2.0))
    tall_small = np.concatenate([c.boxes[:, 3] - c.boxes[:, 1] for c in small])
    tall_large = np.concatenate([c.boxes[:, 3] - c.boxes[:, 1] for c in large])
    assert tall_small.max() <= 14 and tall_large.min() >= 30  # 20-pixel-tall ink: 12 and 40 pixels


def test_scaled_canvas_is_seeded(mnist_test):
    x_test, y_test = mnist_test
    a = make_canvas(x_test, y_test, seed=5, scale=(0.6, 2.0))
    b = make_canvas(x_test, y_test, seed=5, scale=(0.6, 2.0))
    c = make_canvas(x_test, y_test, seed=6, scale=(0.6, 2.0))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.image, c.image)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_digits=2.5), "n_digits must be a whole number"),
        (dict(n_digits=-1), "n_digits must be at least 0"),
        (dict(n_digits="4"), "n_digits must be a whole number"),
        (dict(size=10**9), "size must be at most"),
        (dict(size=96.5), "size must be a whole number"),
        (dict(scale=(0, 1)), "0 < low <= high"),
        (dict(scale=(2, 1)), "0 < low <= high"),
        (dict(scale=1.5), "scale must be two numbers"),
        (dict(scale=(0.5, float("nan"))), "0 < low <= high"),
        (dict(n_digits=8, scale=(2.0, 2.0)), "could not place 8 digits"),
    ],
)
def test_canvas_arguments_are_checked(mnist_test, kwargs, message):
    x_test, y_test = mnist_test
    with pytest.raises(ValueError, match=message):
        make_canvas(x_test, y_test, **kwargs)


def test_make_canvases_rejects_a_bad_count(mnist_test):
    x_test, y_test = mnist_test
    with pytest.raises(ValueError, match="n must be at least 0"):
        make_canvases(x_test, y_test, -1)
    with pytest.raises(ValueError, match="n must be a whole number"):
        make_canvases(x_test, y_test, 2.5)
    assert make_canvases(x_test, y_test, 0) == []
