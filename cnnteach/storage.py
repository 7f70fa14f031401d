"""Keep a trained model in a ``.keras`` file: where it lives, safe saving and safe loading.

:func:`save_model` writes atomically (a temporary file, then a rename), so an interrupted save
never leaves a half-written model; :func:`load_trained_model` loads with Keras' safe mode,
checks that the network has the shapes the lessons expect, and trains the lesson model once
when there is no file yet. Keras is imported inside the functions.
"""

from __future__ import annotations

import os
from pathlib import Path

from cnnteach._files import pid_alive

__all__ = [
    "MODELS_ENV_VAR",
    "ModelFileError",
    "default_model_path",
    "load_trained_model",
    "save_model",
    "shown_path",
]

#: Environment variable naming the folder where the trained lesson model is kept.
MODELS_ENV_VAR = "CNNTEACH_MODELS"
MODEL_FILE_NAME = "lesson_model.keras"


class ModelFileError(Exception):
    """A saved model file is missing, damaged or not a Keras file; the message says what to do.

    Examples
    --------
    >>> str(ModelFileError("lesson_model.keras is empty: delete it and run lesson 08 again"))
    'lesson_model.keras is empty: delete it and run lesson 08 again'
    """


def default_model_path() -> Path:
    """Where the trained lesson model is kept.

    ``$CNNTEACH_MODELS/lesson_model.keras`` when that variable is set, otherwise
    ``lesson_model.keras`` in a ``models`` folder beside the per-user MNIST folder (on Linux
    ``~/.local/share/cnnteach/models``).

    Examples
    --------
    >>> default_model_path().name
    'lesson_model.keras'
    """
    folder = os.environ.get(MODELS_ENV_VAR)
    if folder:
        return Path(folder).expanduser() / MODEL_FILE_NAME
    from cnnteach.data import user_data_dir

    return user_data_dir().parent / "models" / MODEL_FILE_NAME


def _model_path(path) -> Path:
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise ValueError(
            f"a model path must be a file name such as 'lesson_model.keras', "
            f"not the {type(path).__name__} {path!r}: pass a str or pathlib.Path."
        )
    path = default_model_path() if path is None else Path(path).expanduser()
    if path.suffix != ".keras":
        raise ValueError(
            f"a model file name must end in .keras, got {path.name!r}: rename it, e.g. "
            f"{path.stem}.keras"
        )
    return path


def save_model(model, path=None) -> Path:
    """Save a trained model as a ``.keras`` file and return its path.

    The file is written under a temporary name first and then renamed, so an interrupted
    save never leaves a half-written model behind.

    Parameters
    ----------
    model : keras.Model
    path : str or pathlib.Path, optional
        Where to save; by default :func:`default_model_path`. Must end in ``.keras``.
        Missing folders are created.

    Examples
    --------
    >>> path = "/tmp/cnnteach-doctest/lesson_model.keras"  # doctest: +SKIP
    >>> save_model(lesson_model(), path).name  # doctest: +SKIP
    'lesson_model.keras'
    """
    if not callable(getattr(model, "save", None)):
        raise ValueError(
            f"save_model needs a Keras model, not the {type(model).__name__} {model!r}: "
            "pass the model that train() returned (run.model)."
        )
    path = _model_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelFileError(
            f"cannot create the folder {path.parent} ({exc.strerror}): pass another path, or set "
            f"{MODELS_ENV_VAR}"
        ) from None
    _remove_stale_partials(path)
    partial = path.with_name(f".{path.stem}-partial-{os.getpid()}.keras")
    try:
        model.save(partial)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ModelFileError(
            f"cannot write {path} ({exc.strerror}): check the folder's permissions, or pass "
            "another path"
        ) from None
    return path


def _remove_stale_partials(path: Path) -> None:
    """Remove half-written saves of ``path`` left by a process that no longer runs."""
    for partial in path.parent.glob(f".{path.stem}-partial-*.keras"):
        pid = partial.stem.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            partial.unlink(missing_ok=True)


def shown_path(path) -> str:
    """``path`` as a lesson may print it: no temporary folder, no user name.

    Inside the folder ``$CNNTEACH_MODELS`` names, the path is written from that variable;
    inside the home folder, from ``~``.

    Examples
    --------
    >>> import os
    >>> shown_path(os.path.join(os.path.expanduser("~"), "models", "lesson_model.keras"))
    '~/models/lesson_model.keras'
    """
    path = Path(path)
    for base, name in ((os.environ.get(MODELS_ENV_VAR), f"${MODELS_ENV_VAR}"), ("~", "~")):
        if not base:
            continue
        try:
            rest = path.relative_to(Path(base).expanduser())
        except ValueError:
            continue
        return f"{name}/{rest.as_posix()}"
    return str(path)


def _where(path: Path, preposition: str) -> str:
    """Where a model file lives, without a machine-specific folder for the default one."""
    if path == default_model_path():
        return f"{path.name} {preposition} the course's models folder (default_model_path())"
    return f"{preposition} {shown_path(path)}"


#: The shapes a model must have to stand in for the lesson model.
LESSON_SHAPES = ((28, 28, 1), 10)


def load_trained_model(path=None, *, train_if_missing: bool = True, shapes=LESSON_SHAPES):
    """Load the trained lesson model; train and save it first if there is none yet.

    Prints one line saying which happened. The file is loaded with Keras' safe mode, which
    refuses to run code stored in a model file.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        The ``.keras`` file; by default :func:`default_model_path` (lesson 08 saves there).
    train_if_missing : bool, default True
        When the file does not exist, train the lesson recipe on MNIST (seconds on a laptop
        CPU), save it at ``path`` and return it. False raises :class:`ModelFileError` instead.
    shapes : (tuple, int) or None, default ``((28, 28, 1), 10)``
        The input shape (without the batch) and the number of outputs the loaded network
        must have; a network of another architecture is refused. None skips the check.

    Returns
    -------
    keras.Model
        The trained, compiled model.

    Raises
    ------
    ModelFileError
        The file exists but is not a readable Keras model (it is never deleted or changed),
        holds a network of other shapes, or is missing and ``train_if_missing`` is False.

    Examples
    --------
    >>> model = load_trained_model()  # doctest: +SKIP
    Loaded the trained model lesson_model.keras from the course's models folder
    (default_model_path()).
    >>> load_trained_model(123)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: a model path must be a file name such as 'lesson_model.keras', not the int 123:
    pass a str or pathlib.Path.
    """
    path = _model_path(path)
    if path.is_dir():
        raise ModelFileError(
            f"{path} is a folder, not a model file: remove or rename it, or pass the path of a "
            ".keras file"
        )
    if path.exists():
        model = _load_keras_file(path)
        _check_shapes(model, path, shapes)
        print(f"Loaded the trained model {_where(path, 'from')}.")
        return model
    if not train_if_missing:
        raise ModelFileError(
            f"there is no trained model at {path}: run lesson 08 to train and save one, "
            "or call load_trained_model(train_if_missing=True)"
        )
    from cnnteach.data import load_mnist
    from cnnteach.training import train

    (x_train, y_train), _ = load_mnist()
    run = train("lesson", x_train, y_train, log=False)
    save_model(run.model, path)
    print(
        f"No trained model was found, so the lesson recipe was trained in {run.fit_seconds:.1f} s "
        f"(validation accuracy {run.final('val_accuracy'):.3f}) and saved {_where(path, 'in')}."
    )
    return run.model


def _check_shapes(model, path: Path, shapes) -> None:
    if shapes is None:
        return
    image_shape, outputs = shapes
    try:
        found_in = tuple(model.input_shape[1:])
        found_out = model.output_shape[-1]
    except (AttributeError, ValueError, TypeError):
        found_in, found_out = None, None
    if found_in != tuple(image_shape) or found_out != outputs:
        raise ModelFileError(
            f"{path} holds a network that reads {found_in} and gives {found_out} outputs, but "
            f"the lessons need one that reads {tuple(image_shape)} and gives {outputs}: "
            "pass the path of the lesson model, or delete the file and run lesson 08 again."
        )


def _load_keras_file(path: Path):
    import zipfile

    import keras

    fix = (
        "delete it and run lesson 08 again "
        "(or call load_trained_model(), which retrains when the file is missing)"
    )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelFileError(
            f"{path} cannot be read ({exc.strerror}): check its permissions, or {fix}"
        ) from None
    if size == 0:
        raise ModelFileError(f"{path} is empty (0 bytes): {fix}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path} is not a Keras model file (a .keras file is a zip archive): {fix}"
        )
    try:
        return keras.models.load_model(path, safe_mode=True)
    except Exception as exc:  # Keras raises many kinds; one sentence is what the learner needs
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(
            f"{path} could not be loaded as a Keras model ({reason}): {fix}"
        ) from None
