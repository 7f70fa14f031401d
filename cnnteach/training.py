"""Train a network with a recipe: pixel scaling, batches, optimizer, schedule and callbacks.

* A :class:`Recipe` bundles everything besides the layers that decides how training goes:
  pixel scaling, batch size, epochs, Adam's learning rate and its schedule (constant, or a
  linear warm-up followed by a cosine decay), ``steps_per_execution`` and label smoothing.
  ``RECIPES["blog"]`` is the 2019 recipe, ``RECIPES["lesson"]`` the course's, and
  ``RECIPES["background"]`` fine-tunes lesson 10's digit-or-background classifier. A recipe
  may also set a budget of gradient ``steps`` and its own ``objective`` (a loss for other
  targets than labels): :data:`cnnteach.one_stage.RECIPE`, lesson 13's detector, does both.
* :func:`train` runs any recipe: every training in the course goes through it.
* :func:`epoch_log` and :func:`step_clock` are the callbacks the lessons show.

TensorFlow and Keras are imported inside the functions that need them, so importing this
module is light.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cnnteach.models import background_model, blog_model, lesson_model

__all__ = [
    "RECIPES",
    "Recipe",
    "TrainingRun",
    "epoch_log",
    "get_recipe",
    "make_datasets",
    "prepare_images",
    "quiet_retracing",
    "step_clock",
    "train",
]


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


def prepare_images(images, *, scale: bool = True) -> np.ndarray:
    """Turn MNIST images into what a Conv2D network reads: float32, shape (N, 28, 28, 1).

    Parameters
    ----------
    images : array_like
        A batch of 28x28 greyscale images, shape (N, 28, 28) or (N, 28, 28, 1), or one image
        of shape (28, 28). Integer images hold pixels 0-255; float images must already lie in
        [0, 1] when ``scale`` is true.
    scale : bool, default True
        Divide integer pixels by 255 so that they lie in [0, 1]. ``False`` keeps the raw 0-255
        values (the 2019 recipe, kept only for comparison).

    Returns
    -------
    numpy.ndarray
        float32 array of shape (N, 28, 28, 1): one channel, as ``Conv2D`` expects.

    Examples
    --------
    >>> x = prepare_images(np.full((2, 28, 28), 255, dtype=np.uint8))
    >>> x.shape, x.dtype, float(x.max())
    ((2, 28, 28, 1), dtype('float32'), 1.0)
    >>> float(prepare_images(np.full((28, 28), 51, dtype=np.uint8), scale=False).max())
    51.0
    """
    array = np.asarray(images)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise ValueError(f"images must be an array of numbers, got dtype {array.dtype}: pass the arrays load_mnist() returns")
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(
            f"images must have shape (N, 28, 28) or (N, 28, 28, 1), got {np.shape(images)}: "
            "pass a batch of 28x28 greyscale images (use preprocess_digit for other pictures)"
        )
    if array.dtype.kind == "f":
        if scale and array.size and float(np.nanmax(array)) > 1.0:
            raise ValueError(
                "float images must already lie in [0, 1], but their maximum is "
                f"{float(np.nanmax(array)):g}: pass the uint8 images from load_mnist() or divide by 255 first"
            )
        return array.astype("float32")[..., np.newaxis]
    out = array.astype("float32")
    if scale:
        out /= 255.0
    return out[..., np.newaxis]


def _integer_labels(labels, n: int, classes: int = 10) -> np.ndarray:
    """Return labels as int32 classes 0 to ``classes - 1`` (one-hot rows become classes)."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == classes:
        y = np.argmax(y, axis=-1)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(
            f"labels must be {n} classes (shape ({n},)) or one-hot rows "
            f"(shape ({n}, {classes})), got shape {y.shape}: "
            "pass the y_train that load_mnist() returns"
        )
    if y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() >= classes)):
        raise ValueError(
            f"labels must be whole numbers from 0 to {classes - 1}: "
            "pass the y_train that load_mnist() returns"
        )
    return y.astype("int32")


# ----------------------------------------------------------------------------- recipes
@dataclass(frozen=True)
class Recipe:
    """Everything besides the data that decides how a network is trained.

    Attributes
    ----------
    name : str
        A short name, e.g. ``"lesson"``.
    build : callable
        Returns a fresh, uncompiled model.
    scale_pixels : bool
        Divide pixels by 255 (see :func:`prepare_images`).
    batch_size : int
        Images per gradient step.
    epochs : int
        Passes over the training images.
    learning_rate : float
        Adam's learning rate; with ``schedule="warmup-cosine"`` it is the peak rate.
    schedule : str
        ``"constant"``, or ``"warmup-cosine"``: a linear warm-up from a tenth of the peak over
        the first ``warmup_fraction`` of the steps, then a cosine decay down to zero (Keras'
        ``CosineDecay`` with ``warmup_steps``). With ``warmup_fraction=0`` there is no warm-up:
        the cosine decay starts at the peak.
    warmup_fraction : float
        Share of all steps spent warming up (``"warmup-cosine"`` only).
    steps_per_execution : int
        Gradient steps Keras runs per call into TensorFlow (1 = one call per step).
    pipeline : str
        How batches reach ``fit``: ``"arrays"`` hands Keras the numpy arrays, which it slices
        into batches itself (a few milliseconds of overhead per step); ``"tf.data"`` builds a
        ``tf.data.Dataset`` once (cached, shuffled every epoch with a fixed seed, batched,
        prefetched), which costs well under a millisecond per step.
    validation_batch_size : int or None
        Images per validation step. None validates in steps of ``batch_size``, as Keras'
        ``fit`` does when it is not told otherwise: the 2019 call validated its 12,000
        images ten at a time, 1,200 steps of overhead per epoch.
    label_smoothing : float
        0 trains on the digits with ``sparse_categorical_crossentropy``. A value such as 0.1
        spreads that share of every target evenly over the ten digits (the right digit's
        target becomes 0.91, every other digit's 0.01) and trains with Keras'
        ``CategoricalCrossentropy(label_smoothing=...)``, which needs one-hot targets:
        :meth:`targets` makes them. The network is no longer pushed towards probabilities of
        exactly 1, which stops it from growing ever more confident on the training images.
    classes : int
        Number of classes the labels may name: 10 digits, or 11 with lesson 10's background.
    steps : int or None
        None trains for ``epochs`` passes. A number trains for exactly that many gradient
        steps, cycling through the (reshuffled) training data as often as needed: a detector's
        training is fitted to a step budget, not to passes over its data.
    objective : callable or None
        None trains a classifier on labels (the course's usual case). A function that returns
        a Keras loss makes a recipe for any other task, such as lesson 13's detector:
        :func:`train` then takes the targets ``y`` as given (float32, one row per image, in
        whatever shape the loss reads), scales integer images by 255 and adds their channel
        axis (float32 images of shape (N, H, W, C) are used as they are), and compiles without
        an accuracy metric.

    Examples
    --------
    >>> RECIPES["blog"].batch_size, RECIPES["blog"].scale_pixels
    (10, False)
    >>> RECIPES["lesson"].batch_size, RECIPES["lesson"].epochs
    (256, 3)
    >>> from dataclasses import replace
    >>> replace(RECIPES["lesson"], epochs=1).epochs
    1
    >>> RECIPES["blog"].label_smoothing, RECIPES["lesson"].label_smoothing
    (0.0, 0.1)
    >>> RECIPES["blog"].validation_images_per_step, RECIPES["lesson"].validation_images_per_step
    (10, 500)
    """

    name: str
    build: Callable = field(repr=False)
    scale_pixels: bool = True
    batch_size: int = 128
    epochs: int = 3
    learning_rate: float = 0.001
    schedule: str = "constant"
    warmup_fraction: float = 0.0
    steps_per_execution: int = 1
    pipeline: str = "arrays"
    label_smoothing: float = 0.0
    validation_batch_size: int | None = None
    classes: int = 10
    steps: int | None = None
    objective: Callable | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        rate = f"Adam at {self.learning_rate:g}"
        if self.schedule == "warmup-cosine":
            rate = f"Adam peaking at {self.learning_rate:g}"
            if self.warmup_fraction:
                rate += f", {self.warmup_fraction:.0%} linear warm-up"
            rate += ", cosine decay"
        parts = [
            "pixels / 255" if self.scale_pixels else "raw pixels 0-255",
            f"{self.batch_size} images per step",
            f"{self.steps} steps" if self.steps is not None else f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}",
            rate,
        ]
        if self.label_smoothing:
            parts.append(f"label smoothing {self.label_smoothing:g}")
        if self.steps_per_execution > 1:
            parts.append(f"{self.steps_per_execution} steps per call")
        if self.pipeline != "arrays":
            parts.append(self.pipeline)
        return f"Recipe {self.name!r}: " + ", ".join(parts)

    @property
    def validation_images_per_step(self) -> int:
        """Images per validation step: ``validation_batch_size``, or ``batch_size`` when it is None."""
        return self.batch_size if self.validation_batch_size is None else self.validation_batch_size

    def learning_rate_schedule(self, total_steps: int):
        """The learning rate: a float, or a Keras schedule (a function of the step number).

        Parameters
        ----------
        total_steps : int
            Gradient steps the whole training will take (the decay needs it).

        Examples
        --------
        >>> RECIPES["blog"].learning_rate_schedule(100)
        0.001
        >>> lr = RECIPES["lesson"].learning_rate_schedule(1000)  # doctest: +SKIP
        >>> [round(float(lr(step)), 4) for step in (0, 200, 1000)]  # doctest: +SKIP
        [0.002, 0.02, 0.0]
        """
        if self.schedule == "constant":
            return self.learning_rate
        if self.schedule != "warmup-cosine":
            raise ValueError(
                f"schedule must be 'constant' or 'warmup-cosine', got {self.schedule!r}."
            )
        import keras

        total_steps = max(int(total_steps), 2)
        if not self.warmup_fraction:
            return keras.optimizers.schedules.CosineDecay(
                initial_learning_rate=self.learning_rate, decay_steps=total_steps, alpha=0.0
            )
        warmup = max(1, int(round(self.warmup_fraction * total_steps)))
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=self.learning_rate / 10,
            decay_steps=max(1, total_steps - warmup),
            alpha=0.0,
            warmup_target=self.learning_rate,
            warmup_steps=warmup,
        )

    def optimizer(self, total_steps: int):
        """A fresh Adam optimizer following this recipe's learning-rate schedule.

        Parameters
        ----------
        total_steps : int
            Gradient steps the whole training will take (needed by the decay).

        Examples
        --------
        >>> opt = RECIPES["lesson"].optimizer(1000)  # doctest: +SKIP
        """
        import keras

        return keras.optimizers.Adam(learning_rate=self.learning_rate_schedule(total_steps))

    def loss(self):
        """The loss to minimise: sparse cross-entropy, or one-hot cross-entropy with label smoothing.

        Examples
        --------
        >>> RECIPES["blog"].loss()
        'sparse_categorical_crossentropy'
        >>> RECIPES["lesson"].loss().get_config()["label_smoothing"]  # doctest: +SKIP
        0.1
        """
        if self.objective is not None:
            return self.objective()
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not self.label_smoothing:
            return "sparse_categorical_crossentropy"
        import keras

        return keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing)

    def targets(self, labels) -> np.ndarray:
        """Labels in the form this recipe's loss expects: digits, or one-hot rows with smoothing on.

        Use it to ``evaluate`` a model trained with this recipe.

        Parameters
        ----------
        labels : array_like
            Digits 0-9, shape (N,), or one-hot rows, shape (N, 10).

        Returns
        -------
        numpy.ndarray
            int32 digits (N,) when ``label_smoothing`` is 0, else float32 one-hot rows (N, 10)
            (the loss does the smoothing).

        Examples
        --------
        >>> RECIPES["blog"].targets([7, 2])
        array([7, 2], dtype=int32)
        >>> RECIPES["lesson"].targets([7, 2])[:, 6:9]
        array([[0., 1., 0.],
               [0., 0., 0.]], dtype=float32)
        """
        digits = _integer_labels(labels, len(np.asarray(labels)), self.classes)
        if not self.label_smoothing:
            return digits
        return np.eye(self.classes, dtype="float32")[digits]

    def compile(self, model, total_steps: int):
        """Compile ``model`` with this recipe's optimizer and loss; return it.

        Examples
        --------
        >>> model = RECIPES["blog"].compile(blog_model(), 100)  # doctest: +SKIP
        """
        model.compile(
            optimizer=self.optimizer(total_steps),
            loss=self.loss(),
            metrics=["accuracy"] if self.objective is None else [],
            steps_per_execution=self.steps_per_execution,
        )
        return model


RECIPES = {
    # The 2019 lesson: raw 0-255 pixels, 10 images per step, 3 epochs, Adam's default rate.
    "blog": Recipe(
        "blog", blog_model, scale_pixels=False, batch_size=10, epochs=3,
        learning_rate=0.001, schedule="constant", steps_per_execution=1,
    ),
    # The course's recipe: scaled pixels, big batches, fewer calls, a linear warm-up plus
    # cosine decay of the learning rate, label smoothing.
    "lesson": Recipe(
        "lesson", lesson_model, scale_pixels=True, batch_size=256, epochs=3,
        learning_rate=0.02, schedule="warmup-cosine", warmup_fraction=0.2, steps_per_execution=20,
        pipeline="tf.data", label_smoothing=0.1, validation_batch_size=500,
    ),
    # Lesson 10: fine-tune the digit-or-background classifier on labelled windows.
    "background": Recipe(
        "background", background_model, scale_pixels=True, batch_size=128, epochs=1,
        learning_rate=0.002, schedule="warmup-cosine", warmup_fraction=0.0,
        steps_per_execution=20, classes=11,
    ),
}


def get_recipe(recipe) -> Recipe:
    """Return the :class:`Recipe` named ``recipe`` (``"blog"`` or ``"lesson"``), or ``recipe`` itself.

    Examples
    --------
    >>> get_recipe("lesson").name
    'lesson'
    >>> get_recipe("fast")
    Traceback (most recent call last):
    ...
    ValueError: there is no recipe called 'fast': use one of 'blog', 'lesson', 'background', or pass a Recipe
    """
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, str) and recipe in RECIPES:
        return RECIPES[recipe]
    names = ", ".join(repr(n) for n in RECIPES)
    raise ValueError(f"there is no recipe called {recipe!r}: use one of {names}, or pass a Recipe")


# ----------------------------------------------------------------------------- training
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


@dataclass
class TrainingRun:
    """What :func:`train` returns.

    Attributes
    ----------
    model : keras.Model
        The trained, compiled model.
    history : dict
        ``keras.callbacks.History.history``: a list per metric (``loss``, ``accuracy``,
        ``val_loss``, ``val_accuracy``), one value per epoch.
    fit_seconds : float
        Wall time of ``model.fit`` alone (no data preparation, no compiling), including
        TensorFlow's one-off tracing of the training step at the start.
    recipe : Recipe
        The recipe used.
    epoch_seconds : list of float
        Wall time of each epoch; from the second epoch on, no tracing is included, so
        ``epoch_seconds[-1]`` is the steady speed.

    Examples
    --------
    >>> run = TrainingRun(None, {"accuracy": [0.9, 0.95]}, 1.25, RECIPES["lesson"])
    >>> run.final("accuracy")
    0.95
    """

    model: object
    history: dict
    fit_seconds: float
    recipe: Recipe
    epoch_seconds: list = field(default_factory=list)

    def final(self, metric: str) -> float:
        """The last epoch's value of ``metric`` (e.g. ``"val_accuracy"``)."""
        return float(self.history[metric][-1])


def train(
    recipe,
    x_train,
    y_train,
    *,
    model=None,
    epochs: int | None = None,
    validation_split: float = 0.2,
    validation_data=None,
    seed: int | None = 0,
    log: bool = True,
    callbacks=(),
) -> TrainingRun:
    """Train a network with a recipe and return the model, its history and the fit time.

    Parameters
    ----------
    recipe : str or Recipe
        ``"blog"`` (the 2019 recipe), ``"lesson"`` (the course's) or a :class:`Recipe`.
    x_train : array_like
        uint8 images (N, 28, 28) as ``load_mnist()`` returns them; :func:`prepare_images`
        scales them the recipe's way. Already prepared float arrays are used as they are.
        With a recipe that has an ``objective`` (such as lesson 13's detector), any uint8
        images (N, H, W), or float32 (N, H, W, C).
    y_train : array_like
        Digits 0-9, shape (N,) (one-hot rows are accepted too); with an ``objective``, the
        targets its loss reads, one row per image.
    model : keras.Model, optional
        The network to train; by default a fresh one from ``recipe.build``.
    epochs : int, optional
        Overrides the recipe's number of epochs (ignored when the recipe sets ``steps``).
    validation_split : float, default 0.2
        Share of the training images (the last ones, as Keras takes them) held out to
        validate after each epoch; 0.2 of 60,000 leaves 48,000 to train on.
    validation_data : tuple, optional
        ``(x_val, y_val)`` to validate on instead of a split.
    seed : int or None, default 0
        Passed to ``keras.utils.set_random_seed`` before the model is built; None leaves the
        random state alone.
    log : bool, default True
        Print one rounded line per epoch (:func:`epoch_log`).
    callbacks : sequence of keras.callbacks.Callback
        More callbacks for ``fit``.

    Returns
    -------
    TrainingRun

    Examples
    --------
    >>> (x_train, y_train), _ = load_mnist()  # doctest: +SKIP
    >>> run = train("lesson", x_train, y_train)  # doctest: +SKIP
    epoch 1/3  loss ...
    """
    import keras

    recipe = get_recipe(recipe)
    epochs = recipe.epochs if epochs is None else int(epochs)
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if recipe.validation_images_per_step < 1:
        raise ValueError(f"the recipe's validation_batch_size must be at least 1, got {recipe.validation_batch_size}")
    if recipe.steps is not None or recipe.objective is not None:
        return _train_steps(recipe, x_train, y_train, model=model, epochs=epochs,
                            validation_split=validation_split, validation_data=validation_data,
                            seed=seed, log=log, callbacks=callbacks)
    x = _prepare_for(recipe, x_train)
    y = recipe.targets(_integer_labels(y_train, x.shape[0], recipe.classes))
    if validation_data is None and not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    if validation_data is not None:
        x_val, y_val = validation_data
        validation_data = (
            _prepare_for(recipe, x_val),
            recipe.targets(_integer_labels(y_val, len(x_val), recipe.classes)),
        )
        validation_split = 0.0
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if model is None:
        model = recipe.build()
    n_fit = x.shape[0] - int(x.shape[0] * validation_split)
    total_steps = math.ceil(n_fit / recipe.batch_size) * epochs
    recipe.compile(model, total_steps)
    clock = _epoch_clock()
    all_callbacks = [clock] + ([epoch_log()] if log else []) + list(callbacks)
    if recipe.pipeline == "arrays":
        data = dict(x=x, y=y, batch_size=recipe.batch_size, validation_split=validation_split,
                    validation_data=validation_data, validation_batch_size=recipe.validation_images_per_step)
    elif recipe.pipeline == "tf.data":
        train_data, split_data = make_datasets(x, y, recipe.batch_size, validation_split=validation_split,
                                               seed=0 if seed is None else seed,
                                               validation_batch_size=recipe.validation_images_per_step,
                                               classes=recipe.classes)
        data = dict(x=train_data, validation_data=split_data, shuffle=False)
        if validation_data is not None:
            data["validation_data"] = _dataset(*validation_data, recipe.validation_images_per_step)
    else:
        raise ValueError(f"pipeline must be 'arrays' or 'tf.data', got {recipe.pipeline!r}")
    start = time.perf_counter()
    history = model.fit(**data, epochs=epochs, callbacks=all_callbacks, verbose=0)
    seconds = time.perf_counter() - start
    return TrainingRun(model, dict(history.history), seconds, recipe, list(clock.seconds))


def make_datasets(x, y, batch_size: int, *, validation_split: float = 0.2, seed: int = 0,
                  validation_batch_size: int = 500, classes: int = 10):
    """Split prepared images and labels into a training and a validation ``tf.data.Dataset``.

    The last ``validation_split`` of the images are held out, exactly the images Keras'
    ``fit(validation_split=...)`` would take. The training dataset is cached, reshuffled
    every epoch (with ``seed``), batched and prefetched, so feeding ``fit`` costs well under
    a millisecond per step; the validation dataset is batched by ``validation_batch_size``.

    Both datasets run with tf.data's autotuner off: on a 2-core machine its background
    thread can compete with training for a core. Measured here, some epochs then took twice
    as long (9 of 33 over three runs, none in a fourth run); with it off, none of 48 did
    (``bench/tfdata_autotune.py`` measures it).

    Parameters
    ----------
    x : numpy.ndarray
        Prepared images (see :func:`prepare_images`).
    y : array_like
        Digits 0-9 (kept as int32), or one-hot rows of shape (N, 10) (kept as float32), as
        :meth:`Recipe.targets` returns them.
    batch_size : int
        Images per training step.
    validation_split : float, default 0.2
        Share of the images held out; 0 gives no validation dataset (None).
    seed : int, default 0
        Seed of the shuffle.
    validation_batch_size : int, default 500
        Images per validation step: validating needs no gradients, so big steps are cheap.
    classes : int, default 10
        Number of classes the labels may name.

    Returns
    -------
    (tf.data.Dataset, tf.data.Dataset or None)

    Examples
    --------
    >>> train_data, validation_data = make_datasets(np.zeros((10, 28, 28, 1), "float32"), np.arange(10), 4)  # doctest: +SKIP
    >>> [len(list(train_data)), len(list(validation_data))]  # doctest: +SKIP
    [2, 1]
    """
    x = np.asarray(x)
    digits = _integer_labels(y, x.shape[0], classes)  # checks the shape and the values
    y = np.asarray(y, dtype="float32") if np.ndim(y) == 2 else digits
    n_fit = x.shape[0] - int(x.shape[0] * validation_split)
    if n_fit < 1:
        raise ValueError(f"validation_split={validation_split} leaves no image to train on: use a value below 1")
    train_data = _dataset(x[:n_fit], y[:n_fit], batch_size, shuffle_seed=seed)
    validation_data = _dataset(x[n_fit:], y[n_fit:], validation_batch_size) if n_fit < x.shape[0] else None
    return train_data, validation_data


def _dataset(x, y, batch_size: int, shuffle_seed: int | None = None):
    """A cached, batched, prefetched ``tf.data.Dataset``; reshuffled every epoch when a seed is given."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False  # its thread competes with training on small machines
    return dataset.batch(batch_size).prefetch(2).with_options(options)


def _prepare_for(recipe: Recipe, images) -> np.ndarray:
    array = np.asarray(images)
    if array.dtype == np.float32 and array.ndim == 4:
        return array  # already prepared
    return prepare_images(array, scale=recipe.scale_pixels)




# ----------------------------------------------------------------------------- step budgets
def _prepare_inputs(recipe: Recipe, images) -> np.ndarray:
    """Images as the recipe's network reads them (uint8 kept, to be scaled batch by batch)."""
    if recipe.objective is None:
        array = np.asarray(images)
        return array if array.dtype == np.uint8 and array.ndim == 3 else _prepare_for(recipe, array)
    array = np.asarray(images)
    if array.dtype.kind == "f" and array.ndim == 4:
        return array.astype("float32", copy=False)
    if array.dtype.kind in "iu" and array.ndim in (3, 4) and array.size and array.min() >= 0 and array.max() <= 255:
        return array.astype(np.uint8, copy=False)
    raise ValueError(
        f"images must be uint8 pixels 0-255 of shape (N, H, W) or float32 (N, H, W, C), got "
        f"{array.dtype} {array.shape}: pass the canvases' images stacked with np.stack"
    )


def _prepare_targets(recipe: Recipe, targets, n: int) -> np.ndarray:
    if recipe.objective is None:
        return recipe.targets(_integer_labels(targets, n, recipe.classes))
    y = np.asarray(targets)
    if y.dtype.kind not in "biuf" or y.ndim < 1 or y.shape[0] != n:
        raise ValueError(
            f"targets must be numbers with one row per image ({n} rows), got {y.dtype} {y.shape}: "
            "make them with the function that goes with the recipe's loss"
        )
    return y.astype("float32", copy=False)


def _gather_dataset(x, y, batch_size: int, scale: bool, *, seed: int | None, repeat: bool):
    """Batches gathered by index from one in-memory copy; uint8 images scaled batch by batch."""
    import tensorflow as tf

    x_all, y_all = tf.constant(x), tf.constant(y)
    indices = tf.data.Dataset.range(len(x))
    if seed is not None:
        indices = indices.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        indices = indices.repeat()
    indices = indices.batch(batch_size, drop_remainder=repeat)

    def gather(index):
        images = tf.gather(x_all, index)
        if images.dtype == tf.uint8:
            images = tf.cast(images, tf.float32)
            if scale:
                images = images / 255.0
            images = images[..., tf.newaxis]
        return images, tf.gather(y_all, index)

    options = tf.data.Options()
    options.autotune.enabled = False  # its thread competes with training on small machines
    return indices.map(gather).prefetch(2).with_options(options)


def _train_steps(recipe, x_train, y_train, *, model, epochs, validation_split, validation_data, seed, log,
                 callbacks) -> TrainingRun:
    """:func:`train` for recipes with a step budget or their own objective."""
    import keras

    x = _prepare_inputs(recipe, x_train)
    y = _prepare_targets(recipe, y_train, len(x))
    if validation_data is None and not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    n_fit = len(x) - (int(len(x) * validation_split) if validation_data is None else 0)
    if n_fit < 1:
        raise ValueError(f"validation_split={validation_split} leaves no image to train on: use a value below 1")
    if recipe.steps is not None and int(recipe.steps) < 1:
        raise ValueError(f"the recipe's steps must be at least 1, got {recipe.steps}")
    if validation_data is not None:
        x_val, y_val = validation_data
        x_val = _prepare_inputs(recipe, x_val)
        validation_data = (x_val, _prepare_targets(recipe, y_val, len(x_val)))
    elif n_fit < len(x):
        validation_data = (x[n_fit:], y[n_fit:])
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if model is None:
        model = recipe.build()
    per_epoch = math.ceil(n_fit / recipe.batch_size)
    total_steps = int(recipe.steps) if recipe.steps is not None else per_epoch * epochs
    recipe.compile(model, total_steps)
    clock = _epoch_clock()
    all_callbacks = [clock] + ([epoch_log()] if log else []) + list(callbacks)
    shuffle_seed = 0 if seed is None else seed
    repeat = recipe.steps is not None
    data = dict(x=_gather_dataset(x[:n_fit], y[:n_fit], recipe.batch_size, recipe.scale_pixels,
                                  seed=shuffle_seed, repeat=repeat), shuffle=False)
    if validation_data is not None:
        data["validation_data"] = _gather_dataset(*validation_data, recipe.validation_images_per_step,
                                                  recipe.scale_pixels, seed=None, repeat=False)
    if repeat:
        data.update(epochs=1, steps_per_epoch=total_steps)
    else:
        data.update(epochs=epochs)
    start = time.perf_counter()
    history = model.fit(**data, callbacks=all_callbacks, verbose=0)
    seconds = time.perf_counter() - start
    return TrainingRun(model, dict(history.history), seconds, recipe, list(clock.seconds))
