"""Stream a plan from any OpenAI-compatible server through the ``openai`` SDK.

Configured by the CODEX_LLM_* settings (app.config.Config and the README's table);
CODEX_LLM_TIMEOUT bounds connecting and every wait for the next chunk, not the whole plan.
Every failure is raised as a `ModelError` whose ``user_message`` can be shown as is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import openai

from app.config import Config


@dataclass(frozen=True)
class ModelSettings:
    """Where the model server is and how to call it; the defaults are app.config.Config's."""

    base_url: str = Config.CODEX_LLM_BASE_URL
    api_key: str = Config.CODEX_LLM_API_KEY
    model: str = Config.CODEX_LLM_MODEL
    timeout: float = Config.CODEX_LLM_TIMEOUT
    max_tokens: int | None = None

    @classmethod
    def from_mapping(cls, config: Mapping) -> "ModelSettings":
        """Read the CODEX_LLM_* settings of an app's config (every key is in Config)."""
        max_tokens = config["CODEX_LLM_MAX_TOKENS"]
        return cls(base_url=str(config["CODEX_LLM_BASE_URL"]), api_key=str(config["CODEX_LLM_API_KEY"]),
                   model=str(config["CODEX_LLM_MODEL"]), timeout=float(config["CODEX_LLM_TIMEOUT"]),
                   max_tokens=int(max_tokens) if max_tokens not in (None, "") else None)

    @property
    def server(self) -> str:
        """Where the model server is, without path or credentials, for messages."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class StreamDone:
    model: str
    finish_reason: str
    usage: Usage | None
    time_to_first_token: float | None  # seconds from the request to the first text
    duration: float  # seconds from the request to the end of the stream


class ModelError(Exception):
    """A plan could not be (fully) generated; ``user_message`` is safe to show, ``status`` names the
    reason for logs and tests (the run itself is stored as failed)."""

    status = "failed"

    def __init__(self, user_message: str, detail: str = ""):
        super().__init__(user_message)
        self.user_message = user_message
        self.detail = detail  # the server's own message, for logs and administrators


class ModelUnreachable(ModelError):
    status = "unreachable"


class ModelTimeout(ModelError):
    status = "timeout"


class ModelAuthFailed(ModelError):
    status = "unauthorized"


class ModelNotFound(ModelError):
    status = "model_not_found"


class ModelRateLimited(ModelError):
    status = "rate_limited"


class ModelServerError(ModelError):
    status = "server_error"


class ModelRequestRejected(ModelError):
    status = "bad_request"


class ModelStreamCut(ModelError):
    status = "stream_cut"


def _refused(exc: BaseException) -> bool:
    while exc is not None:
        if isinstance(exc, ConnectionRefusedError) or "refused" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def translate_error(exc: openai.OpenAIError, settings: ModelSettings, streaming: bool = False) -> ModelError:
    """Map an SDK exception to a domain error with a clear message."""
    where = settings.server
    detail = getattr(exc, "message", str(exc))
    if isinstance(exc, openai.APITimeoutError):
        return ModelTimeout(f"The model server at {where} did not answer within {settings.timeout:g} s.", detail)
    if isinstance(exc, openai.APIConnectionError):
        if streaming:
            return ModelStreamCut("The model server closed the connection before the plan was finished; "
                                  "the partial plan is kept. Try again.", detail)
        if _refused(exc):
            return ModelUnreachable(f"Could not connect to the model server at {where}: connection refused. "
                                    "Is it running?", detail)
        return ModelUnreachable(f"Could not reach the model server at {where}.", detail)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return ModelAuthFailed(f"The model server at {where} rejected the API key (HTTP {status}). "
                               "Check CODEX_LLM_API_KEY.", detail)
    if isinstance(exc, openai.NotFoundError):
        return ModelNotFound(f"The model server at {where} has no model named {settings.model!r} (HTTP 404). "
                             "Check CODEX_LLM_MODEL and CODEX_LLM_BASE_URL.", detail)
    if isinstance(exc, openai.RateLimitError):
        return ModelRateLimited(f"The model server at {where} is rate limiting requests (HTTP 429). "
                                "Wait a moment and try again.", detail)
    if isinstance(exc, openai.APIStatusError) and status and status >= 500:
        return ModelServerError(f"The model server at {where} failed with HTTP {status}. Try again later.", detail)
    if isinstance(exc, openai.APIStatusError):
        return ModelRequestRejected(f"The model server at {where} rejected the request (HTTP {status}).", detail)
    if streaming and type(exc) is openai.APIError:  # an error event after the 200 (e.g. overloaded)
        return ModelServerError(f"The model server at {where} failed in the middle of the plan "
                                f"({str(detail)[:200]}); the partial plan is kept. Try again later.", detail)
    return ModelError(f"The model server at {where} returned an unexpected answer.", detail)


class ModelClient:
    """One SDK client (and connection pool) shared by every plan; safe to use from many threads."""

    def __init__(self, settings: ModelSettings):
        self.settings = settings
        self._client = openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key,
                                     timeout=settings.timeout, max_retries=0)

    def close(self) -> None:
        self._client.close()

    def list_models(self) -> list[str]:
        """Model ids the server offers (a health check for administrators)."""
        try:
            return [model.id for model in self._client.models.list()]
        except openai.OpenAIError as exc:
            raise translate_error(exc, self.settings) from exc

    def stream_plan(self, messages: list[dict[str, str]]) -> Iterator[TextDelta | StreamDone]:
        """Yield the plan's text as it arrives, then one StreamDone; raise ModelError on failure.

        Closing the generator (Stop button, closed dialog) closes the HTTP stream as well.
        """
        started = time.monotonic()
        extra = {"max_tokens": self.settings.max_tokens} if self.settings.max_tokens else {}
        try:
            stream = self._client.chat.completions.create(
                model=self.settings.model, messages=messages, stream=True,
                stream_options={"include_usage": True}, **extra)
        except openai.OpenAIError as exc:
            raise translate_error(exc, self.settings) from exc
        first = None
        finish_reason, usage, model = None, None, self.settings.model
        try:
            for chunk in stream:
                model = chunk.model or model
                if chunk.usage:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens,
                                  chunk.usage.total_tokens)
                for choice in chunk.choices:
                    text = choice.delta.content if choice.delta else None
                    if text:
                        first = first or time.monotonic()
                        yield TextDelta(text)
                    finish_reason = choice.finish_reason or finish_reason
        except openai.OpenAIError as exc:
            raise translate_error(exc, self.settings, streaming=True) from exc
        finally:
            stream.close()
        if finish_reason is None:
            raise ModelStreamCut("The model server ended the stream before the plan was finished; "
                                 "the partial plan is kept. Try again.")
        yield StreamDone(model, finish_reason, usage, first - started if first else None,
                         time.monotonic() - started)
