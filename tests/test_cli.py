"""The cnnteach command line: one sentence and a non-zero status on failure, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "cnnteach", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_data_install_from_a_usb_folder(mnist_dir, tmp_path):
    done = run("data", "install", str(mnist_dir), "--to", str(tmp_path / "lab"))
    assert done.returncode == 0, done.stderr
    assert (
        "MNIST verified and installed" in done.stdout
        and (tmp_path / "lab" / "t10k-labels-idx1-ubyte.gz").is_file()
    )


def test_data_install_into_the_per_user_folder(mnist_dir, tmp_path):
    env = {
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path),
        "LOCALAPPDATA": str(tmp_path / "lad"),
    }
    assert run("data", "install", str(mnist_dir), env=env).returncode == 0
    where = run("data", "where", env={**env, "CNNTEACH_DATA": "", "CNNTEACH_OFFLINE": "1"})
    assert (
        where.returncode == 0
        and "from user data folder" in where.stdout
        and "checksums pass" in where.stdout
    )


@pytest.mark.parametrize("args", [("data", "install", "/no/such/usb"), ("data", "where")])
def test_failures_are_one_sentence(args, tmp_path):
    env = {"CNNTEACH_DATA": str(tmp_path / "missing"), "CNNTEACH_OFFLINE": "1"}
    done = run(*args, env=env)
    assert done.returncode == 1
    assert (
        done.stderr.startswith("cnnteach: ")
        and done.stderr.count("\n") == 1
        and "Traceback" not in done.stderr
    )


def test_doctor_exits_non_zero_with_a_one_line_reason_when_mnist_is_missing(tmp_path):
    env = {
        "CNNTEACH_DATA": "",
        "CNNTEACH_OFFLINE": "1",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "x"),
        "KERAS_HOME": str(tmp_path / "k"),
    }
    done = run("doctor", env=env)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("not ready: MNIST: ") and "cnnteach data install" in last
    assert "✓ Python" in done.stdout and "✗ MNIST" in done.stdout


def test_doctor_passes_on_a_ready_machine(mnist_dir):
    done = run("doctor", env={"CNNTEACH_DATA": str(mnist_dir)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("ready: every check passed")
    assert "TensorFlow" in done.stdout and "checksums pass" in done.stdout


def test_help_lists_every_command():
    done = run("--help")
    assert done.returncode == 0 and all(
        word in done.stdout for word in ("data", "doctor", "student")
    )


def test_after_an_install_where_names_that_copy_and_it_verifies(
    mnist_dir, tmp_path
):  # issue 15, defect 4
    import gzip

    dest = tmp_path / "lab"
    dest.mkdir()
    (dest / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b damaged")  # an old damaged copy
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in mnist_dir.glob("*-ubyte.gz"):
        (raw / path.name[:-3]).write_bytes(gzip.decompress(path.read_bytes()))
    done = run("data", "install", str(raw), "--to", str(dest))
    assert done.returncode == 0, done.stderr
    assert "moved the superseded" in done.stdout and f"set CNNTEACH_DATA={dest}" in done.stdout
    where = run("data", "where", env={"CNNTEACH_DATA": str(dest)})
    assert where.returncode == 0, where.stderr
    assert f"IDX files in {dest}" in where.stdout and "checksums pass" in where.stdout


def test_install_over_other_files_needs_replace(mnist_dir, tmp_path):  # issue 15, defect 5
    dest = tmp_path / "lab"
    dest.mkdir()
    (dest / "train-labels-idx1-ubyte.gz").write_bytes(b"fashion")
    refused = run("data", "install", str(mnist_dir), "--to", str(dest))
    assert (
        refused.returncode == 1
        and refused.stderr.count("\n") == 1
        and "--replace" in refused.stderr
    )
    assert sorted(p.name for p in dest.iterdir()) == ["train-labels-idx1-ubyte.gz"]
    done = run("data", "install", str(mnist_dir), "--to", str(dest), "--replace")
    assert (
        done.returncode == 0
        and "kept the old train-labels-idx1-ubyte.gz as train-labels-idx1-ubyte.gz.bak"
        in done.stdout
    )
    assert (dest / "train-labels-idx1-ubyte.gz.bak").read_bytes() == b"fashion"


def test_usage_errors_are_one_line():
    done = run("data", "install")
    assert (
        done.returncode == 2 and done.stderr.count("\n") == 1 and done.stderr.strip().endswith(".")
    )
