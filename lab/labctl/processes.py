"""The lab's processes on this machine: pid files under <state>/run (checked against /proc, so a
recycled pid is not mistaken for ours), start with a log under <state>/logs and a health wait,
stop (SIGTERM to the process group, SIGKILL after STOP_TIMEOUT), RSS; and the state-dir lock
that lets only one `up`/`down`/`issues` run at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .components import COMPONENTS, Component
from .paths import LOG_DIR, RUN_DIR, STATE, STOP_TIMEOUT, binary, operator_crds_dir
from .probes import port_free
from .report import LabError, say


def read_pid(comp: Component) -> int | None:
    try:
        return int(comp.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int, binary_name: str | None = None) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return False
    if binary_name:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        if not cmdline or Path(cmdline[0].decode(errors="replace")).name != binary_name:
            return False
    return True


def running_pid(comp: Component) -> int | None:
    pid = read_pid(comp)
    if pid and pid_alive(pid, comp.binary):
        return pid
    return None


def all_running() -> bool:
    return all(running_pid(c) for c in COMPONENTS)


def check_binaries() -> None:
    for tool in ("openssl",):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} not found on PATH (apt-get install {tool})")
    for comp in COMPONENTS:
        binary(comp.binary)
    binary("kubectl")
    binary("helm")
    operator_crds_dir()


def start(comp: Component) -> subprocess.Popen:
    exe = binary(comp.binary)
    for port, host in comp.ports:
        if not port_free(port, host):
            raise LabError(f"{comp.name}: port {port} is already in use on {host} "
                           f"(stop whatever listens there, or run scripts/lab down)")
    args = comp.args()
    env = {**os.environ, **comp.env()}
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with comp.log.open("ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} lab: starting {exe} {' '.join(args)}\n".encode())
        log.flush()
        proc = subprocess.Popen([str(exe), *args], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=str(STATE), env=env, start_new_session=True)
    comp.pidfile.write_text(f"{proc.pid}\n")
    return proc


def wait_healthy(comp: Component, proc: subprocess.Popen | None) -> None:
    deadline = time.monotonic() + comp.start_timeout
    detail = ""
    passes = 0
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LabError(f"{comp.name} exited during start-up (exit code {proc.returncode}); see {comp.log}")
        ok, detail = comp.health()
        passes = passes + 1 if ok else 0
        # two healthy answers in a row from a process that is still alive
        if passes >= 2 and (proc is None or proc.poll() is None):
            return
        time.sleep(0.2 if ok else 0.3)
    raise LabError(f"{comp.name} not healthy after {comp.start_timeout:.0f}s ({detail}); see {comp.log}")


def start_component(comp: Component, started: list[Component]) -> None:
    if running_pid(comp):
        wait_healthy(comp, None)
        return
    t0 = time.monotonic()
    proc = start(comp)
    started.append(comp)
    wait_healthy(comp, proc)
    say(f"{comp.name} healthy (pid {proc.pid}, {time.monotonic() - t0:.1f}s)")


def stop(comp: Component, timeout: float = STOP_TIMEOUT) -> str:
    pid = read_pid(comp)
    if pid is None:
        return "not running"
    if not pid_alive(pid, comp.binary):
        comp.pidfile.unlink(missing_ok=True)
        return "not running (stale pid file removed)"
    try:
        os.killpg(pid, signal.SIGTERM)  # started with start_new_session: pgid == pid
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    how = "stopped"
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        kill_deadline = time.monotonic() + 5
        while time.monotonic() < kill_deadline and pid_alive(pid):
            time.sleep(0.1)
        how = "killed (SIGKILL after SIGTERM timeout)"
    comp.pidfile.unlink(missing_ok=True)
    return how


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@contextlib.contextmanager
def state_lock(timeout: float = 900):
    """One `up`/`down`/`issues` at a time per state dir (test sessions may start in parallel)."""
    STATE.mkdir(parents=True, exist_ok=True)
    lock_path = STATE / ".lock"
    with lock_path.open("w") as f:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError(f"another scripts/lab command has held {lock_path} for over {timeout:.0f}s")
                if not waited:
                    say(f"waiting for another scripts/lab command to finish (lock {lock_path})")
                    waited = True
                time.sleep(0.5)
        yield
