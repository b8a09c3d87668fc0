"""`omni-tui serve`: the real cockpit in a browser, through textual-serve, behind a token and strict
Host / Origin checks.

textual-serve starts one app process per browser websocket and proxies the terminal over it; it has no
authentication and no Origin check, so served as-is any page open in the person's browser could drive
the cockpit. Here every request goes through `guard` first:

* the token (`secrets.token_urlsafe(24)`, 192 bits, new on every start) is the first path segment:
  `/<token>/` is the page, `/<token>/static/…` its assets, `/<token>/ws/<name>` the websocket. Relative
  URLs carry it, so no cookie is needed; a token anywhere else (a query, a cookie, a header) is not
  looked at. Compared with `hmac.compare_digest`.
* `Host` must name this server: on a loopback bind `127.0.0.1`, `localhost` or `[::1]` with our port;
  on a wildcard bind any IP literal with our port; else exactly `--host`. A DNS name pointing at us
  (DNS rebinding) is refused.
* `Origin`, when sent, must be `http://<Host>`; a websocket must send it. `Sec-Fetch-Site`, when sent,
  must be `same-origin` or `none` (typed into the address bar).

Anything refused is a bare `403 forbidden` before any handler runs: nothing of the app is served and no
process is started. The access log is off (the token is in every path); textual-serve's own logger only
reports errors, never paths. TLS is out of scope: use ssh port forwarding or a private network.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import json
import logging
import secrets
import shlex
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
NAME_LIMIT = 40
FORBIDDEN = "403: forbidden\n"
# The variables by which a terminal says it shows OSC notifications: the browser session's cockpit runs
# in xterm.js, which does not, whatever terminal `omni-tui serve` itself was started from.
_TERMINAL_HINTS = (
    "TMUX",
    "TMUX_PANE",
    "WT_SESSION",
    "KITTY_WINDOW_ID",
    "WEZTERM_PANE",
    "GHOSTTY_RESOURCES_DIR",
    "ITERM_SESSION_ID",
    "LC_TERMINAL",
)
_SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
}


def valid_name(raw: str) -> str | None:
    """A person's name as typed in the page: printable, trimmed, 1..40 characters; None otherwise."""
    name = " ".join(raw.split())
    if not name or len(name) > NAME_LIMIT or not name.isprintable():
        return None
    return name


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "")


def _split_host_header(value: str) -> tuple[str, int | None] | None:
    """`127.0.0.1:8000` / `[::1]:8000` / `localhost` → (host, port); None when malformed."""
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else ""
    else:
        host, _, port_text = value.partition(":")
    if port_text:
        if not port_text.isdigit():
            return None
        return host.lower(), int(port_text)
    return host.lower(), None


class Guard:
    """The checks every request passes before anything of the app is served (pure over headers)."""

    def __init__(self, token: str, bind_host: str, port: int) -> None:
        self.token = token
        self.bind_host = bind_host
        self.port = port

    def host_ok(self, header: str | None) -> bool:
        if not header:
            return False
        parsed = _split_host_header(header)
        if parsed is None:
            return False
        host, port = parsed
        if (port if port is not None else 80) != self.port:
            return False
        if is_loopback(self.bind_host):
            return host in LOOPBACK_NAMES
        if _is_wildcard(self.bind_host):
            return _is_ip(host) or host == "localhost"
        return host == self.bind_host.lower()

    def token_ok(self, path: str) -> bool:
        """The first path segment is the token (compared in constant time)."""
        segment = path[1:].split("/", 1)[0] if path.startswith("/") else ""
        return hmac.compare_digest(segment.encode("utf-8", "surrogateescape"), self.token.encode("ascii"))

    def origin_ok(self, headers: Mapping[str, str], websocket: bool) -> bool:
        origin = headers.get("Origin")
        if origin is None:
            if websocket:
                return False
        elif origin != f"http://{headers.get('Host', '')}":
            return False
        site = headers.get("Sec-Fetch-Site")
        return site is None or site in ("same-origin", "none")

    def allows(self, path: str, headers: Mapping[str, str]) -> bool:
        websocket = headers.get("Upgrade", "").lower() == "websocket"
        return self.host_ok(headers.get("Host")) and self.token_ok(path) and self.origin_ok(headers, websocket)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _forbidden() -> web.Response:
    return web.Response(status=403, text=FORBIDDEN, headers=_SECURITY_HEADERS)


class SessionService(AppService):
    """One browser session's cockpit process: its person's name and `via: web` in its environment."""

    def __init__(self, command: str, *, who: str, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.who = who

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        env = super()._build_environment(width, height)
        for name in _TERMINAL_HINTS:
            env.pop(name, None)
        env["OMNI_TUI_USER"] = self.who
        env["OMNI_TUI_VIA"] = "web"
        return env


class CockpitServer(Server):
    """textual-serve's server with its routes under the token and every request guarded."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        who: str | None = None,
        token: str | None = None,
        command: str | None = None,
    ) -> None:
        self.root = root
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.sock.setblocking(False)
        bound_port = int(self.sock.getsockname()[1])
        cmd = command or shlex.join([sys.executable, "-m", "omni_tui", "-C", str(root)])
        super().__init__(cmd, host=host, port=bound_port, title=f"omni-tui · {root.name}")
        self.token = token or secrets.token_urlsafe(24)
        self.who = who
        self.guard = Guard(self.token, host, bound_port)
        # On a wildcard bind the URL names loopback; other machines use this one's address instead.
        shown = "127.0.0.1" if is_loopback(host) or _is_wildcard(host) else host
        shown = f"[{shown}]" if ":" in shown else shown
        self.url = f"http://{shown}:{bound_port}/{self.token}/"

    # -- the app --------------------------------------------------------------------------------

    async def make_app(self) -> web.Application:
        @web.middleware
        async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
            if not self.guard.allows(request.raw_path.split("?", 1)[0], request.headers):
                return _forbidden()
            response = await handler(request)
            if not response.prepared:
                response.headers.update(_SECURITY_HEADERS)
            return response

        app = web.Application(middlewares=[guard])
        prefix = f"/{self.token}"
        app.add_routes(
            [
                web.get(prefix, self.handle_bare),
                web.get(f"{prefix}/", self.handle_page),
                web.get(f"{prefix}/ws/{{who}}", self.handle_session),
                web.static(f"{prefix}/static", self.statics_path, show_index=False),
            ]
        )
        return app

    async def handle_bare(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPPermanentRedirect(f"/{self.token}/")

    async def handle_page(self, request: web.Request) -> web.Response:
        who = self.who or valid_name(request.query.get("who", ""))
        body = page_html(self.title, who, fixed=self.who is not None)
        return web.Response(text=body, content_type="text/html")

    async def handle_session(self, request: web.Request) -> web.StreamResponse:
        who = self.who or valid_name(request.match_info["who"])
        if who is None:
            return web.Response(status=400, text="400: a name (1-40 printable characters) is needed\n")
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=1024 * 1024)
        width = max(20, min(500, _to_int(request.query.get("width"), 80)))
        height = max(10, min(300, _to_int(request.query.get("height"), 24)))
        service: SessionService | None = None
        try:
            await websocket.prepare(request)
            service = SessionService(
                self.command,
                who=who,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=False,
            )
            await service.start(width, height)
            try:
                await self._process_messages(websocket, service)
            finally:
                await service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:  # noqa: BLE001 — one session's failure must not stop the server
            logging.getLogger("omni-tui.serve").error("a browser session ended with an error", exc_info=True)
        finally:
            if service is not None:
                await service.stop()
        return websocket

    # -- running --------------------------------------------------------------------------------

    async def run(self, ready: Callable[[str], None] | None = None, stop: asyncio.Event | None = None) -> None:
        """Serve until `stop` is set (or the task is cancelled); `ready(url)` once listening."""
        runner = web.AppRunner(await self.make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.SockSite(runner, self.sock)
        await site.start()
        try:
            if ready is not None:
                ready(self.url)
            await (stop or asyncio.Event()).wait()
        finally:
            await runner.cleanup()


def _to_int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def page_html(title: str, who: str | None, *, fixed: bool) -> str:
    """The page: a name form until the person has named themself, then the terminal. All URLs are
    relative to `/<token>/`, so the token never has to be written into the page."""
    head = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="static/css/xterm.css">
<style>
@font-face {{ font-family: "Roboto Mono"; src: url("static/fonts/RobotoMono-VariableFont_wght.ttf"); }}
html, body {{ margin: 0; padding: 0; background: #0c181f; color: #e8eef2; font-family: "Roboto Mono", monospace; }}
.textual-terminal {{ width: 100vw; height: 100vh; }}
form {{ max-width: 28em; margin: 15vh auto; padding: 1.5em; background: #12232d; }}
input, button {{ font: inherit; padding: .4em; margin-top: .6em; }}
input {{ width: 100%; box-sizing: border-box; }}
#closed {{ display: none; position: fixed; inset: 0; align-items: center; justify-content: center; background: #0c181fe0; }}
body.-closed #closed {{ display: flex; }}
</style>
"""
    if who is None:
        return (
            head
            + """</head><body>
<form id="name-form" method="get" action="">
  <p>Your name, as it goes into the decisions you make here and the audit log:</p>
  <input id="who" name="who" maxlength="40" required autofocus autocomplete="nickname">
  <button type="submit">Open the cockpit</button>
</form>
<script>
  const input = document.getElementById("who");
  input.value = localStorage.getItem("omni-tui-who") || "";
  document.getElementById("name-form").addEventListener("submit", () => localStorage.setItem("omni-tui-who", input.value.trim()));
</script>
</body></html>
"""
        )
    name_segment = "-" if fixed else quote(who, safe="")
    return (
        head
        + f"""<script src="static/js/textual.js"></script>
</head><body>
<div id="terminal" class="textual-terminal" data-font-size="16" data-who="{html.escape(who)}"></div>
<div id="closed"><p>The cockpit session ended. <a href="">Open it again</a></p></div>
<script>
  const url = new URL({json.dumps("ws/" + name_segment)}, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  document.getElementById("terminal").dataset.sessionWebsocketUrl = url.href;
</script>
</body></html>
"""
    )


def warn_if_exposed(host: str) -> str | None:
    """The one-line warning for a non-loopback bind (None on loopback)."""
    if is_loopback(host):
        return None
    return (
        f"omni-tui: warning: serving on {host}, not loopback: anyone who can reach this address and has the URL "
        "can approve changes, over plain HTTP (no TLS); prefer ssh -L port forwarding or a private network"
    )


def serve_forever(root: Path, *, host: str, port: int, who: str | None, warning: str | None = None) -> int:
    """The CLI's `omni-tui serve`: listen (OSError when it cannot), print the URL once, serve until
    Ctrl-C / SIGTERM."""
    import signal

    logging.getLogger("aiohttp.access").disabled = True
    logging.basicConfig(level=logging.WARNING, format="omni-tui serve: %(message)s")
    server = CockpitServer(root, host=host, port=port, who=who)
    if warning:
        print(warning, file=sys.stderr, flush=True)

    def ready(url: str) -> None:
        print(f"omni-tui: serving the cockpit of {root} on {url}", flush=True)
        print("omni-tui: open that URL in a browser (it holds the access token; keep it private). Ctrl-C stops.", flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.run(ready, stop)

    asyncio.run(main())
    return 0


__all__ = ["CockpitServer", "Guard", "page_html", "serve_forever", "valid_name", "warn_if_exposed"]
