"""Training the two-stage detector: three alternating stages through the course's ``train``.

Stage 1 trains the backbone and the RoI head (Fast R-CNN) on sampled RoIs, stage 2 the RPN's
own layers on the frozen backbone, stage 3 the RoI head again on the RPN's proposals (Ren et
al.'s alternating training). :func:`load_two_stage` keeps the trained model beside the lesson
model and trains it when it is missing; :func:`training_info` reports what each stage did.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from cnnteach.one_stage import ANCHORS, CANVAS
from cnnteach.roi import _layer_classes
from cnnteach.training import Recipe
from cnnteach.two_stage import (
    _fast_view,
    _rpn_view,
    _stack,
    propose,
    roi_loss,
    roi_targets,
    rpn_targets,
    sample_rois,
    two_stage_model,
)

__all__ = [
    "RECIPES",
    "load_two_stage",
    "make_training_data",
    "proposal_targets",
    "train_two_stage",
    "training_info",
]


# ----------------------------------------------------------------------------- training
def _roi_trainer(net):
    """Wrap the Fast R-CNN view so that ``fit`` feeds it the RoIs stored in the targets."""
    import keras
    import tensorflow as tf

    class RoiTrainer(keras.Model):
        def __init__(self, net, **kwargs):
            super().__init__(**kwargs)
            self.net = net
            self.loss_tracker = keras.metrics.Mean(name="loss")

        @property
        def metrics(self):
            return [self.loss_tracker]

        def call(self, inputs, training=False):
            return self.net(inputs, training=training)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                pred = self.net([x, y[..., :4]], training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

    return RoiTrainer(net)


def _fresh_roi_trainer():
    return _roi_trainer(_fast_view(two_stage_model()))


def _fresh_rpn_view():
    return _rpn_view(two_stage_model())


def _roi_objective():
    return roi_loss(box_weight=2.0)


def _rpn_loss():
    from cnnteach.one_stage import detection_loss

    return detection_loss(classes=1)


#: The two stages' recipes. Stage 1, ``"roi"`` (Fast R-CNN): backbone and RoI head, 16 canvases
#: x 32 sampled RoIs per step. Stage 2, ``"rpn"``: the RPN's own layers on the frozen backbone,
#: with lesson 13's mined softmax over two classes (object, background).
RECIPES = {
    "roi": Recipe(
        "fast-rcnn",
        _fresh_roi_trainer,
        batch_size=16,
        steps=1000,
        learning_rate=0.004,
        schedule="warmup-cosine",
        warmup_fraction=0.05,
        steps_per_execution=10,
        objective=_roi_objective,
    ),
    "rpn": Recipe(
        "rpn",
        _fresh_rpn_view,
        batch_size=32,
        steps=1000,
        learning_rate=0.008,
        schedule="warmup-cosine",
        warmup_fraction=0.05,
        steps_per_execution=10,
        objective=_rpn_loss,
    ),
    "head": Recipe(
        "fast-rcnn-head",
        _fresh_roi_trainer,
        batch_size=16,
        steps=500,
        learning_rate=0.002,
        schedule="warmup-cosine",
        warmup_fraction=0.05,
        steps_per_execution=10,
        objective=_roi_objective,
    ),
}


def make_training_data(images, labels, n: int, *, first_seed: int = 0, rois_per_canvas: int = 32):
    """``n`` training canvases (use TRAINING digits), with sampled RoI targets and RPN targets.

    Returns
    -------
    x : numpy.ndarray, uint8, shape (n, 96, 96)
    roi_y : numpy.ndarray, float32, shape (n, rois_per_canvas, 9)
        From :func:`sample_rois` and :func:`roi_targets`.
    rpn_y : numpy.ndarray, float32, shape (n, 1296, 5)
        From :func:`rpn_targets`.

    Examples
    --------
    >>> digits = np.zeros((8, 28, 28), np.uint8); digits[:, 4:24, 8:20] = 255
    >>> x, roi_y, rpn_y, canvases = make_training_data(digits, np.arange(8), 2)
    >>> x.shape, roi_y.shape, rpn_y.shape
    ((2, 96, 96), (2, 32, 9), (2, 1296, 5))
    """
    from cnnteach.canvases import make_canvases

    canvases = make_canvases(images, labels, n, first_seed=first_seed, **CANVAS)
    rng = np.random.default_rng(first_seed)
    roi_y = np.stack(
        [
            roi_targets(
                *sample_rois(c.boxes, rng, count=rois_per_canvas, size=CANVAS["size"]),
                c.boxes,
                c.labels,
            )
            for c in canvases
        ]
    )
    x = np.stack([c.image for c in canvases])
    return x, roi_y, rpn_targets(canvases), canvases


def proposal_targets(model, canvases, *, seed: int = 1, rois_per_canvas: int = 32, top_k: int = 50):
    """RoI targets sampled from the RPN's own proposals (plus the true boxes), for stage 3.

    Examples
    --------
    >>> head_y = proposal_targets(model, canvases)  # doctest: +SKIP
    """
    from cnnteach.callbacks import quiet_retracing

    x = _stack(canvases)
    with quiet_retracing():
        _, f8 = model.get_layer("features").predict(x, batch_size=256, verbose=0)
        rpn_out = model.get_layer("rpn").predict(f8, batch_size=256, verbose=0)
    anchors = ANCHORS.anchors(x.shape[1:3])
    rng = np.random.default_rng(seed)
    rows = []
    for canvas, out in zip(canvases, rpn_out):
        proposals = propose(out, anchors, size=x.shape[1], top_k=top_k)[0]
        rois, matched = sample_rois(
            canvas.boxes,
            rng,
            count=rois_per_canvas,
            size=x.shape[1],
            candidates=proposals,
            jitter=False,
        )
        rows.append(roi_targets(rois, matched, canvas.boxes, canvas.labels))
    return np.stack(rows)


def train_two_stage(
    images,
    labels,
    *,
    n_canvases: int = 8000,
    roi_steps=None,
    rpn_steps=None,
    head_steps=None,
    seed: int = 0,
    callbacks=(),
):
    """Train the two-stage detector alternately, in three stages that share one backbone.

    1. **Fast R-CNN** (:data:`RECIPES` ``"roi"``): the backbone and the RoI head, on RoIs
       sampled around the true boxes (:func:`sample_rois`), so the shared features learn what
       a digit looks like; no RPN is needed yet.
    2. **RPN** (``"rpn"``): the backbone frozen, only the RPN's layers learn, with Faster
       R-CNN's 0.7 / 0.3 anchor labels (:func:`rpn_targets`).
    3. **Head on the RPN's proposals** (``"head"``): the backbone still frozen, the RoI head
       fine-tuned on RoIs sampled from the RPN's own proposals (:func:`proposal_targets`).

    Stages 2 and 3 are steps 3 and 4 of Ren et al. (2015)'s 4-step alternating training,
    which fix the shared convolutional layers and fine-tune only the layers unique to the RPN,
    then to Fast R-CNN. Every stage goes through :func:`cnnteach.training.train`.

    Returns
    -------
    model : keras.Model
        :func:`two_stage_model`, trained.
    info : dict
        Per stage (``"roi"``, ``"rpn"``, ``"head"``): ``steps``, ``fit_seconds``,
        ``canvases_per_s`` and ``final_loss``; ``proposal_seconds``: making stage 3's RoIs.

    Examples
    --------
    >>> model, info = train_two_stage(x_train, y_train)  # doctest: +SKIP
    """
    from dataclasses import replace

    import keras

    from cnnteach.training import train

    recipes = RECIPES
    roi_recipe = (
        recipes["roi"] if roi_steps is None else replace(recipes["roi"], steps=int(roi_steps))
    )
    rpn_recipe = (
        recipes["rpn"] if rpn_steps is None else replace(recipes["rpn"], steps=int(rpn_steps))
    )
    head_recipe = (
        recipes["head"] if head_steps is None else replace(recipes["head"], steps=int(head_steps))
    )
    x, roi_y, rpn_y, canvases = make_training_data(images, labels, n_canvases)
    keras.utils.set_random_seed(seed)
    model = two_stage_model()
    info = {}
    run = train(
        roi_recipe,
        x,
        roi_y,
        model=_roi_trainer(_fast_view(model)),
        validation_split=0.0,
        seed=None,
        log=False,
        callbacks=callbacks,
    )
    info["roi"] = _stage_info(run)
    model.get_layer("features").trainable = False
    run = train(
        rpn_recipe,
        x,
        rpn_y,
        model=_rpn_view(model),
        validation_split=0.0,
        seed=None,
        log=False,
        callbacks=callbacks,
    )
    info["rpn"] = _stage_info(run)
    start = time.perf_counter()
    head_y = proposal_targets(model, canvases, seed=seed + 1)
    info["proposal_seconds"] = round(time.perf_counter() - start, 2)
    run = train(
        head_recipe,
        x,
        head_y,
        model=_roi_trainer(_fast_view(model)),
        validation_split=0.0,
        seed=None,
        log=False,
        callbacks=callbacks,
    )
    info["head"] = _stage_info(run)
    model.get_layer("features").trainable = True
    return model, info


def _stage_info(run):
    steps = int(run.recipe.steps)
    return dict(
        steps=steps,
        fit_seconds=round(run.fit_seconds, 2),
        canvases_per_s=round(steps * run.recipe.batch_size / run.fit_seconds, 1),
        final_loss=round(run.final("loss"), 4),
    )


TWO_STAGE_FILE = "two_stage_detector.keras"


def load_two_stage(path=None, *, train_if_missing: bool = True):
    """Load the trained two-stage detector; train and save it first if the file is missing.

    The file is ``two_stage_detector.keras`` beside the lesson model (in ``$CNNTEACH_MODELS``
    when that is set), so ``make outputs`` trains it once and later runs load it.

    Examples
    --------
    >>> model = load_two_stage()  # doctest: +SKIP
    """
    import keras

    from cnnteach._files import write_atomic
    from cnnteach.storage import default_model_path, save_model, shown_path

    path = Path(path) if path is not None else default_model_path().with_name(TWO_STAGE_FILE)
    classes = _layer_classes()
    if path.exists():
        model = keras.models.load_model(path, compile=False, custom_objects=classes)
        print(f"Loaded the trained two-stage detector from {shown_path(path)}.")
        return model
    if not train_if_missing:
        raise FileNotFoundError(f"{path} does not exist: call load_two_stage() to train it")
    from cnnteach.data import load_mnist

    (x_train, y_train), _ = load_mnist()
    start = time.perf_counter()
    model, info = train_two_stage(x_train, y_train)
    save_model(model, path)
    write_atomic(path.with_suffix(".json"), json.dumps(info, indent=1).encode("utf-8"))
    print(
        f"Trained the two-stage detector ({info['roi']['steps']} + {info['rpn']['steps']} + "
        f"{info['head']['steps']} steps, "
        f"{time.perf_counter() - start:.0f} s) and saved it to {shown_path(path)}."
    )
    return model


def training_info(path=None):
    """Steps, ``fit`` seconds, canvases per second and final loss of each stage, as trained.

    :func:`load_two_stage` writes them beside the model (``two_stage_detector.json``) when it
    trains it; None when that file is not there.

    Examples
    --------
    >>> training_info("no/such/file.keras") is None
    True
    """
    from cnnteach.storage import default_model_path

    path = Path(path) if path is not None else default_model_path().with_name(TWO_STAGE_FILE)
    info = path.with_suffix(".json")
    return json.loads(info.read_text(encoding="utf-8")) if info.is_file() else None
