"""Reading a learner's answer fairly, and checkers declared as data (numbers, shapes).

Every reader either returns the answer in a plain form or raises :class:`AnswerError`, whose
message is one sentence for the learner (``check`` shows it as it is). The rules that keep
checks fair live here, once: a function that raises is reported with its error and input, a
shape may not be a whole array, an iterator is never consumed, and a number rounded to one or
two decimals is told to give more decimals rather than blamed for its method.
:func:`number_exercise` and :func:`shape_exercise` (re-exported by ``cnnteach.exercises``)
declare the common kinds of exercise as a right answer and a table of hints.
"""

from __future__ import annotations

import collections.abc
import math
import sys

import numpy as np

__all__ = [
    "AnswerError",
    "NotAttempted",
    "call",
    "describe",
    "expect_array",
    "expect_number",
    "expect_shape",
]

#: The longest shape a learner can mean; longer sequences are refused without being read.
MAX_AXES = 8
#: Arrays up to this many values are shown in a hint; larger ones by their shape.
SHOWN_VALUES = 12


class NotAttempted(Exception):
    """Raised by a checker when the answer is still the placeholder."""


class AnswerError(ValueError):
    """An answer of the wrong kind; the message is the hint ``check`` shows."""


def describe(value) -> str:
    """A short text for a value in a hint: small arrays in full, large ones by their shape.

    Examples
    --------
    >>> describe(np.array([-1000.0, 0.0, 1000.0]))
    'array([-1000.,     0.,  1000.])'
    >>> describe(np.zeros((60000, 28, 28), dtype=np.uint8))
    'an array of shape (60000, 28, 28) and dtype uint8'
    """
    if isinstance(value, np.ndarray):
        if value.size <= SHOWN_VALUES:
            return repr(value)
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (bytes, str)) and len(value) > 40:
        return f"a {type(value).__name__} of length {len(value)}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _a(word: str) -> str:
    """``word`` with its article: 'an int', 'a list', 'an EagerTensor'."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _whole_set(shape) -> str:
    if len(shape) >= 2 and shape[0] in (60000, 48000):
        return " (that is the whole training set, not one image or one feature map)"
    if len(shape) >= 2 and shape[0] == 10000:
        return " (that is the whole test set, not one image or one feature map)"
    return ""


def _is_iterator(answer) -> bool:
    return isinstance(answer, collections.abc.Iterator) or (
        isinstance(answer, collections.abc.Iterable)
        and not isinstance(answer, collections.abc.Sized)
    )


def expect_number(answer, *, integer: bool = False) -> float:
    """Return ``answer`` as a float, or raise AnswerError (a ValueError) with a hint.

    Accepts Python and numpy numbers, 0-d arrays and 0-d TensorFlow tensors; rejects strings,
    bools and sequences.

    Examples
    --------
    >>> expect_number(np.int64(7))
    7.0
    >>> expect_number("7")
    Traceback (most recent call last):
    ...
    cnnteach._answers.AnswerError: expected a number, got the str '7' (remove the quotes)
    """
    if hasattr(answer, "numpy") and not isinstance(answer, np.ndarray):  # a TensorFlow tensor
        try:
            answer = np.asarray(answer.numpy())
        except Exception:  # noqa: BLE001 - not a tensor after all: judged as it is below
            pass
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        answer = answer.item()
    if isinstance(answer, (bool, np.bool_)):
        raise AnswerError("expected a number, got True/False")
    if isinstance(answer, str):
        raise AnswerError(f"expected a number, got the str {describe(answer)} (remove the quotes)")
    if isinstance(answer, np.ndarray):
        raise AnswerError(
            f"expected one number, got an array of shape {answer.shape}{_whole_set(answer.shape)}"
        )
    if not isinstance(answer, (int, float, np.integer, np.floating)):
        kind = "function" if callable(answer) else type(answer).__name__
        raise AnswerError(f"expected a number, got {_a(kind)}")
    try:
        value = float(answer)
    except OverflowError:
        raise AnswerError(
            "expected a number of a sensible size, got one too large for a float"
        ) from None
    if not math.isfinite(value):
        raise AnswerError(f"expected a finite number, got {value}")
    if integer and value != int(value):
        raise AnswerError(f"expected a whole number, got {value:g}")
    return value


def expect_array(answer, shape=None, *, dtype_kind: str | None = None) -> np.ndarray:
    """Return ``answer`` as a numpy array of the given shape, or raise AnswerError with a hint.

    Parameters
    ----------
    answer : object
        An array-like (list, tuple, numpy array, Keras/TensorFlow tensor).
    shape : tuple, optional
        The required shape.
    dtype_kind : str, optional
        Required numpy dtype kind, e.g. ``"f"`` for floats; ``"n"`` accepts any number.

    Examples
    --------
    >>> expect_array([[1, 2], [3, 4]], (2, 2)).sum()
    np.int64(10)
    >>> expect_array([1, 2, 3], (2, 2))
    Traceback (most recent call last):
    ...
    cnnteach._answers.AnswerError: expected shape (2, 2), got shape (3,)
    """
    if (
        isinstance(answer, (str, bytes, dict, set))
        or callable(answer)
        and not hasattr(answer, "__array__")
    ):
        kind = "function" if callable(answer) else type(answer).__name__
        raise AnswerError(f"expected an array, got {_a(kind)}")
    if _is_iterator(answer) and not hasattr(answer, "__array__"):
        raise AnswerError(
            "expected an array, got an iterator (such as a generator): give a list or an array"
        )
    try:
        array = np.asarray(answer)
    except Exception as exc:  # noqa: BLE001 - numpy may raise anything
        raise AnswerError(f"expected an array, got something numpy cannot read ({exc})") from None
    if array.dtype == object:
        if array.size <= 1000 and any(v is None for v in array.ravel()):
            raise AnswerError(
                "expected numbers, but your answer contains None: write a number in its place"
            )
        raise AnswerError("expected an array of numbers, got ragged or mixed data")
    if shape is not None and array.shape != tuple(shape):
        raise AnswerError(f"expected shape {tuple(shape)}, got shape {array.shape}")
    if dtype_kind == "n" and array.dtype.kind not in "biuf":
        raise AnswerError(f"expected numbers, got dtype {array.dtype}")
    if dtype_kind and dtype_kind != "n" and array.dtype.kind != dtype_kind:
        raise AnswerError(f"expected dtype kind {dtype_kind!r}, got dtype {array.dtype}")
    return array


def expect_shape(answer) -> tuple:
    """Return a shape as a tuple of ints (None kept), reading at most a few values.

    A tuple, a list, a Keras/TensorFlow shape or a short 1-D array of whole numbers is a shape;
    a whole array, an iterator, a string or a single number is not, and gets a hint.

    Examples
    --------
    >>> expect_shape([32, 14.0, np.int64(14), 8])
    (32, 14, 14, 8)
    >>> expect_shape((None, 14, 14, 8))
    (None, 14, 14, 8)
    >>> expect_shape(np.zeros((60000, 28, 28)))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cnnteach._answers.AnswerError: that is an array of shape (60000, 28, 28) (that is the whole
        training set, not one image or one feature map), not a shape: give the shape itself, a tuple
        such as (2, 3)
    """
    example = "a tuple such as (2, 3)"
    if isinstance(answer, str):
        raise AnswerError(f"write the shape as {example}, without quotes")
    if isinstance(answer, np.ndarray):
        if answer.ndim != 1 or answer.size > MAX_AXES or answer.dtype.kind not in "iuf":
            raise AnswerError(
                f"that is an array of shape {answer.shape}{_whole_set(answer.shape)}, not a shape: "
                f"give the shape itself, {example}"
            )
        answer = answer.tolist()
    elif hasattr(answer, "as_list") and not isinstance(answer, (list, tuple)):  # tf.TensorShape
        answer = answer.as_list()
    if not isinstance(answer, (tuple, list)):
        kind = (
            "one number"
            if isinstance(answer, (int, float, np.number))
            else _a(type(answer).__name__)
        )
        if _is_iterator(answer):
            kind = "an iterator"
        raise AnswerError(f"a shape has one whole number per axis, {example}; you gave {kind}")
    if len(answer) > MAX_AXES:
        raise AnswerError(
            "a shape has one number per axis, but you gave "
            f"{len(answer)} numbers: give the shape, {example}"
        )
    return tuple(None if v is None else int(expect_number(v, integer=True)) for v in answer)


def call(function, *args, **kwargs):
    """Call a learner's function; report what it raised, and the placeholder, as hints.

    Raises
    ------
    NotAttempted
        When the function still returns the placeholder (None or ...).
    AnswerError
        When ``function`` is not callable, or raises: the hint names the error and the input.

    Examples
    --------
    >>> call(lambda x: x + 1, 1)
    2
    >>> call(lambda: None)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cnnteach._answers.NotAttempted: Your function returns None: replace the ... in its body, then
        run the cell again.
    >>> def softmax(z):
    ...     return 1 / 0
    >>> call(softmax, np.array([1.0, 2.0]))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cnnteach._answers.AnswerError: your function raised ZeroDivisionError: division by zero on input
        softmax(array([1., 2.]))
    """
    if not callable(function):
        raise AnswerError(
            f"expected a function, got {_a(type(function).__name__)}: "
            "define it with def, then pass its name"
        )
    try:
        result = function(*args, **kwargs)
    except (NotAttempted, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the learner raised is reported
        name = getattr(function, "__name__", "")
        name = name if name.isidentifier() else "your_function"
        shown = ", ".join(
            [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
        )
        raise AnswerError(
            f"your function raised {type(exc).__name__}: {exc} on input {name}({shown})"
        ) from None
    if result is None or result is ...:
        raise NotAttempted(
            "Your function returns None: replace the ... in its body, then run the cell again."
        )
    return result


def rounding_hint(value: float, answer: float) -> str | None:
    """The hint for ``answer`` rounded (or cut) to one or two decimals, or None when it is not that.

    Only an answer that needs three or more decimals counts: 0.8 for 0.82 is a mistake, not a
    rounding.

    Examples
    --------
    >>> rounding_hint(0.22, -math.log(0.8))
    'Right idea: give at least 3 decimals (0.22 is rounded too far), or the exact expression.'
    >>> rounding_hint(0.63, 0.625) is not None, rounding_hint(0.8, 0.82) is None
    (True, True)
    """
    if math.isclose(answer, round(answer, 2), abs_tol=1e-12):
        return None
    for decimals in (2, 1):
        scale = 10.0**decimals
        shortened = (
            math.floor(answer * scale + 0.5) / scale,
            math.trunc(answer * scale) / scale,
        )
        if any(math.isclose(value, v, abs_tol=1e-9) for v in shortened):
            return (
                f"Right idea: give at least 3 decimals ({value:g} "
                "is rounded too far), or the exact expression."
            )
    return None


# ----------------------------------------------------------------------------- declarative checkers
def _number_matches(key, value: float, tolerance: float) -> bool:
    if callable(key):
        return bool(key(value))
    if isinstance(key, (tuple, list, set, frozenset)):
        return any(_number_matches(k, value, tolerance) for k in key)
    relative = 0.0 if float(key).is_integer() else 1e-3 * abs(key)
    return abs(value - key) <= max(tolerance, relative, 1e-9)


def number_exercise(
    exercise_id: str,
    answer: float,
    *,
    hints: dict | None = None,
    otherwise: str = "That is not it yet; re-read the question.",
    integer: bool = False,
    tolerance: float | None = None,
    explanation: str = "",
):
    """Register an exercise whose answer is one number, with hints for the usual wrong ones.

    The fairness rules are built in: any number type is read (``24``, ``24.0``,
    ``np.int64(24)``, a 0-d array); a non-integer answer is accepted within ``tolerance``, so
    3 decimals are enough; the answer rounded to 1 or 2 decimals gets "Right idea: give at
    least 3 decimals", never only a hint about the method (when a usual mistake gives the same
    number, both are said); a string, array or function gets one
    sentence that says what kind of answer is wanted.

    Parameters
    ----------
    exercise_id : str
        ``"NN.short-name"``; the question itself is written in the lesson.
    answer : float
        The right value (an expression such as ``-math.log(0.8)`` is best).
    hints : dict, optional
        ``{wrong: hint}``, tried in order. A key is a number (matched within ``tolerance`` or
        0.1 %), a tuple of numbers (any of them), or a function of the value that returns True.
    otherwise : str
        The hint for any other wrong number.
    integer : bool
        The answer is a whole number (a count): other values get a hint saying so.
    tolerance : float, optional
        Accepted distance from ``answer``: 0 for a whole-number answer, else 1e-3.
    explanation : str, optional
        Shown by :func:`solution` under the worked code.

    Examples
    --------
    >>> from cnnteach.exercises import check
    >>> _ = number_exercise("00.demo-ln", -math.log(0.8), hints={0.2: "1 - p is not it."},
    ...                     otherwise="Take minus the natural logarithm.")
    >>> [check("00.demo-ln", a).status for a in (0.2231, np.float32(0.223), 0.2)]
    ['correct', 'correct', 'not yet']
    >>> check("00.demo-ln", 0.22).message
    'Right idea: give at least 3 decimals (0.22 is rounded too far), or the exact expression.'
    """
    answer = float(answer)
    hints = dict(hints or {})
    if tolerance is None:
        tolerance = 0.0 if answer.is_integer() else 1e-3
    for key in hints:
        if not callable(key) and _number_matches(key, answer, tolerance):
            raise ValueError(f"{exercise_id}: the hint for {key!r} would refuse the right answer")

    def checker(given):
        value = expect_number(given)
        if abs(value - answer) <= max(tolerance, 1e-9):
            return None
        hint = next(
            (h for key, h in hints.items() if _number_matches(key, value, tolerance)),
            None,
        )
        rounded = None if integer else rounding_hint(value, answer)
        if rounded and hint:  # e.g. 0.2: -ln(0.8) rounded to 1 decimal, or the mistake 1 - p
            return f"{rounded} If you did not round: {hint}"
        if rounded or hint:
            return rounded or hint
        if integer and not value.is_integer():
            return f"The answer is a whole number (a count), and {value:g} is not. {otherwise}"
        return otherwise

    from cnnteach.exercises import (
        exercise,  # the registry; imported here, as it imports this module
    )

    checker.__module__ = sys._getframe(1).f_globals.get("__name__", __name__)
    exercise(exercise_id, explanation=explanation)(checker)
    return checker


def _shape_matches(key, shape: tuple) -> bool:
    if callable(key):
        try:
            return bool(key(shape))
        except (IndexError, TypeError, ValueError):
            return False
    return tuple(key) == shape


def shape_exercise(
    exercise_id: str,
    answer: tuple,
    *,
    hints: dict | None = None,
    otherwise: str = "That is not it yet; re-read the question.",
    axes: tuple | None = None,
    explanation: str = "",
):
    """Register an exercise whose answer is a shape, with hints for the usual wrong ones.

    Built in: a tuple, list, Keras shape or short array of whole numbers is read as a shape;
    a ``None`` (as Keras prints the batch) gets "the batch here is N"; a whole array (such as
    ``x_train``), an iterator or a string gets one sentence and is never read in full; the
    right numbers in the wrong order and a wrong number of axes get their own hints.

    Parameters
    ----------
    exercise_id : str
        ``"NN.short-name"``; the question itself is written in the lesson.
    answer : tuple of int
        The right shape.
    hints : dict, optional
        ``{wrong: hint}``, tried in order: a key is a shape (a tuple) or a function of the
        shape that returns True (one that raises IndexError counts as False).
    otherwise : str
        The hint for any other wrong shape.
    axes : tuple of str, optional
        The axes' names, e.g. ``("images", "rows", "columns", "channels")``, used in hints.
    explanation : str, optional
        Shown by :func:`solution` under the worked code.

    Examples
    --------
    >>> from cnnteach.exercises import check
    >>> _ = shape_exercise("00.demo-conv-shape", (32, 14, 14, 8),
    ...                    hints={lambda s: s[1:3] == (12, 12): "That is padding='valid'."},
    ...                    axes=("batch", "rows", "columns", "channels"))
    >>> [check("00.demo-conv-shape", a).status
    ...  for a in ((32, 14, 14, 8), [32, 14, 14, 8], (32, 12, 12, 8))]
    ['correct', 'correct', 'not yet']
    >>> check("00.demo-conv-shape", (None, 14, 14, 8)).message
    'None is how Keras prints a batch of any size; the batch here is 32: write 32 instead of None.'
    """
    answer = tuple(int(v) for v in answer)
    hints = dict(hints or {})
    names = tuple(axes) if axes else tuple(f"axis {i}" for i in range(len(answer)))

    def judge(shape: tuple) -> str | None:
        if shape == answer:
            return None
        for key, hint in hints.items():
            if _shape_matches(key, shape):
                return hint
        if sorted(shape) == sorted(answer):
            return "Right numbers, wrong order: the axes are (" + ", ".join(names) + ")."
        if len(shape) != len(answer):
            return f"Give {len(answer)} numbers, one per axis: (" + ", ".join(names) + ")."
        return otherwise

    def checker(given):
        shape = expect_shape(given)
        if None not in shape:
            return judge(shape)
        if len(shape) != len(answer):  # e.g. (None, 11, 11, 32) where one image's shape is asked
            return judge(tuple(1 if v is None else v for v in shape))
        filled = tuple(a if v is None else v for v, a in zip(shape, answer))
        missing = [i for i, v in enumerate(shape) if v is None]
        said = "; ".join(
            f"the batch here is {answer[i]}" if i == 0 else f"the {names[i]} here is {answer[i]}"
            for i in missing
        )
        first = (
            "None is how Keras prints a batch of any size"
            if missing == [0]
            else "None is a size Keras does not know yet"
        )
        message = (
            f"{first}; {said}: write "
            f"{' and '.join(str(answer[i]) for i in missing)} instead of None."
        )
        rest = judge(filled)
        return message if rest is None else f"{message} {rest}"

    from cnnteach.exercises import (
        exercise,  # the registry; imported here, as it imports this module
    )

    checker.__module__ = sys._getframe(1).f_globals.get("__name__", __name__)
    exercise(exercise_id, explanation=explanation)(checker)
    return checker
