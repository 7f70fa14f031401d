"""Load MNIST safely, offline first, and verify every byte that is read.

Sources are tried in this order, and the first that exists is used:

1. the ``path`` argument of :func:`load_mnist`;
2. the folder (or ``mnist.npz`` file) named by the ``CNNTEACH_DATA`` environment variable;
3. the per-user data folder that ``cnnteach data install DIR`` fills (:func:`user_data_dir`);
4. a ``mnist.npz`` already in Keras' own cache folder (read by us, never by Keras);
5. Keras' own download, only when no local copy exists anywhere.

A folder may hold the four original IDX files (gzipped or raw) or a Keras ``mnist.npz``.
Everything read is checked: IDX magic numbers, dimensions and item counts, and the published
MD5 of each canonical file's content (for an npz, of the IDX bytes its arrays stand for).
Any problem raises :class:`DataError` with one sentence that names the file, says what is
wrong and says what to do. No file is ever deleted or modified, and no local file is ever
handed to Keras' loader (Keras deletes a cached file whose hash it does not expect).
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
import struct
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnteach.idx import (  # noqa: F401 - DataError and read_idx are part of this module's API
    FIX,
    IDX_DTYPES,
    MAX_IDX_BYTES,
    DataError,
    _as_path,
    _not_regular,
    _open_regular,
    _parse_idx,
    _read_bytes,
    _show,
    _stat,
)
from cnnteach.idx import read_idx as _read_idx

__all__ = [
    "DataError",
    "MnistSource",
    "find_mnist",
    "install_data",
    "load_mnist",
    "read_idx",
    "user_data_dir",
]

ENV_VAR = "CNNTEACH_DATA"
OFFLINE_VAR = "CNNTEACH_OFFLINE"

#: The four canonical files: name -> (magic number, shape, MD5 of the uncompressed content).
MNIST_FILES = {
    "train-images-idx3-ubyte": (0x803, (60000, 28, 28), "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (0x801, (60000,), "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (0x803, (10000, 28, 28), "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (0x801, (10000,), "27ae3e4e09519cfbb04c329615203637"),
}
#: The keys of Keras' ``mnist.npz`` and the IDX file each one stands for.
NPZ_KEYS = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class MnistSource:
    """Where MNIST will be read from.

    Attributes
    ----------
    origin : str
        Which rule found it: ``"path argument"``, ``"CNNTEACH_DATA"``, ``"user data folder"``,
        ``"Keras cache"`` or ``"Keras download"``.
    location : pathlib.Path or None
        The folder or npz file; None for a download.
    kind : str
        ``"idx"``, ``"npz"`` or ``"download"``.

    Examples
    --------
    >>> MnistSource("Keras download", None, "download").kind
    'download'
    """

    origin: str
    location: Path | None
    kind: str

    def describe(self) -> str:
        """One line for people, e.g. ``IDX files in /data/mnist (from CNNTEACH_DATA)``.

        Examples
        --------
        >>> MnistSource("Keras download", None, "download").describe()
        "Keras' download from the internet (no local copy was found)"
        """
        if self.kind == "download":
            return "Keras' download from the internet (no local copy was found)"
        what = "IDX files in" if self.kind == "idx" else "mnist.npz in"
        return f"{what} {self.location} (from {self.origin})"


def read_idx(path, *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read any IDX file, gzipped or raw, into a numpy array (see :func:`cnnteach.idx.read_idx`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx1-ubyte"
    >>> _ = f.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(f)
    array([7, 2, 1], dtype=uint8)
    """
    return _read_idx(path, max_bytes=max_bytes)


def _idx_header(array: np.ndarray) -> bytes:
    """The IDX header a uint8 MNIST array would have in its canonical file."""
    magic = 0x800 + array.ndim
    return struct.pack(f">I{array.ndim}I", magic, *array.shape)


def _check_kind(dtype, magic_bytes, shape, canonical: str, shown: str) -> None:
    """Dtype, magic number and shape of one canonical MNIST file, with the usual messages."""
    magic, expected, _ = MNIST_FILES[canonical]
    kind = "images" if magic == 0x803 else "labels"
    if dtype != np.uint8:
        raise DataError(f"{shown} holds {dtype} values but MNIST {kind} are uint8: {FIX}")
    if magic_bytes is not None and struct.unpack(">I", magic_bytes[:4])[0] != magic:
        raise DataError(
            f"{shown} has magic number 0x{magic_bytes[:4].hex()} but MNIST {kind} files start with "
            f"0x{magic:08x}: check that the file names are not swapped, or {FIX}"
        )
    if tuple(shape) != expected:
        raise DataError(
            f"{shown} has shape {tuple(shape)} but {canonical} must be {expected}: {FIX}"
        )


def _check_mnist_array(
    array: np.ndarray, canonical: str, shown: str, data=None, digest=None
) -> np.ndarray:
    """Check magic, dtype, shape and the published MD5 of one MNIST array.

    ``data`` is the IDX file's content (None for an npz array) and ``digest`` its MD5 when
    already computed while reading.
    """
    md5 = MNIST_FILES[canonical][2]
    _check_kind(
        array.dtype, None if data is None else bytes(data[:4]), array.shape, canonical, shown
    )
    if digest is None:
        digest = hashlib.md5(
            bytes(data) if data is not None else _idx_header(array) + array.tobytes()
        ).hexdigest()
    if digest != md5:
        raise DataError(
            f"{shown} fails its checksum (MD5 {digest} instead of the published {md5}), "
            f"so some bytes are damaged: {FIX}"
        )
    return array


# ----------------------------------------------------------------------------- folders and npz
def _regular(path: Path) -> bool:
    """Whether ``path`` is a regular file; DataError when it is a FIFO, device or socket."""
    info = _stat(path)
    if info is None or stat.S_ISDIR(info.st_mode):
        return False
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path, info.st_mode)
    return True


def _idx_files(folder: Path) -> dict[str, Path | None]:
    """Map each canonical name to the file that holds it in ``folder`` (.gz preferred)."""
    found = {}
    for name in MNIST_FILES:
        for candidate in (folder / f"{name}.gz", folder / name):
            if _regular(candidate):
                found[name] = candidate
                break
        else:
            found[name] = None
    return found


def _classify(location: Path) -> str:
    """Say whether ``location`` holds IDX files or an npz; raise DataError otherwise."""
    info = _stat(location)
    if info is None:
        raise DataError(
            f"{_show(location)} does not exist: check the path, or copy the MNIST files there "
            f"(see `cnnteach data install --help`)"
        )
    if not stat.S_ISDIR(info.st_mode):
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(location, info.st_mode)
        if location.suffix == ".npz":
            return "npz"
        raise DataError(
            f"{_show(location)} is a file but not an .npz: give "
            "the folder that holds the four MNIST IDX files"
        )
    files = _idx_files(location)
    present = [n for n, p in files.items() if p is not None]
    if len(present) == len(MNIST_FILES):
        return "idx"
    if not present and _regular(location / "mnist.npz"):
        return "npz"
    if not present:
        raise DataError(
            f"{_show(location)} holds no MNIST files (expected "
            "train-images-idx3-ubyte.gz and its three "
            "siblings, or mnist.npz): copy them there, or "
            f"point {ENV_VAR} at the folder that has them"
        )
    missing = [f"{n}[.gz]" for n, p in files.items() if p is None]
    raise DataError(
        f"{_show(location)} lacks {', '.join(missing)} "
        f"(it has {len(present)} of the 4 MNIST files): "
        f"copy the missing file{'s' if len(missing) > 1 else ''} there"
    )


def _load_idx_folder(folder: Path):
    files = _idx_files(folder)

    def one(name):
        path = files[name]

        def check(dtype, magic, dims):  # the shape is checked after reading, with a clearer message
            _check_kind(dtype, magic, MNIST_FILES[name][1], name, path.name)

        # a header may announce a little more than MNIST has (and be told it is truncated), never
        # more
        data, digest = _read_bytes(path, md5=True, check=check, max_bytes=2 * _canonical_size(name))
        array = _parse_idx(data, path.name)
        return _check_mnist_array(array, name, path.name, data, digest)

    # zlib and hashlib release the GIL, so the four files decompress and hash side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        arrays = list(pool.map(one, MNIST_FILES))
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])


def _canonical_size(name: str) -> int:
    shape = MNIST_FILES[name][1]
    return 4 + 4 * len(shape) + math.prod(shape)


def _npz_member(archive, key: str, canonical: str, shown: str) -> None:
    """Check the .npy header of one npz member before its data is read."""
    member = key + ".npy" if key + ".npy" in archive.zip.namelist() else key
    try:
        with archive.zip.open(member) as handle:
            version = np.lib.format.read_magic(handle)
            reader = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = reader(handle, max_header_size=10000)
    except Exception as exc:  # ValueError (not .npy), zipfile.BadZipFile, zlib.error, EOFError...  # noqa: BLE001 - every failure becomes a DataError
        raise DataError(
            f"{shown} is not a NumPy array ({type(exc).__name__}), "
            f"so the file is not Keras' mnist.npz: {FIX}"
        ) from None
    if dtype.hasobject:
        raise DataError(
            f"{shown.split('[')[0]} stores {key} as Python objects, which cnnteach never loads "
            f"(they can run code): use the real mnist.npz, or {FIX}"
        )
    _check_kind(dtype, None, shape, canonical, shown)


def _load_npz(path: Path):
    info = _stat(path)
    if info is not None and stat.S_ISDIR(info.st_mode):
        path = path / "mnist.npz"
    handle, _ = _open_regular(path, "an .npz file")
    with handle:
        try:
            archive = np.load(handle, allow_pickle=False)
        except Exception as exc:  # zipfile.BadZipFile, ValueError, OSError, EOFError...  # noqa: BLE001 - every failure becomes a DataError
            raise DataError(
                f"{path.name} is not a readable .npz archive ({type(exc).__name__}: {exc}): {FIX}"
            ) from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataError(
                f"{path.name} is a single .npy array, not an .npz archive of four arrays: {FIX}"
            )
        arrays = {}
        with archive:
            missing = sorted(set(NPZ_KEYS) - set(archive.files))
            if missing:
                raise DataError(
                    f"{path.name} lacks the "
                    f"key{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                    f"(it has {', '.join(archive.files[:8]) or 'nothing'}), "
                    f"so it is not Keras' mnist.npz: {FIX}"
                )
            for key, canonical in NPZ_KEYS.items():
                shown = f"{path.name}[{key!r}]"
                _npz_member(archive, key, canonical, shown)
                try:
                    array = archive[key]
                except Exception as exc:  # noqa: BLE001 - every failure becomes a DataError
                    raise DataError(
                        f"{path.name} is damaged: {key} cannot "
                        f"be read ({type(exc).__name__}): {FIX}"
                    ) from None
                if not isinstance(array, np.ndarray):
                    raise DataError(
                        f"{shown} is not a NumPy array, so the file is not Keras' mnist.npz: {FIX}"
                    )
                arrays[key] = _check_mnist_array(array, canonical, shown, None)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


# ----------------------------------------------------------------------------- sources
def user_data_dir() -> Path:
    """Return the per-user folder that ``cnnteach data install`` fills.

    Windows: ``%LOCALAPPDATA%\\cnnteach\\mnist``; macOS: ``~/Library/Application
    Support/cnnteach/mnist``; elsewhere ``$XDG_DATA_HOME/cnnteach/mnist`` (by default
    ``~/.local/share/cnnteach/mnist``).

    Examples
    --------
    >>> user_data_dir().name
    'mnist'
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "cnnteach" / "mnist"


def _keras_cache_file() -> Path:
    """Where Keras keeps its ``mnist.npz`` (it reads ``KERAS_HOME`` at import)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def _has_any_mnist(folder: Path) -> bool:
    info = _stat(folder)
    return (
        info is not None
        and stat.S_ISDIR(info.st_mode)
        and (
            any(p is not None for p in _idx_files(folder).values())
            or _regular(folder / "mnist.npz")
        )
    )


def find_mnist(path=None) -> MnistSource:
    """Decide where :func:`load_mnist` will read MNIST from, without reading it.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder of IDX files or npz, or an ``mnist.npz`` file. When given, it is the only
        source considered.

    Returns
    -------
    MnistSource

    Raises
    ------
    DataError
        When ``path`` or ``CNNTEACH_DATA`` names something that is not a usable copy, or when
        no local copy exists and downloads are switched off with ``CNNTEACH_OFFLINE=1``.

    Examples
    --------
    >>> find_mnist("/no/such/folder")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cnnteach.data.DataError: /no/such/folder does not exist: check the path, or copy the MNIST files
        there (see `cnnteach data install --help`).
    """
    if path is not None:
        location = _as_path(path, "find_mnist()")
        return MnistSource("path argument", location, _classify(location))
    env = os.environ.get(ENV_VAR)
    if env:
        location = _as_path(env, ENV_VAR)
        return MnistSource(ENV_VAR, location, _classify(location))
    user = user_data_dir()
    if _has_any_mnist(user):
        return MnistSource("user data folder", user, _classify(user))
    cached = _keras_cache_file()
    if _regular(cached):
        return MnistSource("Keras cache", cached, "npz")
    if os.environ.get(OFFLINE_VAR, "").strip() not in ("", "0"):
        raise DataError(_offline_message())
    return MnistSource("Keras download", None, "download")


def _offline_message() -> str:
    return (
        f"MNIST was not found on this machine ({ENV_VAR} is unset, {user_data_dir()} is empty, "
        f"no Keras cache) and it cannot be downloaded: copy the four MNIST .gz files from a USB "
        f"stick or a networked machine into a folder, then run `cnnteach data install FOLDER` "
        f"(or set {ENV_VAR}=FOLDER)"
    )


def _download():
    """Keras' own download; used only when no local copy exists, so Keras deletes nothing of
    ours."""
    import contextlib

    import keras  # heavy: imported only here

    try:
        # Keras prints its progress bar to stdout; send it to stderr so that a lesson's stored
        # outputs are the same on a machine that downloads and on one that has a local copy.
        with contextlib.redirect_stdout(sys.stderr):
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:
        raise DataError(
            f"{_offline_message()} (the download failed: {type(exc).__name__}: {exc})"
        ) from None
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, canonical in NPZ_KEYS.items():
        _check_mnist_array(arrays[key], canonical, f"downloaded {key}", None)
    return (x_train, y_train), (x_test, y_test)


def load_mnist(path=None):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``, offline first and verified.

    The result is exactly what ``keras.datasets.mnist.load_data()`` returns: uint8 arrays of
    shapes ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)`` and ``(10000,)``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder holding the four IDX files (``.gz`` or raw) or ``mnist.npz``, or the path of
        an ``mnist.npz``. Without it, ``CNNTEACH_DATA``, then the per-user data folder, then
        Keras' cache are tried, and Keras downloads MNIST only when none of them exists.

    Returns
    -------
    tuple
        ``(x_train, y_train), (x_test, y_test)``.

    Raises
    ------
    DataError
        With one sentence naming the file, what is wrong and what to do.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
    >>> x_train.shape, x_train.dtype, y_test[:3]  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'), array([7, 2, 1], dtype=uint8))
    """
    source = find_mnist(None if path is None else _as_path(path, "load_mnist()"))
    if source.kind == "download":
        return _download()
    if source.kind == "idx":
        return _load_idx_folder(source.location)
    return _load_npz(source.location)


def install_data(source, destination=None, *, replace=False) -> Path:
    """Verify a folder (or npz) of MNIST and copy it into the per-user data folder.

    Instructors use it to prepare lab machines from a USB stick:
    ``cnnteach data install /media/usb/mnist``. See :func:`cnnteach.install.install` for what
    it does with files already in the destination.

    Parameters
    ----------
    source : str or os.PathLike
        A folder with the four IDX files or ``mnist.npz``, or an ``mnist.npz`` file.
    destination : str or os.PathLike, optional
        Where to copy; defaults to :func:`user_data_dir`.
    replace : bool, optional
        Install over destination files of the same name that differ, keeping each as
        ``NAME.bak``; without it such a file stops the install before anything is written.

    Returns
    -------
    pathlib.Path
        The destination folder.

    Examples
    --------
    >>> install_data("/no/such/usb")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cnnteach.data.DataError: /no/such/usb does not exist: check the path, or copy the MNIST files
        there (see `cnnteach data install --help`).
    """
    from cnnteach.install import install

    return install(source, destination, replace=replace).destination
