"""Stand-ins for the kubectl binary that record every start: a fake that answers by itself, or a
wrapper that records and then becomes the real kubectl. A test points CODEX_KUBECTL (or a
`Kubectl`) at one and asserts exactly when kubectl was started."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


class RecordingKubectl:
    """An executable that appends each start's arguments (and stdin) to a log, then runs `body`."""

    def __init__(self, directory: Path, body: str = "", name: str = "kubectl"):
        directory.mkdir(parents=True, exist_ok=True)
        self.path, self.log = directory / name, directory / f"{name}.calls"
        self.pids = directory / f"{name}.pids"
        self.path.write_text(
            f"#!{sys.executable}\n"
            "import json, os, sys\n"
            "stdin = '' if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()\n"
            f"with open({str(self.log)!r}, 'a') as log:\n"
            "    log.write(json.dumps({'argv': sys.argv[1:], 'stdin': stdin, 'env': dict(os.environ)}) + '\\n')\n"
            f"PIDS = {str(self.pids)!r}\n"
            f"{body}\n")
        self.path.chmod(0o755)

    def calls(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def argvs(self) -> list[list[str]]:
        return [call["argv"] for call in self.calls()]


def answering(directory: Path, stdout: str = "", stderr: str = "", code: int = 0) -> RecordingKubectl:
    """A fake kubectl that prints `stdout`/`stderr` and exits with `code`."""
    return RecordingKubectl(directory, f"sys.stdout.write({stdout!r}); sys.stderr.write({stderr!r}); sys.exit({code})")


def hanging(directory: Path) -> RecordingKubectl:
    """A fake kubectl that starts a child and both sleep for a minute; their pids go to `.pids`."""
    return RecordingKubectl(directory, (
        "import subprocess, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        "open(PIDS, 'w').write(f'{os.getpid()} {child.pid}')\n"
        "print('starting...', flush=True)\n"
        "time.sleep(60)"))


def wrapping(directory: Path, real: str) -> RecordingKubectl:
    """Records, then execs the real kubectl with the same arguments and stdin."""
    return RecordingKubectl(directory, (
        "if stdin:\n"
        "    r, w = os.pipe(); os.write(w, stdin.encode()); os.close(w); os.dup2(r, 0)\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])"))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
