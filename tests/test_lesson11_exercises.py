"""Lesson 11's exercises: right answers pass, wrong answers of every kind are refused without an
exception, and the solutions stored in the notebook pass their own checkers."""

from pathlib import Path

import lesson_exercises
import numpy as np
import pytest
from lesson_exercises import refused

from cnnteach.arithmetic import receptive_field
from cnnteach.exercises import check, list_exercises, solution
from cnnteach.student import strip_solutions

LESSON = "11"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "11_modern_building_blocks.ipynb"
IDS = [
    "11.dropout-kept-value",
    "11.receptive-field-function",
    "11.residual-params",
    "11.six-nine",
    "11.stack-receptive-field",
]
NAMESPACE = {"np": np}


def exercise_cells() -> dict:
    return lesson_exercises.exercise_cells(NOTEBOOK)


def run_cell(source: str, namespace: dict) -> list:
    return lesson_exercises.run_cell(source, namespace, NOTEBOOK)


# ----------------------------------------------------------------------------- the notebook
def test_the_notebook_checks_exactly_the_registered_exercises():
    assert sorted(exercise_cells()) == list_exercises(LESSON) == IDS


@pytest.mark.parametrize("exercise_id", IDS)
def test_stored_solution_passes_its_own_checker(exercise_id):
    shown = solution(exercise_id)
    assert shown.code.strip() and shown.prompt
    source = exercise_cells()[exercise_id].source
    assert shown.code.strip().splitlines()[0].strip() in source
    feedback = run_cell(source, NAMESPACE)
    assert len(feedback) == 1 and feedback[0], feedback


@pytest.mark.parametrize("exercise_id", IDS)
def test_student_placeholder_runs_and_is_not_attempted(exercise_id):
    feedback = run_cell(strip_solutions(exercise_cells()[exercise_id].source), NAMESPACE)
    assert len(feedback) == 1 and feedback[0].status == "not attempted", feedback


# ----------------------------------------------------------------------------- right answers
def grow_loop(pairs):
    size, jump = 1, 1
    for kernel, stride in pairs:
        size += (kernel - 1) * jump
        jump *= stride
    return [size, jump]


def grow_numpy(pairs):
    if not pairs:
        return np.array([1, 1])
    k, s = np.asarray(pairs).T
    jumps = np.concatenate([[1], np.cumprod(s)])
    return np.array([1 + ((k - 1) * jumps[:-1]).sum(), jumps[-1]])


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("11.stack-receptive-field", 10),
        ("11.stack-receptive-field", 10.0),
        ("11.stack-receptive-field", np.int64(10)),
        ("11.stack-receptive-field", (10, 2)),
        ("11.stack-receptive-field", [10, 2]),
        ("11.stack-receptive-field", receptive_field([(3, 1), (3, 1), (2, 2), (3, 1)])),
        ("11.receptive-field-function", receptive_field),
        ("11.receptive-field-function", grow_loop),
        ("11.receptive-field-function", grow_numpy),
        ("11.residual-params", 14432),
        ("11.residual-params", 14432.0),
        ("11.residual-params", np.int32(14432)),
        ("11.dropout-kept-value", 3.0 / 0.7),
        ("11.dropout-kept-value", 4.286),
        ("11.dropout-kept-value", 4.285),
        ("11.dropout-kept-value", np.float32(4.2857)),
        ("11.six-nine", "c"),
        ("11.six-nine", "C"),
        ("11.six-nine", " (c) "),
        ("11.six-nine", "c)"),
        ("11.six-nine", "RandomRotation(0.5)"),
        # written naturally by a learner (the learner review): all right
        ("11.stack-receptive-field", np.array(10)),
        ("11.stack-receptive-field", np.array([10, 2])),
        ("11.dropout-kept-value", np.array(3 / 0.7)),
        ("11.residual-params", np.array(14432)),
        ("11.six-nine", "c."),
        ("11.six-nine", "'c'"),
        ("11.six-nine", "option c"),
        ("11.six-nine", "(c) RandomRotation(0.5)"),
        ("11.six-nine", "layers.RandomRotation(0.5)"),
    ],
)
def test_right_answers_are_accepted(exercise_id, answer):
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
    "10",
    "14432",
    "",
    "e",
    "a b",
    [1, 2, 3],
    [10],
    [[10, 2]],
    (2, 10, 1),
    range(10),
    {10},
    {"size": 10},
    np.zeros(2),
    np.array([]),
    np.array(["a", "b"]),
    object(),
    b"c",
    lambda *args: 0,
    lambda *args: "x",
    lambda *args: args,
    lambda pairs: (0, 0),
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
        (8, "the jump is 2"),
        (11, "counts the overlap"),
        (11, "before growing the size"),
        ([10], "as a pair"),
        ((10, 2, 1), "as a pair"),
        (np.zeros((60000, 28, 28)), "shape (60000, 28, 28)"),
        (7, "The pooling layer counts too"),
        ((10, 1), "product of the strides"),
        ((2, 10), "in that order"),
        (12, "Start from size 1"),
        (10.5, "whole number"),
        ("10", "remove the quotes"),
    ],
)
def test_stack_receptive_field_hints(answer, hint):
    assert hint in refused("11.stack-receptive-field", answer).message


def _no_jump(pairs):
    return 1 + sum(k - 1 for k, _ in pairs), 1


def _from_zero(pairs):
    size, jump = receptive_field(pairs)
    return size - 1, jump


def _jump_first(pairs):
    size, jump = 1, 1
    for k, s in pairs:
        jump *= s
        size += (k - 1) * jump
    return size, jump


def _no_jump_with_jump(pairs):
    """The learner's version: r += k - 1 (no jump), with the jump itself right."""
    size, jump = 1, 1
    for k, s in pairs:
        size += k - 1
        jump *= s
    return size, jump


def _jump_added(pairs):
    """j += s instead of j *= s."""
    size, jump = 1, 1
    for k, s in pairs:
        size += (k - 1) * jump
        jump += s
    return size, jump


def _empty_wrong(pairs):
    return receptive_field(pairs) if pairs else (0, 0)


@pytest.mark.parametrize(
    "function, hint",
    [
        (lambda pairs: receptive_field(pairs)[0], "size alone"),
        (lambda pairs: str(receptive_field(pairs)), "Return a pair"),
        (_no_jump, "forget the jump"),
        (_from_zero, "one short"),
        (_jump_first, "jump from before this layer's stride"),
        (_empty_wrong, "empty list"),
        (_no_jump_with_jump, "forget the jump"),
        (_jump_added, "Check the jump first"),
        (lambda pairs: tuple(reversed(receptive_field(pairs))), "wrong order"),
        (lambda pairs: (1, 2, 3), "Return two numbers"),
        (lambda pairs: 7, "yours returned an int"),
        (lambda pairs: (receptive_field(pairs)[0], 1), "Check the jump first"),
        (lambda pairs: (receptive_field(pairs)[0] + 2, receptive_field(pairs)[1]), "the answer is"),
        (lambda pairs: None, "replace the ..."),
    ],
)
def test_receptive_field_function_hints(function, hint):
    assert hint in refused("11.receptive-field-function", function).message


def test_tensorflow_tensors_are_read_like_numbers_and_pairs():
    tf = pytest.importorskip("tensorflow")
    for exercise_id, right, wrong in [
        ("11.stack-receptive-field", tf.constant(10), tf.constant(11)),
        ("11.stack-receptive-field", tf.constant([10, 2]), tf.constant([10, 1])),
        ("11.residual-params", tf.constant(14432), tf.constant(14400)),
        ("11.dropout-kept-value", tf.constant(3.0) / 0.7, tf.constant(3.0)),
    ]:
        assert check(exercise_id, right), (exercise_id, right)
        refused(exercise_id, wrong)
    assert check("11.receptive-field-function", lambda pairs: tf.constant(receptive_field(pairs)))
    hint = refused(
        "11.receptive-field-function", lambda pairs: tf.constant(_no_jump_with_jump(pairs))
    ).message
    assert "forget the jump" in hint


def test_wrong_kinds_get_a_sentence_not_an_internal_error():
    for answer in ([10], (10, 2, 1), np.zeros((60000, 28, 28)), np.array(["a", "b"])):
        message = refused("11.stack-receptive-field", answer).message
        assert "raised" not in message and "ValueError" not in message, message
    assert " a int" not in refused("11.six-nine", 3).message


def test_receptive_field_function_refuses_one_that_changes_nothing_but_the_order():
    refused(
        "11.receptive-field-function",
        lambda pairs: tuple(reversed(receptive_field(pairs))),
    )


@pytest.mark.parametrize(
    "answer, hint",
    [
        (4640 + 9248, "needs the 1 × 1 projection"),
        (14432 - 96, "one bias per filter"),
        (4640 + 9248 + 4640, "The projection is a 1 × 1"),
        (9248 * 2 + 544, "reads the block's 16 input channels"),
        ((9 * 32 + 32) + 9248 + 64, "all its input channels"),
        (14000, "k × k × channels in"),
        (14432 - 32, "one bias per filter"),  # a bias forgotten, e.g. on the projection
        (14432 - 64, "one bias per filter"),
        (4640 + 4640 + 544, "reads the 32 channels the first one made"),
        (10.5, "whole number"),
    ],
)
def test_residual_params_hints(answer, hint):
    assert hint in refused("11.residual-params", answer).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (4.29, "Right idea: give at least 3 decimals"),
        (4.28, "Right idea: give at least 3 decimals"),
        (3.0, "Keras scales during training"),
        (2.1, "2014 dropout paper"),
        (10.0, "not by the rate"),
        (3.9, "not 1 + rate"),
        (0, "not 0"),
        (1.5, "probability of keeping it"),
        (4.3, "Right idea: give at least 3 decimals"),
        (4.2, "Right idea: give at least 3 decimals"),
        (4, "give at least 3 decimals"),
    ],
)
def test_dropout_kept_value_hints(answer, hint):
    assert hint in refused("11.dropout-kept-value", answer).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        ("a", "never turns it"),
        ("(b)", "not which way up"),
        ("d", "±7.2°"),
        ("e", "one of the letters"),
        (3, "one letter as a string"),
        (["c"], "one letter as a string"),
        (3, "you gave an int"),
        ("RandomRotation(0.02)", "±7.2°"),
        ("RandomRotation(0.05)", "±18°"),
        ("option d", "±7.2°"),
        ("a b", "one of the letters"),
        ("(c) RandomZoom(0.2)", "one of the letters"),
    ],
)
def test_six_nine_hints(answer, hint):
    assert hint in refused("11.six-nine", answer).message
