"""cnnteach.doctor: each readiness check reports what it found and, on failure, what to do."""

from __future__ import annotations

from cnnteach import doctor


def test_checks_pass_here(mnist_dir, monkeypatch):
    monkeypatch.setenv("CNNTEACH_DATA", str(mnist_dir))
    results = {c.name: c for c in doctor.run_checks()}
    assert list(results) == ["Python", "TensorFlow/Keras", "Device", "MNIST", "Plots", "Widgets"]
    assert all(c.ok for c in results.values()), results
    assert "backend tensorflow" in results["TensorFlow/Keras"].found
    assert "60,000 + 10,000 images" in results["MNIST"].found


def test_mnist_check_says_what_to_do(isolated_sources):
    result = doctor.check_mnist()
    assert not result.ok and "cnnteach data install" in result.fix
    assert repr(result).startswith("✗ MNIST: not usable -> ")


def test_missing_widgets_are_reported(monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, *args):
        if name == "jupyterlab_widgets":
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(doctor.importlib, "import_module", fake)
    result = doctor.check_widgets()
    assert not result.ok and "pip install jupyterlab_widgets" in result.fix
