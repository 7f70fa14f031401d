"""Importing cnnteach and its light modules must not import TensorFlow or Keras,
nor have side effects.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every module of the package: none may import TensorFlow or Keras, or change anything, when
# imported (the networks import Keras inside the functions that build them).
LIGHT = ["cnnteach"] + sorted(
    "cnnteach." + ".".join(path.relative_to(ROOT / "cnnteach").with_suffix("").parts)
    for path in (ROOT / "cnnteach").rglob("*.py")
    if path.name not in ("__init__.py", "__main__.py")
)


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
