"""Read the finding and the gathered context out of a Cluster Codex prompt.

The prompt templates (app/plans/core/prompts/) put the finding in a fenced ```finding JSON block
and every gathered section in a fence whose info string carries ``context=<key>`` plus
``key=value`` attributes, e.g. ```` ```text context=log container=web previous=true ````.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import yaml

FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)[ \t]*(?P<rest>.*)$")
ATTR = re.compile(r"([\w-]+)=(\"[^\"]*\"|\S+)")
MODE = re.compile(r"plan\s+type:\s*(remediation|root[\s_-]*cause)", re.I)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet")
# "owner ReplicaSet/web-7d9f8c6b5 could not be read (Forbidden)": a note of app/plans/core/context.py.
UNREAD_OWNER = re.compile(r"^[-*]\s*owner\s+([A-Z]\w*)/([a-z0-9][a-z0-9.-]*)\s+could not be read", re.M)
# A pod-template-hash as the ReplicaSet controller writes it (rand.SafeEncodeString of a uint32).
TEMPLATE_HASH = re.compile(r"-([bcdfghjklmnpqrstvwxz2456789]{6,10})$")
# What a user may write in their notes for the planner to use: label pairs, Services, images.
_LABEL_KEY = r"(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_LABEL_VALUE = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_END = r"(?![\w/=:@-]|\.\w)"  # a word ends here; a full stop may follow
NOTED_LABEL = re.compile(rf"(?<![\w./=-])({_LABEL_KEY})=({_LABEL_VALUE}){_END}")
NOTED_SERVICE = re.compile(rf"\b(?:services?|svc)/([a-z0-9](?:[-a-z0-9]*[a-z0-9])?){_END}")
NOTED_IMAGE = re.compile(r"(?<![\w./:@-])([a-z0-9][a-z0-9._-]*(?::[0-9]+)?(?:/[a-z0-9][a-z0-9._-]*)*"
                         rf"(?::[A-Za-z0-9_](?:[A-Za-z0-9_.-]{{0,126}}[A-Za-z0-9_])?|@sha256:[a-f0-9]{{64}})){_END}")


@dataclass
class Block:
    lang: str
    attrs: dict[str, str]
    body: str


@dataclass
class Container:
    name: str
    image: str = ""
    limits: dict = field(default_factory=dict)
    requests: dict = field(default_factory=dict)
    waiting_reason: str = ""
    waiting_message: str = ""
    last_reason: str = ""
    exit_code: int | None = None
    restarts: int = 0


@dataclass
class Facts:
    mode: str = "remediation"
    found: bool = False
    kind: str = "Object"
    namespace: str = ""
    name: str = "unknown"
    errors: list[str] = field(default_factory=list)
    parent: str = ""
    details: str = ""
    user_context: str = ""
    obj: dict | None = None
    owners: list[dict] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    logs: dict[tuple[str, bool], str] = field(default_factory=dict)
    unread_owners: list[tuple[str, str]] = field(default_factory=list)
    workload_pod: dict | None = None  # for a workload finding: one of its pods (the first not ready)
    pod_events: list[str] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)  # for an Ingress: its namespace's Services (brief)
    configmaps: list[dict] = field(default_factory=list)  # the pod's ConfigMaps: name and keys, or exists False
    workloads: list[dict] = field(default_factory=list)  # for an HPA: its namespace's workloads of the kind it scales

    def for_pod(self) -> "Facts | None":
        """The same finding seen from its workload's pod, whose failure is the workload's cause: the
        pod's YAML, events and logs, the workload as its owner. None without a pod in the context."""
        pod = self.workload_pod
        if not pod or not self.obj:
            return None
        return Facts(mode=self.mode, found=True, kind="Pod", namespace=self.namespace,
                     name=str((pod.get("metadata") or {}).get("name") or "unknown"), errors=list(self.errors),
                     parent=f"{self.kind}/{self.name}", details=self.details, user_context=self.user_context,
                     obj=pod, owners=[self.obj], events=list(self.pod_events), logs=dict(self.logs),
                     configmaps=list(self.configmaps))

    @property
    def ns_flag(self) -> str:
        return f"-n {self.namespace} " if self.namespace else ""

    @property
    def text(self) -> str:
        """Everything a classifier may look at, lower-cased."""
        status = json.dumps((self.obj or {}).get("status", {}))
        return "\n".join([" ".join(self.errors), self.details, "\n".join(self.events), status]).lower()

    @property
    def owner_chain(self) -> list[tuple[str, str, str]]:
        """(kind, name, how it is known) from the affected object's first owner up to the top-most one.

        K8sGPT's ``parentObject`` is often empty, so the chain comes from the gathered context: owners
        whose YAML was read ("read"), owners only named by an ownerReference because the user may not
        read them ("referenced"), and finally a Deployment inferred from a ReplicaSet's name minus its
        pod-template-hash ("inferred").
        """
        read = {(o.get("kind", ""), (o.get("metadata") or {}).get("name", "")): o for o in self.owners}
        chain: list[tuple[str, str, str]] = []
        current = self.obj or (self.owners[0] if self.owners else None)
        if current is not None and current is not self.obj:
            chain.append((current.get("kind", ""), (current.get("metadata") or {}).get("name", ""), "read"))
        seen = set()
        while current is not None:
            ref = _controller_ref(current)
            if not ref or (ref["kind"], ref["name"]) in seen:
                break
            seen.add((ref["kind"], ref["name"]))
            current = read.get((ref["kind"], ref["name"]))
            chain.append((ref["kind"], ref["name"], "read" if current is not None else "referenced"))
        if not chain:
            chain = [(kind, name, "referenced") for kind, name in self.unread_owners[:1]]
        if chain and chain[-1][0] == "ReplicaSet" and chain[-1][2] == "referenced":
            deployment = self._deployment_of(chain[-1][1])
            if deployment:
                chain.append(("Deployment", deployment, "inferred"))
        return chain

    def _deployment_of(self, replicaset: str) -> str:
        """The Deployment a ReplicaSet belongs to, from its name minus the pod-template-hash."""
        labels = (((self.obj or {}).get("metadata") or {}).get("labels") or {})
        template_hash = str(labels.get("pod-template-hash") or "")
        if template_hash and replicaset.endswith(f"-{template_hash}"):
            return replicaset[: -len(template_hash) - 1]
        match = TEMPLATE_HASH.search(replicaset)
        return replicaset[: match.start()] if match and match.start() > 0 else ""

    @property
    def workload(self) -> tuple[str, str] | None:
        """The top-most controller to act on: from the owner chain, the parent, or the object."""
        chain = [(kind, name, how) for kind, name, how in self.owner_chain if kind in WORKLOAD_KINDS and name]
        for kind, name, how in reversed(chain):
            if how != "inferred" and kind != "ReplicaSet":
                return kind, name
        if "/" in self.parent:
            kind, _, name = self.parent.rpartition("/")
            kind = kind.rsplit("/", 1)[-1]
            if kind in WORKLOAD_KINDS and name and name != self.name:
                return kind, name
        if chain:
            return chain[-1][0], chain[-1][1]
        if self.kind in WORKLOAD_KINDS:
            return self.kind, self.name
        return None

    @property
    def workload_ref(self) -> str:
        workload = self.workload
        return f"{workload[0].lower()}/{workload[1]}" if workload else f"{self.kind.lower()}/{self.name}"

    @property
    def pod_spec(self) -> dict:
        obj = self.obj or {}
        spec = obj.get("spec", {})
        if obj.get("kind") == "Pod":
            return spec
        if obj.get("kind") == "CronJob":
            return spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
        if "template" in spec:
            return spec["template"].get("spec", {})
        for owner in self.owners:  # a finding on a pod without its YAML: take the owner's template
            template = owner.get("spec", {}).get("template", {})
            if template:
                return template.get("spec", {})
        return {}

    @property
    def containers(self) -> list[Container]:
        found = []
        statuses = {s.get("name"): s for s in (self.obj or {}).get("status", {}).get("containerStatuses", []) or []}
        for spec in self.pod_spec.get("containers", []) or []:
            resources = spec.get("resources") or {}
            status = statuses.get(spec.get("name"), {})
            waiting = (status.get("state") or {}).get("waiting") or {}
            # The last termination: the previous instance's, or (never restarted, as a Job's pods) this one's.
            last = ((status.get("lastState") or {}).get("terminated") or (status.get("state") or {}).get("terminated")
                    or {})
            found.append(Container(
                name=spec.get("name", ""), image=spec.get("image", ""),
                limits=resources.get("limits") or {}, requests=resources.get("requests") or {},
                waiting_reason=waiting.get("reason", ""), waiting_message=waiting.get("message", ""),
                last_reason=last.get("reason", ""), exit_code=last.get("exitCode"),
                restarts=status.get("restartCount", 0)))
        if not found:
            for name, image in re.findall(r'container[= ]"?([a-z0-9][a-z0-9-]*)"?.*?image[= ]"?([^\s"]+)',
                                          " ".join(self.errors)):
                found.append(Container(name=name, image=image))
        return found

    def container(self) -> Container:
        """The container the finding is about: named in the errors, failing, or the first one."""
        containers = self.containers
        text = " ".join(self.errors)
        for c in containers:
            if re.search(rf"container[= ]\"?{re.escape(c.name)}\b", text):
                return c
        for c in containers:
            if c.waiting_reason or c.last_reason or c.restarts:
                return c
        if containers:
            return containers[0]
        named = re.search(r"container[= ]\"?([a-z0-9][a-z0-9-]*)", text)
        image = re.search(r'image "?([^\s"]+?)"?(?:[\s,]|$)', text)
        return Container(name=named.group(1) if named else "app", image=image.group(1) if image else "")

    @property
    def selector(self) -> str:
        """Label selector of the workload or service, as a kubectl -l argument."""
        obj = self.obj or {}
        spec = obj.get("spec", {})
        labels = spec.get("selector") if obj.get("kind") == "Service" else (spec.get("selector") or {}).get("matchLabels")
        if not labels:
            for owner in reversed(self.owners):
                labels = (owner.get("spec", {}).get("selector") or {}).get("matchLabels")
                if labels:
                    break
        if not labels and obj.get("kind") == "Pod":
            labels = {k: v for k, v in (obj.get("metadata", {}).get("labels") or {}).items()
                      if k != "pod-template-hash"}
        return ",".join(f"{k}={v}" for k, v in (labels or {}).items())

    @property
    def workload_object(self) -> dict | None:
        """The YAML of the workload to act on, when the context holds it (the object or an owner)."""
        workload = self.workload
        if workload is None:
            return None
        for candidate in [self.obj, *self.owners]:
            meta = (candidate or {}).get("metadata") or {}
            if candidate and candidate.get("kind") == workload[0] and meta.get("name") == workload[1]:
                return candidate
        return None

    @property
    def replicas(self) -> int | None:
        """How many pods the workload asks for (spec.replicas), when its YAML was read."""
        value = ((self.workload_object or {}).get("spec") or {}).get("replicas")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def available_replicas(self) -> int | None:
        """How many of its pods are available, from the workload's status (absent means none)."""
        obj = self.workload_object
        if obj is None or "status" not in obj:
            return None
        value = (obj.get("status") or {}).get("availableReplicas", 0)
        return value if isinstance(value, int) else None

    @property
    def revision(self) -> int | None:
        """The Deployment revision the workload (or its ReplicaSet) is at; None when unknown."""
        for candidate in [self.workload_object, *self.owners]:
            annotations = ((candidate or {}).get("metadata") or {}).get("annotations") or {}
            value = str(annotations.get("deployment.kubernetes.io/revision") or "")
            if value.isdigit() and candidate and candidate.get("kind") in ("Deployment", "ReplicaSet"):
                return int(value)
        return None

    @property
    def template_images(self) -> list[tuple[str, str]]:
        """(container, image) of the pod template the workload runs now, for `set image`."""
        obj = self.workload_object or {}
        template = ((obj.get("spec") or {}).get("template") or {}).get("spec") or self.pod_spec
        return [(c.get("name", ""), c.get("image", "")) for c in template.get("containers") or []
                if c.get("name") and c.get("image")]

    def noted_labels(self) -> dict[str, str]:
        """Label pairs the user wrote in their notes (``app=payments-v2``), in order."""
        return dict(NOTED_LABEL.findall(self.user_context))

    def noted_services(self) -> list[str]:
        """Services the user named in their notes as ``service/NAME`` or ``svc/NAME``."""
        return list(dict.fromkeys(NOTED_SERVICE.findall(self.user_context)))

    def noted_images(self, current: str) -> list[str]:
        """Image references in the user's notes from the same repository as ``current``."""
        repository = _repository(current)
        found = [image for image in NOTED_IMAGE.findall(self.user_context)
                 if repository and _repository(image) == repository and image != current]
        return list(dict.fromkeys(found))

    def last_log_lines(self, container: str, count: int = 3) -> list[str]:
        text = self.logs.get((container, True)) or self.logs.get((container, False)) or ""
        return [line for line in text.splitlines() if line.strip()][-count:]


def _repository(image: str) -> str:
    """An image's repository without tag or digest, Docker Hub's implicit prefixes written out."""
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    parts = name.split("/")
    if len(parts) == 1:
        parts = ["docker.io", "library", *parts]
    elif not ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = ["docker.io", *parts]
    return "/".join(parts)


def _controller_ref(obj: dict) -> dict | None:
    """The controlling ownerReference of an object (else its first one), with a kind and a name."""
    refs = [r for r in ((obj.get("metadata") or {}).get("ownerReferences") or [])
            if isinstance(r, dict) and r.get("kind") and r.get("name")]
    return next((r for r in refs if r.get("controller")), refs[0] if refs else None)


def iter_blocks(text: str) -> list[Block]:
    """Every fenced block with its info-string language and key=value attributes."""
    blocks, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        match = FENCE_OPEN.match(lines[index])
        index += 1
        if not match:
            continue
        fence, body = match["fence"], []
        while index < len(lines):
            line = lines[index]
            index += 1
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                break
            body.append(line)
        attrs = {k: v.strip('"') for k, v in ATTR.findall(match["rest"])}
        blocks.append(Block(match["lang"], attrs, "\n".join(body)))
    return blocks


def _outside_fences(text: str) -> str:
    """The text with every fenced block removed (so logs and YAML cannot pose as notes)."""
    kept, fence = [], None
    for line in text.splitlines():
        if fence is None:
            match = FENCE_OPEN.match(line)
            if match:
                fence = match["fence"]
            else:
                kept.append(line)
        else:
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
    return "\n".join(kept)


def _load_yaml(body: str) -> dict | None:
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError:
        return None
    return _without_nulls(data) if isinstance(data, dict) else None


def _load_list(body: str) -> list[dict]:
    """A YAML list of mappings (a brief section such as the namespace's Services); [] for anything else."""
    try:
        listed = yaml.safe_load(body)
    except yaml.YAMLError:
        return []
    return [item for item in listed if isinstance(item, dict)] if isinstance(listed, list) else []


def _without_nulls(node):
    """Drop null values so `.get(key, {})` always yields the declared shape."""
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(v) for v in node if v is not None]
    return node


def detect_mode(system: str) -> str:
    match = MODE.search(system)
    if match:
        return "remediation" if match.group(1).lower().startswith("rem") else "root_cause"
    lowered = system.lower()
    rem, root = lowered.find("remediation"), lowered.find("root cause")
    if root >= 0 and (rem < 0 or root < rem):
        return "root_cause"
    return "remediation"


def read_facts(messages: list[dict]) -> Facts:
    """Parse the finding, the user's notes and the gathered context from the chat messages."""
    def text_of(m):
        content = m.get("content")
        return content if isinstance(content, str) else "\n".join(
            p.get("text", "") for p in content or [] if isinstance(p, dict))

    system = "\n".join(text_of(m) for m in messages if m.get("role") in ("system", "developer"))
    user = "\n".join(text_of(m) for m in messages if m.get("role") == "user")
    facts = Facts(mode=detect_mode(system))
    facts.unread_owners = UNREAD_OWNER.findall(_outside_fences(user))
    for block in iter_blocks(user):
        section = block.attrs.get("context")
        if block.lang == "finding":
            try:
                finding = json.loads(block.body)
            except ValueError:
                continue
            if isinstance(finding, dict):
                facts.found = True
                facts.kind = str(finding.get("kind") or "Object")
                facts.namespace = str(finding.get("namespace") or "")
                facts.name = str(finding.get("name") or "unknown")
                facts.errors = [str(e) for e in finding.get("errors") or []]
                facts.parent = str(finding.get("parent") or "")
                facts.details = str(finding.get("details") or "")
        elif section == "user":
            facts.user_context = re.sub(r"\[\[planner:[^\]]*\]\]", "", block.body).strip()
        elif section == "object":
            facts.obj = _load_yaml(block.body)
        elif section == "owner":
            owner = _load_yaml(block.body)
            if owner:
                facts.owners.append(owner)
        elif section == "events":
            facts.events = [line for line in block.body.splitlines() if line.strip()]
        elif section == "pod":
            facts.workload_pod = _load_yaml(block.body)
        elif section in ("services", "workloads", "configmaps"):
            setattr(facts, section, _load_list(block.body))
        elif section == "pod-events":
            facts.pod_events = [line for line in block.body.splitlines() if line.strip()]
        elif section == "log":
            previous = block.attrs.get("previous", "false").lower() == "true"
            facts.logs[(block.attrs.get("container", ""), previous)] = block.body
    return facts
