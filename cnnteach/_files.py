"""Write files atomically with the mode a plain copy would get, and pick names that are free.

Shared by ``cnnteach data install`` and ``cnnteach student``: every file is written to a
temporary file in the same folder and renamed into place with :func:`os.replace`, so an
interrupt or a full disk leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["copy_to_temp", "file_mode", "free_name", "pid_alive", "write_atomic"]

_CHUNK = 1 << 20


def file_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file: ``0o666`` minus the umask.

    Examples
    --------
    >>> file_mode() & 0o600
    384
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no other way to read it; put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def _write_chunks(handle, data) -> None:
    """Write ``data`` (bytes, or an iterable of bytes) to ``handle``; tests interrupt it here."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data)
        data = (view[i : i + _CHUNK] for i in range(0, len(view), _CHUNK))
    for piece in data:
        handle.write(piece)


def _temp_beside(path: Path) -> tuple[int, Path]:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.partial-", dir=path.parent)
    return fd, Path(tmp)


def write_atomic(path, data) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    The new file gets :func:`file_mode`. On any failure (or an interrupt) the temporary file
    is removed and ``path`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> write_atomic(target, b"hello")
    >>> target.read_bytes(), sorted(p.name for p in target.parent.iterdir())
    (b'hello', ['note.txt'])
    """
    path = Path(path)
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_chunks(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def copy_to_temp(source: Path, folder: Path) -> Path:
    """Copy ``source`` into a temporary file in ``folder`` (mode :func:`file_mode`); return it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a").write_bytes(b"data")
    >>> copy_to_temp(folder / "a", folder).read_bytes()
    b'data'
    """
    fd, tmp = _temp_beside(Path(folder) / Path(source).name)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            _write_chunks(out, iter(lambda: src.read(_CHUNK), b""))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, file_mode())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def free_name(folder: Path, name: str, tag: str) -> Path:
    """``NAME.TAG``, else ``NAME.TAG-2``, ``NAME.TAG-3``...: the first that does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.gz.bak").write_bytes(b"")
    >>> free_name(folder, "a.gz", "bak").name
    'a.gz.bak-2'
    """
    n = 1
    while True:
        candidate = Path(folder) / f"{name}.{tag}{'' if n == 1 else f'-{n}'}"
        if not os.path.lexists(candidate):
            return candidate
        n += 1


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True
