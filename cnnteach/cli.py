"""The ``cnnteach`` command: ``data install``, ``data where``, ``doctor``, ``student``, ``grade``.

Every failure ends in one sentence on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cnnteach", description="Helpers for the cnnteach CNN lessons.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub._parser_class = _Parser
    data = sub.add_parser("data", help="find, verify and install MNIST for offline use")
    data_sub = data.add_subparsers(dest="action", required=True)
    install = data_sub.add_parser(
        "install",
        help=(
            "verify a folder of MNIST files (e.g. on a USB "
            "stick) and copy it into the per-user data folder"
        ),
        description="Verify the four MNIST IDX files (.gz or raw) "
        "or an mnist.npz in SOURCE, then copy them "
        "into the per-user data folder, where load_mnist() finds them with no network.",
    )
    install.add_argument(
        "source",
        help="folder holding train-images-idx3-ubyte.gz and its three siblings, or mnist.npz",
    )
    install.add_argument(
        "--to", dest="destination", help="install here instead of the per-user data folder"
    )
    install.add_argument(
        "--replace",
        action="store_true",
        help="install over files of the same name that differ, keeping each old one as NAME.bak",
    )
    data_sub.add_parser("where", help="say which MNIST copy load_mnist() would use, and verify it")

    sub.add_parser(
        "doctor", help="check that this machine is ready for the course (exit 0 when it is)"
    )

    student = sub.add_parser(
        "student", help="build the student edition (solutions removed) into OUT"
    )
    student.add_argument(
        "out", help="folder to write; a notebook the student has changed is never overwritten"
    )
    student.add_argument(
        "--from",
        dest="source",
        help="lessons folder with solutions (default: the course's notebooks/)",
    )
    student.add_argument(
        "--no-solutions",
        action="store_true",
        help="turn solution() off in this edition: it says the instructor turned solutions off",
    )

    grade = sub.add_parser(
        "grade",
        help="run every notebook in SUBMISSIONS; write grades.csv and an HTML report",
        description="Run each notebook under SUBMISSIONS in a fresh kernel, in a temporary "
        "copy, and record every check(...). The student is the file name's part after its "
        "first hyphen, else its sub-folder.",
    )
    grade.add_argument("submissions", help="folder of student notebooks (only read)")
    grade.add_argument("--out", default="grades.csv", help="the CSV to write (default: grades.csv)")
    grade.add_argument("--report", help="the HTML report (default: the CSV's name, .html)")
    grade.add_argument("--timeout", type=int, default=60, help="seconds per cell (default: 60)")
    grade.add_argument(
        "--notebook-timeout",
        type=int,
        help="seconds one notebook may run (default: 20 x --timeout)",
    )
    grade.add_argument("--jobs", type=int, help="notebooks at once (default: CPU cores)")
    grade.add_argument("--force", action="store_true", help="replace existing CSV and report")
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors in one line."""

    def error(self, message):
        self.exit(
            2, f"{self.prog}: {message[:1].upper()}{message[1:]}: see `{self.prog} --help`.\n"
        )


def main(argv=None) -> int:
    """Run the command line; return the exit status.

    Examples
    --------
    >>> main(["data", "install", "/no/such/usb"])
    1
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "data":
            return _data(args)
        if args.command == "doctor":
            return _doctor()
        if args.command == "student":
            return _student(args)
        if args.command == "grade":
            return _grade(args)
    except KeyboardInterrupt:
        print("cnnteach: interrupted; every file is either as it was or complete.", file=sys.stderr)
        return 130
    return 2  # pragma: no cover - argparse requires a command


def _data(args) -> int:
    from cnnteach.data import DataError, find_mnist, load_mnist

    try:
        if args.action == "install":
            from cnnteach.install import install

            report = install(args.source, args.destination, replace=args.replace)
            for line in report.lines():
                print(line)
            print(f"MNIST verified and installed in {report.destination}")
            _say_which_copy_is_used(report.destination, bool(args.destination))
            return 0
        source = find_mnist()
        if source.kind != "download":
            load_mnist()
        print(f"{source.describe()}{'' if source.kind == 'download' else ': checksums pass'}")
        return 0
    except (DataError, TypeError) as exc:
        print(f"cnnteach: {exc}", file=sys.stderr)
        return 1


def _say_which_copy_is_used(destination, chosen: bool) -> None:
    """Say how load_mnist() finds the copy just installed, or which other copy it would use."""
    import os

    from cnnteach.data import DataError, find_mnist

    try:
        used = find_mnist()
        same = used.location is not None and os.path.samefile(used.location, destination)
    except (DataError, OSError):
        used, same = None, False
    if same:
        print(f"`cnnteach data where` now names this copy ({used.origin})")
    elif chosen:
        print(f"set CNNTEACH_DATA={destination} so that load_mnist() finds it")
    elif used is not None:
        print(
            f"note: load_mnist() still uses {used.describe()}: unset {used.origin} to use this copy"
        )


def _doctor() -> int:
    import os

    os.environ.setdefault(
        "TF_CPP_MIN_LOG_LEVEL", "2"
    )  # TensorFlow's start-up chatter hides the verdict
    from cnnteach.doctor import run_checks

    checks = run_checks()
    for check in checks:
        print(repr(check))
    failed = [c for c in checks if not c.ok]
    if failed:
        print(f"not ready: {failed[0].name}: {failed[0].fix}", file=sys.stderr)
        return 1
    print("ready: every check passed")
    return 0


def _student(args) -> int:
    from cnnteach.student import build_student_edition

    try:
        report = build_student_edition(args.out, args.source, solutions=not args.no_solutions)
    except (ValueError, TypeError) as exc:
        print(f"cnnteach: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # pragma: no cover - the build turns the ones it expects into sentences
        where = f"{exc.filename} " if exc.filename else ""
        print(
            f"cnnteach: {where}cannot be used ({exc.strerror}): "
            "check the path and its permissions.",
            file=sys.stderr,
        )
        return 1
    for line in report.lines():
        print(line)
    return 0


def _grade(args) -> int:
    from pathlib import Path

    from cnnteach.grade_report import write_csv, write_report
    from cnnteach.grading import GradingError, grade_class

    out = Path(args.out)
    report = Path(args.report) if args.report else out.with_suffix(".html")
    try:
        for path in (out, report):  # refuse before the class runs, not after
            if path.exists() and not args.force:
                raise GradingError(
                    f"{path} already exists: choose another name, or pass --force to replace it"
                )
        grades = grade_class(
            args.submissions,
            timeout=args.timeout,
            notebook_timeout=args.notebook_timeout,
            jobs=args.jobs,
        )
        write_csv(grades, out, force=args.force)
        write_report(grades, report, force=args.force)
    except (GradingError, OSError) as exc:
        print(f"cnnteach: {exc}", file=sys.stderr)
        return 1
    for grade in grades:
        if grade.problem:
            print(f"{grade.path}: not graded: {grade.problem}", file=sys.stderr)
    print(f"graded {len(grades)} notebook(s): wrote {out} and {report}")
    return 0
