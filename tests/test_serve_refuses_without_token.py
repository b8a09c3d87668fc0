"""`omni-tui serve` over plain HTTP: only a request with the printed token in its path, naming this
server in `Host` and (for a websocket: necessarily) coming from its own origin gets anything; every
other one is a bare 403 and no cockpit process starts. The server is the real CLI, in a subprocess.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

FORBIDDEN = b"403: forbidden\n"


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    host: str
    port: int
    token: str
    out: Path
    err: Path


def start_serve(project: Path, tmp_path: Path, *extra: str) -> Served:
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    proc = subprocess.Popen(
        [sys.executable, "-m", "omni_tui", "serve", str(project), "--port", "0", *extra],
        stdout=out.open("wb"),
        stderr=err.open("wb"),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"on (http://(\S+):(\d+)/([A-Za-z0-9_-]+)/)\n", out.read_text())
        if match:
            return Served(proc, match.group(1), match.group(2), int(match.group(3)), match.group(4), out, err)
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {err.read_text()}")
        time.sleep(0.05)
    raise AssertionError("serve printed no URL within 60 s")


def stop_serve(served: Served) -> None:
    if served.proc.poll() is None:
        os.killpg(served.proc.pid, signal.SIGTERM)
        try:
            served.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(served.proc.pid, signal.SIGKILL)
            served.proc.wait()


@pytest.fixture
def served(project: Path, tmp_path: Path) -> Iterator[Served]:
    s = start_serve(project, tmp_path)
    yield s
    stop_serve(s)


def get(s: Served, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    try:
        base = {"Host": f"127.0.0.1:{s.port}"}
        base.update(headers or {})
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        for key, value in base.items():
            conn.putheader(key, value)
        conn.endheaders()
        response = conn.getresponse()
        body = b"" if response.status == 101 else response.read()
        return response.status, body
    finally:
        conn.close()


def websocket_headers(origin: str | None) -> dict[str, str]:
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
    }
    if origin is not None:
        headers["Origin"] = origin
    return headers


def cockpits_started(s: Served) -> int:
    try:
        return len(psutil.Process(s.proc.pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return 0


def test_the_printed_url_holds_a_fresh_token_of_at_least_128_bits(project: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_serve(project, tmp_path / "a")
    try:
        second = start_serve(project, tmp_path / "b")
        stop_serve(second)
    finally:
        stop_serve(first)
    assert first.host == "127.0.0.1"
    assert len(base64.urlsafe_b64decode(first.token + "=" * (-len(first.token) % 4))) * 8 >= 128
    assert first.token != second.token


def test_with_the_token_the_page_and_its_assets_are_served(served: Served) -> None:
    status, body = get(served, f"/{served.token}/?who=alice")
    assert status == 200 and b"static/js/textual.js" in body
    status, body = get(served, f"/{served.token}/static/js/textual.js")
    assert status == 200 and len(body) > 100_000


@pytest.mark.parametrize(
    "where",
    [
        "no token",
        "wrong token",
        "token in the query",
        "token after the path",
        "asset without token",
        "asset with wrong token",
        "token as a cookie",
        "token cut short",
    ],
)
def test_without_the_token_in_its_place_nothing_is_served(served: Served, where: str) -> None:
    t = served.token
    wrong = ("A" if t[0] != "A" else "B") + t[1:]
    path, headers = {
        "no token": ("/", {}),
        "wrong token": (f"/{wrong}/", {}),
        "token in the query": (f"/?token={t}", {}),
        "token after the path": (f"/static/{t}/js/textual.js", {}),
        "asset without token": ("/static/js/textual.js", {}),
        "asset with wrong token": (f"/{wrong}/static/js/textual.js", {}),
        "token as a cookie": ("/", {"Cookie": f"token={t}"}),
        "token cut short": (f"/{t[:-1]}/", {}),
    }[where]
    assert get(served, path, headers) == (403, FORBIDDEN)


@pytest.mark.parametrize("host", ["evil.example:{port}", "localhost.evil.example:{port}", "127.0.0.1:1", "127.0.0.1", ""])
def test_a_host_header_naming_another_server_is_refused_even_with_the_token(served: Served, host: str) -> None:
    """DNS rebinding: a name the attacker controls resolving to 127.0.0.1 still says its own name in Host."""
    assert get(served, f"/{served.token}/", {"Host": host.format(port=served.port)}) == (403, FORBIDDEN)
    assert get(served, f"/{served.token}/static/js/textual.js", {"Host": host.format(port=served.port)}) == (403, FORBIDDEN)


def test_localhost_names_the_same_server(served: Served) -> None:
    status, _ = get(served, f"/{served.token}/?who=a", {"Host": f"localhost:{served.port}", "Origin": f"http://localhost:{served.port}"})
    assert status == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1:{port}"])
def test_a_page_fetched_from_another_origin_is_refused(served: Served, origin: str) -> None:
    assert get(served, f"/{served.token}/", {"Origin": origin.format(port=served.port)}) == (403, FORBIDDEN)
    assert get(served, f"/{served.token}/", {"Sec-Fetch-Site": "cross-site"}) == (403, FORBIDDEN)


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null", "http://localhost:{port}"])
def test_a_websocket_from_another_origin_or_none_is_refused_and_starts_no_cockpit(served: Served, origin: str | None) -> None:
    """(`http://localhost:P` is another origin than the `http://127.0.0.1:P` the request's Host names.)"""
    headers = websocket_headers(origin.format(port=served.port) if origin else None)
    assert get(served, f"/{served.token}/ws/alice", headers) == (403, FORBIDDEN)
    assert cockpits_started(served) == 0


def test_a_websocket_from_the_served_origin_starts_a_cockpit(served: Served) -> None:
    """The refusals above are the checks, not a websocket that never works."""
    status, _ = get(served, f"/{served.token}/ws/alice", websocket_headers(f"http://127.0.0.1:{served.port}"))
    assert status == 101


def test_the_token_stays_out_of_the_logs(served: Served) -> None:
    get(served, f"/{served.token}/?who=a")
    get(served, f"/{served.token}/static/js/textual.js")
    get(served, f"/{served.token}x/")
    get(served, "/", {"Host": "evil.example"})
    stop_serve(served)
    logged = served.out.read_text() + served.err.read_text()
    assert logged.count(served.token) == 1  # the URL, printed once


def test_any_host_but_loopback_prints_a_one_line_warning(project: Path, tmp_path: Path) -> None:
    s = start_serve(project, tmp_path, "--host", "0.0.0.0")
    try:
        warning = s.err.read_text().splitlines()
        assert len(warning) == 1 and "not loopback" in warning[0] and "ssh" in warning[0]
        assert get(s, f"/{s.token}/?who=a")[0] == 200
        assert get(s, f"/{s.token}/", {"Host": f"my-laptop.example:{s.port}"}) == (403, FORBIDDEN)
    finally:
        stop_serve(s)
    (tmp_path / "quiet").mkdir()
    quiet = start_serve(project, tmp_path / "quiet")
    try:
        assert quiet.err.read_text() == ""
    finally:
        stop_serve(quiet)


@pytest.mark.parametrize(
    "args, problem",
    [
        (["--port", "http"], "--port"),
        (["--port", "70000"], "--port"),
        (["--who", "a\x1b[31mb"], "--who"),
        (["--who", "x" * 41], "--who"),
        (["--host", "a b"], "--host"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(project: Path, args: list[str], problem: str) -> None:
    done = subprocess.run([sys.executable, "-m", "omni_tui", "serve", str(project), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("omni-tui: ") and problem in lines[0]
    assert "\x1b" not in done.stderr


def test_with_who_the_page_asks_no_name_and_without_it_it_does(project: Path, tmp_path: Path, served: Served) -> None:
    status, body = get(served, f"/{served.token}/")
    assert status == 200 and b'id="name-form"' in body and b"textual.js" not in body
    (tmp_path / "named").mkdir()
    named = start_serve(project, tmp_path / "named", "--who", "bob")
    try:
        status, body = get(named, f"/{named.token}/")
        assert status == 200 and b"textual.js" in body and b"name-form" not in body
    finally:
        stop_serve(named)


def test_a_session_needs_a_printable_name(served: Served) -> None:
    origin = {"Origin": f"http://127.0.0.1:{served.port}"}
    status, _ = get(served, f"/{served.token}/ws/%1B%5B31m", {**websocket_headers(None), **origin})
    assert status == 400
    assert cockpits_started(served) == 0
