"""A language-model provider for tests: an OpenAI-compatible chat server on 127.0.0.1.

The test scripts what the "model" answers (a function of the request); the product reaches it
through litellm over real HTTP, exactly as it reaches a local vLLM or Ollama server.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = str | tuple[int, str] | dict[str, Any]
"""Content to return, or (HTTP status, body) for a failure, or {'sleep': s, 'content': ...}."""


@dataclass
class Provider:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def decisions(self) -> list[str]:
        return [schema_name(r) for r in self.requests]


def schema_name(body: dict[str, Any]) -> str:
    return str(body.get("response_format", {}).get("json_schema", {}).get("name", ""))


def data_of(body: dict[str, Any]) -> dict[str, Any]:
    """The DATA document of the request's decision prompt."""
    prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
    found = re.search(r"```json\n(.*?)\n```", prompt, flags=re.DOTALL)
    assert found, prompt[:300]
    return dict(json.loads(found.group(1)))


@contextmanager
def provider(answer: Callable[[dict[str, Any]], Answer]) -> Iterator[Provider]:
    state = Provider(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            reply = answer(body)
            if isinstance(reply, dict):
                time.sleep(float(reply.get("sleep", 0)))
                reply = str(reply.get("content", "{}"))
            if isinstance(reply, tuple):
                self._send(reply[0], json.dumps({"error": {"message": reply[1]}}))
                return
            prompt = sum(len(m["content"]) for m in body["messages"]) // 4
            self._send(
                200,
                json.dumps(
                    {
                        "id": f"chatcmpl-{len(state.requests)}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": reply},
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": len(reply) // 4 + 1,
                            "total_tokens": prompt + len(reply) // 4 + 1,
                        },
                    }
                ),
            )

        def _send(self, status: int, text: str) -> None:
            data = text.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a time-out test)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
