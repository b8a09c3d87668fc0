"""A scripted Anthropic Messages API on 127.0.0.1, enough to drive the real Claude Code CLI offline.

Speaks the API as Claude Code uses it: `POST /v1/messages` streamed as server-sent events
(`message_start`, `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta`)
/ `content_block_stop`, `message_delta` with the stop reason, `message_stop`) or as one JSON
message when `stream` is false; `POST /v1/messages/count_tokens`; 404 JSON errors otherwise.

The script is a list of assistant turns for the main conversation (a request that offers
tools): each is `ToolUse(name, input)` or `Say(text)`. Turn N answers the request whose
conversation already holds N assistant messages. After the script, the assistant says
`FINAL_PREFIX` followed by the text of the last tool result it received, so the CLI's own output
shows what Claude was told. Requests without tools (side queries) get a short text.
Every request body and every tool result is recorded for the test to read.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FINAL_PREFIX = "Tool result seen by Claude: "


@dataclass(frozen=True)
class ToolUse:
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Say:
    text: str


@dataclass
class Recorded:
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)


def _text_of(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


class ScriptedAnthropic:
    """`with ScriptedAnthropic([...]) as api:` → `api.base_url` for ANTHROPIC_BASE_URL."""

    def __init__(self, script: list[ToolUse | Say]) -> None:
        self.script = script
        self.recorded = Recorded()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ScriptedAnthropic:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def tool_result_texts(self) -> list[str]:
        with self._lock:
            return [_text_of(block) for block in self.recorded.tool_results]

    # -- answering ---------------------------------------------------------------------------------

    def reply_for(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        """(content blocks, stop reason) for one request."""
        messages = body.get("messages") or []
        if not body.get("tools"):
            return [{"type": "text", "text": "ok"}], "end_turn"
        with self._lock:
            last = messages[-1] if messages else {}
            if last.get("role") == "user" and isinstance(last.get("content"), list):
                self.recorded.tool_results += [b for b in last["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        if turn < len(self.script):
            step = self.script[turn]
            if isinstance(step, Say):
                return [{"type": "text", "text": step.text}], "end_turn"
            return [{"type": "tool_use", "id": f"toolu_{turn:02d}scripted", "name": step.name, "input": step.input}], "tool_use"
        results = self.tool_result_texts()
        return [{"type": "text", "text": FINAL_PREFIX + (results[-1] if results else "(none)")}], "end_turn"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def _json(self, status: int, doc: dict[str, Any]) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", "req_standin")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not here"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "bad JSON"}})
                    return
                path = self.path.split("?", 1)[0]
                with api._lock:
                    api.recorded.requests.append(body)
                    api.recorded.paths.append(path)
                if path == "/v1/messages/count_tokens":
                    self._json(200, {"input_tokens": 42})
                    return
                if path != "/v1/messages":
                    self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})
                    return
                content, stop = api.reply_for(body)
                message = {
                    "id": f"msg_standin{len(api.recorded.requests):04d}",
                    "type": "message",
                    "role": "assistant",
                    "model": body.get("model", "claude-standin"),
                    "content": content,
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 7},
                }
                if body.get("stream"):
                    self._stream(message)
                else:
                    self._json(200, message)

            def _stream(self, message: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                self.close_connection = True

                def event(name: str, data: dict[str, Any]) -> None:
                    self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

                start = {**message, "content": [], "stop_reason": None, "usage": {"input_tokens": 12, "output_tokens": 1}}
                event("message_start", {"type": "message_start", "message": start})
                for index, block in enumerate(message["content"]):
                    if block["type"] == "text":
                        event(
                            "content_block_start",
                            {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                        )
                        text = block["text"]
                        for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
                            event(
                                "content_block_delta",
                                {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
                            )
                    else:
                        event(
                            "content_block_start",
                            {
                                "type": "content_block_start",
                                "index": index,
                                "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
                            },
                        )
                        raw = json.dumps(block["input"])
                        for piece in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
                            event(
                                "content_block_delta",
                                {
                                    "type": "content_block_delta",
                                    "index": index,
                                    "delta": {"type": "input_json_delta", "partial_json": piece},
                                },
                            )
                    event("content_block_stop", {"type": "content_block_stop", "index": index})
                event(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                        "usage": {"output_tokens": 7},
                    },
                )
                event("message_stop", {"type": "message_stop"})
                self.wfile.flush()

        return Handler
