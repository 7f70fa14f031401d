"""``make lab`` starts JupyterLab on localhost only, with token authentication on.

The server is started the way the Makefile's ``lab`` target starts it (``jupyter lab
--ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks``, plus ``--no-browser`` and a free
port so that the test can run beside a developer's own server), with its generated token. No
browser is needed: these are plain HTTP requests.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from lab_server import NOTEBOOKS, ROOT, LabServer

pytestmark = pytest.mark.ui


def makefile_lab_options() -> list[str]:
    """The ``--ServerApp.*`` options of the Makefile's ``lab`` recipe."""
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lab:.*\n\t(.+)$", text, re.MULTILINE)
    assert recipe, "the Makefile has no lab target with a one-line recipe"
    assert "jupyter lab" in recipe.group(1)
    return re.findall(r"--ServerApp\.\w+=\S+", recipe.group(1))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, token: str | None = None) -> tuple[int, dict, bytes]:
    """GET ``url`` without following redirects; returns (status, headers, body)."""
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"token {token}")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port`` (Linux ``/proc/net/tcp*``)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                if len(raw) == 4:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:  # IPv6 is stored as four little-endian 32-bit words
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def outward_addresses() -> set[str]:
    """This machine's non-loopback IPv4 addresses (empty when it has none)."""
    found = set()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, it picks a route
            found.add(probe.getsockname()[0])
    except OSError:
        pass
    try:
        found.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    return {a for a in found if not a.startswith("127.") and a != "0.0.0.0"}


@pytest.fixture(scope="module")
def make_lab_server(tmp_path_factory):
    """JupyterLab started with the Makefile's own options and its own generated token."""
    home = tmp_path_factory.mktemp("make-lab")
    root = home / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    options = makefile_lab_options()
    assert "--ServerApp.root_dir=notebooks" in options, (
        f"make lab should serve notebooks/: {options}"
    )
    options = [o for o in options if not o.startswith("--ServerApp.root_dir=")]  # serve the copy
    assert "--ServerApp.ip=127.0.0.1" in options, (
        f"make lab should listen on 127.0.0.1 only: {options}"
    )
    server = LabServer(root, home, options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_make_lab_generates_a_token(make_lab_server):
    assert make_lab_server.token and len(make_lab_server.token) >= 32


def test_make_lab_refuses_requests_without_the_token(make_lab_server):
    server = make_lab_server
    status, _, _ = get(f"{server.url}/api/contents")
    assert status == 403
    status, _, _ = get(f"{server.url}/api/sessions")
    assert status == 403
    status, _, _ = get(f"{server.url}/api/contents", token="not-the-token")
    assert status == 403
    status, headers, _ = get(f"{server.url}/lab")
    assert status == 302 and "/login" in headers["Location"], (status, headers.get("Location"))


def test_make_lab_accepts_requests_with_the_token(make_lab_server):
    server = make_lab_server
    status, _, body = get(f"{server.url}/api/contents", token=server.token)
    assert status == 200
    served = {item["name"] for item in json.loads(body)["content"]}
    assert {path.name for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")} <= served
    status, _, _ = get(f"{server.url}/lab?token={server.token}")
    assert status in (200, 302)


def test_make_lab_listens_on_localhost_only(make_lab_server):
    port = make_lab_server.port
    addresses = listening_addresses(port)
    if addresses:  # Linux: the kernel's own table of listening sockets
        assert addresses == {"127.0.0.1"}, f"port {port} listens on {sorted(addresses)}"
    for address in outward_addresses():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            assert sock.connect_ex((address, port)) != 0, f"reachable on {address}:{port}"
