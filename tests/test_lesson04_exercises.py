"""Exercises of the lesson "How a network learns": right answers written naturally pass, the
mistakes beginners make are refused with a hint that teaches, nothing a learner gives raises, and
the solutions stored in the notebook pass their own checkers."""

import json
import math
from pathlib import Path

import lesson_exercises
import numpy as np
import pytest
from lesson_exercises import refused

from cnnteach.exercises import check, list_exercises, solution
from cnnteach.student import strip_solutions

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_how_a_network_learns.ipynb"
IDS = [
    "04.dense-params",
    "04.diverging-rate",
    "04.gradient-by-hand",
    "04.predict-grad-shape",
    "04.sgd-step",
]
RIGHT_GRADIENT = (0.5 * (1 / 3) + 2.0 * (1 / 3 - 1)) / 2  # -0.58333...


def lesson_namespace() -> dict:
    """np plus the helper functions the lesson defines, taken from the lesson itself."""
    namespace = {"np": np}
    for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith(("def log_softmax", "def gradients")):
            exec(compile(source, str(NOTEBOOK), "exec"), namespace)  # noqa: S102 (the lesson's own cells)
    assert {"log_softmax", "gradients"} <= set(namespace)
    return namespace


def exercise_cells() -> dict:
    return lesson_exercises.exercise_cells(NOTEBOOK)


# ----------------------------------------------------------------------------- the notebook
def test_the_notebook_checks_exactly_these_exercises():
    assert sorted(exercise_cells()) == IDS
    assert set(IDS) <= set(list_exercises("04"))


@pytest.mark.parametrize("exercise_id", IDS)
def test_stored_solution_passes_its_own_checker(exercise_id):
    source = exercise_cells()[exercise_id].source
    feedback = lesson_exercises.run_cell(source, {"np": np}, NOTEBOOK)  # self-contained
    assert len(feedback) == 1 and feedback[0], feedback
    shown = solution(exercise_id)
    assert shown.prompt and shown.explanation
    assert shown.code.strip().splitlines()[0].strip() in source


@pytest.mark.parametrize("exercise_id", IDS)
def test_student_placeholder_runs_and_is_not_attempted(exercise_id):
    stripped = strip_solutions(exercise_cells()[exercise_id].source)
    feedback = lesson_exercises.run_cell(stripped, {"np": np}, NOTEBOOK)
    assert len(feedback) == 1 and feedback[0].status == "not attempted", feedback


# ----------------------------------------------------------------------------- right answers
def lesson_gradients(W, b, images, labels):
    return lesson_namespace()["gradients"](W, b, images, labels)


def sgd_with_lesson_gradients(W, b, images, labels, learning_rate):
    grad_W, grad_b = lesson_gradients(W, b, images, labels)
    return W - learning_rate * grad_W, b - learning_rate * grad_b


def sgd_float32(W, b, images, labels, learning_rate):
    """Right, computed in float32 throughout (as Keras would): float32 rounding is accepted."""
    W, b, images = W.astype("float32"), b.astype("float32"), images.astype("float32")
    scores = images @ W + b
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1  # changes only its own array p
    return [
        W - np.float32(learning_rate) * images.T @ p / len(images),
        b - np.float32(learning_rate) * p.mean(axis=0),
    ]


def sgd_in_place(W, b, images, labels, learning_rate):
    """Right numbers, but the caller's W and b are overwritten."""
    grad_W, grad_b = lesson_gradients(W, b, images, labels)
    W -= learning_rate * grad_W
    b -= learning_rate * grad_b
    return W, b


def sgd_float32_in_place(W, b, images, labels, learning_rate):
    result = sgd_in_place(W, b, images, labels, learning_rate)
    return [a.astype("float32") for a in result]


def sgd_with_tensorflow(W, b, images, labels, learning_rate):
    import tensorflow as tf

    W_var, b_var = tf.Variable(W), tf.Variable(b)
    with tf.GradientTape() as tape:
        logits = tf.matmul(images, W_var) + b_var
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    grad_W, grad_b = tape.gradient(loss, [W_var, b_var])
    return W - learning_rate * grad_W.numpy(), b - learning_rate * grad_b.numpy()


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("04.dense-params", 50890),
        ("04.dense-params", (784 * 64 + 64) + (64 * 10 + 10)),
        ("04.dense-params", 785 * 64 + 65 * 10),
        ("04.dense-params", 50890.0),
        ("04.dense-params", np.int64(50890)),
        ("04.predict-grad-shape", (784, 10)),
        ("04.predict-grad-shape", [784, 10]),
        ("04.predict-grad-shape", (np.int64(784), 10)),
        ("04.gradient-by-hand", RIGHT_GRADIENT),
        ("04.gradient-by-hand", -0.583),
        ("04.gradient-by-hand", -0.5833),
        ("04.gradient-by-hand", np.float32(RIGHT_GRADIENT)),
        ("04.gradient-by-hand", np.array(RIGHT_GRADIENT)),
        ("04.gradient-by-hand", -7 / 12),
        ("04.diverging-rate", 0.2),
        ("04.diverging-rate", 2 / 10),
        ("04.diverging-rate", 1 / 5),
        ("04.diverging-rate", 0.2000001),
        ("04.diverging-rate", np.float64(0.2)),
        ("04.sgd-step", sgd_with_lesson_gradients),
        ("04.sgd-step", sgd_float32),
        ("04.predict-grad-shape", np.array([784, 10])),
        ("04.predict-grad-shape", "tf.TensorShape"),
        ("04.sgd-step", sgd_with_tensorflow),
    ],
)
def test_right_answers_are_accepted(exercise_id, answer):
    if isinstance(answer, str) and answer == "tf.TensorShape":
        import tensorflow as tf

        answer = tf.TensorShape([784, 10])
    feedback = check(exercise_id, answer)
    assert feedback, feedback


# ----------------------------------------------------------------------------- wrong answers
def raises(*args):
    raise RuntimeError("boom")


JUNK = [
    0,
    -1,
    7,
    3.5,
    float("nan"),
    float("inf"),
    True,
    1 + 2j,
    "50890",
    "0.2",
    "(784, 10)",
    "",
    [1, 2, 3],
    [0.2],
    (10, 784),
    range(10),
    {0.2},
    {"rate": 0.2},
    np.zeros(10),
    np.zeros((784, 10)),
    np.array([]),
    np.array(["a"] * 3),
    object(),
    b"\x07",
    lambda *args: 0,
    lambda *args: "x",
    lambda *args: args,
    lambda W, *rest: W,
    raises,
    print,
    len,
]


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("answer", JUNK, ids=lambda a: type(a).__name__)
def test_junk_is_refused_without_an_exception(exercise_id, answer):
    refused(exercise_id, answer)


@pytest.mark.parametrize("exercise_id", IDS)
def test_placeholders_are_not_attempted(exercise_id):
    assert check(exercise_id, ...).status == "not attempted"
    assert check(exercise_id, None).status == "not attempted"


@pytest.mark.parametrize(
    "answer, hint",
    [
        (784 * 64 + 64 * 10, "not the biases"),
        (784 * 64 + 64 * 10 + 10, "missing its biases"),
        (784 * 64 + 64 + 64 * 10, "missing its biases"),
        (784 * 64 + 64, "first layer only"),
        (64 * 10 + 10, "second layer only"),
        (784 * 64 + 64 + 784 * 10 + 10, "reads the 64 outputs"),
        (784 * 10 + 10, "hidden layer of 64"),
        (50890 + 64, "no parameters"),
        (784 + 64 + 10, "(inputs x neurons)"),
        (50890.5, "whole number"),
        ("50890", "remove the quotes"),
    ],
)
def test_dense_params_hints(answer, hint):
    assert hint in refused("04.dense-params", answer).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((10, 784), "Rows first"),
        ((32, 10), "p - y_onehot"),
        ((32, 784), "shape of the images"),
        ((784, 32), "shape of images.T"),
        ((10,), "bias gradient"),
        ((784,), "Give 2 numbers"),
        ((784, 784), "(a, c)"),
        (np.zeros((784, 10)), "not its shape"),
        (np.zeros((10000, 784)), "X_val or y_val"),
        ([[784, 10]], "list inside a list"),
        (7840, "one number"),
    ],
)
def test_predict_grad_shape_hints(answer, hint):
    assert hint in refused("04.predict-grad-shape", answer).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (-0.58, "at least 3 decimals"),
        (-0.6, "at least 3 decimals"),
        (-RIGHT_GRADIENT, "sign is flipped"),
        (0.583, "sign is flipped"),
        (2 * RIGHT_GRADIENT, "divide by n = 2"),
        (-1.167, "divide by n = 2"),
        (2 * RIGHT_GRADIENT / 3, "number of classes"),
        (RIGHT_GRADIENT / 2, "divided by 4"),
        (0.1, "pixel 0"),
        (0.1, "second column"),
        ((0.5 * (1 / 3) + 2.0 * (1 / 3)) / 2, "left out y"),
        ((0.5 * (0.33 - 0) + 2.0 * (0.33 - 1)) / 2, "keep p = 1/3 exact"),
        (-0.5875, "keep p = 1/3 exact"),
        (-0.59, "keep p = 1/3 exact"),
        (np.full((2, 3), RIGHT_GRADIENT), "take [1, 2]"),
        (np.zeros((10000, 784)), "X_val or y_val"),
        ((0.5 * (-2 / 3) + 2.0 * (1 / 3)) / 2, "class 0"),
        ((0.5 * (1 / 3) + 2.0 * (1 / 3)) / 2, "class 1"),
        (1 / 3, "For each image"),
        (-0.7, "For each image"),
    ],
)
def test_gradient_by_hand_hints(answer, hint):
    assert hint in refused("04.gradient-by-hand", answer).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (0.1, "lands exactly on the minimum"),
        (0.4, "not the 5 in the loss"),
        (2.0, "already -1.5"),
        (1.0, "already -1.5"),
        (0.15, "still shrinks"),
        (0.25, "asks for the boundary"),
        (0.05, "shrinks smoothly"),
        (-0.2, "positive"),
        (0.0, "positive"),
        (5.0, "solve 1 - 10 * rate = -1"),
    ],
)
def test_diverging_rate_hints(answer, hint):
    assert hint in refused("04.diverging-rate", answer).message


# ----------------------------------------------------------------------------- sgd-step mistakes
def _p_minus_y(W, b, images, labels):
    scores = images @ W + b
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True) - np.eye(W.shape[1])[labels]


def uphill(W, b, images, labels, learning_rate):
    d = _p_minus_y(W, b, images, labels)
    return W + learning_rate * images.T @ d / len(images), b + learning_rate * d.mean(axis=0)


def summed(W, b, images, labels, learning_rate):
    d = _p_minus_y(W, b, images, labels)
    return W - learning_rate * images.T @ d, b - learning_rate * d.sum(axis=0)


def no_rate(W, b, images, labels, learning_rate):
    d = _p_minus_y(W, b, images, labels)
    return W - images.T @ d / len(images), b - d.mean(axis=0)


def by_classes(W, b, images, labels, learning_rate):
    d = _p_minus_y(W, b, images, labels)
    return W - learning_rate * images.T @ d / 10, b - learning_rate * d.mean(axis=0)


def by_pixels(W, b, images, labels, learning_rate):
    d = _p_minus_y(W, b, images, labels)
    return W - learning_rate * images.T @ d / images.shape[1], b - learning_rate * d.mean(axis=0)


def bias_forgotten(W, b, images, labels, learning_rate):
    d = _p_minus_y(W, b, images, labels)
    return W - learning_rate * images.T @ d / len(images), b


def bias_uphill(W, b, images, labels, learning_rate):
    d = _p_minus_y(W, b, images, labels)
    return W - learning_rate * images.T @ d / len(images), b + learning_rate * d.mean(axis=0)


def bias_summed(W, b, images, labels, learning_rate):
    d = _p_minus_y(W, b, images, labels)
    return W - learning_rate * images.T @ d / len(images), b - learning_rate * d.sum(axis=0)


def y_minus_p_only_label(
    W, b, images, labels, learning_rate
):  # forgot the softmax: uses scores, not p
    scores = images @ W + b
    d = scores - np.eye(W.shape[1])[labels]
    return W - learning_rate * images.T @ d / len(images), b - learning_rate * d.mean(axis=0)


def no_step(W, b, images, labels, learning_rate):
    return W.copy(), b.copy()


def only_W(W, b, images, labels, learning_rate):
    return sgd_with_lesson_gradients(W, b, images, labels, learning_rate)[0]


def three_things(W, b, images, labels, learning_rate):
    return (*sgd_with_lesson_gradients(W, b, images, labels, learning_rate), 0.0)


def transposed(W, b, images, labels, learning_rate):
    new_W, new_b = sgd_with_lesson_gradients(W, b, images, labels, learning_rate)
    return new_W.T, new_b


def changes_images(W, b, images, labels, learning_rate):
    result = sgd_with_lesson_gradients(W, b, images, labels, learning_rate)
    images *= 2
    return result


def hardcoded_784(W, b, images, labels, learning_rate):
    grad_W, grad_b = lesson_gradients(W, b, images, labels)
    padded = np.zeros((784, 10))
    padded[: W.shape[0]] = grad_W
    return W - learning_rate * padded, b - learning_rate * grad_b  # right for 784 pixels only


def unknown_name(W, b, images, labels, learning_rate):
    return W - learning_rate * gradient(W, b, images, labels)[0], b  # noqa: F821 (the learner's typo)


def placeholder(W, b, images, labels, learning_rate): ...


def forgot_return(W, b, images, labels, learning_rate):
    grad_W, grad_b = lesson_gradients(W, b, images, labels)
    new_W, new_b = W - learning_rate * grad_W, b - learning_rate * grad_b  # noqa: F841 (the mistake)


def b_first(W, b, images, labels, learning_rate):
    new_W, new_b = sgd_with_lesson_gradients(W, b, images, labels, learning_rate)
    return new_b, new_W


def returns_gradients(W, b, images, labels, learning_rate):
    return lesson_gradients(W, b, images, labels)


def returns_step(W, b, images, labels, learning_rate):
    grad_W, grad_b = lesson_gradients(W, b, images, labels)
    return -learning_rate * grad_W, -learning_rate * grad_b


def two_steps(W, b, images, labels, learning_rate):
    once = sgd_with_lesson_gradients(W, b, images, labels, learning_rate)
    return sgd_with_lesson_gradients(*once, images, labels, learning_rate)


def divides_by_rate(W, b, images, labels, learning_rate):
    grad_W, grad_b = lesson_gradients(W, b, images, labels)
    return W - grad_W / learning_rate, b - grad_b / learning_rate


def slightly_off(W, b, images, labels, learning_rate):
    new_W, new_b = sgd_with_lesson_gradients(W, b, images, labels, learning_rate)
    return new_W + 1e-3, new_b


@pytest.mark.parametrize(
    "function, hint",
    [
        (uphill, "stepped uphill"),
        (summed, "len(images) times too big"),
        (no_rate, "Multiply the gradient by learning_rate"),
        (by_classes, "not by the number of classes"),
        (by_pixels, "not by the number of pixels"),
        (bias_forgotten, "update the bias too"),
        (bias_uphill, "b stepped uphill"),
        (bias_summed, "mean of p - y_onehot"),
        (y_minus_p_only_label, "apply softmax"),
        (forgot_return, "end it with `return new_W, new_b`"),
        (sgd_in_place, "changed the W or b it was given"),
        (sgd_float32_in_place, "changed the W or b it was given"),
        (b_first, "new W first"),
        (returns_gradients, "You returned the gradients"),
        (returns_step, "step alone"),
        (two_steps, "two steps"),
        (divides_by_rate, "don't divide by it"),
        (slightly_off, "images.T @ (p - y_onehot) / len(images)"),
        (no_step, "did not change"),
        (only_W, "Return two things"),
        (three_things, "Return two things"),
        (transposed, "must have W's shape"),
        (changes_images, "changed the images"),
        (hardcoded_784, "ValueError"),
        (
            unknown_name,
            "Your function raised NameError: name 'gradient' is not defined on input unknown_name(",
        ),
        (raises, "Your function raised RuntimeError: boom on input raises("),
        (lambda W, b: (W, b), "Your function raised TypeError"),
        (50890, "Give the function itself"),
    ],
)
def test_sgd_step_hints(function, hint):
    assert hint in refused("04.sgd-step", function).message


def test_sgd_step_placeholder_function_is_not_attempted():
    assert check("04.sgd-step", placeholder).status == "not attempted"
    assert "replace the ..." in check("04.sgd-step", placeholder).message
    assert check("04.sgd-step", forgot_return).status == "not yet"


def test_sgd_step_leaves_the_callers_arrays_alone_and_the_prompt_says_any_size():
    W, b = np.zeros((5, 10)), np.zeros(10)
    images, labels = np.ones((3, 5)), np.array([1, 2, 3])
    new_W, _ = sgd_with_lesson_gradients(W, b, images, labels, 0.5)
    assert not np.array_equal(new_W, W) and not W.any()  # the right answer leaves W as it was
    prompt = solution("04.sgd-step").prompt
    assert "any number of pixels" in prompt and "unchanged" in prompt


def test_gradient_by_hand_prompt_is_in_the_cell_before_and_counts_from_zero():
    assert exercise_cells()["04.gradient-by-hand"].markdown.startswith("**Exercise 3.**")
    assert "second column of `X_tiny`" in solution("04.gradient-by-hand").prompt


def test_hints_never_blame_a_right_value_for_its_rounding():
    for value in (-0.583, -0.5833, -0.58333):
        assert check("04.gradient-by-hand", value)
    message = refused("04.gradient-by-hand", -0.58).message
    assert message.startswith("Right idea")
    assert math.isclose(RIGHT_GRADIENT, -7 / 12)
