"""Settings of the offline planner, from command-line flags with OFFLINE_PLANNER_* fallbacks."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

DEFAULT_MODEL = "codex-offline-planner"


@dataclass(frozen=True)
class PlannerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    models: tuple[str, ...] = (DEFAULT_MODEL,)
    delay_ms: int = 15
    # Test-only switches: applied to every chat completion request.
    fail_status: int | None = None
    cut_after_chunks: int | None = None
    require_key: str | None = None
    # Per-request [[planner:...]] markers in the user message; on by default, off with --no-markers.
    markers: bool = True
    verbose: bool = False


def _env_int(environ, name):
    value = environ.get(name, "").strip()
    return int(value) if value else None


def parse_args(argv=None, environ=None) -> PlannerConfig:
    """Build the config from flags, each defaulting to its OFFLINE_PLANNER_* variable."""
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python -m offline_planner",
        description="Deterministic OpenAI-compatible server that writes Kubernetes runbooks.",
    )
    parser.add_argument("--host", default=env.get("OFFLINE_PLANNER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=_env_int(env, "OFFLINE_PLANNER_PORT") or 8765,
                        help="0 picks a free port; the chosen one is printed on stdout")
    parser.add_argument("--model", action="append", dest="models",
                        help="model id to serve (repeatable; env OFFLINE_PLANNER_MODELS, comma-separated)")
    delay = _env_int(env, "OFFLINE_PLANNER_DELAY_MS")
    parser.add_argument("--delay-ms", type=int, default=15 if delay is None else delay,
                        help="pause between streamed chunks")
    parser.add_argument("--fail-status", type=int, default=_env_int(env, "OFFLINE_PLANNER_FAIL_STATUS"),
                        help="test switch: answer every completion with this HTTP status")
    parser.add_argument("--cut-after-chunks", type=int,
                        default=_env_int(env, "OFFLINE_PLANNER_CUT_AFTER_CHUNKS"),
                        help="test switch: close streams after this many content chunks, without [DONE]")
    parser.add_argument("--require-key", default=env.get("OFFLINE_PLANNER_REQUIRE_KEY") or None,
                        help="reject requests whose bearer token differs from this key (401)")
    parser.add_argument("--no-markers", action="store_true",
                        default=env.get("OFFLINE_PLANNER_MARKERS", "1").strip() in ("0", "false", "no"),
                        help="ignore [[planner:...]] test markers in user messages")
    parser.add_argument("--verbose", action="store_true", default=bool(env.get("OFFLINE_PLANNER_VERBOSE")))
    args = parser.parse_args(argv)
    models = args.models or [m.strip() for m in env.get("OFFLINE_PLANNER_MODELS", "").split(",") if m.strip()]
    return PlannerConfig(
        host=args.host,
        port=args.port,
        models=tuple(models or [DEFAULT_MODEL]),
        delay_ms=max(0, args.delay_ms),
        fail_status=args.fail_status,
        cut_after_chunks=args.cut_after_chunks,
        require_key=args.require_key,
        markers=not args.no_markers,
        verbose=args.verbose,
    )
