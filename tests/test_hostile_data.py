"""Hostile inputs to cnnteach.data, cnnteach.install, cnnteach.student and the command line.

Every call below must end, within a time limit, either with the result it documents or with a
documented exception (DataError or TypeError for data, ValueError or TypeError for the student
build) whose message is one sentence: one line, ending with a full stop. The command line must
answer with exit status 1 or 2 and one such line on stderr.

``python tests/test_hostile_data.py`` prints, per area, how many cases were tried and how many
ended cleanly, unclearly (a documented exception whose message is not one sentence), with a
traceback (another exception type), in a hang, or silently wrong (a result where an error was
due); its last line is JSON.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import os
import struct
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnnteach import data
from cnnteach.data import DataError

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    given = None

LIMIT_S = 5.0
_FIFOS: list = []  # FIFOs to unblock when a call hangs on one
VALUES = {  # hostile values for a path argument
    "None": None,
    "nan": math.nan,
    "inf": math.inf,
    "negative": -1,
    "huge int": 10**30,
    "empty str": "",
    "bytes": b"/tmp",
    "0-d array": np.array(3),
    "ragged list": [[1], [1, 2]],
    "generator": (x for x in "ab"),
    "object": object(),
}


def _fifo_unblock(path: Path) -> None:
    """Open a FIFO's write end and close it, so that a reader stuck in open() gets EOF."""
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def outcome(call, allowed, *, ok=False, fifos=()):
    """Run ``call``; classify it as clean, unclear, traceback, hang or silently wrong.

    "unclear" is a documented exception raised by cnnteach whose message is not one sentence
    (several lines, or no full stop at the end); "traceback" is any other exception, including
    a documented type raised by a library cnnteach called (``Path(b"x")``'s TypeError).
    """
    box = {}

    def target():
        try:
            box["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - classified below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(LIMIT_S)
    if thread.is_alive():
        for fifo in fifos:
            _fifo_unblock(fifo)
        return "hang", None
    if "error" not in box:
        return ("clean" if ok else "silently wrong"), box.get("result")
    exc = box["error"]
    text = str(exc)
    if isinstance(exc, allowed) and (isinstance(exc, Refusal) or _raised_by_cnnteach(exc)):
        return ("clean" if "\n" not in text and text.endswith(".") else "unclear"), exc
    return "traceback", exc


class Refusal(ValueError):
    """The command line refused, with exit status 1 or 2 and this text on stderr."""


def _raised_by_cnnteach(exc: BaseException) -> bool:
    """Whether cnnteach raised ``exc`` itself (not a library it called, such as pathlib or json)."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and f"{os.sep}cnnteach{os.sep}" in frame.tb_frame.f_code.co_filename


def cli(argv, env=None):
    """Run ``cnnteach.cli.main`` in-process; return a callable for :func:`outcome`."""

    def call():
        from cnnteach.cli import main

        err = io.StringIO()
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    status = main(argv)
                except SystemExit as stop:
                    status = stop.code
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        text = err.getvalue()
        if status in (1, 2) and "Traceback" not in text:
            raise Refusal(text.strip())  # outcome() judges whether it is one sentence
        if status in (1, 2):
            raise RuntimeError(text)
        return status

    return call


# ----------------------------------------------------------------------------- crafted files
def crafted(folder: Path) -> dict[str, Path]:
    """Hostile files and folders; each is named like what it pretends to be."""
    made = {}

    def place(name, content, file="train-images-idx3-ubyte.gz"):
        where = folder / name
        where.mkdir()
        for other in list(data.MNIST_FILES)[1:]:  # read after the hostile file, and refused quickly
            (where / f"{other}.gz").write_bytes(b"")
        (where / file).write_bytes(content)
        made[name] = where

    images = struct.pack(">IIII", 0x803, 60000, 28, 28)
    place("gz bomb", _bomb(images, 32 << 20))
    place("gz bomb without header", _bomb(b"", 32 << 20))
    place("gz trailing garbage", gzip.compress(images + bytes(100)) + b"junk")
    place("gz second member", gzip.compress(images) + gzip.compress(b"x"))
    place("gz not gzip", b"\x1f\x8b\x08garbage")
    place(
        "idx overflow",
        struct.pack(">I3I", 0x803, 2**32 - 1, 2**32 - 1, 2**32 - 1),
        "train-images-idx3-ubyte",
    )
    place("idx zero dims", b"\x00\x00\x08\x00", "train-images-idx3-ubyte")
    place("idx truncated", images + bytes(1000), "train-images-idx3-ubyte")
    sparse = folder / "raw sparse"
    sparse.mkdir()
    with open(sparse / "t10k-labels-idx1-ubyte", "wb") as handle:
        handle.write(struct.pack(">II", 0x801, 10000) + bytes(10000))
        handle.truncate(1 << 32)
    made["raw sparse 4 GiB"] = sparse / "t10k-labels-idx1-ubyte"
    npz = folder / "npz"
    npz.mkdir()
    with zipfile.ZipFile(npz / "not-array.npz", "w") as archive:
        for key in data.NPZ_KEYS:
            archive.writestr(f"{key}.npy", b"not an array")
    np.savez(npz / "objects.npz", **{k: np.array([{}, 1], dtype=object) for k in data.NPZ_KEYS})
    np.save(npz / "single.npy", np.zeros(3, np.uint8))
    os.replace(npz / "single.npy", npz / "single.npz")
    with zipfile.ZipFile(npz / "huge-header.npz", "w") as archive:
        for key in data.NPZ_KEYS:
            buffer = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                buffer, {"descr": "|u1", "fortran_order": False, "shape": (2**40, 2**20)}
            )
            archive.writestr(f"{key}.npy", buffer.getvalue())
    (npz / "garbage.npz").write_bytes(b"PK\x03\x04 not really")
    for name in ("not-array", "objects", "single", "huge-header", "garbage"):
        made[f"npz {name}"] = npz / f"{name}.npz"
    made["directory"] = folder / "a-dir.gz"
    made["directory"].mkdir()
    made["over-long path"] = folder / ("x" * 300) / "t10k-labels-idx1-ubyte.gz"
    made["NUL in path"] = Path(str(folder) + "/a\x00b")
    if hasattr(os, "mkfifo"):
        fifo_dir = folder / "fifo"
        fifo_dir.mkdir()
        for name in ("t10k-labels-idx1-ubyte.gz", "mnist.npz", "01_lesson.ipynb"):
            os.mkfifo(fifo_dir / name)
        made["FIFO"] = fifo_dir / "t10k-labels-idx1-ubyte.gz"
        made["FIFO npz"] = fifo_dir / "mnist.npz"
        made["FIFO folder"] = fifo_dir
    return made


def _bomb(header: bytes, zeros: int) -> bytes:
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    return (
        comp.compress(header)
        + b"".join(comp.compress(block) for _ in range(zeros >> 20))
        + comp.flush()
    )


def cases(folder: Path):
    """Yield ``(area, name, call, allowed exception types, whether a result is right)``."""
    from cnnteach import student

    files = crafted(folder)
    fifos = [p for k, p in files.items() if k.startswith("FIFO")]
    fifos += [files["FIFO folder"] / "01_lesson.ipynb"] if "FIFO folder" in files else []
    _FIFOS[:] = fifos
    data_errors = (DataError, TypeError)
    for name, value in VALUES.items():
        default = name == "None"  # None means "the usual sources" for these three
        yield (
            "data",
            f"load_mnist({name})",
            lambda v=value: data.load_mnist(v),
            data_errors,
            default,
        )
        yield (
            "data",
            f"find_mnist({name})",
            lambda v=value: data.find_mnist(v),
            data_errors,
            default,
        )
        yield "data", f"read_idx({name})", lambda v=value: data.read_idx(v), data_errors, False
        yield (
            "install",
            f"install_data({name})",
            lambda v=value: data.install_data(v, folder / "i"),
            data_errors,
            False,
        )
        yield (
            "student",
            f"build_student_edition({name})",
            lambda v=value: student.build_student_edition(v),
            (ValueError, TypeError),
            False,
        )
    for name, path in files.items():
        yield "data", f"load_mnist({name})", lambda p=path: data.load_mnist(p), data_errors, False
        yield (
            "data",
            f"read_idx({name})",
            lambda p=path: data.read_idx(_one_file(p)),
            data_errors,
            False,
        )
        yield (
            "data",
            f"find_mnist({name})",
            lambda p=path: data.find_mnist(p).kind and data.load_mnist(p),
            data_errors,
            False,
        )
        yield (
            "install",
            f"install_data({name})",
            lambda p=path: data.install_data(p, folder / "dest"),
            data_errors,
            False,
        )
        yield (
            "cli",
            f"data install {name}",
            cli(["data", "install", str(path), "--to", str(folder / "dest2")]),
            (ValueError,),
            False,
        )
        if "\x00" not in str(path):  # no environment variable can hold a NUL
            yield (
                "cli",
                f"data where ({name})",
                cli(["data", "where"], {"CNNTEACH_DATA": str(path)}),
                (ValueError,),
                False,
            )
    lessons = folder / "lessons"
    lessons.mkdir()
    (lessons / "01_ok.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    for content in ("[]", "null", '"x"', "7", "{not json", '{"notebooks": []}'):
        out = folder / f"out-{len(list(folder.glob('out-*')))}"
        out.mkdir()
        (out / student.MANIFEST).write_text(content)
        yield (
            "student",
            f"manifest {content}",
            lambda o=out: student.build_student_edition(o, lessons),
            (ValueError,),
            False,
        )
    for content in (
        "[]",
        "null",
        '"x"',
        "{}",
        '{"cells": [3]}',
        '{"cells": [{"cell_type": "code", "source": 1}]}',
    ):
        bad = folder / f"bad-{len(list(folder.glob('bad-*')))}"
        bad.mkdir()
        (bad / "01_x.ipynb").write_text(content)
        yield (
            "student",
            f"lesson {content}",
            lambda b=bad: student.build_student_edition(folder / "o", b),
            (ValueError,),
            False,
        )
    taken = folder / "taken"
    taken.write_text("x")
    for name, out in (
        ("OUT is a file", taken),
        ("OUT under a file", taken / "sub"),
        ("OUT over-long", folder / ("y" * 300)),
        ("OUT is a FIFO", files.get("FIFO", taken)),
    ):
        yield (
            "student",
            name,
            lambda o=out: student.build_student_edition(o, lessons),
            (ValueError,),
            False,
        )
        yield (
            "cli",
            f"student {name}",
            cli(["student", str(out), "--from", str(lessons)]),
            (ValueError,),
            False,
        )
    if "FIFO folder" in files:
        yield (
            "student",
            "lesson is a FIFO",
            lambda: student.build_student_edition(folder / "of", files["FIFO folder"]),
            (ValueError,),
            False,
        )
    for argv in (
        ["data"],
        ["student"],
        ["data", "install"],
        ["nonsense"],
        ["student", "o", "--bad-flag"],
    ):
        yield "cli", " ".join(argv), cli(argv), (ValueError,), False


def _one_file(path: Path) -> Path:
    """The hostile file inside a crafted folder (read_idx takes one file)."""
    with contextlib.suppress(OSError, ValueError):
        if not path.is_dir() or path.name.endswith(".gz") or path.name == "fifo":
            return path
        found = sorted(p for p in path.iterdir() if "t10k-labels" in p.name)
        return found[0] if found else path
    return path


def run_table() -> dict:
    counts = {}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = {
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "xdg"),
            "KERAS_HOME": str(home / "keras"),
            "CNNTEACH_OFFLINE": "1",
            "LOCALAPPDATA": str(home / "lad"),
            "CNNTEACH_LESSONS": str(Path(tmp) / "none"),
        }
        saved = {k: os.environ.get(k) for k in [*env, "CNNTEACH_DATA"]}
        os.environ.update(env)
        os.environ.pop(
            "CNNTEACH_DATA", None
        )  # None means the usual sources: none here, and offline
        try:
            work = Path(tmp) / "work"
            work.mkdir()
            for area, name, call, allowed, ok in cases(work):
                kind, detail = outcome(call, allowed, ok=ok, fifos=_FIFOS)
                tally = counts.setdefault(
                    area,
                    {
                        "tried": 0,
                        "clean": 0,
                        "unclear": 0,
                        "traceback": 0,
                        "hang": 0,
                        "silently wrong": 0,
                    },
                )
                tally["tried"] += 1
                tally[kind] += 1
                if kind != "clean":
                    failures.append(
                        f"{area}: {name}: {kind}: {type(detail).__name__}: {str(detail)[:200]!r}"
                    )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return {"counts": counts, "failures": failures}


# ----------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def table():
    return run_table()


def test_every_hostile_case_ends_in_one_sentence(table):
    assert not table["failures"], "\n".join(table["failures"])
    assert sum(c["tried"] for c in table["counts"].values()) >= 150


if given is not None:

    @settings(derandomize=True, max_examples=30, deadline=None)
    @given(content=st.binary(max_size=48), packed=st.booleans())
    def test_random_idx_bytes_read_or_refuse(content, packed):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("x-idx.gz" if packed else "x-idx")
            path.write_bytes(gzip.compress(content) if packed else content)
            kind, result = outcome(lambda: data.read_idx(path), (DataError,), ok=True)
            assert kind == "clean", (kind, result)
            if isinstance(result, np.ndarray):
                assert result.nbytes <= len(content)

    @settings(derandomize=True, max_examples=25, deadline=None)
    @given(
        header=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4),
        code=st.sampled_from([8, 9, 11, 12, 13, 14]),
    )
    def test_random_idx_headers_never_allocate_what_they_announce(header, code):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "h-idx"
            path.write_bytes(
                bytes([0, 0, code, len(header)])
                + struct.pack(f">{len(header)}I", *header)
                + bytes(16)
            )
            kind, result = outcome(
                lambda: data.read_idx(path, max_bytes=1 << 20), (DataError,), ok=True
            )
            assert kind == "clean", (kind, result)


if __name__ == "__main__":
    found = run_table()
    for line in found["failures"]:
        print(line)
    for area, tally in found["counts"].items():
        print(area, tally)
    print(json.dumps(found["counts"]))
    sys.stdout.flush()
    os._exit(0)  # a thread may still be stuck on a FIFO in old code
