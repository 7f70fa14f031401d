"""cnnteach.data: the offline-safe, verified MNIST loader."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import sys

import numpy as np
import pytest

from cnnteach import data
from cnnteach.data import DataError, find_mnist, install_data, load_mnist, read_idx

NAMES = list(data.MNIST_FILES)


def snapshot(folder):
    """Name -> (size, mtime, sha256) of every file below ``folder``: proves nothing changed."""
    result = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            result[str(path)] = (
                stat.st_size,
                stat.st_mtime_ns,
                hashlib.sha256(path.read_bytes()).hexdigest(),
            )
    return result


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    return (
        struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
        + array.astype(">u1").tobytes()
    )


@pytest.fixture(scope="module")
def arrays(mnist_dir):
    return load_mnist(mnist_dir)


@pytest.fixture
def copy_of(mnist_dir, tmp_path):
    """A writable copy of the shared folder, so a test can damage one file."""
    target = tmp_path / "mnist"
    target.mkdir()
    for name in NAMES:
        shutil.copyfile(mnist_dir / f"{name}.gz", target / f"{name}.gz")
    return target


def raises_and_keeps(folder, pattern, call=None):
    """Assert that loading ``folder`` raises DataError matching ``pattern`` and changes no file."""
    before = snapshot(folder) if folder.exists() else {}
    with pytest.raises(DataError, match=pattern) as info:
        (call or (lambda: load_mnist(folder)))()
    assert (snapshot(folder) if folder.exists() else {}) == before
    message = str(info.value)
    assert "\n" not in message and ": " in message  # one sentence: what is wrong, then what to do
    return message


# ----------------------------------------------------------------------------- happy paths
def test_loads_like_keras(arrays):
    (x_train, y_train), (x_test, y_test) = arrays
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == (
        (60000, 28, 28),
        (60000,),
        (10000, 28, 28),
        (10000,),
    )
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_test[:9].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5]
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert x_train.max() == 255 and x_train.min() == 0
    assert np.bincount(y_train).tolist()[:2] == [5923, 6742]


def test_raw_uncompressed_files_load_the_same(arrays, mnist_dir, tmp_path):
    for name in NAMES:
        (tmp_path / name).write_bytes(gzip.decompress((mnist_dir / f"{name}.gz").read_bytes()))
    (x_train, _), (x_test, y_test) = load_mnist(tmp_path)
    np.testing.assert_array_equal(x_test, arrays[1][0])
    np.testing.assert_array_equal(x_train[:100], arrays[0][0][:100])


def test_npz_source_with_keras_keys(arrays, tmp_path):
    (x_train, y_train), (x_test, y_test) = arrays
    np.savez_compressed(
        tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
    )
    for source in (tmp_path, tmp_path / "mnist.npz"):
        (a, b), (c, d) = load_mnist(source)
        np.testing.assert_array_equal(d, y_test)
    assert find_mnist(tmp_path).kind == "npz"


def test_read_idx_reads_any_idx_file(tmp_path):
    values = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "cube-idx3-ubyte").write_bytes(idx_bytes(values))
    (tmp_path / "cube-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(values)))
    np.testing.assert_array_equal(read_idx(tmp_path / "cube-idx3-ubyte"), values)
    np.testing.assert_array_equal(read_idx(tmp_path / "cube-idx3-ubyte.gz"), values)
    floats = np.array([1.5, -2.0], dtype=">f4")
    (tmp_path / "f-idx1").write_bytes(struct.pack(">BBBBI", 0, 0, 0x0D, 1, 2) + floats.tobytes())
    out = read_idx(tmp_path / "f-idx1")
    assert out.dtype == np.float32 and out.tolist() == [1.5, -2.0]


def test_read_idx_on_real_labels(mnist_dir):
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and labels[:3].tolist() == [7, 2, 1]


# ----------------------------------------------------------------------------- source order
def test_source_order(arrays, mnist_dir, isolated_sources, monkeypatch):
    with pytest.raises(DataError, match="cannot be downloaded"):
        find_mnist()
    # the Keras cache is read by cnnteach (and only when nothing else is there)
    keras_cache = isolated_sources / "keras" / "datasets"
    keras_cache.mkdir(parents=True)
    (x_train, y_train), (x_test, y_test) = arrays
    np.savez_compressed(
        keras_cache / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
    )
    assert find_mnist().origin == "Keras cache"
    # the per-user folder comes before it
    install_data(mnist_dir)
    assert find_mnist().origin == "user data folder"
    assert data.user_data_dir().is_relative_to(isolated_sources)
    # CNNTEACH_DATA comes before that, and the path argument before everything
    monkeypatch.setenv("CNNTEACH_DATA", str(mnist_dir))
    assert find_mnist().origin == "CNNTEACH_DATA"
    assert find_mnist(keras_cache).origin == "path argument"
    assert "from CNNTEACH_DATA" in find_mnist().describe()


def test_keras_download_is_the_last_resort_and_wrapped(isolated_sources, monkeypatch):
    monkeypatch.delenv("CNNTEACH_OFFLINE")
    assert find_mnist().kind == "download"
    keras = pytest.importorskip("keras")

    def offline(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    message = raises_and_keeps(isolated_sources, r"download failed: OSError", call=load_mnist)
    assert "cnnteach data install" in message


def test_offline_with_no_copy_anywhere_says_how_to_get_files(isolated_sources):
    message = raises_and_keeps(isolated_sources, "cannot be downloaded", call=load_mnist)
    assert (
        "USB stick" in message and "cnnteach data install" in message and "CNNTEACH_DATA" in message
    )


# ----------------------------------------------------------------------------- bad inputs
def test_truncated_gz(copy_of):
    path = copy_of / "t10k-images-idx3-ubyte.gz"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    message = raises_and_keeps(copy_of, r"t10k-images-idx3-ubyte.gz is truncated")
    assert "7,840,016 bytes its header announces" in message and "cnnteach data install" in message


def test_wrong_magic_number(copy_of):
    labels = gzip.decompress((copy_of / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (copy_of / "t10k-labels-idx1-ubyte.gz").unlink()
    (copy_of / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x03" + labels[4:])
    raises_and_keeps(copy_of, r"t10k-labels-idx1-ubyte.*(header|magic)")
    (copy_of / "t10k-labels-idx1-ubyte").write_bytes(b"PK\x03\x04" + labels[4:])
    raises_and_keeps(
        copy_of, r"t10k-labels-idx1-ubyte has magic number 0x504b0304, which is not an IDX header"
    )


def test_swapped_files_fail_on_magic(copy_of):
    images, labels = copy_of / "t10k-images-idx3-ubyte.gz", copy_of / "t10k-labels-idx1-ubyte.gz"
    a, b = images.read_bytes(), labels.read_bytes()
    images.write_bytes(b)
    labels.write_bytes(a)
    raises_and_keeps(
        copy_of, r"magic number 0x00000801 but MNIST images files start with 0x00000803"
    )


def test_wrong_dimensions(copy_of):
    arr = np.zeros((10000, 28, 27), dtype=np.uint8)
    (copy_of / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    raises_and_keeps(
        copy_of,
        r"t10k-images-idx3-ubyte.gz has shape \(10000, 28, 27\) "
        r"but t10k-images-idx3-ubyte must be \(10000, 28, 28\)",
    )


def test_wrong_item_count(copy_of):
    content = bytearray(gzip.decompress((copy_of / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    content[4:8] = struct.pack(">I", 10001)  # header announces one label more than the file holds
    (copy_of / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(content)))
    raises_and_keeps(
        copy_of, r"t10k-labels-idx1-ubyte.gz is truncated: its header announces 10001 items"
    )
    (copy_of / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(bytes(content[:8]) + b"\x00" * 10002)
    )
    raises_and_keeps(copy_of, r"has extra bytes")


def test_one_changed_byte_is_caught_by_the_checksum(copy_of):
    content = bytearray(gzip.decompress((copy_of / "t10k-images-idx3-ubyte.gz").read_bytes()))
    content[5000] ^= 0x01
    (copy_of / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(content)))
    raises_and_keeps(
        copy_of,
        r"t10k-images-idx3-ubyte.gz fails its checksum \(MD5 [0-9a-f]{32} "
        r"instead of the published 2646ac647ad5339dbf082846283269ea\)",
    )


def test_corrupt_gzip_stream(copy_of):
    path = copy_of / "train-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[2] = 0x00  # compression method byte
    path.write_bytes(bytes(raw))
    raises_and_keeps(copy_of, r"train-labels-idx1-ubyte.gz is not a valid gzip file")


def test_npz_holding_python_objects(arrays, tmp_path):
    (x_train, y_train), (x_test, y_test) = arrays
    objects = np.array([{"evil": True}, 1], dtype=object)
    np.savez(tmp_path / "mnist.npz", x_train=objects, y_train=y_train, x_test=x_test, y_test=y_test)
    raises_and_keeps(
        tmp_path, r"mnist.npz stores x_train as Python objects, which cnnteach never loads"
    )


def test_npz_with_wrong_keys_dtypes_or_content(arrays, tmp_path):
    (x_train, y_train), (x_test, y_test) = arrays
    np.savez(tmp_path / "mnist.npz", images=x_train)
    raises_and_keeps(
        tmp_path, r"mnist.npz lacks the keys x_test, x_train, y_test, y_train \(it has images\)"
    )
    np.savez(
        tmp_path / "mnist.npz",
        x_train=x_train.astype(np.float32),
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
    )
    raises_and_keeps(
        tmp_path, r"mnist.npz\['x_train'\] holds float32 values but MNIST images are uint8"
    )
    changed = x_test.copy()
    changed[0, 0, 0] = 1
    np.savez(
        tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=changed, y_test=y_test
    )
    raises_and_keeps(tmp_path, r"mnist.npz\['x_test'\] fails its checksum")
    (tmp_path / "mnist.npz").write_bytes(b"not a zip at all")
    raises_and_keeps(tmp_path, r"mnist.npz is not a readable .npz archive")


def test_folder_with_a_file_missing(copy_of):
    (copy_of / "t10k-labels-idx1-ubyte.gz").unlink()
    message = raises_and_keeps(
        copy_of, r"lacks t10k-labels-idx1-ubyte\[.gz\] \(it has 3 of the 4 MNIST files\)"
    )
    assert "copy the missing file there" in message


def test_empty_folder(tmp_path):
    raises_and_keeps(tmp_path, r"holds no MNIST files")


def test_path_that_does_not_exist(tmp_path):
    raises_and_keeps(tmp_path / "nope", r"nope does not exist: check the path")
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nope-idx1-ubyte.gz")


def test_env_var_pointing_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNTEACH_DATA", str(tmp_path / "usb"))
    with pytest.raises(DataError, match="usb does not exist"):
        load_mnist()


def test_empty_gz_and_short_file(tmp_path):
    (tmp_path / "a-idx1-ubyte.gz").write_bytes(b"")
    with pytest.raises(DataError, match=r"a-idx1-ubyte.gz is empty \(0 bytes\)"):
        read_idx(tmp_path / "a-idx1-ubyte.gz")
    (tmp_path / "b-idx1-ubyte").write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="too short to be an IDX file"):
        read_idx(tmp_path / "b-idx1-ubyte")


# ----------------------------------------------------------------------------- install
def test_install_verifies_then_copies(mnist_dir, tmp_path):
    target = install_data(mnist_dir, tmp_path / "lab")
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{n}.gz" for n in NAMES)
    (_, _), (_, y_test) = load_mnist(target)
    assert y_test[0] == 7
    assert install_data(target, target) == target  # installing onto itself changes nothing


def test_install_refuses_a_damaged_source_and_writes_nothing(copy_of, tmp_path):
    path = copy_of / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    destination = tmp_path / "dest"
    raises_and_keeps(copy_of, "truncated", call=lambda: install_data(copy_of, destination))
    assert not destination.exists()


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root can write anywhere")
def test_install_into_unwritable_folder(mnist_dir, tmp_path):  # pragma: no cover - root in CI
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(DataError, match="cannot be written"):
        install_data(mnist_dir, locked / "mnist")


def test_loader_never_imports_keras_for_local_files(mnist_dir):
    import subprocess

    code = (
        "import sys; from cnnteach.data import load_mnist; load_mnist(sys.argv[1]); "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code, str(mnist_dir)], check=True)


# ----------------------------------------------------------------------------- issue 15: hardening
def run_briefly(call, seconds=5.0):
    """Run ``call`` in a thread; return ("ok", value) / ("raised", exc), or ("hang", None)."""
    import threading

    box = {}

    def target():
        try:
            box["value"] = ("ok", call())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            box["value"] = ("raised", exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return box.get("value", ("hang", None))


def one_sentence(exc):
    text = str(exc)
    assert "\n" not in text and text.endswith("."), text
    return text


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_installed_files_get_the_mode_a_plain_copy_gets(mnist_dir, tmp_path):  # defect 1
    old = os.umask(0o022)
    try:
        target = install_data(mnist_dir, tmp_path / "shared" / "mnist")
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in target.iterdir()}
    assert set(modes.values()) == {0o644}, modes


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() != 0, reason="needs root to act as another user"
)
def test_a_student_account_can_read_the_shared_install(
    mnist_dir,
):  # defect 1, README's JupyterHub recipe
    import subprocess
    import tempfile

    root = tempfile.mkdtemp(prefix="cnnteach-shared-")
    try:
        os.chmod(root, 0o755)  # like /srv/data on a hub
        old = os.umask(0o022)
        try:
            target = install_data(mnist_dir, os.path.join(root, "mnist"))
        finally:
            os.umask(old)
        code = (
            "import os, sys, concurrent.futures.thread; from cnnteach.data import load_mnist; "
            "os.setgid(65534); os.setuid(65534); (x, y), _ = "
            "load_mnist(sys.argv[1]); print(os.getuid(), y[0])"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(target)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["65534", "5"]
    finally:
        shutil.rmtree(root)


def compress_stream(header: bytes, zeros: int) -> bytes:
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(header)]
    block = b"\0" * (1 << 20)
    for _ in range(zeros // len(block)):
        parts.append(comp.compress(block))
    parts.append(comp.flush())
    return b"".join(parts)


def test_a_gzip_bomb_is_refused_fast_with_bounded_memory(copy_of):  # defect 2
    import time
    import tracemalloc

    header = struct.pack(">IIII", 0x803, 10000, 28, 28)  # announces 7,840,016 bytes
    (copy_of / "t10k-images-idx3-ubyte.gz").write_bytes(compress_stream(header, 256 << 20))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz has extra bytes") as info:
            read_idx_canonical = data._load_idx_folder
            read_idx_canonical(copy_of)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 5
    assert peak < 200e6, peak  # the four real files are ~55 MB; the bomb would be 256 MB more
    one_sentence(info.value)
    bomb = copy_of / "zeros-idx1-ubyte.gz"
    bomb.write_bytes(compress_stream(b"", 64 << 20))  # no header at all: refused at byte 4
    with pytest.raises(DataError, match="not an IDX header"):
        read_idx(bomb)


def test_a_huge_raw_file_is_refused_before_reading(mnist_dir, tmp_path):  # defect 2
    import time

    for name in NAMES:
        (tmp_path / name).write_bytes(gzip.decompress((mnist_dir / f"{name}.gz").read_bytes()))
    big = tmp_path / "train-images-idx3-ubyte"
    with open(big, "r+b") as handle:
        handle.truncate(4 << 30)  # sparse: 4 GiB on paper, nothing on disk
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte has extra bytes") as info:
        load_mnist(tmp_path)
    assert time.perf_counter() - start < 5
    one_sentence(info.value)


def test_trailing_garbage_after_the_gzip_member_is_refused(copy_of):  # defect 6
    path = copy_of / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes() + b"garbage")
    raises_and_keeps(
        copy_of, r"t10k-labels-idx1-ubyte.gz has 7 bytes after the end of its gzip data"
    )
    path.write_bytes(path.read_bytes()[:-7] + gzip.compress(b"x"))  # a second gzip member
    raises_and_keeps(copy_of, r"bytes after the end of its gzip data \(a second gzip member")


def test_an_idx_header_whose_dimensions_overflow_is_refused(tmp_path):  # defect 6
    path = tmp_path / "huge-idx3-ubyte"
    path.write_bytes(struct.pack(">I3I", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + b"\0" * 10)
    with pytest.raises(
        DataError, match=r"announces 4294967295x4294967295x4294967295 items"
    ) as info:
        read_idx(path)
    one_sentence(info.value)
    packed = tmp_path / "huge-idx3-ubyte.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(DataError, match="announces"):
        read_idx(packed)


def test_an_npz_member_that_is_not_an_array_is_refused(arrays, tmp_path):  # defect 6
    import zipfile

    (x_train, y_train), (x_test, y_test) = arrays
    np.savez(
        tmp_path / "mnist.npz", x_train=x_train[:1], y_train=y_train, x_test=x_test, y_test=y_test
    )
    with zipfile.ZipFile(tmp_path / "mnist.npz", "w") as archive:
        archive.writestr("x_train.npy", b"these bytes are not a numpy array")
        for key, value in (("y_train", y_train), ("x_test", x_test), ("y_test", y_test)):
            with archive.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array(member, value)
    message = raises_and_keeps(tmp_path, r"mnist.npz\['x_train'\] is not a NumPy array")
    assert message.endswith(".")
    np.save(tmp_path / "single.npy", y_test)
    os.replace(tmp_path / "single.npy", tmp_path / "mnist.npz")
    raises_and_keeps(tmp_path, r"mnist.npz is a single .npy array, not an .npz archive")


@pytest.mark.parametrize("bad", [b"/data/mnist", 3, 2.5, ["x"]])
def test_paths_of_the_wrong_type_give_one_sentence(bad):  # defect 7
    for call in (load_mnist, find_mnist, read_idx, install_data):
        with pytest.raises(TypeError) as info:
            call(bad)
        one_sentence(info.value)
    with pytest.raises(TypeError, match="not NoneType"):
        read_idx(None)


def test_an_over_long_path_gives_one_sentence(tmp_path):  # defect 7
    long = tmp_path / ("x" * 300) / "mnist"
    for call in (load_mnist, find_mnist, lambda p: read_idx(p / "a-idx1-ubyte.gz"), install_data):
        with pytest.raises(DataError, match="too long to be a path") as info:
            call(long)
        assert len(one_sentence(info.value)) < 300


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_fifo_named_like_a_data_file_does_not_hang(copy_of, tmp_path):  # defect 7
    fifo = tmp_path / "t10k-labels-idx1-ubyte"
    os.mkfifo(fifo)
    outcome, exc = run_briefly(lambda: read_idx(fifo))
    assert outcome == "raised" and isinstance(exc, DataError), (outcome, exc)
    assert "is a FIFO, not a regular file" in one_sentence(exc)
    (copy_of / "t10k-labels-idx1-ubyte.gz").unlink()
    os.mkfifo(copy_of / "t10k-labels-idx1-ubyte.gz")
    for call in (
        lambda: load_mnist(copy_of),
        lambda: find_mnist(copy_of),
        lambda: install_data(copy_of, tmp_path / "d"),
    ):
        outcome, exc = run_briefly(call)
        assert outcome == "raised" and isinstance(exc, DataError) and "FIFO" in str(exc), (
            outcome,
            exc,
        )
    npz = tmp_path / "mnist.npz"
    os.mkfifo(npz)
    outcome, exc = run_briefly(lambda: load_mnist(npz))
    assert outcome == "raised" and isinstance(exc, DataError), (outcome, exc)


def test_install_refuses_to_overwrite_a_different_file(mnist_dir, tmp_path):  # defect 5
    dest = tmp_path / "lab"
    dest.mkdir()
    other = dest / "t10k-labels-idx1-ubyte.gz"
    other.write_bytes(b"Fashion-MNIST labels, say")
    before = snapshot(dest)
    with pytest.raises(DataError, match=r"already exists and differs .*--replace") as info:
        install_data(mnist_dir, dest)
    one_sentence(info.value)
    assert snapshot(dest) == before  # nothing written
    install_data(mnist_dir, dest, replace=True)
    assert (dest / "t10k-labels-idx1-ubyte.gz.bak").read_bytes() == b"Fashion-MNIST labels, say"
    assert load_mnist(dest)[1][1][0] == 7
    (dest / "mine.txt").write_text("my notes")
    install_data(
        mnist_dir, dest, replace=True
    )  # same content now: nothing to replace, nothing deleted
    assert (dest / "mine.txt").read_text() == "my notes" and not (
        dest / "t10k-labels-idx1-ubyte.gz.bak-2"
    ).exists()


def test_install_moves_superseded_variants_aside(arrays, mnist_dir, tmp_path):  # defect 4
    dest = tmp_path / "lab"
    dest.mkdir()
    damaged = dest / "t10k-images-idx3-ubyte.gz"
    damaged.write_bytes((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes()[:1000])
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in NAMES:
        (raw / name).write_bytes(gzip.decompress((mnist_dir / f"{name}.gz").read_bytes()))
    install_data(raw, dest)
    assert (
        find_mnist(dest).kind == "idx" and load_mnist(dest)[1][1][0] == 7
    )  # the damaged .gz no longer wins
    assert (dest / "t10k-images-idx3-ubyte.gz.stale").read_bytes() == damaged.with_suffix(
        ".gz.stale"
    ).read_bytes()
    assert not damaged.exists()
    # a new mnist.npz supersedes the IDX files there
    (x_train, y_train), (x_test, y_test) = arrays
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    install_data(tmp_path / "mnist.npz", dest)
    assert find_mnist(dest).kind == "npz" and load_mnist(dest)[1][1][0] == 7
    assert sorted(p.name for p in dest.iterdir() if p.name.endswith(".stale")) == sorted(
        [f"{n}.stale" for n in NAMES] + ["t10k-images-idx3-ubyte.gz.stale"]
    )
