"""Install a verified copy of MNIST: readable by everyone, never over someone else's file.

``cnnteach data install SOURCE [--to DEST] [--replace]`` reads and verifies SOURCE in full, then:

- copies each file under a temporary name in DEST and renames it into place, with the mode a
  plain copy would get (``0o666`` minus the umask: 0644 under the usual umask 022), so that a
  shared folder on a JupyterHub is readable by every student;
- refuses, before writing anything, when DEST already has a file of the same name with other
  content, unless ``replace=True`` (``--replace``): then the old file is kept as ``NAME.bak``;
- moves aside (renames to ``NAME.stale``, ``NAME.stale-2``...) the other variants of the same
  data that would otherwise be read instead of the new copy, or beside it: a raw file beside a
  newly installed ``.gz`` (and the reverse), IDX files beside a newly installed ``mnist.npz``
  (and the reverse).

Nothing is ever deleted, so ``cnnteach data where`` afterwards names the copy just installed.
"""

from __future__ import annotations

import filecmp
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cnnteach._files import copy_to_temp, free_name
from cnnteach.data import (
    ENV_VAR,
    MNIST_FILES,
    DataError,
    _as_path,
    _idx_files,
    _show,
    _stat,
    find_mnist,
    load_mnist,
    user_data_dir,
)

__all__ = ["InstallReport", "install"]


@dataclass
class InstallReport:
    """What :func:`install` did: files copied, already there, kept as ``.bak``, moved aside."""

    destination: Path
    copied: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    backups: list = field(
        default_factory=list
    )  # (old file's new name, file installed in its place)
    moved_aside: list = field(default_factory=list)  # (old name, new name)

    def lines(self) -> list[str]:
        """One line per thing worth saying.

        Examples
        --------
        >>> InstallReport(Path("/d"), moved_aside=[(Path("/d/a"), Path("/d/a.stale"))]).lines()
        ['moved the superseded /d/a aside to a.stale']
        """
        out = [f"kept the old {new.name} as {bak.name}" for bak, new in self.backups]
        return out + [
            f"moved the superseded {old} aside to {new.name}" for old, new in self.moved_aside
        ]


def _variants(kind: str, names: list[str]) -> list[str]:
    """File names in the destination that hold the same data in another form."""
    if kind == "npz":
        return [n for base in MNIST_FILES for n in (f"{base}.gz", base)]
    others = ["mnist.npz"]
    for name in names:
        base = name.removesuffix(".gz")
        others.append(base if name.endswith(".gz") else f"{base}.gz")
    return others


def _same_content(a: Path, b: Path) -> bool:
    try:
        return filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def install(source, destination=None, *, replace: bool = False) -> InstallReport:
    """Verify MNIST in ``source`` and copy it into ``destination``; see the module docstring.

    Parameters
    ----------
    source : str or os.PathLike
        A folder with the four IDX files or ``mnist.npz``, or an ``mnist.npz`` file.
    destination : str or os.PathLike, optional
        Where to copy; defaults to :func:`cnnteach.data.user_data_dir`.
    replace : bool, optional
        Install over a destination file of the same name that differs, keeping it as ``NAME.bak``.

    Returns
    -------
    InstallReport

    Raises
    ------
    DataError
        When the source does not verify, a destination file differs and ``replace`` is false,
        or the destination cannot be written; nothing is written in the first two cases.

    Examples
    --------
    >>> install("/no/such/usb").destination  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cnnteach.data.DataError: /no/such/usb does not exist: check the path, or copy the MNIST files
        there (see `cnnteach data install --help`).
    """
    if not isinstance(replace, bool):
        raise TypeError(f"install_data() takes replace=True or False, not {replace!r}.")
    source = _as_path(source, "install_data()")
    found = find_mnist(source)
    load_mnist(source)  # verify everything before copying anything
    dest = user_data_dir() if destination is None else _as_path(destination, "install_data()")
    report = InstallReport(dest)
    info = _stat(dest)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise DataError(
            f"{_show(dest)} exists and is not a folder: choose a folder with `--to FOLDER`"
        )
    if found.kind == "idx":
        files = {p.name: p for p in _idx_files(source).values()}
    else:
        npz = source if source.suffix == ".npz" and not source.is_dir() else source / "mnist.npz"
        files = {"mnist.npz": npz}
    if info is not None and any(os.path.samefile(src.parent, dest) for src in files.values()):
        report.unchanged = [dest / name for name in files]
        return report  # installing a folder onto itself changes nothing
    plan = []
    for name, src in files.items():
        target = dest / name
        existing = _stat(target)
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            raise DataError(
                f"{_show(target)} exists and is not a regular "
                "file: move it away, then install again"
            )
        if existing is not None and _same_content(src, target):
            report.unchanged.append(target)
            continue
        if existing is not None and not replace:
            raise DataError(
                f"{_show(target)} already exists and differs from {_show(src)} (another data set "
                "with the same file names?): install into "
                "another folder with `--to FOLDER`, or run "
                f"again with `--replace` to keep the old file as {name}.bak"
            )
        plan.append((src, target, existing is not None))
    stale = [dest / n for n in _variants(found.kind, list(files)) if os.path.lexists(dest / n)]
    temps = []
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for src, _target, _ in plan:
            temps.append(copy_to_temp(src, dest))
        for (_src, target, exists), tmp in zip(plan, temps):
            if exists:
                backup = free_name(dest, target.name, "bak")
                try:
                    os.link(
                        target, backup
                    )  # the old file stays in place until the new one replaces it
                except OSError:
                    os.rename(target, backup)
                report.backups.append((backup, target))
            os.replace(tmp, target)
            report.copied.append(target)
        temps = []
        for old in stale:
            new = free_name(dest, old.name, "stale")
            os.rename(old, new)
            report.moved_aside.append((old, new))
    except OSError as exc:
        raise DataError(
            f"{_show(dest)} cannot be written ({exc.strerror}): choose another folder with "
            f"`cnnteach data install SOURCE --to FOLDER` and set {ENV_VAR}=FOLDER"
        ) from None
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
    return report
