"""Control the local Kubernetes lab: up | down [--purge] | restart COMPONENT [--down SECONDS] | status |
env | cert USER [GROUP...] | issues install|uninstall.

The commands of `scripts/lab` (which runs `python3 lab/labctl`) and their argparse front end;
the work is in the other modules of this package. A LabError or CertError ends a command with one
line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

from .cluster import ensure_namespace, poll, result_count
from .components import BY_NAME, COMPONENTS, Component
from .install import (add_fake_nodes, apply_k8sgpt, apply_kwok_rbac, install_app_chart, install_crds,
                      install_known_issues, known_issue_charts, uninstall_known_issues, write_k8sgpt_config)
from .paths import ADMIN_KUBECONFIG, HOME_DIR, K8SGPT_NAMESPACE, LOG_DIR, PKI_DIR, RUN_DIR, STATE
from .pki import CertError, ensure_pki, user_kubeconfig
from .probes import operator_probe_port
from .processes import all_running, check_binaries, running_pid, rss_kib, start_component, state_lock, stop
from .report import LabError, say

# --------------------------------------------------------------------------------------------
# up


def cmd_up(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    check_binaries()
    with state_lock():
        return _up(args, t0)


def _up(args: argparse.Namespace, t0: float) -> int:
    if all_running():
        unhealthy = [c.name for c in COMPONENTS if not c.health()[0]]
        if unhealthy:
            say(f"lab already running, but not healthy: {', '.join(unhealthy)} (see scripts/lab status)")
        else:
            say(f"lab already running ({STATE}); nothing to do")
        return 0
    for d in (STATE, PKI_DIR, RUN_DIR, LOG_DIR, HOME_DIR):
        d.mkdir(parents=True, exist_ok=True)
    ensure_pki()
    write_k8sgpt_config()
    started: list[Component] = []
    try:
        for comp in COMPONENTS:
            if comp.name == "k8sgpt":
                install_crds()
                ensure_namespace(K8SGPT_NAMESPACE)
            start_component(comp, started)
            if comp.name == "kube-apiserver":
                apply_kwok_rbac()
            elif comp.name == "kwok":
                add_fake_nodes()
                say("3 fake nodes Ready")
        apply_k8sgpt()
    except (LabError, CertError) as exc:
        for comp in reversed(started):
            stop(comp)
        raise LabError(f"{exc} (stopped what this run started)") from exc
    except KeyboardInterrupt:
        for comp in reversed(started):
            stop(comp)
        raise
    try:
        install_app_chart()
    except LabError as exc:
        raise LabError(f"cluster-codex chart: {exc} (the lab itself is up)") from exc
    say(f"lab up in {time.monotonic() - t0:.1f}s; {env_line()}")
    if args.wait_results:
        t1 = time.monotonic()
        poll("the first K8sGPT Result", lambda: result_count() > 0, args.wait_results, interval=1)
        say(f"first Results after {time.monotonic() - t0:.1f}s ({time.monotonic() - t1:.1f}s after up)")
    return 0


# --------------------------------------------------------------------------------------------
# down / status / env / cert / issues


def cmd_down(args: argparse.Namespace) -> int:
    if not STATE.exists():
        say(f"no lab state at {STATE}; nothing to stop")
        return 0
    with state_lock():
        return _down(args)


def _down(args: argparse.Namespace) -> int:
    for comp in reversed(COMPONENTS):
        how = stop(comp)
        say(f"{comp.name}: {how}")
    if args.purge:
        if STATE.exists():
            shutil.rmtree(STATE)
        say(f"purged {STATE}")
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    """Stop one running component, keep it down --down seconds (an outage the fault tests make),
    start it again and wait until it is healthy; its state (etcd's data) stays."""
    comp = BY_NAME[args.component]
    with state_lock():
        if not running_pid(comp):
            raise LabError(f"{comp.name} is not running; run scripts/lab up first")
        say(f"{comp.name}: {stop(comp)}")
        time.sleep(args.down)
        start_component(comp, [])
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    rows = []
    total_rss = 0
    all_ok = True
    for comp in COMPONENTS:
        pid = running_pid(comp)
        if pid:
            ok, detail = comp.health()
            rss = rss_kib(pid)
            total_rss += rss
        else:
            ok, detail, rss = False, "not running", 0
        all_ok &= ok
        port = comp.port_label
        if comp.name == "k8sgpt-operator" and pid and operator_probe_port():
            port = f"probe {operator_probe_port()}"
        rows.append((comp.name, str(pid or "-"), port, ("ok  " if ok else "FAIL") + " " + detail,
                     f"{rss / 1024:.0f} MiB" if rss else "-"))
    widths = [max(len(r[i]) for r in rows + [("COMPONENT", "PID", "PORT", "HEALTH", "RSS")]) for i in range(5)]
    for r in [("COMPONENT", "PID", "PORT", "HEALTH", "RSS")] + rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    print(f"state {STATE}  logs {LOG_DIR}  total RSS {total_rss / 1024:.0f} MiB")
    return 0 if all_ok else 1


def env_line() -> str:
    return f"export KUBECONFIG={ADMIN_KUBECONFIG}"


def cmd_env(args: argparse.Namespace) -> int:
    print(env_line())
    return 0


def cmd_cert(args: argparse.Namespace) -> int:
    print(user_kubeconfig(args.user, args.groups))
    return 0


def cmd_issues(args: argparse.Namespace) -> int:
    with state_lock():
        return _issues(args)


def _issues(args: argparse.Namespace) -> int:
    if not running_pid(BY_NAME["kube-apiserver"]):
        raise LabError("the lab is not running; run scripts/lab up first")
    charts = known_issue_charts()
    if args.action == "install":
        install_known_issues(charts)
    else:
        uninstall_known_issues(charts)
    return 0


# --------------------------------------------------------------------------------------------
# the command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the lab (idempotent)")
    up.add_argument("--wait-results", type=float, default=0, metavar="SECONDS",
                    help="after up, wait up to SECONDS for the first K8sGPT Result")
    up.set_defaults(fn=cmd_up)
    down = sub.add_parser("down", help="stop every lab process")
    down.add_argument("--purge", action="store_true", help="also delete the state directory")
    down.set_defaults(fn=cmd_down)
    restart = sub.add_parser("restart", help="stop one component, then start it again (a fault to test against)")
    restart.add_argument("component", choices=[c.name for c in COMPONENTS])
    restart.add_argument("--down", type=float, default=0, metavar="SECONDS", help="stay down this long first")
    restart.set_defaults(fn=cmd_restart)
    sub.add_parser("status", help="show each component, pid, port, health").set_defaults(fn=cmd_status)
    sub.add_parser("env", help="print the KUBECONFIG export line").set_defaults(fn=cmd_env)
    cert = sub.add_parser("cert", help="write a kubeconfig for a client-certificate identity; prints its path")
    cert.add_argument("user")
    cert.add_argument("groups", nargs="*")
    cert.set_defaults(fn=cmd_cert)
    issues = sub.add_parser("issues", help="install or uninstall the known-issue charts")
    issues.add_argument("action", choices=["install", "uninstall"])
    issues.set_defaults(fn=cmd_issues)
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except (LabError, CertError) as exc:
        print(f"lab: error: {exc}", file=sys.stderr, flush=True)
        return 1
