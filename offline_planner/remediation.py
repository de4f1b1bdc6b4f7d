"""Remediation runbooks: the fastest safe way to get the affected workload working again.

Every command a runbook writes is one Cluster Codex can run: a single plain kubectl command on a kind
it knows, with the real names, namespace, replicas, labels and images read from the prompt. Each
change is followed by the command that undoes it. What only someone else can do (cluster-scoped
reads, local files, Helm) is said in words, never as a command the app would refuse.
"""

from __future__ import annotations

import json
import re

import yaml

from offline_planner.common import CONFIG_KEY_MISSING, HPA_TARGET_MISSING, UNAVAILABLE, classify, finding_summary, format_mebibytes, \
    parse_quantity, quote_log, step, step_kind
from app.redact import REDACTED
from offline_planner.facts import Container, Facts

ROLLABLE = ("deployment", "statefulset", "daemonset")
SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")
TEMPLATED = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")


def _k(facts: Facts, rest: str) -> str:
    return f"kubectl {facts.ns_flag}{rest}"


def _json(value) -> str:
    return json.dumps(value, separators=(", ", ": "))


def _rollable(facts: Facts) -> bool:
    return facts.workload_ref.split("/")[0] in ROLLABLE


def _pod_steps(facts: Facts, container: str) -> list[tuple]:
    """Read-only diagnosis steps for a pod finding."""
    if facts.kind != "Pod":
        target = facts.selector and f"-l {facts.selector}"
        return [("Look at the workload's pods", _k(facts, f"get pods {target} -o wide".replace("  ", " ")),
                 "Nothing, it only reads.", "Note which pods are not Ready and their restart counts.")]
    # A container that was never restarted (a Job's pod) has no previous instance: its own log says why.
    restarted = next((c.restarts for c in facts.containers if c.name == container), 1)
    return [
        ("Read why the container stopped",
         _k(facts, f"logs pod/{facts.name} -c {container}" + (" --previous" if restarted else "") + " --tail=50"),
         "Nothing, it only reads the " + ("previous " if restarted else "") + "container's log.",
         "The last lines usually name the failing config value, dependency or signal."),
        ("Check the exit code, reason and events",
         _k(facts, f"describe pod {facts.name}"),
         "Nothing, it only reads.",
         "Look at *Last State* (reason, exit code) and the *Events* at the bottom."),
    ]


def _set_images(facts: Facts, images: list[tuple[str, str]]) -> str:
    return _k(facts, f"set image {facts.workload_ref} " + " ".join(f"{name}={image}" for name, image in images))


def _wait_for_rollout(facts: Facts) -> str:
    ref = facts.workload_ref
    return _k(facts, f"rollout status {ref} --timeout=180s") if _rollable(facts) else _k(facts, f"get {ref}")


def _no_earlier_revision(facts: Facts) -> str:
    """Why there is no roll-back, when the Deployment's revision says so; else ''."""
    if _rollable(facts) and facts.revision is not None and facts.revision <= 1:
        return (f"`{facts.workload_ref}` is at revision {facts.revision}, its first: there is no earlier version "
                "to roll back to.")
    return ""


def _rollback_steps(facts: Facts, why: str) -> list[tuple]:
    """History and roll-back, when an earlier revision can exist; undone by setting today's images again."""
    images = facts.template_images
    if not _rollable(facts) or _no_earlier_revision(facts) or not images:
        return []
    ref = facts.workload_ref
    return [
        ("See what changed recently", _k(facts, f"rollout history {ref}"), "Nothing, it only reads.",
         "If the latest revision is the one that started failing, roll back."),
        (f"Roll `{ref}` back to the previous revision", _k(facts, f"rollout undo {ref}"),
         f"Replaces the pod template of `{ref}` with the previous revision's ({why}); pods are replaced "
         "one by one following the rollout strategy. Nothing outside this workload changes.",
         "Wait until the rollout finishes and every pod is Ready:", _wait_for_rollout(facts),
         "Put back the image" + ("s" if len(images) > 1 else "") + " it runs now (running the roll-back once "
         "more returns to the whole current template):", _set_images(facts, images)),
    ]


def _noted_image_steps(facts: Facts, c: Container) -> list[tuple]:
    """Switch to an image the user named in their notes, when it is of the same repository."""
    noted = facts.noted_images(c.image) if c.image else []
    if not noted or not facts.workload or facts.workload[0] not in TEMPLATED:
        return []
    ref, image = facts.workload_ref, noted[0]
    return [(f"Run the image you named: `{image}`", _set_images(facts, [(c.name, image)]),
             f"Changes only the image of container `{c.name}` in `{ref}` (now `{c.image}`); its pods are "
             "re-created with it.",
             "The rollout finishes and the pods are Ready:", _wait_for_rollout(facts),
             "Put the current image back:", _set_images(facts, [(c.name, c.image)]))]


def _scale_down_step(facts: Facts, why: str) -> list[tuple]:
    """Scale to zero when none of the workload's pods is available: nothing that works stops. Runbooks
    offer it only when they have no real fix: a plan's steps are applied in order, and stopping after
    a roll-back would undo the fix."""
    workload = facts.workload
    replicas, available = facts.replicas, facts.available_replicas
    if not workload or workload[0] not in SCALABLE or not replicas or available != 0:
        return []
    ref = facts.workload_ref
    pods = f"the {replicas} pods of `{ref}`. None of them is" if replicas > 1 else f"the pod of `{ref}`. It is not"
    return [(f"Stop the bleeding: scale `{ref}` to zero", _k(facts, f"scale {ref} --replicas=0"),
             f"Removes {pods} available now, so nothing that works stops; {why} The pod template, its history and "
             "every other object stay as they are.",
             "No pods are left (READY 0/0):", _k(facts, f"get {ref}"),
             f"Scale back to the {replicas} replica{'s' if replicas > 1 else ''} it had:",
             _k(facts, f"scale {ref} --replicas={replicas}"))]


def _render(facts: Facts, heading: str, diagnosis: list[str], steps: list[tuple], outro: str) -> str:
    parts = [finding_summary(facts, heading), "## Diagnosis", "\n\n".join(d for d in diagnosis if d),
             "## Steps"]
    for number, item in enumerate(steps, 1):
        title, command, changes, verify = item[:4]
        verify_cmd, undo, undo_cmd = (list(item[4:]) + ["", "", ""])[:3]
        parts.append(step(number, title, command, changes, verify, verify_cmd, undo, undo_cmd))
    parts.append("## If this does not help\n\n" + outro)
    return "\n\n".join(parts) + "\n"


def _nothing_safe(fixes: list) -> str:
    return "" if fixes else "**Nothing safe can be changed right now** beyond reading: see the root-cause plan."


def crash_loop(facts: Facts) -> str:
    c = facts.container()
    exit_info = f" It last exited with code {c.exit_code} ({c.last_reason or 'Error'})." if c.exit_code is not None else ""
    diagnosis = [f"Container `{c.name}` (image `{c.image or 'unknown'}`) starts and exits again, so the kubelet "
                 f"restarts it with a growing back-off.{exit_info}", quote_log(facts, c.name)]
    fixes = (_noted_image_steps(facts, c) + _rollback_steps(facts, "the image and configuration that last worked")
             or _scale_down_step(facts, "the restarts, their back-off events and the alerts stop until you scale "
                                        "back up with a fixed version."))
    if not _rollable(facts):
        diagnosis.append(f"`{facts.workload_ref}` has no rollout history to go back to.")
    diagnosis += [_no_earlier_revision(facts), _nothing_safe(fixes)]
    if any(title.startswith("Roll ") for title, *_ in fixes):
        outro = ("If the previous revision crashes too, the cause is outside the image (a Secret, ConfigMap or "
                 "dependency changed): open the root-cause plan, it lists what to compare.")
    else:
        outro = ("Scaling to zero only stops the noise. " if fixes else "") + (
            "The cause (the image, a Secret, ConfigMap or dependency) is fixed as the root-cause plan describes.")
    return _render(facts, "Remediation plan — crash loop", diagnosis, _pod_steps(facts, c.name) + fixes, outro)


def image_pull(facts: Facts) -> str:
    c = facts.container()
    message = c.waiting_message or " ".join(facts.errors)
    auth = re.search(r"unauthorized|denied|authentication|forbidden", message, re.I)
    diagnosis = [f"The kubelet cannot pull image `{c.image or 'unknown'}` for container `{c.name}`."
                 + (" The registry refused the credentials, so check the pull secret before anything else."
                    if auth else " The tag or digest most likely does not exist in the registry (a typo or a "
                    "release that was never pushed).")]
    templated = bool(facts.workload) and facts.workload[0] in TEMPLATED
    steps = [("Confirm the image reference the pods use",
              _k(facts, f"get {facts.workload_ref} -o jsonpath='{{.spec.template.spec.containers[?(@.name==\"{c.name}\")].image}}'")
              if templated and facts.workload[0] != "CronJob"
              else _k(facts, f"get pod {facts.name} -o jsonpath='{{.spec.containers[*].image}}'"),
              "Nothing, it only reads.",
              f"Compare it with the tags your registry actually has for `{c.image.split(':')[0] or 'the image'}`."),
             ("Read the pull error", _k(facts, f"events --for {step_kind(facts.kind) or 'pod'}/{facts.name}"),
              "Nothing, it only reads.", "`not found` means a bad tag; `unauthorized` means credentials.")]
    if auth and templated:
        steps.append(("Check which pull secret the pods reference",
                      _k(facts, f"get {facts.workload_ref} -o jsonpath='{{.spec.template.spec.imagePullSecrets}}'"),
                      "Nothing, it only reads.",
                      "If it is empty or names a missing Secret, ask whoever owns registry credentials to "
                      "provide it; do not paste credentials into a command line."))
    fixes = (_noted_image_steps(facts, c) + _rollback_steps(facts, "the image tag that was last pulled successfully")
             or _scale_down_step(facts, "the kubelet stops retrying the pull and the alerts stop until the image "
                                       "exists."))
    diagnosis.append(_no_earlier_revision(facts))
    if not fixes:
        diagnosis.append("There is no rollout to undo here, so **nothing safe can be done right now** except "
                         "fixing the image reference at its source (see the root-cause plan).")
    if c.image and not facts.noted_images(c.image) and templated:
        diagnosis.append(f"If you know the tag that should run, write it in the context box (for example "
                         f"`{c.image.rsplit(':', 1)[0] if ':' in c.image.rsplit('/', 1)[-1] else c.image}:<tag>`) "
                         "and generate again: the plan then sets it, with its undo.")
    return _render(facts, "Remediation plan — image cannot be pulled", diagnosis, steps + fixes,
                   "If the image should exist, push it (or re-tag the last good build) from CI and the "
                   "kubelet picks it up at the next back-off without any change in the cluster.")


# What a container's own log says it allocates: "allocating 536870912 bytes", "loading 700 MiB".
ALLOCATES = re.compile(r"\b(?:allocat\w*|loading|reserving)\s+(\d+(?:\.\d+)?)\s*(bytes|[KMG]i?B?)\b", re.I)
_ALLOC_UNITS = {"bytes": 1, "k": 2**10, "m": 2**20, "g": 2**30}


def allocated_bytes(log: str) -> int | None:
    """The largest allocation a log names, in bytes."""
    found = [float(n) * _ALLOC_UNITS[u[0].lower() if u.lower() != "bytes" else "bytes"] for n, u in ALLOCATES.findall(log)]
    return int(max(found)) if found else None


def _memory_limits(facts: Facts, c: Container) -> tuple[str | None, str, int | None]:
    """(the memory limit now, the one to set, what the log says it allocates): above the allocation with a
    quarter on top for the runtime, rounded up to 64 MiB; without one, double the limit."""
    limit = parse_quantity(c.limits.get("memory", ""))
    request = parse_quantity(c.requests.get("memory", "")) or 0
    needs = allocated_bytes("\n".join(text for (name, _), text in facts.logs.items() if name in (c.name, "")))
    if needs and needs > (limit or 0):
        return c.limits.get("memory"), format_mebibytes(-(-int(needs * 1.25) // (64 * 2**20)) * 64 * 2**20), needs
    new_limit = format_mebibytes(max(limit * 2, request)) if limit else format_mebibytes(max(512 * 2**20, request * 2))
    return c.limits.get("memory"), new_limit, None


def _oom_diagnosis(c: Container, old: str | None, new_limit: str, needs: int | None) -> list[str]:
    diagnosis = [f"Container `{c.name}` (image `{c.image or 'unknown'}`) was killed by the kernel because it used "
                 f"more memory than its limit ({old or 'no explicit limit — the node ran out'})."]
    if needs:
        diagnosis.append(f"Its log says it allocates {format_mebibytes(needs)}, more than that limit: the new limit "
                         f"({new_limit}) leaves a quarter on top for the runtime.")
    return diagnosis


def oom(facts: Facts) -> str:
    c = facts.container()
    old, new_limit, needs = _memory_limits(facts, c)
    diagnosis = _oom_diagnosis(c, old, new_limit, needs)
    ref = facts.workload_ref
    steps = _pod_steps(facts, c.name)
    if facts.workload and facts.workload[0] == "Job":
        # A Job's pod template cannot be changed: the Job is created again with the new limit, from its YAML.
        job = facts.workload_object
        recreate = _recreate_job_steps(facts, job, c.name, new_limit, len(steps) + 1) if job else []
        diagnosis.append(f"The pod belongs to `{ref}`, whose pod template cannot be changed: "
                         + ("the steps create the Job again with the new limit." if recreate else
                            "it has to be created again with the new limit, and the context does not hold a manifest "
                            "to create it from (its YAML is missing or holds redacted values), so **nothing safe can "
                            "be changed right now** from here."))
        steps += recreate
    elif facts.workload and facts.workload[0] in TEMPLATED:
        steps.append((f"Give `{c.name}` more memory ({old or 'none'} → {new_limit})",
                      _k(facts, f"set resources {ref} -c {c.name} --limits=memory={new_limit}"),
                      f"Changes only the memory limit of container `{c.name}` in `{ref}`; its pods are "
                      "re-created with the new limit.",
                      "The rollout completes and the restart count stops growing:", _wait_for_rollout(facts),
                      "Put the old limit back:" if old else "Remove the limit again:",
                      _k(facts, f"set resources {ref} -c {c.name} --limits=memory={old or '0'}")))
        steps.append(("Watch memory while it serves traffic",
                      _k(facts, f"top pod -l {facts.selector} --containers") if facts.selector
                      else _k(facts, "top pod --containers"),
                      "Nothing, it only reads (needs metrics-server).",
                      f"If usage keeps climbing towards {new_limit}, it is a leak: raising the limit only buys time."))
    else:
        diagnosis.append("This pod has no controller, so its resources cannot be changed in place: "
                         "**nothing safe can be changed right now**; recreate it from its manifest with a higher limit.")
    return _render(facts, "Remediation plan — OOMKilled", diagnosis, steps,
                   "If usage grows without bound, roll back to the revision before the leak (if there is one) and "
                   "follow the root-cause plan.")


# What the Job controller and the API server add to a Job: a manifest that creates it again leaves them out.
_JOB_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid", "batch.kubernetes.io/job-name", "job-name")
_SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "batch.kubernetes.io/job-tracking")


def _job_manifest(facts: Facts, job: dict, container: str = "", memory: str = "") -> str:
    """The Job as a manifest that creates it again: what was written, not what the controller added;
    `container`'s memory limit set to `memory` when given."""
    metadata = job.get("metadata") or {}
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if k not in _JOB_LABELS}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k not in _SERVER_ANNOTATIONS}
    spec = json.loads(json.dumps(job.get("spec") or {}))
    spec.pop("selector", None)
    spec.pop("manualSelector", None)
    template_meta = (spec.get("template") or {}).get("metadata") or {}
    template_meta.pop("creationTimestamp", None)
    if template_meta.get("labels"):
        template_meta["labels"] = {k: v for k, v in template_meta["labels"].items() if k not in _JOB_LABELS}
    for spec_container in ((spec.get("template") or {}).get("spec") or {}).get("containers") or []:
        if memory and spec_container.get("name") == container:
            spec_container.setdefault("resources", {}).setdefault("limits", {})["memory"] = memory
    manifest = {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": metadata.get("name") or facts.name, "namespace": facts.namespace,
                             **({"labels": labels} if labels else {}),
                             **({"annotations": annotations} if annotations else {})},
                "spec": spec}
    return yaml.safe_dump(manifest, sort_keys=False)


def _recreate_job_steps(facts: Facts, job: dict, container: str, memory: str, number: int) -> list[tuple]:
    """Delete the failed Job and create it again with `container`'s memory limit at `memory`, as steps
    `number` and `number + 1`. Nothing when its manifest holds a redacted value: creating it from that
    would run it with the mask."""
    name = (job.get("metadata") or {}).get("name") or facts.name
    before, after = _job_manifest(facts, job), _job_manifest(facts, job, container, memory)
    if REDACTED in before:
        return []
    return [(f"Delete the failed Job `{name}`", _k(facts, f"delete job {name}"),
             f"Deletes Job `{name}` and its failed pods (their logs go with them: read them first). Its pod template "
             "cannot be changed, so the next step creates it again.",
             "It is gone:", _k(facts, f"get job {name} --ignore-not-found"),
             "Create it again as it was:\n\n```yaml\n" + before + "```", _k(facts, "apply -f -")),
            (f"Create `{name}` again with `{container}` at {memory}", _k(facts, "apply -f -"),
             f"Creates Job `{name}` again, the same but with a memory limit of {memory} for container "
             f"`{container}`; it starts a new pod at once:\n\n```yaml\n" + after + "```",
             "Its pod runs to completion (`COMPLETIONS 1/1`) and K8sGPT drops the finding:",
             _k(facts, f"get job {name}"),
             f"Delete it again (then step {number}'s undo puts the old Job back):", _k(facts, f"delete job {name}"))]


def job_failed(facts: Facts) -> str:
    """A Job that failed (past its backoff limit): why its pods failed, and a fix when the pods say it."""
    job = facts.obj or {}
    name = facts.name
    spec = job.get("spec") or {}
    status = job.get("status") or {}
    limit = spec.get("backoffLimit", 6)
    failed = status.get("failed", 0)
    condition = next((c for c in status.get("conditions") or [] if c.get("type") == "Failed"
                      and c.get("status") == "True"), None)
    diagnosis = [f"Job `{name}` has {failed} failed pod{'s' if failed != 1 else ''}"
                 + (f" and gave up: {condition.get('reason')} ({condition.get('message')})." if condition else ".")
                 + f" It retries a failed pod up to its backoff limit ({limit}), then stops for good: a failed Job is "
                 "never run again by itself."]
    steps = [("Read the Job's state and events", _k(facts, f"describe job {name}"), "Nothing, it only reads.",
              "*Pods Statuses* counts the failures; the *Events* say `BackoffLimitExceeded` once it gave up.")]
    pod = facts.for_pod()
    fixes: list[tuple] = []
    if pod is not None:
        c = pod.container()
        steps.append(("Read why its last pod failed", _k(facts, f"logs pod/{pod.name} -c {c.name} --tail=50"),
                      "Nothing, it only reads.", "The last lines name what the job ran out of or could not reach."))
        if classify(pod) == "oom":
            old, new_limit, needs = _memory_limits(pod, c)
            diagnosis += [f"Its pod `{pod.name}` shows why: it was OOMKilled (exit code {c.exit_code or 137})."]
            diagnosis += _oom_diagnosis(c, old, new_limit, needs)
            fixes = _recreate_job_steps(facts, job, c.name, new_limit, len(steps) + 1)
            if fixes:
                diagnosis.append("A Job's pod template cannot be changed, so the fix deletes the Job and creates it "
                                 "again with the new limit; the new Job starts at once.")
        elif c.exit_code is not None:
            diagnosis.append(f"Its pod `{pod.name}` exited with code {c.exit_code} ({c.last_reason or 'Error'}); "
                             + (quote_log(pod, c.name) or "its log is empty."))
    if not fixes:
        diagnosis.append("**Nothing safe can be changed right now**: running it again without changing what made its "
                         "pods fail fails the same way. Fix that first (the root-cause plan), then delete the Job and "
                         "create it again, or let its CronJob create the next one.")
    return _render(facts, "Remediation plan — Job failed", diagnosis, steps + fixes,
                   "If the new Job fails too, its pods' logs say why; the Job keeps its failed pods until it is "
                   "deleted (or its ttlSecondsAfterFinished passes).")


def _missing_key(facts: Facts) -> tuple[str, str] | None:
    """(key, ConfigMap) of the kubelet's "couldn't find key K in ConfigMap NS/NAME"."""
    texts = [c.waiting_message for c in facts.containers] + facts.errors + facts.events
    match = next((m for m in map(CONFIG_KEY_MISSING.search, texts) if m), None)
    return (match.group(1), match.group(3)) if match else None


def _normal_key(key: str) -> str:
    return re.sub(r"[-_.]", "", key).lower()


def _key_reference(facts: Facts, config_map: str, key: str) -> tuple[str, str] | None:
    """(container, environment variable) of the workload's template that takes `key` of `config_map`."""
    template = (((facts.workload_object or {}).get("spec") or {}).get("template") or {}).get("spec") or facts.pod_spec
    for container in template.get("containers") or []:
        for env in container.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef") or {}
            if ref.get("name") == config_map and ref.get("key") == key:
                return container.get("name", ""), env.get("name", "")
    return None


def config_error(facts: Facts) -> str:
    c = facts.container()
    missing = _missing_key(facts)
    message = c.waiting_message or " ".join(facts.errors)
    if missing is None:
        diagnosis = [f"The kubelet cannot create container `{c.name}` from its configuration: {message}",
                     "**Nothing safe can be changed right now** without knowing which reference is wrong: compare "
                     "the container's `env`, `envFrom` and volumes with the ConfigMaps and Secrets that exist."]
        return _render(facts, "Remediation plan — container cannot be configured", diagnosis,
                       _pod_steps(facts, c.name)[-1:], "Then follow the root-cause plan.")
    key, name = missing
    held = next((m for m in facts.configmaps if m.get("name") == name), None)
    diagnosis = [f"The kubelet cannot create container `{c.name}`: its environment takes key `{key}` of ConfigMap "
                 f"`{name}`, and that ConfigMap has no such key, so the container is never started "
                 "(`CreateContainerConfigError`)."]
    steps = [("Read the kubelet's error", _k(facts, f"describe pod {facts.name}"), "Nothing, it only reads.",
              f"The container waits in `CreateContainerConfigError`: couldn't find key {key} in ConfigMap {name}."),
             ("List the keys the ConfigMap holds", _k(facts, f"describe configmap {name}"), "Nothing, it only reads.",
              f"Compare them with `{key}`: a key renamed in a release (case, dashes) is the usual cause.")]
    fixes = []
    if held is not None and held.get("exists") is False:
        diagnosis.append(f"ConfigMap `{name}` does not exist at all: it is created by whoever deploys this workload.")
    elif held is not None:
        keys = held.get("keys") or []
        diagnosis.append(f"`{name}` holds " + (", ".join(f"`{k}`" for k in keys) or "no keys") + ".")
        renamed = [k for k in keys if _normal_key(k) == _normal_key(key)]
        reference = _key_reference(facts, name, key)
        if len(renamed) == 1 and reference and _rollable(facts):
            container, variable = reference
            new = renamed[0]
            ref = facts.workload_ref
            diagnosis.append(f"`{new}` is the same name written differently (renamed in a release?): the step below "
                             f"points `{variable}` at it.")

            def key_patch(k):
                return _json({"spec": {"template": {"spec": {"containers": [{"name": container, "env": [
                    {"name": variable, "valueFrom": {"configMapKeyRef": {"name": name, "key": k}}}]}]}}}})
            fixes.append((f"Take `{variable}` from key `{new}` ({key} → {new})",
                          _k(facts, f"patch {ref} --type=strategic -p '{key_patch(new)}'"),
                          f"Changes only which key of ConfigMap `{name}` variable `{variable}` of container "
                          f"`{container}` in `{ref}` reads; its pods are re-created with it.",
                          "The rollout finishes and the pods run:", _wait_for_rollout(facts),
                          "Read the old key again:", _k(facts, f"patch {ref} --type=strategic -p '{key_patch(key)}'")))
    if not fixes:
        diagnosis.append("**Nothing safe can be changed right now** from here: the missing value is not in the "
                         f"cluster. Add key `{key}` to `{name}` with the right value where it is defined (its chart "
                         "or manifest), or point the reference at the key that replaced it.")
    return _render(facts, "Remediation plan — container cannot be configured", diagnosis, steps + fixes,
                   "If the key was removed on purpose, remove the reference from the workload's chart (or mark it "
                   "`optional: true`) instead; the root-cause plan covers keeping both in one release.")


def pvc_pending(facts: Facts) -> str:
    spec = (facts.obj or {}).get("spec", {})
    klass = spec.get("storageClassName")
    if not klass:
        match = re.search(r'storageclass[^"]*"([^"]+)"', " ".join(facts.errors + facts.events), re.I)
        klass = match.group(1) if match else None
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    pvc = facts.name
    release = ((facts.obj or {}).get("metadata", {}).get("annotations") or {}).get("meta.helm.sh/release-name")
    diagnosis = [f"PersistentVolumeClaim `{pvc}` asks for storage class `{klass or '(none)'}`, which no "
                 "provisioner serves, so it stays Pending and every pod that mounts it stays Pending too.",
                 "The storage class of a claim cannot be changed once it exists (the API server refuses the patch), "
                 "and which classes exist is cluster-wide information. So **nothing safe can be changed from here**: "
                 "the fix is to re-create the claim with a class that exists, outside this app (see below)."]
    steps = [("Read the provisioning error", _k(facts, f"describe pvc {pvc}"), "Nothing, it only reads.",
              f"The *Events* say `ProvisioningFailed` and name the class `{klass}`."),
             ("Keep the claim's manifest", _k(facts, f"get pvc {pvc} -o yaml"), "Nothing, it only reads.",
              f"Save this output: it is what you re-create `{pvc}` ({size}) from.")]
    status = (facts.obj or {}).get("status", {})
    if facts.obj and status.get("phase") == "Pending" and not spec.get("volumeName"):
        # Never bound: it holds no data, so re-creating it on the cluster's default class loses nothing.
        diagnosis[1] = ("The storage class of a claim cannot be changed once it exists (the API server refuses the "
                        "patch). But this claim never bound a volume (it is Pending and names none), so it holds no "
                        "data: deleting it and re-creating it without a class, which gives it the cluster's default "
                        "storage class, loses nothing.")
        steps += [("Delete the claim that never bound", _k(facts, f"delete pvc {pvc}"),
                   f"Deletes `{pvc}`, which holds no data (Pending, no volume); pods that mount it wait for the new one.",
                   "It is gone:", _k(facts, f"get pvc {pvc} --ignore-not-found"),
                   "Create it again as it was:\n\n```yaml\n" + _claim_manifest(facts, spec, keep_class=True) + "```",
                   _k(facts, "apply -f -")),
                  ("Re-create it on the default storage class", _k(facts, "apply -f -"),
                   "Creates the claim again, the same but with no `storageClassName`, so the cluster's default "
                   "class serves it:\n\n```yaml\n" + _claim_manifest(facts, spec) + "```",
                   "It names the default class and waits for (or has) its volume; K8sGPT drops the finding:",
                   _k(facts, f"get pvc {pvc}"),
                   "Delete it again (then step 3's undo puts the old claim back):", _k(facts, f"delete pvc {pvc}"))]
        diagnosis.append(f"Helm release {release} still names `{klass}`: set the class there too, or its next "
                         "upgrade fails on the immutable field." if release else "")
    where = (f"in the values of Helm release {release} and upgrade it" if release
             else "in the manifest and apply it with your usual deploy tool")
    if len(steps) > 2:
        return _render(facts, "Remediation plan — PVC stuck Pending", diagnosis, steps,
                       "If the claim stays Pending on the default class too, the cluster has no default class or "
                       "its provisioner is down: ask your platform team which storage class to use (storage classes "
                       f"are cluster-wide), then set it {where}. Then follow the root-cause plan.")
    return _render(facts, "Remediation plan — PVC stuck Pending", diagnosis, steps,
                   "Outside the app, in this order: ask your platform team which storage class to use (storage "
                   f"classes are cluster-wide; they may also create {klass or 'the missing class'}). A Pending claim "
                   f"holds no data, so deleting and re-creating it loses nothing: delete `{pvc}`, then set the class "
                   f"{where}; the pods that mount it bind to the new claim without any other change. Then follow "
                   "the root-cause plan.")


def _claim_manifest(facts: Facts, spec: dict, keep_class: bool = False) -> str:
    """The claim as a manifest to create again: name, namespace and labels, its spec without the class
    (the cluster's default then serves it) unless `keep_class`."""
    metadata = (facts.obj or {}).get("metadata", {})
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": facts.name, "namespace": facts.namespace,
                          **({"labels": metadata["labels"]} if metadata.get("labels") else {})},
             "spec": {key: spec[key] for key in ("accessModes", "resources", "volumeMode", "selector",
                                                 *(["storageClassName"] if keep_class else [])) if key in spec}}
    return yaml.safe_dump(claim, sort_keys=False)


def _service_selector(facts: Facts, selector: dict) -> tuple[dict | None, str]:
    """The selector to point the Service at and where it comes from: the user's notes, else the Service's labels."""
    noted = facts.noted_labels()
    if noted and noted != selector:
        return noted, "the labels you gave"
    own = ((facts.obj or {}).get("metadata") or {}).get("labels") or {}
    wanted = {key: own[key] for key in selector if key in own}
    if selector and len(wanted) == len(selector) and wanted != selector:
        return wanted, "the Service's own labels (charts usually give a Service and its pods the same ones)"
    return None, ""


def _unmatched_target_ports(facts: Facts) -> list[tuple[int, dict, dict]]:
    """(index, Service port, the container port to target instead) for each port of the Service whose
    targetPort names a port no container of its selected pod declares -- the endpoints controller then
    gives the pod no endpoint. The replacement is the pod's only declared port, or the one serving the
    Service's port number."""
    pod = facts.workload_pod
    if not pod:
        return []
    declared = [port for c in (pod.get("spec") or {}).get("containers") or [] for port in c.get("ports") or []
                if isinstance(port.get("containerPort"), int)]
    found = []
    for index, port in enumerate(((facts.obj or {}).get("spec") or {}).get("ports") or []):
        target = port.get("targetPort")
        if not isinstance(target, str) or any(d.get("name") == target for d in declared):
            continue
        candidates = declared if len(declared) == 1 else [d for d in declared if d["containerPort"] == port.get("port")]
        if len(candidates) == 1:
            found.append((index, port, candidates[0]))
    return found


def _target_port_fix(facts: Facts) -> tuple[list[str], list[tuple]]:
    """Diagnosis and step pointing each unmatched named targetPort at the port the pod declares."""
    unmatched = _unmatched_target_ports(facts)
    if not unmatched:
        return [], []
    svc, pod = facts.name, (facts.workload_pod.get("metadata") or {}).get("name", "")
    said = "; ".join(f"port `{p.get('name') or p.get('port')}` targets `{p['targetPort']}`, but the pod declares "
                     f"`{d.get('name') or d['containerPort']}` ({d['containerPort']})" for _, p, d in unmatched)
    diagnosis = [f"Its selector does match pods (for example `{pod}`): the targetPort is the problem. {said}. A named "
                 "targetPort must be a port name the container declares; when none does, the endpoints controller "
                 "leaves the pod out, so the Service has no endpoints although its pods are Ready (the container's "
                 "port was most likely renamed in a release)."]
    patch = _json([{"op": "replace", "path": f"/spec/ports/{i}/targetPort", "value": d.get("name") or d["containerPort"]}
                   for i, _, d in unmatched])
    undo = _json([{"op": "replace", "path": f"/spec/ports/{i}/targetPort", "value": p["targetPort"]}
                  for i, p, _ in unmatched])
    new = ", ".join(f"`{d.get('name') or d['containerPort']}`" for _, _, d in unmatched)
    step_ = (f"Target the port the pods declare ({new})",
             _k(facts, f"patch service {svc} --type=json -p '{patch}'"),
             f"Changes only the targetPort of Service `{svc}`; traffic flows as soon as its endpoints appear.",
             "Endpoints are listed:", _k(facts, f"describe service {svc}"),
             "Put the old targetPort back:", _k(facts, f"patch service {svc} --type=json -p '{undo}'"))
    return diagnosis, [step_]


def service_no_endpoints(facts: Facts) -> str:
    selector = ((facts.obj or {}).get("spec") or {}).get("selector") or {}
    label = ",".join(f"{k}={v}" for k, v in selector.items()) or "<none>"
    svc = facts.name
    port_diagnosis, port_steps = _target_port_fix(facts)
    if port_steps:
        diagnosis = [f"Service `{svc}` selects pods with `{label}` and has no endpoints, so every request to it "
                     "fails.", *port_diagnosis]
        steps = [("Confirm the Service has no endpoints", _k(facts, f"describe service {svc}"),
                  "Nothing, it only reads.", "`Endpoints:` is empty (`<none>`) and `TargetPort:` names a port."),
                 ("Read the ports the pods declare", _k(facts, f"get pods -l {label} -o wide"),
                  "Nothing, it only reads.", "The pods are Running and Ready; `describe pod` lists their ports.")]
        return _render(facts, "Remediation plan — Service without endpoints", diagnosis, steps + port_steps,
                       "If the pods should declare the old port name instead, rename it back in the workload's "
                       "chart; the root-cause plan shows how to keep both in one chart.")
    diagnosis = [f"Service `{svc}` selects pods with `{label}`, and no Ready pod in `{facts.namespace}` "
                 "carries those labels, so it has no endpoints and every request to it fails."]
    steps = [("Confirm the Service has no endpoints", _k(facts, f"describe service {svc}"),
              "Nothing, it only reads.", "`Endpoints:` is empty (`<none>`)."),
             ("Find the pods the Service should reach", _k(facts, "get pods --show-labels"),
              "Nothing, it only reads.",
              f"Look for the pods serving this traffic and compare their labels with `{label}`. If they match "
              "but are not Ready, fix the pods instead (their readiness probe or crash).")]
    wanted, source = _service_selector(facts, selector)
    if wanted:
        new = ",".join(f"{k}={v}" for k, v in wanted.items())
        diagnosis.append(f"The step below points it at `{new}`, from {source}. Apply it only if step 2 lists "
                         "pods with exactly those labels; otherwise write the pods' labels in the context box "
                         "(for example `app=payments-v2`) and generate again.")
        patch = _json([{"op": "replace", "path": "/spec/selector", "value": wanted}])
        undo = _json([{"op": "replace", "path": "/spec/selector", "value": selector}])
        steps.append((f"Point `{svc}`'s selector at `{new}`",
                      _k(facts, f"patch service {svc} --type=json -p '{patch}'"),
                      f"Changes only the selector of Service `{svc}`; traffic flows as soon as endpoints appear.",
                      "Endpoints are listed:", _k(facts, f"describe service {svc}"),
                      "Restore the original selector:", _k(facts, f"patch service {svc} --type=json -p '{undo}'")))
    else:
        diagnosis.append("The context does not say which labels the right pods carry, so **nothing safe can be "
                         "changed right now**: find them with step 2, write them in the context box (for example "
                         "`app=payments-v2`) and generate again for the patch and its undo.")
    return _render(facts, "Remediation plan — Service without endpoints", diagnosis, steps,
                   "If the selector is right and the pods were renamed by a release, roll that release back "
                   "instead of patching the Service; the root-cause plan shows how to keep both in one chart.")


def _renamed(missing: str, names) -> str | None:
    """What a missing object was most likely renamed to in a release: the only other name that starts like
    it, up to its first dash (`shop-frontend` -> `shop-web`, `inventory` -> `inventory-api`)."""
    stem = missing.split("-", 1)[0]
    candidates = [name for name in names if name and name != missing and name.split("-", 1)[0] == stem]
    return candidates[0] if len(candidates) == 1 else None


def _renamed_service(facts: Facts, missing: str) -> str | None:
    """The Service a missing backend was most likely renamed to: the only one in the namespace whose name
    starts like the missing one's (`shop-frontend` -> `shop-web`) and that serves the backend's port."""
    spec = (facts.obj or {}).get("spec", {})
    ports = {((p.get("backend") or {}).get("service") or {}).get("port", {}).get("number")
             for r in spec.get("rules") or [] for p in ((r.get("http") or {}).get("paths")) or []
             if ((p.get("backend") or {}).get("service") or {}).get("name") == missing}
    return _renamed(missing, [s.get("name") for s in facts.services
                              if not ports - {None} or ports & {p.get("port") for p in s.get("ports") or []}])


def _ingress_backends(facts: Facts) -> list[tuple[str, str]]:
    """(json-pointer of the backend service name, service name) for every rule path."""
    found = []
    spec = (facts.obj or {}).get("spec", {})
    default = ((spec.get("defaultBackend") or {}).get("service") or {}).get("name")
    if default:
        found.append(("/spec/defaultBackend/service/name", default))
    for r, rule in enumerate(spec.get("rules") or []):
        for p, path in enumerate(((rule.get("http") or {}).get("paths")) or []):
            name = ((path.get("backend") or {}).get("service") or {}).get("name")
            if name:
                found.append((f"/spec/rules/{r}/http/paths/{p}/backend/service/name", name))
    return found


def hpa_target_missing(facts: Facts) -> str:
    spec = (facts.obj or {}).get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    match = HPA_TARGET_MISSING.search(" ".join(facts.errors))
    kind = ref.get("kind") or (match.group(1) if match else "Deployment")
    missing = ref.get("name") or (match.group(2) if match else "")
    hpa = facts.name
    diagnosis = [f"HorizontalPodAutoscaler `{hpa}` scales {kind} `{missing}` (`spec.scaleTargetRef`), which does not "
                 f"exist in `{facts.namespace}`, so nothing is autoscaled: the workload it was meant for runs at a "
                 "fixed size whatever its load."]
    steps = [("Confirm the target is missing", _k(facts, f"get {kind.lower()} {missing} --ignore-not-found"),
              "Nothing, it only reads.", f"An empty answer confirms `{missing}` does not exist."),
             (f"List the {kind}s that do exist", _k(facts, f"get {kind.lower()}s"), "Nothing, it only reads.",
              "Find the one this HPA was meant for (renamed in a release?).")]
    renamed = _renamed(missing, [w.get("name") for w in facts.workloads]) if missing else None
    if renamed:
        diagnosis.append(f"`{renamed}` is the only {kind} here whose name starts like `{missing}` (renamed in a "
                         "release?): the step below points the HPA at it. Check first that it is the workload meant: "
                         f"from then on the HPA sets its replicas (between {spec.get('minReplicas', 1)} and "
                         f"{spec.get('maxReplicas', '?')}).")

        def target_patch(name):
            return _json([{"op": "replace", "path": "/spec/scaleTargetRef/name", "value": name}])
        steps.append((f"Point `{hpa}` at `{renamed}`", _k(facts, f"patch hpa {hpa} --type=json -p '{target_patch(renamed)}'"),
                      f"Changes only the scale target of HorizontalPodAutoscaler `{hpa}`; it starts setting the "
                      f"replicas of {kind} `{renamed}` at its next sync.",
                      "The reference names a workload that exists:", _k(facts, f"get hpa {hpa}"),
                      "Point it back at the old name:", _k(facts, f"patch hpa {hpa} --type=json -p '{target_patch(missing)}'")))
    else:
        diagnosis.append("The context does not show which workload it was meant for, so **nothing safe can be changed "
                         f"right now**: find it with step 2, write it in the context box (for example `{kind.lower()}"
                         "/<name>`) and generate again — or delete the HPA if its workload is gone for good.")
    return _render(facts, "Remediation plan — HPA target missing", diagnosis, steps,
                   "If the workload was removed on purpose, the HPA is left over: delete it with the release that "
                   "removed its workload.")


def ingress_backend_missing(facts: Facts) -> str:
    errors = " ".join(facts.errors)
    named = [m[1] for m in re.findall(r"service ([\w.-]+/)?([\w.-]+) which does not exist", errors)]
    backends = _ingress_backends(facts)
    # K8sGPT masks the names in its error text: trust only names the Ingress really uses.
    known = [b for b in backends if b[1] in named] or (backends if len(backends) == 1 else [])
    ing = facts.name
    if known:
        target = known[0][1]
        diagnosis = [f"Ingress `{ing}` routes to Service `{target}`, which does not exist in "
                     f"`{facts.namespace}`, so the ingress controller answers 503 for that path."]
        first = ("Confirm the backend Service is missing", _k(facts, f"get service {target} --ignore-not-found"),
                 "Nothing, it only reads.", f"An empty answer confirms `{target}` does not exist.")
    else:
        target = ""
        paths = "\n".join(f"- `{name}` → `{p}`" for p, name in backends)
        diagnosis = [f"Ingress `{ing}` routes to several Services and K8sGPT's message names one that does "
                     "not exist (its name is masked). Step 1 lists the Services that do exist; each backend's JSON "
                     f"path in the Ingress is:\n\n{paths}"]
        first = None
    steps = [first] if first else []
    steps.append(("List the Services that do exist", _k(facts, "get services"), "Nothing, it only reads.",
                  "Find the one that now serves this traffic (renamed in a release?)"
                  + ("." if known else f"; the backends are {', '.join(f'`{n}`' for _, n in backends)}.")))
    release = ((facts.obj or {}).get("metadata", {}).get("annotations") or {}).get("meta.helm.sh/release-name")
    if release:
        diagnosis.append(f"Helm release `{release}` owns this Ingress: if a release renamed the Service, rolling "
                         f"it back (with helm, outside this app) restores both.")
    replacement = next((name for name in facts.noted_services() if name != target), None)
    why = "the Service you named"
    if known and not replacement:
        replacement = _renamed_service(facts, target)
        why = "the one Service here whose name and port match (renamed in a release?)"
    if known and replacement:
        pointer = known[0][0]
        patch = _json([{"op": "replace", "path": pointer, "value": replacement}])
        undo = _json([{"op": "replace", "path": pointer, "value": target}])
        steps.append((f"Point the Ingress at Service `{replacement}`",
                      _k(facts, f"patch ingress {ing} --type=json -p '{patch}'"),
                      f"Changes only that backend of Ingress `{ing}` (from `{target}` to `{replacement}`, "
                      f"{why}); other paths are untouched.",
                      "The backend resolves and has endpoints:", _k(facts, f"describe ingress {ing}"),
                      "Put the old backend name back:", _k(facts, f"patch ingress {ing} --type=json -p '{undo}'")))
    else:
        diagnosis.append("Which Service should serve this path is not in the context, so **nothing safe can be "
                         "changed right now**: pick it from step " + ("2" if known else "1") + ", write it in the "
                         "context box as `service/<name>` and generate again for the patch and its undo.")
    return _render(facts, "Remediation plan — Ingress backend Service missing", diagnosis, steps,
                   "If no Service can serve this path, leave the Ingress as it is (patching it elsewhere would send "
                   "traffic to the wrong app) and restore the Service from its chart, following the root-cause plan.")


def _fix_schedule(schedule: str) -> str | None:
    fields = schedule.split()
    if len(fields) == 6:  # a Quartz/seconds field that Kubernetes does not support
        return " ".join(fields[1:])
    if len(fields) == 5:
        limits = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
        fixed = []
        for value, (low, high) in zip(fields, limits):
            fixed.append(str(high) if value.isdigit() and not low <= int(value) <= high else value)
        if fixed != fields:
            return " ".join(fixed)
    return None


def cronjob_schedule(facts: Facts) -> str:
    schedule = str((facts.obj or {}).get("spec", {}).get("schedule", ""))
    if not schedule:
        match = re.search(r"schedule:? ?\"?([^\"]+?)\"?(?: |$)", " ".join(facts.errors))
        schedule = match.group(1) if match else ""
    fixed = _fix_schedule(schedule) or "0 2 * * *"
    cj = facts.name
    diagnosis = [f"CronJob `{cj}` has schedule `{schedule or 'unknown'}`, which is not a valid five-field cron "
                 "expression (minute hour day-of-month month day-of-week), so the controller never creates its Jobs."]
    if not _fix_schedule(schedule):
        diagnosis.append(f"I could not infer the intended time; the command below uses `{fixed}` (02:00 daily) — "
                         "replace it with the time you need.")
    steps = [("Read the current schedule", _k(facts, f"get cronjob {cj} -o jsonpath='{{.spec.schedule}}'"),
              "Nothing, it only reads.", "Check each of the five fields against its range.")]
    if schedule:
        set_fixed = _json({"spec": {"schedule": fixed}})
        set_old = _json({"spec": {"schedule": schedule}})
        steps.append((f"Set a valid schedule (`{fixed}`)",
                      _k(facts, f"patch cronjob {cj} --type=merge -p '{set_fixed}'"),
                      f"Changes only `spec.schedule` of CronJob `{cj}`; the next run is computed from the new value.",
                      "The schedule is accepted and a next run time appears:", _k(facts, f"get cronjob {cj}"),
                      "Restore the previous value:", _k(facts, f"patch cronjob {cj} --type=merge -p '{set_old}'")))
    return _render(facts, "Remediation plan — invalid CronJob schedule", diagnosis, steps,
                   "To check the job itself before its next run, create one Job from the CronJob with your own "
                   "tools (the app does not create objects). If the schedule came from a Helm value, the next "
                   "release will overwrite this patch: make the same change in the chart values (root-cause plan).")


def cronjob_suspended(facts: Facts) -> str:
    cj = facts.name
    spec = (facts.obj or {}).get("spec") or {}
    schedule = spec.get("schedule")
    deadline = spec.get("startingDeadlineSeconds")
    diagnosis = [f"CronJob `{cj}` is suspended (`spec.suspend: true`), so the controller creates no Jobs for it"
                 + (f" although its schedule `{schedule}` comes round." if schedule else ".")
                 + " Someone may have suspended it on purpose (a maintenance window, a broken run): check with its "
                 "owners before resuming it.",
                 "Runs missed while suspended count as missed: when it is resumed"
                 + (f" the controller may start the latest one at once if it is less than {deadline} s late."
                    if deadline is not None else ", without a starting deadline, the controller starts the latest "
                                                 "missed run at once.")]
    resume = _json({"spec": {"suspend": False}})
    suspend = _json({"spec": {"suspend": True}})
    steps = [("Read its state and last run", _k(facts, f"get cronjob {cj}"), "Nothing, it only reads.",
              "`SUSPEND` is `True`; `LAST SCHEDULE` says how long it has not run."),
             ("See the Jobs it made before", _k(facts, "get jobs"), "Nothing, it only reads.",
              "A failed last run may be why it was suspended: read its logs first."),
             (f"Resume `{cj}`", _k(facts, f"patch cronjob {cj} --type=merge -p '{resume}'"),
              f"Changes only `spec.suspend` of CronJob `{cj}`; Jobs are created again on its schedule.",
              "`SUSPEND` is `False`, and after the next scheduled time `LAST SCHEDULE` is recent:",
              _k(facts, f"get cronjob {cj}"),
              "Suspend it again:", _k(facts, f"patch cronjob {cj} --type=merge -p '{suspend}'"))]
    return _render(facts, "Remediation plan — CronJob suspended", diagnosis, steps,
                   "If it was suspended because its runs fail, leave it suspended and open the root-cause plan; if "
                   "a Helm value suspends it, the next release suspends it again: change the value there.")


def _probe_port_fix(facts: Facts, c: Container) -> tuple[dict, int, int] | None:
    """(probe handler, wrong port, declared port) when the readiness probe asks a port the container lacks."""
    spec = next((s for s in facts.pod_spec.get("containers") or [] if s.get("name") == c.name), {})
    probe = spec.get("readinessProbe") or {}
    handler_key = next((key for key in ("httpGet", "tcpSocket", "grpc") if key in probe), None)
    declared = [p.get("containerPort") for p in spec.get("ports") or [] if isinstance(p.get("containerPort"), int)]
    port = (probe.get(handler_key) or {}).get("port") if handler_key else None
    if isinstance(port, int) and len(declared) == 1 and port not in declared:
        return {"key": handler_key}, port, declared[0]
    return None


def not_ready(facts: Facts) -> str:
    c = facts.container()
    diagnosis = [f"Container `{c.name}` runs but its readiness probe fails, so the pod is never Ready and no "
                 "Service sends it traffic. Nothing restarts it (that would be the liveness probe): it waits."]
    steps = [("Read the probe and its failures", _k(facts, f"describe pod {facts.name}") if facts.kind == "Pod"
              else _k(facts, f"describe {facts.workload_ref}"), "Nothing, it only reads.",
              "*Readiness* shows what is probed; the *Events* (`Unhealthy`) say how it fails.")]
    fixes = []
    mismatch = _probe_port_fix(facts, c)
    templated = facts.workload and facts.workload[0] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
    if mismatch and templated:
        handler, wrong, right = mismatch
        ref = facts.workload_ref
        diagnosis.append(f"The probe asks port {wrong}, but `{c.name}` declares only port {right}: nothing answers "
                         f"the probe where it asks. If the application really serves its health check on {wrong}, "
                         "fix the application (or its port list) instead of the probe.")

        def probe_patch(port):
            return _json({"spec": {"template": {"spec": {"containers": [
                {"name": c.name, "readinessProbe": {handler["key"]: {"port": port}}}]}}}})
        fixes.append((f"Probe the port `{c.name}` declares ({wrong} → {right})",
                      _k(facts, f"patch {ref} --type=strategic -p '{probe_patch(right)}'"),
                      f"Changes only the readiness probe's port of container `{c.name}` in `{ref}`; its pods are "
                      "replaced one by one.",
                      "The rollout finishes and the pods become Ready:", _wait_for_rollout(facts),
                      "Put the old port back:", _k(facts, f"patch {ref} --type=strategic -p '{probe_patch(wrong)}'")))
    fixes += _rollback_steps(facts, "the probe and image that last became Ready")
    diagnosis += [_no_earlier_revision(facts),
                  "" if fixes else "The context does not show what the probe should ask instead, so **nothing safe "
                                   "can be changed right now**: compare the probe with what the application serves "
                                   "(root-cause plan)."]
    return _render(facts, "Remediation plan — pod never Ready", diagnosis, steps + fixes,
                   "If the probe is right and the application answers it with an error, the application is "
                   "unhealthy: its logs and the root-cause plan say why.")


def unschedulable(facts: Facts) -> str:
    c = facts.container()
    text = facts.text
    ref = facts.workload_ref
    pod_spec = facts.pod_spec
    diagnosis = [f"No node can take pod `{facts.name}`."]
    steps = [("Read the scheduler's reason", _k(facts, f"events --for pod/{facts.name}") if facts.kind == "Pod"
              else _k(facts, "get events --field-selector reason=FailedScheduling"),
              "Nothing, it only reads.", "The `FailedScheduling` message lists why each node was rejected.")]
    templated = facts.workload and facts.workload[0] in TEMPLATED
    if "insufficient" in text and templated:
        resource = "memory" if "insufficient memory" in text else "cpu"
        current = c.requests.get(resource)
        amount = parse_quantity(current.rstrip("m")) if current else None
        if resource == "cpu":
            lowered = f"{max(10, (amount if current.endswith('m') else (amount or 1) * 1000) // 2)}m" if amount else "100m"
        else:
            lowered = format_mebibytes(amount // 2) if amount else "128Mi"
        diagnosis.append(f"The nodes do not have enough free {resource} for container `{c.name}`'s request "
                         f"({current or 'unknown'}).")
        steps.append((f"Lower `{c.name}`'s {resource} request to {lowered}",
                      _k(facts, f"set resources {ref} -c {c.name} --requests={resource}={lowered}"),
                      f"Changes only the {resource} request of `{c.name}` in `{ref}`; pods are re-created and "
                      "scheduled with the smaller request (they may be throttled or evicted under pressure).",
                      "The pods get a node:", _k(facts, f"get pods -l {facts.selector} -o wide") if facts.selector
                      else _k(facts, "get pods -o wide"),
                      "Restore the request:" if current else "Remove the request again:",
                      _k(facts, f"set resources {ref} -c {c.name} --requests={resource}={current or '0'}")))
    elif pod_spec.get("nodeSelector") and templated and facts.workload[0] != "CronJob":
        selector = pod_spec["nodeSelector"]
        pairs = ", ".join(f"`{k}={v}`" for k, v in selector.items())
        diagnosis.append(f"Its nodeSelector `{json.dumps(selector)}` matches no node. Node labels are cluster-wide, "
                         f"so this app does not read them: ask your platform team whether any node carries {pairs} "
                         "(a missing node pool?). If none should, the selector is wrong and can go.")
        remove = _json([{"op": "remove", "path": "/spec/template/spec/nodeSelector"}])
        add = _json([{"op": "add", "path": "/spec/template/spec/nodeSelector", "value": selector}])
        steps.append((f"Remove the nodeSelector from `{ref}`", _k(facts, f"patch {ref} --type=json -p '{remove}'"),
                      f"Lets the pods of `{ref}` run on any node (they lose what {pairs} promised them, such as "
                      "special hardware); only this workload changes.",
                      "The pods get a node:", _wait_for_rollout(facts),
                      "Put the selector back:", _k(facts, f"patch {ref} --type=json -p '{add}'")))
    else:
        diagnosis.append("The reason is a taint, affinity rule or a full cluster; **nothing safe can be changed "
                         "in the workload right now** without knowing which. Ask the platform team with the "
                         "scheduler message from step 1.")
    return _render(facts, "Remediation plan — pod cannot be scheduled", diagnosis, steps,
                   "If the cluster is simply full, scaling other workloads down is a decision for their owners; "
                   "the root-cause plan covers capacity and requests.")


def unavailable(facts: Facts) -> str:
    ref = facts.workload_ref
    match = UNAVAILABLE.search(" ".join(facts.errors).lower())
    wanted, ready = (int(match.group(1)), int(match.group(2))) if match else (facts.replicas or 0,
                                                                              facts.available_replicas or 0)
    conditions = [f"{c.get('type')}: {c.get('reason')} ({c.get('message')})"
                  for c in ((facts.obj or {}).get("status") or {}).get("conditions") or [] if c.get("status") != "True"]
    diagnosis = [f"`{ref}` asks for {wanted} pod{'s' if wanted != 1 else ''} and {ready} "
                 f"{'is' if ready == 1 else 'are'} available."
                 + (" Its conditions say: " + "; ".join(conditions) + "." if conditions else ""),
                 "Why its pods fail is in their own findings (crash loop, image, scheduling, probe): open the pod's "
                 "finding for the specific fix. The steps here act on the workload as a whole."]
    steps = [("Look at its pods", _k(facts, f"get pods -l {facts.selector} -o wide") if facts.selector
              else _k(facts, "get pods -o wide"), "Nothing, it only reads.",
              "`STATUS` and `RESTARTS` say how they fail."),
             ("Read its conditions and events", _k(facts, f"describe {ref}"), "Nothing, it only reads.",
              "*Conditions* and *Events* at the bottom.")]
    fixes = (_rollback_steps(facts, "the pod template that last became available")
             or _scale_down_step(facts, "the failing pods stop restarting, retrying and alerting until you scale back "
                                        "up with a fix."))
    diagnosis += [_no_earlier_revision(facts), _nothing_safe(fixes)]
    return _render(facts, "Remediation plan — workload unavailable", diagnosis, steps + fixes,
                   "If some pods are available, do not scale down: follow the failing pods' findings instead.")


def general(facts: Facts) -> str:
    word = step_kind(facts.kind)
    diagnosis = ["The finding does not match a failure class I have a specific runbook for, so the steps below "
                 "only read. **Nothing safe can be changed right now** without knowing more: after reading, roll "
                 "back the last change if one lines up with the problem, or open the root-cause plan."]
    steps = []
    if word and facts.namespace:
        steps.append(("Describe the object", _k(facts, f"describe {word}/{facts.name}"), "Nothing, it only reads.",
                      "Check its status, conditions and events."))
    else:
        diagnosis.append(f"{facts.kind} objects are not among the kinds this app runs commands on"
                         + ("" if facts.namespace else " (they are cluster-scoped)")
                         + ": an administrator can describe it for you.")
    if facts.namespace:
        steps.append(("Read recent events in the namespace", _k(facts, "events --types=Warning"),
                      "Nothing, it only reads.", "Look for warnings around the time the problem started."))
    steps += _rollback_steps(facts, "the last configuration that worked")
    return _render(facts, "Remediation plan", diagnosis, steps,
                   "Add what you know (recent deploys, config changes) to the context box and generate again.")


RUNBOOKS = {
    "crash_loop": crash_loop, "image_pull": image_pull, "oom": oom, "pvc_pending": pvc_pending,
    "service_no_endpoints": service_no_endpoints, "ingress_backend_missing": ingress_backend_missing,
    "cronjob_schedule": cronjob_schedule, "cronjob_suspended": cronjob_suspended, "not_ready": not_ready,
    "unschedulable": unschedulable, "unavailable": unavailable, "job_failed": job_failed,
    "config_error": config_error, "hpa_target_missing": hpa_target_missing, "general": general,
}
