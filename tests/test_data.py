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
            result[str(path)] = (stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return result


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    return struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape) + array.astype(">u1").tobytes()


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
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
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
    np.savez_compressed(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
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
    np.savez_compressed(keras_cache / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
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
    assert "USB stick" in message and "cnnteach data install" in message and "CNNTEACH_DATA" in message


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
    raises_and_keeps(copy_of, r"t10k-labels-idx1-ubyte has magic number 0x504b0304, which is not an IDX header")


def test_swapped_files_fail_on_magic(copy_of):
    images, labels = copy_of / "t10k-images-idx3-ubyte.gz", copy_of / "t10k-labels-idx1-ubyte.gz"
    a, b = images.read_bytes(), labels.read_bytes()
    images.write_bytes(b)
    labels.write_bytes(a)
    raises_and_keeps(copy_of, r"magic number 0x00000801 but MNIST images files start with 0x00000803")


def test_wrong_dimensions(copy_of):
    arr = np.zeros((10000, 28, 27), dtype=np.uint8)
    (copy_of / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    raises_and_keeps(copy_of, r"t10k-images-idx3-ubyte.gz has shape \(10000, 28, 27\) but t10k-images-idx3-ubyte must be \(10000, 28, 28\)")


def test_wrong_item_count(copy_of):
    content = bytearray(gzip.decompress((copy_of / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    content[4:8] = struct.pack(">I", 10001)  # header announces one label more than the file holds
    (copy_of / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(content)))
    raises_and_keeps(copy_of, r"t10k-labels-idx1-ubyte.gz is truncated: its header announces 10001 items")
    (copy_of / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(content[:8]) + b"\x00" * 10002))
    raises_and_keeps(copy_of, r"has extra bytes")


def test_one_changed_byte_is_caught_by_the_checksum(copy_of):
    content = bytearray(gzip.decompress((copy_of / "t10k-images-idx3-ubyte.gz").read_bytes()))
    content[5000] ^= 0x01
    (copy_of / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(content)))
    raises_and_keeps(copy_of, r"t10k-images-idx3-ubyte.gz fails its checksum \(MD5 [0-9a-f]{32} instead of the published 2646ac647ad5339dbf082846283269ea\)")


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
    raises_and_keeps(tmp_path, r"mnist.npz stores x_train as Python objects, which cnnteach never loads")


def test_npz_with_wrong_keys_dtypes_or_content(arrays, tmp_path):
    (x_train, y_train), (x_test, y_test) = arrays
    np.savez(tmp_path / "mnist.npz", images=x_train)
    raises_and_keeps(tmp_path, r"mnist.npz lacks the keys x_test, x_train, y_test, y_train \(it has images\)")
    np.savez(tmp_path / "mnist.npz", x_train=x_train.astype(np.float32), y_train=y_train, x_test=x_test, y_test=y_test)
    raises_and_keeps(tmp_path, r"mnist.npz\['x_train'\] holds float32 values but MNIST images are uint8")
    changed = x_test.copy()
    changed[0, 0, 0] = 1
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=changed, y_test=y_test)
    raises_and_keeps(tmp_path, r"mnist.npz\['x_test'\] fails its checksum")
    (tmp_path / "mnist.npz").write_bytes(b"not a zip at all")
    raises_and_keeps(tmp_path, r"mnist.npz is not a readable .npz archive")


def test_folder_with_a_file_missing(copy_of):
    (copy_of / "t10k-labels-idx1-ubyte.gz").unlink()
    message = raises_and_keeps(copy_of, r"lacks t10k-labels-idx1-ubyte\[.gz\] \(it has 3 of the 4 MNIST files\)")
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

