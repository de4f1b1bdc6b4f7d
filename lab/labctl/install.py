"""What the lab puts into its cluster, beyond the processes: k8sgpt's config file, kwok's RBAC and
fake nodes (lab/manifests/), the K8sGPT CRDs from the operator build, the app's RBAC chart
(charts/cluster-codex), and the known-issue charts (charts/known-issues/*) of `scripts/lab issues`.
Every step is idempotent (`kubectl apply`, `helm upgrade --install`).
"""

from __future__ import annotations

import re
from pathlib import Path

from .cluster import ensure_namespace, helm, kubectl
from .paths import (ADMIN_KUBECONFIG, EXPLAINER_MODEL, EXPLAINER_URL, HOME_DIR, K8SGPT_NAMESPACE, LAB, ROOT,
                    operator_crds_dir)
from .report import LabError, say


def write_k8sgpt_config() -> None:
    cfg = HOME_DIR / ".config" / "k8sgpt" / "k8sgpt.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    # The operator sends `k8sgpt serve` only the backend's name (the K8sGPT object's spec.ai.backend);
    # serve finds its model and URL here, read once at its start: `localai` is the lab's explainer, an
    # OpenAI-compatible server. noopai stays the default so that `serve --backend=noopai` is valid.
    cfg.write_text("ai:\n  providers:\n  - name: noopai\n    model: noop\n"
                   f"  - name: localai\n    model: {EXPLAINER_MODEL}\n    baseurl: {EXPLAINER_URL}\n"
                   f"  defaultprovider: noopai\nkubeconfig: {ADMIN_KUBECONFIG}\n")


def apply_kwok_rbac() -> None:
    """Right after the apiserver: what kwok's identity (CN=kwok-controller) may do."""
    kubectl("apply", "-f", str(LAB / "manifests" / "kwok-rbac.yaml"))


def add_fake_nodes() -> None:
    """Right after kwok: the 3 fake nodes it plays the kubelet of, Ready."""
    kubectl("apply", "-f", str(LAB / "manifests" / "nodes.yaml"))
    kubectl("apply", "-f", str(LAB / "manifests" / "storageclass.yaml"))  # and the default storage class
    kubectl("wait", "--for=condition=Ready", "node", "-l", "type=kwok", "--timeout=60s", timeout=75)


def install_crds() -> None:
    """The K8sGPT CRDs of the operator build, Established (before k8sgpt and the operator start)."""
    crds = operator_crds_dir()
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crds))
    names = []
    for f in sorted(crds.glob("*.yaml")):
        m = re.search(r"^  name: (\S+)", f.read_text(), re.M)
        if m:
            names.append(f"crd/{m.group(1)}")
    kubectl("wait", "--for=condition=Established", "--timeout=60s", *names, timeout=75)


def apply_k8sgpt() -> None:
    """The K8sGPT object (namespace k8sgpt, AI off) the operator acts on."""
    kubectl("apply", "-f", str(LAB / "manifests" / "k8sgpt.yaml"))


def install_app_chart() -> None:
    """charts/cluster-codex, the app's RBAC, for User cluster-codex-app (skipped while it does not exist)."""
    chart = ROOT / "charts" / "cluster-codex"
    if not (chart / "Chart.yaml").exists():
        say("charts/cluster-codex not present yet: skipped the app's RBAC chart")
        return
    helm("upgrade", "--install", "cluster-codex", str(chart), "--namespace", "cluster-codex", "--create-namespace",
         "--set", "appSubject.kind=User", "--set", "appSubject.name=cluster-codex-app",
         "--set", f"k8sgptNamespace={K8SGPT_NAMESPACE}", "--set", "usersNamespace=cluster-codex-users",
         "--timeout", "2m")
    say("installed charts/cluster-codex (release cluster-codex, namespace cluster-codex)")


def known_issue_charts() -> list[tuple[str, str, Path]]:
    """(release name, namespace, chart dir) of each charts/known-issues/*/Chart.yaml."""
    out = []
    base = ROOT / "charts" / "known-issues"
    for chart_yaml in sorted(base.glob("*/Chart.yaml")):
        text = chart_yaml.read_text()
        name = re.search(r"^name:\s*(\S+)", text, re.M)
        ns = re.search(r"cluster-codex\.io/namespace:\s*\"?([a-z0-9-]+)", text)
        if not (name and ns):
            raise LabError(f"{chart_yaml}: needs name and annotation cluster-codex.io/namespace")
        out.append((name.group(1), ns.group(1), chart_yaml.parent))
    if not out:
        raise LabError(f"no charts in {base}")
    return out


def install_known_issues(charts: list[tuple[str, str, Path]]) -> None:
    for ns in sorted({ns for _, ns, _ in charts}):
        ensure_namespace(ns)
    for name, ns, path in charts:
        helm("upgrade", "--install", name, str(path), "--namespace", ns, "--timeout", "2m")
        say(f"installed {name} in {ns}")


def uninstall_known_issues(charts: list[tuple[str, str, Path]]) -> None:
    for name, ns, _ in charts:
        proc = helm("uninstall", name, "--namespace", ns, "--timeout", "2m", check=False)
        if proc.returncode == 0:
            say(f"uninstalled {name} from {ns}")
        elif "not found" in proc.stderr:
            say(f"{name} was not installed in {ns}")
        else:
            raise LabError(f"helm uninstall {name} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
