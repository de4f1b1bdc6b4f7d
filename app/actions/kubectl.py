"""The one way the app starts kubectl: an argument vector (never a shell), the app's kubeconfig and
the user's identity put in front by this module alone, a deadline that kills the process, output
bounded and redacted.

Flask-free: the service (app.actions.service) builds a `Kubectl` from the app's settings and hands
it a parsed step's arguments (app.plans.core.kubectl.Step.argv), which never carry identity or
target flags of their own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO, Mapping

from app.redact import redact_text

MAX_OUTPUT = 64 * 1024  # bytes kept of each of stdout and stderr
_CHUNK = 8192
# The environment kubectl gets: what it needs to find its config and plugins, and kuberc turned
# off (a ~/.kube/kuberc can add default flags and aliases to every command).
_PASSED_ENV = ("PATH", "HOME", "KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")
_FIXED_ENV = {"KUBERC": "off", "KUBECTL_KUBERC": "false", "LC_ALL": "C.UTF-8"}


class KubectlMissing(Exception):
    """No kubectl can be started: the configured path does not exist or is not executable."""


@dataclass(frozen=True)
class Identity:
    """Who kubectl acts as: the impersonated user and groups (None: the app itself)."""

    user: str | None
    groups: tuple[str, ...] = ()

    def flags(self) -> list[str]:
        if self.user is None:
            return []
        return [f"--as={self.user}", *(f"--as-group={group}" for group in self.groups)]

    def __str__(self) -> str:
        if self.user is None:
            return "the app's own identity (impersonation off)"
        groups = ", ".join(self.groups)
        return f"{self.user} (group{'s' if len(self.groups) != 1 else ''} {groups})" if groups else self.user


APP_ITSELF = Identity(None)


@dataclass(frozen=True)
class KubectlResult:
    """What one kubectl process did: exit code (None when killed), output, time, whether killed."""

    argv: tuple[str, ...]  # the arguments after the binary and the connection flags
    exit_code: int | None
    stdout: str
    stderr: str
    duration: float  # seconds
    timed_out: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class Kubectl:
    """Starts kubectl with the app's kubeconfig (and context) as one identity."""

    def __init__(self, binary: str | None, kubeconfig: str | None = None, context: str | None = None,
                 timeout: float = 30.0, max_output: int = MAX_OUTPUT):
        self.binary, self.kubeconfig, self.context = binary, kubeconfig, context
        self.timeout, self.max_output = timeout, max_output

    def executable(self) -> str:
        """The kubectl to start, or KubectlMissing saying which path was tried."""
        if not self.binary:
            raise KubectlMissing("no kubectl found: install kubectl or set CODEX_KUBECTL")
        path = self.binary if os.sep in self.binary else shutil.which(self.binary)
        if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise KubectlMissing(f"kubectl not found at {self.binary}: install it or set CODEX_KUBECTL")
        return path

    def command(self, args: list[str], identity: Identity) -> list[str]:
        """The whole argument vector: binary, connection, identity, then the step's arguments."""
        connection = [f"--kubeconfig={self.kubeconfig}"] if self.kubeconfig else []
        if self.context:
            connection.append(f"--context={self.context}")
        return [self.executable(), *connection, *identity.flags(), *args]

    def run(self, args: list[str], *, identity: Identity, stdin: str | None = None) -> KubectlResult:
        """Run kubectl once; KubectlMissing when it cannot be started. Never raises on its exit."""
        argv = self.command(list(args), identity)
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                argv, shell=False, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_environment(os.environ),
                close_fds=True, start_new_session=True)  # own process group: a kill reaches its children
        except (FileNotFoundError, PermissionError, NotADirectoryError, OSError) as exc:
            raise KubectlMissing(f"kubectl at {argv[0]} cannot be started: {exc.strerror or exc}") from None
        readers = [_Bounded(process.stdout, self.max_output), _Bounded(process.stderr, self.max_output)]
        if stdin is not None:
            threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True).start()
        timed_out = False
        try:
            process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process)
        for reader in readers:
            reader.join(2.0)  # a grandchild holding the pipe open must not hold the request
        out, err = readers
        return KubectlResult(tuple(args), None if timed_out else process.returncode, out.text(), err.text(),
                             time.monotonic() - started, timed_out, out.truncated or err.truncated)


def _environment(parent: Mapping[str, str]) -> dict[str, str]:
    return {**{key: parent[key] for key in _PASSED_ENV if key in parent}, **_FIXED_ENV}


def _feed(pipe: BinaryIO, text: str) -> None:
    try:
        pipe.write(text.encode())
        pipe.close()
    except (BrokenPipeError, OSError):
        pass  # kubectl exited (or was killed) before reading it all: its exit code says why


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait()


class _Bounded:
    """Reads a pipe to its end in a thread, keeping the first `limit` bytes."""

    def __init__(self, pipe: BinaryIO, limit: int):
        self.pipe, self.limit = pipe, limit
        self.kept = bytearray()
        self.truncated = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while chunk := self.pipe.read1(_CHUNK):
                room = self.limit - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
                if len(chunk) > max(room, 0):
                    self.truncated = True  # keep draining: a full pipe would block kubectl
        except (OSError, ValueError):
            pass
        finally:
            self.pipe.close()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)

    def text(self) -> str:
        """The kept bytes as redacted text; a line cut by the limit is dropped, never half-redacted."""
        data = bytes(self.kept)
        if self.truncated:
            data = data[: data.rfind(b"\n") + 1]
        text = redact_text(data.decode("utf-8", errors="replace"))
        return text + (f"[output cut at {self.limit // 1024} KiB]\n" if self.truncated else "")
