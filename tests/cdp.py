"""A small Chrome DevTools Protocol client for the browser tests: Debian's `chromium` headless, one
page, driven over the DevTools websocket with aiohttp (already a dependency through textual-serve): no
browser download, no playwright.

It records what the page's websockets receive (`Network.webSocketFrameReceived`), so a test can wait
for the text the served cockpit drew (Textual's output, escape sequences stripped) — xterm.js paints on
a canvas, so the DOM has no text to read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[@-Z\\-_]")

# Keys as CDP wants them: (key, code, windowsVirtualKeyCode, text)
KEYS = {
    "enter": ("Enter", "Enter", 13, "\r"),
    "escape": ("Escape", "Escape", 27, ""),
    "tab": ("Tab", "Tab", 9, "\t"),
}


def screen_words(data: bytes) -> str:
    """The terminal output as text: escape sequences removed (cursor moves become nothing)."""
    return _ANSI.sub("", data.decode("utf-8", "replace"))


class Browser:
    def __init__(self, binary: str, profile: Path, *, width: int = 1280, height: int = 800) -> None:
        self.binary = binary
        self.profile = profile
        self.width = width
        self.height = height
        self.proc: subprocess.Popen[bytes] | None = None
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.received = bytearray()  # every binary frame the page's websockets got, in order
        self.sent: list[str] = []  # every text frame the page sent (keys, resizes)
        self.console: list[str] = []

    async def start(self, timeout: float = 60.0) -> None:
        self.profile.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "--headless=new",
            "--no-sandbox",  # CI runs as root in a container
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-port=0",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=(self.profile / "chromium.log").open("wb"))
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited {self.proc.returncode}: {(self.profile / 'chromium.log').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("chromium wrote no DevToolsActivePort")
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        self.session = aiohttp.ClientSession()
        page_ws = None
        while page_ws is None:
            try:
                async with self.session.get(f"http://127.0.0.1:{port}/json/list") as response:
                    targets = await response.json()
                page_ws = next((t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"), None)
            except aiohttp.ClientError:
                page_ws = None
            if page_ws is None:
                if time.monotonic() > deadline:
                    raise AssertionError("chromium offered no page target")
                await asyncio.sleep(0.05)
        self.ws = await self.session.ws_connect(page_ws, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        await self.call("Network.enable")
        await self.call("Page.enable")
        await self.call("Runtime.enable")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile / "Default", ignore_errors=True)

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            doc = json.loads(message.data)
            if "id" in doc:
                future = self._pending.pop(doc["id"], None)
                if future is not None and not future.done():
                    future.set_result(doc)
                continue
            method, params = doc.get("method"), doc.get("params", {})
            if method == "Network.webSocketFrameReceived":
                frame = params["response"]
                if frame.get("opcode") == 2:
                    self.received += base64.b64decode(frame["payloadData"])
                elif frame.get("opcode") == 1:
                    pass  # pings and meta; the screen is in the binary frames
            elif method == "Network.webSocketFrameSent":
                self.sent.append(params["response"].get("payloadData", ""))
            elif method == "Runtime.consoleAPICalled":
                self.console.append(" ".join(str(a.get("value", "")) for a in params.get("args", [])))

    async def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60.0) -> dict[str, Any]:
        assert self.ws is not None
        self._id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._id] = future
        await self.ws.send_str(json.dumps({"id": self._id, "method": method, "params": params or {}}))
        doc = await asyncio.wait_for(future, timeout)
        if "error" in doc:
            raise AssertionError(f"{method}: {doc['error']}")
        return dict(doc.get("result", {}))

    async def evaluate(self, expression: str, timeout: float = 30.0) -> Any:
        # An evaluation that a navigation interrupts (the page loading, a reload after the name prompt)
        # is asked again in the new page's context, until `timeout`.
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
                break
            except AssertionError as error:
                navigating = "navigated or closed" in str(error) or "context" in str(error).lower()
                if not navigating or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def navigate(self, url: str) -> None:
        await self.call("Page.navigate", {"url": url})

    async def wait_for(self, condition: Callable[[], Awaitable[Any]] | Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
        """Poll `condition` (sync or async) until truthy; fail naming `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if time.monotonic() > deadline:
                tail = screen_words(bytes(self.received[-3000:]))
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; the page's last output:\n{tail}")
            await asyncio.sleep(0.05)

    async def wait_for_text(self, text: str, *, since: int = 0, timeout: float = 60.0) -> int:
        """Wait until the cockpit drew `text` (in what the page received after byte `since`); the offset after it."""

        def seen() -> int:
            words = screen_words(bytes(self.received[since:]))
            return len(self.received) if text in words else 0

        return int(await self.wait_for(seen, f"{text!r} on the page", timeout))

    async def press(self, key: str) -> None:
        """One key as a person types it into the focused page (the terminal's hidden textarea)."""
        if key in KEYS:
            name, code, vk, text = KEYS[key]
        else:
            name, code, vk, text = key, f"Key{key.upper()}" if key.isalpha() else "", ord(key.upper()), key
        down: dict[str, Any] = {"type": "keyDown", "key": name, "code": code, "windowsVirtualKeyCode": vk}
        if text:
            down["text"] = text
            down["unmodifiedText"] = text
        await self.call("Input.dispatchKeyEvent", down)
        await self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": name, "code": code, "windowsVirtualKeyCode": vk})

    async def screenshot(self, path: Path) -> Path:
        result = await self.call("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(result["data"]))
        return path
