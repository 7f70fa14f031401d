"""Start and stop a throw-away JupyterLab server for the browser tests (no browser needed here).

``LabServer`` runs the virtual environment's own ``jupyter lab`` on 127.0.0.1 and a free port,
with its runtime, config, workspaces and settings folders inside a temporary directory, so a
test run never reads or writes the developer's own Jupyter state. ``stop()`` terminates the
server, waits, and kills it if it does not stop.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
JUPYTER = Path(sys.executable).with_name("jupyter")
NOTEBOOKS = Path(os.environ.get("CNNTEACH_UI_NOTEBOOKS") or ROOT / "notebooks")
SCREENSHOTS = ROOT / "build" / "ui-screenshots"
LESSON_TIMEOUT = float(os.environ.get("CNNTEACH_UI_TIMEOUT") or 300)

# Where the course's kernels find MNIST (and trained models) without the network.
COURSE_ENVIRONMENT = ("CNNTEACH_DATA", "CNNTEACH_OFFLINE", "CNNTEACH_MODELS")


def lessons() -> list[Path]:
    """The lessons present now: ``notebooks/NN_*.ipynb``."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def free_port() -> int:
    """Return a TCP port that nothing listens on at 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def course_environment(home: Path) -> dict[str, str]:
    """The environment of a server whose kernels load MNIST offline, isolated under ``home``."""
    env = dict(os.environ)
    if "CNNTEACH_DATA" not in env and SHARED_MNIST.is_dir():
        env["CNNTEACH_DATA"] = str(SHARED_MNIST)
    env["CNNTEACH_OFFLINE"] = env.get("CNNTEACH_OFFLINE") or "1"
    if not env.get("CNNTEACH_MODELS"):  # lesson 08 saves the trained model, later lessons load it
        env["CNNTEACH_MODELS"] = str(home / "models")
    env.setdefault("PYTHONHASHSEED", "0")
    env.pop("MPLBACKEND", None)  # Agg (set by .ci/run) would hide every figure in the kernels
    for name in ("runtime", "config"):
        (home / name).mkdir(parents=True, exist_ok=True)
    env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
    env["JUPYTER_CONFIG_DIR"] = str(home / "config")
    return env


class LabServer:
    """One ``jupyter lab`` process; use ``start()`` then ``stop()`` (or as a context manager).

    Parameters
    ----------
    root : Path
        The folder the server serves (``--ServerApp.root_dir``).
    home : Path
        A temporary folder for the server's runtime, config, workspaces and settings.
    args : list of str
        Extra command-line options (for example ``--IdentityProvider.token=...``); without
        ``--ServerApp.ip=...`` among them the server listens on 127.0.0.1.
    """

    def __init__(self, root: Path, home: Path, args: list[str] = ()):
        self.root = Path(root)
        self.home = Path(home)
        self.port = free_port()
        self.args = [
            str(JUPYTER),
            "lab",
            "--no-browser",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            *args,
        ]
        if not any(arg.startswith("--ServerApp.ip=") for arg in args):
            self.args.append("--ServerApp.ip=127.0.0.1")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self.args.append("--allow-root")
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.home / f"jupyter-lab-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.token: str | None = None

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 180) -> LabServer:
        self.home.mkdir(parents=True, exist_ok=True)
        env = course_environment(self.home)
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.args,
            cwd=self.home,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with status {self.process.returncode} before it served "
                    f"{self.url}; its log ends with:\n{self.log_tail()}"
                )
            info = self._runtime_info()
            if info is not None and self._answers():
                self.token = info.get("token", "")
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            f"jupyter lab did not answer on {self.url} within {timeout:.0f} s; its log ends with:\n"
            f"{self.log_tail()}"
        )

    def _runtime_info(self) -> dict | None:
        """The server's own ``jpserver-<pid>.json`` (port, token, ...), once it has written it."""
        path = self.home / "runtime" / f"jpserver-{self.process.pid}.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/status", timeout=5):
                return True
        except urllib.error.HTTPError:
            return True  # it answers (403 without a token): it is up
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate the server (it shuts its kernels down), wait, then kill it if needed."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
