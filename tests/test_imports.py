"""Importing cnnteach and its light modules must not import TensorFlow or Keras, nor have side effects."""

from __future__ import annotations

import subprocess
import sys

import pytest

LIGHT = ["cnnteach", "cnnteach.data", "cnnteach.exercises", "cnnteach.student", "cnnteach.doctor", "cnnteach.cli",
         "cnnteach.arithmetic", "cnnteach.ops", "cnnteach.plots", "cnnteach.explorers", "cnnteach.detect", "cnnteach.inspection", "cnnteach.models", "cnnteach.evaluation"]


@pytest.mark.parametrize("module", LIGHT)
def test_import_is_light(module):
    code = (
        "import importlib.util, sys, os\n"
        f"if importlib.util.find_spec({module!r}) is None: sys.exit(0)\n"
        "before = (dict(os.environ), os.getcwd())\n"
        "import matplotlib; rc = dict(matplotlib.rcParams)\n"
        f"import {module}\n"
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not heavy, f'importing {module} imported {heavy}'\n"
        "assert (dict(os.environ), os.getcwd()) == before, 'import changed the environment'\n"
        "assert dict(matplotlib.rcParams) == rc, 'import changed rcParams'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
