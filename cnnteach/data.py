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
import os
import shutil
import struct
import sys
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
FIX = "copy it again, or run `cnnteach data install DIR` with a good copy"

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
# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataError(Exception):
    """A data file is missing, damaged or not MNIST; the message says what to do.

    Examples
    --------
    >>> str(DataError("mnist.npz is empty: copy it again"))
    'mnist.npz is empty: copy it again'
    """


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


# ----------------------------------------------------------------------------- IDX reading
def _read_bytes(path: Path, md5: bool = False):
    """Return the content of ``path`` (gunzipped if it ends in .gz) as a writable bytearray.

    With ``md5=True`` return ``(content, md5 hex digest)``; for a .gz file the digest is
    computed in a second thread while the next chunk decompresses, so it costs little time.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path} does not exist: check the path, or run `cnnteach data install DIR`") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, not an IDX file: pass the path of one file") from None
    except OSError as exc:
        raise DataError(f"{path.name} cannot be read ({exc.strerror}): check its permissions, or {FIX}") from None
    if path.suffix != ".gz":
        data = bytearray(raw)
        return (data, hashlib.md5(data).hexdigest()) if md5 else data
    if not raw:
        raise DataError(f"{path.name} is empty (0 bytes): {FIX}")
    data, digest = _gunzip(raw, path.name, md5)
    return (data, digest) if md5 else data


_CHUNK = 1 << 18  # compressed bytes per step: ~1.3 MB of MNIST pixels


def _gunzip(raw: bytes, name: str, md5: bool):
    """Decompress a gzip member chunk by chunk, hashing finished chunks in a helper thread."""
    decomp = zlib.decompressobj(wbits=31)
    data = bytearray()
    hasher = hashlib.md5() if md5 else None
    view = memoryview(raw)
    pool = ThreadPoolExecutor(max_workers=1) if md5 else None
    pending = None
    try:
        for start in range(0, len(raw), _CHUNK):
            piece = decomp.decompress(view[start : start + _CHUNK])
            data += piece
            if hasher is not None and piece:
                if pending is not None:
                    pending.result()
                pending = pool.submit(hasher.update, piece)  # zlib and md5 both release the GIL
            if decomp.eof:
                break
        tail = decomp.flush()
        data += tail
        if pending is not None:
            pending.result()
        if hasher is not None and tail:
            hasher.update(tail)
    except zlib.error as exc:
        raise DataError(f"{name} is not a valid gzip file ({exc}): {FIX}") from None
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if not decomp.eof:
        announced = _announced_size(bytes(data[:64]))
        of = f" of the {announced:,} bytes its header announces" if announced else ""
        raise DataError(
            f"{name} is truncated (its data stops after {len(data):,}{of} bytes; "
            f"the file holds {len(raw):,} bytes): {FIX}"
        )
    return data, (hasher.hexdigest() if hasher is not None else None)


def _announced_size(data: bytes) -> int | None:
    """Total size an IDX header announces, or None when the header itself is incomplete."""
    if len(data) < 4 or data[0] or data[1] or data[2] not in IDX_DTYPES:
        return None
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        return None
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return 4 + 4 * ndim + int(np.prod(dims, dtype=np.int64)) * np.dtype(IDX_DTYPES[data[2]]).itemsize


def _parse_idx(data: bytes, name: str) -> np.ndarray:
    """Turn the bytes of one IDX file into an array, checking header against length."""
    if len(data) < 4:
        raise DataError(f"{name} is too short to be an IDX file ({len(data)} bytes): {FIX}")
    if data[0] or data[1] or data[2] not in IDX_DTYPES:
        raise DataError(
            f"{name} has magic number 0x{data[:4].hex()}, which is not an IDX header "
            f"(expected 0x0000 then a type code such as 08): {FIX}"
        )
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DataError(f"{name} has a broken IDX header ({ndim} dimensions, {len(data)} bytes): {FIX}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(IDX_DTYPES[data[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        what = "is truncated" if got < expected else "has extra bytes"
        raise DataError(
            f"{name} {what}: its header announces {'x'.join(map(str, dims))} items "
            f"({expected:,} bytes) but {got:,} bytes follow: {FIX}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)  # writable: data is a bytearray
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path) -> np.ndarray:
    """Read any IDX file, gzipped or raw, into a numpy array.

    The IDX format is a 4-byte magic number (two zero bytes, a type code, the number of
    dimensions), one big-endian 32-bit size per dimension, then the values.

    Parameters
    ----------
    path : str or os.PathLike
        An IDX file; a name ending in ``.gz`` is decompressed first.

    Returns
    -------
    numpy.ndarray
        The values, with the shape the header gives (uint8 for MNIST).

    Raises
    ------
    DataError
        When the file is missing, truncated, or its header does not match its length.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx2-ubyte"
    >>> _ = f.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]))
    >>> read_idx(f)
    array([[1, 2, 3],
           [4, 5, 6]], dtype=uint8)
    """
    path = Path(path)
    return _parse_idx(_read_bytes(path), path.name)


def _idx_header(array: np.ndarray) -> bytes:
    """The IDX header a uint8 MNIST array would have in its canonical file."""
    magic = 0x800 + array.ndim
    return struct.pack(f">I{array.ndim}I", magic, *array.shape)


def _check_mnist_array(array: np.ndarray, canonical: str, shown: str, data=None, digest=None) -> np.ndarray:
    """Check magic, dtype, shape and the published MD5 of one MNIST array.

    ``data`` is the IDX file's content (None for an npz array) and ``digest`` its MD5 when
    already computed while reading.
    """
    magic, shape, md5 = MNIST_FILES[canonical]
    kind = "images" if magic == 0x803 else "labels"
    if array.dtype != np.uint8:
        raise DataError(f"{shown} holds {array.dtype} values but MNIST {kind} are uint8: {FIX}")
    if data is not None and struct.unpack(">I", data[:4])[0] != magic:
        raise DataError(
            f"{shown} has magic number 0x{data[:4].hex()} but MNIST {kind} files start with "
            f"0x{magic:08x}: check that the file names are not swapped, or {FIX}"
        )
    if array.shape != shape:
        raise DataError(f"{shown} has shape {array.shape} but {canonical} must be {shape}: {FIX}")
    if digest is None:
        digest = hashlib.md5(bytes(data) if data is not None else _idx_header(array) + array.tobytes()).hexdigest()
    if digest != md5:
        raise DataError(
            f"{shown} fails its checksum (MD5 {digest} instead of the published {md5}), "
            f"so some bytes are damaged: {FIX}"
        )
    return array


# ----------------------------------------------------------------------------- folders and npz
def _idx_files(folder: Path) -> dict[str, Path | None]:
    """Map each canonical name to the file that holds it in ``folder`` (.gz preferred)."""
    found = {}
    for name in MNIST_FILES:
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.is_file():
                found[name] = candidate
                break
        else:
            found[name] = None
    return found


def _classify(location: Path) -> str:
    """Say whether ``location`` holds IDX files or an npz; raise DataError otherwise."""
    if not location.exists():
        raise DataError(
            f"{location} does not exist: check the path, or copy the MNIST files there "
            f"(see `cnnteach data install --help`)"
        )
    if location.is_file():
        if location.suffix == ".npz":
            return "npz"
        raise DataError(f"{location} is a file but not an .npz: give the folder that holds the four MNIST IDX files")
    files = _idx_files(location)
    present = [n for n, p in files.items() if p is not None]
    if len(present) == len(MNIST_FILES):
        return "idx"
    if not present and (location / "mnist.npz").is_file():
        return "npz"
    if not present:
        raise DataError(
            f"{location} holds no MNIST files (expected train-images-idx3-ubyte.gz and its three "
            f"siblings, or mnist.npz): copy them there, or point {ENV_VAR} at the folder that has them"
        )
    missing = [f"{n}[.gz]" for n, p in files.items() if p is None]
    raise DataError(
        f"{location} lacks {', '.join(missing)} (it has {len(present)} of the 4 MNIST files): "
        f"copy the missing file{'s' if len(missing) > 1 else ''} there"
    )


def _load_idx_folder(folder: Path):
    files = _idx_files(folder)

    def one(name):
        path = files[name]
        data, digest = _read_bytes(path, md5=True)
        array = _parse_idx(data, path.name)
        return _check_mnist_array(array, name, path.name, data, digest)

    # zlib and hashlib release the GIL, so the four files decompress and hash side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        arrays = list(pool.map(one, MNIST_FILES))
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])


def _load_npz(path: Path):
    if path.is_dir():
        path = path / "mnist.npz"
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path} does not exist: check the path, or run `cnnteach data install DIR`") from None
    except Exception as exc:  # zipfile.BadZipFile, ValueError, OSError, EOFError...
        raise DataError(f"{path.name} is not a readable .npz archive ({type(exc).__name__}: {exc}): {FIX}") from None
    arrays = {}
    with archive:
        missing = sorted(set(NPZ_KEYS) - set(archive.files))
        if missing:
            raise DataError(
                f"{path.name} lacks the key{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(it has {', '.join(archive.files) or 'nothing'}), so it is not Keras' mnist.npz: {FIX}"
            )
        for key, canonical in NPZ_KEYS.items():
            try:
                array = archive[key]
            except ValueError:
                raise DataError(
                    f"{path.name} stores {key} as Python objects, which cnnteach never loads "
                    f"(they can run code): use the real mnist.npz, or {FIX}"
                ) from None
            except Exception as exc:
                raise DataError(f"{path.name} is damaged: {key} cannot be read ({exc}): {FIX}") from None
            arrays[key] = _check_mnist_array(array, canonical, f"{path.name}[{key!r}]", None)
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
    return folder.is_dir() and (
        any(p is not None for p in _idx_files(folder).values()) or (folder / "mnist.npz").is_file()
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
    >>> find_mnist("/no/such/folder")
    Traceback (most recent call last):
    ...
    cnnteach.data.DataError: /no/such/folder does not exist: check the path, or copy the MNIST files there (see `cnnteach data install --help`)
    """
    if path is not None:
        location = Path(path).expanduser()
        return MnistSource("path argument", location, _classify(location))
    env = os.environ.get(ENV_VAR)
    if env:
        location = Path(env).expanduser()
        return MnistSource(ENV_VAR, location, _classify(location))
    user = user_data_dir()
    if _has_any_mnist(user):
        return MnistSource("user data folder", user, _classify(user))
    cached = _keras_cache_file()
    if cached.is_file():
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
    """Keras' own download; used only when no local copy exists, so Keras deletes nothing of ours."""
    import contextlib

    import keras  # heavy: imported only here

    try:
        # Keras prints its progress bar to stdout; send it to stderr so that a lesson's stored
        # outputs are the same on a machine that downloads and on one that has a local copy.
        with contextlib.redirect_stdout(sys.stderr):
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:
        raise DataError(f"{_offline_message()} (the download failed: {type(exc).__name__}: {exc})") from None
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
    source = find_mnist(path)
    if source.kind == "download":
        return _download()
    if source.kind == "idx":
        return _load_idx_folder(source.location)
    return _load_npz(source.location)


def install_data(source, destination=None) -> Path:
    """Verify a folder (or npz) of MNIST and copy it into the per-user data folder.

    Instructors use it to prepare lab machines from a USB stick:
    ``cnnteach data install /media/usb/mnist``. The source is read and verified in full
    before anything is copied; files are copied under temporary names and renamed into
    place, so an interrupted install leaves no half-written file.

    Parameters
    ----------
    source : str or os.PathLike
        A folder with the four IDX files or ``mnist.npz``, or an ``mnist.npz`` file.
    destination : str or os.PathLike, optional
        Where to copy; defaults to :func:`user_data_dir`.

    Returns
    -------
    pathlib.Path
        The destination folder.

    Examples
    --------
    >>> install_data("/no/such/usb")
    Traceback (most recent call last):
    ...
    cnnteach.data.DataError: /no/such/usb does not exist: check the path, or copy the MNIST files there (see `cnnteach data install --help`)
    """
    source = Path(source).expanduser()
    found = find_mnist(source)
    load_mnist(source)  # verify everything before copying anything
    destination = Path(destination).expanduser() if destination else user_data_dir()
    if found.kind == "idx":
        files = [p for p in _idx_files(source).values()]
    else:
        files = [source if source.is_file() else source / "mnist.npz"]
    try:
        destination.mkdir(parents=True, exist_ok=True)
        for src in files:
            target = destination / ("mnist.npz" if found.kind == "npz" else src.name)
            if target.exists() and target.resolve() == src.resolve():
                continue
            fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=destination)
            os.close(fd)
            shutil.copyfile(src, tmp)
            os.replace(tmp, target)
    except OSError as exc:
        raise DataError(
            f"{destination} cannot be written ({exc.strerror}): choose another folder with "
            f"`cnnteach data install SOURCE --to FOLDER` and set {ENV_VAR}=FOLDER"
        ) from None
    return destination
