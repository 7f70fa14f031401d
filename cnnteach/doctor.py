"""Is this machine ready for the course? Shared by lesson 00 and ``cnnteach doctor``.

Each check returns a :class:`Check`: its name, whether it passed, what was found and, when it
failed, what to do. ``cnnteach doctor`` prints them and exits 0 only when all pass.
"""

from __future__ import annotations

import importlib
import io
import platform
import sys
from dataclasses import dataclass

__all__ = [
    "Check",
    "run_checks",
    "check_python",
    "check_tensorflow",
    "check_device",
    "check_mnist",
    "check_plotting",
    "check_widgets",
]


@dataclass(frozen=True)
class Check:
    """The outcome of one readiness check.

    Examples
    --------
    >>> Check("Python", True, "3.11.7")
    ✓ Python: 3.11.7
    """

    name: str
    ok: bool
    found: str
    fix: str = ""

    def __repr__(self) -> str:
        line = f"{'✓' if self.ok else '✗'} {self.name}: {self.found}"
        return f"{line} -> {self.fix}" if self.fix and not self.ok else line


def check_python() -> Check:
    """Python 3.10 or newer.

    Examples
    --------
    >>> check_python().ok
    True
    """
    version = platform.python_version()
    ok = sys.version_info >= (3, 10)
    return Check(
        "Python",
        ok,
        version,
        "" if ok else "install Python 3.10 or newer, then run `make lab` again",
    )


def check_tensorflow() -> Check:
    """TensorFlow and Keras 3 import; reports versions and the Keras backend."""
    try:
        import keras
        import tensorflow as tf
    except Exception as exc:  # ImportError, or a broken binary install
        return Check(
            "TensorFlow/Keras",
            False,
            f"cannot import ({type(exc).__name__}: {exc})",
            "run `make lab` (or `pip install -e .`) to install them",
        )
    major = int(keras.__version__.split(".")[0])
    found = (
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, backend {keras.backend.backend()}"
    )
    if major < 3:
        return Check(
            "TensorFlow/Keras",
            False,
            found,
            "the course needs Keras 3: run `pip install -U 'keras>=3.5'`",
        )
    return Check("TensorFlow/Keras", True, found)


def check_device() -> Check:
    """CPU or GPU; either is fine, since every lesson runs in seconds on a laptop CPU."""
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    except Exception as exc:
        return Check(
            "Device", False, f"unknown ({type(exc).__name__})", "fix the TensorFlow install first"
        )
    found = (
        f"{len(gpus)} GPU(s)"
        if gpus
        else f"CPU only ({platform.machine()}); that is all the course needs"
    )
    return Check("Device", True, found)


def check_mnist(path=None) -> Check:
    """Find MNIST, load it and verify its checksums, without downloading unless nothing is local."""
    from cnnteach.data import DataError, find_mnist, load_mnist

    try:
        source = find_mnist(path)
        (x_train, _), (x_test, _) = load_mnist(path)
    except DataError as exc:
        return Check("MNIST", False, "not usable", str(exc))
    return Check(
        "MNIST",
        True,
        f"{source.describe()}: {len(x_train):,} + {len(x_test):,} images, checksums pass",
    )


def check_plotting() -> Check:
    """Matplotlib can draw a figure to PNG (without touching global settings)."""
    try:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(1, 1))
        fig.add_subplot().plot([0, 1], [0, 1])
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        import matplotlib
    except Exception as exc:
        return Check(
            "Plots",
            False,
            f"matplotlib fails ({type(exc).__name__}: {exc})",
            "run `pip install -U matplotlib`",
        )
    return Check(
        "Plots",
        True,
        f"matplotlib {matplotlib.__version__} draws PNG ({len(buffer.getvalue()):,} bytes)",
    )


def check_widgets() -> Check:
    """ipywidgets and its JupyterLab extension are installed (the browser side shows in
    lesson 00)."""
    missing = []
    versions = []
    for module in ("ipywidgets", "jupyterlab_widgets"):
        try:
            versions.append(f"{module} {importlib.import_module(module).__version__}")
        except Exception:
            missing.append(module)
    if missing:
        return Check(
            "Widgets",
            False,
            f"missing {', '.join(missing)}",
            f"run `pip install {' '.join(missing)}`",
        )
    return Check("Widgets", True, ", ".join(versions))


CHECKS = (check_python, check_tensorflow, check_device, check_mnist, check_plotting, check_widgets)


def run_checks() -> list[Check]:
    """Run every check in order and return their results.

    Examples
    --------
    >>> [c.name for c in run_checks()]  # doctest: +SKIP
    ['Python', 'TensorFlow/Keras', 'Device', 'MNIST', 'Plots', 'Widgets']
    """
    return [check() for check in CHECKS]
