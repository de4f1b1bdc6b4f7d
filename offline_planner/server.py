"""HTTP side of the offline planner: OpenAI-shaped routes, errors, streaming and test switches."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from offline_planner.config import PlannerConfig
from offline_planner.facts import iter_blocks
from offline_planner.planner import write_plan

MARKER = re.compile(r"\[\[planner:([^\]]*)\]\]")
CREATED = 1_764_000_000  # fixed so /v1/models answers are deterministic


class PlannerServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # bursts of 50+ concurrent streams connect at once

    def __init__(self, config: PlannerConfig):
        self.config = config
        super().__init__((config.host, config.port), PlannerHandler)


def make_server(config: PlannerConfig) -> PlannerServer:
    """Bind (but do not start) a server for this config; port 0 picks a free port."""
    return PlannerServer(config)


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


STATUS_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", "overloaded"),
    504: ("server_error", None),
}


def parse_markers(messages: list) -> dict[str, int]:
    """Collect [[planner:key=value,...]] switches from the user messages.

    In a Cluster Codex prompt only the user's own notes count, so a log line cannot flip a switch.
    """
    switches: dict[str, int] = {}
    for message in messages:
        if message.get("role") != "user":
            continue
        text = _text_of(message.get("content"))
        notes = [b.body for b in iter_blocks(text) if b.attrs.get("context") == "user"]
        if "```finding" in text:
            text = "\n".join(notes)
        for group in MARKER.findall(text):
            for item in group.split(","):
                key, _, value = item.partition("=")
                if value.strip().lstrip("-").isdigit():
                    switches[key.strip()] = int(value)
    return switches


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def split_chunks(text: str) -> list[str]:
    """Words with their trailing whitespace, so the concatenation is the exact text."""
    return re.findall(r"\s*\S+\s*?(?=\s|$)|\s+$", text) or [text]


class PlannerHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PlannerServer

    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        if self.server.config.verbose:
            super().log_message(format, *args)

    # -- routing -----------------------------------------------------------------------------

    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/healthz":
            return self._json(200, {"status": "ok"})
        if not self._authorized():
            return
        if path == "/v1/models":
            data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "cluster-codex"}
                    for m in self.server.config.models]
            return self._json(200, {"object": "list", "data": data})
        if path.startswith("/v1/models/"):
            model = path.removeprefix("/v1/models/")
            if model in self.server.config.models:
                return self._json(200, {"id": model, "object": "model", "created": CREATED,
                                        "owned_by": "cluster-codex"})
            return self._model_not_found(model)
        self._error(404, f"Unknown route: GET {path}")

    def do_POST(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        body = self._read_body()
        if path != "/v1/chat/completions":
            return self._error(404, f"Unknown route: POST {path}")
        if not self._authorized():
            return
        request, problem = validate_request(body)
        if problem:
            return self._error(400, problem[0], param=problem[1])
        if request["model"] not in self.server.config.models:
            return self._model_not_found(request["model"])
        config = self.server.config
        switches = parse_markers(request["messages"]) if config.markers else {}
        if switches.get("stall_ms"):
            time.sleep(switches["stall_ms"] / 1000)
        status = switches.get("fail") or config.fail_status
        if status:
            return self._error(status, f"The offline planner was told to fail with HTTP {status}.")
        plan, finish_reason = limit_tokens(write_plan(request["messages"]),
                                           request.get("max_completion_tokens") or request.get("max_tokens"))
        if request.get("stream"):
            cut = switches.get("cut_after", config.cut_after_chunks)
            delay = switches.get("slow_ms", config.delay_ms)
            include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
            return self._stream(request, plan, finish_reason, delay, cut, include_usage,
                                error_after=switches.get("error_after"))
        return self._json(200, completion_body(request, plan, finish_reason))

    # -- helpers -----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        key = self.server.config.require_key
        if not key:
            return True
        header = self.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if given == key:
            return True
        message = ("You didn't provide an API key." if not given
                   else "Incorrect API key provided for the offline planner.")
        self._error(401, message)
        return False

    def _model_not_found(self, model: str):
        self._error(404, f"The model `{model}` does not exist or you do not have access to it.",
                    code="model_not_found", param="model")

    def _json(self, status: int, payload: dict, headers: dict | None = None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str | None = None, param: str | None = None):
        type_, default_code = STATUS_ERRORS.get(status, ("server_error" if status >= 500 else
                                                         "invalid_request_error", None))
        headers = {"Retry-After": "1"} if status in (429, 503) else None
        self._json(status, error_body(message, type_, code or default_code, param), headers)

    def _stream(self, request: dict, plan: str, finish_reason: str, delay_ms: int, cut_after: int | None,
                include_usage: bool, error_after: int | None = None):
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        base = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": request["model"], "system_fingerprint": "offline-planner"}
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunks = split_chunks(plan)
        try:
            self._send_event(dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                  "finish_reason": None}]))
            for number, piece in enumerate(chunks):
                if cut_after is not None and number >= cut_after:
                    return self._cut()
                if error_after is not None and number >= error_after:
                    # What an overloaded server sends once the 200 is out: an error event, then the end.
                    self._send_event({"error": {"message": "The server is overloaded (503); try again later.",
                                                "type": "server_error", "code": "overloaded"}})
                    self._send_chunk(b"")
                    return None
                if delay_ms:
                    time.sleep(delay_ms / 1000)
                self._send_event(dict(base, choices=[{"index": 0, "delta": {"content": piece},
                                                      "finish_reason": None}]))
            self._send_event(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": finish_reason}]))
            if include_usage:
                self._send_event(dict(base, choices=[], usage=usage_of(request, plan)))
            self._send_chunk(b"data: [DONE]\n\n")
            self._send_chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (Stop button, closed dialog)

    def _send_event(self, payload: dict):
        self._send_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _send_chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _cut(self):
        """Drop the connection mid-body: no terminating chunk, no [DONE]."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def validate_request(body: bytes) -> tuple[dict, tuple[str, str | None] | None]:
    """Parse a chat completion request; return (request, (message, param)) on a problem."""
    try:
        request = json.loads(body or b"null")
    except ValueError:
        return {}, ("We could not parse the JSON body of your request.", None)
    if not isinstance(request, dict):
        return {}, ("The request body must be a JSON object.", None)
    if not isinstance(request.get("model"), str) or not request["model"]:
        return request, ("You must provide a model parameter.", "model")
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        return request, ("'messages' must be a non-empty array.", "messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user",
                                                                         "assistant", "tool"):
            return request, (f"Invalid value for 'messages[{index}].role'.", f"messages[{index}].role")
        if not isinstance(message.get("content"), (str, list)):
            return request, (f"Missing 'messages[{index}].content'.", f"messages[{index}].content")
    if request.get("n", 1) != 1:
        return request, ("The offline planner only supports n=1.", "n")
    return request, None


def count_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: words and punctuation marks."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def usage_of(request: dict, plan: str) -> dict:
    prompt = sum(count_tokens(_text_of(m.get("content"))) for m in request["messages"])
    completion = count_tokens(plan)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def limit_tokens(plan: str, max_tokens) -> tuple[str, str]:
    """Cut the plan after ``max_tokens`` chunks, as a real model stops at its token limit."""
    if not isinstance(max_tokens, int) or max_tokens <= 0:
        return plan, "stop"
    chunks = split_chunks(plan)
    return ("".join(chunks[:max_tokens]), "length") if len(chunks) > max_tokens else (plan, "stop")


def completion_body(request: dict, plan: str, finish_reason: str = "stop") -> dict:
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request["model"],
        "system_fingerprint": "offline-planner",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": plan},
                     "finish_reason": finish_reason, "logprobs": None}],
        "usage": usage_of(request, plan),
    }
