"""Read IDX files safely: regular files only, and never more than the header announces.

The reading half of :mod:`cnnteach.data`: a FIFO or device is refused before it is opened for
a blocking read, a raw file whose size on disk does not match its header is refused before it
is read, and a gzip file is decompressed in bounded steps that stop as soon as the output
exceeds the size its header announces (or anything follows its gzip member).
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import stat
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

__all__ = ["MAX_IDX_BYTES", "DataError", "read_idx"]

FIX = "copy it again, or run `cnnteach data install DIR` with a good copy"
# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataError(Exception):
    """A data file is missing, damaged or not MNIST; the message says what to do.

    Examples
    --------
    >>> str(DataError("mnist.npz is empty: copy it again"))
    'mnist.npz is empty: copy it again.'
    """

    __module__ = "cnnteach.data"  # where users import it from

    def __init__(self, message: str = "") -> None:
        message = " ".join(str(message).split())  # one line, ending as a sentence ends
        if message and message[-1] not in ".!?":
            message += "."
        super().__init__(message)


# ----------------------------------------------------------------------------- paths
def _show(path) -> str:
    """A path as a message shows it: long ones shortened, so that a message stays one line."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}...{text[-40:]}"


def _as_path(path, what: str) -> Path:
    """``path`` as a Path, or TypeError/DataError with one sentence when it cannot be one."""
    if isinstance(path, (bytes, bytearray)):
        raise TypeError(
            f"{what} takes a path as a str or pathlib.Path, not bytes: decode it first."
        )
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{what} takes a path as a str or pathlib.Path, not {type(path).__name__}: "
            f"pass e.g. '/data/mnist'."
        )
    try:
        result = Path(path)
    except TypeError:
        raise TypeError(
            f"{what} takes a path as a str or pathlib.Path: pass e.g. '/data/mnist'."
        ) from None
    if "\x00" in str(result):
        raise DataError(
            f"{_show(result)!r} contains a NUL character, so it is not a path: type it again"
        )
    return result.expanduser()


def _stat(path: Path):
    """``os.stat_result`` of ``path``, None when it does not exist; DataError for other failures."""
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise DataError(
                f"{_show(path)} is too long to be a path on this system: check the path"
            ) from None
        raise DataError(
            f"{_show(path)} cannot be examined ({exc.strerror}): check the path and its permissions"
        ) from None
    except ValueError:  # embedded NUL byte
        raise DataError(
            f"{_show(path)!r} contains a NUL character, so it is not a path: type it again"
        ) from None


def _kind(mode: int) -> str:
    for test, word in (
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return word
    return "special file"


def _not_regular(path: Path, mode: int) -> DataError:
    return DataError(
        f"{_show(path)} is a {_kind(mode)}, not a regular file, so reading it could wait forever: "
        f"replace it with the real file"
    )


def _open_regular(path: Path, what: str = "an IDX file"):
    """Open ``path`` for reading without blocking on a FIFO; return ``(file, size)``."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise DataError(
            f"{_show(path)} does not exist: check the path, or run `cnnteach data install DIR`"
        ) from None
    except IsADirectoryError:
        raise DataError(
            f"{_show(path)} is a folder, not {what}: pass the path of one file"
        ) from None
    except ValueError:
        raise DataError(
            f"{_show(path)!r} contains a NUL character, so it is not a path: type it again"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise DataError(
                f"{_show(path)} is too long to be a path on this system: check the path"
            ) from None
        raise DataError(
            f"{path.name} cannot be read ({exc.strerror}): check its permissions, or {FIX}"
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise DataError(f"{_show(path)} is a folder, not {what}: pass the path of one file")
        raise _not_regular(path, info.st_mode)
    return os.fdopen(fd, "rb"), info.st_size


# ----------------------------------------------------------------------------- IDX reading
#: Largest IDX file :func:`read_idx` reads unless told otherwise (MNIST's largest is 47 MB).
MAX_IDX_BYTES = 1 << 30


def _header(data, name: str):
    """Parse an IDX header from the first bytes of a file: ``(dtype, dims, header length)``.

    Returns None while ``data`` is too short to hold the whole header; raises DataError when
    the bytes present are not an IDX header.
    """
    if len(data) < 4:
        return None
    if data[0] or data[1] or data[2] not in IDX_DTYPES:
        raise DataError(
            f"{name} has magic number 0x{bytes(data[:4]).hex()}, which is not an IDX header "
            f"(expected 0x0000 then a type code such as 08): {FIX}"
        )
    ndim = data[3]
    if ndim == 0:
        raise DataError(f"{name} has a broken IDX header (0 dimensions): {FIX}")
    length = 4 + 4 * ndim
    if len(data) < length:
        return None
    dims = struct.unpack(f">{ndim}I", bytes(data[4:length]))
    return np.dtype(IDX_DTYPES[data[2]]), dims, length


def _announced(info) -> int:
    dtype, dims, length = info
    return length + math.prod(dims) * dtype.itemsize  # Python ints: no overflow


def _check_header(data, info, name: str, check, max_bytes: int) -> int:
    """Check a parsed header (with ``check(dtype, magic bytes, dims)`` when given); return its
    size."""
    dtype, dims, _ = info
    if check is not None:
        check(dtype, bytes(data[:4]), dims)
    size = _announced(info)
    if size > max_bytes:
        raise DataError(
            f"{name} announces {'x'.join(map(str, dims))} items ({size:,} bytes), more than the "
            f"{max_bytes:,} bytes cnnteach reads from one file: {FIX}"
        )
    return size


def _read_bytes(path: Path, md5: bool = False, check=None, max_bytes: int = MAX_IDX_BYTES):
    """Return the content of ``path`` (gunzipped if it ends in .gz) as a writable bytearray.

    Nothing beyond the size the header announces (and at most ``max_bytes``) is ever held in
    memory. With ``md5=True`` return ``(content, md5 hex digest)``.
    """
    handle, size = _open_regular(path)
    with handle:
        if path.suffix == ".gz":
            if not size:
                raise DataError(f"{path.name} is empty (0 bytes): {FIX}")
            data, digest = _gunzip(handle, size, path.name, md5, check, max_bytes)
            return (data, digest) if md5 else data
        head = handle.read(min(size, 4 + 4 * 255))
        info = _header(head, path.name)
        if info is None:
            if len(head) < 4:
                raise DataError(
                    f"{path.name} is too short to be an IDX file ({len(head)} bytes): {FIX}"
                )
            raise DataError(
                f"{path.name} has a broken IDX header ({head[3]} "
                f"dimensions, {len(head)} bytes): {FIX}"
            )
        expected = _check_header(head, info, path.name, check, max(max_bytes, 0))
        if size != expected:
            dims, got = info[1], size - info[2]
            what = "is truncated" if size < expected else "has extra bytes"
            raise DataError(
                f"{path.name} {what}: its header announces {'x'.join(map(str, dims))} items "
                f"({expected - info[2]:,} bytes) but {got:,} bytes follow: {FIX}"
            )
        data = bytearray(size)
        data[: len(head)] = head
        view, filled = memoryview(data), len(head)
        while filled < size:
            n = handle.readinto(view[filled:])
            if not n:
                raise DataError(f"{path.name} shrank while it was read: {FIX}")
            filled += n
    return (data, hashlib.md5(data).hexdigest()) if md5 else data


_CHUNK = 1 << 18  # compressed bytes per step: ~1.3 MB of MNIST pixels
_OUT_STEP = 1 << 22  # at most this many decompressed bytes per call


def _gunzip(handle, size: int, name: str, md5: bool, check=None, max_bytes: int = MAX_IDX_BYTES):
    """Decompress one gzip member in bounded steps, hashing finished chunks in a helper thread.

    Stops as soon as the output exceeds the size the IDX header announces, and refuses
    anything after the end of the gzip member.
    """
    decomp = zlib.decompressobj(wbits=31)
    data = bytearray()
    limit = None
    hasher = hashlib.md5() if md5 else None
    pool = ThreadPoolExecutor(max_workers=1) if md5 else None
    pending = None
    read = 0
    try:
        while read < size and not decomp.eof:
            chunk = handle.read(min(_CHUNK, size - read))
            if not chunk:
                break
            read += len(chunk)
            while chunk and not decomp.eof:
                piece = decomp.decompress(chunk, _OUT_STEP)
                chunk = decomp.unconsumed_tail
                data += piece
                if limit is None:
                    info = _header(data, name)
                    if info is not None:
                        limit = _check_header(data, info, name, check, max_bytes)
                if limit is not None and len(data) > limit:
                    raise DataError(
                        f"{name} has extra bytes: it decompresses to more than the {limit:,} bytes "
                        f"its header announces: {FIX}"
                    )
                if len(data) > max_bytes:
                    raise DataError(f"{name} decompresses to more than {max_bytes:,} bytes: {FIX}")
                if hasher is not None and piece:
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(hasher.update, piece)  # zlib and md5 both release the GIL
        if pending is not None:
            pending.result()
    except zlib.error as exc:
        raise DataError(f"{name} is not a valid gzip file ({exc}): {FIX}") from None
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if not decomp.eof:
        announced = limit if limit is not None else None
        of = f" of the {announced:,} bytes its header announces" if announced else ""
        raise DataError(
            f"{name} is truncated (its data stops after {len(data):,}{of} bytes; "
            f"the file holds {size:,} bytes): {FIX}"
        )
    trailing = len(decomp.unused_data) + (size - read)
    if trailing:
        raise DataError(
            f"{name} has {trailing:,} bytes after the end of its gzip data (a second gzip member "
            f"or garbage), so it is not a clean copy: {FIX}"
        )
    if limit is None:
        _parse_idx(data, name)  # too short for a header: say so in the usual words
    return data, (hasher.hexdigest() if hasher is not None else None)


def _parse_idx(data, name: str) -> np.ndarray:
    """Turn the bytes of one IDX file into an array, checking header against length."""
    info = _header(data, name)
    if info is None:
        if len(data) < 4:
            raise DataError(f"{name} is too short to be an IDX file ({len(data)} bytes): {FIX}")
        raise DataError(
            f"{name} has a broken IDX header ({data[3]} dimensions, {len(data)} bytes): {FIX}"
        )
    dtype, dims, header = info
    expected = _announced(info) - header
    got = len(data) - header
    if got != expected:
        what = "is truncated" if got < expected else "has extra bytes"
        raise DataError(
            f"{name} {what}: its header announces {'x'.join(map(str, dims))} items "
            f"({expected:,} bytes) but {got:,} bytes follow: {FIX}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(
        dims
    )  # writable: data is a bytearray
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path, *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read any IDX file, gzipped or raw, into a numpy array.

    The IDX format is a 4-byte magic number (two zero bytes, a type code, the number of
    dimensions), one big-endian 32-bit size per dimension, then the values.

    Parameters
    ----------
    path : str or os.PathLike
        An IDX file; a name ending in ``.gz`` is decompressed first.
    max_bytes : int, optional
        Refuse a file whose header announces more bytes than this (default 1 GiB).

    Returns
    -------
    numpy.ndarray
        The values, with the shape the header gives (uint8 for MNIST).

    Raises
    ------
    DataError
        When the file is missing, not a regular file, truncated, too large, or its header does
        not match its length.
    TypeError
        When ``path`` is not a str or path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx2-ubyte"
    >>> _ = f.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]))
    >>> read_idx(f)
    array([[1, 2, 3],
           [4, 5, 6]], dtype=uint8)
    """
    path = _as_path(path, "read_idx()")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise TypeError(
            f"read_idx() takes max_bytes as a whole number of bytes, not {max_bytes!r}."
        )
    return _parse_idx(_read_bytes(path, max_bytes=max_bytes), path.name)
