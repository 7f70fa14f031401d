"""Fixtures shared by the unit tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _shared_mnist() -> Path | None:
    for candidate in (os.environ.get("CNNTEACH_DATA"), ROOT.parent / "shared" / "data" / "mnist"):
        if candidate and (Path(candidate) / "t10k-labels-idx1-ubyte.gz").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST IDX folder (CNNTEACH_DATA or ../shared/data/mnist); tests never download."""
    found = _shared_mnist()
    if found is None:
        pytest.skip("no local MNIST: set CNNTEACH_DATA to a folder with the four IDX files")
    return found


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):
    """The real MNIST test digits and labels, ``(x_test, y_test)``."""
    from cnnteach.data import load_mnist

    _, (x_test, y_test) = load_mnist(mnist_dir)
    return x_test, y_test


@pytest.fixture(scope="module")
def tiny_data():
    """80 random uint8 28x28 images and labels 0-9: enough for a one-epoch training."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(80, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=80).astype(np.uint8)
    return x, y


@pytest.fixture
def isolated_sources(tmp_path, monkeypatch):
    """No CNNTEACH_DATA, an empty per-user folder and an empty Keras cache, downloads forbidden."""
    monkeypatch.delenv("CNNTEACH_DATA", raising=False)
    monkeypatch.setenv("CNNTEACH_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "localappdata"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path


@pytest.fixture(scope="session")
def digit():
    """A real MNIST digit when the data is here, else a drawn stroke of the same size."""
    try:
        from cnnteach.data import load_mnist

        (x, _), _ = load_mnist()
        return x[0] / 255.0
    except Exception:  # pragma: no cover - the data is optional for these tests
        image = np.zeros((28, 28))
        image[5:23, 12:16] = 1.0
        return image


@pytest.fixture(autouse=True, scope="module")
def agg():
    import matplotlib

    matplotlib.use("Agg")
