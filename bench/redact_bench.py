"""Benchmark redaction on worst-case text: `redact_text` beside one plain regex pass over the same bytes.

No cluster and no server: everything runs in this process. For each adversarial shape (runs of
letters, of base64 characters, ``a=a=a=``, ``key: key:``, one long log line, an unterminated PEM
block, and the runs that made the old patterns rescan from every character) the bench prints, at
64 KiB:

- ``redact_text`` (CPU time, the best of --runs runs);
- the baseline: ``re.findall(r"\\w+", text)``, one linear regex pass over the same text;
- their ratio (a few times to a few tens: redaction is nine linear passes where the baseline is
  one, and ``\\w+`` over a single run of letters is one long match; the old patterns showed
  tens of thousands).

Then the time of every shape at 4, 8, 16, 32 and 64 KiB, and the growth from 4 to 64 KiB
(16x is linear, 256x quadratic), and one pod's context gathered with a single 64 KiB log line.
``--against REV`` also times ``app/redact.py`` as of that git revision, up to
``--against-max-kib`` (quadratic code needs minutes at 64 KiB).

    .venv/bin/python -m bench.redact_bench [--runs 5] [--against HEAD~1] [--against-max-kib 16]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import types

from app.findings import Finding
from app.plans.core.context import gather_context
from app.redact import redact_text
from tests.support.child_process import REPO as ROOT

KIB = 1024
SIZES_KIB = (4, 8, 16, 32, 64)
# name: (text once at the start, unit repeated to the size). The first six are the shapes of the
# issue; the rest are the runs where a pattern could start at every character (a run of letters
# for keys, ``a-a-`` and ``a.a.`` for URL schemes, ``eyJ-`` for JWTs, blanks for ``name:``).
SHAPES = {
    "letters": ("", "a"),
    "base64 alphabet": ("", "Zm9vYmFyYmF6+/09"),
    "a=a=a=": ("", "a="),
    "key: key: ": ("", "key: "),
    "one long log line": ("", 'ts=2026-11-26T11:09:00Z level=debug msg="GET /api/v1/items 200" user=admin '),
    "unterminated PEM": ("-----BEGIN X-----\n", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"),
    "hex digits": ("", "0f"),
    "blanks": ("", " \t"),
    "a-a-a-": ("", "a-"),
    "a.a.a.": ("", "a."),
    "eyJ-eyJ-": ("", "eyJ-"),
    "sk-sk-": ("", "sk-"),
}


def adversarial(shape: str, size: int) -> str:
    """``size`` characters of one shape."""
    head, unit = SHAPES[shape]
    return (head + unit * (size // len(unit) + 1))[:size]


def best_of(function, text: str, runs: int) -> float:
    """The least CPU time of ``runs`` calls, in seconds: the time a worker is held, without the
    turns other processes take on a busy machine."""
    best = float("inf")
    for _ in range(runs):
        started = time.thread_time()
        function(text)
        best = min(best, time.thread_time() - started)
    return best


def plain_pass(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def redact_at(revision: str):
    """``redact_text`` as of a git revision, loaded from ``git show`` into a module of its own."""
    source = subprocess.run(["git", "show", f"{revision}:app/redact.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(f"redact_at_{revision}")
    exec(compile(source, f"{revision}:app/redact.py", "exec"), module.__dict__)  # noqa: S102
    return module.redact_text


def pod_with_long_log_line() -> tuple[Finding, object]:
    """The planning tests' crash-looping pod, each of its two logs one 64 KiB line."""
    from tests.plans_core.planning_samples import crash_loop

    result, gateway = crash_loop()
    line = adversarial("one long log line", 64 * KIB)
    gateway.logs = {key: line for key in gateway.logs}
    return Finding.from_result(result), gateway


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--against", metavar="REV", help="also time redact.py as of this git revision")
    parser.add_argument("--against-max-kib", type=int, default=16)
    args = parser.parse_args()
    before = redact_at(args.against) if args.against else None

    print(f"\nRedaction of 64 KiB of worst-case text, CPU time, best of {args.runs} runs\n")
    print(f"{'shape':20} {'redact ms':>10} {'plain ms':>10} {'ratio':>8}")
    for shape in SHAPES:
        text = adversarial(shape, 64 * KIB)
        redact, plain = best_of(redact_text, text, args.runs), best_of(plain_pass, text, args.runs)
        print(f"{shape:20} {redact * 1000:10.2f} {plain * 1000:10.3f} {redact / plain:7.1f}x")

    print(f"\nGrowth with size: redact_text ms at {', '.join(f'{k}' for k in SIZES_KIB)} KiB "
          f"(64/4 KiB: 16x is linear, 256x quadratic)\n")
    print(f"{'shape':20} " + " ".join(f"{f'{k} KiB':>9}" for k in SIZES_KIB) + f" {'64/4':>7}")
    for shape in SHAPES:
        times = [best_of(redact_text, adversarial(shape, k * KIB), args.runs) for k in SIZES_KIB]
        print(f"{shape:20} " + " ".join(f"{t * 1000:9.2f}" for t in times) + f" {times[-1] / times[0]:6.1f}x")

    if before:
        sizes = [k for k in SIZES_KIB if k <= args.against_max_kib]
        print(f"\nThe same with redact.py as of {args.against} (one run each, up to {args.against_max_kib} KiB)\n")
        print(f"{'shape':20} " + " ".join(f"{f'{k} KiB':>9}" for k in sizes) + f" {'now':>9}")
        for shape in SHAPES:
            times = [best_of(before, adversarial(shape, k * KIB), 1) for k in sizes]
            now = best_of(redact_text, adversarial(shape, sizes[-1] * KIB), args.runs)
            print(f"{shape:20} " + " ".join(f"{t * 1000:9.1f}" for t in times) + f" {now * 1000:9.2f}", flush=True)

    finding, gateway = pod_with_long_log_line()
    started = time.thread_time()
    context = gather_context(gateway, finding)
    gathered = time.thread_time() - started
    logs = [s for s in context.sections if s.key == "log"]
    print(f"\nPod context with two 64 KiB log lines (gather_context, 16 KB budget): {gathered * 1000:.1f} ms, "
          f"{context.size:,} bytes; each log line kept at {max((len(s.body) for s in logs), default=0):,} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
