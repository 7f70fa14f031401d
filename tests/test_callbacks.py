"""cnnteach.callbacks: the step clock times gradient steps, not start-up."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cnnteach import callbacks
from cnnteach.callbacks import step_clock
from cnnteach.training import RECIPES, train

keras = pytest.importorskip("keras")


def test_step_clock_times_steps_not_start_up(tiny_data):
    x, y = tiny_data
    clock = step_clock()
    assert np.isnan(clock.seconds_per_step)  # nothing timed yet
    # 80 images, 16 per step: 5 steps per epoch in calls of 2, 2 and 1 step; the first call of
    # each epoch is left out, so 2 intervals per epoch are timed.
    recipe = replace(RECIPES["lesson"], batch_size=16, steps_per_execution=2)
    run = train(recipe, x, y, epochs=2, validation_split=0, log=False, callbacks=[clock])
    assert len(clock.intervals) == 4 and all(t > 0 for t in clock.intervals)
    assert (
        0 < clock.seconds_per_step * 5 < run.epoch_seconds[0]
    )  # the first epoch also traced the step
    assert callbacks._steps_covered(1, 3, steps_per_epoch=5) == 2
    assert (
        callbacks._steps_covered(3, 5, steps_per_epoch=5) == 1
    )  # Keras numbers the short last call as full
    assert callbacks._steps_covered(3, 5, steps_per_epoch=None) == 2
