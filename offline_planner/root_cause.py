"""Root-cause plans: why it happened, how to reproduce it, the upstream change, prevention."""

from __future__ import annotations

from offline_planner.common import classify, finding_summary, format_mebibytes, parse_quantity, quote_log, step_kind
from offline_planner.facts import Facts
from offline_planner.remediation import _fix_schedule, _ingress_backends, _missing_key


def _render(facts: Facts, heading: str, why: str, reproduce: str, upstream: str, prevention: str) -> str:
    parts = [finding_summary(facts, heading), "## Why it happened", why, "## How to reproduce", reproduce,
             "## Upstream change", upstream, "## Prevention", prevention]
    return "\n\n".join(p.strip() for p in parts if p) + "\n"


def _chart_hint(facts: Facts) -> str:
    meta = (facts.obj or {}).get("metadata", {})
    for source in [meta] + [o.get("metadata", {}) for o in facts.owners]:
        release = (source.get("annotations") or {}).get("meta.helm.sh/release-name")
        if release:
            return f"Helm release `{release}` owns this object, so make the change in its chart, not in the cluster."
    return "Make the change where this object's manifest lives (Helm chart, Kustomize overlay or GitOps repo)."


def _alert(expr: str, name: str) -> str:
    return (f"- **Alert** `{name}` (Prometheus, kube-state-metrics):\n\n"
            f"  ```yaml\n  - alert: {name}\n    expr: {expr}\n    for: 10m\n  ```")


def crash_loop(facts: Facts) -> str:
    c = facts.container()
    code_hint = {1: "an unhandled error at start-up", 2: "a bad command-line argument", 126: "a non-executable "
                 "entrypoint", 127: "an entrypoint that does not exist in the image", 137: "a SIGKILL (OOM or "
                 "failed liveness probe)", 139: "a segmentation fault", 143: "a SIGTERM it did not handle"}
    exit_text = (f" Its last exit code was {c.exit_code}, which usually means {code_hint.get(c.exit_code, 'the process failed')}."
                 if c.exit_code is not None else "")
    why = (f"Container `{c.name}` of `{facts.workload_ref}` in `{facts.namespace}` runs image `{c.image or 'unknown'}` "
           f"and exits shortly after starting.{exit_text} Typical causes: a required setting missing from the "
           "environment, a dependency (database, queue) unreachable at start-up, a migration that fails, or a "
           "liveness probe that kills a slow start.\n\n" + quote_log(facts, c.name))
    reproduce = (f"Read the workload's manifest (keep its output: the environment and command to reproduce):\n\n"
                 f"```bash\nkubectl {facts.ns_flag}get {facts.workload_ref} -o yaml\n```\n\n"
                 f"Then run the same image with the same environment outside the cluster:\n\n```bash\n"
                 f"docker run --rm {c.image or '<image>'}\n```\n\nAdd the env values from the manifest one at a "
                 "time until it fails the same way; the last log lines above tell you which one to start with.")
    upstream = (f"- **Application code**: fail with a clear message on a missing setting, retry dependencies with "
                f"back-off instead of exiting.\n- **Dockerfile**: make sure the `ENTRYPOINT`/`CMD` exists and is "
                f"executable in the final stage.\n- **Helm chart**: give `{c.name}` a `startupProbe` so a slow start "
                f"is not killed by liveness, and declare every required env value in `values.yaml`:\n\n"
                f"  ```yaml\n  {c.name}:\n    startupProbe:\n      httpGet: {{path: /healthz, port: http}}\n"
                f"      failureThreshold: 30\n      periodSeconds: 5\n  ```\n\n{_chart_hint(facts)}")
    prevention = ("- **Test**: a container smoke test in CI that starts the image with the production env "
                  "schema and waits for readiness.\n- **Policy**: require readiness and startup probes.\n"
                  "- **Deployment**: `progressDeadlineSeconds` plus automatic rollback in your CD tool.\n"
                  + _alert('kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff",namespace="'
                           + facts.namespace + '"} > 0', "PodCrashLooping"))
    return _render(facts, "Root-cause plan — crash loop", why, reproduce, upstream, prevention)


def image_pull(facts: Facts) -> str:
    c = facts.container()
    repo, _, tag = (c.image or "<image>").rpartition(":") if ":" in (c.image or "") else (c.image, "", "latest")
    why = (f"Pods of `{facts.workload_ref}` reference image `{c.image or 'unknown'}`, which the registry does not "
           f"serve to this cluster: the tag `{tag}` was never pushed, was deleted by a retention policy, or the "
           "pull credentials are missing. Releases that set the tag by hand are the usual source.")
    reproduce = f"```bash\ndocker manifest inspect {c.image or '<image>'}\n```\n\nA `manifest unknown` error reproduces it."
    upstream = (f"- **CI**: push `{repo}` and deploy by the digest CI produced, never a hand-typed tag.\n"
                f"- **Helm chart**: default `image.tag` to `.Chart.AppVersion` and let the pipeline set it:\n\n"
                f"  ```yaml\n  image:\n    repository: {repo}\n    tag: \"\"  # defaults to .Chart.AppVersion\n  ```\n\n"
                f"{_chart_hint(facts)}")
    prevention = ("- **Test**: a pipeline step that runs `docker manifest inspect` for every image in the rendered "
                  "chart before deploying.\n- **Policy**: admission policy (Kyverno/Gatekeeper) rejecting `:latest` "
                  "and images outside your registry.\n- **Registry**: retention rules that keep deployed tags.\n"
                  + _alert('kube_pod_container_status_waiting_reason{reason=~"ErrImagePull|ImagePullBackOff",namespace="'
                           + facts.namespace + '"} > 0', "ImagePullFailing"))
    return _render(facts, "Root-cause plan — image cannot be pulled", why, reproduce, upstream, prevention)


def oom(facts: Facts) -> str:
    c = facts.container()
    limit = c.limits.get("memory")
    amount = parse_quantity(limit or "")
    why = (f"Container `{c.name}` (image `{c.image or 'unknown'}`) needs more memory than its limit "
           f"`{limit or 'none'}`. Either the limit was sized for an older version or a lighter load, or the "
           "process leaks (memory grows until it is killed), or the runtime does not know its limit (a JVM or "
           "Node.js heap sized from the node's memory).")
    reproduce = (f"```bash\ndocker run --rm --memory={limit or '256m'} {c.image or '<image>'}\n```\n\nDrive "
                 "production-like load at it and watch `docker stats`; a leak shows as a steady climb.")
    upstream = (f"- **Application code**: profile a heap dump under load; bound caches and buffers.\n"
                f"- **Dockerfile**: make the runtime respect the cgroup limit (e.g. `JAVA_TOOL_OPTIONS="
                f"-XX:MaxRAMPercentage=75`, `NODE_OPTIONS=--max-old-space-size=...`).\n"
                f"- **Helm chart values** for `{c.name}`, sized from measured peak plus headroom:\n\n"
                f"  ```yaml\n  resources:\n    requests: {{memory: {limit or '256Mi'}}}\n"
                f"    limits: {{memory: {format_mebibytes(amount * 2) if amount else '512Mi'}}}\n  ```\n\n{_chart_hint(facts)}")
    prevention = ("- **Test**: a load test in CI that fails when peak memory exceeds 80% of the limit.\n"
                  "- **Policy**: require memory requests and limits on every container.\n"
                  + _alert('container_memory_working_set_bytes{namespace="' + facts.namespace + '",container="'
                           + c.name + '"} / on(pod,container) kube_pod_container_resource_limits{resource="memory"} > 0.9',
                           "ContainerNearMemoryLimit"))
    return _render(facts, "Root-cause plan — OOMKilled", why, reproduce, upstream, prevention)


def pvc_pending(facts: Facts) -> str:
    klass = (facts.obj or {}).get("spec", {}).get("storageClassName") or "(none)"
    why = (f"PersistentVolumeClaim `{facts.name}` in `{facts.namespace}` names storage class `{klass}`, which does "
           "not exist in this cluster (a chart written for another cluster or cloud, or a class that was renamed).")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}get pvc {facts.name} -o jsonpath='{{.spec.storageClassName}}'\n```"
                 "\n\nThat name is missing from the cluster's storage classes (cluster-wide: your platform team can "
                 "list them), and the claim's events say `ProvisioningFailed`.")
    upstream = ("- **Helm chart**: make the class a value and default to the cluster default by leaving it empty:\n\n"
                "  ```yaml\n  persistence:\n    storageClass: \"\"  # \"\" = cluster default\n  ```\n\n"
                "  and in the template render `storageClassName` only when the value is set.\n"
                f"- **Platform**: if `{klass}` is the intended class, create it (with its provisioner) in every "
                f"cluster this chart targets.\n\n{_chart_hint(facts)}")
    prevention = ("- **Test**: render the chart per environment and check each `storageClassName` against that "
                  "cluster's classes.\n- **Policy**: an admission rule that rejects claims naming an unknown class.\n"
                  + _alert('kube_persistentvolumeclaim_status_phase{phase="Pending",namespace="' + facts.namespace
                           + '"} == 1', "PVCPending"))
    return _render(facts, "Root-cause plan — PVC stuck Pending", why, reproduce, upstream, prevention)


def service_no_endpoints(facts: Facts) -> str:
    selector = (facts.obj or {}).get("spec", {}).get("selector") or {}
    label = ",".join(f"{k}={v}" for k, v in selector.items()) or "<none>"
    why = (f"Service `{facts.name}` selects `{label}`, but the pods in `{facts.namespace}` carry different labels "
           "(or none of them is Ready). The Service and the workload are usually defined in different places, so "
           "a rename in one was not made in the other.")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}get pods -l {label}\n```\n\nNo pods listed reproduces the finding."
                 if selector else f"```bash\nkubectl {facts.ns_flag}get pods --show-labels\n```\n\nThe Service has no "
                 "selector at all, so no pod can become its endpoint.")
    upstream = ("- **Helm chart**: derive both from one helper so they cannot drift:\n\n"
                "  ```yaml\n  # templates/service.yaml\n  selector:\n    {{- include \"app.selectorLabels\" . | nindent 4 }}\n"
                "  # templates/deployment.yaml\n  selector:\n    matchLabels:\n"
                "      {{- include \"app.selectorLabels\" . | nindent 6 }}\n  ```\n\n" + _chart_hint(facts))
    prevention = ("- **Test**: a chart test (`helm test` or a rendered-manifest check) asserting every Service "
                  "selector matches a workload's pod labels.\n- **Policy**: require readiness probes so "
                  "\"no Ready endpoints\" is visible early.\n"
                  + _alert('kube_endpoint_address{namespace="' + facts.namespace + '",endpoint="' + facts.name
                           + '"} == 0', "ServiceWithoutEndpoints"))
    return _render(facts, "Root-cause plan — Service without endpoints", why, reproduce, upstream, prevention)


def ingress_backend_missing(facts: Facts) -> str:
    backends = ", ".join(f"`{name}`" for _, name in _ingress_backends(facts)) or "its backend"
    why = (f"Ingress `{facts.name}` in `{facts.namespace}` routes to {backends}; at least one of those Services "
           "does not exist. The Service was renamed or removed in a release while the Ingress kept the old name, or "
           "they are deployed by different pipelines.")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}get ingress {facts.name} -o jsonpath='{{..service.name}}'\n"
                 f"kubectl {facts.ns_flag}get services\n```")
    upstream = ("- **Helm chart**: template the backend name from the same helper as the Service:\n\n"
                "  ```yaml\n  backend:\n    service:\n      name: {{ include \"app.fullname\" . }}\n"
                "      port: {name: http}\n  ```\n\n" + _chart_hint(facts))
    prevention = ("- **Test**: a rendered-manifest check that every Ingress backend names a Service in the same "
                  "release.\n- **Policy**: an admission rule rejecting Ingresses whose backend Service does not exist.\n"
                  "- **Alert** on 5xx from the ingress controller for this host.")
    return _render(facts, "Root-cause plan — Ingress backend Service missing", why, reproduce, upstream, prevention)


def cronjob_schedule(facts: Facts) -> str:
    schedule = str((facts.obj or {}).get("spec", {}).get("schedule", "<schedule>"))
    fixed = _fix_schedule(schedule)
    why = (f"CronJob `{facts.name}` uses `{schedule}`. Kubernetes accepts five fields (minute hour day-of-month "
           "month day-of-week); a seconds field (Quartz syntax), an out-of-range value or a typo makes the "
           "controller skip it." + (f" The intended value is probably `{fixed}`." if fixed else ""))
    reproduce = f"Check the expression with any standard five-field cron parser, e.g.:\n\n```bash\npython3 -c \"import sys; print(len('{schedule}'.split()))\"\n```"
    upstream = (f"- **Helm chart values**: quote the schedule and validate it in `values.schema.json`:\n\n"
                f"  ```yaml\n  schedule: \"{fixed or '0 2 * * *'}\"\n  ```\n\n{_chart_hint(facts)}")
    prevention = ("- **Test**: a unit test that parses every schedule in the values files.\n- **Policy**: "
                  "an admission rule validating cron syntax.\n"
                  + _alert('time() - kube_cronjob_status_last_schedule_time{namespace="' + facts.namespace
                           + '",cronjob="' + facts.name + '"} > 86400', "CronJobNotScheduled"))
    return _render(facts, "Root-cause plan — invalid CronJob schedule", why, reproduce, upstream, prevention)


def unschedulable(facts: Facts) -> str:
    c = facts.container()
    why = (f"The scheduler found no node for pods of `{facts.workload_ref}`: container `{c.name}` requests "
           f"{c.requests or 'no explicit resources'}, and the nodes are full, lack a label the pod selects, or "
           "carry a taint it does not tolerate.")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}get events --field-selector reason=FailedScheduling\n```\n\n"
                 "Compare the message with the nodes' labels, taints and allocated resources (cluster-wide: your "
                 "platform team can describe the nodes).")
    upstream = (f"- **Helm chart values**: size requests from measured usage (p95), not guesses, and keep "
                f"`nodeSelector`/`tolerations` per environment:\n\n  ```yaml\n  resources:\n    requests: "
                f"{{cpu: 100m, memory: 128Mi}}\n  nodeSelector: {{}}\n  ```\n\n{_chart_hint(facts)}")
    prevention = ("- **Capacity**: cluster autoscaler or headroom alerts per node pool.\n- **Policy**: a "
                  "LimitRange/ResourceQuota for the namespace so requests stay realistic.\n"
                  + _alert('kube_pod_status_unschedulable{namespace="' + facts.namespace + '"} > 0',
                           "PodUnschedulable"))
    return _render(facts, "Root-cause plan — pod cannot be scheduled", why, reproduce, upstream, prevention)


def cronjob_suspended(facts: Facts) -> str:
    why = (f"CronJob `{facts.name}` in `{facts.namespace}` has `spec.suspend: true`. Someone paused it (by hand, "
           "during an incident or maintenance) and it was never resumed, or a chart value suspends it in this "
           "environment.")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}get cronjob {facts.name} -o jsonpath='{{.spec.suspend}}'\n```\n\n"
                 "`true` reproduces it; the object's managed fields (or your GitOps history) say who set it.")
    upstream = ("- **Helm chart values**: make suspension an explicit, reviewed value per environment:\n\n"
                "  ```yaml\n  cronjob:\n    suspend: false  # true only with a ticket and an expiry\n  ```\n\n"
                + _chart_hint(facts))
    prevention = ("- **Process**: suspending a job opens a ticket that says when to resume it.\n"
                  + _alert('kube_cronjob_spec_suspend{namespace="' + facts.namespace + '",cronjob="' + facts.name
                           + '"} == 1', "CronJobSuspended"))
    return _render(facts, "Root-cause plan — CronJob suspended", why, reproduce, upstream, prevention)


def not_ready(facts: Facts) -> str:
    c = facts.container()
    why = (f"Container `{c.name}` of `{facts.workload_ref}` runs, but its readiness probe never succeeds: the probe "
           "asks a port or path the application does not serve, the application answers it with an error until a "
           "dependency is up, or the probe's timeout is shorter than the answer takes.")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}get {facts.workload_ref} -o jsonpath="
                 f"'{{.spec.template.spec.containers[?(@.name==\"{c.name}\")].readinessProbe}}'\n```\n\n"
                 f"Then run image `{c.image or '<image>'}` locally and ask the same port and path (curl): the answer "
                 "reproduces the probe's failure." if facts.workload and facts.workload[0] != "CronJob" else
                 f"Run image `{c.image or '<image>'}` locally and ask the probe's port and path (curl).")
    upstream = (f"- **Helm chart**: derive the probe's port from the container's named port so they cannot drift:\n\n"
                f"  ```yaml\n  ports:\n  - name: http\n    containerPort: 80\n  readinessProbe:\n    httpGet: "
                f"{{path: /healthz, port: http}}\n  ```\n\n- **Application code**: serve a cheap health endpoint that "
                f"does not wait for slow dependencies.\n\n{_chart_hint(facts)}")
    prevention = ("- **Test**: a chart test that starts the pod and waits for Ready.\n- **Policy**: probes must use "
                  "named ports.\n"
                  + _alert('kube_pod_status_ready{condition="false",namespace="' + facts.namespace + '"} == 1',
                           "PodNotReady"))
    return _render(facts, "Root-cause plan — pod never Ready", why, reproduce, upstream, prevention)


def unavailable(facts: Facts) -> str:
    why = (f"`{facts.workload_ref}` in `{facts.namespace}` has no available pods: each of them fails the same way "
           "(a crash, an image that cannot be pulled, a node selector or request no node satisfies, a probe that never "
           "passes). The pods' own findings name the cause; this one says the workload as a whole is down.")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}get pods -l {facts.selector}\n```\n\nNo pod `Running` and Ready "
                 "reproduces it." if facts.selector else f"```bash\nkubectl {facts.ns_flag}get pods\n```")
    upstream = ("- **Deployment**: a readiness-gated rollout (`maxUnavailable: 0`) keeps the old pods serving while new "
                "ones fail, so a bad release never takes the workload down.\n\n" + _chart_hint(facts))
    prevention = ("- **Deployment**: `progressDeadlineSeconds` plus automatic rollback in your CD tool.\n"
                  + _alert('kube_deployment_status_replicas_available{namespace="' + facts.namespace
                           + '",deployment="' + facts.name + '"} == 0', "WorkloadUnavailable"))
    return _render(facts, "Root-cause plan — workload unavailable", why, reproduce, upstream, prevention)


def general(facts: Facts) -> str:
    why = (f"K8sGPT flagged {facts.kind} `{facts.name}` in `{facts.namespace or 'the cluster'}`"
           + (f": {'; '.join(facts.errors)}" if facts.errors else ".")
           + " This does not match a failure class with a known cause, so start from the object's history.")
    word = step_kind(facts.kind)
    commands = ([f"kubectl {facts.ns_flag}describe {word} {facts.name}"] if word and facts.namespace else []) + (
        [f"kubectl {facts.ns_flag}events --types=Warning"] if facts.namespace else [])
    reproduce = (("```bash\n" + "\n".join(commands) + "\n```\n\n" if commands else
                  f"An administrator can describe {facts.kind} `{facts.name}` (this app runs no commands on it). ")
                 + "Compare with the last change made to it.")
    upstream = "- Find the manifest change that introduced the problem and fix it there.\n\n" + _chart_hint(facts)
    prevention = ("- **Test**: validate rendered manifests in CI (kubeconform, policy tests).\n"
                  "- **Alert** on the condition K8sGPT reported so it is caught before users notice.")
    return _render(facts, "Root-cause plan", why, reproduce, upstream, prevention)


def job_failed(facts: Facts) -> str:
    pod = facts.for_pod()
    cause = ("its pods were OOMKilled: the work it loads grew past the memory limit it was written with"
             if pod is not None and classify(pod) == "oom" else "its pods failed every retry")
    limit = ((facts.obj or {}).get("spec") or {}).get("backoffLimit", 6)
    why = (f"Job `{facts.name}` in `{facts.namespace}` failed: {cause}. After {limit} retries (its backoff limit) the "
           "Job controller gives up for good, and a Job's pod template cannot be changed, so every fix is a new Job.")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}get job {facts.name}\nkubectl {facts.ns_flag}get pods -l "
                 f"job-name={facts.name}\n```\n\n`FAILED` pods and a `Failed` condition with `BackoffLimitExceeded`.")
    upstream = ("- **The job's chart or CronJob template**: size its memory from the largest input it processes, "
                "plus headroom, and make the limit a value.\n- **The job itself**: process its input in batches so "
                "that memory does not grow with the data.\n\n" + _chart_hint(facts))
    prevention = ("- **Test**: run the job in CI against a production-sized input under its real limit.\n"
                  "- **Policy**: give batch Jobs a `ttlSecondsAfterFinished` and a CronJob owner, so a failed run is "
                  "replaced by the next one instead of sitting failed.\n"
                  + _alert('kube_job_status_failed{namespace="' + facts.namespace + '",job_name="' + facts.name
                           + '"} > 0', "JobFailed"))
    return _render(facts, "Root-cause plan — Job failed", why, reproduce, upstream, prevention)


def config_error(facts: Facts) -> str:
    missing = _missing_key(facts)
    key, name = missing if missing else ("", "")
    config_map, takes = (f"ConfigMap `{name}`", f"`{key}`") if missing else ("the ConfigMap it reads", "a key")
    why = (f"The workload and {config_map} disagree on a key name: the container takes {takes}, which the ConfigMap "
           "does not hold. They are usually rendered from different values (or released separately), so a rename in "
           "one was not made in the other, and the kubelet refuses to create the container.")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}describe configmap {name}\n```\n\n`{key}` is not among the keys; "
                 "the pod's containers wait in `CreateContainerConfigError`." if missing else
                 f"```bash\nkubectl {facts.ns_flag}describe pod {facts.name}\n```\n\nIts containers wait in "
                 "`CreateContainerConfigError`; the message names the missing key or object.")
    upstream = ("- **Helm chart**: render the ConfigMap's keys and the `configMapKeyRef`s from one list in the "
                "values, so a key cannot be renamed in one place only.\n"
                "- **Or** read the whole ConfigMap with `envFrom` when every key is an environment variable.\n\n"
                + _chart_hint(facts))
    prevention = ("- **Test**: a rendered-manifest check that every `configMapKeyRef` names a key of a ConfigMap in "
                  "the same release.\n- **Policy**: roll out ConfigMap and workload together (one release, a "
                  "checksum annotation on the pod template).\n"
                  + _alert('kube_pod_container_status_waiting_reason{reason="CreateContainerConfigError",namespace="'
                           + facts.namespace + '"} > 0', "ContainerConfigError"))
    return _render(facts, "Root-cause plan — container cannot be configured", why, reproduce, upstream, prevention)


def hpa_target_missing(facts: Facts) -> str:
    ref = ((facts.obj or {}).get("spec") or {}).get("scaleTargetRef") or {}
    target = f"{ref.get('kind') or 'Deployment'} `{ref['name']}`" if ref.get("name") else "a workload"
    why = (f"HorizontalPodAutoscaler `{facts.name}` in `{facts.namespace}` names {target}, which does not exist: the "
           "workload was renamed or removed in a release while its HPA kept the old name (they are often written by "
           "hand in different files), so the workload is no longer autoscaled.")
    reproduce = (f"```bash\nkubectl {facts.ns_flag}get hpa {facts.name} -o jsonpath='{{.spec.scaleTargetRef}}'\n"
                 f"kubectl {facts.ns_flag}get {str(ref.get('kind') or 'deployment').lower()}s\n```\n\nThe target "
                 "it names is not in the list.")
    upstream = ("- **Helm chart**: render the HPA's `scaleTargetRef.name` from the same helper as the workload's name:"
                "\n\n  ```yaml\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n"
                "    name: {{ include \"app.fullname\" . }}\n  ```\n\n" + _chart_hint(facts))
    prevention = ("- **Test**: a rendered-manifest check that every HPA's target is a workload of the same release.\n"
                  "- **Policy**: an admission rule rejecting HPAs whose target does not exist.\n"
                  + _alert('kube_horizontalpodautoscaler_status_condition{condition="AbleToScale",status="false",'
                           'namespace="' + facts.namespace + '"} == 1', "HPAUnableToScale"))
    return _render(facts, "Root-cause plan — HPA target missing", why, reproduce, upstream, prevention)


RUNBOOKS = {
    "crash_loop": crash_loop, "image_pull": image_pull, "oom": oom, "pvc_pending": pvc_pending,
    "service_no_endpoints": service_no_endpoints, "ingress_backend_missing": ingress_backend_missing,
    "cronjob_schedule": cronjob_schedule, "cronjob_suspended": cronjob_suspended, "not_ready": not_ready,
    "unschedulable": unschedulable, "unavailable": unavailable, "job_failed": job_failed,
    "config_error": config_error, "hpa_target_missing": hpa_target_missing, "general": general,
}
