"""Remediation runbooks: the fastest safe way to get the affected workload working again."""

from __future__ import annotations

import json
import re

from offline_planner.common import finding_summary, format_mebibytes, parse_quantity, quote_log, step
from offline_planner.facts import Facts

ROLLABLE = ("deployment", "statefulset", "daemonset")


def _k(facts: Facts, rest: str) -> str:
    return f"kubectl {facts.ns_flag}{rest}"


def _rollable(facts: Facts) -> bool:
    return facts.workload_ref.split("/")[0] in ROLLABLE


def _pod_steps(facts: Facts, container: str) -> list[tuple]:
    """Read-only diagnosis steps for a pod finding."""
    if facts.kind != "Pod":
        target = facts.selector and f"-l {facts.selector}"
        return [("Look at the workload's pods", _k(facts, f"get pods {target} -o wide".replace("  ", " ")),
                 "Nothing, it only reads.", "Note which pods are not Ready and their restart counts.")]
    return [
        ("Read why the container stopped",
         _k(facts, f"logs pod/{facts.name} -c {container} --previous --tail=50"),
         "Nothing, it only reads the previous container's log.",
         "The last lines usually name the failing config value, dependency or signal."),
        ("Check the exit code, reason and events",
         _k(facts, f"describe pod {facts.name}"),
         "Nothing, it only reads.",
         "Look at *Last State* (reason, exit code) and the *Events* at the bottom."),
    ]


def _rollback_steps(facts: Facts, why: str) -> list[tuple]:
    ref = facts.workload_ref
    return [
        ("See what changed recently", _k(facts, f"rollout history {ref}"), "Nothing, it only reads.",
         "If the latest revision is the one that started failing, roll back."),
        (f"Roll `{ref}` back to the previous revision", _k(facts, f"rollout undo {ref}"),
         f"Replaces the pod template of `{ref}` with the previous revision's ({why}); pods are replaced "
         "one by one following the rollout strategy. Nothing outside this workload changes.",
         "Wait until the rollout finishes and every pod is Ready:",
         _k(facts, f"rollout status {ref} --timeout=180s"),
         "Roll forward again to the revision you left (take its number from the history above):",
         _k(facts, f"rollout undo {ref} --to-revision=<revision-you-left>")),
    ]


def _render(facts: Facts, heading: str, diagnosis: list[str], steps: list[tuple], outro: str) -> str:
    parts = [finding_summary(facts, heading), "## Diagnosis", "\n\n".join(d for d in diagnosis if d),
             "## Steps"]
    for number, item in enumerate(steps, 1):
        title, command, changes, verify = item[:4]
        verify_cmd, undo, undo_cmd = (list(item[4:]) + ["", "", ""])[:3]
        parts.append(step(number, title, command, changes, verify, verify_cmd, undo, undo_cmd))
    parts.append("## If this does not help\n\n" + outro)
    return "\n\n".join(parts) + "\n"


def crash_loop(facts: Facts) -> str:
    c = facts.container()
    exit_info = f" It last exited with code {c.exit_code} ({c.last_reason or 'Error'})." if c.exit_code is not None else ""
    diagnosis = [f"Container `{c.name}` (image `{c.image or 'unknown'}`) starts and exits again, so the kubelet "
                 f"restarts it with a growing back-off.{exit_info}", quote_log(facts, c.name)]
    steps = _pod_steps(facts, c.name)
    if _rollable(facts):
        steps += _rollback_steps(facts, "the image and configuration that last worked")
    else:
        diagnosis.append(f"`{facts.workload_ref}` has no rollout history to go back to, so **nothing safe can be "
                         "changed right now** beyond reading the logs: fix the cause with the root-cause plan.")
    return _render(facts, "Remediation plan — crash loop", diagnosis, steps,
                   "If the previous revision crashes too, the cause is outside the image (a Secret, ConfigMap "
                   "or dependency changed): open the root-cause plan, it lists what to compare.")


def image_pull(facts: Facts) -> str:
    c = facts.container()
    message = c.waiting_message or " ".join(facts.errors)
    auth = re.search(r"unauthorized|denied|authentication|forbidden", message, re.I)
    diagnosis = [f"The kubelet cannot pull image `{c.image or 'unknown'}` for container `{c.name}`."
                 + (" The registry refused the credentials, so check the pull secret before anything else."
                    if auth else " The tag or digest most likely does not exist in the registry (a typo or a "
                    "release that was never pushed).")]
    steps = [("Confirm the image reference the pods use",
              _k(facts, f"get {facts.workload_ref} -o jsonpath='{{.spec.template.spec.containers[?(@.name==\"{c.name}\")].image}}'")
              if facts.workload else _k(facts, f"get pod {facts.name} -o jsonpath='{{.spec.containers[*].image}}'"),
              "Nothing, it only reads.",
              f"Compare it with the tags your registry actually has for `{c.image.split(':')[0] or 'the image'}`."),
             ("Read the pull error", _k(facts, f"events --for {facts.kind.lower()}/{facts.name}"),
              "Nothing, it only reads.", "`not found` means a bad tag; `unauthorized` means credentials.")]
    if auth:
        steps.append(("Check which pull secret the pods reference",
                      _k(facts, f"get {facts.workload_ref} -o jsonpath='{{.spec.template.spec.imagePullSecrets}}'"),
                      "Nothing, it only reads.",
                      "If it is empty or names a missing Secret, ask whoever owns registry credentials to "
                      "provide it; do not paste credentials into a command line."))
    if _rollable(facts):
        steps += _rollback_steps(facts, "the image tag that was last pulled successfully")
    else:
        diagnosis.append("There is no rollout to undo here, so **nothing safe can be done right now** except "
                         "fixing the image reference at its source (see the root-cause plan).")
    return _render(facts, "Remediation plan — image cannot be pulled", diagnosis, steps,
                   "If the image should exist, push it (or re-tag the last good build) from CI and the "
                   "kubelet picks it up at the next back-off without any change in the cluster.")


def oom(facts: Facts) -> str:
    c = facts.container()
    limit = parse_quantity(c.limits.get("memory", ""))
    new_limit = format_mebibytes(limit * 2) if limit else "512Mi"
    old = c.limits.get("memory")
    diagnosis = [f"Container `{c.name}` (image `{c.image or 'unknown'}`) was killed by the kernel because it used "
                 f"more memory than its limit ({old or 'no explicit limit — the node ran out'})."]
    ref = facts.workload_ref
    steps = _pod_steps(facts, c.name)
    if facts.workload:
        steps.append((f"Give `{c.name}` more memory ({old or 'none'} → {new_limit})",
                      _k(facts, f"set resources {ref} -c {c.name} --limits=memory={new_limit}"),
                      f"Changes only the memory limit of container `{c.name}` in `{ref}`; its pods are "
                      "re-created with the new limit.",
                      "The rollout completes and the restart count stops growing:",
                      _k(facts, f"rollout status {ref} --timeout=180s"),
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
                   "If usage grows without bound, roll back to the previous revision "
                   f"(`kubectl {facts.ns_flag}rollout undo {ref}`) and follow the root-cause plan.")


def pvc_pending(facts: Facts) -> str:
    spec = (facts.obj or {}).get("spec", {})
    klass = spec.get("storageClassName")
    if not klass:
        match = re.search(r'storageclass[^"]*"([^"]+)"', " ".join(facts.errors + facts.events), re.I)
        klass = match.group(1) if match else None
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    pvc = facts.name
    diagnosis = [f"PersistentVolumeClaim `{pvc}` asks for storage class `{klass or '(none)'}`, which no "
                 "provisioner serves, so it stays Pending and every pod that mounts it stays Pending too.",
                 "A Pending claim holds no data, so re-creating it with a class that exists loses nothing. "
                 "The storage class of a claim is immutable, hence delete-and-recreate instead of a patch."]
    steps = [("List the storage classes that exist", "kubectl get storageclass",
              "Nothing, it only reads (cluster-scoped: you may need your platform team to run it).",
              "Pick the one marked `(default)` or the one your team normally uses."),
             ("Save the claim's manifest", _k(facts, f"get pvc {pvc} -o yaml | tee pvc-{pvc}.orig.yaml > pvc-{pvc}.yaml"),
              "Nothing in the cluster; writes a local file.",
              f"Edit `pvc-{pvc}.yaml`: set `spec.storageClassName` to the class you picked and delete "
              "`metadata.uid`, `metadata.resourceVersion`, `metadata.creationTimestamp` and `status`."),
             (f"Re-create `{pvc}` with the working class",
              _k(facts, f"delete pvc {pvc} --wait=false && kubectl {facts.ns_flag}apply -f pvc-{pvc}.yaml"),
              f"Deletes the empty Pending claim `{pvc}` and creates it again with the same name and size "
              f"({size}), so the pods that reference it bind to it without any other change.",
              "The claim becomes Bound and the waiting pods start:",
              _k(facts, f"get pvc {pvc} -w"),
              "Re-create it with the original class (only useful once that class exists):",
              _k(facts, f"delete pvc {pvc} && kubectl {facts.ns_flag}apply -f pvc-{pvc}.orig.yaml"))]
    return _render(facts, "Remediation plan — PVC stuck Pending", diagnosis, steps,
                   f"If no storage class may be used, **nothing safe can be done in the namespace now**: ask "
                   f"the platform team to create `{klass}` (a cluster-wide change) and follow the root-cause plan.")


def service_no_endpoints(facts: Facts) -> str:
    spec = (facts.obj or {}).get("spec", {})
    selector = spec.get("selector") or {}
    label = ",".join(f"{k}={v}" for k, v in selector.items()) or "<none>"
    svc = facts.name
    diagnosis = [f"Service `{svc}` selects pods with `{label}`, and no Ready pod in `{facts.namespace}` "
                 "carries those labels, so it has no endpoints and every request to it fails."]
    steps = [("Confirm the Service has no endpoints",
              _k(facts, f"get endpointslices -l kubernetes.io/service-name={svc}"),
              "Nothing, it only reads.", "An empty `ENDPOINTS` column confirms the finding."),
             ("Find the pods the Service should reach", _k(facts, "get pods --show-labels"),
              "Nothing, it only reads.",
              f"Look for the pods serving this traffic and compare their labels with `{label}`. If they match "
              "but are not Ready, fix the pods instead (their readiness probe or crash).")]
    wanted = {key: "<label-value-of-your-pods>" for key in selector} or {"app": "<label-value-of-your-pods>"}
    patch = json.dumps([{"op": "replace", "path": "/spec/selector", "value": wanted}])
    undo = json.dumps([{"op": "replace", "path": "/spec/selector", "value": selector}])
    steps.append((f"Point `{svc}`'s selector at the pods' real labels",
                  _k(facts, f"patch service {svc} --type=json -p '{patch}'"),
                  f"Changes only the selector of Service `{svc}`; traffic flows as soon as endpoints appear.",
                  "Endpoints are listed:", _k(facts, f"get endpointslices -l kubernetes.io/service-name={svc}"),
                  "Restore the original selector:", _k(facts, f"patch service {svc} --type=json -p '{undo}'")))
    return _render(facts, "Remediation plan — Service without endpoints", diagnosis, steps,
                   "If the selector is right and the pods were renamed by a release, roll that release back "
                   "instead of patching the Service; the root-cause plan shows how to keep both in one chart.")


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


def ingress_backend_missing(facts: Facts) -> str:
    errors = " ".join(facts.errors)
    named = [m[1] for m in re.findall(r"service ([\w.-]+/)?([\w.-]+) which does not exist", errors)]
    backends = _ingress_backends(facts)
    # K8sGPT masks the names in its error text: trust only names the Ingress really uses.
    known = [b for b in backends if b[1] in named] or (backends if len(backends) == 1 else [])
    pointer, target = known[0] if known else ("<path-of-the-missing-backend>", "<missing-service>")
    all_names = " ".join(dict.fromkeys(name for _, name in backends)) or "<backend-service>"
    if known:
        diagnosis = [f"Ingress `{facts.name}` routes to Service `{target}`, which does not exist in "
                     f"`{facts.namespace}`, so the ingress controller answers 503 for that path."]
    else:
        paths = "\n".join(f"- `{name}` → `{p}`" for p, name in backends)
        diagnosis = [f"Ingress `{facts.name}` routes to several Services and K8sGPT's message names one that does "
                     f"not exist (its name is masked). Step 1 shows which one; its JSON path in the Ingress is:\n\n{paths}"]
    release = ((facts.obj or {}).get("metadata", {}).get("annotations") or {}).get("meta.helm.sh/release-name")
    steps = [("Confirm which backend Service is missing",
              _k(facts, f"get service {target if known else all_names}"),
              "Nothing, it only reads.", "`NotFound` names the missing Service."),
             ("List the Services that do exist", _k(facts, "get services"), "Nothing, it only reads.",
              "Find the one that now serves this traffic (renamed in a release?).")]
    if release:
        steps.append((f"Roll back Helm release `{release}`", f"helm {facts.ns_flag}history {release}",
                      "Nothing yet: pick the last revision where the Service existed, then run "
                      f"`helm -n {facts.namespace} rollback {release} <revision>`.",
                      "The Service exists again:", _k(facts, f"get service {target}")))
    patch = json.dumps([{"op": "replace", "path": pointer, "value": "<existing-service>"}])
    undo = json.dumps([{"op": "replace", "path": pointer, "value": target}])
    steps.append(("Point the Ingress at the Service that exists",
                  _k(facts, f"patch ingress {facts.name} --type=json -p '{patch}'"),
                  f"Changes only that backend of Ingress `{facts.name}`; other paths are untouched.",
                  "The backend resolves and has endpoints:", _k(facts, f"describe ingress {facts.name}"),
                  "Put the old backend name back:", _k(facts, f"patch ingress {facts.name} --type=json -p '{undo}'")))
    return _render(facts, "Remediation plan — Ingress backend Service missing", diagnosis, steps,
                   "If no Service can serve this path, **nothing safe can be done right now**: leave the Ingress "
                   "as it is (patching it elsewhere would send traffic to the wrong app) and restore the Service "
                   "from its chart, following the root-cause plan.")


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
        schedule = match.group(1) if match else "<current schedule>"
    fixed = _fix_schedule(schedule) or "0 2 * * *"
    cj = facts.name
    diagnosis = [f"CronJob `{cj}` has schedule `{schedule}`, which is not a valid five-field cron expression "
                 "(minute hour day-of-month month day-of-week), so the controller never creates its Jobs."]
    if not _fix_schedule(schedule):
        diagnosis.append(f"I could not infer the intended time; the command below uses `{fixed}` (02:00 daily) — "
                         "replace it with the time you need.")
    set_fixed = json.dumps({"spec": {"schedule": fixed}})
    set_old = json.dumps({"spec": {"schedule": schedule}})
    steps = [("Read the current schedule", _k(facts, f"get cronjob {cj} -o jsonpath='{{.spec.schedule}}'"),
              "Nothing, it only reads.", "Check each of the five fields against its range."),
             (f"Set a valid schedule (`{fixed}`)", _k(facts, f"patch cronjob {cj} --type=merge -p '{set_fixed}'"),
              f"Changes only `spec.schedule` of CronJob `{cj}`; the next run is computed from the new value.",
              "The schedule is accepted and a next run time appears:", _k(facts, f"get cronjob {cj}"),
              "Restore the previous value:", _k(facts, f"patch cronjob {cj} --type=merge -p '{set_old}'")),
             ("Run it once now to check the job itself", _k(facts, f"create job --from=cronjob/{cj} {cj}-manual-check"),
              f"Creates one Job from the CronJob's template in `{facts.namespace}`.",
              "The job completes:", _k(facts, f"wait --for=condition=complete job/{cj}-manual-check --timeout=300s"),
              "Delete the manual job:", _k(facts, f"delete job {cj}-manual-check"))]
    return _render(facts, "Remediation plan — invalid CronJob schedule", diagnosis, steps,
                   "If the schedule came from a Helm value, the next release will overwrite this patch: make the "
                   "same change in the chart values (root-cause plan).")


def unschedulable(facts: Facts) -> str:
    c = facts.container()
    text = facts.text
    ref = facts.workload_ref
    pod_spec = facts.pod_spec
    diagnosis = [f"No node can take pod `{facts.name}`."]
    steps = [("Read the scheduler's reason", _k(facts, f"events --for pod/{facts.name}") if facts.kind == "Pod"
              else _k(facts, f"get events --field-selector reason=FailedScheduling"),
              "Nothing, it only reads.", "The `FailedScheduling` message lists why each node was rejected.")]
    if "insufficient" in text:
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
                      "Restore the request:", _k(facts, f"set resources {ref} -c {c.name} --requests={resource}={current}")
                      if current else ""))
    elif pod_spec.get("nodeSelector") and facts.workload:
        selector = pod_spec["nodeSelector"]
        diagnosis.append(f"Its nodeSelector `{json.dumps(selector)}` matches no node.")
        remove = json.dumps([{"op": "remove", "path": "/spec/template/spec/nodeSelector"}])
        add = json.dumps([{"op": "add", "path": "/spec/template/spec/nodeSelector", "value": selector}])
        steps.append(("Check the labels the nodes actually have", "kubectl get nodes --show-labels",
                      "Nothing, it only reads (cluster-scoped: may need the platform team).",
                      "If no node carries the label, the selector is wrong or the node pool is missing."))
        steps.append((f"Remove the nodeSelector from `{ref}`", _k(facts, f"patch {ref} --type=json -p '{remove}'"),
                      f"Lets the pods of `{ref}` run on any node; only this workload changes.",
                      "The pods get a node:", _k(facts, f"rollout status {ref} --timeout=180s"),
                      "Put the selector back:", _k(facts, f"patch {ref} --type=json -p '{add}'")))
    else:
        diagnosis.append("The reason is a taint, affinity rule or a full cluster; **nothing safe can be changed "
                         "in the workload right now** without knowing which. Ask the platform team with the "
                         "scheduler message from step 1.")
    return _render(facts, "Remediation plan — pod cannot be scheduled", diagnosis, steps,
                   "If the cluster is simply full, scaling other workloads down is a decision for their owners; "
                   "the root-cause plan covers capacity and requests.")


def general(facts: Facts) -> str:
    ref = f"{facts.kind.lower()}/{facts.name}"
    diagnosis = ["The finding does not match a failure class I have a specific runbook for, so the steps below "
                 "only read. **Nothing safe can be changed right now** without knowing more: after reading, roll "
                 "back the last change if one lines up with the problem, or open the root-cause plan."]
    steps = [("Describe the object", _k(facts, f"describe {ref}"), "Nothing, it only reads.",
              "Check its status, conditions and events."),
             ("Read recent events in the namespace", _k(facts, "events --types=Warning"),
              "Nothing, it only reads.", "Look for warnings around the time the problem started.")]
    if _rollable(facts):
        steps += _rollback_steps(facts, "the last configuration that worked")
    return _render(facts, "Remediation plan", diagnosis, steps,
                   "Add what you know (recent deploys, config changes) to the context box and generate again.")


RUNBOOKS = {
    "crash_loop": crash_loop, "image_pull": image_pull, "oom": oom, "pvc_pending": pvc_pending,
    "service_no_endpoints": service_no_endpoints, "ingress_backend_missing": ingress_backend_missing,
    "cronjob_schedule": cronjob_schedule, "unschedulable": unschedulable, "general": general,
}
