"""A real second model server for tests: llama-cpp-python's OpenAI-compatible server running
SmolLM2-135M-Instruct on the CPU, on a free loopback port.

    with LlamaServer() as llama:
        sdk = openai.OpenAI(base_url=llama.base_url, api_key="none")
        sdk.chat.completions.create(model=llama.model, messages=[...], stream=True)

The server and the model live in their own cached venv, made by `scripts/build-llama` (which
`scripts/bootstrap` runs); `LlamaServer()` runs it when they are missing, so a cold machine builds
first (about 7 minutes on 2 cores) rather than skipping. Mind its speed on 2 cores: about
80 prompt tokens/s, so a 3-4k-token plan prompt waits 40-60 s for its first token.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.child_process import REPO, ChildProcess, free_port

BUILD_SCRIPT = REPO / "scripts" / "build-llama"
BUILD_TIMEOUT = 3600  # seconds: a cold C++ build on a busy 2-core machine
START_TIMEOUT = 120   # seconds: loading the 100 MB model takes about one
MODEL_ALIAS = "smollm2"
N_CTX = 8192          # SmolLM2's trained context; a plan prompt is 3-4k tokens
N_THREADS = 2


class LlamaServerError(RuntimeError):
    """scripts/build-llama failed (the message has its output)."""


def llama_build() -> tuple[Path, Path]:
    """The cached venv's python and the .gguf model, built by scripts/build-llama if missing."""
    # Its own process group, so a build given up on takes its pip and compilers with it.
    build = subprocess.Popen([str(BUILD_SCRIPT), "--print-paths"], cwd=REPO, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = build.communicate(timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        os.killpg(build.pid, signal.SIGKILL)
        build.communicate()
        raise LlamaServerError(f"scripts/build-llama did not finish within {BUILD_TIMEOUT}s") from exc
    if build.returncode != 0:
        raise LlamaServerError(f"scripts/build-llama exited with {build.returncode}:\n{err[-4000:]}")
    paths = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return Path(paths["python"]), Path(paths["model"])


class LlamaServer:
    """`python -m llama_cpp.server` on 127.0.0.1:<free port>; `base_url` ends in /v1."""

    model = MODEL_ALIAS

    def __init__(self, n_ctx: int = N_CTX):
        python, self.model_path = llama_build()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        cmd = [str(python), "-m", "llama_cpp.server", "--model", str(self.model_path),
               "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
               "--n_ctx", str(n_ctx), "--n_threads", str(N_THREADS),
               "--n_threads_batch", str(N_THREADS),
               # Requests wait their turn: by default a new one cuts the stream being written.
               "--interrupt_requests", "false",
               # No logits kept for every prompt token (only logprobs need them): the default
               # holds n_ctx x 49152 floats, 1.6 GB peak RSS instead of 0.5 GB, at the same speed.
               "--logits_all", "false"]
        # The server's settings also read environment variables named like its flags (API_KEY,
        # MODEL, PORT, ...), so it gets a bare environment.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"),
               "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
        fd, log = tempfile.mkstemp(prefix="codex-llama-server-", suffix=".log")
        os.close(fd)
        self.child = ChildProcess("llama-cpp-python server", cmd, log_path=Path(log), env=env)

    def start(self) -> "LlamaServer":
        self.child.start().wait_for_http(f"{self.base_url}/models", timeout=START_TIMEOUT)
        return self

    def log(self) -> str:
        return self.child.log()

    def stop(self) -> None:
        self.child.stop()

    def __enter__(self) -> "LlamaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture(scope="session")
def llama_server():
    """llama-cpp-python serving SmolLM2 for this session (a pytest plugin, tests/conftest.py)."""
    with LlamaServer() as server:
        yield server
