"""Keras callbacks the lessons show: one line per epoch, a step clock, quiet retracing.

* :func:`epoch_log` prints one short, rounded line per epoch, so stored outputs stay
  comparable from run to run.
* :func:`step_clock` times gradient steps (the median over steady calls into TensorFlow).
* :func:`quiet_retracing` hides TensorFlow's retracing warnings while ``predict`` runs.

Keras is imported inside the functions that build a callback, so importing this module is
light.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time

import numpy as np

__all__ = ["epoch_log", "quiet_retracing", "step_clock"]


@contextlib.contextmanager
def quiet_retracing():
    """Hide TensorFlow's "triggered tf.function retracing" warnings while ``predict`` runs.

    Calling ``predict`` on several models, or on batches of several sizes, traces Keras'
    predict function again each time; TensorFlow then logs a long warning (with a memory
    address) that says nothing useful to a learner. Only the ``tensorflow`` logger's level
    is raised, and only while the block runs.

    Examples
    --------
    >>> with quiet_retracing():
    ...     pass
    """
    if "tensorflow" not in sys.modules:
        yield
        return
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _format_logs(epoch: int, epochs: int, logs: dict, digits: int) -> str:
    parts = [f"epoch {epoch}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in logs:
            parts.append(f"{key} {float(logs[key]):.{digits}f}")
    return "  ".join(parts)


def epoch_log(digits: int = 3):
    """A Keras callback that prints one short, rounded line per epoch (use with ``verbose=0``).

    Keras' own progress bar prints timings and many digits that change on every run; this
    line does not, so stored lesson outputs stay comparable.

    Parameters
    ----------
    digits : int, default 3
        Decimals printed for the loss and the accuracies.

    Examples
    --------
    >>> callback = epoch_log()  # doctest: +SKIP
    >>> _format_logs(1, 3, {"loss": 0.123456, "accuracy": 0.96}, 3)
    'epoch 1/3  loss 0.123  accuracy 0.960'
    """
    import keras

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            epochs = self.params.get("epochs", "?") if self.params else "?"
            print(_format_logs(epoch + 1, epochs, logs or {}, digits), flush=True)

    return EpochLog()


def _last_step(batch: int, steps_per_epoch: int | None) -> int:
    """The step a batch-end report of Keras stands for.

    With ``steps_per_execution`` above 1, Keras reports only the last step of each call into
    TensorFlow, and numbers the last, shorter call of an epoch as if it were full; the
    epoch's length puts that right.
    """
    return batch if steps_per_epoch is None else min(batch, steps_per_epoch - 1)


def _steps_covered(previous_end: int, batch: int, steps_per_epoch: int | None) -> int:
    """Gradient steps between two of Keras' batch-end reports."""
    return _last_step(batch, steps_per_epoch) - previous_end


def step_clock():
    """A Keras callback that times gradient steps; read ``seconds_per_step`` after ``fit``.

    Keras reports the end of every call into TensorFlow (one step, or ``steps_per_execution``
    steps). The clock divides the time between two reports by the steps they cover and keeps
    the median of all of them. The first call of every epoch is left out (it includes the
    start of the epoch and, in the first, TensorFlow's one-off tracing), and a median shrugs
    off a passing hiccup of the machine, so this is a steadier speed than an epoch's time.
    Before any step was timed, ``seconds_per_step`` is ``nan``.

    Examples
    --------
    >>> clock = step_clock()  # doctest: +SKIP
    >>> run = train("lesson", x_train, y_train, callbacks=[clock])  # doctest: +SKIP
    >>> round(clock.seconds_per_step * 188, 1)  # one epoch of 48,000 images  # doctest: +SKIP
    2.2
    >>> _steps_covered(19, 39, steps_per_epoch=24)  # the last call of the epoch ran 4 steps
    4
    """
    import keras

    class StepClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.intervals = []
            self._last = None

        def on_epoch_begin(self, epoch, logs=None):
            self._last = None

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            steps_per_epoch = (self.params or {}).get("steps")
            if self._last is not None:
                steps = _steps_covered(self._last[0], batch, steps_per_epoch)
                if steps > 0:
                    self.intervals.append((now - self._last[1]) / steps)
            self._last = (_last_step(batch, steps_per_epoch), now)

        @property
        def seconds_per_step(self) -> float:
            return float(np.median(self.intervals)) if self.intervals else float("nan")

    return StepClock()


def _epoch_clock():
    """A callback that records the wall time of every epoch in its ``seconds`` list."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []
            self._start = None

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochClock()
