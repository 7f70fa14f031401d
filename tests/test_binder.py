"""repo2docker (Binder, JupyterHub images): environment.yml and postBuild are consistent, minimal.

repo2docker picks the conda build pack from environment.yml. Because its pip section holds a
local requirement (``-e .``), repo2docker copies the whole repository before installing it, so
the course package is installed by environment.yml itself; postBuild then only caches MNIST.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POSTBUILD = ROOT / "postBuild"


def environment() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def pip_section(env: dict) -> list[str]:
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "one pip: section"
    return sections[0]


def test_environment_yml_is_what_repo2docker_expects():
    env = environment()
    assert env["channels"][0] == "conda-forge"
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "pip" in conda, "pip itself must be a conda dependency for the pip: section"
    assert any(d.startswith("python") for d in conda) and any(
        d.startswith("jupyterlab") for d in conda
    )
    pip = pip_section(env)
    names = [re.split(r"[<>=!~ ]", line, maxsplit=1)[0] for line in pip]
    assert "tensorflow" in names and "keras" in names
    assert "-e ." in pip, (
        "the course is installed by environment.yml (repo2docker stages the repo for it)"
    )


def test_no_file_makes_repo2docker_ignore_environment_yml():
    # A binder/ or .binder/ folder makes repo2docker read only that folder; a Dockerfile replaces
    # everything; requirements.txt beside environment.yml is silently ignored.
    for name in ("binder", ".binder", "Dockerfile", "requirements.txt", "environment.yaml"):
        assert not (ROOT / name).exists(), f"{name} would change what repo2docker builds"


def test_postbuild_is_an_executable_minimal_bash_script():
    text = POSTBUILD.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash\n") and "set -euo pipefail" in text
    assert os.access(POSTBUILD, os.X_OK), "repo2docker runs postBuild only when it is executable"
    assert subprocess.run(["bash", "-n", str(POSTBUILD)]).returncode == 0
    commands = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    obsolete = (
        "labextension install",
        "jupyter lab build",
        "nbextension",
        "serverextension",
        "jupyter contrib",
    )
    for line in commands:
        assert not any(word in line for word in obsolete), f"JupyterLab 4 needs no {line!r}"
        assert "pip install" not in line and "conda install" not in line, (
            f"dependencies belong in environment.yml, not postBuild: {line!r}"
        )


def test_postbuild_uses_only_what_environment_yml_installs():
    text = POSTBUILD.read_text(encoding="utf-8")
    assert "cnnteach" in text and "-e ." in pip_section(environment())
    assert "\r\n" not in text, "Unix line endings (bash rejects CRLF)"
