"""Failure classification and Markdown building blocks shared by both plan modes."""

from __future__ import annotations

import re

from offline_planner.facts import Facts

CLASSES = ("unavailable", "job_failed", "oom", "image_pull", "config_error", "crash_loop", "pvc_pending",
           "service_no_endpoints", "ingress_backend_missing", "hpa_target_missing", "cronjob_suspended",
           "cronjob_schedule", "not_ready", "unschedulable", "general")
# The kinds a Cluster Codex step may name (its kind registry, app/kinds.py, minus events): a command on
# any other kind (nodes, storage classes, endpoint slices...) is refused there, so runbooks describe
# those in words for whoever may read them instead of writing a step.
STEP_KINDS = {"Pod": "pod", "Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset",
              "ReplicaSet": "replicaset", "Job": "job", "CronJob": "cronjob", "Service": "service",
              "Ingress": "ingress", "ConfigMap": "configmap", "PersistentVolumeClaim": "pvc", "Secret": "secret",
              "HorizontalPodAutoscaler": "hpa"}

_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "k": 10**3, "M": 10**6,
          "G": 10**9, "T": 10**12, "": 1}
# K8sGPT's Deployment analyzer: "Deployment ns/name has 3 replicas but 0 are available with status running".
UNAVAILABLE = re.compile(r"has (\d+) replicas? but (\d+) (?:are|is) available")
# K8sGPT's HPA analyzer: "HorizontalPodAutoscaler uses Deployment/web as ScaleTargetRef which does not exist."
HPA_TARGET_MISSING = re.compile(r"uses (\w+)/(\S+) as ScaleTargetRef which does not exist")
# The kubelet's CreateContainerConfigError message: "couldn't find key K in ConfigMap NS/NAME".
CONFIG_KEY_MISSING = re.compile(r"couldn't find key (\S+) in configmap ([a-z0-9.-]+)/([a-z0-9.-]+)", re.I)


def classify(facts: Facts) -> str:
    """Name the failure class of a finding (first match wins; OOM pods also crash-loop)."""
    text, kind = facts.text, facts.kind
    errors = " ".join(facts.errors).lower()
    if kind in ("Deployment", "StatefulSet", "ReplicaSet") and UNAVAILABLE.search(errors):
        return "unavailable"
    if kind == "Job" and ("has failed" in errors or "backoff limit" in errors or "backofflimitexceeded" in text):
        return "job_failed"
    if "oomkilled" in text or "out of memory" in text:
        return "oom"
    if re.search(r"imagepullbackoff|errimagepull|pulling image|pull image|invalidimagename|manifest unknown"
                 r"|pull access denied", text):
        return "image_pull"
    if "createcontainerconfigerror" in text or CONFIG_KEY_MISSING.search(text):
        return "config_error"
    if kind == "PersistentVolumeClaim" or "storageclass" in text or "provisioningfailed" in text:
        return "pvc_pending"
    if kind == "Service" and ("endpoint" in text or "selector" in text):
        return "service_no_endpoints"
    if kind == "Ingress" and "service" in text and ("does not exist" in text or "not found" in text):
        return "ingress_backend_missing"
    if kind == "HorizontalPodAutoscaler" and HPA_TARGET_MISSING.search(" ".join(facts.errors)):
        return "hpa_target_missing"
    if kind == "CronJob" and ("suspended" in errors or ((facts.obj or {}).get("spec") or {}).get("suspend") is True):
        return "cronjob_suspended"
    if kind == "CronJob" and "schedule" in errors:
        return "cronjob_schedule"
    # Not a bare "crashloop": object names such as crashloop-api appear in status messages.
    if re.search(r"crashloopbackoff|back-off restarting|restarting failed container|\bcrash ?loop\b(?!-)", text):
        return "crash_loop"
    if "readiness probe failed" in text:
        return "not_ready"
    if re.search(r"failedscheduling|unschedulable|nodes are available|insufficient (cpu|memory)"
                 r"|didn't match|untolerated taint", text):
        return "unschedulable"
    return "general"


def step_kind(kind: str) -> str | None:
    """The word a kubectl step uses for this kind, or None when Cluster Codex cannot run steps on it."""
    return STEP_KINDS.get(kind)


def parse_quantity(value: str) -> int | None:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?|k)?", str(value or "").strip())
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2) or ""])


def format_mebibytes(amount: int) -> str:
    mebibytes = max(1, -(-amount // 2**20))
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"


def code(command: str) -> str:
    return f"```bash\n{command}\n```"


def step(number: int, title: str, command: str, changes: str, verify: str = "", verify_cmd: str = "",
         undo: str = "", undo_cmd: str = "") -> str:
    """One numbered step: the command, what it changes, how to verify it, how to undo it."""
    parts = [f"### {number}. {title}", code(command), f"**What it changes:** {changes}"]
    if verify or verify_cmd:
        # A read-only step has nothing to verify or undo: say what to look for in its output.
        label = "How to verify" if verify_cmd or undo or undo_cmd else "What to look for"
        parts.append(f"**{label}:** {verify}".rstrip())
        if verify_cmd:
            parts.append(code(verify_cmd))
    if undo or undo_cmd:
        parts.append(f"**How to undo:** {undo}".rstrip())
        if undo_cmd:
            parts.append(code(undo_cmd))
    return "\n\n".join(parts)


def finding_summary(facts: Facts, heading: str) -> str:
    """The plan's title and the finding as the planner understood it."""
    where = f"`{facts.namespace}/{facts.name}`" if facts.namespace else f"`{facts.name}`"
    lines = [f"# {heading}: {facts.kind} {where}", ""]
    if facts.errors:
        lines.append("**K8sGPT reported:**")
        lines.extend(f"- {error}" for error in facts.errors)
        lines.append("")
    if facts.parent:
        lines.append(f"**Parent object:** `{facts.parent}`")
        lines.append("")
    elif facts.workload and facts.workload_ref != f"{facts.kind.lower()}/{facts.name}":
        how = ("inferred from its ReplicaSet's name, which you may not read"
               if any(h == "inferred" for *_, h in facts.owner_chain) else "from the owner chain in the live context")
        lines.append(f"**Owning workload:** `{facts.workload_ref}` ({how})")
        lines.append("")
    if facts.user_context:
        quoted = " ".join(facts.user_context.split())
        lines.append(f"**What you told us:** \u201c{quoted[:300]}\u201d — taken into account below.")
        lines.append("")
    return "\n".join(lines).rstrip()


def quote_log(facts: Facts, container: str) -> str:
    lines = facts.last_log_lines(container)
    if not lines:
        return ""
    return "The last log lines of the failed container were:\n\n```text\n" + "\n".join(lines) + "\n```"
