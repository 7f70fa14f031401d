"""Packaging: pyproject.toml, environment.yml and constraints.txt agree."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def split(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", requirement)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def environment_requirements() -> dict[str, str]:
    """The package lines of environment.yml (conda and pip sections), without a YAML library."""
    found = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        item = re.fullmatch(r"\s*-\s+(.+?)\s*(#.*)?", line)
        if (
            not item
            or item.group(1) in ("pip", "pip:", "conda-forge", "nodefaults", "-e .")
            or item.group(1).endswith(":")
        ):
            continue
        name, spec = split(item.group(1))
        found[name] = spec
    return found


def test_dependency_bounds_are_identical_in_pyproject_and_environment_yml():
    ours = dict(split(r) for r in pyproject()["project"]["dependencies"])
    theirs = environment_requirements()
    theirs.pop("python", None)
    assert theirs == ours


def test_environment_yml_uses_conda_forge_and_takes_tensorflow_and_the_course_from_pip():
    text = (ROOT / "environment.yml").read_text()
    assert "conda-forge" in text
    pip_section = text.split("- pip:", 1)[1]
    assert "tensorflow" in pip_section and "-e ." in pip_section


def test_python_floor_matches():
    assert pyproject()["project"]["requires-python"] == ">=3.10"
    assert "python>=3.10" in (ROOT / "environment.yml").read_text()


def test_constraints_pin_every_dependency_within_its_range():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version.strip()
    specs = (
        pyproject()["project"]["dependencies"]
        + pyproject()["project"]["optional-dependencies"]["dev"]
    )
    from packaging.specifiers import SpecifierSet

    for requirement in specs:
        name, spec = split(requirement)
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert pins[name] in SpecifierSet(spec), f"{name}=={pins[name]} is outside {spec}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and re.search(r"^make test\b", ci, re.M)
